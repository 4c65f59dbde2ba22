package salesforce

import (
	"context"
	"net/url"
	"strings"
)

// TaskURL is the address a person opens to see a task in Lightning
// Experience: {instance_url}/lightning/r/Task/{id}/view (the org's My
// Domain address redirects to its lightning.force.com host).
func (c *Client) TaskURL(ctx context.Context, tenant, taskID string) (string, error) {
	tok, err := c.token(ctx, tenant)
	if err != nil {
		return "", err
	}
	if tok.InstanceURL == "" {
		return "", nil
	}
	return strings.TrimRight(tok.InstanceURL, "/") + "/lightning/r/Task/" + url.PathEscape(taskID) + "/view", nil
}
