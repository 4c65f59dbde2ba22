package salesforcetest

import "cmp"

// Seed is the fake org's starting data.
type Seed struct {
	OrgID         string
	Users         []User
	Queues        []Queue
	Accounts      []Account
	Contacts      []Contact
	Leads         []Lead
	Opportunities []Opportunity
	ContactRoles  []ContactRole
}

// User is a Salesforce user (a possible task owner).
type User struct {
	ID, FirstName, LastName, Email, Username, Title string
	Inactive                                        bool
	// TimeZone is the user's TimeZoneSidKey (an IANA zone name, required
	// on every Salesforce user); empty means America/New_York.
	TimeZone string
}

// Queue is a Group of type Queue (a lead owner that cannot own tasks).
type Queue struct{ ID, Name, Email string }

// Account is a company; Tier goes to the configured tier field (Tier__c).
type Account struct {
	ID, Name, Website, Industry, Tier, OwnerID string
	Employees                                  int
	Revenue                                    float64
}

// Contact is a person at an account (AccountID may be empty).
type Contact struct {
	ID, FirstName, LastName, Email, Title, AccountID, OwnerID string
}

// Lead is an unconverted (or converted) prospect.
type Lead struct {
	ID, FirstName, LastName, Email, Title, Company, Website, Industry, OwnerID, Status string
	Employees                                                                          int
	Revenue                                                                            float64
	ConvertedContactID                                                                 string
}

// Opportunity is a deal; Probability is a percentage (0-100).
type Opportunity struct {
	ID, Name, AccountID, StageName, CloseDate, OwnerID string
	Probability, Amount                                float64
	IsClosed, IsWon                                    bool
}

// ContactRole links a contact to an opportunity.
type ContactRole struct {
	ID, ContactID, OpportunityID, Role string
	IsPrimary                          bool
}

// Ids of the DefaultSeed records, for tests and the demo.
const (
	OrgID = "00D5e000000AbCdEAK"

	UserAdmin   = "0055e00000ADMN1AAA" // the integration user (JWT subject)
	UserAE1     = "0055e00000AE001AAA"
	UserAE2     = "0055e00000AE002AAA"
	UserDD1     = "0055e00000DD001AAA"
	UserDD2     = "0055e00000DD002AAA"
	UserCounsel = "0055e00000LGL01AAA"
	UserSDR1    = "0055e00000SDR01AAA"
	UserSDR2    = "0055e00000SDR02AAA"
	UserMgr1    = "0055e00000MGR01AAA"
	UserFormer  = "0055e00000OLD01AAA" // inactive
	QueueSDR    = "00G5e00000SDRQ1AAA"

	AccountGlobex  = "0015e00000GLBX1AAA" // Tier 1, Technology, owned by ae1
	AccountBank    = "0015e00000BANK1AAA" // tier_2, Banking, owned by ae2
	AccountInitech = "0015e00000INIT1AAA" // Tier 3, no deals

	ContactJane    = "0035e00000JANE1AAA" // VP Finance at Globex; late-stage deal via contact role
	ContactCEO     = "0035e00000CEO01AAA" // Chief Executive Officer at Globex; no contact roles
	ContactBanker  = "0035e00000BANK1AAA" // Head of Procurement at the bank
	ContactStudent = "0035e00000STUD1AAA" // student, no account
	ContactPeter   = "0035e00000PETE1AAA" // engineer at Initech

	LeadNewCo     = "00Q5e00000NEWC1AAA" // owned by sdr1
	LeadQueued    = "00Q5e00000QUEU1AAA" // owned by the SDR queue
	LeadConverted = "00Q5e00000CONV1AAA" // converted into ContactPeter

	OppGlobexEnterprise = "0065e00000GENT1AAA" // Negotiation/Review, 90 %
	OppGlobexPilot      = "0065e00000GPIL1AAA" // Closed Won
	OppBankPlatform     = "0065e00000BPLT1AAA" // Qualification, 20 %
)

// Username of the integration user, the JWT bearer flow's subject.
const AdminUsername = "integration@acme.example.handoff"

// DefaultSeed is a small realistic org: a tier-1 account with an owner and
// a late-stage deal, a regulated-industry (Banking) account, an exec
// contact, a student with no company, leads (one owned by a queue) and a
// team of owners (dd1@, dd2@, counsel@, sdr1@, sdr2@, mgr1@acme.example).
func DefaultSeed() Seed {
	return Seed{
		OrgID: OrgID,
		Users: []User{
			{ID: UserAdmin, FirstName: "Integration", LastName: "User", Email: "admin@acme.example", Username: AdminUsername, Title: "System Administrator"},
			{ID: UserAE1, FirstName: "Alex", LastName: "Reyes", Email: "ae1@acme.example", Username: "ae1@acme.example", Title: "Account Executive"},
			{ID: UserAE2, FirstName: "Bea", LastName: "Stone", Email: "ae2@acme.example", Username: "ae2@acme.example", Title: "Account Executive"},
			{ID: UserDD1, FirstName: "Dana", LastName: "Desk", Email: "dd1@acme.example", Username: "dd1@acme.example", Title: "Deal Desk"},
			{ID: UserDD2, FirstName: "Devin", LastName: "Desk", Email: "dd2@acme.example", Username: "dd2@acme.example", Title: "Deal Desk"},
			{ID: UserCounsel, FirstName: "Casey", LastName: "Counsel", Email: "counsel@acme.example", Username: "counsel@acme.example", Title: "Commercial Counsel"},
			{ID: UserSDR1, FirstName: "Sam", LastName: "Ortiz", Email: "sdr1@acme.example", Username: "sdr1@acme.example", Title: "Sales Development Rep"},
			{ID: UserSDR2, FirstName: "Sky", LastName: "Patel", Email: "sdr2@acme.example", Username: "sdr2@acme.example", Title: "Sales Development Rep"},
			{ID: UserMgr1, FirstName: "Morgan", LastName: "Lee", Email: "mgr1@acme.example", Username: "mgr1@acme.example", Title: "Sales Manager"},
			{ID: UserFormer, FirstName: "Former", LastName: "Rep", Email: "former@acme.example", Username: "former@acme.example", Title: "Account Executive", Inactive: true},
		},
		Queues: []Queue{{ID: QueueSDR, Name: "SDR Queue", Email: "sdr-queue@acme.example"}},
		Accounts: []Account{
			{ID: AccountGlobex, Name: "Globex Corporation", Website: "https://www.globex.example", Industry: "Technology", Tier: "Tier 1", OwnerID: UserAE1, Employees: 12000, Revenue: 2500000000},
			{ID: AccountBank, Name: "First Meridian Bank", Website: "firstmeridian.example", Industry: "Banking", Tier: "tier_2", OwnerID: UserAE2, Employees: 8000, Revenue: 1200000000},
			{ID: AccountInitech, Name: "Initech", Website: "initech.example", Industry: "Software", Tier: "Tier 3", OwnerID: UserAE2, Employees: 250, Revenue: 30000000},
		},
		Contacts: []Contact{
			{ID: ContactJane, FirstName: "Jane", LastName: "Doe", Email: "jane.doe@globex.example", Title: "VP Finance", AccountID: AccountGlobex, OwnerID: UserAE1},
			{ID: ContactCEO, FirstName: "Hank", LastName: "Scorpio", Email: "ceo@globex.example", Title: "Chief Executive Officer", AccountID: AccountGlobex, OwnerID: UserAE1},
			{ID: ContactBanker, FirstName: "Maria", LastName: "Lopez", Email: "maria.lopez@firstmeridian.example", Title: "Head of Procurement", AccountID: AccountBank, OwnerID: UserAE2},
			{ID: ContactStudent, FirstName: "Sam", LastName: "Student", Email: "sam.student@university.example", Title: "Student", OwnerID: UserSDR1},
			{ID: ContactPeter, FirstName: "Peter", LastName: "Gibbons", Email: "peter@initech.example", Title: "Software Engineer", AccountID: AccountInitech, OwnerID: UserAE2},
		},
		Leads: []Lead{
			{ID: LeadNewCo, FirstName: "Lena", LastName: "Park", Email: "lena@newco.example", Title: "Head of Growth", Company: "NewCo Labs", Website: "newco.example", Industry: "Retail", OwnerID: UserSDR1, Status: "Open - Not Contacted", Employees: 40, Revenue: 5000000},
			{ID: LeadQueued, FirstName: "Quinn", LastName: "Hall", Email: "quinn@queue.example", Company: "Queue Corp", OwnerID: QueueSDR, Status: "Open - Not Contacted"},
			{ID: LeadConverted, FirstName: "Peter", LastName: "Gibbons", Email: "peter.old@initech.example", Company: "Initech", OwnerID: UserAE2, Status: "Closed - Converted", ConvertedContactID: ContactPeter},
		},
		Opportunities: []Opportunity{
			{ID: OppGlobexEnterprise, Name: "Globex - Enterprise Expansion", AccountID: AccountGlobex, StageName: "Negotiation/Review", CloseDate: "2026-12-15", OwnerID: UserAE1, Probability: 90, Amount: 250000},
			{ID: OppGlobexPilot, Name: "Globex - Pilot", AccountID: AccountGlobex, StageName: "Closed Won", CloseDate: "2026-03-01", OwnerID: UserAE1, Probability: 100, Amount: 40000, IsClosed: true, IsWon: true},
			{ID: OppBankPlatform, Name: "First Meridian - Platform", AccountID: AccountBank, StageName: "Qualification", CloseDate: "2027-02-26", OwnerID: UserAE2, Probability: 20, Amount: 120000},
		},
		ContactRoles: []ContactRole{
			{ID: "00K5e00000JENT1AAA", ContactID: ContactJane, OpportunityID: OppGlobexEnterprise, Role: "Decision Maker", IsPrimary: true},
			{ID: "00K5e00000JPIL1AAA", ContactID: ContactJane, OpportunityID: OppGlobexPilot, Role: "Evaluator"},
			{ID: "00K5e00000MPLT1AAA", ContactID: ContactBanker, OpportunityID: OppBankPlatform, Role: "Economic Buyer", IsPrimary: true},
		},
	}
}

func (s Seed) records(tierField string) map[string][]record {
	const ts = "2026-11-01T09:00:00.000+0000"
	out := map[string][]record{}
	add := func(obj string, r record) {
		r["CreatedDate"], r["LastModifiedDate"], r["SystemModstamp"], r["IsDeleted"] = ts, ts, ts, false
		out[obj] = append(out[obj], r)
	}
	str := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	num := func(v float64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	name := func(first, last string) string {
		if first == "" {
			return last
		}
		return first + " " + last
	}
	for _, u := range s.Users {
		add("User", record{"Id": u.ID, "Name": name(u.FirstName, u.LastName), "FirstName": str(u.FirstName), "LastName": u.LastName,
			"Email": u.Email, "Username": u.Username, "Title": str(u.Title), "IsActive": !u.Inactive, "Alias": nil, "ManagerId": nil, "TimeZoneSidKey": cmp.Or(u.TimeZone, "America/New_York")})
	}
	for _, q := range s.Queues {
		add("Group", record{"Id": q.ID, "Name": q.Name, "Type": "Queue", "Email": str(q.Email), "DeveloperName": nil})
	}
	for _, a := range s.Accounts {
		add("Account", record{"Id": a.ID, "Name": a.Name, "Website": str(a.Website), "Industry": str(a.Industry), "Type": "Customer",
			"NumberOfEmployees": num(float64(a.Employees)), "AnnualRevenue": num(a.Revenue), "OwnerId": a.OwnerID,
			"BillingCountry": nil, tierField: str(a.Tier)})
	}
	for _, c := range s.Contacts {
		add("Contact", record{"Id": c.ID, "Name": name(c.FirstName, c.LastName), "FirstName": str(c.FirstName), "LastName": c.LastName,
			"Email": str(c.Email), "Title": str(c.Title), "Phone": nil, "OwnerId": c.OwnerID, "AccountId": str(c.AccountID)})
	}
	for _, l := range s.Leads {
		conv := l.ConvertedContactID != ""
		add("Lead", record{"Id": l.ID, "Name": name(l.FirstName, l.LastName), "FirstName": str(l.FirstName), "LastName": l.LastName,
			"Email": str(l.Email), "Title": str(l.Title), "Company": l.Company, "Website": str(l.Website), "Industry": str(l.Industry),
			"NumberOfEmployees": num(float64(l.Employees)), "AnnualRevenue": num(l.Revenue), "OwnerId": l.OwnerID, "Status": l.Status,
			"IsConverted": conv, "ConvertedAccountId": nil, "ConvertedContactId": str(l.ConvertedContactID), "ConvertedOpportunityId": nil})
	}
	for _, o := range s.Opportunities {
		fc := "Pipeline"
		switch {
		case o.IsWon:
			fc = "Closed"
		case o.IsClosed:
			fc = "Omitted"
		case o.Probability >= 70:
			fc = "Commit"
		}
		add("Opportunity", record{"Id": o.ID, "Name": o.Name, "AccountId": str(o.AccountID), "StageName": o.StageName,
			"Probability": o.Probability, "IsClosed": o.IsClosed, "IsWon": o.IsWon, "Amount": num(o.Amount), "CloseDate": o.CloseDate,
			"OwnerId": o.OwnerID, "ForecastCategory": fc, "ForecastCategoryName": fc, "Type": "New Business"})
	}
	for _, r := range s.ContactRoles {
		add("OpportunityContactRole", record{"Id": r.ID, "ContactId": r.ContactID, "OpportunityId": r.OpportunityID,
			"Role": str(r.Role), "IsPrimary": r.IsPrimary})
	}
	return out
}
