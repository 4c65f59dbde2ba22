package handoff

import "testing"

// The cases the three connectors' own normalizers were tested with, now
// one function for all of them.
func TestSeniorityOf(t *testing.T) {
	cases := map[string]string{
		"Chief Executive Officer": "c_suite", "CEO": "c_suite", "CFO": "c_suite", "Co-Founder": "c_suite", "Co-Founder & CEO": "c_suite",
		"Co-Founder & CTO": "c_suite", "President": "c_suite", "Managing Partner": "c_suite",
		"VP Procurement": "vp", "VP Finance": "vp", "VP Operations": "vp", "Vice President, Sales": "vp", "SVP Engineering": "vp",
		"Senior Vice President, Sales": "vp",
		"Head of Operations":           "director", "Head of Procurement": "director", "Director of IT": "director", "Director of Compliance": "director",
		"Engineering Manager": "manager", "Team Lead": "manager",
		"Software Engineer": "individual", "Operations Coordinator": "individual", "Product Owner": "individual", "Leadership Coach": "individual",
		"Student": "student", "Marketing Intern": "student", "Graduate Student": "student", "": "",
	}
	for in, want := range cases {
		if got := SeniorityOf(in); got != want {
			t.Errorf("SeniorityOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeTier(t *testing.T) {
	cases := map[string]string{
		"Tier 1": "tier_1", "tier_1": "tier_1", "TIER-2": "tier_2", "TIER-3": "tier_3", "T3": "tier_3", "Tier One": "tier_1",
		"3": "tier_3", "1": "tier_1", " tier-2 ": "tier_2", "tier three": "tier_3", "two": "tier_2", "II": "tier_2",
		"Strategic": "", "Gold": "", "": "", "Tier 4": "", "Tier 12": "",
	}
	for in, want := range cases {
		if got := NormalizeTier(in); got != want {
			t.Errorf("NormalizeTier(%q) = %q, want %q", in, got, want)
		}
	}
}

// The 15-to-18 conversion matches ids whose 18-character form Salesforce
// prints (the org id of the Salesforce fake and the help article's example).
func TestSalesforceID18(t *testing.T) {
	for in, want := range map[string]string{
		"00D5e000000AbCd":    "00D5e000000AbCdEAK",
		"001A0000006Vm9r":    "001A0000006Vm9rIAC",
		"00D5e000000AbCdEAK": "00D5e000000AbCdEAK", // already 18
		"not-an-id-15chr":    "not-an-id-15chr",    // not alphanumeric
		"short":              "short",
	} {
		if got := SalesforceID18(in); got != want {
			t.Errorf("SalesforceID18(%q) = %q, want %q", in, got, want)
		}
	}
}
