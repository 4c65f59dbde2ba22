package handoff

import "strings"

// Seniority buckets of ContactFacts.Seniority.
const (
	SeniorityCSuite     = "c_suite"
	SeniorityVP         = "vp"
	SeniorityDirector   = "director"
	SeniorityManager    = "manager"
	SeniorityIndividual = "individual"
	SeniorityStudent    = "student"
)

// SeniorityOf buckets a job title into c_suite, vp, director, manager,
// individual or student ("" for no title), by whole words. Every connector
// uses it, so the same title means the same seniority whichever CRM it
// came from, and ladder conditions such as contact.seniority == 'c_suite'
// behave alike across sources.
func SeniorityOf(title string) string {
	words := strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127)
	})
	if len(words) == 0 {
		return ""
	}
	t := " " + strings.Join(words, " ") + " "
	has := func(phrases ...string) bool {
		for _, p := range phrases {
			if strings.Contains(t, " "+p+" ") {
				return true
			}
		}
		return false
	}
	switch {
	case has("student", "intern", "trainee", "apprentice", "undergraduate", "phd candidate"):
		return SeniorityStudent
	case has("vice president", "vp", "svp", "evp", "avp"):
		return SeniorityVP
	case has("ceo", "cfo", "cto", "coo", "cmo", "cro", "cio", "ciso", "cpo", "chief", "founder", "cofounder", "co founder", "president", "owner", "managing partner") &&
		!has("product owner", "process owner", "business owner"):
		return SeniorityCSuite
	case has("director", "head"):
		return SeniorityDirector
	case has("manager", "lead", "supervisor"):
		return SeniorityManager
	}
	return SeniorityIndividual
}

// NormalizeTier maps a CRM's account-tier value ("Tier 1", "tier_1", "T1",
// "Tier One", "1", "tier three", "II") to tier_1, tier_2 or tier_3, the
// values ladder conditions compare with; anything else is "".
func NormalizeTier(v string) string {
	s := strings.ToLower(strings.TrimSpace(v))
	s = strings.NewReplacer("_", "", "-", "", " ", "", ".", "").Replace(s)
	s = strings.TrimPrefix(s, "tier")
	if len(s) > 1 && s[0] == 't' && s[1] >= '0' && s[1] <= '9' {
		s = s[1:]
	}
	switch s {
	case "1", "one", "i":
		return "tier_1"
	case "2", "two", "ii":
		return "tier_2"
	case "3", "three", "iii":
		return "tier_3"
	}
	return ""
}
