package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// options is one load run.
type options struct {
	target      *url.URL
	rate        float64 // requests/s; 0 = closed loop, as fast as concurrency allows
	concurrency int     // workers (requests in flight at most)
	duration    time.Duration
	requests    int64   // hard cap on requests scheduled (0 = none; duration bounds the run)
	duplicates  float64 // fraction of requests that resend an earlier payload
	timeout     time.Duration
	drain       time.Duration // how long queued (late) requests may still be sent after the schedule ends
}

// ticket is one scheduled request. intended is when the fixed-rate schedule
// wanted it sent: latency is measured from there, not from when a worker
// got to it, so a stalled server cannot hide its stall (no coordinated
// omission). In closed-loop mode intended is the actual send time.
type ticket struct {
	seq      int64
	intended time.Time
}

// stats are shared by the workers.
type stats struct {
	mu         sync.Mutex
	latency    histogram // scheduled send → 2xx answer read
	service    histogram // actual send → 2xx answer read
	sent       int64
	acked      int64
	resent     int64
	eventsSent int64
	eventsAck  int64
	accepted   int64 // from JSON acknowledgements ("accepted")
	duplicates int64 // from JSON acknowledgements ("duplicates")
	jsonAcks   int64
	status     map[int]int64
	errs       map[string]int64
	lastErr    string
}

type runner struct {
	opt    options
	gen    *generator
	sig    *signer
	org    string
	client *http.Client
	now    func() time.Time

	ringMu sync.Mutex
	ring   []payload
	ringAt int
	ringN  int
}

func newRunner(opt options, gen *generator, sig *signer, org string, client *http.Client) *runner {
	return &runner{opt: opt, gen: gen, sig: sig, org: org, client: client, now: time.Now}
}

// run sends the load and returns the report. It always ends: at
// opt.duration, or opt.requests, whichever comes first, plus opt.drain for
// late requests and opt.timeout for the last answers.
func (r *runner) run(ctx context.Context) report {
	st := &stats{status: map[int]int64{}, errs: map[string]int64{}}
	start := r.now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var scheduled atomic.Int64
	// Open loop queues due requests for free workers; closed loop hands
	// each ticket straight to a worker, so nothing is queued at the end.
	queue := 0
	if r.opt.rate > 0 {
		queue = 1 << 14
	}
	tickets := make(chan ticket, queue)
	var wg sync.WaitGroup
	stopSending := make(chan struct{}) // closed when late tickets must be dropped
	var unsent atomic.Int64

	worker := func(id int) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(id)))
		for t := range tickets {
			select {
			case <-stopSending:
				unsent.Add(1)
				continue
			case <-ctx.Done(): // interrupted: what is left is not sent
				unsent.Add(1)
				continue
			default:
			}
			r.one(ctx, st, rng, t)
		}
	}
	for i := range r.opt.concurrency {
		wg.Add(1)
		go worker(i)
	}

	end := start.Add(r.opt.duration)
	capped := func(n int64) bool { return r.opt.requests > 0 && n >= r.opt.requests }
	if r.opt.rate > 0 {
		// Open loop: request i is due at start + i/rate, whatever happened
		// to the earlier ones.
		interval := float64(time.Second) / r.opt.rate
	schedule:
		for i := int64(0); ; i++ {
			due := start.Add(time.Duration(float64(i) * interval))
			if !due.Before(end) || capped(i) {
				break
			}
			if d := due.Sub(r.now()); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					break schedule
				}
			}
			select {
			case tickets <- ticket{seq: i, intended: due}:
				scheduled.Add(1)
			case <-ctx.Done():
				break schedule
			}
		}
	} else {
		// Closed loop: keep the workers busy until the end.
	feed:
		for i := int64(0); !capped(i); i++ {
			if !r.now().Before(end) {
				break
			}
			select {
			case tickets <- ticket{seq: i}:
				scheduled.Add(1)
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(tickets)
	// Requests scheduled but not yet sent get opt.drain to go out.
	drained := make(chan struct{})
	go func() { wg.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(r.opt.drain):
		close(stopSending)
		<-drained
	}
	elapsed := r.now().Sub(start)
	return st.report(scheduled.Load(), unsent.Load(), elapsed)
}

// one sends one request and records its outcome.
func (r *runner) one(ctx context.Context, st *stats, rng *rand.Rand, t ticket) {
	p, resend := r.pick(rng, t.seq)
	sendAt := r.now()
	if t.intended.IsZero() {
		t.intended = sendAt
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.opt.target.String()+p.path, bytes.NewReader(p.body))
	if err != nil {
		st.fail("build_request", err)
		return
	}
	req.Header = r.sig.headers(&p, sendAt)
	req.ContentLength = int64(len(p.body))
	res, err := r.client.Do(req)
	if err != nil {
		st.mu.Lock()
		st.sent++
		st.eventsSent += int64(p.events)
		st.mu.Unlock()
		st.fail(errorKind(err), err)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	done := r.now()

	var ack struct {
		Accepted   *int64 `json:"accepted"`
		Duplicates *int64 `json:"duplicates"`
	}
	isJSONAck := res.StatusCode/100 == 2 && len(body) > 0 && body[0] == '{' && json.Unmarshal(body, &ack) == nil && ack.Accepted != nil

	st.mu.Lock()
	defer st.mu.Unlock()
	st.sent++
	st.eventsSent += int64(p.events)
	if resend {
		st.resent++
	}
	st.status[res.StatusCode]++
	if res.StatusCode/100 == 2 {
		st.acked++
		st.eventsAck += int64(p.events)
		st.latency.record(done.Sub(t.intended))
		st.service.record(done.Sub(sendAt))
		if isJSONAck {
			st.jsonAcks++
			st.accepted += *ack.Accepted
			if ack.Duplicates != nil {
				st.duplicates += *ack.Duplicates
			}
		}
	}
}

// pick returns a new payload, or with probability opt.duplicates an
// earlier one (a resend).
func (r *runner) pick(rng *rand.Rand, seq int64) (payload, bool) {
	if r.opt.duplicates > 0 && rng.Float64() < r.opt.duplicates {
		r.ringMu.Lock()
		if r.ringN > 0 {
			p := r.ring[rng.IntN(r.ringN)]
			r.ringMu.Unlock()
			return p, true
		}
		r.ringMu.Unlock()
	}
	p := r.gen.next(seq, r.org)
	if r.opt.duplicates > 0 {
		r.remember(p)
	}
	return p, false
}

// remember keeps p for resends in a ring bounded to about 16 MiB.
func (r *runner) remember(p payload) {
	r.ringMu.Lock()
	defer r.ringMu.Unlock()
	if r.ring == nil {
		n := min(max((16<<20)/max(len(p.body), 1), 16), 4096)
		r.ring = make([]payload, n)
	}
	r.ring[r.ringAt] = p
	r.ringAt = (r.ringAt + 1) % len(r.ring)
	r.ringN = min(r.ringN+1, len(r.ring))
}

func (st *stats) fail(kind string, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.errs[kind]++
	st.lastErr = err.Error()
}

// errorKind names a transport error for the report.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_reset"
	case errors.Is(err, errNotLoopback):
		return "not_loopback"
	default:
		return "other"
	}
}

var errNotLoopback = errors.New("connected to a non-loopback address")

// newClient returns an HTTP client for the load: enough idle connections
// for every worker, and a dialer that refuses any connection whose remote
// address is not loopback (in case "localhost" resolves elsewhere).
func newClient(concurrency int, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			if !isLoopbackHost(host) {
				c.Close()
				return nil, fmt.Errorf("dial %s: %w (%s)", addr, errNotLoopback, host)
			}
			return c, nil
		},
		MaxIdleConns:        2 * concurrency,
		MaxIdleConnsPerHost: 2 * concurrency,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
