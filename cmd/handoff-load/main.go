// Command handoff-load sends signed webhooks at a fixed rate and reports
// the acknowledgement rate and latency percentiles.
//
// By default it starts its own loopback server (the real webhook handlers
// and the real ingester on the Redis at -redis) with generated secrets:
//
//	handoff-load -redis redis://127.0.0.1:6379/15 -source hubspot -rate 50 -batch 100 -duration 10s
//
// With -target it sends to a running Handoff instead, signing with the
// secrets from the environment (HUBSPOT_CLIENT_SECRET, MARKETO_WEBHOOK_SECRET,
// AGENT_WEBHOOK_SECRET); -target must then be the instance's PUBLIC_BASE_URL.
//
// The load is open-loop: requests start on schedule whether or not earlier
// ones have been answered, so a slow server shows up as latency, not as a
// lower send rate.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/handoff-dev/handoff/jobs"
	"github.com/handoff-dev/handoff/webhooks"
)

type options struct {
	source   string
	rate     float64
	duration time.Duration
	batch    int
	target   string
	redisURL string
	timeout  time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "handoff-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("handoff-load", flag.ContinueOnError)
	fs.StringVar(&o.source, "source", "hubspot", "hubspot, marketo or agent")
	fs.Float64Var(&o.rate, "rate", 20, "requests per second")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send")
	fs.IntVar(&o.batch, "batch", 100, "events per HubSpot request (1-100)")
	fs.StringVar(&o.target, "target", "", "base URL of a running Handoff (default: a loopback server started here)")
	fs.StringVar(&o.redisURL, "redis", "", "redis:// URL for the loopback server's queue (required without -target)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "per-request timeout (HubSpot's is 5s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.rate <= 0 || o.duration <= 0 || o.batch < 1 || o.batch > webhooks.MaxBatch {
		return errors.New("-rate and -duration must be positive and -batch within 1..100")
	}
	secrets := map[string]string{
		"hubspot": os.Getenv("HUBSPOT_CLIENT_SECRET"),
		"marketo": os.Getenv("MARKETO_WEBHOOK_SECRET"),
		"agent":   os.Getenv("AGENT_WEBHOOK_SECRET"),
	}
	if _, ok := secrets[o.source]; !ok {
		return fmt.Errorf("-source %q: want hubspot, marketo or agent", o.source)
	}
	base := strings.TrimRight(o.target, "/")
	if base == "" {
		if o.redisURL == "" {
			return errors.New("-redis is required to start the loopback server (or give -target)")
		}
		var err error
		var shutdown func()
		base, shutdown, err = startLoopback(o.redisURL, secrets)
		if err != nil {
			return err
		}
		defer shutdown()
	} else if secrets[o.source] == "" {
		return fmt.Errorf("the secret of %s is not set in the environment", o.source)
	}
	g := &generator{source: o.source, base: base, secret: secrets[o.source], batch: o.batch, run: time.Now().UnixNano()}
	rep := load(ctx, o, g)
	rep.print(out, o)
	return nil
}

// startLoopback serves the real handlers on 127.0.0.1 with fresh secrets.
func startLoopback(redisURL string, secrets map[string]string) (string, func(), error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return "", nil, fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		return "", nil, fmt.Errorf("reach Redis at %s: %w", opt.Addr, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	base := "http://" + l.Addr().String()
	for k := range secrets {
		key := make([]byte, 24)
		_, _ = rand.Read(key)
		secrets[k] = "whsec_" + base64.StdEncoding.EncodeToString(key)
	}
	ing := jobs.NewIngester(asynq.NewClientFromRedisClient(rdb), rdb, jobs.IngestConfig{})
	h, err := webhooks.New(webhooks.Config{
		PublicBaseURL: base, HubSpotClientSecret: secrets["hubspot"], MarketoWebhookSecret: secrets["marketo"],
		MarketoBaseURL: "https://000-LOAD-000.mktorest.com", AgentWebhookSecret: secrets["agent"],
	}, ing, prometheus.NewRegistry(), slog.New(slog.DiscardHandler), nil)
	if err != nil {
		return "", nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	h.Register(e)
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return base, func() { _ = srv.Close(); _ = rdb.Close() }, nil
}

// generator builds unique, signed requests.
type generator struct {
	source, base, secret string
	batch                int
	run                  int64
	mu                   sync.Mutex
	n                    int64
}

func (g *generator) next() (*http.Request, error) {
	g.mu.Lock()
	g.n++
	n := g.n
	g.mu.Unlock()
	var body []byte
	h := http.Header{"Content-Type": {"application/json"}}
	url := g.base
	now := time.Now()
	switch g.source {
	case "hubspot":
		url += webhooks.PathHubSpot
		var b strings.Builder
		b.WriteByte('[')
		for i := range g.batch {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"eventId":%d,"subscriptionId":1,"portalId":62515,"appId":1,"occurredAt":%d,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":%d,"propertyName":"lifecyclestage","propertyValue":"salesqualifiedlead","changeSource":"CRM_UI"}`,
				n*1000+int64(i), now.UnixMilli(), g.run%1e9*1000+n*100+int64(i))
		}
		b.WriteByte(']')
		body = []byte(b.String())
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		h.Set(webhooks.HeaderHubSpotTimestamp, ts)
		h.Set(webhooks.HeaderHubSpotSignatureV3, webhooks.HubSpotSignV3([]byte(g.secret), http.MethodPost, webhooks.HubSpotV3URI(g.base, webhooks.PathHubSpot), body, ts))
	case "marketo":
		url += webhooks.PathMarketo
		body = fmt.Appendf(nil, `{"lead_id":%d,"kind":"form_submission","occurred_at":"%s","activity_id":"load-%d-%d","message":"pricing for 200 seats?"}`, n, now.UTC().Format(time.RFC3339), g.run, n)
		h.Set(webhooks.HeaderMarketoSecret, g.secret)
	case "agent":
		url += webhooks.PathAgent
		id := fmt.Sprintf("turn_load_%d_%d", g.run, n)
		body = fmt.Appendf(nil, `{"type":"agent.turn","id":%q,"occurred_at":"%s","conversation_id":"conv_%d","contact":{"email":"buyer%d@example.com"},"buyer_message":"can I talk to a human?","confidence":0.4}`, id, now.UTC().Format(time.RFC3339), n, n)
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(g.secret, "whsec_"))
		if err != nil || !strings.HasPrefix(g.secret, "whsec_") {
			key = []byte(g.secret)
		}
		h.Set(webhooks.HeaderWebhookID, id)
		h.Set(webhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(webhooks.HeaderWebhookSignature, webhooks.SignStandardWebhook(key, id, now.Unix(), body))
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = h
	return req, nil
}

type report struct {
	sent, acked int
	statuses    map[int]int
	errors      int
	latencies   []time.Duration
	elapsed     time.Duration
}

func load(ctx context.Context, o options, g *generator) *report {
	client := &http.Client{Timeout: o.timeout, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	rep := &report{statuses: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / o.rate)
	start := time.Now()
	deadline := start.Add(o.duration)
	tick := time.NewTicker(interval)
	defer tick.Stop()
loop:
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		req, err := g.next()
		if err != nil {
			mu.Lock()
			rep.errors++
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			t0 := time.Now()
			res, err := client.Do(req)
			d := time.Since(t0)
			status := 0
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				status = res.StatusCode
			}
			mu.Lock()
			defer mu.Unlock()
			rep.sent++
			if err != nil {
				rep.errors++
				return
			}
			rep.statuses[status]++
			if status/100 == 2 {
				rep.acked++
				rep.latencies = append(rep.latencies, d)
			}
		})
	}
	wg.Wait()
	rep.elapsed = time.Since(start)
	return rep
}

func (r *report) print(w io.Writer, o options) {
	slices.Sort(r.latencies)
	pct := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	events := 1
	if o.source == "hubspot" {
		events = o.batch
	}
	secs := r.elapsed.Seconds()
	fmt.Fprintf(w, "source=%s target-rate=%.1f req/s batch=%d duration=%s\n", o.source, o.rate, events, r.elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "sent=%d acked=%d (%.1f%%) transport-errors=%d statuses=%v\n", r.sent, r.acked, 100*float64(r.acked)/float64(max(1, r.sent)), r.errors, r.statuses)
	fmt.Fprintf(w, "ack rate=%.1f req/s = %.0f events/s\n", float64(r.acked)/secs, float64(r.acked*events)/secs)
	fmt.Fprintf(w, "ack latency p50=%s p90=%s p99=%s max=%s\n", pct(0.50).Round(time.Microsecond), pct(0.90).Round(time.Microsecond), pct(0.99).Round(time.Microsecond), pct(1).Round(time.Microsecond))
}
