package marketotest

import "time"

// Record is one Marketo record (lead, named account, opportunity, role),
// keyed by REST field name. A missing key is a null field.
type Record map[string]any

// Campaign is a smart campaign.
type Campaign struct {
	ID          int
	Name        string
	Active      bool
	Triggerable bool // has "Campaign is Requested, Source: Web Service API"
}

// Attr is one attribute of an activity type.
type Attr struct {
	APIName string
	Name    string // display name, returned by Get Lead Activities
}

// ActivityType is a standard or approved custom activity type.
type ActivityType struct {
	ID               int
	Name             string
	APIName          string // custom types only
	PrimaryAttribute string
	Attributes       []Attr
	Custom           bool
}

// Activity is one lead activity.
type Activity struct {
	ID                    int64
	MarketoGUID           string
	LeadID                int64
	ActivityDate          time.Time
	ActivityTypeID        int
	PrimaryAttributeValue string
	Attributes            map[string]string // apiName -> value
}

// Seed is the fake's initial data.
type Seed struct {
	Munchkin         string
	ClientID         string
	ClientSecret     string
	Leads            []Record
	NamedAccounts    []Record
	Opportunities    []Record
	OpportunityRoles []Record
	Campaigns        []Campaign
	ActivityTypes    []ActivityType
	Activities       []Activity
	// Owners are the sales team's emails. Marketo has no API for them; the
	// leads' OwnerEmailField holds them.
	Owners []string
}

// Seed identifiers, for tests and `handoff demo`.
const (
	Munchkin       = "123-ABC-456"
	ClientID       = "handoff-client-id"
	ClientSecret   = "handoff-client-secret"
	CampaignID     = 1069
	ActivityTypeID = 100001
	// OwnerEmailField is the custom lead field holding the sales owner's
	// email in the seed (set MARKETO_OWNER_EMAIL_FIELD to it).
	OwnerEmailField = "salesOwnerEmail"
	// TierField is the named account field holding the tier (the
	// connector's default MARKETO_TIER_FIELD, namedaccount:tier).
	TierField = "tier"

	LeadTier1   = 1001 // VP at Globex, a tier-1 named account, with a late-stage opportunity
	LeadStudent = 1002 // a student, no company
	LeadBanking = 1003 // compliance director at a bank (regulated industry)
	LeadExec    = 1004 // CEO of Initech, a tier-1 named account
)

// HandoffActivityType is the custom activity type the connector expects.
func HandoffActivityType() ActivityType {
	return ActivityType{
		ID: ActivityTypeID, Name: "Handoff", APIName: "handoff_c", PrimaryAttribute: "Handoff ID", Custom: true,
		Attributes: []Attr{
			{APIName: "handoffKind", Name: "Handoff Kind"},
			{APIName: "ownerEmail", Name: "Owner Email"},
			{APIName: "priority", Name: "Priority"},
			{APIName: "subject", Name: "Subject"},
			{APIName: "due", Name: "Due"},
			{APIName: "note", Name: "Note"},
		},
	}
}

// DefaultSeed is a small realistic instance.
func DefaultSeed() Seed {
	now := time.Now().UTC().Truncate(time.Second)
	day := func(d int) string { return now.AddDate(0, 0, d).Format("2006-01-02") }
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	return Seed{
		Munchkin: Munchkin, ClientID: ClientID, ClientSecret: ClientSecret,
		Owners: []string{"ae1@acme.example", "dd1@acme.example", "dd2@acme.example", "counsel@acme.example",
			"sdr1@acme.example", "sdr2@acme.example", "mgr1@acme.example"},
		Leads: []Record{
			{"id": LeadTier1, "email": "dana.whitfield@globex.example", "firstName": "Dana", "lastName": "Whitfield",
				"title": "VP Operations", "company": "Globex Corporation", "industry": "Manufacturing",
				"numberOfEmployees": 4200, "annualRevenue": 880000000, "sfdcLeadOwnerId": "005A0000001AE001",
				OwnerEmailField: "ae1@acme.example", "createdAt": ts(-90 * 24 * time.Hour), "updatedAt": ts(-2 * time.Hour)},
			{"id": LeadStudent, "email": "sam.student@university.example", "firstName": "Sam", "lastName": "Student",
				"title": "Graduate Student", "createdAt": ts(-3 * 24 * time.Hour), "updatedAt": ts(-3 * 24 * time.Hour)},
			{"id": LeadBanking, "email": "morgan.lee@firstmeridian.example", "firstName": "Morgan", "lastName": "Lee",
				"title": "Director of Compliance", "company": "First Meridian Bank", "industry": "Banking",
				"numberOfEmployees": 12000, "annualRevenue": 2400000000, "sfdcLeadOwnerId": "005A0000001SDR01",
				OwnerEmailField: "sdr1@acme.example", "createdAt": ts(-30 * 24 * time.Hour), "updatedAt": ts(-26 * time.Hour)},
			{"id": LeadExec, "email": "priya.raman@initech.example", "firstName": "Priya", "lastName": "Raman",
				"title": "Chief Executive Officer", "company": "Initech", "industry": "Software",
				"numberOfEmployees": 850, "annualRevenue": 120000000, "sfdcLeadOwnerId": "005A0000001AE001",
				OwnerEmailField: "ae1@acme.example", "createdAt": ts(-200 * 24 * time.Hour), "updatedAt": ts(-5 * time.Hour)},
		},
		NamedAccounts: []Record{
			{"marketoGUID": "dff23271-f996-47d7-984f-f2676861b5fb", "name": "Globex Corporation", "domainName": "globex.example",
				"industry": "Manufacturing", "numberOfEmployees": 4200, "annualRevenue": 880000000, TierField: "Tier 1"},
			{"marketoGUID": "0b7c6f1e-2a44-4c3e-8d1f-6b2a9e5c7d10", "name": "Initech", "domainName": "initech.example",
				"industry": "Software", "numberOfEmployees": 850, "annualRevenue": 120000000, TierField: "Tier 1"},
			{"marketoGUID": "7e1d2c3b-4a59-4687-9a0b-c1d2e3f4a5b6", "name": "First Meridian Bank", "domainName": "firstmeridian.example",
				"industry": "Banking", "numberOfEmployees": 12000, "annualRevenue": 2400000000, TierField: "Tier 2"},
		},
		Opportunities: []Record{
			{"marketoGUID": "8d2a4c1e-5b6f-4e3a-9c7d-1f2e3d4c5b6a", "externalOpportunityId": "OPP-2026-0042",
				"name": "Globex - Platform Expansion", "stage": "Negotiation/Review", "amount": 240000, "probability": 80,
				"isClosed": false, "isWon": false, "closeDate": day(30)},
			{"marketoGUID": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "externalOpportunityId": "OPP-2025-0007",
				"name": "Globex - Pilot", "stage": "Closed Won", "amount": 36000, "probability": 100,
				"isClosed": true, "isWon": true, "closeDate": day(-300)},
		},
		OpportunityRoles: []Record{
			{"marketoGUID": "3a0f3c36-7d43-4a42-b1c1-9e1a8a3e2d11", "externalOpportunityId": "OPP-2026-0042", "leadId": LeadTier1,
				"role": "Decision Maker", "isPrimary": true},
			{"marketoGUID": "4b1a4d47-8e54-4b53-c2d2-0f2b9b4f3e22", "externalOpportunityId": "OPP-2025-0007", "leadId": LeadTier1,
				"role": "Evaluator", "isPrimary": false},
		},
		Campaigns: []Campaign{
			{ID: CampaignID, Name: "Handoff - Create CRM Task", Active: true, Triggerable: true},
			{ID: 1070, Name: "Newsletter - Batch", Active: true, Triggerable: false},
		},
		ActivityTypes: []ActivityType{
			{ID: 1, Name: "Visit Webpage", PrimaryAttribute: "Webpage ID", Attributes: []Attr{{Name: "Webpage URL"}}},
			{ID: 2, Name: "Fill Out Form", PrimaryAttribute: "Webform ID", Attributes: []Attr{{Name: "Form Fields"}}},
			HandoffActivityType(),
		},
		Activities: []Activity{
			{LeadID: LeadTier1, ActivityDate: now.Add(-3 * time.Hour), ActivityTypeID: 1, PrimaryAttributeValue: "/pricing",
				Attributes: map[string]string{"Webpage URL": "https://acme.example/pricing"}},
			{LeadID: LeadTier1, ActivityDate: now.Add(-2 * time.Hour), ActivityTypeID: 2, PrimaryAttributeValue: "Contact Sales",
				Attributes: map[string]string{"Form Fields": "comments=What would 400 seats cost?"}},
			{LeadID: LeadBanking, ActivityDate: now.Add(-26 * time.Hour), ActivityTypeID: 1, PrimaryAttributeValue: "/security",
				Attributes: map[string]string{"Webpage URL": "https://acme.example/security"}},
		},
	}
}
