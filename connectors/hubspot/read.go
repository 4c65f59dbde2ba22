package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/crmhttp"
)

// Paths. The numbered v3 paths work until Sept 2027 (docs/crm/hubspot.md); the CRM path
// version lives here only.
const (
	crmObjects      = "/crm/v3/objects/"
	crmPipelines    = "/crm/v3/pipelines/deals"
	crmOwners       = "/crm/v3/owners"
	conversations   = "/conversations/v3/conversations/threads/"
	maxBatch        = 100 // docs/crm/hubspot.md
	threadPageLimit = 50
)

// Properties read for each object. Unknown names are ignored by HubSpot (docs/crm/hubspot.md).
var (
	contactProps = []string{"email", "firstname", "lastname", "jobtitle", "lifecyclestage", "hubspot_owner_id", "company"}
	companyProps = []string{"name", "domain", "industry", "numberofemployees", "annualrevenue", "hs_is_target_account", "hubspot_owner_id"}
	dealProps    = []string{"dealname", "dealstage", "pipeline", "amount", "closedate", "hubspot_owner_id"}
	// dealCalcProps are HubSpot's calculated stage properties, requested
	// with dealProps. They are not in the doc (UNCONFIRMED); when a response
	// lacks them the stage facts come from the pipelines API instead, at
	// the cost of one call per portal per cache TTL.
	dealCalcProps = []string{"hs_deal_stage_probability", "hs_is_closed", "hs_is_closed_won"}
)

// primaryCompany is the association type of a contact's primary company;
// the same id also comes back as contact_to_company_unlabeled (docs/crm/hubspot.md).
const primaryCompany = "contact_to_company"

// Object is HubSpot's SimplePublicObject (with associations when asked).
type Object struct {
	ID           string                     `json:"id"`
	Properties   map[string]string          `json:"properties"`
	CreatedAt    time.Time                  `json:"createdAt"`
	UpdatedAt    time.Time                  `json:"updatedAt"`
	Archived     bool                       `json:"archived"`
	Associations map[string]AssociationList `json:"associations,omitempty"`
}

// AssociationList is one associations.<type> entry of an object read.
type AssociationList struct {
	Results []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"results"`
}

// ids returns the associated ids, deduplicated (an id can appear once per
// association type), primary type first when primary is set.
func (l AssociationList) ids(primary string) []string {
	var out []string
	if primary != "" {
		for _, r := range l.Results {
			if r.Type == primary && !slices.Contains(out, r.ID) {
				out = append(out, r.ID)
			}
		}
	}
	for _, r := range l.Results {
		if !slices.Contains(out, r.ID) {
			out = append(out, r.ID)
		}
	}
	return out
}

type batchReadRequest struct {
	Inputs                []idInput `json:"inputs"`
	Properties            []string  `json:"properties"`
	PropertiesWithHistory []string  `json:"propertiesWithHistory"`
}

type idInput struct {
	ID string `json:"id"`
}

type batchReadResponse struct {
	Status    string   `json:"status"`
	Results   []Object `json:"results"`
	NumErrors int      `json:"numErrors"`
}

func (c *Client) getObject(ctx context.Context, tenant, objType, id string, q url.Values) (*Object, error) {
	var o Object
	if err := c.do(ctx, tenant, request{method: "GET", path: crmObjects + objType + "/" + url.PathEscape(id), query: q}, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

func (c *Client) batchRead(ctx context.Context, tenant, objType string, ids, props []string) ([]Object, error) {
	if len(ids) > maxBatch {
		ids = ids[:maxBatch]
	}
	body := batchReadRequest{Properties: props, PropertiesWithHistory: []string{}}
	for _, id := range ids {
		body.Inputs = append(body.Inputs, idInput{ID: id})
	}
	var out batchReadResponse
	err := c.do(ctx, tenant, request{method: "POST", path: crmObjects + objType + "/batch/read", query: url.Values{"archived": {"false"}}, body: body}, &out)
	if err != nil {
		return nil, err
	}
	return out.Results, nil
}

// Profile reads the contact, its primary company and its deals.
//
// Calls, cold (nothing cached): 1 contact read (with associations) + 1
// company read + 1 deals batch read = 3 for a contact with one company and
// two deals. Stage probability and closed/won come from the deals' own
// calculated properties; the pipelines call (stage labels) is made only
// when those are missing and the portal's pipelines are not cached, and
// then costs one extra call per portal per HUBSPOT_PIPELINE_CACHE_TTL.
func (c *Client) Profile(ctx context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error) {
	return crmhttp.CountedProfile(ctx, func(ctx context.Context) (*handoff.Profile, error) { return c.profile(ctx, tenant, ref) })
}

func (c *Client) profile(ctx context.Context, tenant string, ref handoff.ContactRef) (*handoff.Profile, error) {
	q := url.Values{
		"properties":   {strings.Join(contactProps, ",")},
		"associations": {"companies,deals"},
		"archived":     {"false"},
	}
	id := ref.ID
	if id == "" {
		if ref.Email == "" {
			return nil, fmt.Errorf("read hubspot contact: empty reference: %w", handoff.ErrNotFound)
		}
		id = ref.Email
		q.Set("idProperty", "email")
	}
	contact, err := c.getObject(ctx, tenant, "contacts", id, q)
	if err != nil {
		return nil, fmt.Errorf("read hubspot contact %s: %w", redactEmail(id), err)
	}
	p := &handoff.Profile{
		Contact: handoff.ContactRef{CRM: crm, Tenant: tenant, ID: contact.ID, Type: "contact", Email: contact.Properties["email"]},
		Facts:   contactFacts(contact),
	}
	companyIDs := contact.Associations["companies"].ids(primaryCompany)
	dealIDs := contact.Associations["deals"].ids("")

	var (
		wg               sync.WaitGroup
		company          *Object
		deals            []Object
		companyErr, dErr error
	)
	if len(companyIDs) > 0 {
		wg.Go(func() {
			company, companyErr = c.getObject(ctx, tenant, "companies", companyIDs[0], url.Values{
				"properties": {strings.Join(append(slices.Clone(companyProps), c.cfg.TierProperty), ",")},
				"archived":   {"false"},
			})
		})
	}
	if len(dealIDs) > 0 {
		wg.Go(func() {
			deals, dErr = c.batchRead(ctx, tenant, "deals", dealIDs, append(slices.Clone(dealProps), dealCalcProps...))
		})
	}
	wg.Wait()
	if companyErr != nil && !errors.Is(companyErr, handoff.ErrNotFound) { // a deleted company is no company
		return nil, fmt.Errorf("read hubspot company %s: %w", companyIDs[0], companyErr)
	}
	if dErr != nil {
		return nil, fmt.Errorf("read hubspot deals of contact %s: %w", contact.ID, dErr)
	}
	if company != nil {
		p.Account = c.accountFacts(company)
	}
	if len(deals) > 0 {
		stages, cached := c.pipelines.get(tenant)
		if !cached && needsPipelines(deals) {
			if stages, err = c.loadPipelines(ctx, tenant); err != nil {
				return nil, fmt.Errorf("read hubspot deal pipelines: %w", err)
			}
		}
		for i := range deals {
			p.Deals = append(p.Deals, dealFacts(&deals[i], stages))
		}
		p.Deal = primaryDeal(p.Deals)
	}
	return p, nil
}

func needsPipelines(deals []Object) bool {
	for _, d := range deals {
		for _, k := range dealCalcProps {
			if d.Properties[k] == "" {
				return true
			}
		}
	}
	return false
}

// redactEmail keeps emails out of error text (PII): "a***@acme.example".
func redactEmail(s string) string {
	at := strings.IndexByte(s, '@')
	if at <= 0 {
		return s
	}
	return s[:1] + "***" + s[at:]
}

func contactFacts(o *Object) handoff.ContactFacts {
	pr := o.Properties
	name := strings.TrimSpace(pr["firstname"] + " " + pr["lastname"])
	return handoff.ContactFacts{
		ID: o.ID, Email: pr["email"], Name: name, Title: pr["jobtitle"],
		Seniority: handoff.SeniorityOf(pr["jobtitle"]), Lifecycle: lifecycle(pr["lifecyclestage"]),
		OwnerID: pr["hubspot_owner_id"], Known: true,
	}
}

func lifecycle(s string) string {
	switch s {
	case "marketingqualifiedlead":
		return "mql"
	case "salesqualifiedlead":
		return "sql"
	}
	return s
}

func (c *Client) accountFacts(o *Object) handoff.AccountFacts {
	pr := o.Properties
	emp, _ := strconv.ParseFloat(pr["numberofemployees"], 64)
	rev, _ := strconv.ParseFloat(pr["annualrevenue"], 64)
	return handoff.AccountFacts{
		ID: o.ID, Name: pr["name"], Domain: pr["domain"], Tier: handoff.NormalizeTier(pr[c.cfg.TierProperty]),
		Industry: IndustryLabel(pr["industry"]), Employees: int64(emp), Revenue: rev,
		IsTarget: pr["hs_is_target_account"] == "true", OwnerID: pr["hubspot_owner_id"], Known: true,
	}
}

// IndustryLabel turns HubSpot's industry enum value (e.g. BANKING,
// COMPUTER_SOFTWARE) into its label form ("Banking", "Computer Software"),
// which is what ladders test. Values that are not enum-shaped pass through.
func IndustryLabel(v string) string {
	if v == "" || strings.ToUpper(v) != v {
		return v
	}
	words := strings.Split(strings.ToLower(v), "_")
	for i, w := range words {
		if w != "" && w != "and" && w != "or" && w != "of" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func dealFacts(o *Object, stages map[string]stageInfo) handoff.DealFacts {
	pr := o.Properties
	amount, _ := strconv.ParseFloat(pr["amount"], 64)
	d := handoff.DealFacts{
		ID: o.ID, Name: pr["dealname"], Stage: pr["dealstage"], Amount: amount,
		CloseDate: dateOnly(pr["closedate"]), OwnerID: pr["hubspot_owner_id"], Known: true,
	}
	if st, ok := stages[pr["pipeline"]+"/"+pr["dealstage"]]; ok {
		d.StageLabel, d.Probability = st.label, st.probability
		d.IsOpen = !st.closed
		d.IsWon = st.closed && st.probability >= 1
		return d
	}
	d.Probability, _ = strconv.ParseFloat(pr["hs_deal_stage_probability"], 64)
	d.IsOpen = pr["hs_is_closed"] != "true"
	d.IsWon = pr["hs_is_closed_won"] == "true"
	return d
}

func dateOnly(s string) string {
	if s == "" {
		return ""
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC().Format(time.DateOnly)
	}
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}

// primaryDeal picks the open deal with the highest probability (latest
// close date on ties); without open deals, the latest closed one.
func primaryDeal(ds []handoff.DealFacts) handoff.DealFacts {
	best := -1
	for i, d := range ds {
		if best < 0 {
			best = i
			continue
		}
		b := ds[best]
		switch {
		case d.IsOpen != b.IsOpen:
			if d.IsOpen {
				best = i
			}
		case d.IsOpen && d.Probability != b.Probability:
			if d.Probability > b.Probability {
				best = i
			}
		case d.CloseDate > b.CloseDate:
			best = i
		}
	}
	if best < 0 {
		return handoff.DealFacts{}
	}
	return ds[best]
}

// Pipelines.

type stageInfo struct {
	label       string
	probability float64
	closed      bool
}

type pipelinesResponse struct {
	Results []struct {
		ID       string `json:"id"`
		Label    string `json:"label"`
		Archived bool   `json:"archived"`
		Stages   []struct {
			ID       string `json:"id"`
			Label    string `json:"label"`
			Archived bool   `json:"archived"`
			Metadata struct {
				IsClosed    string `json:"isClosed"`
				Probability string `json:"probability"`
			} `json:"metadata"`
		} `json:"stages"`
	} `json:"results"`
}

type pipelineCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.Mutex
	m   map[string]pipelineEntry
}

type pipelineEntry struct {
	stages map[string]stageInfo // "pipelineId/stageId"
	at     time.Time
}

func newPipelineCache(ttl time.Duration, now func() time.Time) *pipelineCache {
	return &pipelineCache{ttl: ttl, now: now, m: map[string]pipelineEntry{}}
}

func (pc *pipelineCache) get(tenant string) (map[string]stageInfo, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.m[tenant]
	if !ok || pc.now().Sub(e.at) > pc.ttl {
		return nil, false
	}
	return e.stages, true
}

func (pc *pipelineCache) put(tenant string, s map[string]stageInfo) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.m[tenant] = pipelineEntry{stages: s, at: pc.now()}
}

func (c *Client) loadPipelines(ctx context.Context, tenant string) (map[string]stageInfo, error) {
	var pr pipelinesResponse
	if err := c.do(ctx, tenant, request{method: "GET", path: crmPipelines}, &pr); err != nil {
		return nil, err
	}
	m := map[string]stageInfo{}
	for _, p := range pr.Results {
		for _, s := range p.Stages {
			prob, _ := strconv.ParseFloat(s.Metadata.Probability, 64) // strings per docs/crm/hubspot.md
			m[p.ID+"/"+s.ID] = stageInfo{label: s.Label, probability: prob, closed: s.Metadata.IsClosed == "true"}
		}
	}
	c.pipelines.put(tenant, m)
	return m, nil
}

// WarmPipelines loads (or reloads) the tenant's deal pipelines into the
// in-memory cache, so Profile can fill stage labels without a call.
func (c *Client) WarmPipelines(ctx context.Context, tenant string) error {
	if _, err := c.loadPipelines(ctx, tenant); err != nil {
		return fmt.Errorf("read hubspot deal pipelines: %w", err)
	}
	return nil
}

// ContactByEmail resolves a contact id from an email (GET with idProperty=email).
func (c *Client) ContactByEmail(ctx context.Context, tenant, email string) (handoff.ContactRef, error) {
	o, err := c.getObject(ctx, tenant, "contacts", email, url.Values{"idProperty": {"email"}, "properties": {"email"}})
	if err != nil {
		return handoff.ContactRef{}, fmt.Errorf("find hubspot contact %s: %w", redactEmail(email), err)
	}
	return handoff.ContactRef{CRM: crm, Tenant: tenant, ID: o.ID, Type: "contact", Email: o.Properties["email"]}, nil
}

// Owners.

type ownerJSON struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Type      string `json:"type"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	UserID    int64  `json:"userId"`
	Archived  bool   `json:"archived"`
}

func (o ownerJSON) owner() handoff.Owner {
	return handoff.Owner{ID: o.ID, Email: o.Email, Name: strings.TrimSpace(o.FirstName + " " + o.LastName)}
}

// OwnerByEmail finds an active owner by email (GET /crm/v3/owners?email=).
// The returned ID is the owner id (not the user id) used by hubspot_owner_id.
//
// The email filter is community-documented only (docs/crm/hubspot.md): a server that
// ignores it returns every owner, page by page, so the pages are followed
// (paging.next.after, at most maxOwnerPages) until the email is found.
func (c *Client) OwnerByEmail(ctx context.Context, tenant, email string) (handoff.Owner, error) {
	q := url.Values{"email": {email}, "limit": {"100"}, "archived": {"false"}}
	for range maxOwnerPages {
		var out struct {
			Results []ownerJSON `json:"results"`
			Paging  struct {
				Next struct {
					After string `json:"after"`
				} `json:"next"`
			} `json:"paging"`
		}
		if err := c.do(ctx, tenant, request{method: "GET", path: crmOwners, query: q}, &out); err != nil {
			return handoff.Owner{}, fmt.Errorf("find hubspot owner %s: %w", redactEmail(email), err)
		}
		for _, o := range out.Results {
			if !o.Archived && strings.EqualFold(o.Email, email) {
				return o.owner(), nil
			}
		}
		if out.Paging.Next.After == "" || out.Paging.Next.After == q.Get("after") {
			break
		}
		q.Set("after", out.Paging.Next.After)
	}
	return handoff.Owner{}, fmt.Errorf("find hubspot owner %s: %w", redactEmail(email), handoff.ErrNotFound)
}

// maxOwnerPages bounds OwnerByEmail's paging (100 owners a page).
const maxOwnerPages = 20

// OwnerByID reads one owner by owner id.
func (c *Client) OwnerByID(ctx context.Context, tenant, id string) (handoff.Owner, error) {
	var o ownerJSON
	q := url.Values{"idProperty": {"id"}}
	if err := c.do(ctx, tenant, request{method: "GET", path: crmOwners + "/" + url.PathEscape(id), query: q}, &o); err != nil {
		return handoff.Owner{}, fmt.Errorf("read hubspot owner %s: %w", id, err)
	}
	return o.owner(), nil
}

// OwnerActive reports whether an owner id is routable: an owner that is
// archived (its user deactivated or removed) or unknown is not. It reads
// GET /crm/v3/owners/{id}?idProperty=id&archived=false, which answers 404
// for an archived owner (archived=false returns only active owners; see
// https://developers.hubspot.com/docs/api-reference/crm-crm-owners-v3/guide).
func (c *Client) OwnerActive(ctx context.Context, tenant, id string) (bool, error) {
	var o ownerJSON
	q := url.Values{"idProperty": {"id"}, "archived": {"false"}}
	err := c.do(ctx, tenant, request{method: "GET", path: crmOwners + "/" + url.PathEscape(id), query: q}, &o)
	switch {
	case errors.Is(err, handoff.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("check hubspot owner %s is active: %w", id, err)
	}
	return !o.Archived, nil
}

// Conversations.

type threadMessage struct {
	ID                    string `json:"id"`
	Type                  string `json:"type"`
	ConversationsThreadID string `json:"conversationsThreadId"`
	Text                  string `json:"text"`
	Direction             string `json:"direction"`
	TruncationStatus      string `json:"truncationStatus"`
}

// truncatedLength is the truncationStatus of a message whose text was cut
// for length; its full text is at …/original-content (docs/crm/hubspot.md). The other
// truncated status, TRUNCATED_TO_MOST_RECENT_REPLY, keeps the sender's
// newest reply without the quoted history, which is what a handoff needs.
const truncatedLength = "TRUNCATED"

// ThreadMessages returns the latest messages (type MESSAGE) of a
// conversation thread, oldest first. Comments and system entries are
// skipped. A message truncated for length is completed from its original
// content (one call each); if that read fails, the truncated text is kept.
func (c *Client) ThreadMessages(ctx context.Context, tenant, threadID string) ([]handoff.Message, error) {
	var out struct {
		Results []threadMessage `json:"results"`
	}
	q := url.Values{"limit": {strconv.Itoa(threadPageLimit)}, "sort": {"-createdAt"}}
	if err := c.do(ctx, tenant, request{method: "GET", path: conversations + url.PathEscape(threadID) + "/messages", query: q}, &out); err != nil {
		return nil, fmt.Errorf("read hubspot thread %s messages: %w", threadID, err)
	}
	var msgs []handoff.Message
	for i := len(out.Results) - 1; i >= 0; i-- { // newest first → oldest first
		m := out.Results[i]
		if m.Type != "MESSAGE" {
			continue
		}
		dir := handoff.Inbound
		if m.Direction == "OUTGOING" {
			dir = handoff.Outbound
		}
		tid := m.ConversationsThreadID
		if tid == "" {
			tid = threadID
		}
		text := m.Text
		if m.TruncationStatus == truncatedLength && m.ID != "" {
			full, err := c.originalText(ctx, tenant, threadID, m.ID)
			switch {
			case err != nil:
				c.log.Warn("hubspot: could not read a truncated message's full text; keeping the truncated text", "tenant", tenant, "thread", threadID, "err", err)
			case full != "":
				text = full
			}
		}
		msgs = append(msgs, handoff.Message{ID: m.ID, Text: text, Direction: dir, ThreadID: tid})
	}
	return msgs, nil
}

// originalText reads GET …/threads/{threadId}/messages/{messageId}/original-content.
func (c *Client) originalText(ctx context.Context, tenant, threadID, messageID string) (string, error) {
	var out struct {
		Text string `json:"text"`
	}
	path := conversations + url.PathEscape(threadID) + "/messages/" + url.PathEscape(messageID) + "/original-content"
	if err := c.do(ctx, tenant, request{method: "GET", path: path}, &out); err != nil {
		return "", fmt.Errorf("read message %s original content: %w", messageID, err)
	}
	return out.Text, nil
}

// ThreadContact returns the id of the contact a conversation thread is
// associated with ("" when HubSpot has none yet), from
// GET /conversations/v3/conversations/threads/{threadId} (associatedContactId).
// conversation.newMessage webhooks carry only the thread id.
func (c *Client) ThreadContact(ctx context.Context, tenant, threadID string) (string, error) {
	var out struct {
		AssociatedContactID json.Number `json:"associatedContactId"`
	}
	if err := c.do(ctx, tenant, request{method: "GET", path: conversations + url.PathEscape(threadID)}, &out); err != nil {
		return "", fmt.Errorf("read hubspot thread %s: %w", threadID, err)
	}
	return out.AssociatedContactID.String(), nil
}
