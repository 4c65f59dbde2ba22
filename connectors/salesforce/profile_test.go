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
