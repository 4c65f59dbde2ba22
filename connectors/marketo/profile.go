package marketo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
)

// leadFields are the standard lead fields Profile reads (REST names, docs/crm/marketo.md).
// sfdcLeadOwnerId is the synced CRM owner; the Marketo "Lead Owner" fields
// have no REST API name, so an owner email comes from OwnerEmailField.
var leadFields = []string{"id", "email", "firstName", "lastName", "title", "company", "industry",
	"numberOfEmployees", "annualRevenue", "sfdcLeadOwnerId", "updatedAt"}

// coreLeadFields are the fields every instance has (the fallback on 1006).
var coreLeadFields = []string{"id", "email", "firstName", "lastName", "title", "company", "industry",
	"numberOfEmployees", "annualRevenue", "updatedAt"}

// lead is one lead record; every field may be missing (= null).
type lead map[string]any

func (l lead) str(k string) string {
	switch v := l[k].(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func (l lead) num(k string) float64 {
	switch v := l[k].(type) {
	case json.Number:
		f, _ := v.Float64()
		return f
	case float64:
		return v
	case string:
		f, _ := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
		return f
	}
	return 0
}

func decodeRecords(raw json.RawMessage) ([]lead, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var out []lead
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	return out, nil
}

// Profile reads the lead by id (or email), its named account (tier) and,
// when the instance is not CRM-synced, its opportunities. Calls: 1 for the
// lead, +1 for the named account when the tier lives there and the lead
// has a company, +2 for opportunity roles and opportunities when not synced.
func (c *Client) Profile(ctx context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error) {
	return crmhttp.CountedProfile(ctx, func(ctx context.Context) (*handoff.Profile, error) { return c.profile(ctx, tenant, ref) })
}

func (c *Client) profile(ctx context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error) {
	if err := c.checkTenant(tenant); err != nil {
		return nil, err
	}
	p := &handoff.Profile{}
	l, err := c.findLead(ctx, ref, c.profileFields())
	var pe *handoff.PermanentError
	if errors.As(err, &pe) && pe.Code == "1006" {
		// A field this instance lacks (a custom owner/tier field, or an
		// SFDC field on an instance without CRM fields): read the core
		// fields rather than fail the enrichment.
		c.log.WarnContext(ctx, "marketo lead field not found; reading core fields only", "detail", pe.Detail)
		l, err = c.findLead(ctx, ref, coreLeadFields)
	}
	if err != nil {
		return nil, err
	}
	id := l.str("id")
	p.Contact = handoff.ContactRef{CRM: crm, Tenant: c.s.munchkin, ID: id, Type: "lead", Email: l.str("email")}
	name := strings.TrimSpace(l.str("firstName") + " " + l.str("lastName"))
	p.Facts = handoff.ContactFacts{
		ID: id, Email: l.str("email"), Name: name, Title: l.str("title"),
		Seniority: handoff.SeniorityOf(l.str("title")),
		OwnerID:   l.str("sfdcLeadOwnerId"),
		Known:     true,
	}
	if c.cfg.OwnerEmailField != "" {
		p.Facts.OwnerEmail = l.str(c.cfg.OwnerEmailField)
	}
	company := l.str("company")
	if company != "" {
		p.Account = handoff.AccountFacts{
			Name: company, Domain: emailDomain(l.str("email")), Industry: l.str("industry"),
			Employees: int64(l.num("numberOfEmployees")), Revenue: l.num("annualRevenue"),
			OwnerID: p.Facts.OwnerID, OwnerEmail: p.Facts.OwnerEmail, Known: true,
		}
		if c.s.tier.field != "" && !c.s.tier.namedAccount {
			p.Account.Tier = handoff.NormalizeTier(l.str(c.s.tier.field))
		}
		if c.s.tier.namedAccount {
			if err := c.namedAccount(ctx, &p.Account); err != nil {
				if !handoff.IsPermanent(err) {
					return nil, err
				}
				// Named accounts not enabled, or no such tier field: the
				// lead is still worth having; the tier stays unknown.
				c.log.WarnContext(ctx, "marketo named account lookup failed; tier unknown", "err", err)
			}
		}
	}
	if !c.cfg.CRMSynced && id != "" {
		deals, err := c.opportunities(ctx, id)
		if err != nil && !handoff.IsPermanent(err) {
			return nil, err
		}
		if err != nil {
			c.log.WarnContext(ctx, "marketo opportunities not readable; no deal", "err", err)
		}
		p.Deals = deals
		if len(deals) > 0 {
			p.Deal = deals[0]
		}
	}
	return p, nil
}

func (c *Client) profileFields() []string {
	f := append([]string(nil), leadFields...)
	if c.cfg.OwnerEmailField != "" {
		f = append(f, c.cfg.OwnerEmailField)
	}
	if c.s.tier.field != "" && !c.s.tier.namedAccount {
		f = append(f, c.s.tier.field)
	}
	return f
}

// findLead gets a lead by id, falling back to email; ErrNotFound if neither
// matches.
func (c *Client) findLead(ctx context.Context, ref handoff.ContactRef, fields []string) (lead, error) {
	if ref.ID != "" {
		if _, err := strconv.ParseInt(ref.ID, 10, 64); err != nil {
			return nil, fmt.Errorf("read marketo lead %q: lead ids are integers: %w", ref.ID, handoff.ErrNotFound)
		}
		env, err := c.call(ctx, request{op: "read marketo lead " + ref.ID, method: "GET",
			path: "/rest/v1/lead/" + url.PathEscape(ref.ID) + ".json", query: url.Values{"fields": {strings.Join(fields, ",")}}})
		if err != nil {
			return nil, err
		}
		ls, err := decodeRecords(env.Result)
		if err != nil {
			return nil, &handoff.TransientError{CRM: crm, Err: err}
		}
		if len(ls) > 0 {
			return ls[0], nil
		}
		if ref.Email == "" {
			return nil, fmt.Errorf("read marketo lead %s: %w", ref.ID, handoff.ErrNotFound)
		}
	}
	email := strings.TrimSpace(ref.Email)
	if email == "" || strings.Contains(email, ",") {
		return nil, fmt.Errorf("find marketo lead: no usable id or email: %w", handoff.ErrNotFound)
	}
	env, err := c.call(ctx, request{op: "find marketo lead by email", method: "GET", path: "/rest/v1/leads.json",
		query: url.Values{"filterType": {"email"}, "filterValues": {email}, "fields": {strings.Join(fields, ",")}}})
	if err != nil {
		return nil, err
	}
	ls, err := decodeRecords(env.Result)
	if err != nil {
		return nil, &handoff.TransientError{CRM: crm, Err: err}
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("find marketo lead by email: %w", handoff.ErrNotFound)
	}
	// Duplicates share an email: take the most recently updated.
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].str("updatedAt") > ls[j].str("updatedAt") })
	return ls[0], nil
}

// namedAccount looks the company up among Named Accounts (leads cannot be
// linked to named accounts through the API, so the match is by name, or by
// the email domain when the name holds a comma, which filterValues cannot
// carry). A match makes the account a target and gives the tier.
func (c *Client) namedAccount(ctx context.Context, a *handoff.AccountFacts) error {
	filterType, value := "name", a.Name
	if strings.Contains(value, ",") {
		filterType, value = "domainName", a.Domain
	}
	if value == "" {
		return nil
	}
	fields := []string{"marketoGUID", "name", "domainName", "industry", "numberOfEmployees", "annualRevenue", c.s.tier.field}
	env, err := c.call(ctx, request{op: "read marketo named account", method: "GET", path: "/rest/v1/namedaccounts.json",
		query: url.Values{"filterType": {filterType}, "filterValues": {value}, "fields": {strings.Join(fields, ",")}}})
	if err != nil {
		return err
	}
	rs, err := decodeRecords(env.Result)
	if err != nil {
		return &handoff.TransientError{CRM: crm, Err: err}
	}
	if len(rs) == 0 {
		return nil
	}
	na := rs[0]
	a.ID = na.str("marketoGUID")
	a.IsTarget = true
	a.Tier = handoff.NormalizeTier(na.str(c.s.tier.field))
	if a.Domain == "" {
		a.Domain = na.str("domainName")
	}
	if a.Industry == "" {
		a.Industry = na.str("industry")
	}
	if a.Employees == 0 {
		a.Employees = int64(na.num("numberOfEmployees"))
	}
	if a.Revenue == 0 {
		a.Revenue = na.num("annualRevenue")
	}
	return nil
}

// opportunities reads the lead's opportunity roles and then those
// opportunities (only for instances without native CRM sync, where roles
// exist). The primary deal is the open one with the highest probability,
// else the latest close date.
func (c *Client) opportunities(ctx context.Context, leadID string) ([]handoff.DealFacts, error) {
	env, err := c.call(ctx, request{op: "read marketo opportunity roles", method: "GET", path: "/rest/v1/opportunities/roles.json",
		query: url.Values{"filterType": {"leadId"}, "filterValues": {leadID}, "fields": {"externalOpportunityId,leadId,role,isPrimary"}}})
	if err != nil {
		return nil, err
	}
	roles, err := decodeRecords(env.Result)
	if err != nil {
		return nil, &handoff.TransientError{CRM: crm, Err: err}
	}
	var ids []string
	seen := map[string]bool{}
	for _, r := range roles {
		id := r.str("externalOpportunityId")
		if id != "" && !seen[id] && !strings.Contains(id, ",") && len(ids) < 300 {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	env, err = c.call(ctx, request{op: "read marketo opportunities", method: "GET", path: "/rest/v1/opportunities.json",
		query: url.Values{"filterType": {"externalOpportunityId"}, "filterValues": {strings.Join(ids, ",")},
			"fields": {"externalOpportunityId,name,stage,amount,probability,isClosed,isWon,closeDate"}}})
	if err != nil {
		return nil, err
	}
	ops, err := decodeRecords(env.Result)
	if err != nil {
		return nil, &handoff.TransientError{CRM: crm, Err: err}
	}
	deals := make([]handoff.DealFacts, 0, len(ops))
	for _, o := range ops {
		prob := o.num("probability")
		if prob > 1 {
			prob /= 100 // Marketo/SFDC probability is a percentage
		}
		closed := o.str("isClosed") == "true"
		deals = append(deals, handoff.DealFacts{
			ID: o.str("externalOpportunityId"), Name: o.str("name"), Stage: o.str("stage"), StageLabel: o.str("stage"),
			Probability: prob, IsOpen: !closed, IsWon: o.str("isWon") == "true", Amount: o.num("amount"),
			CloseDate: o.str("closeDate"), Known: true,
		})
	}
	sort.SliceStable(deals, func(i, j int) bool {
		if deals[i].IsOpen != deals[j].IsOpen {
			return deals[i].IsOpen
		}
		if deals[i].IsOpen && deals[i].Probability != deals[j].Probability {
			return deals[i].Probability > deals[j].Probability
		}
		return deals[i].CloseDate > deals[j].CloseDate
	})
	return deals, nil
}

// OwnerByEmail: Marketo has no API listing sales owners (its users are
// marketers; sales reps live in the synced CRM). The owner of a Marketo
// handoff is addressed by email: the email goes into the campaign's
// {{my.handoff_owner_email}} token and the flow assigns the CRM task to that
// user. So the Owner's ID is the normalized email; no API call is made.
// An empty or malformed email wraps handoff.ErrNotFound.
func (c *Client) OwnerByEmail(ctx context.Context, tenant, email string) (handoff.Owner, error) {
	if err := c.checkTenant(tenant); err != nil {
		return handoff.Owner{}, err
	}
	a, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || a.Address != strings.TrimSpace(email) {
		return handoff.Owner{}, fmt.Errorf("marketo owner %q: not an email address: %w", email, handoff.ErrNotFound)
	}
	e := strings.ToLower(a.Address)
	return handoff.Owner{ID: e, Email: e}, nil
}

func emailDomain(e string) string {
	_, d, ok := strings.Cut(e, "@")
	if !ok {
		return ""
	}
	return strings.ToLower(d)
}
