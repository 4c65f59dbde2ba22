package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// report is what a run measured. JSON field names are part of the
// benchmark script's interface.
type report struct {
	Source      string  `json:"source"`
	Target      string  `json:"target"`
	Rate        float64 `json:"rate"`
	Concurrency int     `json:"concurrency"`
	Batch       int     `json:"batch"`
	ElapsedS    float64 `json:"elapsed_s"`

	Scheduled int64 `json:"requests_scheduled"`
	Sent      int64 `json:"requests_sent"`
	Unsent    int64 `json:"requests_unsent"` // scheduled but dropped at the end (the server fell behind)
	Acked     int64 `json:"requests_acked"`
	Resent    int64 `json:"requests_resent"` // --duplicates resends among Sent

	EventsSent       int64 `json:"events_sent"`
	EventsAcked      int64 `json:"events_acked"`
	EventsAccepted   int64 `json:"events_accepted"`   // sum of "accepted" in JSON acks
	EventsDuplicates int64 `json:"events_duplicates"` // sum of "duplicates" in JSON acks
	JSONAcks         int64 `json:"json_acks"`         // acks that carried those counts

	Status    map[string]int64 `json:"status"` // HTTP status → requests
	Errors    map[string]int64 `json:"errors"` // transport error kind → requests
	LastError string           `json:"last_error,omitempty"`

	RequestsPerS float64 `json:"requests_acked_per_s"`
	EventsPerS   float64 `json:"events_acked_per_s"`

	Latency latencies `json:"latency_ms"` // from the scheduled send time (open loop) to the 2xx answer
	Service latencies `json:"service_ms"` // from the actual send to the 2xx answer
}

type latencies struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	N    uint64  `json:"n"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func summarize(h *histogram) latencies {
	return latencies{
		P50: ms(h.quantile(0.50)), P90: ms(h.quantile(0.90)), P99: ms(h.quantile(0.99)),
		Max: ms(time.Duration(h.max) * time.Microsecond), Mean: ms(h.mean()), N: h.total,
	}
}

func (st *stats) report(scheduled, unsent int64, elapsed time.Duration) report {
	st.mu.Lock()
	defer st.mu.Unlock()
	r := report{
		ElapsedS:  elapsed.Seconds(),
		Scheduled: scheduled, Sent: st.sent, Unsent: unsent, Acked: st.acked, Resent: st.resent,
		EventsSent: st.eventsSent, EventsAcked: st.eventsAck,
		EventsAccepted: st.accepted, EventsDuplicates: st.duplicates, JSONAcks: st.jsonAcks,
		Status: map[string]int64{}, Errors: maps.Clone(st.errs), LastError: st.lastErr,
		Latency: summarize(&st.latency), Service: summarize(&st.service),
	}
	for code, n := range st.status {
		r.Status[strconv.Itoa(code)] = n
	}
	if s := elapsed.Seconds(); s > 0 {
		r.RequestsPerS = float64(st.acked) / s
		r.EventsPerS = float64(st.eventsAck) / s
	}
	return r
}

// writeText prints the report for people.
func (r report) writeText(w io.Writer) {
	mode := "closed loop (as fast as possible)"
	if r.Rate > 0 {
		mode = fmt.Sprintf("open loop at %g req/s", r.Rate)
	}
	fmt.Fprintf(w, "handoff-load: %s → %s, %s, concurrency %d, batch %d, %.2f s\n",
		r.Source, r.Target, mode, r.Concurrency, r.Batch, r.ElapsedS)
	fmt.Fprintf(w, "requests: %d scheduled, %d sent (%d resends), %d acknowledged (2xx), %d not sent at the end\n",
		r.Scheduled, r.Sent, r.Resent, r.Acked, r.Unsent)
	fmt.Fprintf(w, "events:   %d sent, %d acknowledged", r.EventsSent, r.EventsAcked)
	if r.JSONAcks > 0 {
		fmt.Fprintf(w, " (JSON acks: %d accepted, %d duplicates)", r.EventsAccepted, r.EventsDuplicates)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "rate:     %.1f acknowledged requests/s, %.1f acknowledged events/s\n", r.RequestsPerS, r.EventsPerS)
	fmt.Fprintf(w, "status:   %s\n", kv(r.Status))
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "errors:   %s (last: %s)\n", kv(r.Errors), r.LastError)
	}
	l := r.Latency
	fmt.Fprintf(w, "ack latency (ms, from scheduled send): p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f  (n=%d)\n", l.P50, l.P90, l.P99, l.Max, l.Mean, l.N)
	s := r.Service
	fmt.Fprintf(w, "service time (ms, from actual send):   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  mean %.2f\n", s.P50, s.P90, s.P99, s.Max, s.Mean)
}

func kv(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
