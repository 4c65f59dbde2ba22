package hubspot

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/bundletext"
)

// Association type ids, HUBSPOT_DEFINED, task → object (docs/crm/hubspot.md). 204 is in
// the official tasks guide; 192 and 216 are community-corroborated.
const (
	AssocTaskToContact = 204
	AssocTaskToCompany = 192
	AssocTaskToDeal    = 216
)

// Association type ids, HUBSPOT_DEFINED, note → object (docs/crm/hubspot.md):
// HubSpot's list of default association types; 202 is also in the notes
// guide's examples.
const (
	AssocNoteToContact = 202
	AssocNoteToCompany = 190
	AssocNoteToDeal    = 214
)

// Task property names (docs/crm/hubspot.md).
const (
	propTimestamp = "hs_timestamp"
	propSubject   = "hs_task_subject"
	propBody      = "hs_task_body"
	propOwner     = "hubspot_owner_id"
	propPriority  = "hs_task_priority"
	propStatus    = "hs_task_status"
	propType      = "hs_task_type"
	// propCompleted is HubSpot's read-only completion date (not in the doc; read if present).
	propCompleted = "hs_task_completion_date"
)

// maxSubject bounds hs_task_subject (HubSpot's limit is not documented).
const maxSubject = 255

// HandoffMarker is the line that carries the handoff id in hs_task_body;
// FindTask searches for it (CONTAINS_TOKEN on the id, then an exact check).
const HandoffMarker = "Handoff ID: "

// TaskInput is the body of POST /crm/v3/objects/tasks.
type TaskInput struct {
	Properties   map[string]string  `json:"properties"`
	Associations []AssociationInput `json:"associations,omitempty"`
}

// AssociationInput associates the new record with another one.
type AssociationInput struct {
	To    AssociationTo     `json:"to"`
	Types []AssociationType `json:"types"`
}

// AssociationTo names the other record.
type AssociationTo struct {
	ID string `json:"id"`
}

// AssociationType is one association type (category + id).
type AssociationType struct {
	AssociationCategory string `json:"associationCategory"`
	AssociationTypeID   int    `json:"associationTypeId"`
}

func assoc(id string, typeID int) AssociationInput {
	return AssociationInput{To: AssociationTo{ID: id}, Types: []AssociationType{{AssociationCategory: "HUBSPOT_DEFINED", AssociationTypeID: typeID}}}
}

// Priority maps a handoff priority to hs_task_priority (LOW, MEDIUM, HIGH;
// HubSpot has no "urgent").
func Priority(p handoff.Priority) string {
	switch p {
	case handoff.PriorityLow:
		return "LOW"
	case handoff.PriorityHigh, handoff.PriorityUrgent:
		return "HIGH"
	}
	return "MEDIUM"
}

func priorityOf(s string) handoff.Priority {
	switch s {
	case "LOW":
		return handoff.PriorityLow
	case "HIGH":
		return handoff.PriorityHigh
	case "MEDIUM":
		return handoff.PriorityMedium
	}
	return ""
}

// State maps hs_task_status to a TaskState.
func State(s string) handoff.TaskState {
	switch s {
	case "NOT_STARTED":
		return handoff.TaskNotStarted
	case "IN_PROGRESS":
		return handoff.TaskInProgress
	case "WAITING":
		return handoff.TaskWaiting
	case "COMPLETED":
		return handoff.TaskCompleted
	case "DEFERRED":
		return handoff.TaskDeferred
	}
	return handoff.TaskUnknown
}

// RenderTask turns a TaskSpec into the task create body: subject, HTML
// body (every value escaped), due date, owner, priority, status, type, and
// associations to the contact (204), company (192) and deal (216). It is
// pure: the same spec always renders the same bytes.
func RenderTask(spec handoff.TaskSpec) TaskInput {
	props := map[string]string{
		propSubject:  subject(spec),
		propBody:     RenderBody(spec.Bundle, spec.HandoffID),
		propStatus:   "NOT_STARTED",
		propPriority: Priority(spec.Priority),
		propType:     "TODO",
	}
	if !spec.Due.IsZero() {
		props[propTimestamp] = spec.Due.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if spec.Owner.ID != "" {
		props[propOwner] = spec.Owner.ID
	}
	in := TaskInput{Properties: props}
	if spec.Contact.ID != "" {
		in.Associations = append(in.Associations, assoc(spec.Contact.ID, AssocTaskToContact))
	}
	if spec.CompanyID != "" {
		in.Associations = append(in.Associations, assoc(spec.CompanyID, AssocTaskToCompany))
	}
	if spec.DealID != "" {
		in.Associations = append(in.Associations, assoc(spec.DealID, AssocTaskToDeal))
	}
	return in
}

func subject(spec handoff.TaskSpec) string {
	s := strings.TrimSpace(spec.Subject)
	if s == "" {
		s = "Handoff: " + strings.TrimSpace(spec.Bundle.Goal)
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxSubject {
		s = string(r[:maxSubject-1]) + "…"
	}
	return s
}

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', 0, 64) + "%" }

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

var sections = bundletext.Style{TimelineLine: timelineLine, Snapshot: snapshot}

// RenderBody renders a bundle as the hs_task_body HTML, sections in the
// contract's order, ending with the handoff-id marker line, exactly as
// RenderTask writes it (the console shows it as the owner saw it). It is
// pure.
func RenderBody(b handoff.Bundle, handoffID string) string {
	return bundletext.HTMLOf(b, handoffID, sections, HandoffMarker)
}

func timelineLine(h handoff.HistoryItem) string {
	return bundletext.TimelineLine(h, " · ", " — ", h.Summary)
}

func snapshot(b handoff.Bundle) []bundletext.Field {
	var out []bundletext.Field
	add := func(label, v string) {
		if v != "" {
			out = append(out, bundletext.Field{Label: label, Value: v})
		}
	}
	c, a, d := b.Contact, b.Account, b.Deal
	contact := c.Name
	if c.Title != "" {
		contact += ", " + c.Title
	}
	if c.Email != "" {
		contact += " <" + c.Email + ">"
	}
	add("Contact", strings.TrimSpace(contact))
	if a.Known || a.Name != "" {
		acct := a.Name
		var bits []string
		if a.Tier != "" {
			bits = append(bits, a.Tier)
		}
		if a.Industry != "" {
			bits = append(bits, a.Industry)
		}
		if a.Employees > 0 {
			bits = append(bits, strconv.FormatInt(a.Employees, 10)+" employees")
		}
		if a.Revenue > 0 {
			bits = append(bits, "revenue "+num(a.Revenue))
		}
		if a.IsTarget {
			bits = append(bits, "target account")
		}
		if len(bits) > 0 {
			acct += " (" + strings.Join(bits, ", ") + ")"
		}
		add("Account", acct)
		add("Account owner", a.OwnerEmail)
	} else {
		add("Account", "none on record")
	}
	if d.Known || d.ID != "" {
		stage := d.StageLabel
		if stage == "" {
			stage = d.Stage
		}
		state := "open"
		switch {
		case d.IsWon:
			state = "won"
		case !d.IsOpen:
			state = "closed"
		}
		deal := d.Name + ": " + stage + " (" + pct(d.Probability) + ", " + state + ")"
		if d.Amount > 0 {
			deal += ", amount " + num(d.Amount)
		}
		if d.CloseDate != "" {
			deal += ", closes " + d.CloseDate
		}
		add("Deal", deal)
	} else {
		add("Deal", "none on record")
	}
	return out
}

// Task reads and writes.

var taskProps = []string{propSubject, propStatus, propPriority, propOwner, propTimestamp, propBody, propCompleted}

func (c *Client) taskProps() []string {
	if c.cfg.HandoffIDProperty == "" {
		return taskProps
	}
	return append(append([]string{}, taskProps...), c.cfg.HandoffIDProperty)
}

// CreateTask creates the task (one call; two when the contact is known
// only by email). It stores spec.HandoffID in the body marker and, when
// HUBSPOT_HANDOFF_ID_PROPERTY is set, in that property.
// ownerUnavailable marks HubSpot refusing the task's hubspot_owner_id
// (a property error INVALID_OWNER_ID: the owner was archived or never
// existed) as handoff.ErrOwnerUnavailable, so the caller picks another
// owner; the PermanentError stays findable.
func ownerUnavailable(err error) error {
	var pe *handoff.PermanentError
	if errors.As(err, &pe) && strings.Contains(pe.Detail, "INVALID_OWNER_ID") && strings.Contains(pe.Detail, "hubspot_owner_id") {
		return fmt.Errorf("%w: %w", handoff.ErrOwnerUnavailable, err)
	}
	return err
}

func (c *Client) CreateTask(ctx context.Context, spec handoff.TaskSpec) (handoff.Task, error) {
	if spec.HandoffID == "" {
		return handoff.Task{}, &handoff.PermanentError{CRM: crm, Code: "missing_handoff_id", Detail: "task spec has no handoff id"}
	}
	if spec.Contact.ID == "" && spec.Contact.Email != "" {
		ref, err := c.ContactByEmail(ctx, spec.Tenant, spec.Contact.Email)
		switch {
		case errors.Is(err, handoff.ErrNotFound):
			// A buyer the portal does not know yet (an agent chat with a
			// new visitor): the task is still created and owned, without a
			// contact association; the bundle names the buyer's email.
			c.log.Info("hubspot task without contact association: the buyer is not a contact in this portal", "tenant", spec.Tenant, "handoff_id", spec.HandoffID)
		case err != nil:
			return handoff.Task{}, fmt.Errorf("create hubspot task for handoff %s: %w", spec.HandoffID, err)
		default:
			spec.Contact.ID = ref.ID
		}
	}
	if spec.Due.IsZero() {
		spec.Due = c.now() // hs_timestamp is required
	}
	in := RenderTask(spec)
	if c.cfg.HandoffIDProperty != "" {
		in.Properties[c.cfg.HandoffIDProperty] = spec.HandoffID
	}
	var out Object
	if err := c.do(ctx, spec.Tenant, request{method: "POST", path: crmObjects + "tasks", body: in}, &out); err != nil {
		return handoff.Task{}, fmt.Errorf("create hubspot task for handoff %s: %w", spec.HandoffID, ownerUnavailable(err))
	}
	if out.Properties == nil {
		out.Properties = in.Properties
	}
	t := c.task(&out)
	t.HandoffID = spec.HandoffID
	return t, nil
}

func (c *Client) task(o *Object) handoff.Task {
	pr := o.Properties
	t := handoff.Task{
		ID: o.ID, OwnerID: pr[propOwner], State: State(pr[propStatus]), Priority: priorityOf(pr[propPriority]),
		Subject: pr[propSubject], Due: parseTime(pr[propTimestamp]), CompletedAt: parseTime(pr[propCompleted]),
		HandoffID: handoffIDFrom(pr[propBody]),
	}
	if c.cfg.HandoffIDProperty != "" && pr[c.cfg.HandoffIDProperty] != "" {
		t.HandoffID = pr[c.cfg.HandoffIDProperty]
	}
	return t
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC()
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	return time.Time{}
}

// handoffIDFrom reads the id back from the body's marker line.
func handoffIDFrom(body string) string {
	marker := html.EscapeString(HandoffMarker)
	i := strings.LastIndex(body, marker)
	if i < 0 {
		return ""
	}
	rest := body[i+len(marker):]
	if j := strings.IndexAny(rest, "<\n "); j >= 0 {
		rest = rest[:j]
	}
	return html.UnescapeString(rest)
}

// GetTask reads a task.
func (c *Client) GetTask(ctx context.Context, tenant, taskID string) (handoff.Task, error) {
	o, err := c.getObject(ctx, tenant, "tasks", taskID, url.Values{"properties": {strings.Join(c.taskProps(), ",")}})
	if err != nil {
		return handoff.Task{}, fmt.Errorf("read hubspot task %s: %w", taskID, err)
	}
	return c.task(o), nil
}

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value,omitempty"`
}

type searchRequest struct {
	FilterGroups []struct {
		Filters []searchFilter `json:"filters"`
	} `json:"filterGroups"`
	Sorts []struct {
		PropertyName string `json:"propertyName"`
		Direction    string `json:"direction"`
	} `json:"sorts,omitempty"`
	Properties []string `json:"properties"`
	Limit      int      `json:"limit"`
	After      string   `json:"after,omitempty"`
}

// FindTask finds the task created for handoffID through the search API:
// EQ on HUBSPOT_HANDOFF_ID_PROPERTY when set, else CONTAINS_TOKEN on the
// body, confirmed by an exact marker match. Search is eventually
// consistent (docs/crm/hubspot.md): a task created seconds ago may not be found yet, so
// callers keep their own handoff → task record and use this as a fallback.
func (c *Client) FindTask(ctx context.Context, tenant, handoffID string) (handoff.Task, error) {
	if handoffID == "" {
		return handoff.Task{}, fmt.Errorf("find hubspot task: empty handoff id: %w", handoff.ErrNotFound)
	}
	var req searchRequest
	f := searchFilter{PropertyName: propBody, Operator: "CONTAINS_TOKEN", Value: handoffID}
	if c.cfg.HandoffIDProperty != "" {
		f = searchFilter{PropertyName: c.cfg.HandoffIDProperty, Operator: "EQ", Value: handoffID}
	}
	req.FilterGroups = append(req.FilterGroups, struct {
		Filters []searchFilter `json:"filters"`
	}{Filters: []searchFilter{f}})
	req.Sorts = append(req.Sorts, struct {
		PropertyName string `json:"propertyName"`
		Direction    string `json:"direction"`
	}{PropertyName: "hs_createdate", Direction: "ASCENDING"})
	req.Properties = c.taskProps()
	req.Limit = 10
	var out struct {
		Total   int      `json:"total"`
		Results []Object `json:"results"`
	}
	if err := c.do(ctx, tenant, request{method: "POST", path: crmObjects + "tasks/search", body: req, search: true}, &out); err != nil {
		return handoff.Task{}, fmt.Errorf("find hubspot task for handoff %s: %w", handoffID, err)
	}
	for i := range out.Results {
		t := c.task(&out.Results[i])
		if t.HandoffID == handoffID {
			return t, nil
		}
	}
	return handoff.Task{}, fmt.Errorf("find hubspot task for handoff %s: %w", handoffID, handoff.ErrNotFound)
}

// AppendToTask logs the update as a note (POST /crm/v3/objects/notes)
// on the records the task is associated with (contact, company, deal), so
// it shows on their timelines next to the task. The task body is not
// written: HubSpot has no conditional update, and reading the body and
// writing it back would overwrite a rep's edit made in between. Only a
// task with none of those associations (a buyer who is not a contact in
// the portal) gets the update in its body, by read and write; callers
// serialize appends to one task (the pipeline holds a Redis lock per
// task), which covers appends but not a rep's edit in that case.
func (c *Client) AppendToTask(ctx context.Context, tenant, taskID, note string) error {
	o, err := c.getObject(ctx, tenant, "tasks", taskID, url.Values{"properties": {propBody + "," + propSubject}, "associations": {"contacts,companies,deals"}})
	if err != nil {
		return fmt.Errorf("append to hubspot task %s: %w", taskID, err)
	}
	at := c.now()
	var links []AssociationInput
	for _, a := range []struct {
		typ    string
		typeID int
	}{{"contacts", AssocNoteToContact}, {"companies", AssocNoteToCompany}, {"deals", AssocNoteToDeal}} {
		for _, id := range o.Associations[a.typ].ids("") {
			links = append(links, assoc(id, a.typeID))
		}
	}
	if len(links) == 0 {
		body := AppendUpdate(o.Properties[propBody], note, at)
		patch := map[string]any{"properties": map[string]string{propBody: body}}
		if err := c.do(ctx, tenant, request{method: "PATCH", path: crmObjects + "tasks/" + url.PathEscape(taskID), body: patch}, nil); err != nil {
			return fmt.Errorf("append to hubspot task %s: %w", taskID, err)
		}
		return nil
	}
	in := TaskInput{Properties: map[string]string{
		propTimestamp: at.UTC().Format("2006-01-02T15:04:05.000Z"),
		propNoteBody:  NoteBody(o.Properties[propSubject], note, at),
	}, Associations: links}
	if err := c.do(ctx, tenant, request{method: "POST", path: crmObjects + "notes", body: in}, nil); err != nil {
		return fmt.Errorf("append to hubspot task %s: log the update as a note: %w", taskID, err)
	}
	return nil
}

// propNoteBody is the note's text (HTML, at most 65,536 characters).
const propNoteBody = "hs_note_body"

// maxNoteText bounds the update text of a note, so that even fully
// escaped (at most 6 bytes a character) it stays well inside hs_note_body's
// 65,536 characters.
const maxNoteText = 10000

// NoteBody renders an update logged as a note: an escaped "Update"
// section naming the task it follows up.
func NoteBody(taskSubject, note string, at time.Time) string {
	if r := []rune(note); len(r) > maxNoteText {
		note = string(r[:maxNoteText-1]) + "…"
	}
	if taskSubject != "" {
		note = "Follow-up on the task \"" + taskSubject + "\":\n" + note
	}
	return bundletext.HTMLSection("Update "+at.UTC().Format("2006-01-02 15:04 UTC"), note)
}

// AppendUpdate returns body with an escaped "Update" section added, placed
// before the handoff-id marker line when there is one.
func AppendUpdate(body, note string, at time.Time) string {
	section := bundletext.HTMLSection("Update "+at.UTC().Format("2006-01-02 15:04 UTC"), note)
	marker := "<p>" + html.EscapeString(HandoffMarker)
	if i := strings.LastIndex(body, marker); i >= 0 {
		return body[:i] + section + body[i:]
	}
	return body + section
}

// ReassignTask moves the task to another owner and sets its priority.
func (c *Client) ReassignTask(ctx context.Context, tenant, taskID string, owner handoff.Owner, priority handoff.Priority) error {
	if owner.ID == "" {
		return &handoff.PermanentError{CRM: crm, Code: "missing_owner", Detail: "reassign needs an owner id"}
	}
	props := map[string]string{propOwner: owner.ID}
	if priority != "" {
		props[propPriority] = Priority(priority)
	}
	if err := c.do(ctx, tenant, request{method: "PATCH", path: crmObjects + "tasks/" + url.PathEscape(taskID), body: map[string]any{"properties": props}}, nil); err != nil {
		return fmt.Errorf("reassign hubspot task %s: %w", taskID, err)
	}
	return nil
}
