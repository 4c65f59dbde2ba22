package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoff-dev/handoff/connectors/hubspot/hubspottest"
	"github.com/handoff-dev/handoff/internal/testredis"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// TestPipelineLatencyBench measures event → task latency through the whole
// pipeline (HTTP ack, queue, enrichment, ladder, task write) with the fake
// CRM answering every call after BENCH_CRM_LATENCY, at BENCH_RATE events/s
// for BENCH_DURATION. Run it with scripts/bench-pipeline.sh; plain
// `go test` skips it.
func TestPipelineLatencyBench(t *testing.T) {
	if os.Getenv("HANDOFF_PIPELINE_BENCH") == "" {
		t.Skip("a benchmark: run scripts/bench-pipeline.sh (HANDOFF_PIPELINE_BENCH=1)")
	}
	rate, _ := strconv.Atoi(envOr("BENCH_RATE", "200"))
	dur, _ := time.ParseDuration(envOr("BENCH_DURATION", "10s"))
	crmLatency, _ := time.ParseDuration(envOr("BENCH_CRM_LATENCY", "50ms"))
	ctx, cancel := context.WithTimeout(context.Background(), dur+2*time.Minute)
	defer cancel()

	d, err := startDemo(ctx, demoOptions{RedisURL: testredis.New(t).URL(), LogLevel: envOr("BENCH_LOG_LEVEL", "error"), Log: benchLog(t), Extra: map[string]string{
		"WORKER_CONCURRENCY": envOr("BENCH_WORKER_CONCURRENCY", "200"), "WORKER_POLL_INTERVAL": "10ms",
		"REDIS_POOL_SIZE": envOr("BENCH_REDIS_POOL_SIZE", "0"),
		// The benchmark measures our pipeline, not HubSpot's budget.
		"HUBSPOT_RATE_LIMIT": "1000000/10s", "HUBSPOT_SEARCH_RATE_LIMIT": "100000/1s",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.HubSpot.SetRateLimit(1_000_000, 10*time.Second)
	d.HubSpot.SetLatency(crmLatency)

	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	contacts := []string{"ana@globex.example", "ian@initech.example", "sam.student@university.example", "chris@globex.example"}
	portal := strconv.Itoa(hubspottest.PortalID)
	total := int(float64(rate) * dur.Seconds())

	var mu sync.Mutex
	sent := make(map[string]time.Time, total)
	seen := make(map[string]time.Time, total)
	tasksPerConv := map[string]int{}
	failed := 0

	// Watch the fake for new tasks; the transcript link in the body names the conversation.
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		known := map[string]bool{}
		for {
			for _, id := range d.HubSpot.TaskIDs() {
				if known[id] {
					continue
				}
				known[id] = true
				p, _, _ := d.HubSpot.Task(id)
				body := p["hs_task_body"]
				i := strings.Index(body, "conv-bench-"+run+"-")
				if i < 0 {
					continue
				}
				conv := body[i:]
				conv = conv[:strings.IndexFunc(conv, func(r rune) bool { return r == '"' || r == '<' || r == ' ' || r == '&' })]
				mu.Lock()
				tasksPerConv[conv]++
				if _, ok := seen[conv]; !ok {
					seen[conv] = time.Now()
				}
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()

	// Open-loop sender: one event every 1/rate, whatever the answers take.
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; i < total; i++ {
		next := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(next))
		conv := fmt.Sprintf("conv-bench-%s-%d", run, i)
		turn := map[string]any{
			"type": "agent.turn", "id": conv + "-t1", "occurred_at": time.Now().UTC().Format(time.RFC3339),
			"conversation_id": conv, "channel": "chat",
			"contact": map[string]any{"email": benchContact(contacts, i), "crm": "hubspot", "tenant": portal},
			"turn":    1, "buyer_message": "Can I talk to a human please?", "agent_reply": "Let me find someone.",
			"confidence": 0.9, "transcript_url": "https://agent.example/c/" + conv,
		}
		dl := d.agentDelivery("bench", turn)
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			r, err := d.post(ctx, dl)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || r.Status != 200 {
				failed++
				return
			}
			sent[conv] = t0
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= total-failed || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	<-watched

	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	dups := 0
	for conv, t0 := range sent {
		if s, ok := seen[conv]; ok {
			lat = append(lat, s.Sub(t0))
		}
		if tasksPerConv[conv] > 1 {
			dups++
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	t.Logf("pipeline: %d events at %d/s over %s, CRM latency %s: acknowledged %d, failed %d, tasks %d, duplicates %d",
		total, rate, dur, crmLatency, len(sent), failed, len(lat), dups)
	t.Logf("event → task latency: p50 %s  p90 %s  p99 %s  max %s",
		q(0.50).Round(time.Millisecond), q(0.90).Round(time.Millisecond), q(0.99).Round(time.Millisecond), q(1).Round(time.Millisecond))
	if len(lat) != len(sent) || dups > 0 || failed > 0 {
		t.Fatalf("lost %d, duplicated %d, refused %d", len(sent)-len(lat), dups, failed)
	}
}

// benchLog writes the service log to BENCH_LOG when set.
func benchLog(t *testing.T) io.Writer {
	p := os.Getenv("BENCH_LOG")
	if p == "" {
		return nil
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// benchContact spreads events over BENCH_CONTACTS buyers: the seeded ones
// (known to the CRM) and others the CRM does not know (negative-cached).
func benchContact(seeded []string, i int) string {
	n, _ := strconv.Atoi(envOr("BENCH_CONTACTS", "200"))
	k := i % max(n, 1)
	if k < len(seeded) {
		return seeded[k]
	}
	return fmt.Sprintf("buyer%d@prospect%d.example", k, k%17)
}
