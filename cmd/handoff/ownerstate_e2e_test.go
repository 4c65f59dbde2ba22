package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
)

// With HUBSPOT_OWNER_STATE_PROPERTY set, the contact's property follows
// the conversation's owner: pending once the handoff is made, released
// when the conversation is given back to the agent.
func TestE2EOwnerStateMirroredInHubSpot(t *testing.T) {
	t.Parallel()
	const prop = "handoff_owner_state"
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"HUBSPOT_OWNER_STATE_PROPERTY": prop}})
	tag := runTag()
	conv := "conv-own-" + tag
	mustPost(t, ctx, d, d.agentDelivery("ana price", agentTurn("t-own-"+tag, conv, anaEmail, "chat", 1, perSeat, "See the pricing page.", 0.9, 0)))
	state := func() string {
		p, _ := d.HubSpot.Contact(hubspottest.ContactAna)
		return p[prop]
	}
	eventually(t, 30*time.Second, "the contact's owner state becomes pending", func() bool { return state() == "pending" })
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.Base+"/api/conversations/"+url.PathEscape(conv)+"/release", nil)
	req.Header.Set("Authorization", "Bearer "+d.AdminToken)
	resp, err := d.http.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("release %s: %v %v", conv, err, resp)
	}
	resp.Body.Close()
	eventually(t, 30*time.Second, "the contact's owner state becomes released", func() bool { return state() == "released" })
	mustDrain(t, ctx, d, 30*time.Second)
	if got := state(); got != "released" {
		t.Fatalf("after the queue drained the contact says %q, want released", got)
	}
}
