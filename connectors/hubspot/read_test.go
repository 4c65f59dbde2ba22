package hubspot_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
)

func TestProfileColdCallCount(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	p, err := e.client.Profile(ctx, portal, handoff.ContactRef{ID: hubspottest.ContactAna})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("HubSpot Profile, contact with 1 company and 2 deals, cold: %d API calls (fake saw %d)", p.Calls, e.fake.APICalls())
	if p.Calls > 3 || p.Calls != e.fake.APICalls() {
		t.Fatalf("cold profile took %d calls (fake counted %d), want ≤ 3", p.Calls, e.fake.APICalls())
	}
	f, a, d := p.Facts, p.Account, p.Deal
	if f.Email != "ana@globex.example" || f.Name != "Ana Alvarez" || f.Title != "Head of Operations" || f.Seniority != "director" || f.OwnerID != hubspottest.OwnerAE1 || !f.Known {
		t.Errorf("contact facts %+v", f)
	}
	if p.Contact.ID != "1001" || p.Contact.Type != "contact" || p.Contact.Tenant != portal {
		t.Errorf("ref %+v", p.Contact)
	}
	if a.ID != "2001" || a.Tier != "tier_1" || a.Industry != "Computer Software" || a.Employees != 5200 || a.Revenue != 250e6 || !a.IsTarget || a.OwnerID != hubspottest.OwnerAE1 {
		t.Errorf("account facts %+v", a)
	}
	if len(p.Deals) != 2 {
		t.Fatalf("deals %+v", p.Deals)
	}
	if d.ID != "3001" || d.Stage != "contractsent" || d.Probability != 0.9 || !d.IsOpen || d.IsWon || d.Amount != 180000 || d.CloseDate != "2026-12-15" {
		t.Errorf("primary deal %+v", d)
	}
	for _, x := range p.Deals {
		if x.ID == "3002" && (x.IsOpen || !x.IsWon || x.Probability != 1) {
			t.Errorf("won deal %+v", x)
		}
	}
	// The contact read asks for associations and the properties it needs.
	r := e.lastRequest("GET", "/crm/v3/objects/contacts/1001")
	if r.Query.Get("associations") != "companies,deals" || !strings.Contains(r.Query.Get("properties"), "jobtitle") {
		t.Errorf("contact query %v", r.Query)
	}
	if got := e.lastRequest("GET", "/crm/v3/objects/companies/2001").Query.Get("properties"); !strings.Contains(got, "hs_ideal_customer_profile") || !strings.Contains(got, "industry") {
		t.Errorf("company properties %q", got)
	}
	br := e.lastRequest("POST", "/crm/v3/objects/deals/batch/read")
	sameShape(t, "deals batch read request", readFixture(t, "deals-batch-read-request.json"), decode(t, br.Body))
	if br.Header.Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", br.Header.Get("Content-Type"))
	}
}

// Without HubSpot's calculated deal properties the stage facts come from
// the pipelines API: one more call cold, none once cached.
func TestProfilePipelinesCache(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	e.fake.OmitCalculatedDealProperties(true)
	p, err := e.client.Profile(ctx, portal, handoff.ContactRef{ID: hubspottest.ContactAna})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("without calculated deal properties: cold %d calls", p.Calls)
	if p.Calls != 4 || p.Deal.StageLabel != "Contract Sent" || p.Deal.Probability != 0.9 || !p.Deal.IsOpen {
		t.Fatalf("cold: calls %d, deal %+v", p.Calls, p.Deal)
	}
	p, err = e.client.Profile(ctx, portal, handoff.ContactRef{Email: "ana@globex.example"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warm (pipelines cached): %d calls", p.Calls)
	if p.Calls != 3 || e.fake.Count("GET", "/crm/v3/pipelines/deals") != 1 || p.Deal.StageLabel != "Contract Sent" {
		t.Fatalf("warm: calls %d, pipeline reads %d", p.Calls, e.fake.Count("GET", "/crm/v3/pipelines/deals"))
	}
}

func TestWarmPipelinesFillsLabels(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	if err := e.client.WarmPipelines(ctx, portal); err != nil {
		t.Fatal(err)
	}
	p, err := e.client.Profile(ctx, portal, handoff.ContactRef{ID: hubspottest.ContactBea})
	if err != nil {
		t.Fatal(err)
	}
	if p.Calls != 3 || p.Deal.StageLabel != "Qualified To Buy" || p.Deal.Probability != 0.4 || p.Account.Industry != "Banking" || p.Account.Tier != "tier_2" {
		t.Fatalf("calls %d, %+v %+v", p.Calls, p.Deal, p.Account)
	}
}

func TestProfileByEmailAndEdgeCases(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	p, err := e.client.Profile(ctx, portal, handoff.ContactRef{Email: "SAM.student@university.example"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Calls != 1 || p.Contact.ID != hubspottest.ContactStudent || p.Account.Known || p.Deal.Known || p.Facts.Seniority != "student" {
		t.Fatalf("student: %+v calls %d", p, p.Calls)
	}
	r := e.lastRequest("GET", "/crm/v3/objects/contacts/SAM.student@university.example")
	if r.Query.Get("idProperty") != "email" {
		t.Fatalf("query %v", r.Query)
	}
	p, err = e.client.Profile(ctx, portal, handoff.ContactRef{ID: hubspottest.ContactChris})
	if err != nil || p.Facts.Seniority != "c_suite" || p.Account.Tier != "tier_1" {
		t.Fatalf("exec: %+v %v", p, err)
	}
	_, err = e.client.Profile(ctx, portal, handoff.ContactRef{Email: "nobody@nowhere.example"})
	if !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("unknown contact: %v", err)
	}
	if strings.Contains(err.Error(), "nobody@") {
		t.Fatalf("email in error text: %v", err)
	}
	ref, err := e.client.ContactByEmail(ctx, portal, "bea@firstharbor.example")
	if err != nil || ref.ID != hubspottest.ContactBea {
		t.Fatalf("by email %+v %v", ref, err)
	}
}

func TestOwners(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	o, err := e.client.OwnerByEmail(ctx, portal, "Counsel@ACME.example")
	if err != nil || o.ID != hubspottest.OwnerCounsel || o.Email != "counsel@acme.example" || o.Name != "Casey Cole" {
		t.Fatalf("owner %+v %v", o, err)
	}
	r := e.lastRequest("GET", "/crm/v3/owners")
	if r.Query.Get("email") != "Counsel@ACME.example" || r.Query.Get("archived") != "false" || r.Query.Get("limit") != "100" {
		t.Fatalf("owners query %v", r.Query)
	}
	for _, email := range []string{"former@acme.example", "ghost@acme.example"} {
		if _, err := e.client.OwnerByEmail(ctx, portal, email); !errors.Is(err, handoff.ErrNotFound) {
			t.Fatalf("%s: %v", email, err)
		}
	}
	o, err = e.client.OwnerByID(ctx, portal, hubspottest.OwnerManager1)
	if err != nil || o.Email != "mgr1@acme.example" {
		t.Fatalf("by id %+v %v", o, err)
	}
	if _, err := e.client.OwnerByID(ctx, portal, "1"); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestOwnerActive(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	for id, want := range map[string]bool{hubspottest.OwnerManager1: true, hubspottest.OwnerArchived: false, "1": false} {
		got, err := e.client.OwnerActive(ctx, portal, id)
		if err != nil || got != want {
			t.Errorf("owner %s active = %v, %v; want %v", id, got, err, want)
		}
	}
	r := e.lastRequest("GET", "/crm/v3/owners/1")
	if r.Query.Get("archived") != "false" || r.Query.Get("idProperty") != "id" {
		t.Fatalf("owner query %v", r.Query)
	}
	// A deactivation after the first look is seen on the next one.
	e.fake.SetOwnerArchived(hubspottest.OwnerManager1, true)
	if ok, err := e.client.OwnerActive(ctx, portal, hubspottest.OwnerManager1); err != nil || ok {
		t.Fatalf("archived manager active = %v, %v", ok, err)
	}
}

func TestThreadMessages(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	msgs, err := e.client.ThreadMessages(ctx, portal, hubspottest.ThreadAna)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("messages %+v (comments must be skipped)", msgs)
	}
	if msgs[0].Direction != handoff.Inbound || !strings.Contains(msgs[0].Text, "pricing") ||
		msgs[1].Direction != handoff.Outbound || msgs[2].Direction != handoff.Inbound || !strings.Contains(msgs[2].Text, "human") ||
		msgs[2].ThreadID != hubspottest.ThreadAna || msgs[2].ID == "" {
		t.Fatalf("messages out of order or wrong: %+v", msgs)
	}
	if _, err := e.client.ThreadMessages(ctx, portal, "404"); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("unknown thread: %v", err)
	}
}

func TestErrorMapping(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	// Each subtest gets its own client: a 429 leaves "Remaining: 0" behind,
	// which makes a client wait for the window (TestRemainingZeroWaitsForTheWindow).
	var cl *hubspot.Client
	call := func() error { _, err := cl.OwnerByID(ctx, portal, hubspottest.OwnerSDR1); return err }

	t.Run("429 with Retry-After", func(t *testing.T) {
		cl = e.newClient(e.cfg)
		e.fake.FailNext(1, http.StatusTooManyRequests, 7*time.Second)
		var re *handoff.RateLimitError
		if err := call(); !errors.As(err, &re) || re.RetryAfter != 7*time.Second || re.Detail != "TEN_SECONDLY_ROLLING" || re.Tenant != portal {
			t.Fatalf("err = %v", err)
		}
		// The 429 said Remaining: 0; the next call waits without asking.
		before := e.fake.APICalls()
		if err := call(); !errors.As(err, &re) || e.fake.APICalls() != before {
			t.Fatalf("after a 429: %v (calls %d → %d)", err, before, e.fake.APICalls())
		}
	})
	t.Run("429 without Retry-After uses the window", func(t *testing.T) {
		cl = e.newClient(e.cfg)
		e.fake.FailNext(1, http.StatusTooManyRequests, 0)
		var re *handoff.RateLimitError
		if err := call(); !errors.As(err, &re) || re.RetryAfter != 10*time.Second {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("5xx is transient", func(t *testing.T) {
		cl = e.newClient(e.cfg)
		for _, st := range []int{500, 502, 503, 504, 524} {
			e.fake.FailNext(1, st, 0)
			var te *handoff.TransientError
			if err := call(); !errors.As(err, &te) || te.Status != st {
				t.Fatalf("%d: err = %v", st, err)
			}
		}
	})
	t.Run("validation is permanent", func(t *testing.T) {
		cl = e.newClient(e.cfg)
		err := cl.ReassignTask(ctx, portal, "1", handoff.Owner{ID: "99"}, handoff.PriorityHigh)
		if !errors.Is(err, handoff.ErrNotFound) {
			t.Fatalf("missing task: %v", err)
		}
		task := createTask(t, e, "ho_validation", "")
		err = cl.ReassignTask(ctx, portal, task.ID, handoff.Owner{ID: "99"}, handoff.PriorityHigh)
		var pe *handoff.PermanentError
		if !errors.As(err, &pe) || pe.Status != 400 || pe.Code != "VALIDATION_ERROR" || !strings.Contains(pe.Detail, "INVALID_OWNER_ID") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("403 missing scopes is permanent, not a dead token", func(t *testing.T) {
		cl = e.newClient(e.cfg)
		e.fake.FailNext(1, http.StatusForbidden, 0)
		var pe *handoff.PermanentError
		if err := call(); !errors.As(err, &pe) || pe.Status != 403 || pe.Code != "MISSING_SCOPES" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("423 locked waits at least 2s", func(t *testing.T) {
		cl = e.newClient(e.cfg)
		e.fake.FailNext(1, 423, 0)
		var re *handoff.RateLimitError
		if err := call(); !errors.As(err, &re) || re.RetryAfter != 2*time.Second {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("search secondly limit", func(t *testing.T) {
		cl = e.newClient(e.cfg)
		sixth := func(c *hubspot.Client) error {
			var err error
			for range 6 { // 5 searches per second per portal (docs/crm/hubspot.md)
				if _, err = c.FindTask(ctx, portal, "ho_none"); !errors.Is(err, handoff.ErrNotFound) {
					break
				}
			}
			return err
		}
		var re *handoff.RateLimitError
		before := e.fake.Count("POST", "/crm/v3/objects/tasks/search")
		if err := sixth(cl); !errors.As(err, &re) || !strings.Contains(re.Detail, "client-side limit 5/1s") {
			t.Fatalf("client-side: err = %v", err)
		}
		if n := e.fake.Count("POST", "/crm/v3/objects/tasks/search") - before; n != 5 {
			t.Fatalf("%d searches reached HubSpot, want 5", n)
		}
		// With our limiter off, HubSpot's own secondly 429 maps to 1 s.
		cfg := e.cfg
		cfg.SearchRateLimit = "off"
		if err := sixth(e.newClient(cfg)); !errors.As(err, &re) || re.RetryAfter != time.Second {
			t.Fatalf("server-side: err = %v", err)
		}
	})
	t.Run("fake enforces 110/10s with headers", func(t *testing.T) {
		cl = e.newClient(e.cfg)
		if err := call(); err != nil {
			t.Fatal(err)
		}
		ri, ok := cl.LastRateLimit(portal)
		if !ok || ri.Max != 110 || ri.Interval != 10*time.Second || ri.Remaining >= 110 || ri.Daily != 0 {
			t.Fatalf("rate info %+v", ri)
		}
		e.fake.SetRateLimit(1, 10*time.Second)
		defer e.fake.SetRateLimit(110, 10*time.Second)
		var re *handoff.RateLimitError
		if err := call(); !errors.As(err, &re) || re.RetryAfter != 10*time.Second {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestClientSideLimiter(t *testing.T) {
	e := newEnv(t, func(c *hubspot.Config) { c.RateLimit = "2/10s" })
	e.install(time.Hour)
	for range 2 {
		if _, err := e.client.OwnerByID(ctx, portal, hubspottest.OwnerSDR1); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.client.OwnerByID(ctx, portal, hubspottest.OwnerSDR1)
	var re *handoff.RateLimitError
	if !errors.As(err, &re) || re.RetryAfter <= 0 || re.RetryAfter > 10*time.Second {
		t.Fatalf("err = %v", err)
	}
	if e.fake.APICalls() != 2 {
		t.Fatalf("the refused call reached HubSpot (%d calls)", e.fake.APICalls())
	}
}

func TestRemainingZeroWaitsForTheWindow(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	e.fake.SetRateLimit(2, 10*time.Second)
	for range 2 {
		if _, err := e.client.OwnerByID(ctx, portal, hubspottest.OwnerSDR1); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.client.OwnerByID(ctx, portal, hubspottest.OwnerSDR1)
	var re *handoff.RateLimitError
	if !errors.As(err, &re) || re.RetryAfter <= 0 || re.RetryAfter > 10*time.Second || !strings.Contains(re.Detail, "Remaining") {
		t.Fatalf("err = %v", err)
	}
	if e.fake.APICalls() != 2 {
		t.Fatalf("a certain 429 was sent (%d calls)", e.fake.APICalls())
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	e := newEnv(t, nil)
	e.install(time.Hour)
	e.fake.SetLatency(2 * time.Second)
	c, cancel := contextWithTimeout(50 * time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.client.OwnerByID(c, portal, hubspottest.OwnerSDR1)
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("err = %v after %s", err, time.Since(start))
	}
}

func TestParseRateAndNormalizers(t *testing.T) {
	for in, want := range map[string]string{"BANKING": "Banking", "COMPUTER_SOFTWARE": "Computer Software", "Insurance": "Insurance"} {
		if got := hubspot.IndustryLabel(in); got != want {
			t.Errorf("IndustryLabel(%q) = %q", in, got)
		}
	}
}

// docs/crm/hubspot.md: a message cut for length (truncationStatus TRUNCATED) has its full
// text at …/messages/{id}/original-content; the truncated text used to be
// handed on as what the buyer asked.
func TestTruncatedMessageIsCompleted(t *testing.T) {
	seed := hubspottest.DefaultSeed()
	msgs := seed.Threads[0].Messages
	msgs[len(msgs)-1].TruncateAt = 20
	fake := hubspottest.New(seed)
	defer fake.Close()
	c, err := hubspot.New(fake.PrivateAppConfig(), hubspot.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ThreadMessages(ctx, portal, hubspottest.ThreadAna)
	if err != nil {
		t.Fatal(err)
	}
	if last := got[len(got)-1]; last.Text != msgs[len(msgs)-1].Text {
		t.Fatalf("last message %q, want the full text", last.Text)
	}
	if n := fake.Count("GET", "/conversations/v3/conversations/threads/"+hubspottest.ThreadAna+"/messages/"); n != 1 {
		t.Fatalf("original-content calls = %d, want 1 (only the truncated message)", n)
	}
}
