package hubspottest

import "time"

// Seed is the fake portal's data.
type Seed struct {
	PortalID        int64
	AppID           int64
	ClientID        string
	ClientSecret    string
	PrivateAppToken string // accepted as a bearer token for PortalID
	InstallUser     string // the "user" of access-token metadata

	Owners    []Owner
	Contacts  []Record
	Companies []Record
	Deals     []Record
	Tasks     []Record
	Pipelines []Pipeline
	Threads   []Thread
	// TaskProperties are custom task properties that exist in the portal
	// (e.g. "handoff_id"); writing any other unknown property is a 400.
	TaskProperties []string
	// ContactProperties are custom contact properties that exist in the
	// portal (e.g. "handoff_owner_state").
	ContactProperties []string
}

// Owner is a CRM owner (GET /crm/v3/owners).
type Owner struct {
	ID        string
	Email     string
	FirstName string
	LastName  string
	UserID    int64
	Archived  bool
	Team      string
}

// Record is a CRM object. Associations maps the plural object type
// ("companies", "deals", "contacts") to ids; the fake mirrors them on the
// other side. The first company of a contact is its primary one.
type Record struct {
	ID           string
	Properties   map[string]string
	Associations map[string][]string
	CreatedAt    time.Time
}

// Pipeline is a deal pipeline.
type Pipeline struct {
	ID     string
	Label  string
	Stages []Stage
}

// Stage is a pipeline stage; Probability is "0.0".."1.0" as HubSpot sends it.
type Stage struct {
	ID          string
	Label       string
	Probability string
	IsClosed    bool
}

// Thread is a conversations inbox thread.
type Thread struct {
	ID                  string
	AssociatedContactID string
	Status              string // OPEN | CLOSED
	Messages            []ThreadMessage
}

// ThreadMessage is one entry of a thread: Type MESSAGE (Direction INCOMING
// or OUTGOING), COMMENT, WELCOME_MESSAGE, ASSIGNMENT ...
type ThreadMessage struct {
	ID         string
	Type       string
	Direction  string
	Text       string
	SenderName string
	SenderAddr string
	CreatedAt  time.Time
	// TruncateAt > 0 makes the messages list return only the first
	// TruncateAt bytes of Text with truncationStatus TRUNCATED; the full
	// text comes from …/messages/{id}/original-content (docs/crm/hubspot.md).
	TruncateAt int
}

// Well-known ids of DefaultSeed, for tests and the demo.
const (
	PortalID = 62515

	OwnerDealDesk1 = "64492917" // dd1@acme.example
	OwnerDealDesk2 = "64492918" // dd2@acme.example
	OwnerCounsel   = "64492919" // counsel@acme.example
	OwnerSDR1      = "64492920" // sdr1@acme.example
	OwnerSDR2      = "64492921" // sdr2@acme.example
	OwnerManager1  = "64492922" // mgr1@acme.example
	OwnerAE1       = "64492923" // ae1@acme.example (account owner)
	OwnerArchived  = "64492930" // former@acme.example, archived

	CompanyGlobex  = "2001" // tier_1, Computer Software, owned by ae1
	CompanyHarbor  = "2002" // tier_2, Banking (regulated)
	CompanyInitech = "2003" // tier_3

	ContactAna     = "1001" // ana@globex.example: one company (Globex), two deals
	ContactStudent = "1002" // sam.student@university.example: no company
	ContactBea     = "1003" // bea@firstharbor.example: Banking
	ContactChris   = "1004" // chris@globex.example: Chief Executive Officer
	ContactIan     = "1005" // ian@initech.example: no deals

	DealGlobexEnterprise = "3001" // contractsent (0.9), open
	DealGlobexPilot      = "3002" // closedwon
	DealHarborPlatform   = "3003" // qualifiedtobuy (0.4)

	ThreadAna = "7001"
)

// DefaultSeed is a small, realistic portal: a tier-1 account with an owner
// and a late-stage deal, a student with no company, a Banking account, a
// c-suite contact, and a team of owners.
func DefaultSeed() Seed {
	t0 := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	return Seed{
		PortalID:        PortalID,
		AppID:           54321,
		ClientID:        "5f6e7d8c-0000-4000-8000-client000001",
		ClientSecret:    "test-client-secret-2f1e",
		PrivateAppToken: "pat-na1-11111111-2222-3333-4444-555555555555",
		InstallUser:     "admin@acme.example",
		Owners: []Owner{
			{ID: OwnerDealDesk1, Email: "dd1@acme.example", FirstName: "Dana", LastName: "Diaz", UserID: 9100001, Team: "Deal Desk"},
			{ID: OwnerDealDesk2, Email: "dd2@acme.example", FirstName: "Drew", LastName: "Dunn", UserID: 9100002, Team: "Deal Desk"},
			{ID: OwnerCounsel, Email: "counsel@acme.example", FirstName: "Casey", LastName: "Cole", UserID: 9100003, Team: "Legal"},
			{ID: OwnerSDR1, Email: "sdr1@acme.example", FirstName: "Sam", LastName: "Reed", UserID: 9100004, Team: "SDR"},
			{ID: OwnerSDR2, Email: "sdr2@acme.example", FirstName: "Sky", LastName: "Ross", UserID: 9100005, Team: "SDR"},
			{ID: OwnerManager1, Email: "mgr1@acme.example", FirstName: "Morgan", LastName: "Lee", UserID: 9100006, Team: "Managers"},
			{ID: OwnerAE1, Email: "ae1@acme.example", FirstName: "Alex", LastName: "Kim", UserID: 9100007, Team: "Enterprise AE"},
			{ID: OwnerArchived, Email: "former@acme.example", FirstName: "Former", LastName: "Rep", UserID: 9100008, Archived: true},
		},
		Companies: []Record{
			{ID: CompanyGlobex, CreatedAt: t0, Properties: map[string]string{
				"name": "Globex Corporation", "domain": "globex.example", "industry": "COMPUTER_SOFTWARE",
				"numberofemployees": "5200", "annualrevenue": "250000000", "hs_is_target_account": "true",
				"hs_ideal_customer_profile": "tier_1", "hubspot_owner_id": OwnerAE1, "lifecyclestage": "opportunity",
			}},
			{ID: CompanyHarbor, CreatedAt: t0, Properties: map[string]string{
				"name": "First Harbor Bank", "domain": "firstharbor.example", "industry": "BANKING",
				"numberofemployees": "1200", "annualrevenue": "90000000", "hs_is_target_account": "false",
				"hs_ideal_customer_profile": "tier_2", "hubspot_owner_id": OwnerAE1, "lifecyclestage": "salesqualifiedlead",
			}},
			{ID: CompanyInitech, CreatedAt: t0, Properties: map[string]string{
				"name": "Initech", "domain": "initech.example", "industry": "INFORMATION_TECHNOLOGY_AND_SERVICES",
				"numberofemployees": "80", "annualrevenue": "4000000", "hs_ideal_customer_profile": "tier_3",
				"hubspot_owner_id": OwnerSDR1,
			}},
		},
		Contacts: []Record{
			{ID: ContactAna, CreatedAt: t0, Properties: map[string]string{
				"email": "ana@globex.example", "firstname": "Ana", "lastname": "Alvarez", "jobtitle": "Head of Operations",
				"lifecyclestage": "opportunity", "hubspot_owner_id": OwnerAE1, "company": "Globex Corporation", "phone": "+1 555 0100",
			}, Associations: map[string][]string{"companies": {CompanyGlobex}, "deals": {DealGlobexEnterprise, DealGlobexPilot}}},
			{ID: ContactStudent, CreatedAt: t0, Properties: map[string]string{
				"email": "sam.student@university.example", "firstname": "Sam", "lastname": "Student", "jobtitle": "Student",
				"lifecyclestage": "lead",
			}},
			{ID: ContactBea, CreatedAt: t0, Properties: map[string]string{
				"email": "bea@firstharbor.example", "firstname": "Bea", "lastname": "Banks", "jobtitle": "VP Procurement",
				"lifecyclestage": "salesqualifiedlead", "hubspot_owner_id": OwnerAE1, "company": "First Harbor Bank",
			}, Associations: map[string][]string{"companies": {CompanyHarbor}, "deals": {DealHarborPlatform}}},
			{ID: ContactChris, CreatedAt: t0, Properties: map[string]string{
				"email": "chris@globex.example", "firstname": "Chris", "lastname": "Chen", "jobtitle": "Chief Executive Officer",
				"lifecyclestage": "opportunity", "hubspot_owner_id": OwnerAE1, "company": "Globex Corporation",
			}, Associations: map[string][]string{"companies": {CompanyGlobex}, "deals": {DealGlobexEnterprise}}},
			{ID: ContactIan, CreatedAt: t0, Properties: map[string]string{
				"email": "ian@initech.example", "firstname": "Ian", "lastname": "Irwin", "jobtitle": "Software Engineer",
				"lifecyclestage": "marketingqualifiedlead", "hubspot_owner_id": OwnerSDR1,
			}, Associations: map[string][]string{"companies": {CompanyInitech}}},
		},
		Deals: []Record{
			{ID: DealGlobexEnterprise, CreatedAt: t0, Properties: map[string]string{
				"dealname": "Globex - Enterprise plan", "pipeline": "default", "dealstage": "contractsent",
				"amount": "180000", "closedate": "2026-12-15T00:00:00.000Z", "hubspot_owner_id": OwnerAE1,
			}, Associations: map[string][]string{"companies": {CompanyGlobex}}},
			{ID: DealGlobexPilot, CreatedAt: t0, Properties: map[string]string{
				"dealname": "Globex - Pilot", "pipeline": "default", "dealstage": "closedwon",
				"amount": "20000", "closedate": "2026-06-30T00:00:00.000Z", "hubspot_owner_id": OwnerAE1,
			}, Associations: map[string][]string{"companies": {CompanyGlobex}}},
			{ID: DealHarborPlatform, CreatedAt: t0, Properties: map[string]string{
				"dealname": "First Harbor - Platform", "pipeline": "default", "dealstage": "qualifiedtobuy",
				"amount": "95000", "closedate": "2027-02-28T00:00:00.000Z", "hubspot_owner_id": OwnerAE1,
			}, Associations: map[string][]string{"companies": {CompanyHarbor}}},
		},
		Pipelines: []Pipeline{
			{ID: "default", Label: "Sales Pipeline", Stages: []Stage{
				{ID: "appointmentscheduled", Label: "Appointment Scheduled", Probability: "0.2"},
				{ID: "qualifiedtobuy", Label: "Qualified To Buy", Probability: "0.4"},
				{ID: "presentationscheduled", Label: "Presentation Scheduled", Probability: "0.6"},
				{ID: "decisionmakerboughtin", Label: "Decision Maker Bought-In", Probability: "0.8"},
				{ID: "contractsent", Label: "Contract Sent", Probability: "0.9"},
				{ID: "closedwon", Label: "Closed Won", Probability: "1.0", IsClosed: true},
				{ID: "closedlost", Label: "Closed Lost", Probability: "0.0", IsClosed: true},
			}},
			{ID: "19671533", Label: "Renewals", Stages: []Stage{
				{ID: "45819841", Label: "Renewal in progress", Probability: "0.7"},
				{ID: "45819842", Label: "Renewed", Probability: "1.0", IsClosed: true},
				{ID: "45819843", Label: "Churned", Probability: "0.0", IsClosed: true},
			}},
		},
		Threads: []Thread{{ID: ThreadAna, AssociatedContactID: ContactAna, Status: "OPEN", Messages: []ThreadMessage{
			{ID: "b1f6c7e2a0d94f0c9d1e2f3a4b5c6d01", Type: "MESSAGE", Direction: "INCOMING", Text: "Hi, what would pricing look like for 500 seats?", SenderName: "Ana Alvarez", SenderAddr: "ana@globex.example", CreatedAt: t0.Add(24 * time.Hour)},
			{ID: "b1f6c7e2a0d94f0c9d1e2f3a4b5c6d02", Type: "MESSAGE", Direction: "OUTGOING", Text: "Thanks Ana! Our Enterprise plan is priced per seat; I can share the public price sheet.", SenderName: "Acme Assistant", CreatedAt: t0.Add(24*time.Hour + time.Minute)},
			{ID: "b1f6c7e2a0d94f0c9d1e2f3a4b5c6d03", Type: "COMMENT", Text: "Internal: tier 1, loop in deal desk", SenderName: "Alex Kim", CreatedAt: t0.Add(24*time.Hour + 2*time.Minute)},
			{ID: "b1f6c7e2a0d94f0c9d1e2f3a4b5c6d04", Type: "MESSAGE", Direction: "INCOMING", Text: "We need a 20% discount and the MSA redlines before we sign. Can I talk to a human?", SenderName: "Ana Alvarez", SenderAddr: "ana@globex.example", CreatedAt: t0.Add(24*time.Hour + 3*time.Minute)},
		}}},
		TaskProperties: []string{"handoff_id"},
	}
}
