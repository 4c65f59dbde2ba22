package marketo_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/marketo"
	"github.com/handoff-dev/handoff/connectors/marketo/marketotest"
)

func taskSpec(handoffID string) handoff.TaskSpec {
	spec := fullSpec()
	spec.HandoffID = handoffID
	spec.Bundle.HandoffID = handoffID
	spec.Tenant = marketotest.Munchkin
	spec.Due = time.Now().UTC().Add(30 * time.Minute).Truncate(time.Second)
	return spec
}

func TestCreateFindGetAppendReassign(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	ctx := t.Context()
	spec := taskSpec("hnd_create_1")

	task, err := c.CreateTask(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if task.HandoffID != spec.HandoffID || task.State != handoff.TaskUnknown || task.OwnerID != "dd1@acme.example" || !strings.HasPrefix(task.ID, "1001:") {
		t.Errorf("task = %+v", task)
	}
	// The campaign ran for the lead with every documented token.
	runs := e.fake.CampaignRuns()
	if len(runs) != 1 || runs[0].CampaignID != marketotest.CampaignID || len(runs[0].LeadIDs) != 1 || runs[0].LeadIDs[0] != 1001 {
		t.Fatalf("campaign runs = %+v", runs)
	}
	for _, name := range []string{marketo.TokenSubject, marketo.TokenBody, marketo.TokenOwnerEmail, marketo.TokenDue, marketo.TokenPriority, marketo.TokenID} {
		if runs[0].Tokens[name] == "" {
			t.Errorf("token %s missing or empty", name)
		}
	}
	crmTasks := e.fake.Tasks()
	if len(crmTasks) != 1 || crmTasks[0].HandoffID != spec.HandoffID || crmTasks[0].OwnerEmail != "dd1@acme.example" || crmTasks[0].Priority != "High" {
		t.Errorf("CRM tasks = %+v", crmTasks)
	}
	if !strings.Contains(crmTasks[0].Body, "WHY IT ESCALATED") {
		t.Error("task body lacks the bundle")
	}
	acts := e.fake.Activities(marketotest.ActivityTypeID)
	if len(acts) != 1 || acts[0].PrimaryAttributeValue != spec.HandoffID || acts[0].Attributes["handoffKind"] != "created" {
		t.Fatalf("activities = %+v", acts)
	}

	found, err := c.FindTask(ctx, marketotest.Munchkin, spec.HandoffID)
	if err != nil {
		t.Fatal(err)
	}
	if found.ID != task.ID || found.OwnerID != task.OwnerID || found.Subject != task.Subject || !found.Due.Equal(spec.Due) || found.Priority != handoff.PriorityHigh {
		t.Errorf("found = %+v, created %+v", found, task)
	}
	// With the hint, the lookup reads only this lead's activities.
	last := e.fake.Requests()[len(e.fake.Requests())-1]
	if last.Path != "/rest/v1/activities.json" || last.Query.Get("leadIds") != "1001" || last.Query.Get("activityTypeIds") != fmt.Sprint(marketotest.ActivityTypeID) || last.Query.Get("nextPageToken") == "" {
		t.Errorf("activities query = %v", last.Query)
	}

	got, err := c.GetTask(ctx, marketotest.Munchkin, task.ID)
	if err != nil || got.ID != task.ID || got.State != handoff.TaskUnknown {
		t.Errorf("GetTask = %+v, %v", got, err)
	}

	if err := c.AppendToTask(ctx, marketotest.Munchkin, task.ID, "Buyer followed up: {{lead.Email}} asks for a call"); err != nil {
		t.Fatal(err)
	}
	if err := c.ReassignTask(ctx, marketotest.Munchkin, task.ID, handoff.Owner{ID: "mgr1@acme.example", Email: "mgr1@acme.example"}, handoff.PriorityUrgent); err != nil {
		t.Fatal(err)
	}
	acts = e.fake.Activities(marketotest.ActivityTypeID)
	if len(acts) != 3 || acts[1].Attributes["handoffKind"] != "update" || acts[2].Attributes["handoffKind"] != "reassign" {
		t.Fatalf("activities after update+reassign = %+v", acts)
	}
	if strings.Contains(acts[1].Attributes["note"], "{{") {
		t.Error("a token-like string reached Marketo unescaped")
	}
	crmTasks = e.fake.Tasks()
	if len(crmTasks) != 2 || crmTasks[1].OwnerEmail != "mgr1@acme.example" || !strings.HasPrefix(crmTasks[1].Subject, "[Reassigned] ") || crmTasks[1].Due != spec.Due.Format(time.RFC3339) {
		t.Errorf("reassign campaign run = %+v", crmTasks)
	}
	got, err = c.GetTask(ctx, marketotest.Munchkin, task.ID)
	if err != nil || got.OwnerID != "mgr1@acme.example" || got.Priority != handoff.PriorityUrgent {
		t.Errorf("after reassign GetTask = %+v, %v", got, err)
	}
}

func TestFindTaskWithoutHintPagesThroughActivities(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	ctx := t.Context()
	spec := taskSpec("hnd_scan_1")
	spec.Contact = handoff.ContactRef{Email: "morgan.lee@firstmeridian.example"} // resolved by email
	task, err := c.CreateTask(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(task.ID, "1003:") {
		t.Fatalf("task id %q: lead not resolved by email", task.ID)
	}
	// 700 newer activities of other types: the handoff sits on page 1 of 3.
	var filler []marketotest.Activity
	for i := range 700 {
		filler = append(filler, marketotest.Activity{LeadID: 1001, ActivityDate: time.Now().Add(time.Duration(i) * time.Millisecond), ActivityTypeID: 1, PrimaryAttributeValue: "/blog"})
	}
	e.fake.AddActivities(filler...)
	// Another process, with no hint in Redis (e.g. it was lost).
	keys, err := e.rdb.Keys(ctx, "handoff:marketo:*:task:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("hint keys = %v, %v", keys, err)
	}
	e.rdb.Del(ctx, keys...)
	before := e.fake.Calls()
	found, err := c.FindTask(ctx, marketotest.Munchkin, spec.HandoffID)
	if err != nil {
		t.Fatal(err)
	}
	if found.ID != task.ID {
		t.Errorf("found %q, want %q", found.ID, task.ID)
	}
	pages := e.fake.Calls() - before - 1
	t.Logf("FindTask without a hint read %d activity pages", pages)
	if pages < 3 {
		t.Errorf("read %d pages, want >= 3 (it must follow nextPageToken while moreResult)", pages)
	}
	if _, err := c.FindTask(ctx, marketotest.Munchkin, "hnd_never"); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("unknown handoff: %v, want ErrNotFound", err)
	}
}

func TestFindTaskPageCapIsNotNotFound(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(c *marketo.Config) { c.FindMaxPages = 1 })
	var filler []marketotest.Activity
	for i := range 400 {
		filler = append(filler, marketotest.Activity{LeadID: 1001, ActivityDate: time.Now().Add(-time.Hour + time.Duration(i)*time.Millisecond), ActivityTypeID: 1, PrimaryAttributeValue: "/blog"})
	}
	e.fake.AddActivities(filler...)
	_, err := c.FindTask(t.Context(), marketotest.Munchkin, "hnd_somewhere")
	if errors.Is(err, handoff.ErrNotFound) || !isTransient(err) {
		t.Errorf("err = %v, want TransientError (an incomplete search must not read as not found)", err)
	}
}

func TestCreateTaskActivityOnlyTarget(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, func(c *marketo.Config) { c.TaskTarget = "activity" })
	if _, err := c.CreateTask(t.Context(), taskSpec("hnd_act_only")); err != nil {
		t.Fatal(err)
	}
	if len(e.fake.CampaignRuns()) != 0 {
		t.Error("activity-only target requested a campaign")
	}
	if len(e.fake.Activities(marketotest.ActivityTypeID)) != 1 {
		t.Error("no handoff activity")
	}
}

func TestCreateTaskErrors(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	spec := taskSpec("hnd_err")
	spec.Contact = handoff.ContactRef{ID: "99999"}
	if _, err := c.CreateTask(t.Context(), spec); !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("unknown lead: %v, want ErrNotFound (1004)", err)
	}
	spec = taskSpec("")
	if _, err := c.CreateTask(t.Context(), spec); !isPermanent(err) {
		t.Errorf("no handoff id: %v, want PermanentError", err)
	}
	spec = taskSpec("hnd_x")
	spec.Tenant = "other"
	if _, err := c.CreateTask(t.Context(), spec); !errors.Is(err, handoff.ErrNotInstalled) {
		t.Errorf("other tenant: %v", err)
	}
	// A record-level skip (wrong activity type) is a PermanentError.
	c2 := e.client(t, func(c *marketo.Config) { c.ActivityTypeID = 424242; c.TaskTarget = "activity" })
	_, err := c2.CreateTask(t.Context(), taskSpec("hnd_badtype"))
	var pe *handoff.PermanentError
	if errors.As(err, &pe) {
		if pe.Code != "1013" {
			t.Errorf("code = %s", pe.Code)
		}
	} else if !errors.Is(err, handoff.ErrNotFound) {
		t.Errorf("bad activity type: %v", err)
	}
	for _, id := range []string{"", "abc", "1001:x", "x:1:y"} {
		if _, err := c.GetTask(t.Context(), marketotest.Munchkin, id); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("GetTask(%q) = %v, want ErrNotFound", id, err)
		}
	}
	if err := c.ReassignTask(t.Context(), marketotest.Munchkin, "1001:1:hnd", handoff.Owner{ID: "005XYZ"}, handoff.PriorityHigh); !isPermanent(err) {
		t.Errorf("owner without email: %v", err)
	}
}

// The request bodies the client sends match the documented shapes.
func TestRequestShapesMatchFixtures(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	if _, err := c.CreateTask(t.Context(), taskSpec("hnd_shape")); err != nil {
		t.Fatal(err)
	}
	var trig, ext, ident *marketotest.Request
	for _, r := range e.fake.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/trigger.json"):
			trig = &r
		case r.Path == "/rest/v1/activities/external.json":
			ext = &r
		case r.Path == "/identity/oauth/token":
			ident = &r
		}
		if !strings.HasPrefix(r.Path, "/identity") && r.Header.Get("Authorization") != "Bearer" {
			t.Errorf("%s: Authorization scheme %q", r.Path, r.Header.Get("Authorization"))
		}
	}
	if trig == nil || ext == nil || ident == nil {
		t.Fatal("missing requests")
	}
	if trig.Method != "POST" || trig.Path != fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", marketotest.CampaignID) || trig.Header.Get("Content-Type") != "application/json" {
		t.Errorf("trigger = %s %s %q", trig.Method, trig.Path, trig.Header.Get("Content-Type"))
	}
	assertSameShape(t, "campaign_trigger_request.json", trig.Body)
	if ext.Method != "POST" || ext.Header.Get("Content-Type") != "application/json" {
		t.Errorf("external = %s %q", ext.Method, ext.Header.Get("Content-Type"))
	}
	assertSameShape(t, "activities_external_request.json", ext.Body)
	// Token names in the order of the fixture.
	var got, want struct {
		Input struct {
			Tokens []marketo.Token `json:"tokens"`
		} `json:"input"`
	}
	_ = json.Unmarshal(trig.Body, &got)
	_ = json.Unmarshal(readFixture(t, "campaign_trigger_request.json"), &want)
	if len(got.Input.Tokens) != len(want.Input.Tokens) {
		t.Fatalf("tokens = %d, want %d", len(got.Input.Tokens), len(want.Input.Tokens))
	}
	for i := range want.Input.Tokens {
		if got.Input.Tokens[i].Name != want.Input.Tokens[i].Name {
			t.Errorf("token %d = %s, want %s", i, got.Input.Tokens[i].Name, want.Input.Tokens[i].Name)
		}
	}
	// Identity: the documented GET with grant_type, client_id and
	// client_secret in the query string, no Basic auth.
	if ident.Method != "GET" || ident.Header.Get("Authorization") != "" || len(ident.Body) != 0 {
		t.Errorf("identity = %s auth %q body %q", ident.Method, ident.Header.Get("Authorization"), ident.Body)
	}
	if q := ident.Query; q.Get("grant_type") != "client_credentials" || q.Get("client_id") != marketotest.ClientID || q.Get("client_secret") == "" {
		t.Errorf("identity query = %v", q)
	}
}

// A handoff is two Marketo writes (the campaign request, then the
// activity). A 606 on any call of the create — the token, the lead
// look-up, the campaign request, the activity, a token refresh between the
// two writes — delays it, and the retries together request the campaign
// exactly once: one run of its flow, one CRM task, with the tokens (due
// included) and activity time of the first attempt.
func TestCreateTask606OnAnyCallRequestsTheCampaignOnce(t *testing.T) {
	trigger := fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", marketotest.CampaignID)
	cases := []struct {
		name   string
		byMail bool
		warm   bool // a token is cached before the failure is armed
		fail   map[string]string
	}{
		{name: "token", fail: map[string]string{"/identity/oauth/token": "606"}},
		{name: "lead look-up", byMail: true, warm: true, fail: map[string]string{"/rest/v1/leads.json": "606"}},
		{name: "campaign request", warm: true, fail: map[string]string{trigger: "606"}},
		{name: "activity", warm: true, fail: map[string]string{"/rest/v1/activities/external.json": "606"}},
		{name: "token refresh between the writes", warm: true,
			fail: map[string]string{"/rest/v1/activities/external.json": "602", "/identity/oauth/token": "606"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.client(t)
			ctx := t.Context()
			spec := taskSpec("hnd_606_" + strings.ReplaceAll(tc.name, " ", "_"))
			if tc.byMail {
				spec.Contact.ID = ""
			}
			if tc.warm {
				if _, err := c.Profile(ctx, marketotest.Munchkin, ref(marketotest.LeadStudent)); err != nil {
					t.Fatal(err)
				}
			}
			for path, code := range tc.fail {
				e.fake.FailOn(path, 1, code)
			}
			var (
				task handoff.Task
				err  error
				errs []error
			)
			for range 4 {
				if task, err = c.CreateTask(ctx, spec); err == nil {
					break
				}
				errs = append(errs, err)
				// The rest of Marketo's 20 s window passes.
				e.rdb.Del(ctx, "handoff:marketo:"+marketotest.Munchkin+":cooldown")
			}
			if err != nil {
				t.Fatalf("CreateTask never succeeded: %v", errs)
			}
			if len(errs) != 1 {
				t.Fatalf("errors before success = %v, want the one injected 606", errs)
			}
			var rl *handoff.RateLimitError
			if !errors.As(errs[0], &rl) {
				t.Errorf("first error = %v, want a RateLimitError", errs[0])
			}
			afterWrite := tc.name == "activity" || tc.name == "token refresh between the writes"
			if got := errors.Is(errs[0], handoff.ErrPartlyWritten); got != afterWrite {
				t.Errorf("ErrPartlyWritten = %v, want %v (%v)", got, afterWrite, errs[0])
			}
			runs := e.fake.CampaignRuns()
			if len(runs) != 1 || len(e.fake.Tasks()) != 1 {
				t.Fatalf("%d campaign runs, %d CRM tasks; want 1 and 1", len(runs), len(e.fake.Tasks()))
			}
			if runs[0].Tokens[marketo.TokenDue] != spec.Due.Format(time.RFC3339) {
				t.Errorf("handoff_due = %q, want %s", runs[0].Tokens[marketo.TokenDue], spec.Due.Format(time.RFC3339))
			}
			acts := e.fake.Activities(marketotest.ActivityTypeID)
			if len(acts) != 1 {
				t.Fatalf("%d handoff activities, want 1", len(acts))
			}
			found, err := c.FindTask(ctx, marketotest.Munchkin, spec.HandoffID)
			if err != nil || found.ID != task.ID {
				t.Errorf("FindTask = %+v, %v; created %s", found, err, task.ID)
			}
		})
	}
}

// An answer lost after the campaign request went out (the connection drops
// with the request sent) may mean the flow ran: the retry does not request
// it again, and the activity says so.
func TestCreateTaskLostCampaignAnswerIsNotRequestedAgain(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	drop := &dropOnce{path: fmt.Sprintf("/rest/v1/campaigns/%d/trigger.json", marketotest.CampaignID)}
	c, err := marketo.New(e.cfg, marketo.Deps{Tokens: e.store, Redis: e.rdb, HTTPClient: &http.Client{Transport: drop}})
	if err != nil {
		t.Fatal(err)
	}
	spec := taskSpec("hnd_lost_answer")
	_, err = c.CreateTask(ctx, spec)
	if !errors.Is(err, handoff.ErrPartlyWritten) {
		t.Fatalf("first attempt: %v, want a partly written error", err)
	}
	if _, err := c.CreateTask(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.CampaignRuns()); n != 1 {
		t.Fatalf("%d campaign runs, want 1", n)
	}
	acts := e.fake.Activities(marketotest.ActivityTypeID)
	if len(acts) != 1 || !strings.Contains(fmt.Sprint(acts[0].Attributes["note"]), "answer to the request was lost") {
		t.Fatalf("activities = %+v", acts)
	}
}

// dropOnce lets the first request to path reach the server, then drops its
// answer.
type dropOnce struct {
	path    string
	dropped bool
}

func (d *dropOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.URL.Path == d.path && !d.dropped {
		d.dropped = true
		resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return resp, err
}

// The reassignment's campaign request is a recorded step too: a 606 on its
// activity, then the SLA check's retry, runs the flow once; raising the
// priority for the same owner runs it not at all (it would be a second task
// for the same person).
func TestReassign606AfterCampaignRequestsItOnce(t *testing.T) {
	e := newEnv(t)
	c := e.client(t)
	ctx := t.Context()
	task, err := c.CreateTask(ctx, taskSpec("hnd_reassign_606"))
	if err != nil {
		t.Fatal(err)
	}
	mgr := handoff.Owner{ID: "mgr1@acme.example", Email: "mgr1@acme.example"}
	e.fake.FailOn("/rest/v1/activities/external.json", 1, "606")
	if err := c.ReassignTask(ctx, marketotest.Munchkin, task.ID, mgr, handoff.PriorityUrgent); err == nil {
		t.Fatal("want the 606")
	}
	e.rdb.Del(ctx, "handoff:marketo:"+marketotest.Munchkin+":cooldown")
	if err := c.ReassignTask(ctx, marketotest.Munchkin, task.ID, mgr, handoff.PriorityUrgent); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.CampaignRuns()); n != 2 {
		t.Fatalf("%d campaign runs after create + reassign, want 2", n)
	}
	got, err := c.GetTask(ctx, marketotest.Munchkin, task.ID)
	if err != nil || got.OwnerID != mgr.Email || got.Priority != handoff.PriorityUrgent {
		t.Fatalf("after reassign GetTask = %+v, %v", got, err)
	}
	// Raise priority, same owner: only the activity.
	if err := c.ReassignTask(ctx, marketotest.Munchkin, task.ID, mgr, handoff.PriorityHigh); err != nil {
		t.Fatal(err)
	}
	if n := len(e.fake.CampaignRuns()); n != 2 {
		t.Fatalf("%d campaign runs after a priority change, want still 2", n)
	}
}
