package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/internal/testredis"
	"github.com/handoff-dev/handoff/jobs"
)

// TestLoopLatencyBench measures the agent's loop at BENCH_RATE turns/s for
// BENCH_DURATION with the HubSpot fake answering every call after
// BENCH_CRM_LATENCY: the time from a turn's POST (with Prefer: wait=10)
// to its synchronous decision, for buyers whose profile is cached (warmed
// first) and for buyers seen for the first time (cold), and the time from
// each ownership change to its callback reaching the receiver. Run it
// with scripts/bench-loop.sh; plain `go test` skips it.
func TestLoopLatencyBench(t *testing.T) {
	if os.Getenv("HANDOFF_LOOP_BENCH") == "" {
		t.Skip("a benchmark: run scripts/bench-loop.sh (HANDOFF_LOOP_BENCH=1)")
	}
	rate, _ := strconv.Atoi(envOr("BENCH_RATE", "50"))
	dur, _ := time.ParseDuration(envOr("BENCH_DURATION", "10s"))
	crmLatency, _ := time.ParseDuration(envOr("BENCH_CRM_LATENCY", "50ms"))
	ctx, cancel := context.WithTimeout(context.Background(), dur+2*time.Minute)
	defer cancel()

	// The callback receiver: arrival time of each owner change.
	var cbMu sync.Mutex
	cbLat := []time.Duration{}
	cbSeen := map[string]bool{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		b, _ := io.ReadAll(r.Body)
		var ev struct {
			Type string `json:"type"`
			Data struct {
				Since time.Time `json:"since"`
			} `json:"data"`
		}
		_ = json.Unmarshal(b, &ev)
		cbMu.Lock()
		if ev.Type == jobs.NoticeOwnerChanged && !cbSeen[r.Header.Get("webhook-id")] {
			cbSeen[r.Header.Get("webhook-id")] = true
			cbLat = append(cbLat, at.Sub(ev.Data.Since))
		}
		cbMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	secret := "whsec_" + strings.Repeat("QUJDRA", 6) // 36 base64 characters

	d, err := startDemo(ctx, demoOptions{RedisURL: testredis.New(t).URL(), LogLevel: envOr("BENCH_LOG_LEVEL", "error"), Log: benchLog(t), Extra: map[string]string{
		"WORKER_CONCURRENCY": envOr("BENCH_WORKER_CONCURRENCY", "100"), "WORKER_POLL_INTERVAL": envOr("BENCH_POLL_INTERVAL", "10ms"),
		"HUBSPOT_RATE_LIMIT": "1000000/10s", "HUBSPOT_SEARCH_RATE_LIMIT": "100000/1s",
		"AGENT_CALLBACK_URL": recv.URL + "/callbacks", "AGENT_CALLBACK_SECRET": secret,
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.HubSpot.SetRateLimit(1_000_000, 10*time.Second)
	d.HubSpot.SetLatency(crmLatency)

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	portal := strconv.Itoa(hubspottest.PortalID)
	warm := []string{"ana@globex.example", "ian@initech.example", "sam.student@university.example", "chris@globex.example"}
	texts := []string{"Can I talk to a human please?", "Thanks, that helps.", "What does the export look like?", "ok"}
	turn := func(i int, email string) Delivery {
		conv := fmt.Sprintf("conv-loop-%s-%d", run, i)
		return d.agentDelivery("bench", map[string]any{
			"type": "agent.turn", "id": conv + "-t1", "occurred_at": time.Now().UTC().Format(time.RFC3339),
			"conversation_id": conv, "channel": "chat",
			"contact": map[string]any{"email": email, "crm": "hubspot", "tenant": portal},
			"turn":    1, "buyer_message": texts[i%len(texts)], "agent_reply": "Let me check.", "confidence": 0.9,
		})
	}
	post := func(dl Delivery) (time.Duration, int, string) {
		dl.Header = dl.Header.Clone()
		dl.Header.Set("Prefer", "wait=10")
		t0 := time.Now()
		r, err := d.post(ctx, dl)
		if err != nil {
			return 0, 0, ""
		}
		var a syncAnswer
		_ = json.Unmarshal([]byte(r.Body), &a)
		action := ""
		if a.Decision != nil {
			action = string(a.Decision.Action)
		}
		return time.Since(t0), r.Status, action
	}
	// Warm the profile cache of the seeded buyers.
	for i, e := range warm {
		post(turn(1_000_001+4*i, e)) // "Thanks, that helps.": decided, nothing escalates
	}

	type result struct {
		lat    time.Duration
		status int
		action string
		cold   bool
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	total := int(float64(rate) * dur.Seconds())
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	// The first half of the turns find their buyer's profile cached; in
	// the second half the buyer's cached profile is deleted just before
	// each POST, so enrichment reads the CRM again (cold).
	rdb := d.app.redis.Client
	for i := 0; i < total; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		cold := i >= total/2
		email := warm[i%len(warm)]
		if cold {
			keys, _ := rdb.Keys(ctx, "handoff:enrich:profile:hubspot:"+portal+":*").Result()
			for _, k := range keys {
				if strings.Contains(strings.ToLower(k), email) || !strings.Contains(k, "@") {
					rdb.Del(ctx, k)
				}
			}
		}
		dl := turn(i, email)
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat, st, action := post(dl)
			mu.Lock()
			results = append(results, result{lat, st, action, cold})
			mu.Unlock()
		}()
	}
	wg.Wait()
	time.Sleep(3 * time.Second) // the last callbacks

	q := func(lat []time.Duration, p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Millisecond)
	}
	var warmLat, coldLat []time.Duration
	byAction := map[string][]time.Duration{}
	pending, failed, actions := 0, 0, map[string]int{}
	for _, r := range results {
		switch r.status {
		case 200:
		case 202:
			pending++
		default:
			failed++
			continue
		}
		actions[r.action]++
		kind := "cached"
		if r.cold {
			kind = "cold"
		}
		byAction[kind+" "+r.action] = append(byAction[kind+" "+r.action], r.lat)
		if r.cold {
			coldLat = append(coldLat, r.lat)
		} else {
			warmLat = append(warmLat, r.lat)
		}
	}
	cbMu.Lock()
	cbs := append([]time.Duration(nil), cbLat...)
	cbMu.Unlock()
	t.Logf("loop: %d turns at %d/s over %s, CRM latency %s: decided %v, pending %d, failed %d", total, rate, dur, crmLatency, actions, pending, failed)
	t.Logf("decision latency, cached profile: p50 %s  p99 %s  max %s (%d turns)", q(warmLat, .5), q(warmLat, .99), q(warmLat, 1), len(warmLat))
	t.Logf("decision latency, cold profile:   p50 %s  p99 %s  max %s (%d turns)", q(coldLat, .5), q(coldLat, .99), q(coldLat, 1), len(coldLat))
	for k, l := range byAction {
		t.Logf("  %-16s p50 %s  p99 %s (%d)", k, q(l, .5), q(l, .99), len(l))
	}
	t.Logf("owner change → callback:          p50 %s  p99 %s  max %s (%d callbacks)", q(cbs, .5), q(cbs, .99), q(cbs, 1), len(cbs))
	if failed > 0 || pending > 0 {
		t.Fatalf("%d turns refused, %d not decided within 10 s", failed, pending)
	}
}
