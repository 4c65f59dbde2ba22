package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/handoff-dev/handoff"
)

func TestRoundRobinRotatesAndCachesOwners(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	route := &handoff.Route{Team: "deal_desk", Owners: []string{"dd1@acme.example", "dd2@acme.example"}, Strategy: StrategyRoundRobin}
	var got []string
	for range 5 {
		o, _, err := h.p.resolveOwner(ctx, h.crm, handoff.SourceHubSpot, "62515", route, handoff.Context{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o.ID)
	}
	if s := strings.Join(got, ","); s != "101,102,101,102,101" {
		t.Fatalf("rotation = %s", s)
	}
	if n := h.crm.Calls("OwnerByEmail"); n != 2 {
		t.Fatalf("OwnerByEmail calls = %d, want 2 (cached)", n)
	}
	// The counter is per team and tenant: another tenant starts over.
	o, _, err := h.p.resolveOwner(ctx, h.crm, handoff.SourceHubSpot, "999", route, handoff.Context{})
	if err != nil || o.ID != "101" {
		t.Fatalf("other tenant: %+v %v", o, err)
	}
}

func TestRoundRobinSkipsUnknownMembers(t *testing.T) {
	h := newHarness(t)
	route := &handoff.Route{Team: "t", Owners: []string{"gone@acme.example", "dd2@acme.example"}}
	for range 3 {
		o, _, err := h.p.resolveOwner(context.Background(), h.crm, handoff.SourceHubSpot, "62515", route, handoff.Context{})
		if err != nil || o.ID != "102" {
			t.Fatalf("owner = %+v, %v", o, err)
		}
	}
	if n := h.crm.Calls("OwnerByEmail"); n != 2 {
		t.Fatalf("OwnerByEmail calls = %d: unknown emails are cached too", n)
	}
}

func TestLeastOpenPicksFewestOpenHandoffs(t *testing.T) {
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.Decider = ruleDecider{version: "v1", route: &handoff.Route{Team: "sdr", Strategy: StrategyLeastOpen,
			Owners: []string{"sdr1@acme.example", "sdr2@acme.example"}}}
	})
	ctx := context.Background()
	var owners []string
	for i := range 3 {
		if err := h.deliver(t, agentEvent(fmt.Sprint("t", i), fmt.Sprint("conv-lo", i), "pricing")); err != nil {
			t.Fatal(err)
		}
		if err := h.runPending(t); err != nil {
			t.Fatal(err)
		}
		owners = append(owners, h.crm.specs[i].Owner.ID)
	}
	if s := strings.Join(owners, ","); s != "103,104,103" {
		t.Fatalf("owners = %s", s)
	}
	if s := h.rdb.ZScore(ctx, keyOpen(handoff.SourceHubSpot, "62515"), "103").Val(); s != 2 {
		t.Fatalf("open count of sdr1 = %v", s)
	}
	// sdr1 completes one: the open count drops, and sdr1 is next again on a tie.
	hid := HandoffID("62515", "conv-lo0", "pricing", "agent:t0")
	h.crm.setState("T1", handoff.TaskCompleted, "", h.clock.Now())
	if err := h.p.checkSLA(ctx, hid, 1); err != nil {
		t.Fatal(err)
	}
	if err := h.deliver(t, agentEvent("t3", "conv-lo3", "pricing")); err != nil {
		t.Fatal(err)
	}
	if err := h.runPending(t); err != nil {
		t.Fatal(err)
	}
	if id := h.crm.specs[3].Owner.ID; id != "103" {
		t.Fatalf("after completion, owner = %s", id)
	}
}

func TestFallbacksInOrderAndNoOwner(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	route := &handoff.Route{To: ToDealOwner, Fallback: &handoff.Route{Owner: "nobody@acme.example",
		Fallback: &handoff.Route{Team: "legal", Owners: []string{"counsel@acme.example"}}}}
	o, tried, err := h.p.resolveOwner(ctx, h.crm, handoff.SourceHubSpot, "62515", route, handoff.Context{})
	if err != nil || o.ID != "106" {
		t.Fatalf("owner = %+v, %v", o, err)
	}
	// What was tried, in order, the owner's step last (recorded as owner_route).
	if got := strings.Join(tried, ","); got != "deal_owner,owner nobody@acme.example,team legal" {
		t.Errorf("tried %q", got)
	}
	o, tried, err = h.p.resolveOwner(ctx, h.crm, handoff.SourceHubSpot, "62515", &handoff.Route{Owner: "777"}, handoff.Context{})
	if err != nil || o.ID != "777" || len(tried) != 1 {
		t.Fatalf("fixed owner id = %+v, %v (tried %v)", o, err, tried)
	}
	c := handoff.Context{Contact: handoff.ContactFacts{OwnerID: "55"}}
	o, tried, err = h.p.resolveOwner(ctx, h.crm, handoff.SourceHubSpot, "62515", &handoff.Route{To: ToAccountOwner}, c)
	if err != nil || o.ID != "55" || strings.Join(tried, ",") != "account_owner,contact_owner" {
		t.Fatalf("last-resort contact owner = %+v, %v (tried %v)", o, err, tried)
	}
	_, _, err = h.p.resolveOwner(ctx, h.crm, handoff.SourceHubSpot, "62515", &handoff.Route{To: ToAccountOwner, Fallback: &handoff.Route{Team: "empty"}}, handoff.Context{})
	var pj *PermanentJobError
	if !errors.As(err, &pj) || !strings.Contains(err.Error(), "tried account_owner, team empty") {
		t.Fatalf("err = %v", err)
	}
}

func TestCompleteness(t *testing.T) {
	b := handoff.Bundle{BuyerAsked: "price?", Sources: []string{"x"}, Account: handoff.AccountFacts{Known: true}}
	missing, c := Completeness(b, []string{"buyer_asked", "sources", "account", "deal", "transcript_url", "Buyer_Asked", "typo"})
	if strings.Join(missing, ",") != "deal,transcript_url,typo" || c != 0.5 {
		t.Fatalf("missing=%v completeness=%v", missing, c)
	}
	if m, c := Completeness(b, nil); m != nil || c != 1 {
		t.Fatalf("nothing required: %v %v", m, c)
	}
}
