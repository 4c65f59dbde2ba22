package hubspot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/hubspot"
	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
)

// The owner state is one PATCH of the contact's property, in the shape
// the CRM objects API documents; a property the portal lacks is a 400.
func TestWriteOwnerState(t *testing.T) {
	e := newEnv(t, func(c *hubspot.Config) { c.OwnerStateProperty = "handoff_owner_state" })
	e.install(time.Hour)
	ctx := context.Background()
	if !e.client.OwnerStateEnabled() {
		t.Fatal("enabled with the property set")
	}
	// The default seed has no such custom property: HubSpot refuses it.
	if err := e.client.WriteOwnerState(ctx, portal, hubspottest.ContactAna, "pending"); err == nil || !strings.Contains(err.Error(), "handoff_owner_state") {
		t.Fatalf("unknown property: %v", err)
	}

	seed := hubspottest.DefaultSeed()
	seed.ContactProperties = []string{"handoff_owner_state"}
	fake := hubspottest.New(seed)
	t.Cleanup(fake.Close)
	e.fake = fake
	cfg := fake.Config("https://handoff.example.com")
	cfg.OwnerStateProperty = "handoff_owner_state"
	e.client = e.newClient(cfg)
	e.install(time.Hour)
	if err := e.client.WriteOwnerState(ctx, portal, hubspottest.ContactAna, "human"); err != nil {
		t.Fatal(err)
	}
	if p, _ := fake.Contact(hubspottest.ContactAna); p["handoff_owner_state"] != "human" {
		t.Fatalf("contact property = %q", p["handoff_owner_state"])
	}
	var last hubspottest.Request
	for _, r := range fake.Requests() {
		if r.Method == "PATCH" {
			last = r
		}
	}
	var body map[string]map[string]string
	if last.Path != "/crm/v3/objects/contacts/"+hubspottest.ContactAna || json.Unmarshal(last.Body, &body) != nil ||
		len(body) != 1 || len(body["properties"]) != 1 || body["properties"]["handoff_owner_state"] != "human" {
		t.Fatalf("PATCH %s %s", last.Path, last.Body)
	}
	off := e.newClient(fake.Config("https://handoff.example.com"))
	if off.OwnerStateEnabled() {
		t.Fatal("enabled without HUBSPOT_OWNER_STATE_PROPERTY")
	}
}
