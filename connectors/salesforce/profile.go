package salesforce

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
)

// queryResult is the documented shape of GET /query.
type queryResult[T any] struct {
	TotalSize      int    `json:"totalSize"`
	Done           bool   `json:"done"`
	NextRecordsURL string `json:"nextRecordsUrl,omitempty"`
	Records        []T    `json:"records"`
}

type userRef struct {
	Email string `json:"Email"`
}

type contactRec struct {
	ID        string                       `json:"Id"`
	Name      string                       `json:"Name"`
	Email     string                       `json:"Email"`
	Title     string                       `json:"Title"`
	OwnerID   string                       `json:"OwnerId"`
	Owner     *userRef                     `json:"Owner"`
	AccountID string                       `json:"AccountId"`
	Account   json.RawMessage              `json:"Account"` // holds the configurable tier field
	Roles     *queryResult[contactRoleRec] `json:"OpportunityContactRoles"`
}

type accountRec struct {
	Name              string   `json:"Name"`
	Website           string   `json:"Website"`
	Industry          string   `json:"Industry"`
	NumberOfEmployees int64    `json:"NumberOfEmployees"`
	AnnualRevenue     float64  `json:"AnnualRevenue"`
	OwnerID           string   `json:"OwnerId"`
	Owner             *userRef `json:"Owner"`
}

type contactRoleRec struct {
	Role          string          `json:"Role"`
	IsPrimary     bool            `json:"IsPrimary"`
	OpportunityID string          `json:"OpportunityId"`
	Opportunity   *opportunityRec `json:"Opportunity"`
}

type opportunityRec struct {
	ID          string  `json:"Id"`
	Name        string  `json:"Name"`
	StageName   string  `json:"StageName"`
	Probability float64 `json:"Probability"`
	IsClosed    bool    `json:"IsClosed"`
	IsWon       bool    `json:"IsWon"`
	Amount      float64 `json:"Amount"`
	CloseDate   string  `json:"CloseDate"`
	OwnerID     string  `json:"OwnerId"`
}

type leadRec struct {
	ID                 string   `json:"Id"`
	Name               string   `json:"Name"`
	Email              string   `json:"Email"`
	Title              string   `json:"Title"`
	Company            string   `json:"Company"`
	Website            string   `json:"Website"`
	Industry           string   `json:"Industry"`
	NumberOfEmployees  int64    `json:"NumberOfEmployees"`
	AnnualRevenue      float64  `json:"AnnualRevenue"`
	OwnerID            string   `json:"OwnerId"`
	Owner              *userRef `json:"Owner"`
	Status             string   `json:"Status"`
	IsConverted        bool     `json:"IsConverted"`
	ConvertedContactID string   `json:"ConvertedContactId"`
}

type userRec struct {
	ID       string `json:"Id"`
	Name     string `json:"Name"`
	Email    string `json:"Email"`
	IsActive bool   `json:"IsActive"`
	TimeZone string `json:"TimeZoneSidKey"`
}

const oppFields = "Id, Name, StageName, Probability, IsClosed, IsWon, Amount, CloseDate, OwnerId"

// ContactQuery is the one SOQL query that reads a contact, its account
// (with the tier field) and its opportunities through the
// OpportunityContactRoles child relationship. where is "Id = '…'" or
// "Email = '…'" built with Quote.
func (c *Client) ContactQuery(where string) string {
	return "SELECT Id, Name, Email, Title, OwnerId, Owner.Email, AccountId, " +
		"Account.Name, Account.Website, Account.Industry, Account.NumberOfEmployees, Account.AnnualRevenue, " +
		"Account." + c.cfg.TierField + ", Account.OwnerId, Account.Owner.Email, " +
		"(SELECT Role, IsPrimary, OpportunityId, Opportunity.Id, Opportunity.Name, Opportunity.StageName, " +
		"Opportunity.Probability, Opportunity.IsClosed, Opportunity.IsWon, Opportunity.Amount, " +
		"Opportunity.CloseDate, Opportunity.OwnerId FROM OpportunityContactRoles) " +
		"FROM Contact WHERE " + where + " ORDER BY LastModifiedDate DESC LIMIT 1"
}

// LeadQuery reads a lead (no account: Company and the firmographics on the lead).
func LeadQuery(where string) string {
	return "SELECT Id, Name, Email, Title, Company, Website, Industry, NumberOfEmployees, AnnualRevenue, " +
		"OwnerId, Owner.Email, Status, IsConverted, ConvertedContactId FROM Lead WHERE " + where +
		" ORDER BY LastModifiedDate DESC LIMIT 1"
}

// AccountOpportunitiesQuery reads an account's deals when the contact has
// no contact roles.
func AccountOpportunitiesQuery(accountID string) string {
	return "SELECT " + oppFields + " FROM Opportunity WHERE AccountId = " + Quote(accountID) +
		" ORDER BY LastModifiedDate DESC LIMIT 20"
}

// UserByEmailQuery finds an active user by email.
func UserByEmailQuery(email string) string {
	return "SELECT Id, Name, Email, IsActive, TimeZoneSidKey FROM User WHERE Email = " + Quote(email) +
		" AND IsActive = true ORDER BY LastModifiedDate DESC LIMIT 1"
}

func (c *Client) query(ctx context.Context, tenant, soql string, out any) error {
	_, err := c.do(ctx, tenant, "GET", "/query", url.Values{"q": {soql}}, nil, out)
	return err
}

// Profile reads the buyer: a Contact (with account and deals in one
// query) or else a Lead. It wraps handoff.ErrNotFound when the org has
// neither.
func (c *Client) Profile(ctx context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error) {
	if ref.IsZero() {
		return nil, fmt.Errorf("salesforce profile: empty contact reference: %w", handoff.ErrNotFound)
	}
	p, err := crmhttp.CountedProfile(ctx, func(ctx context.Context) (*handoff.Profile, error) { return c.profile(ctx, tenant, ref) })
	if err != nil {
		return nil, fmt.Errorf("salesforce profile (tenant %s): %w", tenant, err)
	}
	c.log.DebugContext(ctx, "salesforce profile read", "tenant", tenant, "type", p.Contact.Type, "calls", p.Calls)
	return p, nil
}

func (c *Client) profile(ctx context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error) {
	byID := ref.ID != ""
	if byID && !isID(ref.ID) {
		return nil, fmt.Errorf("%q is not a Salesforce id: %w", ref.ID, handoff.ErrNotFound)
	}
	where := ""
	if byID {
		where = "Id = " + Quote(ref.ID)
	} else {
		where = "Email = " + Quote(ref.Email)
	}
	tryContact, tryLead := true, true
	if byID {
		switch {
		case strings.HasPrefix(ref.ID, prefixLead):
			tryContact = false
		case strings.HasPrefix(ref.ID, prefixContact):
			tryLead = false
		case strings.EqualFold(ref.Type, "lead"):
			tryContact = false
		case strings.EqualFold(ref.Type, "contact"):
			tryLead = false
		}
	}
	if tryContact {
		p, err := c.contactProfile(ctx, tenant, where)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, handoff.ErrNotFound) {
			return nil, err
		}
	}
	if tryLead {
		return c.leadProfile(ctx, tenant, where)
	}
	return nil, fmt.Errorf("no contact %s: %w", ref.ID, handoff.ErrNotFound)
}

func (c *Client) contactProfile(ctx context.Context, tenant, where string) (*handoff.Profile, error) {
	var res queryResult[contactRec]
	if err := c.query(ctx, tenant, c.ContactQuery(where), &res); err != nil {
		return nil, fmt.Errorf("query contact: %w", err)
	}
	if len(res.Records) == 0 {
		return nil, fmt.Errorf("no contact matches: %w", handoff.ErrNotFound)
	}
	r := res.Records[0]
	p := &handoff.Profile{
		Contact: handoff.ContactRef{CRM: crm, Tenant: tenant, ID: r.ID, Type: "contact", Email: r.Email},
		Facts: handoff.ContactFacts{
			ID: r.ID, Email: r.Email, Name: r.Name, Title: r.Title, Seniority: handoff.SeniorityOf(r.Title),
			OwnerID: r.OwnerID, Known: true,
		},
	}
	if r.Owner != nil {
		p.Facts.OwnerEmail = r.Owner.Email
	}
	if r.AccountID != "" && len(r.Account) > 0 && string(r.Account) != "null" {
		var a accountRec
		if err := json.Unmarshal(r.Account, &a); err != nil {
			return nil, fmt.Errorf("decode account: %w", err)
		}
		p.Account = handoff.AccountFacts{
			ID: r.AccountID, Name: a.Name, Domain: domainOf(a.Website), Industry: a.Industry,
			Employees: a.NumberOfEmployees, Revenue: a.AnnualRevenue,
			Tier: handoff.NormalizeTier(fieldString(r.Account, c.cfg.TierField)), OwnerID: a.OwnerID, Known: true,
		}
		if a.Owner != nil {
			p.Account.OwnerEmail = a.Owner.Email
		}
	}
	var deals []dealCandidate
	if r.Roles != nil {
		for _, role := range r.Roles.Records {
			if role.Opportunity == nil {
				continue // no access to the opportunity
			}
			o := *role.Opportunity
			if o.ID == "" {
				o.ID = role.OpportunityID
			}
			deals = append(deals, dealCandidate{opp: o, primary: role.IsPrimary})
		}
	}
	if len(deals) == 0 && p.Account.ID != "" {
		var opps queryResult[opportunityRec]
		if err := c.query(ctx, tenant, AccountOpportunitiesQuery(p.Account.ID), &opps); err != nil {
			return nil, fmt.Errorf("query account opportunities: %w", err)
		}
		for _, o := range opps.Records {
			deals = append(deals, dealCandidate{opp: o})
		}
	}
	p.Deals, p.Deal = pickDeals(deals)
	return p, nil
}

func (c *Client) leadProfile(ctx context.Context, tenant, where string) (*handoff.Profile, error) {
	var res queryResult[leadRec]
	if err := c.query(ctx, tenant, LeadQuery(where), &res); err != nil {
		return nil, fmt.Errorf("query lead: %w", err)
	}
	if len(res.Records) == 0 {
		return nil, fmt.Errorf("no contact or lead matches: %w", handoff.ErrNotFound)
	}
	l := res.Records[0]
	if l.IsConverted && l.ConvertedContactID != "" {
		// The lead became a contact: read that instead.
		p, err := c.contactProfile(ctx, tenant, "Id = "+Quote(l.ConvertedContactID))
		if err == nil || !errors.Is(err, handoff.ErrNotFound) {
			return p, err
		}
	}
	p := &handoff.Profile{
		Contact: handoff.ContactRef{CRM: crm, Tenant: tenant, ID: l.ID, Type: "lead", Email: l.Email},
		Facts: handoff.ContactFacts{
			ID: l.ID, Email: l.Email, Name: l.Name, Title: l.Title, Seniority: handoff.SeniorityOf(l.Title), Lifecycle: "lead", Known: true,
		},
		Account: handoff.AccountFacts{
			Name: l.Company, Domain: domainOf(l.Website), Industry: l.Industry,
			Employees: l.NumberOfEmployees, Revenue: l.AnnualRevenue,
		},
	}
	// A lead may be owned by a queue (00G…); a queue cannot own the task,
	// so the owner is left empty for the router's fallback.
	if strings.HasPrefix(l.OwnerID, prefixUser) {
		p.Facts.OwnerID = l.OwnerID
		if l.Owner != nil {
			p.Facts.OwnerEmail = l.Owner.Email
		}
	}
	return p, nil
}

type dealCandidate struct {
	opp     opportunityRec
	primary bool
}

// pickDeals orders deals open first, then latest stage (probability),
// then the primary contact role, then the latest close date; the first is
// the primary deal.
func pickDeals(cands []dealCandidate) ([]handoff.DealFacts, handoff.DealFacts) {
	seen := map[string]bool{}
	uniq := cands[:0:0]
	for _, d := range cands {
		if seen[d.opp.ID] {
			continue
		}
		seen[d.opp.ID] = true
		uniq = append(uniq, d)
	}
	slices.SortStableFunc(uniq, func(a, b dealCandidate) int {
		if a.opp.IsClosed != b.opp.IsClosed {
			if !a.opp.IsClosed {
				return -1
			}
			return 1
		}
		if c := cmp.Compare(b.opp.Probability, a.opp.Probability); c != 0 {
			return c
		}
		if a.primary != b.primary {
			if a.primary {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.opp.CloseDate, a.opp.CloseDate)
	})
	if len(uniq) == 0 {
		return nil, handoff.DealFacts{}
	}
	out := make([]handoff.DealFacts, len(uniq))
	for i, d := range uniq {
		o := d.opp
		out[i] = handoff.DealFacts{
			ID: o.ID, Name: o.Name, Stage: o.StageName, StageLabel: o.StageName,
			Probability: o.Probability / 100, IsOpen: !o.IsClosed, IsWon: o.IsWon,
			Amount: o.Amount, CloseDate: o.CloseDate, OwnerID: o.OwnerID, Known: true,
		}
	}
	return out, out[0]
}

// fieldString reads one field of a JSON record as a string.
func fieldString(raw json.RawMessage, field string) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	switch v := m[field].(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return ""
}

func domainOf(website string) string {
	w := strings.TrimSpace(strings.ToLower(website))
	if w == "" {
		return ""
	}
	if !strings.Contains(w, "://") {
		w = "https://" + w
	}
	u, err := url.Parse(w)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Hostname(), "www.")
}

// UserActiveQuery reads whether a user id is an active user.
func UserActiveQuery(id string) string {
	return "SELECT Id, IsActive, Email FROM User WHERE Id = " + Quote(id) + " LIMIT 1"
}

// OwnerActive reports whether an owner id can own records: an active User.
// A deactivated user (User.IsActive false) or an id that is no user is
// not. Ids of other kinds (a queue, 00G, may own a Lead) are not users and
// are reported active: the CRM decides on them at write time.
func (c *Client) OwnerActive(ctx context.Context, tenant, id string) (bool, error) {
	if !strings.HasPrefix(id, prefixUser) {
		return true, nil
	}
	var res queryResult[userRec]
	if err := c.query(ctx, tenant, UserActiveQuery(id), &res); err != nil {
		return false, fmt.Errorf("salesforce check user %s is active (tenant %s): %w", id, tenant, err)
	}
	return len(res.Records) > 0 && res.Records[0].IsActive, nil
}

// OwnerByEmail finds the active user with that email (wraps handoff.ErrNotFound).
func (c *Client) OwnerByEmail(ctx context.Context, tenant, email string) (handoff.Owner, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return handoff.Owner{}, fmt.Errorf("salesforce owner by email: empty email: %w", handoff.ErrNotFound)
	}
	var res queryResult[userRec]
	if err := c.query(ctx, tenant, UserByEmailQuery(email), &res); err != nil {
		return handoff.Owner{}, fmt.Errorf("salesforce owner by email (tenant %s): %w", tenant, err)
	}
	if len(res.Records) == 0 {
		return handoff.Owner{}, fmt.Errorf("salesforce owner by email (tenant %s): no active user: %w", tenant, handoff.ErrNotFound)
	}
	u := res.Records[0]
	return handoff.Owner{ID: u.ID, Email: u.Email, Name: u.Name, TimeZone: u.TimeZone}, nil
}
