package jobs

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/handoff-dev/handoff"
)

func TestAvailabilityAPI(t *testing.T) {
	h := newHarness(t)
	e := serveAPI(t, h)
	path := "/api/owners/" + url.PathEscape("DD1@acme.example") + "/availability"
	until := h.clock.Now().Add(72 * time.Hour).Format(time.RFC3339)

	code, out := call(t, e, http.MethodGet, path, "")
	if code != http.StatusOK || out["away"] != false || out["email"] != "dd1@acme.example" {
		t.Fatalf("GET before = %d %v", code, out)
	}
	code, out = call(t, e, http.MethodPut, path, `{"away_until": "`+until+`", "reason": "vacation"}`)
	if code != http.StatusOK || out["away"] != true || out["reason"] != "vacation" {
		t.Fatalf("PUT = %d %v", code, out)
	}
	code, out = call(t, e, http.MethodGet, path, "")
	if code != http.StatusOK || out["away"] != true || out["away_until"] == nil {
		t.Fatalf("GET after PUT = %d %v", code, out)
	}
	for body, want := range map[string]string{
		`{"away_until": "next week"}`: "bad_away_until",
		`{"away_until": "` + h.clock.Now().Add(-time.Hour).Format(time.RFC3339) + `"}`:       "bad_away_until",
		`{"away_until": "` + h.clock.Now().Add(400*24*time.Hour).Format(time.RFC3339) + `"}`: "bad_away_until",
		`not json`: "bad_body",
	} {
		code, out := call(t, e, http.MethodPut, path, body)
		if code != http.StatusBadRequest || out["error"].(map[string]any)["code"] != want {
			t.Errorf("PUT %s = %d %v, want 400 %s", body, code, out, want)
		}
	}
	if code, _ := call(t, e, http.MethodPut, "/api/owners/nobody/availability", `{"away_until": "`+until+`"}`); code != http.StatusBadRequest {
		t.Errorf("PUT for a non-email owner = %d", code)
	}
	code, out = call(t, e, http.MethodDelete, path, "")
	if code != http.StatusOK || out["away"] != false {
		t.Fatalf("DELETE = %d %v", code, out)
	}
	if _, out = call(t, e, http.MethodGet, path, ""); out["away"] != false {
		t.Fatalf("GET after DELETE = %v", out)
	}
}

// An away team member is skipped (the next one gets the task); an away
// account owner falls back along the route; once the period ends the
// owner is routed to again.
func TestAwayOwnersAreSkipped(t *testing.T) {
	team := &handoff.Route{Team: "deal_desk", Owners: []string{"dd1@acme.example", "dd2@acme.example"}}
	cases := []struct {
		name  string
		route *handoff.Route
		away  string
		want  string // owner id
	}{
		{"team member away: the next member", team, "dd1@acme.example", "102"},
		{"account owner away: the fallback", &handoff.Route{To: "account_owner", Fallback: &handoff.Route{Team: "managers", Owners: []string{"mgr1@acme.example"}}}, "owner@acme.example", "105"},
		{"fixed owner away: the fallback", &handoff.Route{Owner: "counsel@acme.example", Fallback: team}, "counsel@acme.example", "101"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(_ *Config, d *Deps) {
				d.Decider = ruleDecider{version: "v1", sla: time.Hour, route: tc.route}
			})
			if _, err := h.p.SetAway(t.Context(), tc.away, h.clock.Now().Add(24*time.Hour), "vacation"); err != nil {
				t.Fatal(err)
			}
			if err := h.deliver(t, agentEvent("t1", "conv-away", "pricing")); err != nil {
				t.Fatal(err)
			}
			if err := h.runPending(t); err != nil {
				t.Fatal(err)
			}
			if len(h.crm.specs) != 1 || h.crm.specs[0].Owner.ID != tc.want {
				t.Fatalf("owner = %+v, want id %s", h.crm.specs, tc.want)
			}
			// A day later the owner is back.
			h.clock.Advance(25 * time.Hour)
			if _, away, err := h.p.AwayOf(t.Context(), tc.away); err != nil || away {
				t.Fatalf("still away after the period: %v %v", away, err)
			}
		})
	}
}
