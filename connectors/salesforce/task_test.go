package salesforce_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
)

func janeSpec(tenant, handoffID string) handoff.TaskSpec {
	spec := sampleSpec()
	spec.Tenant = tenant
	spec.HandoffID = handoffID
	return spec
}

func TestTaskLifecycle(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()

	spec := janeSpec(tenant, "hf_lifecycle_1")
	task, err := e.client.CreateTask(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(task.ID, "00T") || task.HandoffID != spec.HandoffID || task.State != handoff.TaskNotStarted ||
		task.OwnerID != salesforcetest.UserAE1 || task.Priority != handoff.PriorityHigh || task.URL != e.fake.URL+"/"+task.ID {
		t.Fatalf("task %+v", task)
	}
	rec := e.fake.Record("Task", task.ID)
	want := map[string]any{
		"OwnerId": salesforcetest.UserAE1, "WhoId": salesforcetest.ContactJane, "WhatId": salesforcetest.OppGlobexEnterprise,
		"Priority": "High", "Status": "Not Started", "ActivityDate": "2026-11-24", "Handoff_Id__c": "hf_lifecycle_1",
		"Subject": "Pricing question from Globex (tier 1)",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("Task.%s = %v, want %v", k, rec[k], v)
		}
	}
	if d, _ := rec["Description"].(string); !strings.HasPrefix(d, "GOAL: ") || !strings.Contains(d, "Handoff ID: hf_lifecycle_1") {
		t.Errorf("description %q", d)
	}

	// Idempotent: the same handoff id updates the same task.
	again, err := e.client.CreateTask(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != task.ID || len(e.fake.Tasks()) != 1 {
		t.Fatalf("second create made %s (%d tasks)", again.ID, len(e.fake.Tasks()))
	}

	found, err := e.client.FindTask(ctx, tenant, spec.HandoffID)
	if err != nil || found.ID != task.ID || found.HandoffID != spec.HandoffID || found.State != handoff.TaskNotStarted {
		t.Fatalf("find %+v %v", found, err)
	}
	if _, err := e.client.FindTask(ctx, tenant, "hf_unknown"); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("find unknown: %v", err)
	}

	e.fake.SetTaskStatus(task.ID, "In Progress")
	got, err := e.client.GetTask(ctx, tenant, task.ID)
	if err != nil || got.State != handoff.TaskInProgress || got.Due.Format("2006-01-02") != "2026-11-24" {
		t.Fatalf("get %+v %v", got, err)
	}

	if err := e.client.AppendToTask(ctx, tenant, task.ID, "Buyer replied: \"can we do 15%?\""); err != nil {
		t.Fatal(err)
	}
	d := e.fake.Record("Task", task.ID)["Description"].(string)
	if !strings.Contains(d, "--- Update ") || !strings.HasSuffix(d, `Buyer replied: "can we do 15%?"`) || !strings.HasPrefix(d, "GOAL: ") {
		t.Fatalf("appended description tail %q", d[max(0, len(d)-200):])
	}

	if err := e.client.ReassignTask(ctx, tenant, task.ID, handoff.Owner{Email: "mgr1@acme.example"}, handoff.PriorityUrgent); err != nil {
		t.Fatal(err)
	}
	rec = e.fake.Record("Task", task.ID)
	if rec["OwnerId"] != salesforcetest.UserMgr1 || rec["Priority"] != "High" {
		t.Fatalf("reassigned %v %v", rec["OwnerId"], rec["Priority"])
	}

	e.fake.SetTaskStatus(task.ID, "Completed")
	got, err = e.client.GetTask(ctx, tenant, task.ID)
	if err != nil || got.State != handoff.TaskCompleted || got.CompletedAt.IsZero() || got.OwnerID != salesforcetest.UserMgr1 {
		t.Fatalf("completed %+v %v", got, err)
	}
	if _, err := e.client.GetTask(ctx, tenant, "00T5e0000009999AAC"); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("missing task: %v", err)
	}
	e.assertNoSecrets()
}

func TestCreateTaskConcurrentRetriesMakeOneTask(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	spec := janeSpec(tenant, "hf_concurrent")
	var wg sync.WaitGroup
	ids := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task, err := e.client.CreateTask(context.Background(), spec)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- task.ID
		}()
	}
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("two task ids %s and %s", first, id)
		}
	}
	if n := len(e.fake.Tasks()); n != 1 {
		t.Fatalf("%d tasks", n)
	}
}

func TestLeadTaskHasNoWhatIdAndOwnerByEmail(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	spec := janeSpec(tenant, "hf_lead")
	spec.Contact = handoff.ContactRef{ID: salesforcetest.LeadNewCo, Type: "lead"}
	spec.CompanyID = salesforcetest.AccountGlobex
	spec.Owner = handoff.Owner{Email: "sdr1@acme.example"}
	task, err := e.client.CreateTask(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	rec := e.fake.Record("Task", task.ID)
	if rec["WhatId"] != nil || rec["WhoId"] != salesforcetest.LeadNewCo || rec["OwnerId"] != salesforcetest.UserSDR1 {
		t.Fatalf("lead task %v %v %v", rec["WhatId"], rec["WhoId"], rec["OwnerId"])
	}
}

func TestErrorMapping(t *testing.T) {
	e := newEnv(t, func(c *salesforce.Config) { c.LimitRetry = 90 * time.Second })
	tenant := e.install()
	ctx := context.Background()
	owner := func() error { _, err := e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example"); return err }

	e.fake.FailNext(1, 403, 0)
	var rl *handoff.RateLimitError
	if err := owner(); !errors.As(err, &rl) || rl.RetryAfter != 90*time.Second || rl.Tenant != tenant {
		t.Fatalf("REQUEST_LIMIT_EXCEEDED: %v", err)
	}
	e.fake.FailNext(1, 403, 30*time.Second)
	if err := owner(); !errors.As(err, &rl) || rl.RetryAfter != 30*time.Second {
		t.Fatalf("with Retry-After: %v", err)
	}
	var te *handoff.TransientError
	e.fake.FailNext(1, 503, 0)
	if err := owner(); !errors.As(err, &te) || te.Status != 503 {
		t.Fatalf("503: %v", err)
	}
	e.fake.FailNext(1, 500, 0)
	if err := owner(); !errors.As(err, &te) || te.Status != 500 {
		t.Fatalf("500: %v", err)
	}
	// Validation errors are permanent: an inactive owner.
	task, err := e.client.CreateTask(ctx, janeSpec(tenant, "hf_err"))
	if err != nil {
		t.Fatal(err)
	}
	err = e.client.ReassignTask(ctx, tenant, task.ID, handoff.Owner{ID: salesforcetest.UserFormer}, "")
	var pe *handoff.PermanentError
	if !errors.As(err, &pe) || pe.Code != "INACTIVE_OWNER_OR_USER" || pe.Status != 400 || !handoff.IsPermanent(err) {
		t.Fatalf("inactive owner: %v", err)
	}
	if err := owner(); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
}

func TestLimitInfoAndUsageBackoff(t *testing.T) {
	e := newEnv(t, func(c *salesforce.Config) { c.APIUsageBackoff = 0.95 })
	tenant := e.install()
	ctx := context.Background()
	e.fake.SetAPIUsage(100, 10000)
	if _, err := e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example"); err != nil {
		t.Fatal(err)
	}
	li, ok := e.client.LimitInfo(tenant)
	if !ok || li.Used != 101 || li.Max != 10000 {
		t.Fatalf("limit info %+v %v", li, ok)
	}
	e.fake.SetAPIUsage(9600, 10000)
	if _, err := e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example"); err != nil {
		t.Fatal(err) // this call learns 9601/10000
	}
	before := e.fake.APICalls()
	_, err := e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example")
	var rl *handoff.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 || !strings.Contains(rl.Detail, "9601/10000") {
		t.Fatalf("usage backoff: %v", err)
	}
	if e.fake.APICalls() != before {
		t.Fatal("the backoff must not call Salesforce")
	}
	// The daily allocation exhausted on Salesforce's side: 403 REQUEST_LIMIT_EXCEEDED.
	e2 := newEnv(t, func(c *salesforce.Config) { c.APIUsageBackoff = 0 })
	tenant2 := e2.install()
	e2.fake.SetAPIUsage(500, 500)
	if _, err := e2.client.OwnerByEmail(ctx, tenant2, "dd1@acme.example"); !errors.As(err, &rl) || rl.RetryAfter != 15*time.Minute {
		t.Fatalf("exhausted allocation: %v", err)
	}
}

// SALESFORCE_API_USAGE_BACKOFF pauses calls whatever form the header
// takes: api-usage alone, with api-bursts (the current documentation) or
// with per-app-api-usage (older versions), parts joined by ";".
func TestUsageBackoffWithEveryDocumentedHeaderForm(t *testing.T) {
	for _, extra := range []string{"", "; api-bursts=1/750", "; per-app-api-usage=17/250(appName=sample-app)"} {
		t.Run("api-usage"+extra, func(t *testing.T) {
			e := newEnv(t, func(c *salesforce.Config) { c.APIUsageBackoff = 0.99 }, salesforcetest.WithLimitInfoExtra(extra))
			tenant := e.install()
			ctx := context.Background()
			e.fake.SetAPIUsage(99000, 100000)
			if _, err := e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example"); err != nil {
				t.Fatal(err) // learns 99001/100000
			}
			if li, ok := e.client.LimitInfo(tenant); !ok || li.Used != 99001 || li.Max != 100000 {
				t.Fatalf("limit info %+v %v", li, ok)
			}
			before := e.fake.APICalls()
			_, err := e.client.OwnerByEmail(ctx, tenant, "dd1@acme.example")
			var rl *handoff.RateLimitError
			if !errors.As(err, &rl) || !strings.Contains(rl.Detail, "99001/100000") {
				t.Fatalf("usage backoff at 99%%: %v", err)
			}
			if e.fake.APICalls() != before {
				t.Fatal("the backoff must not call Salesforce")
			}
		})
	}
}

func TestParseLimitInfo(t *testing.T) {
	cases := []struct {
		in        string
		used, max int
		ok        bool
	}{
		{"api-usage=18/5000", 18, 5000, true},
		{"api-usage=25/5000, per-app-api-usage=17/250(appName=sample-app)", 25, 5000, true},
		{"per-app-api-usage=17/250(appName=x), api-usage=3/15000", 3, 15000, true},
		{"", 0, 0, false},
		{"api-usage=abc", 0, 0, false},
		// The forms Salesforce documents: parts separated by ";".
		{"api-usage=10018/100000; api-bursts=1/750", 10018, 100000, true},
		{"api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)", 25, 5000, true},
		{"api-usage=25/5000;per-app-api-usage=17/250(appName=a;b,c)", 25, 5000, true},
		{"per-app-api-usage=17/250(appName=x); api-usage=3/15000", 3, 15000, true},
		{" api-usage = 7 / 100 ;", 7, 100, true},
		{"api-usage=3/15000(extra)", 0, 0, false},
	}
	for _, c := range cases {
		u, m, ok := salesforce.ParseLimitInfo(c.in)
		if u != c.used || m != c.max || ok != c.ok {
			t.Errorf("%q: %d/%d %v", c.in, u, m, ok)
		}
	}
}

func TestOwnRateLimitRefusesWithoutCalling(t *testing.T) {
	e := newEnv(t, func(c *salesforce.Config) { c.RateLimit = "2/1m" })
	e.deps.Limiter = newLimiter(t)
	c := e.newClient()
	tenant := e.install()
	ctx := context.Background()
	for range 2 {
		if _, err := c.OwnerByEmail(ctx, tenant, "dd1@acme.example"); err != nil {
			t.Fatal(err)
		}
	}
	before := e.fake.APICalls()
	_, err := c.OwnerByEmail(ctx, tenant, "dd1@acme.example")
	var rl *handoff.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter <= 0 {
		t.Fatalf("third call: %v", err)
	}
	if e.fake.APICalls() != before {
		t.Fatal("a refused call must not reach Salesforce")
	}
}

func TestAppendUpdateKeepsHeaderAndTrimsOldest(t *testing.T) {
	at := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	header := "GOAL: close\n\n" + strings.Repeat("h", 20000)
	d := header
	for i := range 12 {
		d = salesforce.AppendUpdate(d, at.Add(time.Duration(i)*time.Minute), strings.Repeat(string(rune('a'+i)), 1500))
		if n := len(d); n > salesforce.DescriptionMax {
			t.Fatalf("update %d: %d chars", i, n)
		}
		if !strings.HasPrefix(d, header) {
			t.Fatalf("update %d cut the header", i)
		}
	}
	if !strings.HasSuffix(d, strings.Repeat("l", 1500)) {
		t.Fatal("newest update missing")
	}
	if strings.Contains(d, strings.Repeat("a", 1500)) {
		t.Fatal("oldest update kept although the description was full")
	}
	if !strings.Contains(d, strings.Repeat("k", 1500)) {
		t.Fatal("recent updates should be kept")
	}
	// A note longer than the room left is truncated, the header stays.
	full := strings.Repeat("x", salesforce.DescriptionMax-10)
	out := salesforce.AppendUpdate(full, at, strings.Repeat("y", 100))
	if !strings.HasPrefix(out, full) || len([]rune(out)) > salesforce.DescriptionMax {
		t.Fatalf("full description: %d", len([]rune(out)))
	}
}

func TestCreateTaskWithDuplicateHandoffIDsReturnsOne(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()
	tok, _ := e.store.Get(ctx, sf, tenant)
	for range 2 { // two tasks carrying the same handoff id, made outside Handoff
		req, _ := http.NewRequest("POST", e.fake.URL+"/services/data/v62.0/sobjects/Task", strings.NewReader(`{"Subject":"dup","Handoff_Id__c":"hf_dup"}`))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("seed duplicate: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	task, err := e.client.CreateTask(ctx, janeSpec(tenant, "hf_dup"))
	if err != nil {
		t.Fatal(err)
	}
	if task.HandoffID != "hf_dup" || len(e.fake.Tasks()) != 2 {
		t.Fatalf("task %+v, %d tasks", task, len(e.fake.Tasks()))
	}
}

// The notes leave open whether an Activity custom field can be an External
// ID. Where the handoff id field is a plain text field, the upsert answers
// 404 NOT_FOUND; CreateTask then finds the task by SOQL or creates it with
// POST /sobjects/Task, and stays idempotent.
func TestCreateTaskWithoutExternalIDField(t *testing.T) {
	e := newEnv(t, nil, salesforcetest.WithoutExternalID())
	tenant := e.install()
	ctx := context.Background()
	spec := janeSpec(tenant, "hf_no_extid_1")
	task, err := e.client.CreateTask(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	rec := e.fake.Record("Task", task.ID)
	if rec == nil || rec["Handoff_Id__c"] != "hf_no_extid_1" || rec["OwnerId"] != salesforcetest.UserAE1 || task.HandoffID != spec.HandoffID {
		t.Fatalf("task %+v, record %v", task, rec)
	}
	again, err := e.client.CreateTask(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != task.ID || len(e.fake.Tasks()) != 1 {
		t.Fatalf("second create made %s (%d tasks)", again.ID, len(e.fake.Tasks()))
	}
	var posts int
	for _, r := range e.apiRequests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/sobjects/Task") {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("%d POST /sobjects/Task, want 1", posts)
	}
}

// Task Status and Priority values vary by org (the notes: check them with
// describe). An org without "Not Started" / "High" refuses them as
// restricted picklist values; the task is still created, with the org's
// defaults, and a reassignment still changes the owner.
func TestTaskInOrgWithOtherPicklists(t *testing.T) {
	e := newEnv(t, nil, salesforcetest.WithTaskPicklists([]string{"Open", "Working", "Completed"}, []string{"P1", "P2", "P3"}))
	tenant := e.install()
	ctx := context.Background()
	task, err := e.client.CreateTask(ctx, janeSpec(tenant, "hf_picklists_1"))
	if err != nil {
		t.Fatal(err)
	}
	rec := e.fake.Record("Task", task.ID)
	if rec["Status"] != "Open" || rec["Priority"] != "P1" || rec["Handoff_Id__c"] != "hf_picklists_1" || rec["OwnerId"] != salesforcetest.UserAE1 {
		t.Fatalf("record %v", rec)
	}
	if task.State != handoff.TaskNotStarted {
		t.Errorf("state %q", task.State)
	}
	if err := e.client.ReassignTask(ctx, tenant, task.ID, handoff.Owner{ID: salesforcetest.UserAE2}, handoff.PriorityUrgent); err != nil {
		t.Fatal(err)
	}
	if rec := e.fake.Record("Task", task.ID); rec["OwnerId"] != salesforcetest.UserAE2 {
		t.Fatalf("after reassign %v", rec)
	}
	// A refused value of another field is not retried.
	spec := janeSpec(tenant, "hf_picklists_2")
	spec.Owner = handoff.Owner{ID: salesforcetest.UserFormer}
	if _, err := e.client.CreateTask(ctx, spec); err == nil {
		t.Error("an inactive owner was accepted")
	}
}

// A rep who edits the Description between the connector's read and its
// write keeps the edit: the write is conditional (If-Unmodified-Since),
// refused with 412, and the append is redone on the rep's text.
func TestAppendKeepsARepsConcurrentEdit(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()
	task, err := e.client.CreateTask(ctx, janeSpec(tenant, "hf_concurrent_edit"))
	if err != nil {
		t.Fatal(err)
	}
	const repNote = "REP: called Jane, she wants the MSA first."
	var once sync.Once
	edited := false
	e.fake.OnAPIRequest(func(method, path string) {
		if method != http.MethodPatch || !strings.HasSuffix(path, "/sobjects/Task/"+task.ID) {
			return
		}
		once.Do(func() { // the rep saves while the connector is between its read and its write
			d, _ := e.fake.Record("Task", task.ID)["Description"].(string)
			edited = e.fake.EditTask(task.ID, map[string]any{"Description": d + "\n\n" + repNote})
		})
	})
	defer e.fake.OnAPIRequest(nil)
	e.fake.ResetRequests()
	if err := e.client.AppendToTask(ctx, tenant, task.ID, "Buyer replied: send the MSA"); err != nil {
		t.Fatal(err)
	}
	if !edited {
		t.Fatal("the rep's edit was not made (hook never ran)")
	}
	d := e.fake.Record("Task", task.ID)["Description"].(string)
	if !strings.Contains(d, repNote) {
		t.Errorf("the rep's edit was overwritten: %q", d[max(0, len(d)-300):])
	}
	if !strings.HasSuffix(d, "Buyer replied: send the MSA") || strings.Count(d, "--- Update ") != 1 {
		t.Errorf("update missing or doubled: %q", d[max(0, len(d)-300):])
	}
	var patches, refused int
	for _, r := range e.fake.Requests() {
		if r.Method != http.MethodPatch {
			continue
		}
		patches++
		if r.Header.Get("If-Unmodified-Since") == "" {
			t.Errorf("unconditional write: %s", r.Path)
		}
		if r.Status == http.StatusPreconditionFailed {
			refused++
		}
	}
	if patches != 2 || refused != 1 {
		t.Errorf("%d writes, %d refused with 412; want 2 and 1", patches, refused)
	}
}

// A write whose precondition always fails ends in a retryable error, not
// a lost or unconditional write.
func TestAppendGivesUpRetryablyWhenTheTaskKeepsChanging(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()
	task, err := e.client.CreateTask(ctx, janeSpec(tenant, "hf_busy_task"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	e.fake.OnAPIRequest(func(method, path string) {
		if method == http.MethodPatch && strings.HasSuffix(path, "/sobjects/Task/"+task.ID) {
			n++
			time.Sleep(1100 * time.Millisecond) // a new second, so the edit is newer than the read
			e.fake.EditTask(task.ID, map[string]any{"Description": "rep edit " + strings.Repeat("!", n)})
		}
	})
	defer e.fake.OnAPIRequest(nil)
	err = e.client.AppendToTask(ctx, tenant, task.ID, "never lands")
	var te *handoff.TransientError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a TransientError", err)
	}
	if d := e.fake.Record("Task", task.ID)["Description"].(string); strings.Contains(d, "never lands") || d != "rep edit "+strings.Repeat("!", n) {
		t.Errorf("description %q after %d edits", d, n)
	}
}

func TestInactiveOwnerIsUnavailable(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()
	if ok, err := e.client.OwnerActive(ctx, tenant, salesforcetest.UserFormer); err != nil || ok {
		t.Fatalf("former user active = %v, %v", ok, err)
	}
	if ok, err := e.client.OwnerActive(ctx, tenant, "005000000000000AAA"); err != nil || ok {
		t.Fatalf("unknown user active = %v, %v", ok, err)
	}
	spec := janeSpec(tenant, "hf_inactive")
	if ok, err := e.client.OwnerActive(ctx, tenant, spec.Owner.ID); err != nil || !ok {
		t.Fatalf("owner %s active = %v, %v", spec.Owner.ID, ok, err)
	}
	// Deactivated after the look-up: the create says INACTIVE_OWNER_OR_USER.
	e.fake.SetUserActive(spec.Owner.ID, false)
	_, err := e.client.CreateTask(ctx, spec)
	var pe *handoff.PermanentError
	if !errors.Is(err, handoff.ErrOwnerUnavailable) || !errors.As(err, &pe) || pe.Code != "INACTIVE_OWNER_OR_USER" || pe.Status != 400 {
		t.Fatalf("create for an inactive owner: %v", err)
	}
	if ok, err := e.client.OwnerActive(ctx, tenant, spec.Owner.ID); err != nil || ok {
		t.Fatalf("deactivated owner active = %v, %v", ok, err)
	}
	// Reactivated: the create goes through.
	e.fake.SetUserActive(spec.Owner.ID, true)
	if _, err := e.client.CreateTask(ctx, spec); err != nil {
		t.Fatalf("create after reactivation: %v", err)
	}
}
