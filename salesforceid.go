package handoff

// SalesforceID18 turns a 15-character Salesforce record id (case-sensitive)
// into its 18-character form by appending the documented 3-character case
// checksum; any other string, including an 18-character id, is returned
// unchanged. Org ids reach Handoff in both forms (SALESFORCE_ORG_IDS,
// Outbound Messages) while the identity URL, and so the stored token, uses
// the 18-character one: the webhooks and the connector both key tenants on
// this form.
func SalesforceID18(id string) string {
	if len(id) != 15 {
		return id
	}
	for i := range len(id) {
		ch := id[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z') {
			return id
		}
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	suffix := make([]byte, 3)
	for chunk := range 3 {
		bits := 0
		for i := range 5 {
			if ch := id[chunk*5+i]; ch >= 'A' && ch <= 'Z' {
				bits |= 1 << i
			}
		}
		suffix[chunk] = alphabet[bits]
	}
	return id + string(suffix)
}
