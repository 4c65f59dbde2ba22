package console

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/connectors/marketo"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/ladder"
)

// hostileBundle carries markup and a script URL in every text a buyer or
// an agent can put there.
func hostileBundle() handoff.Bundle {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return handoff.Bundle{
		Goal:    `Answer "Globex" & keep <b>moving</b>`,
		Summary: "Ana asked for pricing.\nSecond line <img src=x onerror=alert(1)>",
		Timeline: []handoff.HistoryItem{{At: at, Source: handoff.SourceAgent, Kind: handoff.KindChatMessage, Channel: "chat",
			Summary: `said '</li></ul><script>alert(1)</script>'`}},
		BuyerAsked:    "Can I talk to a human?</blockquote><iframe src=//evil.example></iframe>",
		AgentReplied:  "Sure &amp; soon",
		Why:           handoff.Why{Action: handoff.ActionHandoff, Rung: "pricing", Reasons: []string{"<svg onload=alert(1)>"}, LadderVersion: "v1", Score: 0.5},
		TranscriptURL: "https://agent.example/t/1?a=1&b=<2>",
		Sources:       []string{"https://acme.example/pricing?q=\"x\"", "javascript:alert(1)", "data:text/html,<script>alert(1)</script>"},
		Constraints:   []string{"No discount above 10%"},
		NextSteps:     []string{"Call <them>"},
		Contact:       handoff.ContactFacts{Name: "Ana <Alvarez>", Email: "ana@globex.example"},
		Missing:       []string{"deal.stage"},
		Completeness:  0.75,
	}
}

// What HubSpot's connector writes comes through unchanged: the sanitiser
// loses nothing of ours and the hostile text stays text.
func TestTaskHTMLKeepsTheConnectorsBody(t *testing.T) {
	body := hubspot.RenderBody(hostileBundle(), "ho_hostile")
	got := string(taskHTML(body))
	if got != body {
		t.Fatalf("the sanitised body differs from the connector's:\n%s\nwant\n%s", got, body)
	}
	for _, bad := range []string{"<script", "<img", "<iframe", "<svg", "<b>", `href="javascript:`, `href="data:`} {
		if strings.Contains(strings.ToLower(got), bad) {
			t.Errorf("the body holds %q as markup", bad)
		}
	}
}

func TestTaskHTMLRemovesWhatRuns(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`<p onclick="x()">hi<script>alert(1)</script> there</p>`, `<p>hi there</p>`},
		{`<img src=x onerror=alert(1)>ok`, `ok`},
		{`<a href="javascript:alert(1)">l</a> <a href="https://ok.example/?a=1&amp;b=2" onmouseover="x">ok</a>`, `<a>l</a> <a href="https://ok.example/?a=1&amp;b=2">ok</a>`},
		{`<a href="//evil.example/">rel</a><a href="/console/logout">local</a>`, `<a>rel</a><a>local</a>`},
		{`<style>body{display:none}</style><div>x</div>`, `x`},
		{`<svg><script>alert(1)</script><svg></svg></svg>after`, `after`},
		{`<iframe srcdoc="<script>alert(1)</script>"></iframe>y`, `y`},
		{`</div></main><p>closes</ul> only its own</p>`, `<p>closes only its own</p>`},
		{`<ul><li>left <strong>open`, `<ul><li>left <strong>open</strong></li></ul>`},
		{`<ul><li>a</ul>b`, `<ul><li>a</li></ul>b`},
		{`<p>&lt;script&gt; &amp; "q" 'a'</p>`, `<p>&lt;script&gt; &amp; &#34;q&#34; &#39;a&#39;</p>`},
		{`<!-- <script>x</script> --><p>c</p>`, `<p>c</p>`},
		{`<form action=/x><input name=a><button>go</button></form>`, `go`},
		{`<h3 style="x">T</h3><br/><BR>`, `<h3>T</h3><br><br>`},
	} {
		if got := string(taskHTML(c.in)); got != c.want {
			t.Errorf("taskHTML(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// stubRecords serves one decision.
type stubRecords struct{ d jobs.DecisionRecord }

func (s stubRecords) FindDecisions(context.Context, jobs.DecisionQuery) ([]jobs.DecisionRecord, error) {
	return []jobs.DecisionRecord{s.d}, nil
}

func (s stubRecords) DecisionByID(_ context.Context, id string) (jobs.DecisionRecord, bool, error) {
	return s.d, id == s.d.ID, nil
}

func (stubRecords) Series(context.Context, jobs.Window) ([]jobs.Point, jobs.Report, map[string]int64, error) {
	return nil, jobs.Report{}, nil, nil
}

func (stubRecords) Counters(context.Context, jobs.Window) (map[string]int64, error) { return nil, nil }

func decisionPage(t *testing.T, d jobs.DecisionRecord) string {
	t.Helper()
	live, err := ladder.Default()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{}, Deps{AdminToken: perfToken, Records: stubRecords{d}, Live: live, Tasks: map[handoff.Source]TaskRenderer{
		handoff.SourceHubSpot:    {Render: hubspot.RenderBody, HTML: true},
		handoff.SourceSalesforce: {Render: salesforce.RenderDescription},
		handoff.SourceMarketo:    {Render: marketo.RenderBody},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	c.Register(e)
	code, body := get(t, e, "/console/decisions/"+d.ID)
	if code != http.StatusOK {
		t.Fatalf("decision page: %d", code)
	}
	return body
}

// hostileDecision is a recorded handoff decision whose buyer text and
// agent reply are hostile, for an agent event whose contact is in crm.
func hostileDecision(crm handoff.Source) jobs.DecisionRecord {
	b := hostileBundle()
	var c handoff.Context
	c.Event.Source, c.Event.Kind, c.Event.Channel, c.Event.Text = "agent", "chat_message", "chat", b.BuyerAsked
	c.Agent.Reply, c.Agent.Sources = b.AgentReplied, b.Sources
	c.Contact = b.Contact
	d := handoff.Decision{Action: handoff.ActionHandoff, RungID: "pricing", Goal: b.Goal, Reasons: b.Why.Reasons, NextSteps: b.NextSteps, LadderVersion: "v1"}
	return jobs.DecisionRecord{ID: "1700000000000-0", At: time.Now().UTC(), Action: d.Action, Rung: d.Matched(), Plan: jobs.PlanHandoff, HandoffID: "ho_page",
		Decision: d, Context: c, Event: jobs.EventRef{Source: handoff.SourceAgent, Kind: handoff.KindChatMessage, TranscriptURL: b.TranscriptURL,
			Contact: handoff.ContactRef{CRM: crm, Tenant: "t1", Email: "ana@globex.example"}}}
}

// The decision page shows the task as the decision's CRM's connector
// writes it: HubSpot's HTML rebuilt safely, the others' text escaped in a
// <pre>.
func TestDecisionPageShowsTheTaskAsWritten(t *testing.T) {
	for _, crm := range []handoff.Source{handoff.SourceHubSpot, handoff.SourceSalesforce, handoff.SourceMarketo} {
		t.Run(string(crm), func(t *testing.T) {
			d := hostileDecision(crm)
			page := decisionPage(t, d)
			b := jobs.BuildBundle(d.HandoffID, d.Decision, d.Context, d.Event)
			switch crm {
			case handoff.SourceHubSpot:
				want := hubspot.RenderBody(b, d.HandoffID)
				if !strings.Contains(page, `data-format="html"`) || !strings.Contains(page, want) {
					t.Fatalf("the page lacks HubSpot's body:\n%s", want)
				}
			case handoff.SourceSalesforce:
				if want := html.EscapeString(salesforce.RenderDescription(b, d.HandoffID)); !strings.Contains(page, want) {
					t.Fatalf("the page lacks Salesforce's Description:\n%s", want)
				}
			case handoff.SourceMarketo:
				if want := html.EscapeString(marketo.RenderBody(b, d.HandoffID)); !strings.Contains(page, want) {
					t.Fatalf("the page lacks Marketo's body:\n%s", want)
				}
			}
			low := strings.ToLower(page)
			for _, bad := range []string{"<script>alert", "<img src=x", "<iframe src", "<svg onload", `href="javascript:`, `href="data:`} {
				if strings.Contains(low, bad) {
					t.Errorf("the page holds %q as markup", bad)
				}
			}
			if !strings.Contains(page, `<code id="handoff-id">ho_page</code>`) {
				t.Error("the page does not name the handoff")
			}
		})
	}
	// A follow-up made no task of its own: the page says where it went.
	d := hostileDecision(handoff.SourceHubSpot)
	d.Plan, d.HandoffID, d.TaskID = jobs.PlanFollowUp, "ho_open", "4711"
	page := decisionPage(t, d)
	if strings.Contains(page, `id="task-body"`) || !strings.Contains(page, `id="follow-up"`) || !strings.Contains(page, "ho_open") {
		t.Fatal("a follow-up's page shows a task of its own or does not say where it went")
	}
}
