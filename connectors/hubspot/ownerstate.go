package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
)

// OwnerStateEnabled reports whether HUBSPOT_OWNER_STATE_PROPERTY is set.
func (c *Client) OwnerStateEnabled() bool { return c.cfg.OwnerStateProperty != "" }

// WriteOwnerState sets the contact's owner-state property to state
// (agent|pending|human|released) with the CRM objects update call:
// PATCH /crm/v3/objects/contacts/{id} {"properties": {prop: state}}
// (https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/basic/patch-crm-v3-objects-contacts-contactId).
func (c *Client) WriteOwnerState(ctx context.Context, tenant, contactID, state string) error {
	if c.cfg.OwnerStateProperty == "" {
		return errors.New("hubspot: HUBSPOT_OWNER_STATE_PROPERTY is not set")
	}
	if contactID == "" {
		return errors.New("hubspot: owner state of a contact without an id")
	}
	body := map[string]any{"properties": map[string]string{c.cfg.OwnerStateProperty: state}}
	if err := c.do(ctx, tenant, request{method: "PATCH", path: "/crm/v3/objects/contacts/" + url.PathEscape(contactID), body: body}, nil); err != nil {
		return fmt.Errorf("set %s of contact %s: %w", c.cfg.OwnerStateProperty, contactID, err)
	}
	return nil
}
