package main

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer answers 200 with a JSON ack after delay and counts requests.
func countingServer(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if delay > 0 {
			time.Sleep(delay) // the server's simulated work
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok","received":1,"accepted":1,"duplicates":0}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func testRunner(t *testing.T, srvURL string, opt options, source string, sec secrets) *runner {
	t.Helper()
	u, err := checkLoopback(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	opt.target = u
	if opt.timeout == 0 {
		opt.timeout = 5 * time.Second
	}
	if opt.drain == 0 {
		opt.drain = 5 * time.Second
	}
	if sec.PublicBaseURL == "" {
		sec.PublicBaseURL = u.String()
	}
	gen, err := newGenerator(source, max(1, 1), sec, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sig, err := newSigner(sec)
	if err != nil {
		t.Fatal(err)
	}
	return newRunner(opt, gen, sig, sec.SalesforceOrgID, newClient(opt.concurrency, opt.timeout))
}

func TestFixedRateSendsOnSchedule(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		w.Write([]byte(`{"status":"ok","received":1,"accepted":1,"duplicates":0}`))
	}))
	defer srv.Close()
	r := testRunner(t, srv.URL, options{rate: 200, concurrency: 8, duration: 600 * time.Millisecond}, srcMarketo, secrets{MarketoWebhookSecret: "m"})
	start := time.Now()
	rep := r.run(t.Context())
	took := time.Since(start)
	// 200/s for 0.6 s: requests 0..119 are due before the end.
	if rep.Scheduled != 120 || rep.Sent != 120 || len(arrivals) != 120 {
		t.Fatalf("scheduled %d, sent %d, server saw %d; want 120", rep.Scheduled, rep.Sent, len(arrivals))
	}
	if rep.Acked != 120 || rep.EventsAcked != 120 || rep.EventsAccepted != 120 || rep.JSONAcks != 120 {
		t.Errorf("acked %d, events acked %d, accepted %d, json acks %d", rep.Acked, rep.EventsAcked, rep.EventsAccepted, rep.JSONAcks)
	}
	// Open loop: never ahead of the schedule. The k-th arrival cannot come
	// before request k was due (a loaded machine may only make it later).
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	for k, at := range arrivals {
		if due := start.Add(time.Duration(k) * 5 * time.Millisecond); at.Before(due) {
			t.Fatalf("arrival %d at +%s, before its due time +%s", k, at.Sub(start), due.Sub(start))
		}
	}
	if took < 595*time.Millisecond || took > 5*time.Second {
		t.Errorf("run took %s, want about 600ms", took)
	}
	if rep.RequestsPerS > 205 {
		t.Errorf("acked rate %.1f/s is above the schedule's 200", rep.RequestsPerS)
	}
}

func TestRequestsCapStopsClosedLoop(t *testing.T) {
	srv, n := countingServer(t, 0)
	r := testRunner(t, srv.URL, options{concurrency: 4, duration: time.Minute, requests: 37}, srcAgent, secrets{AgentWebhookSecret: "whsec_YWdlbnQtc2VjcmV0"})
	start := time.Now()
	rep := r.run(t.Context())
	if rep.Sent != 37 || n.Load() != 37 || rep.Acked != 37 {
		t.Errorf("sent %d, server saw %d, acked %d; want 37", rep.Sent, n.Load(), rep.Acked)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the cap did not end the run early")
	}
}

// A server slower than the schedule: latency counted from the scheduled
// time shows the queueing that the service time alone would hide.
func TestLatencyIncludesQueueingBehindSlowServer(t *testing.T) {
	srv, _ := countingServer(t, 20*time.Millisecond)
	r := testRunner(t, srv.URL, options{rate: 200, concurrency: 1, duration: 150 * time.Millisecond}, srcMarketo, secrets{MarketoWebhookSecret: "m"})
	rep := r.run(t.Context())
	if rep.Sent != 30 || rep.Unsent != 0 {
		t.Fatalf("sent %d, unsent %d; want 30 and 0", rep.Sent, rep.Unsent)
	}
	// 30 requests of ≥20 ms back to back: the last finishes ≥ 600 ms after
	// start, but was due at 145 ms, so its latency is ≥ 455 ms while its
	// service time may be 20 ms.
	if rep.Service.P50 < 20 {
		t.Errorf("service p50 %.1f ms, below the server's 20 ms", rep.Service.P50)
	}
	if rep.Latency.Max < 450 || rep.Latency.Mean <= rep.Service.Mean {
		t.Errorf("latency max %.1f ms, mean %.1f ms hides the queueing (service mean %.1f ms)", rep.Latency.Max, rep.Latency.Mean, rep.Service.Mean)
	}
}

func TestDrainDropsLateRequests(t *testing.T) {
	srv, _ := countingServer(t, 50*time.Millisecond)
	r := testRunner(t, srv.URL, options{rate: 1000, concurrency: 1, duration: 100 * time.Millisecond, drain: 100 * time.Millisecond}, srcMarketo, secrets{MarketoWebhookSecret: "m"})
	start := time.Now()
	rep := r.run(t.Context())
	if rep.Scheduled != 100 || rep.Unsent == 0 || rep.Sent+rep.Unsent != rep.Scheduled {
		t.Errorf("scheduled %d, sent %d, unsent %d", rep.Scheduled, rep.Sent, rep.Unsent)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("run took %s despite the drain limit", d)
	}
}

func TestErrorsByStatusAndTransport(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			http.Error(w, `{"error":{"code":"unavailable"}}`, http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"status":"ok","received":1,"accepted":1,"duplicates":0}`))
	}))
	defer srv.Close()
	r := testRunner(t, srv.URL, options{concurrency: 1, duration: time.Minute, requests: 10}, srcMarketo, secrets{MarketoWebhookSecret: "m"})
	rep := r.run(t.Context())
	if rep.Status["200"] != 5 || rep.Status["503"] != 5 || rep.Acked != 5 || rep.Latency.N != 5 {
		t.Errorf("status %v, acked %d, latency samples %d", rep.Status, rep.Acked, rep.Latency.N)
	}

	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	r = testRunner(t, url, options{concurrency: 1, duration: time.Minute, requests: 3}, srcMarketo, secrets{MarketoWebhookSecret: "m"})
	rep = r.run(t.Context())
	if rep.Errors["connection_refused"] != 3 || rep.Acked != 0 {
		t.Errorf("errors %v (last %q), acked %d", rep.Errors, rep.LastError, rep.Acked)
	}
}

func TestDuplicatesResendEarlierPayloads(t *testing.T) {
	var mu sync.Mutex
	bodies := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, r.ContentLength)
		r.Body.Read(b)
		mu.Lock()
		bodies[string(b)]++
		mu.Unlock()
	}))
	defer srv.Close()
	r := testRunner(t, srv.URL, options{concurrency: 2, duration: time.Minute, requests: 400, duplicates: 0.25}, srcMarketo, secrets{MarketoWebhookSecret: "m"})
	rep := r.run(t.Context())
	repeats := 0
	for _, c := range bodies {
		repeats += c - 1
	}
	if int64(repeats) != rep.Resent || rep.Resent < 60 || rep.Resent > 140 {
		t.Errorf("resent %d (server saw %d repeated bodies), want about 100 of 400", rep.Resent, repeats)
	}

	// Without --duplicates every request is distinct.
	clear(bodies)
	r = testRunner(t, srv.URL, options{concurrency: 2, duration: time.Minute, requests: 200}, srcMarketo, secrets{MarketoWebhookSecret: "m"})
	r.run(t.Context())
	if len(bodies) != 200 {
		t.Errorf("%d distinct bodies of 200", len(bodies))
	}
}

func TestHistogramQuantilesMatchSortedSample(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h histogram
	var sample []uint64
	for range 20000 {
		// log-uniform from 1 µs to ~10 s
		v := uint64(math.Exp2(rng.Float64() * 23))
		v += uint64(rng.IntN(int(v)))
		sample = append(sample, v)
		h.record(time.Duration(v) * time.Microsecond)
	}
	slices.Sort(sample)
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
		exact := sample[max(int(float64(len(sample))*q+0.999999)-1, 0)]
		got := uint64(h.quantile(q) / time.Microsecond)
		if got < exact || float64(got-exact) > float64(exact)/64+1 {
			t.Errorf("q%.3f: histogram %d µs, exact %d µs", q, got, exact)
		}
	}
	if uint64(h.quantile(1)/time.Microsecond) != sample[len(sample)-1] || h.max != sample[len(sample)-1] || h.min != sample[0] {
		t.Errorf("max/min not exact: q1 %s, max %d, min %d", h.quantile(1), h.max, h.min)
	}
	for i := range 57*subBuckets + 128 {
		if v := bucketHigh(i); bucketOf(v) != i || (i > 0 && bucketOf(bucketHigh(i-1)+1) != i) {
			t.Fatalf("bucket %d: high %d maps to %d", i, v, bucketOf(v))
		}
	}
	// merge is the same as recording into one histogram
	var a, b histogram
	for i, v := range sample {
		if i%2 == 0 {
			a.record(time.Duration(v) * time.Microsecond)
		} else {
			b.record(time.Duration(v) * time.Microsecond)
		}
	}
	a.merge(&b)
	if a.counts != h.counts || a.total != h.total || a.max != h.max || a.min != h.min {
		t.Error("merged histogram differs")
	}
}

func TestReportMath(t *testing.T) {
	st := &stats{status: map[int]int64{200: 8, 503: 2}, errs: map[string]int64{"timeout": 1}, sent: 11, acked: 8, eventsSent: 1100, eventsAck: 800}
	for _, ms := range []int{1, 2, 3, 4, 5, 6, 7, 100} {
		st.latency.record(time.Duration(ms) * time.Millisecond)
	}
	rep := st.report(12, 1, 4*time.Second)
	if rep.RequestsPerS != 2 || rep.EventsPerS != 200 {
		t.Errorf("rates %.2f req/s, %.2f events/s; want 2 and 200", rep.RequestsPerS, rep.EventsPerS)
	}
	// 4 ms is reported as the top of its bucket (within 1/64); 100 ms is the exact max.
	if rep.Latency.P50 < 4 || rep.Latency.P50 > 4*(1+1.0/64) || rep.Latency.P90 != 100 || rep.Latency.Max != 100 || rep.Latency.N != 8 {
		t.Errorf("latency %+v", rep.Latency)
	}
	if rep.Latency.Mean < 16 || rep.Latency.Mean > 16.01 {
		t.Errorf("mean %.3f, want 16", rep.Latency.Mean)
	}
	if rep.Status["503"] != 2 || rep.Scheduled != 12 || rep.Unsent != 1 {
		t.Errorf("report %+v", rep)
	}
	var text strings.Builder
	rep.writeText(&text)
	for _, want := range []string{"200=8 503=2", "timeout=1", "p99 100.00", "200.0 acknowledged events/s"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	b, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(b), `"events_acked_per_s":200`) {
		t.Errorf("json %s %v", b, err)
	}
}
