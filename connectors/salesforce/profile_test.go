package salesforce_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
)

func TestProfiles(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()

	cases := []struct {
		name     string
		ref      handoff.ContactRef
		maxCalls int
		check    func(t *testing.T, p *handoff.Profile)
	}{
		{"contact with tier-1 account and late-stage deal, by id", handoff.ContactRef{ID: salesforcetest.ContactJane}, 1, func(t *testing.T, p *handoff.Profile) {
			if p.Contact.Type != "contact" || p.Facts.Name != "Jane Doe" || p.Facts.Title != "VP Finance" || p.Facts.OwnerEmail != "ae1@acme.example" {
				t.Errorf("contact %+v", p.Facts)
			}
			a := p.Account
			if a.ID != salesforcetest.AccountGlobex || a.Tier != "tier_1" || a.Industry != "Technology" || a.Employees != 12000 ||
				a.Revenue != 2.5e9 || a.OwnerID != salesforcetest.UserAE1 || a.OwnerEmail != "ae1@acme.example" || a.Domain != "globex.example" || !a.Known {
				t.Errorf("account %+v", a)
			}
			d := p.Deal
			if d.ID != salesforcetest.OppGlobexEnterprise || d.Stage != "Negotiation/Review" || d.Probability != 0.9 || !d.IsOpen ||
				d.Amount != 250000 || d.CloseDate != "2026-12-15" || !d.Known {
				t.Errorf("deal %+v", d)
			}
			if len(p.Deals) != 2 || p.Deals[1].ID != salesforcetest.OppGlobexPilot || !p.Deals[1].IsWon {
				t.Errorf("deals %+v", p.Deals)
			}
		}},
		{"same contact by email, any case", handoff.ContactRef{Email: "Jane.Doe@GLOBEX.example"}, 1, func(t *testing.T, p *handoff.Profile) {
			if p.Contact.ID != salesforcetest.ContactJane || p.Deal.ID != salesforcetest.OppGlobexEnterprise {
				t.Errorf("profile %+v", p)
			}
		}},
		{"exec without contact roles: account deals", handoff.ContactRef{ID: salesforcetest.ContactCEO}, 2, func(t *testing.T, p *handoff.Profile) {
			if p.Facts.Title != "Chief Executive Officer" || p.Facts.Seniority != "c_suite" || p.Deal.ID != salesforcetest.OppGlobexEnterprise {
				t.Errorf("profile %+v / %+v", p.Facts, p.Deal)
			}
		}},
		{"banking account, lowercase tier value", handoff.ContactRef{Email: "maria.lopez@firstmeridian.example"}, 1, func(t *testing.T, p *handoff.Profile) {
			if p.Account.Industry != "Banking" || p.Account.Tier != "tier_2" || p.Deal.Stage != "Qualification" || p.Deal.Probability != 0.2 {
				t.Errorf("profile %+v / %+v", p.Account, p.Deal)
			}
		}},
		{"student without account", handoff.ContactRef{Email: "sam.student@university.example"}, 1, func(t *testing.T, p *handoff.Profile) {
			if p.Account.Known || p.Deal.Known || p.Facts.Title != "Student" || p.Facts.Seniority != "student" {
				t.Errorf("profile %+v", p)
			}
		}},
		{"lead by email falls back after no contact", handoff.ContactRef{Email: "lena@newco.example"}, 2, func(t *testing.T, p *handoff.Profile) {
			if p.Contact.Type != "lead" || p.Contact.ID != salesforcetest.LeadNewCo || p.Account.Name != "NewCo Labs" ||
				p.Account.Industry != "Retail" || p.Account.Known || p.Facts.OwnerID != salesforcetest.UserSDR1 || p.Facts.OwnerEmail != "sdr1@acme.example" {
				t.Errorf("lead profile %+v", p)
			}
		}},
		{"lead by id goes straight to Lead", handoff.ContactRef{ID: salesforcetest.LeadNewCo}, 1, func(t *testing.T, p *handoff.Profile) {
			if p.Contact.Type != "lead" {
				t.Errorf("type %q", p.Contact.Type)
			}
		}},
		{"queue-owned lead has no owner", handoff.ContactRef{ID: salesforcetest.LeadQueued}, 1, func(t *testing.T, p *handoff.Profile) {
			if p.Facts.OwnerID != "" {
				t.Errorf("owner %q: a queue cannot own a task", p.Facts.OwnerID)
			}
		}},
		{"converted lead reads the contact (no roles, so account deals too)", handoff.ContactRef{Email: "peter.old@initech.example"}, 4, func(t *testing.T, p *handoff.Profile) {
			if p.Contact.ID != salesforcetest.ContactPeter || p.Account.Tier != "tier_3" {
				t.Errorf("profile %+v", p)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.fake.APICalls()
			p, err := e.client.Profile(ctx, tenant, tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			made := e.fake.APICalls() - before
			t.Logf("Salesforce profile %q: %d API call(s)", tc.name, p.Calls)
			if p.Calls != made {
				t.Errorf("Profile.Calls = %d, the fake saw %d", p.Calls, made)
			}
			if p.Calls > tc.maxCalls {
				t.Errorf("%d calls, want at most %d", p.Calls, tc.maxCalls)
			}
			tc.check(t, p)
		})
	}

	if _, err := e.client.Profile(ctx, tenant, handoff.ContactRef{Email: "nobody@nowhere.example"}); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("unknown buyer: %v", err)
	}
	if _, err := e.client.Profile(ctx, tenant, handoff.ContactRef{ID: "003/../../x"}); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("bad id: %v", err)
	}
	e.assertNoSecrets()
}

func TestOwnerByEmail(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()
	o, err := e.client.OwnerByEmail(ctx, tenant, "DD1@acme.example")
	if err != nil || o.ID != salesforcetest.UserDD1 || o.Email != "dd1@acme.example" || o.Name != "Dana Desk" {
		t.Fatalf("owner %+v %v", o, err)
	}
	for _, email := range []string{"former@acme.example", "ghost@acme.example", ""} {
		if _, err := e.client.OwnerByEmail(ctx, tenant, email); !errors.Is(err, handoff.ErrNotFound) {
			t.Errorf("%q: %v, want ErrNotFound", email, err)
		}
	}
}

func TestQuote(t *testing.T) {
	cases := map[string]string{
		"plain@x.example":    `'plain@x.example'`,
		"o'brien@x.example":  `'o\'brien@x.example'`,
		`back\slash`:         `'back\\slash'`,
		`say "hi"`:           `'say \"hi\"'`,
		"line\nbreak\r\ttab": `'line\nbreak\r\ttab'`,
		"x' OR Name != '":    `'x\' OR Name != \''`,
		"50%_off":            `'50%_off'`, // wildcards only matter in LIKE, which the client never uses
		"null\x00byte":       `'nullbyte'`,
		"ünïcødé":            `'ünïcødé'`,
	}
	for in, want := range cases {
		if got := salesforce.Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSOQLInjectionIsInert(t *testing.T) {
	e := newEnv(t, nil)
	tenant := e.install()
	ctx := context.Background()
	for _, evil := range []string{
		"x' OR Email != '",
		`x\' OR Email != \'`,
		"jane.doe@globex.example' OR Id != '",
		"') OR (Email != '",
	} {
		e.fake.ResetRequests()
		_, err := e.client.Profile(ctx, tenant, handoff.ContactRef{Email: evil})
		if !errors.Is(err, handoff.ErrNotFound) {
			t.Fatalf("%q: %v, want ErrNotFound (the value must stay one literal)", evil, err)
		}
		// The fake parsed the query (no MALFORMED_QUERY) with the value as one literal.
		for _, r := range e.apiRequests() {
			if r.Status != 200 {
				t.Fatalf("%q: status %d", evil, r.Status)
			}
			q := r.Query.Get("q")
			if !strings.Contains(q, "WHERE Email = "+salesforce.Quote(evil)+" ORDER BY") {
				t.Fatalf("query %s", q)
			}
		}
	}
	// Task lookups quote the handoff id too.
	if _, err := e.client.FindTask(ctx, tenant, "h1' OR Subject != '"); !errors.Is(err, handoff.ErrNotFound) {
		t.Fatalf("find task: %v", err)
	}
	_ = url.Values{}
}

// Org ids come in 15- and 18-character forms (the notes: compare the first
// 15). The token is stored under the 18-character id of the identity URL;
// a tenant given in the 15-character form (SALESFORCE_ORG_IDS, an Outbound
// Message) reaches the same token, and a 15-character SALESFORCE_ORG_ID
// does not make a second one.
func TestOrgIDForms(t *testing.T) {
	if got := salesforce.ID18("00D5e000000AbCd"); got != salesforcetest.OrgID {
		t.Fatalf("ID18 = %s, want %s", got, salesforcetest.OrgID)
	}
	for _, id := range []string{"00Dxx0000000001", "001xx000003DGb2", "005xx000001Sv6A"} {
		if got, want := salesforce.ID18(id), map[string]string{
			"00Dxx0000000001": "00Dxx0000000001EAA", "001xx000003DGb2": "001xx000003DGb2AAG", "005xx000001Sv6A": "005xx000001Sv6AAAS",
		}[id]; got != want {
			t.Errorf("ID18(%s) = %s, want %s", id, got, want)
		}
	}
	if salesforce.ID18(salesforcetest.OrgID) != salesforcetest.OrgID || salesforce.ID18("x") != "x" {
		t.Error("ID18 changed an id that is not 15 characters")
	}

	e := newEnv(t, nil)
	tenant := e.install()
	short := tenant[:15]
	ctx := context.Background()
	p, err := e.client.Profile(ctx, short, handoff.ContactRef{ID: salesforcetest.ContactJane})
	if err != nil || p.Facts.Name != "Jane Doe" {
		t.Fatalf("profile with the 15-character org id: %+v %v", p, err)
	}
	task, err := e.client.CreateTask(ctx, janeSpec(short, "hf_short_org"))
	if err != nil || task.URL == "" {
		t.Fatalf("task with the 15-character org id: %+v %v", task, err)
	}
	if _, ok := e.client.LimitInfo(short); !ok {
		t.Error("no api-usage reading under the 15-character org id")
	}

	e2 := newEnv(t, nil)
	e2.cfg.RefreshToken, e2.cfg.OrgID = e2.fake.IssueRefreshToken(salesforcetest.UserAdmin), salesforcetest.OrgID[:15]
	org, err := e2.newClient().Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if org != salesforcetest.OrgID {
		t.Errorf("Connect returned %s, want the 18-character %s", org, salesforcetest.OrgID)
	}
	if _, err := e2.store.Get(ctx, handoff.SourceSalesforce, salesforcetest.OrgID); err != nil {
		t.Errorf("token not stored under the 18-character org id: %v", err)
	}
}
