package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/connectors/salesforce/salesforcetest"
)

// ownersLadder routes pricing (HubSpot agent turns) and ready-to-buy
// (Salesforce email replies) with the given route.
func ownersLadder(t *testing.T, route string) string {
	t.Helper()
	y := `version: "e2e-owners-1"
defaults:
  sla: 4h
  priority: medium
  route: {to: account_owner, fallback: {team: managers}}
topics:
  pricing: {phrases: [pricing, price, quote, "per seat", "how much"], risk: high}
  ready: {phrases: ["ready to move forward", "get started"]}
teams:
  managers: {owners: [mgr1@acme.example]}
  desk: {owners: [dd1@acme.example], capacity: 1, catch_all: mgr1@acme.example}
  pair: {owners: [dd1@acme.example, dd2@acme.example]}
rungs:
  - id: pricing
    when: "'pricing' in signals.topics || 'ready' in signals.topics"
    action: handoff
    route: ` + route + `
    sla: 4h
    priority: medium
    next_steps: ["Call the buyer back"]
`
	file := writeLadder(t, y)
	return file
}

// An owner marked away through the API is skipped: the round robin's
// first pick, dd1, is away, so dd2 gets the task.
func TestE2EAwayOwnerSkipped(t *testing.T) {
	t.Parallel()
	file := ownersLadder(t, "{team: pair}")
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"LADDER_FILE": file}})
	body := `{"away_until": "` + time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339) + `", "reason": "vacation"}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, d.Base+"/api/owners/"+url.PathEscape("dd1@acme.example")+"/availability", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT availability: %d", resp.StatusCode)
	}
	tag := runTag()
	mustPost(t, ctx, d, d.agentDelivery("ana price", agentTurn("t-away-"+tag, "conv-away-"+tag, anaEmail, "chat", 1, perSeat, "See the pricing page.", 0.9, 0)))
	mustDrain(t, ctx, d, 30*time.Second)
	ids := d.HubSpot.TaskIDs()
	if len(ids) != 1 {
		t.Fatalf("%d tasks, want 1", len(ids))
	}
	if p, _, _ := d.HubSpot.Task(ids[0]); p["hubspot_owner_id"] != hubspottest.OwnerDealDesk2 {
		t.Fatalf("task owner %s, want dd2 (%s): dd1 is away", p["hubspot_owner_id"], hubspottest.OwnerDealDesk2)
	}
}

// A HubSpot account owner referenced by id whose user was deactivated
// (the owner archived) is not given the task: the route's fallback is.
func TestE2EArchivedAccountOwnerFallsBack(t *testing.T) {
	t.Parallel()
	file := ownersLadder(t, "{to: account_owner, fallback: {team: managers}}")
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"LADDER_FILE": file}})
	if !d.HubSpot.SetOwnerArchived(hubspottest.OwnerAE1, true) {
		t.Fatal("no ae1 owner in the fake portal")
	}
	tag := runTag()
	mustPost(t, ctx, d, d.agentDelivery("ana price", agentTurn("t-arch-"+tag, "conv-arch-"+tag, anaEmail, "chat", 1, perSeat, "See the pricing page.", 0.9, 0)))
	mustDrain(t, ctx, d, 30*time.Second)
	if arch := d.archived(); len(arch) != 0 {
		t.Fatalf("archived: %s", arch[0].LastErr)
	}
	ids := d.HubSpot.TaskIDs()
	if len(ids) != 1 {
		t.Fatalf("%d tasks, want 1", len(ids))
	}
	if p, _, _ := d.HubSpot.Task(ids[0]); p["hubspot_owner_id"] != hubspottest.OwnerManager1 {
		t.Fatalf("task owner %s, want the managers' mgr1 (%s): the account owner is archived", p["hubspot_owner_id"], hubspottest.OwnerManager1)
	}
	rec := handoffRecord(t, ctx, d, decisions(t, ctx, d)[0].HandoffID)
	if !strings.Contains(rec["owner_route"], "owner "+hubspottest.OwnerAE1+" (inactive in the CRM)") {
		t.Errorf("owner route %q does not say the account owner was inactive", rec["owner_route"])
	}
}

// Salesforce refuses a task for a user deactivated after the active flag
// was read (INACTIVE_OWNER_OR_USER): the owner is skipped and the route's
// fallback gets the task instead of the task being archived.
func TestE2ESalesforceInactiveOwnerFallsBack(t *testing.T) {
	t.Parallel()
	file := ownersLadder(t, "{to: account_owner, fallback: {team: managers}}")
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"LADDER_FILE": file}})
	// The flag was read as active moments before an admin deactivated
	// the user: the resolution trusts it, the create is refused.
	if err := d.app.redis.Client.Set(ctx, "handoff:owner-active:salesforce:"+salesforcetest.OrgID+":"+salesforcetest.UserAE1, "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if !d.Salesforce.SetUserActive(salesforcetest.UserAE1, false) {
		t.Fatal("no ae1 user in the fake org")
	}
	tag := runTag()
	mustPost(t, ctx, d, d.salesforceEventDelivery("sf jane", "evt-jane-"+tag, salesforceJane(tag)))
	mustDrain(t, ctx, d, 30*time.Second)
	if arch := d.archived(); len(arch) != 0 {
		t.Fatalf("archived: %s", arch[0].LastErr)
	}
	tasks := d.Salesforce.Tasks()
	if len(tasks) != 1 {
		t.Fatalf("%d tasks, want 1", len(tasks))
	}
	if tasks[0]["OwnerId"] != salesforcetest.UserMgr1 {
		t.Fatalf("task owner %v, want the managers' mgr1 (%s)", tasks[0]["OwnerId"], salesforcetest.UserMgr1)
	}
	refused := 0
	for _, r := range d.Salesforce.Requests() {
		if strings.Contains(r.Path, "/sobjects/Task") && r.Status == 400 && strings.Contains(string(r.Body), salesforcetest.UserAE1) {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("%d task writes for the inactive owner were refused, want 1", refused)
	}
	if v, _ := d.app.redis.Client.Get(ctx, "handoff:owner-active:salesforce:"+salesforcetest.OrgID+":"+salesforcetest.UserAE1).Result(); v != "0" {
		t.Errorf("active flag after the refusal %q, want 0", v)
	}
}

// A team whose every member is full hands the task to its catch-all: the
// bundle says so and the outcomes count it.
func TestE2EFullTeamGoesToCatchAll(t *testing.T) {
	t.Parallel()
	file := ownersLadder(t, "{team: desk}")
	d, ctx := newE2E(t, e2eOptions{RealRedis: true, Extra: map[string]string{"LADDER_FILE": file}})
	tag := runTag()
	for i, conv := range []string{"conv-ca1-" + tag, "conv-ca2-" + tag} {
		mustPost(t, ctx, d, d.agentDelivery("ana price", agentTurn("t-ca"+string(rune('1'+i))+"-"+tag, conv, anaEmail, "chat", 1, perSeat, "See the pricing page.", 0.9, 0)))
		mustDrain(t, ctx, d, 30*time.Second)
	}
	if arch := d.archived(); len(arch) != 0 {
		t.Fatalf("archived: %s", arch[0].LastErr)
	}
	ids := d.HubSpot.TaskIDs()
	if len(ids) != 2 {
		t.Fatalf("%d tasks, want 2", len(ids))
	}
	owners := map[string]string{}
	for _, id := range ids {
		p, _, _ := d.HubSpot.Task(id)
		owners[p["hubspot_owner_id"]] = p["hs_task_body"]
	}
	if _, ok := owners[hubspottest.OwnerDealDesk1]; !ok {
		t.Errorf("owners %v: the first task should go to the desk's dd1", keys(owners))
	}
	body, ok := owners[hubspottest.OwnerManager1]
	if !ok {
		t.Fatalf("owners %v: the second task should go to the catch-all mgr1 (the desk is full)", keys(owners))
	}
	if !strings.Contains(body, "catch-all mgr1@acme.example") {
		t.Errorf("the catch-all task's body does not flag it:\n%s", body)
	}
	if strings.Contains(owners[hubspottest.OwnerDealDesk1], "catch-all") {
		t.Errorf("the desk's own task is flagged as catch-all")
	}
	if n, _ := d.app.redis.Client.HGet(ctx, "handoff:outcomes", "catch_all").Int(); n != 1 {
		t.Errorf("catch_all outcome = %d, want 1", n)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
