package handoff

import "strings"

// ContactCRM returns the CRM (and tenant in it) that holds the event's
// contact: the event's own source for CRM events, Contact.CRM for agent
// events (falling back to the event's tenant when the reference has none).
func (e *Event) ContactCRM() (Source, string) {
	crm := e.Source
	if crm == SourceAgent || crm == "" {
		crm = e.Contact.CRM
	}
	tenant := e.Contact.Tenant
	if tenant == "" {
		tenant = e.Tenant
	}
	return crm, tenant
}

// ConversationKey names the conversation an event belongs to, for the
// ownership lease and the conversation facts: the event's ConversationID
// when it has one, else the contact as "crm:tenant:id" (or the lower-cased
// email when the id is unknown). It is "" when the event names neither.
func (e *Event) ConversationKey() string {
	if e.ConversationID != "" {
		return e.ConversationID
	}
	crm, tenant := e.ContactCRM()
	switch {
	case e.Contact.ID != "":
		return string(crm) + ":" + tenant + ":" + e.Contact.ID
	case e.Contact.Email != "":
		return string(crm) + ":" + tenant + ":" + strings.ToLower(e.Contact.Email)
	}
	return ""
}
