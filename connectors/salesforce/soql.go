package salesforce

import (
	"strings"

	"github.com/handoff-dev/handoff"
)

// Quote returns s as a SOQL string literal: in single quotes, with the
// characters SOQL reserves escaped by a backslash (\' \" \\ and the
// control characters \n \r \t \b \f). Values never reach a query any
// other way, so a value cannot end the literal and inject clauses.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for _, r := range s {
		switch r {
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case 0:
			// NUL cannot be represented; drop it.
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// isID reports whether s looks like a Salesforce record id (15 or 18
// alphanumeric characters).
func isID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
			return false
		}
	}
	return true
}

// Key prefixes of the record types the client reads.
const (
	prefixContact = "003"
	prefixLead    = "00Q"
	prefixUser    = "005" // a Lead owner may also be a queue (00G)
)

// ID18 is handoff.SalesforceID18: the 18-character form of a 15-character
// id, the form tokens are stored under.
func ID18(id string) string { return handoff.SalesforceID18(id) }
