package hubspot_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"html"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func sampleSpec() handoff.TaskSpec {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	return handoff.TaskSpec{
		HandoffID: "ho_01JDX4Q7ZK",
		Tenant:    portal,
		Contact:   handoff.ContactRef{CRM: handoff.SourceHubSpot, Tenant: portal, ID: hubspottest.ContactAna, Email: "ana@globex.example"},
		CompanyID: hubspottest.CompanyGlobex,
		DealID:    hubspottest.DealGlobexEnterprise,
		Owner:     handoff.Owner{ID: hubspottest.OwnerDealDesk1, Email: "dd1@acme.example"},
		Subject:   "Pricing question from Globex (tier 1)",
		Due:       at.Add(30 * time.Minute),
		Priority:  handoff.PriorityHigh,
		Bundle: handoff.Bundle{
			HandoffID: "ho_01JDX4Q7ZK",
			Goal:      "Answer Globex's pricing question for 500 seats & keep the deal moving",
			Summary:   "Ana (Head of Operations, Globex, tier 1) asked for pricing <b>and</b> a 20% discount; the agent shared the public price sheet.",
			Timeline: []handoff.HistoryItem{
				{At: at.Add(-time.Minute), Source: handoff.SourceAgent, Kind: handoff.KindChatMessage, Channel: "chat", Summary: `asked "can I talk to a human?"`},
				{At: at.Add(-48 * time.Hour), Source: handoff.SourceHubSpot, Kind: handoff.KindWebinarAttended, Channel: "webinar", Summary: "Pricing 101"},
			},
			BuyerAsked:   "We need a 20% discount and the MSA redlines before we sign.\n<script>alert(1)</script>",
			AgentReplied: "Our Enterprise plan is priced per seat; here is the public price sheet.",
			Why: handoff.Why{Action: handoff.ActionHandoff, Rung: "pricing", Reasons: []string{"'pricing' in signals.topics (topics=[pricing legal])", "account.tier == tier_1"}, LadderVersion: "2026-11-gtm-1", Score: 0.8125,
				AlsoNeeds: []string{"security review (team security)", "legal review (team legal)"}},
			TranscriptURL: "https://agent.example/t/conv_42?turn=4&x=1",
			Sources:       []string{"https://acme.example/pricing", "javascript:alert(1)"},
			Constraints:   []string{"No discount above 10% without deal desk approval"},
			NextSteps:     []string{"Confirm budget and timeline", "Send the approved price sheet", "Offer a call within 24h"},
			Contact:       handoff.ContactFacts{Name: "Ana Alvarez", Title: "Head of Operations", Email: "ana@globex.example"},
			Account:       handoff.AccountFacts{Name: "Globex Corporation", Tier: "tier_1", Industry: "Computer Software", Employees: 5200, Revenue: 250e6, IsTarget: true, OwnerEmail: "ae1@acme.example", Known: true},
			Deal:          handoff.DealFacts{ID: "3001", Name: "Globex - Enterprise plan", Stage: "contractsent", StageLabel: "Contract Sent", Probability: 0.9, IsOpen: true, Amount: 180000, CloseDate: "2026-12-15", Known: true},
			Missing:       []string{"transcript_summary"},
			Completeness:  0.875,
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden (run go test -update to accept):\n%s", name, got)
	}
}

func TestRenderTaskGolden(t *testing.T) {
	in := hubspot.RenderTask(sampleSpec())
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(in); err != nil {
		t.Fatal(err)
	}
	golden(t, "render_task.golden.json", buf.Bytes())
	golden(t, "render_task_body.golden.html", []byte(in.Properties["hs_task_body"]))

	body := in.Properties["hs_task_body"]
	for _, bad := range []string{"<script>", "<b>and</b>", `href="javascript:`} {
		if strings.Contains(body, bad) {
			t.Errorf("body contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;", "Missing context:", "88% complete", "Handoff ID: ho_01JDX4Q7ZK", `<a href="https://agent.example/t/conv_42?turn=4&amp;x=1">`} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q", want)
		}
	}
	// Sections in the contract's order.
	order := []string{"Goal", "Summary", "What the buyer did", "What they asked", "What the agent replied", "Why it escalated", "Transcript", "Cited sources", "Constraints", "Next steps", "Account and deal", "Missing context"}
	last := -1
	for _, s := range order {
		i := strings.Index(body, s)
		if i <= last {
			t.Fatalf("section %q out of order", s)
		}
		last = i
	}
	// Pure: same input, same bytes.
	if hubspot.RenderTask(sampleSpec()).Properties["hs_task_body"] != body {
		t.Fatal("RenderTask is not deterministic")
	}
	// The body is RenderBody's, which the console shows as the owner saw it.
	if spec := sampleSpec(); hubspot.RenderBody(spec.Bundle, spec.HandoffID) != body {
		t.Fatal("the task body is not RenderBody's rendering of the bundle")
	}
	noMissing := sampleSpec()
	noMissing.Bundle.Missing = nil
	if strings.Contains(hubspot.RenderTask(noMissing).Properties["hs_task_body"], "Missing context") {
		t.Fatal("missing line shown without missing fields")
	}
}

func BenchmarkRenderTask(b *testing.B) {
	spec := sampleSpec()
	b.ReportAllocs()
	for b.Loop() {
		_ = hubspot.RenderTask(spec)
	}
}

func createTask(t *testing.T, e *env, handoffID, contactEmailOnly string) handoff.Task {
	t.Helper()
	spec := sampleSpec()
	spec.HandoffID, spec.Bundle.HandoffID = handoffID, handoffID
	if contactEmailOnly != "" {
		spec.Contact = handoff.ContactRef{Email: contactEmailOnly}
	}
	task, err := e.client.CreateTask(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func TestTaskLifecycle(t *testing.T) {
	for _, tc := range []struct {
		name, prop string
	}{{"marker in body", ""}, {"custom handoff_id property", "handoff_id"}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *hubspot.Config) { c.HandoffIDProperty = tc.prop })
			e.install(time.Hour)
			task := createTask(t, e, "ho_01JDX4Q7ZK", "")
			if task.ID == "" || task.HandoffID != "ho_01JDX4Q7ZK" || task.State != handoff.TaskNotStarted || task.OwnerID != hubspottest.OwnerDealDesk1 || task.Priority != handoff.PriorityHigh {
				t.Fatalf("created %+v", task)
			}
			// Request shape: documented fields and association type ids.
			r := e.lastRequest("POST", "/crm/v3/objects/tasks")
			body := decode(t, r.Body)
			want := readFixture(t, "task-create-request.json")
			if tc.prop != "" {
				want.(map[string]any)["properties"].(map[string]any)["handoff_id"] = "ho_01JDX4Q7ZK"
			}
			sameShape(t, "task create request", want, body)
			var in hubspot.TaskInput
			_ = json.Unmarshal(r.Body, &in)
			var typeIDs []int
			for _, a := range in.Associations {
				typeIDs = append(typeIDs, a.Types[0].AssociationTypeID)
				if a.Types[0].AssociationCategory != "HUBSPOT_DEFINED" {
					t.Errorf("category %q", a.Types[0].AssociationCategory)
				}
			}
			if !slices.Equal(typeIDs, []int{204, 192, 216}) || in.Properties["hs_timestamp"] != "2026-11-23T10:30:00.000Z" {
				t.Fatalf("associations %v, timestamp %q", typeIDs, in.Properties["hs_timestamp"])
			}
			props, assoc, ok := e.fake.Task(task.ID)
			if !ok || props["hs_task_subject"] != "Pricing question from Globex (tier 1)" || props["hs_task_type"] != "TODO" ||
				!slices.Equal(assoc["contacts"], []string{"1001"}) || !slices.Equal(assoc["companies"], []string{"2001"}) || !slices.Equal(assoc["deals"], []string{"3001"}) {
				t.Fatalf("stored task %v %v", props, assoc)
			}
			if tc.prop != "" && props["handoff_id"] != "ho_01JDX4Q7ZK" {
				t.Fatalf("handoff_id property %q", props["handoff_id"])
			}

			found, err := e.client.FindTask(ctx, portal, "ho_01JDX4Q7ZK")
			if err != nil || found.ID != task.ID || found.HandoffID != "ho_01JDX4Q7ZK" {
				t.Fatalf("find %+v %v", found, err)
			}
			sr := decode(t, e.lastRequest("POST", "/crm/v3/objects/tasks/search").Body)
			wantSearch := readFixture(t, "tasks-search-request.json")
			if tc.prop != "" {
				f := wantSearch.(map[string]any)["filterGroups"].([]any)[0].(map[string]any)["filters"].([]any)[0].(map[string]any)
				f["propertyName"], f["operator"] = "handoff_id", "EQ"
			}
			sameShape(t, "task search request", wantSearch, sr)
			filter := sr.(map[string]any)["filterGroups"].([]any)[0].(map[string]any)["filters"].([]any)[0].(map[string]any)
			if filter["value"] != "ho_01JDX4Q7ZK" {
				t.Fatalf("search filter %v", filter)
			}
			// Another id whose token is only a prefix must not match.
			if _, err := e.client.FindTask(ctx, portal, "ho_01JDX4Q7"); !errors.Is(err, handoff.ErrNotFound) {
				t.Fatalf("prefix id: %v", err)
			}

			before, assoc, _ := e.fake.Task(task.ID)
			sent := len(e.fake.Requests())
			if err := e.client.AppendToTask(ctx, portal, task.ID, "Buyer wrote again: <i>still waiting</i> & asking for a call"); err != nil {
				t.Fatal(err)
			}
			// The update is a note on the task's records; the body is untouched.
			props, _, _ = e.fake.Task(task.ID)
			if props["hs_task_body"] != before["hs_task_body"] {
				t.Fatalf("append rewrote the task body:\n%s", props["hs_task_body"])
			}
			for _, r := range e.fake.Requests()[sent:] {
				if r.Method != "GET" && strings.HasPrefix(r.Path, "/crm/v3/objects/tasks") {
					t.Fatalf("append wrote the task: %s %s", r.Method, r.Path)
				}
			}
			if len(assoc["contacts"]) != 1 {
				t.Fatalf("task associations %v", assoc)
			}
			notes := e.fake.NotesOn("contacts", assoc["contacts"][0])
			if len(notes) != 1 {
				t.Fatalf("%d notes on the contact, want 1", len(notes))
			}
			nb := notes[0].Properties["hs_note_body"]
			if !strings.HasPrefix(nb, "<h3>Update ") || !strings.Contains(nb, "still waiting&lt;/i&gt; &amp; asking") || !strings.Contains(nb, html.EscapeString(props["hs_task_subject"])) {
				t.Fatalf("note body:\n%s", nb)
			}
			for _, typ := range []string{"companies", "deals"} {
				if !slices.Equal(notes[0].Associations[typ], assoc[typ]) {
					t.Errorf("note %s %v, task %s %v", typ, notes[0].Associations[typ], typ, assoc[typ])
				}
			}
			nr := decode(t, e.lastRequest("POST", "/crm/v3/objects/notes").Body).(map[string]any)
			if ts, _ := nr["properties"].(map[string]any)["hs_timestamp"].(string); ts == "" {
				t.Fatalf("note without hs_timestamp: %v", nr)
			}

			mgr := handoff.Owner{ID: hubspottest.OwnerManager1}
			if err := e.client.ReassignTask(ctx, portal, task.ID, mgr, handoff.PriorityUrgent); err != nil {
				t.Fatal(err)
			}
			sameShape(t, "task update request", readFixture(t, "task-update-request.json"), decode(t, e.lastRequest("PATCH", "/crm/v3/objects/tasks/"+task.ID).Body))

			e.fake.SetTaskProperty(task.ID, "hs_task_status", "IN_PROGRESS")
			got, err := e.client.GetTask(ctx, portal, task.ID)
			if err != nil || got.OwnerID != hubspottest.OwnerManager1 || got.Priority != handoff.PriorityHigh || got.State != handoff.TaskInProgress ||
				got.HandoffID != "ho_01JDX4Q7ZK" || !got.Due.Equal(time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)) {
				t.Fatalf("get %+v %v", got, err)
			}
			if _, err := e.client.GetTask(ctx, portal, "123"); !errors.Is(err, handoff.ErrNotFound) {
				t.Fatalf("missing task: %v", err)
			}
		})
	}
}

func TestCreateTaskByEmailAndSearchLag(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	e.fake.SetSearchLag(time.Hour)
	task := createTask(t, e, "ho_lagged", "bea@firstharbor.example")
	_, assoc, _ := e.fake.Task(task.ID)
	if !slices.Equal(assoc["contacts"], []string{hubspottest.ContactBea}) {
		t.Fatalf("associations %v", assoc)
	}
	// Search is eventually consistent: a fresh task is not found yet.
	if _, err := e.client.FindTask(ctx, portal, "ho_lagged"); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	e.fake.SetSearchLag(0)
	if found, err := e.client.FindTask(ctx, portal, "ho_lagged"); err != nil || found.ID != task.ID {
		t.Fatalf("after lag: %+v %v", found, err)
	}
}

func TestCreateTaskUnknownHandoffProperty(t *testing.T) {
	e := newEnv(t, func(c *hubspot.Config) { c.HandoffIDProperty = "not_created_in_portal" })
	e.install(time.Hour)
	_, err := e.client.CreateTask(ctx, sampleSpec())
	var pe *handoff.PermanentError
	if !errors.As(err, &pe) || !strings.Contains(pe.Detail, "PROPERTY_DOESNT_EXIST") {
		t.Fatalf("err = %v", err)
	}
}

// A buyer the portal does not know (a new visitor talking to the agent)
// still gets an owned task: no contact association, nothing to retry.
func TestCreateTaskForUnknownContact(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	task := createTask(t, e, "ho_newvisitor", "new.visitor@prospect.example")
	props, assoc, ok := e.fake.Task(task.ID)
	if !ok || len(assoc["contacts"]) != 0 {
		t.Fatalf("task %v, associations %v", ok, assoc)
	}
	if props["hubspot_owner_id"] == "" {
		t.Fatal("task has no owner")
	}
}

// A rep who edits the task body while a follow-up is being added keeps the
// edit: the connector reads the task, then logs the follow-up as a note on
// the contact instead of writing the body back.
func TestAppendKeepsARepsConcurrentEdit(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	task := createTask(t, e, "ho_concurrent_edit", "")
	const repNote = "<p>REP: called Ana, she wants the MSA first.</p>"
	taskPath := "/crm/v3/objects/tasks/" + task.ID
	var mu sync.Mutex
	read, edited := false, false
	e.fake.OnAPIRequest(func(method, path string) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case method == "GET" && path == taskPath:
			read = true
		case read && !edited: // the connector's next call after its read: the rep saves first
			p, _, _ := e.fake.Task(task.ID)
			edited = e.fake.SetTaskProperty(task.ID, "hs_task_body", p["hs_task_body"]+repNote)
		}
	})
	defer e.fake.OnAPIRequest(nil)
	if err := e.client.AppendToTask(ctx, portal, task.ID, "Buyer replied: send the MSA"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if !edited {
		t.Fatal("the rep's edit was not made (no call after the read)")
	}
	mu.Unlock()
	props, assoc, _ := e.fake.Task(task.ID)
	if !strings.HasSuffix(props["hs_task_body"], repNote) {
		t.Errorf("the rep's edit was overwritten:\n%s", props["hs_task_body"])
	}
	notes := e.fake.NotesOn("contacts", assoc["contacts"][0])
	if len(notes) != 1 || !strings.Contains(notes[0].Properties["hs_note_body"], "Buyer replied: send the MSA") {
		t.Fatalf("follow-up notes on the contact: %+v", notes)
	}
}

// A task with no contact, company or deal (the buyer is not in the portal)
// has nowhere to log a note: the update goes into its body.
func TestAppendToATaskWithoutRecordsUsesTheBody(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	spec := sampleSpec()
	spec.HandoffID, spec.Bundle.HandoffID = "ho_no_records", "ho_no_records"
	spec.Contact, spec.CompanyID, spec.DealID = handoff.ContactRef{Email: "stranger@nowhere.example"}, "", ""
	task, err := e.client.CreateTask(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	_, assoc, _ := e.fake.Task(task.ID)
	if len(assoc["contacts"])+len(assoc["companies"])+len(assoc["deals"]) != 0 {
		t.Fatalf("task associations %v, want none", assoc)
	}
	if err := e.client.AppendToTask(ctx, portal, task.ID, "Buyer replied: send the MSA"); err != nil {
		t.Fatal(err)
	}
	props, _, _ := e.fake.Task(task.ID)
	if b := props["hs_task_body"]; !strings.Contains(b, "<h3>Update ") || !strings.Contains(b, "Buyer replied: send the MSA") {
		t.Fatalf("body:\n%s", b)
	}
}

// A task for an archived owner is refused with INVALID_OWNER_ID, reported
// as handoff.ErrOwnerUnavailable (the caller tries another owner).
func TestCreateTaskArchivedOwnerIsUnavailable(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	spec := sampleSpec()
	spec.HandoffID, spec.Bundle.HandoffID = "ho_archived_owner", "ho_archived_owner"
	spec.Owner = handoff.Owner{ID: hubspottest.OwnerArchived}
	_, err := e.client.CreateTask(ctx, spec)
	var pe *handoff.PermanentError
	if !errors.Is(err, handoff.ErrOwnerUnavailable) || !errors.As(err, &pe) || pe.Status != 400 {
		t.Fatalf("create for an archived owner: %v", err)
	}
	spec.Owner = handoff.Owner{ID: hubspottest.OwnerManager1}
	if _, err := e.client.CreateTask(ctx, spec); err != nil {
		t.Fatalf("create for an active owner: %v", err)
	}
}
