package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/handoff-dev/handoff"
	"github.com/handoff-dev/handoff/connectors/internal/bundletext"
)

// upsertResult is the documented body of a 201/200 sObject upsert.
type upsertResult struct {
	ID      string     `json:"id"`
	Success bool       `json:"success"`
	Errors  []APIError `json:"errors"`
	Created bool       `json:"created"`
}

type taskRec struct {
	ID                string `json:"Id"`
	Subject           string `json:"Subject"`
	Status            string `json:"Status"`
	IsClosed          bool   `json:"IsClosed"`
	OwnerID           string `json:"OwnerId"`
	Priority          string `json:"Priority"`
	ActivityDate      string `json:"ActivityDate"`
	ReminderDateTime  string `json:"ReminderDateTime"`
	CompletedDateTime string `json:"CompletedDateTime"`
	CallDisposition   string `json:"CallDisposition"`
	Description       string `json:"Description"`
}

func (c *Client) taskFields() string {
	return "Id, Subject, Status, IsClosed, OwnerId, Priority, ActivityDate, ReminderDateTime, CompletedDateTime, CallDisposition, " + c.cfg.HandoffIDField
}

// TaskByHandoffIDQuery finds the task carrying a handoff id.
func (c *Client) TaskByHandoffIDQuery(handoffID string) string {
	return "SELECT " + c.taskFields() + " FROM Task WHERE " + c.cfg.HandoffIDField + " = " + Quote(handoffID) + " LIMIT 1"
}

// CreateTask creates the handoff's task, idempotently: an upsert on the
// handoff id External ID field (PATCH /sobjects/Task/<field>/<id>), so a
// retry updates the same task instead of creating a second one.
func (c *Client) CreateTask(ctx context.Context, spec handoff.TaskSpec) (handoff.Task, error) {
	if spec.Tenant == "" || spec.HandoffID == "" {
		return handoff.Task{}, &handoff.PermanentError{CRM: crm, Code: "INVALID_SPEC", Detail: "create task: tenant and handoff id are required"}
	}
	if spec.Owner.ID == "" && spec.Owner.Email != "" {
		o, err := c.OwnerByEmail(ctx, spec.Tenant, spec.Owner.Email)
		if err != nil {
			return handoff.Task{}, fmt.Errorf("salesforce create task %s: resolve owner: %w", spec.HandoffID, err)
		}
		spec.Owner = o
	}
	fields := RenderTask(spec)
	var res upsertResult
	path := "/sobjects/Task/" + c.cfg.HandoffIDField + "/" + url.PathEscape(spec.HandoffID)
	status, err := c.do(ctx, spec.Tenant, http.MethodPatch, path, nil, fields, &res)
	for range 2 {
		// Status and Priority values vary by org: when the org refuses
		// ours, leave the field to the org's default.
		if !dropRefusedPicklist(err, &fields) {
			break
		}
		c.log.WarnContext(ctx, "salesforce: Task picklist value refused by the org; using its default", "tenant", spec.Tenant)
		res = upsertResult{}
		status, err = c.do(ctx, spec.Tenant, http.MethodPatch, path, nil, fields, &res)
	}
	var pe *handoff.PermanentError
	if errors.As(err, &pe) && pe.Status == http.StatusMultipleChoices {
		// Several tasks already carry this handoff id (created before the
		// field was unique): use one of them rather than failing forever.
		c.log.WarnContext(ctx, "salesforce: several tasks carry one handoff id", "tenant", spec.Tenant, "handoff_id", spec.HandoffID)
		return c.FindTask(ctx, spec.Tenant, spec.HandoffID)
	}
	if errors.Is(err, handoff.ErrNotFound) {
		// An upsert only 404s when the field is not an External ID of Task
		// ("Provided external ID field does not exist or is not
		// accessible"); whether Activity custom fields can be one is left
		// open by the notes, so fall back to find-then-create.
		c.log.WarnContext(ctx, "salesforce: the handoff id field is not an External ID on Task; finding, then creating",
			"tenant", spec.Tenant, "field", c.cfg.HandoffIDField)
		return c.findOrCreateTask(ctx, spec, fields)
	}
	if err != nil {
		return handoff.Task{}, fmt.Errorf("salesforce create task %s (tenant %s): %w", spec.HandoffID, spec.Tenant, ownerUnavailable(err))
	}
	if res.ID == "" || status == http.StatusNoContent {
		// Older API versions answer an update with 204 and no body.
		return c.FindTask(ctx, spec.Tenant, spec.HandoffID)
	}
	return c.createdTask(ctx, spec, fields, status, res)
}

// ownerUnavailable marks Salesforce's INACTIVE_OWNER_OR_USER (the task's
// owner is a deactivated user) as handoff.ErrOwnerUnavailable, so the
// caller picks another owner; the PermanentError stays findable.
// The code is one of the API's StatusCode values
// (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_concepts_core_data_objects.htm).
func ownerUnavailable(err error) error {
	var pe *handoff.PermanentError
	if errors.As(err, &pe) && pe.Code == "INACTIVE_OWNER_OR_USER" {
		return fmt.Errorf("%w: %w", handoff.ErrOwnerUnavailable, err)
	}
	return err
}

// dropRefusedPicklist clears the Status or Priority of fields when err is
// Salesforce refusing that field's value as not in its restricted
// picklist, and reports whether it cleared one.
func dropRefusedPicklist(err error, fields *TaskFields) bool {
	var pe *handoff.PermanentError
	if !errors.As(err, &pe) || pe.Code != "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" {
		return false
	}
	switch {
	case fields.Status != "" && strings.Contains(pe.Detail, "Status"):
		fields.Status = ""
	case fields.Priority != "" && strings.Contains(pe.Detail, "Priority"):
		fields.Priority = ""
	default:
		return false
	}
	return true
}

// findOrCreateTask is CreateTask without an External ID: the task carrying
// the handoff id if there is one, else a new Task (POST /sobjects/Task)
// with the id in the field. Callers serialize per handoff (the pipeline's
// lock), which keeps the query and the insert from racing.
func (c *Client) findOrCreateTask(ctx context.Context, spec handoff.TaskSpec, fields TaskFields) (handoff.Task, error) {
	t, err := c.FindTask(ctx, spec.Tenant, spec.HandoffID)
	if err == nil || !errors.Is(err, handoff.ErrNotFound) {
		return t, err
	}
	body := map[string]any{}
	b, err := json.Marshal(fields)
	if err != nil {
		return handoff.Task{}, fmt.Errorf("encode task: %w", err)
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return handoff.Task{}, fmt.Errorf("encode task: %w", err)
	}
	body[c.cfg.HandoffIDField] = spec.HandoffID
	var res upsertResult
	status, err := c.do(ctx, spec.Tenant, http.MethodPost, "/sobjects/Task", nil, body, &res)
	if err != nil {
		return handoff.Task{}, fmt.Errorf("salesforce create task %s (tenant %s): %w", spec.HandoffID, spec.Tenant, ownerUnavailable(err))
	}
	if res.ID == "" && res.Success {
		return c.FindTask(ctx, spec.Tenant, spec.HandoffID)
	}
	res.Created = true
	return c.createdTask(ctx, spec, fields, status, res)
}

// createdTask is the Task just written, from the create/upsert answer.
func (c *Client) createdTask(ctx context.Context, spec handoff.TaskSpec, fields TaskFields, status int, res upsertResult) (handoff.Task, error) {
	if !res.Success && len(res.Errors) > 0 {
		return handoff.Task{}, &handoff.PermanentError{CRM: crm, Status: status, Code: res.Errors[0].ErrorCode, Detail: "create task: " + res.Errors[0].Message}
	}
	t := handoff.Task{
		ID: res.ID, HandoffID: spec.HandoffID, OwnerID: fields.OwnerID, State: handoff.TaskNotStarted,
		Priority: fromSFPriority(fields.Priority), Subject: fields.Subject, URL: c.recordURL(ctx, spec.Tenant, res.ID),
	}
	t.Due = taskDue(fields.ActivityDate, fields.ReminderDateTime)
	c.log.InfoContext(ctx, "salesforce task upserted", "tenant", spec.Tenant, "task", res.ID, "created", res.Created)
	return t, nil
}

func (c *Client) recordURL(ctx context.Context, tenant, id string) string {
	t, err := c.tokens.Get(ctx, crm, ID18(tenant))
	if err != nil || t.InstanceURL == "" {
		return ""
	}
	return strings.TrimRight(t.InstanceURL, "/") + "/" + id
}

// FindTask returns the task created for handoffID (wraps handoff.ErrNotFound).
func (c *Client) FindTask(ctx context.Context, tenant, handoffID string) (handoff.Task, error) {
	var res queryResult[json.RawMessage]
	if err := c.query(ctx, tenant, c.TaskByHandoffIDQuery(handoffID), &res); err != nil {
		return handoff.Task{}, fmt.Errorf("salesforce find task for handoff %s (tenant %s): %w", handoffID, tenant, err)
	}
	if len(res.Records) == 0 {
		return handoff.Task{}, fmt.Errorf("salesforce find task for handoff %s (tenant %s): %w", handoffID, tenant, handoff.ErrNotFound)
	}
	return c.toTask(ctx, tenant, res.Records[0])
}

// GetTask reads a task by id.
func (c *Client) GetTask(ctx context.Context, tenant, taskID string) (handoff.Task, error) {
	if !isID(taskID) {
		return handoff.Task{}, fmt.Errorf("salesforce get task %q: not a record id: %w", taskID, handoff.ErrNotFound)
	}
	var raw json.RawMessage
	q := url.Values{"fields": {strings.ReplaceAll(c.taskFields(), " ", "")}}
	if _, err := c.do(ctx, tenant, http.MethodGet, "/sobjects/Task/"+taskID, q, nil, &raw); err != nil {
		return handoff.Task{}, fmt.Errorf("salesforce get task %s (tenant %s): %w", taskID, tenant, err)
	}
	return c.toTask(ctx, tenant, raw)
}

func (c *Client) toTask(ctx context.Context, tenant string, raw json.RawMessage) (handoff.Task, error) {
	var r taskRec
	if err := json.Unmarshal(raw, &r); err != nil {
		return handoff.Task{}, &handoff.TransientError{CRM: crm, Err: fmt.Errorf("decode task: %w", err)}
	}
	t := handoff.Task{
		ID: r.ID, HandoffID: fieldString(raw, c.cfg.HandoffIDField), OwnerID: r.OwnerID,
		State: taskState(r.Status, r.IsClosed), Priority: fromSFPriority(r.Priority), Subject: r.Subject,
		Disposition: r.CallDisposition, URL: c.recordURL(ctx, tenant, r.ID),
	}
	t.Due = taskDue(r.ActivityDate, r.ReminderDateTime)
	if r.CompletedDateTime != "" {
		t.CompletedAt = parseDateTime(r.CompletedDateTime)
	}
	return t, nil
}

// parseDateTime reads Salesforce's dateTime JSON format
// (2026-11-23T10:00:00.000+0000), tolerating RFC 3339.
func parseDateTime(s string) time.Time {
	for _, layout := range []string{"2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func taskState(status string, closed bool) handoff.TaskState {
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "not started", "open":
		return handoff.TaskNotStarted
	case "in progress":
		return handoff.TaskInProgress
	case "completed":
		return handoff.TaskCompleted
	case "waiting on someone else", "waiting":
		return handoff.TaskWaiting
	case "deferred":
		return handoff.TaskDeferred
	}
	if closed {
		return handoff.TaskCompleted
	}
	return handoff.TaskUnknown
}

// updateMarker starts every update appended to a Description.
const updateMarker = "\n\n--- Update "

// AppendUpdate adds note to a task Description as a dated update. When the
// result would pass 32,000 characters, the oldest updates are dropped
// first; the rendered header (everything before the first update) is
// never cut. A note too long for the room left is truncated.
func AppendUpdate(desc string, at time.Time, note string) string {
	entry := updateMarker + at.UTC().Format("2006-01-02 15:04 UTC") + " ---\n" + plain(note)
	header, rest, _ := strings.Cut(desc, updateMarker)
	var updates []string
	if rest != "" {
		for _, u := range strings.Split(rest, updateMarker) {
			updates = append(updates, updateMarker+u)
		}
	}
	room := DescriptionMax - bundletext.Len16(header)
	if room <= 0 {
		return TruncateUTF16(header, DescriptionMax, "")
	}
	entry = TruncateUTF16(entry, room, "…")
	used := bundletext.Len16(entry)
	kept := 0
	for i := len(updates) - 1; i >= 0; i-- { // newest first
		l := bundletext.Len16(updates[i])
		if used+l > room {
			break
		}
		used += l
		kept++
	}
	var b strings.Builder
	b.WriteString(header)
	for _, u := range updates[len(updates)-kept:] {
		b.WriteString(u)
	}
	b.WriteString(entry)
	return b.String()
}

// appendTries bounds how often AppendToTask re-reads a task that changed
// under it before it gives up with a retryable error.
const appendTries = 4

// AppendToTask adds an update to the task's Description without
// overwriting anyone's edit: it reads Description and LastModifiedDate,
// then writes with If-Unmodified-Since set to that LastModifiedDate
// (REST API conditional request headers), which Salesforce refuses with
// 412 Precondition Failed when the record changed since; it then reads
// the new Description and tries again, appendTries times in all.
//
// Both dates are whole seconds, so an edit in the same second as the
// LastModifiedDate read would pass the precondition. The read therefore
// only counts when Salesforce answered it (its Date header) in a later
// second than LastModifiedDate; otherwise the append waits a second and
// reads again. Any later edit then carries a newer LastModifiedDate.
func (c *Client) AppendToTask(ctx context.Context, tenant, taskID, note string) error {
	if !isID(taskID) {
		return fmt.Errorf("salesforce append to task %q: not a record id: %w", taskID, handoff.ErrNotFound)
	}
	q := url.Values{"fields": {"Id,Description,IsClosed,LastModifiedDate"}}
	for try := 1; try <= appendTries; try++ {
		var r struct {
			taskRec
			LastModifiedDate string `json:"LastModifiedDate"`
		}
		_, h, err := c.doHeader(ctx, tenant, http.MethodGet, "/sobjects/Task/"+taskID, q, nil, nil, &r)
		if err != nil {
			return fmt.Errorf("salesforce append to task %s (tenant %s): read: %w", taskID, tenant, err)
		}
		modified, err := time.Parse(sfDateTime, r.LastModifiedDate)
		if err != nil {
			return fmt.Errorf("salesforce append to task %s (tenant %s): read: LastModifiedDate %q: %w", taskID, tenant, r.LastModifiedDate, err)
		}
		modified = modified.Truncate(time.Second)
		if served, err := http.ParseTime(h.Get("Date")); err != nil || !served.After(modified) {
			// Read in the second of the last change (or no Date to tell):
			// a same-second edit would not fail the precondition.
			if err := sleepCtx(ctx, time.Second); err != nil {
				return fmt.Errorf("salesforce append to task %s (tenant %s): %w", taskID, tenant, err)
			}
			continue
		}
		body := map[string]string{"Description": AppendUpdate(r.Description, c.now(), note)}
		hdr := http.Header{"If-Unmodified-Since": {modified.UTC().Format(http.TimeFormat)}}
		st, _, err := c.doHeader(ctx, tenant, http.MethodPatch, "/sobjects/Task/"+taskID, nil, hdr, body, nil)
		if st == http.StatusPreconditionFailed {
			c.log.InfoContext(ctx, "salesforce task changed while appending; reading it again", "tenant", tenant, "task", taskID, "try", try)
			continue
		}
		if err != nil {
			return fmt.Errorf("salesforce append to task %s (tenant %s): write: %w", taskID, tenant, err)
		}
		return nil
	}
	return &handoff.TransientError{CRM: crm, Status: http.StatusPreconditionFailed,
		Err: fmt.Errorf("salesforce append to task %s (tenant %s): the task changed during each of %d tries; the update will be retried", taskID, tenant, appendTries)}
}

// sfDateTime is the layout of Salesforce datetime fields in REST answers.
const sfDateTime = "2006-01-02T15:04:05.000-0700"

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ReassignTask gives the task to owner (resolved by email when it has no
// id) and sets its priority.
func (c *Client) ReassignTask(ctx context.Context, tenant, taskID string, owner handoff.Owner, priority handoff.Priority) error {
	if !isID(taskID) {
		return fmt.Errorf("salesforce reassign task %q: not a record id: %w", taskID, handoff.ErrNotFound)
	}
	if owner.ID == "" {
		if owner.Email == "" {
			return &handoff.PermanentError{CRM: crm, Code: "INVALID_OWNER", Detail: "reassign task " + taskID + ": owner has neither id nor email"}
		}
		o, err := c.OwnerByEmail(ctx, tenant, owner.Email)
		if err != nil {
			return fmt.Errorf("salesforce reassign task %s: %w", taskID, err)
		}
		owner = o
	}
	body := map[string]string{"OwnerId": owner.ID}
	if priority != "" {
		body["Priority"] = SFPriority(priority)
	}
	_, err := c.do(ctx, tenant, http.MethodPatch, "/sobjects/Task/"+taskID, nil, body, nil)
	if f := (TaskFields{Priority: body["Priority"]}); dropRefusedPicklist(err, &f) {
		// The org has other Priority values: reassign, keep its priority.
		delete(body, "Priority")
		_, err = c.do(ctx, tenant, http.MethodPatch, "/sobjects/Task/"+taskID, nil, body, nil)
	}
	if err != nil {
		return fmt.Errorf("salesforce reassign task %s (tenant %s): %w", taskID, tenant, err)
	}
	return nil
}

// taskDue is a task's due time: the reminder's instant when it has one,
// else its ActivityDate (a date, read as midnight UTC).
func taskDue(activityDate, reminder string) time.Time {
	if reminder != "" {
		if t := parseDateTime(reminder); !t.IsZero() {
			return t
		}
	}
	d, _ := time.Parse(time.DateOnly, activityDate)
	return d
}
