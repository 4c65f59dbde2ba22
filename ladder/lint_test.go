package ladder

import (
	"errors"
	"strings"
	"testing"
)

// base is a small valid ladder; lint cases append to it or replace parts.
const base = `version: "t1"
topics:
  pricing: {phrases: [price, pricing], risk: high}
teams:
  deal_desk: {owners: [dd@acme.example]}
thresholds:
  min_confidence: 0.5
rungs:
  - id: pricing
    when: "'pricing' in signals.topics"
    action: handoff
    route: {to: account_owner, fallback: {team: deal_desk}}
    sla: 30m
`

func TestBaseLadderIsValid(t *testing.T) {
	if _, err := Parse("base.yaml", []byte(base)); err != nil {
		t.Fatalf("base ladder: %v", err)
	}
}

func TestLintErrors(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		want []string // each must appear as a full line of the error
	}{
		{"yaml syntax", base + "  - id: [unclosed\n", []string{`x.yaml:14: sequence end token ']' not found`}},
		{"unknown top-level field", "versoin: x\n" + base, []string{`x.yaml:1: unknown field "versoin"`}},
		{"unknown rung field", base + "    priorty: high\n", []string{`x.yaml:14: unknown field "priorty"`}},
		{"missing version", strings.Replace(base, `version: "t1"`, `description: no version`, 1),
			[]string{`x.yaml:1: version is required (it is recorded on every decision)`}},
		{"duplicate rung id", base + "  - id: pricing\n    when: signals.human_request\n    action: continue\n",
			[]string{`x.yaml:14: rung "pricing": duplicate id (already used by the rung above)`}},
		{"duplicate id across exception and rung", strings.Replace(base, "rungs:", "exceptions:\n  - id: pricing\n    when: signals.human_request\n    action: handoff\nrungs:", 1),
			[]string{`x.yaml:13: rung "pricing": duplicate id (already used by the exception above)`}},
		{"duplicate team key", strings.Replace(base, "teams:\n", "teams:\n  deal_desk: {owners: [a@x.example]}\n", 1),
			[]string{`x.yaml:6: mapping key "deal_desk" already defined at [5:3]`}},
		{"unknown team", strings.Replace(base, "team: deal_desk", "team: deal-desk", 1),
			[]string{`x.yaml:12: rung "pricing": unknown team "deal-desk" (teams: deal_desk)`}},
		{"bad duration", strings.Replace(base, "sla: 30m", "sla: 30 minutes", 1),
			[]string{`x.yaml:13: rung "pricing": bad duration "30 minutes": want a duration such as 30m, 4h or 2d`}},
		{"negative duration", strings.Replace(base, "sla: 30m", "sla: -5m", 1),
			[]string{`x.yaml:13: rung "pricing": bad duration "-5m": must be positive`}},
		{"CEL type error", base + "  - id: tier\n    when: account.tier == 1\n    action: assist\n",
			[]string{`x.yaml:15: rung "tier": when: found no matching overload for '_==_' applied to '(string, int)' (column 14)`}},
		{"CEL unknown field", base + "  - id: tier\n    when: account.teir == 'tier_1'\n    action: assist\n",
			[]string{`x.yaml:15: rung "tier": when: undefined field 'teir' (column 8)`}},
		{"CEL unknown variable", base + "  - id: acct\n    when: acount.tier == 'tier_1'\n    action: assist\n",
			[]string{`x.yaml:15: rung "acct": when: undeclared reference to 'acount' (in container '') (column 1)`}},
		{"CEL error on a later line of a block", base + "  - id: multi\n    when: |\n      signals.human_request &&\n      deal.amont > 5\n    action: assist\n",
			[]string{`x.yaml:17: rung "multi": when: undefined field 'amont' (column 5)`}},
		{"CEL syntax error", base + "  - id: syn\n    when: signals.sentiment <\n    action: assist\n",
			[]string{`x.yaml:15: rung "syn": when: Syntax error: mismatched input '<EOF>'`}},
		{"condition not boolean", base + "  - id: num\n    when: signals.sentiment\n    action: assist\n",
			[]string{`x.yaml:15: rung "num": when must be a boolean condition, this one is double`}},
		{"unknown topic in condition", base + "  - id: legal\n    when: \"'legal' in signals.topics\"\n    action: hold\n",
			[]string{`x.yaml:15: rung "legal": when: unknown topic "legal" (topics: pricing)`}},
		{"unknown threshold", base + "  - id: conf\n    when: agent.confidence < thresholds.min_confidenc\n    action: assist\n",
			[]string{`x.yaml:15: rung "conf": when: unknown threshold "min_confidenc" (declare it under thresholds:)`}},
		{"unknown action", strings.Replace(base, "action: handoff", "action: escalate", 1),
			[]string{`x.yaml:11: rung "pricing": unknown action "escalate" (want one of continue, assist, handoff, hold)`}},
		{"missing action", base + "  - id: noact\n    when: signals.human_request\n",
			[]string{`x.yaml:14: rung "noact": action is required (one of continue, assist, handoff, hold)`}},
		{"missing when", base + "  - id: nowhen\n    action: assist\n",
			[]string{`x.yaml:14: rung "nowhen": when is required (a CEL condition)`}},
		{"unknown priority", base + "    priority: critical\n",
			[]string{`x.yaml:14: rung "pricing": unknown priority "critical" (want one of low, medium, high, urgent)`}},
		{"route with two targets", strings.Replace(base, "route: {to: account_owner,", "route: {to: account_owner, owner: a@x.example,", 1),
			[]string{`x.yaml:12: rung "pricing": route needs exactly one of to, team or owner`}},
		{"unknown route target", strings.Replace(base, "to: account_owner", "to: acount_owner", 1),
			[]string{`x.yaml:12: rung "pricing": unknown route target "acount_owner" (want one of account_owner, contact_owner, deal_owner)`}},
		{"unreachable: always false", base + "  - id: never\n    when: 1 > 2\n    action: assist\n",
			[]string{`x.yaml:14: rung "never": unreachable: the condition is always false`}},
		{"unreachable: same condition above", strings.Replace(base, "rungs:\n", "rungs:\n  - id: lower\n    when: \"'pricing'  in signals.topics\"\n    action: assist\n", 1),
			[]string{`x.yaml:9: rung "lower": unreachable: rung "pricing" above has the same condition and wins`}},
		{"unreachable: below an always-true rung", base + "  - id: all\n    when: \"true\"\n    action: assist\n",
			[]string{`x.yaml:9: rung "pricing": unreachable: rung "all" above always matches`}},
		{"unreachable: after an always-true exception", strings.Replace(base, "rungs:", "exceptions:\n  - id: all\n    when: \"true\"\n    action: hold\n  - id: late\n    when: signals.human_request\n    action: hold\nrungs:", 1),
			[]string{`x.yaml:12: exception "late": unreachable: exception "all" above always matches`,
				`x.yaml:16: rung "pricing": unreachable: exception "all" always matches first`}},
		{"unreachable: same condition as an exception", strings.Replace(base, "rungs:", "exceptions:\n  - id: ex\n    when: \"'pricing' in signals.topics\"\n    action: hold\nrungs:", 1),
			[]string{`x.yaml:13: rung "pricing": unreachable: exception "ex" has the same condition and is checked first`}},
		{"team without owners", strings.Replace(base, "deal_desk: {owners: [dd@acme.example]}", "deal_desk: {owners: []}", 1),
			[]string{`x.yaml:5: team "deal_desk": has no owners`}},
		{"unknown strategy", strings.Replace(base, "deal_desk: {owners: [dd@acme.example]}", "deal_desk: {owners: [dd@acme.example], strategy: random}", 1),
			[]string{`x.yaml:5: team "deal_desk": unknown strategy "random" (want one of round_robin, least_open)`}},
		{"topic risk", strings.Replace(base, "risk: high", "risk: severe", 1),
			[]string{`x.yaml:3: topic "pricing": unknown risk "severe" (want low, medium or high)`}},
		{"bad wildcard", strings.Replace(base, "phrases: [price, pricing]", "phrases: [price, \"pr*ce\"]", 1),
			[]string{`x.yaml:3: topic "pricing": phrase "pr*ce": a wildcard is allowed only at the end of a word (indemnif*) or as a whole word`}},
		{"template with unknown field", base + "    next_steps: [\"Call {{contact.nmae}}\"]\n",
			[]string{`x.yaml:14: rung "pricing": template "Call {{contact.nmae}}": unknown field {{contact.nmae}}`}},
		{"climb without target", base + "climb:\n  - {after: 1x, do: reassign}\n",
			[]string{`x.yaml:15: climb step 1: reassign needs to: (a route)`}},
		{"climb bad after and order", base + "climb:\n  - {after: 2x, do: notify}\n  - {after: 1x, do: notify}\n  - {after: soon, do: notify}\n",
			[]string{`x.yaml:16: climb step 2: after must be later than the previous step`,
				`x.yaml:17: climb step 3: bad after "soon": want a positive multiple of the SLA such as 1x or 1.5x`}},
		{"climb unknown do and team", base + "climb:\n  - {after: 1x, do: escalate, to: {team: managers}}\n",
			[]string{`x.yaml:15: climb step 1: unknown do "escalate" (want one of reassign, notify, raise_priority)`,
				`x.yaml:15: unknown team "managers" (teams: deal_desk)`}},
		{"unknown workflow in rung", base + "    workflows: [chats]\n",
			[]string{`x.yaml:14: rung "pricing": unknown workflow "chats"`}},
		{"workflow problems", base + "workflows:\n  - id: chat\n    kind: [chat]\n    source: [intercom]\n    thresholds: {min_confidense: 0.7}\n",
			[]string{`x.yaml:16: workflow "chat": unknown event kind "chat"`,
				`x.yaml:17: workflow "chat": unknown source "intercom" (want one of hubspot, salesforce, marketo, agent)`,
				`x.yaml:18: workflow "chat": threshold "min_confidense" is not declared in the top-level thresholds`}},
		{"continue with a route", base + "  - id: student\n    when: contact.seniority == 'student'\n    action: continue\n    route: {team: deal_desk}\n",
			[]string{`x.yaml:16: rung "student": action continue creates no task, so route, sla and next_steps have no effect; remove them or change the action`}},
		{"escalation without an owner", base + "  - id: human\n    when: signals.human_request\n    action: handoff\n",
			[]string{`x.yaml:14: rung "human": action handoff needs an owner: add route: or defaults.route`}},
		{"unknown enum value", base + "  - id: form\n    when: event.kind == 'form_submision' || account.tier in ['tier_1', 'tier1']\n    action: assist\n",
			[]string{`x.yaml:15: rung "form": when: "form_submision" is not a known event.kind (want one of "website_visit", `,
				`x.yaml:15: rung "form": when: "tier1" is not a known account.tier (want one of "tier_1", "tier_2", "tier_3")`}},
		{"score weights", base + "score:\n  weights: {confidence: 1, sentimnt: 1}\n",
			[]string{`x.yaml:15: unknown score component "sentimnt" (want one of confidence, sentiment, value, risk, progress)`}},
		{"wrong value type", strings.Replace(base, "min_confidence: 0.5", "min_confidence: high", 1),
			[]string{`x.yaml:7: `}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := Parse("x.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("Parse accepted the ladder (%d rungs)", len(l.rungs))
			}
			var les LintErrors
			if !errors.As(err, &les) {
				t.Fatalf("error is %T, want LintErrors: %v", err, err)
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				found := false
				for _, line := range lines {
					if strings.HasPrefix(line, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("missing error line\n  want prefix: %s\n  got:\n    %s", w, strings.Join(lines, "\n    "))
				}
			}
			for _, e := range les {
				if e.File != "x.yaml" || e.Line < 1 {
					t.Errorf("error without file or line: %+v", e)
				}
			}
		})
	}
}

func TestNotifyTargets(t *testing.T) {
	for in, want := range map[string]NotifyTarget{
		"https://hooks.slack.com/services/T/B/x":             {FormatSlack, "https://hooks.slack.com/services/T/B/x", ""},
		"slack:https://hooks.slack.com/services/T/B/x":       {FormatSlack, "https://hooks.slack.com/services/T/B/x", ""},
		"teams:https://example.logic.azure.com/workflows/1":  {FormatTeams, "https://example.logic.azure.com/workflows/1", ""},
		"google_chat:https://chat.googleapis.com/v1/spaces/": {FormatGoogleChat, "https://chat.googleapis.com/v1/spaces/", ""},
		"mattermost:http://127.0.0.1:8065/hooks/abc":         {FormatMattermost, "http://127.0.0.1:8065/hooks/abc", ""},
		"webhook:https://ops.example/hooks/handoff":          {FormatWebhook, "https://ops.example/hooks/handoff", DefaultWebhookSecretEnv},
		"webhook:OPS_HOOK_SECRET:https://ops.example/h":      {FormatWebhook, "https://ops.example/h", "OPS_HOOK_SECRET"},
		"webhook:HOOK_2:http://127.0.0.1:9000/h":             {FormatWebhook, "http://127.0.0.1:9000/h", "HOOK_2"},
		"webhook:http://localhost:9000/h":                    {FormatWebhook, "http://localhost:9000/h", DefaultWebhookSecretEnv},
	} {
		got, err := ParseNotifyTarget(in)
		if err != nil || got != want {
			t.Errorf("ParseNotifyTarget(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "irc:https://x.example/", "slack:http://hooks.example.com/x", "ftp://x.example/", "slack:not a url", "https://u:p@x.example/",
		"webhook:http://hooks.example.com/x", "webhook:ops_secret:https://ops.example/h", "webhook:9X:https://ops.example/h"} {
		if _, err := ParseNotifyTarget(bad); err == nil {
			t.Errorf("ParseNotifyTarget(%q): want an error", bad)
		}
	}
}

// A webhook target names the variable holding its secret; a secret
// written in the ladder is refused and not repeated in the error.
func TestNotifyWebhookSecretNotInLadder(t *testing.T) {
	_, err := ParseNotifyTarget("webhook:whsec_c2VjcmV0c2VjcmV0c2VjcmV0:https://ops.example/h")
	if err == nil || strings.Contains(err.Error(), "c2VjcmV0") || !strings.Contains(err.Error(), "environment variable") {
		t.Fatalf("a secret in the ladder: %v", err)
	}
	src := "version: t\nteams:\n  ops:\n    owners: [a@example.com]\n    notify: [\"webhook:OPS:https://ops.example/h\", \"webhook:https://audit.example/h\", \"slack:https://hooks.slack.com/x\"]\n" +
		"  sales:\n    owners: [b@example.com]\n    notify: [\"webhook:OPS:https://ops.example/h\"]\n" +
		"rungs:\n  - id: r\n    when: \"true\"\n    action: handoff\n    route: {team: ops}\n"
	l, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := l.NotifyTargets()
	if len(got) != 3 || got[0].SecretEnv != "OPS" || got[1].SecretEnv != DefaultWebhookSecretEnv || got[2].Format != FormatSlack {
		t.Fatalf("NotifyTargets = %+v", got)
	}
}

func TestLintNotifyTargets(t *testing.T) {
	src := `version: t
teams:
  sales:
    owners: [a@example.com]
    notify:
      - slack:https://hooks.slack.com/services/T/B/x
      - http://hooks.example.com/x
rungs:
  - id: r
    when: "true"
    action: handoff
    route: {team: sales}
`
	_, err := Parse("t.yaml", []byte(src))
	var le LintErrors
	if !errors.As(err, &le) || len(le) != 1 || le[0].Line != 7 || !strings.Contains(le[0].Msg, "must be https") || strings.Contains(le[0].Msg, "/x") {
		t.Fatalf("lint of a plain-http notify target: %v", err)
	}
	l, err := Parse("t.yaml", []byte(strings.Replace(src, "http://hooks.example.com/x", "teams:https://example.logic.azure.com/w", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Teams()["sales"].Notify; len(got) != 2 || got[1] != "teams:https://example.logic.azure.com/w" {
		t.Fatalf("team notify = %v", got)
	}
}
