// Command handoff-load sends signed webhooks to a Handoff server running on
// this machine and reports throughput and acknowledgement latency.
//
//	handoff-load --target http://127.0.0.1:8080 --source hubspot --batch 100 --duration 10s
//	handoff-load --source mix --rate 1000 --duration 10s --json
//
// Secrets come from flags or from the server's own environment variables
// (HUBSPOT_CLIENT_SECRET, PUBLIC_BASE_URL, SALESFORCE_ORG_IDS,
// MARKETO_WEBHOOK_SECRET, AGENT_WEBHOOK_SECRET). With --rate N the requests
// follow a fixed schedule (open loop) and latency counts from the scheduled
// time, so a server that stalls shows its stall; with --rate 0 each of
// --concurrency workers sends as fast as answers come back. The tool only
// targets loopback addresses and always stops by itself (--duration,
// --requests).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code (0 ok, 1 the run
// failed to get any acknowledgement, 2 usage).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("handoff-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("target", "http://127.0.0.1:8080", "base URL of the server (loopback only)")
	source := fs.String("source", srcHubSpot, "hubspot, salesforce, marketo, agent or mix")
	rate := fs.Float64("rate", 0, "requests per second on a fixed schedule (open loop); 0 = as fast as --concurrency allows")
	conc := fs.Int("concurrency", 16, "workers, i.e. requests in flight at most")
	batch := fs.Int("batch", 1, "events per HubSpot request / notifications per Salesforce message (1-100)")
	duration := fs.Duration("duration", 10*time.Second, "how long to send (at most 1h)")
	requests := fs.Int64("requests", 0, "stop after this many requests (0 = no cap; --duration still applies)")
	dups := fs.Float64("duplicates", 0, "fraction of requests that resend an earlier payload (0-0.99)")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	var sec secrets
	fs.StringVar(&sec.HubSpotClientSecret, "hubspot-secret", getenv("HUBSPOT_CLIENT_SECRET"), "HubSpot app client secret (default $HUBSPOT_CLIENT_SECRET)")
	fs.StringVar(&sec.PublicBaseURL, "public-base-url", getenv("PUBLIC_BASE_URL"), "the base URL HubSpot's v3 signature covers (default $PUBLIC_BASE_URL, else --target)")
	fs.StringVar(&sec.SalesforceOrgID, "salesforce-org", firstOf(getenv("SALESFORCE_ORG_IDS")), "Salesforce org id (default the first of $SALESFORCE_ORG_IDS)")
	fs.StringVar(&sec.MarketoWebhookSecret, "marketo-secret", getenv("MARKETO_WEBHOOK_SECRET"), "X-Handoff-Secret value (default $MARKETO_WEBHOOK_SECRET)")
	fs.StringVar(&sec.AgentWebhookSecret, "agent-secret", getenv("AGENT_WEBHOOK_SECRET"), "Standard Webhooks secret whsec_... (default $AGENT_WEBHOOK_SECRET)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "handoff-load: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments %q", fs.Args())
	}
	u, err := checkLoopback(*target)
	if err != nil {
		return usage("%v", err)
	}
	switch {
	case *rate < 0 || *rate > 100_000:
		return usage("--rate %g: want 0 to 100000", *rate)
	case *conc < 1 || *conc > 4096:
		return usage("--concurrency %d: want 1 to 4096", *conc)
	case *batch < 1 || *batch > 100:
		return usage("--batch %d: want 1 to 100 (the servers refuse larger batches)", *batch)
	case *duration <= 0 || *duration > time.Hour:
		return usage("--duration %s: want more than 0 and at most 1h", *duration)
	case *requests < 0:
		return usage("--requests %d: want 0 or more", *requests)
	case *dups < 0 || *dups > 0.99:
		return usage("--duplicates %g: want 0 to 0.99", *dups)
	case *timeout <= 0:
		return usage("--timeout %s: want more than 0", *timeout)
	}
	if sec.PublicBaseURL == "" {
		sec.PublicBaseURL = u.String()
	}
	sec.PublicBaseURL = strings.TrimRight(sec.PublicBaseURL, "/")

	start := time.Now()
	gen, err := newGenerator(*source, *batch, sec, start)
	if err != nil {
		return usage("%v", err)
	}
	sig, err := newSigner(sec)
	if err != nil {
		return usage("%v", err)
	}
	opt := options{target: u, rate: *rate, concurrency: *conc, duration: *duration, requests: *requests,
		duplicates: *dups, timeout: *timeout, drain: *timeout}
	client := newClient(*conc, *timeout)
	defer client.CloseIdleConnections()
	rep := newRunner(opt, gen, sig, sec.SalesforceOrgID, client).run(ctx)
	rep.Source, rep.Target, rep.Rate, rep.Concurrency, rep.Batch = *source, u.String(), *rate, *conc, *batch

	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "handoff-load: write report: %v\n", err)
			return 1
		}
	} else {
		rep.writeText(stdout)
	}
	if rep.Acked == 0 {
		fmt.Fprintln(stderr, "handoff-load: no request was acknowledged")
		return 1
	}
	return 0
}

func firstOf(list string) string {
	first, _, _ := strings.Cut(list, ",")
	return strings.TrimSpace(first)
}
