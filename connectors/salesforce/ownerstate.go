package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// OwnerStateEnabled reports whether SALESFORCE_OWNER_STATE_FIELD is set.
func (c *Client) OwnerStateEnabled() bool { return c.cfg.OwnerStateField != "" }

// WriteOwnerState sets the owner-state field of a Contact (id prefix
// 003) or Lead (00Q) with the sObject Rows update:
// PATCH /services/data/vXX.X/sobjects/{Contact|Lead}/{id} {field: state}
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm).
func (c *Client) WriteOwnerState(ctx context.Context, tenant, id, state string) error {
	if c.cfg.OwnerStateField == "" {
		return errors.New("salesforce: SALESFORCE_OWNER_STATE_FIELD is not set")
	}
	if id == "" {
		return errors.New("salesforce: owner state of a record without an id")
	}
	obj := "Contact"
	if strings.HasPrefix(id, "00Q") {
		obj = "Lead"
	}
	body := map[string]string{c.cfg.OwnerStateField: state}
	if _, err := c.do(ctx, tenant, http.MethodPatch, "/sobjects/"+obj+"/"+url.PathEscape(id), nil, body, nil); err != nil {
		return fmt.Errorf("set %s of %s %s: %w", c.cfg.OwnerStateField, obj, id, err)
	}
	return nil
}
