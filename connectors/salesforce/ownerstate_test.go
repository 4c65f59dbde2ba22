package salesforce_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/handoff-dev/handoff/connectors/salesforce"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
)

// The owner state is one PATCH of the Contact's (or Lead's) field, the
// sObject Rows update; a field the org lacks is a 400 INVALID_FIELD.
func TestWriteOwnerState(t *testing.T) {
	e := newEnv(t, func(c *salesforce.Config) { c.OwnerStateField = "Handoff_Owner_State__c" })
	tenant := e.install()
	ctx := context.Background()
	if !e.client.OwnerStateEnabled() {
		t.Fatal("enabled with the field set")
	}
	if err := e.client.WriteOwnerState(ctx, tenant, salesforcetest.ContactJane, "pending"); err != nil {
		t.Fatal(err)
	}
	if err := e.client.WriteOwnerState(ctx, tenant, salesforcetest.LeadNewCo, "human"); err != nil {
		t.Fatal(err)
	}
	if r := e.fake.Record("Contact", salesforcetest.ContactJane); r["Handoff_Owner_State__c"] != "pending" {
		t.Fatalf("contact = %v", r)
	}
	if r := e.fake.Record("Lead", salesforcetest.LeadNewCo); r["Handoff_Owner_State__c"] != "human" {
		t.Fatalf("lead = %v", r)
	}
	var paths []string
	for _, r := range e.fake.Requests() {
		if r.Method == "PATCH" {
			var body map[string]string
			if err := json.Unmarshal(r.Body, &body); err != nil || len(body) != 1 {
				t.Fatalf("PATCH body %s", r.Body)
			}
			paths = append(paths, r.Path)
		}
	}
	if len(paths) != 2 || !strings.HasSuffix(paths[0], "/sobjects/Contact/"+salesforcetest.ContactJane) ||
		!strings.HasSuffix(paths[1], "/sobjects/Lead/"+salesforcetest.LeadNewCo) || !strings.HasPrefix(paths[0], "/services/data/v") {
		t.Fatalf("PATCH paths %v", paths)
	}

	e.cfg.OwnerStateField = "No_Such_Field__c"
	c := e.newClient()
	if err := c.WriteOwnerState(ctx, tenant, salesforcetest.ContactJane, "agent"); err == nil || !strings.Contains(err.Error(), "No_Such_Field__c") {
		t.Fatalf("unknown field: %v", err)
	}
	e.cfg.OwnerStateField = ""
	if e.newClient().OwnerStateEnabled() {
		t.Fatal("enabled without SALESFORCE_OWNER_STATE_FIELD")
	}
}
