package handoff

import "time"

// Owner is a CRM user who can own a task.
type Owner struct {
	ID    string `json:"id"` // CRM owner / user id
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	// TimeZone is the owner's IANA zone when the CRM keeps one
	// (Salesforce User.TimeZoneSidKey); their working hours and due dates
	// are read in it.
	TimeZone string `json:"time_zone,omitempty"`
}

// Bundle is the context a human needs to start warm. Connectors render it
// into the CRM's task body.
type Bundle struct {
	HandoffID     string         `json:"handoff_id"`
	Goal          string         `json:"goal"`
	Summary       string         `json:"summary"`
	Timeline      []HistoryItem  `json:"timeline,omitempty"` // what the buyer did, newest first
	BuyerAsked    string         `json:"buyer_asked,omitempty"`
	AgentReplied  string         `json:"agent_replied,omitempty"`
	Why           Why            `json:"why"`
	TranscriptURL string         `json:"transcript_url,omitempty"`
	Sources       []string       `json:"sources,omitempty"`
	Constraints   []string       `json:"constraints,omitempty"`
	NextSteps     []string       `json:"next_steps,omitempty"`
	Contact       ContactFacts   `json:"contact"`
	Account       AccountFacts   `json:"account"`
	Deal          DealFacts      `json:"deal"`
	Missing       []string       `json:"missing,omitempty"` // required fields that are empty
	Completeness  float64        `json:"completeness"`      // 0..1 against the rung's required fields
	Extra         map[string]any `json:"extra,omitempty"`
}

// Why explains an escalation.
type Why struct {
	Action        Action   `json:"action"`
	Rung          string   `json:"rung"` // rung or exception id
	IsException   bool     `json:"is_exception,omitempty"`
	Reasons       []string `json:"reasons,omitempty"`
	LadderVersion string   `json:"ladder_version"`
	Score         float64  `json:"score"`
	// AlsoNeeds names the second reviewers the owner must bring in, one line
	// each ("security review by team security — <rung description>"), from
	// Decision.AlsoNeeds.
	AlsoNeeds []string `json:"also_needs,omitempty"`
}

// TaskSpec is a CRM-neutral request to create one task.
type TaskSpec struct {
	HandoffID string     `json:"handoff_id"` // idempotency key; connectors store it on the task
	Tenant    string     `json:"tenant"`
	Contact   ContactRef `json:"contact"`
	CompanyID string     `json:"company_id,omitempty"` // HubSpot company / Salesforce Account
	DealID    string     `json:"deal_id,omitempty"`    // HubSpot deal / Salesforce Opportunity
	Owner     Owner      `json:"owner"`
	Subject   string     `json:"subject"`
	Due       time.Time  `json:"due"`
	// DueZone is the IANA zone a CRM that keeps due dates without a time
	// reads Due in: the owner's, else the SLA calendar's (empty: UTC).
	DueZone  string   `json:"due_zone,omitempty"`
	Priority Priority `json:"priority"`
	Bundle   Bundle   `json:"bundle"`
}

// TaskState is the CRM-neutral status of a task.
type TaskState string

// Task states.
const (
	TaskNotStarted TaskState = "not_started"
	TaskInProgress TaskState = "in_progress"
	TaskWaiting    TaskState = "waiting"
	TaskCompleted  TaskState = "completed"
	TaskDeferred   TaskState = "deferred"
	TaskUnknown    TaskState = "unknown"
)

// Task is a task as read back from a CRM.
type Task struct {
	ID          string    `json:"id"`
	HandoffID   string    `json:"handoff_id,omitempty"`
	OwnerID     string    `json:"owner_id"`
	State       TaskState `json:"state"`
	Priority    Priority  `json:"priority,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	Due         time.Time `json:"due,omitempty"`
	CompletedAt time.Time `json:"completed_at,omitempty"`
	// Disposition is the CRM's outcome of the task when it records one
	// (e.g. a Salesforce TaskSubtype/CallDisposition or a HubSpot outcome).
	Disposition string `json:"disposition,omitempty"`
	URL         string `json:"url,omitempty"`
}

// Profile is what a CRM knows about a buyer: the contact, its company and
// its most relevant deal, read in as few API calls as the CRM allows.
// Connectors return it; the enricher caches it and builds a Context from it.
type Profile struct {
	Contact ContactRef   `json:"ref"` // resolved: ID and Type filled in when found
	Facts   ContactFacts `json:"contact"`
	Account AccountFacts `json:"account"`
	Deal    DealFacts    `json:"deal"` // the primary deal (open, latest-stage), if any
	Deals   []DealFacts  `json:"deals,omitempty"`
	// Calls is how many CRM API calls the read took (for tests and metrics).
	Calls int `json:"-"`
}
