package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/connectors/marketo/marketotest"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/ladder/laddercli"
)

const demoUsage = `Usage: handoff demo [--keep] [--addr 127.0.0.1:8080] [--log FILE]

Runs Handoff end to end on this machine with nothing to configure: an
embedded Redis, in-process fakes of HubSpot, Salesforce and Marketo, and the
real server and worker. It installs the HubSpot portal through the real OAuth
routes, posts signed webhooks from every source through the real HTTP path
(each trigger of the default ladder, exceptions, a non-escalating event, a
duplicate, and a follow-up while a human owns the conversation), waits for the
worker, and prints the decisions and the tasks as they landed in each fake CRM.
Then it plays the agent's side of the loop: a turn posted with "Prefer: wait"
gets its decision in the answer, and the signed callbacks that follow (decided,
task created, owner changes) reach a receiver the demo runs on loopback. The
SDR team notifies a Slack-compatible webhook the demo also runs (its ladder is
the default one with that notify: target added), which prints what it got.

With --keep it stays up afterwards so the console (/console/), the dashboard
(/admin/queues/) and the
API (/api/decisions, /api/outcomes) can be explored; stop it with Ctrl-C.
`

// demoOwnerless is the seeded contact with no owner in any CRM: its
// escalations show a route falling back (the one fallback the demo means).
const demoOwnerless = "sam.student@university.example"

// scenarioStep is one delivery and what the default ladder should decide.
type scenarioStep struct {
	Delivery
	// Expect is the rung or exception id, "continue", "duplicate" or
	// "follow-up" (an update to the task a human already owns).
	Expect string
	// Conversation and contact, to find the decision again.
	Conversation string
}

func runDemo(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", demoUsage, helpOut(args, stdout, stderr))
	keep := fs.Bool("keep", false, "stay up after the run to explore the dashboard and the API")
	addr := fs.String("addr", "", "listen address (default: a free port on 127.0.0.1; with --keep, 127.0.0.1:8080 if free)")
	logFile := fs.String("log", "", "write the service's JSON log to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("demo takes no arguments, got %q", fs.Args())
	}
	if *keep && *addr == "" {
		*addr = "127.0.0.1:8080"
		if l, err := netListen(*addr); err != nil {
			*addr = ""
		} else {
			l.Close()
		}
	}
	var logw io.Writer
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return fmt.Errorf("--log: %w", err)
		}
		defer f.Close()
		logw = f
	}
	start := time.Now()
	fmt.Fprintln(stdout, "Starting Handoff with an embedded Redis and fake HubSpot, Salesforce and Marketo...")
	rc, err := startLoopReceiver()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer rc.Close()
	chat, err := startDemoChat()
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer chat.Close()
	dir, err := os.MkdirTemp("", "handoff-demo-*")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	ladderFile, err := demoLadderFile(dir, chat.URL)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d, err := startDemo(ctx, demoOptions{Addr: *addr, Log: logw,
		Extra: map[string]string{"AGENT_CALLBACK_URL": rc.URL, "AGENT_CALLBACK_SECRET": rc.Secret, "LADDER_FILE": ladderFile}})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer d.Close()
	fmt.Fprintf(stdout, "Handoff is up at %s; HubSpot portal %d installed through /oauth/hubspot/install.\n\n", d.Base, hubspottest.PortalID)

	steps := d.scenario()
	fmt.Fprintf(stdout, "Posting %d signed webhooks through the HTTP path:\n", len(steps))
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\troute\tevent\tanswer")
	for i, s := range steps {
		r, err := d.post(ctx, s.Delivery)
		if err != nil {
			return fmt.Errorf("demo: post %s: %w", s.Label, err)
		}
		if r.Status != 200 {
			return fmt.Errorf("demo: %s answered %d: %s", s.Label, r.Status, firstLine(r.Body))
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%d %s\n", i+1, s.Route, s.Label, r.Status, ackSummary(r.Body))
		// Let each event settle before the next one of the same
		// conversation, as a real conversation would.
		if err := d.waitDrained(ctx, 30*time.Second); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	tw.Flush()

	if err := d.waitDrained(ctx, 30*time.Second); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if err := d.printDecisions(ctx, stdout, steps); err != nil {
		return err
	}
	d.printTasks(stdout)
	if err := d.showLoop(ctx, stdout, rc); err != nil {
		return err
	}
	showChat(stdout, chat, 5*time.Second)
	if arch := d.archived(); len(arch) > 0 {
		fmt.Fprintf(stdout, "\n%d task(s) gave up (archived):\n", len(arch))
		for _, t := range arch {
			fmt.Fprintf(stdout, "  %s %s: %s\n", t.Type, t.ID, t.LastErr)
		}
		return &exitError{code: 1, msg: "demo: some work was archived"}
	}
	fmt.Fprintf(stdout, "\nDone in %.1fs.\n", time.Since(start).Seconds())
	if !*keep {
		return nil
	}
	fmt.Fprintf(stdout, `
Handoff stays up (Ctrl-C to stop). Admin token: %s
  console    %s/console/   (sign in with the admin token)
  dashboard  %s/admin/queues/   (user: anything, password: the token)
  decisions  curl -H 'Authorization: Bearer %s' %s/api/decisions
  outcomes   curl -H 'Authorization: Bearer %s' %s/api/outcomes
`, d.AdminToken, d.Base, d.Base, d.AdminToken, d.Base, d.AdminToken, d.Base)
	<-ctx.Done()
	return nil
}

// scenario is the demo's traffic. Ids and emails are the fakes' seed data.
func (d *demoEnv) scenario() []scenarioStep {
	now := time.Now().UTC()
	ts := func(off time.Duration) string { return now.Add(off).Format(time.RFC3339) }
	run := strconv.FormatInt(now.UnixNano(), 36) // fresh ids per run
	portal := strconv.Itoa(hubspottest.PortalID)
	turn := func(id, conv, email, channel string, n int, text, reply string, conf float64, toolFailures int) map[string]any {
		return map[string]any{
			"type": "agent.turn", "id": id + "-" + run, "occurred_at": ts(time.Duration(n) * time.Second),
			"conversation_id": conv + "-" + run, "channel": channel,
			"contact": map[string]any{"email": email, "crm": "hubspot", "tenant": portal},
			"turn":    n, "buyer_message": text, "agent_reply": reply, "confidence": conf,
			"sources": []string{"https://acme.example/docs/pricing"}, "tool_failures": toolFailures,
			"transcript_url": "https://agent.acme.example/conversations/" + conv + "-" + run,
		}
	}
	step := func(expect, conv string, dl Delivery) scenarioStep {
		c := conv
		if c != "" {
			c += "-" + run
		}
		return scenarioStep{Delivery: dl, Expect: expect, Conversation: c}
	}
	studentPricing := d.agentDelivery("agent: student asks the price", turn("t-student-1", "conv-student", "sam.student@university.example", "chat", 1,
		"How much does it cost per seat? It is for a class project.", "Our Team plan is listed on the pricing page.", 0.9, 0))
	var steps []scenarioStep
	steps = append(steps,
		step("continue", "conv-student", studentPricing),
		step("pricing", "conv-ana-pricing", d.agentDelivery("agent: tier-1 buyer asks the same price", turn("t-ana-1", "conv-ana-pricing", "ana@globex.example", "chat", 1,
			"How much does it cost per seat? It is for 500 seats.", "The list price is on our pricing page.", 0.9, 0))),
		step("follow-up", "conv-ana-pricing", d.agentDelivery("agent: follow-up while the owner holds it", turn("t-ana-2", "conv-ana-pricing", "ana@globex.example", "chat", 2,
			"Also, can you include onboarding in that quote?", "A colleague will get back to you on the quote.", 0.8, 0))),
		step("exec-to-exec", "conv-chris", d.agentDelivery("agent: CEO of a tier-1 account writes", turn("t-chris-1", "conv-chris", "chris@globex.example", "chat", 1,
			"Before we commit for next year, I would like our CEO to meet yours.", "Happy to help with that.", 0.9, 0))),
		step("regulated-industry", "conv-bea", d.agentDelivery("agent: bank asks for SOC 2 and a DPA", turn("t-bea-1", "conv-bea", "bea@firstharbor.example", "email", 1,
			"Can you send your SOC 2 report and a DPA for our review?", "I will check what we can share.", 0.8, 0))),
		step("low-confidence", "conv-ian", d.agentDelivery("agent: the agent is unsure of its answer", turn("t-ian-1", "conv-ian", "ian@initech.example", "chat", 1,
			"Does the API support bulk exports to our data warehouse?", "I believe so, but I am not certain.", 0.3, 0))),
		step("tool-failures", "conv-ian-tools", d.agentDelivery("agent: the agent's tools keep failing", turn("t-ian-tools-1", "conv-ian-tools", "ian@initech.example", "chat", 1,
			"Can you check the status of my trial account?", "Sorry, I cannot reach the account system right now.", 0.8, 3))),
		step("negative-sentiment", "conv-ian-angry", d.agentDelivery("agent: an upset buyer", turn("t-ian-angry-1", "conv-ian-angry", "ian@initech.example", "chat", 1,
			"This is terrible. The export broke again and nobody answers. I am furious.", "I am sorry to hear that.", 0.8, 0))),
		step("human-request", "conv-student-human", d.agentDelivery("agent: the buyer asks for a person", turn("t-student-2", "conv-student-human", "sam.student@university.example", "chat", 1,
			"Can I talk to a human please?", "Let me find someone for you.", 0.9, 0))),
		step("duplicate", "conv-student", studentPricing),
		step("competitor-comparison", "conv-ana-compare", d.agentDelivery("agent: a competitive evaluation", turn("t-ana-cmp-1", "conv-ana-compare", "ana@globex.example", "email", 1,
			"How do you compare to Initrode? We are thinking to switch from them.", "Here is an overview of our features.", 0.9, 0))),
		step("custom-enterprise-terms", "conv-ana-terms", d.agentDelivery("agent: custom commercial terms", turn("t-ana-terms-1", "conv-ana-terms", "ana@globex.example", "email", 1,
			"We would need net 90 payment terms and an uptime guarantee.", "Let me check.", 0.9, 0))),
		step("security-review", "conv-ana-sso", d.agentDelivery("agent: security questions from a tier-1 account", turn("t-ana-sso-1", "conv-ana-sso", "ana@globex.example", "email", 1,
			"Do you support SSO with SAML and do you have a pen test report?", "We support SAML SSO.", 0.9, 0))),
	)
	// A conversation whose mood drops over three turns.
	for i, text := range []string{"This looks great, I love the reports!", "ok, what about the export?", "Hmm, not what I expected."} {
		expect := "continue"
		if i == 2 {
			expect = "falling-sentiment"
		}
		steps = append(steps, step(expect, "conv-ian-mood", d.agentDelivery(fmt.Sprintf("agent: mood turn %d of 3", i+1),
			turn(fmt.Sprintf("t-ian-mood-%d", i+1), "conv-ian-mood", "ian@initech.example", "email", i+1, text, "Noted.", 0.9, 0))))
	}
	// A conversation that goes round in circles (chat: 4 turns without progress).
	for i, text := range []string{"hello", "and then?", "I see", "what else?"} {
		expect := "continue"
		if i == 3 {
			expect = "stall"
		}
		steps = append(steps, step(expect, "conv-ian-stall", d.agentDelivery(fmt.Sprintf("agent: stalling turn %d of 4", i+1),
			turn(fmt.Sprintf("t-ian-stall-%d", i+1), "conv-ian-stall", "ian@initech.example", "chat", i+1, text, "Could you tell me more?", 0.9, 0))))
	}
	steps = append(steps,
		// HubSpot: a chat message in a conversation thread (text read from the thread).
		step("legal", "", d.hubspotDelivery("hubspot: chat message with MSA redlines", []map[string]any{{
			"eventId": 3269195544, "subscriptionId": 2371671, "portalId": hubspottest.PortalID, "appId": 54321,
			"occurredAt": now.UnixMilli(), "subscriptionType": "conversation.newMessage", "attemptNumber": 0,
			"objectId": json.Number(hubspottest.ThreadAna), "messageId": "b1f6c7e2a0d94f0c9d1e2f3a4b5c6d04-" + run, "messageType": "MESSAGE", "changeFlag": "NEW_MESSAGE",
		}})),
		// Salesforce: a signed JSON event from Apex (email reply on a late-stage deal).
		step("late-stage-buying-signal", "", d.salesforceEventDelivery("salesforce: email reply on a late-stage deal", "evt-jane-"+run, map[string]any{
			"id": "evt-jane-" + run, "organization_id": salesforcetest.OrgID, "kind": "email_reply", "occurred_at": ts(0), "channel": "email",
			"contact": map[string]any{"id": salesforcetest.ContactJane, "type": "contact", "email": "jane.doe@globex.example"},
			"message": map[string]any{"id": "02s-" + run, "text": "We are ready to move forward and want to get started next week.", "direction": "inbound"},
		})),
		// Salesforce: an Outbound Message (SOAP) for a lead update: nothing to escalate.
		step("continue", "", salesforceOutbound("salesforce: outbound message, lead updated", "04l5e000000"+strings.ToUpper(run[len(run)-7:]), "Lead", map[string]string{
			"Id": salesforcetest.LeadNewCo, "Email": "lena@newco.example", "Status": "Working - Contacted",
		})),
		// Marketo: a form fill asking for a quote from a tier-1 named account.
		step("pricing", "", d.marketoDelivery("marketo: tier-1 form fill asks for a quote", map[string]any{
			"lead_id": marketotest.LeadTier1, "email": "dana.whitfield@globex.example", "kind": "form_submission", "channel": "web",
			"occurred_at": ts(0), "campaign": "Contact Sales", "program": "Website", "message": "Can we get a quote for 200 seats?", "activity_id": "act-" + run,
		})),
		step("continue", "", d.marketoDelivery("marketo: student attended a webinar", map[string]any{
			"lead_id": marketotest.LeadStudent, "email": "sam.student@university.example", "kind": "webinar_attended", "channel": "webinar",
			"occurred_at": ts(0), "program": "Webinar - Intro", "activity_id": "act2-" + run,
		})),
	)
	return steps
}

// printDecisions prints one line per decision of this run, oldest first,
// with the person whose task it became; then it says which handoffs fell
// back along their route.
func (d *demoEnv) printDecisions(ctx context.Context, w io.Writer, steps []scenarioStep) error {
	recs, err := jobs.NewOutcomes(d.app.redis.Client).FindDecisions(ctx, jobs.DecisionQuery{Limit: 500})
	if err != nil {
		return fmt.Errorf("demo: read decisions: %w", err)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
	fmt.Fprintf(w, "\nDecisions (ladder %s):\n", d.app.pipeline.active.Version())
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  event\tcontact\trung\taction\troute\ttask owner")
	type fallback struct {
		rung, contact string
		o             jobs.HandoffOwner
	}
	var fallbacks []fallback
	handoffs := 0
	for _, r := range recs {
		who := r.Context.Contact.Email
		if who == "" {
			who = r.Context.Contact.ID
		}
		rung := r.Rung
		if rung == "" {
			rung = "-"
		}
		owner := "-"
		switch r.Plan {
		case jobs.PlanFollowUp:
			owner = "(note on the open task)"
		case jobs.PlanHandoff:
			o, err := d.app.pipeline.jobs.HandoffOwner(ctx, r.HandoffID)
			if err != nil {
				return fmt.Errorf("demo: read handoff %s: %w", r.HandoffID, err)
			}
			handoffs++
			owner = d.ownerEmail(o)
			if o.FellBack() {
				owner += "  <- fallback: " + o.Route[len(o.Route)-1]
				fallbacks = append(fallbacks, fallback{rung, who, o})
			}
		}
		fmt.Fprintf(tw, "  %s/%s\t%s\t%s\t%s\t%s\t%s\n", r.Event.Source, r.Event.Kind, who, rung, r.Action,
			truncate(laddercli.RouteText(r.Decision.Route), 44), owner)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d of %d tasks went to the first choice of their route.", handoffs-len(fallbacks), handoffs)
	for _, f := range fallbacks {
		why := ""
		if f.contact == demoOwnerless {
			why = " (on purpose: this contact has no owner in the CRM)"
		}
		skipped := strings.Join(f.o.Route[:len(f.o.Route)-1], ", ")
		fmt.Fprintf(w, "\nFallback%s: %s for %s found nobody at %s, so %s took it: %s.",
			why, f.rung, f.contact, strings.ReplaceAll(skipped, "_", " "), f.o.Route[len(f.o.Route)-1], d.ownerEmail(f.o))
	}
	fmt.Fprintln(w)
	return nil
}

// ownerEmail names a task owner by email, from the record or the seeds.
func (d *demoEnv) ownerEmail(o jobs.HandoffOwner) string {
	if o.OwnerEmail != "" {
		return o.OwnerEmail
	}
	for _, x := range d.hsSeed.Owners {
		if x.ID == o.OwnerID {
			return x.Email
		}
	}
	for _, u := range d.sfSeed.Users {
		if u.ID == o.OwnerID {
			return u.Email
		}
	}
	if o.OwnerID == "" {
		return "?"
	}
	return o.OwnerID
}

// printTasks prints the tasks as they landed in each fake CRM.
func (d *demoEnv) printTasks(w io.Writer) {
	fmt.Fprintln(w, "\nTasks in HubSpot (fake portal):")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  id\towner\tpriority\tdue\tsubject")
	owners := map[string]string{}
	for _, o := range d.hsSeed.Owners {
		owners[o.ID] = o.Email
	}
	for _, id := range d.HubSpot.TaskIDs() {
		p, _, _ := d.HubSpot.Task(id)
		due := p["hs_timestamp"]
		if ms, err := strconv.ParseInt(due, 10, 64); err == nil {
			due = time.UnixMilli(ms).UTC().Format("Jan 2 15:04")
		} else if t, err := time.Parse(time.RFC3339, due); err == nil {
			due = t.UTC().Format("Jan 2 15:04")
		}
		owner := owners[p["hubspot_owner_id"]]
		if owner == "" {
			owner = p["hubspot_owner_id"]
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", id, owner, p["hs_task_priority"], due, truncate(p["hs_task_subject"], 70))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nTasks in Salesforce (fake org):")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  Id\towner\tPriority\tActivityDate\tSubject")
	users := map[string]string{}
	for _, u := range d.sfSeed.Users {
		users[u.ID] = u.Email
	}
	for _, t := range d.Salesforce.Tasks() {
		owner := fmt.Sprint(t["OwnerId"])
		if e, ok := users[owner]; ok {
			owner = e
		}
		fmt.Fprintf(tw, "  %v\t%s\t%v\t%v\t%s\n", t["Id"], owner, t["Priority"], t["ActivityDate"], truncate(fmt.Sprint(t["Subject"]), 70))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nMarketo (fake instance): campaign requests whose flow creates the task in the synced CRM:")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  lead\towner\tpriority\tdue\tsubject")
	for _, t := range d.Marketo.Tasks() {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\n", t.LeadID, t.OwnerEmail, t.Priority, t.Due, truncate(t.Subject, 70))
	}
	tw.Flush()
}

func ackSummary(body string) string {
	var a struct {
		Accepted   *int `json:"accepted"`
		Duplicates *int `json:"duplicates"`
	}
	if json.Unmarshal([]byte(body), &a) == nil && a.Accepted != nil {
		if a.Duplicates != nil && *a.Duplicates > 0 {
			return fmt.Sprintf("(accepted %d, duplicate %d)", *a.Accepted, *a.Duplicates)
		}
		return fmt.Sprintf("(accepted %d)", *a.Accepted)
	}
	if strings.Contains(body, "<Ack>true</Ack>") {
		return "(SOAP Ack true)"
	}
	return ""
}
