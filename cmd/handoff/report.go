package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/handoff-dev/handoff/internal/redisconn"
	"github.com/handoff-dev/handoff/jobs"
)

const reportUsage = `Usage: handoff report [--json]

Prints the outcome report (the same numbers as GET /api/outcomes): handoffs
by rung, source and channel, time to human, SLA breaches, resolution, context
completeness, escalation accuracy, handoff precision and shadow agreement.
It reads them from the Redis that REDIS_URL (or Sentinel / Cluster) names.
How each number is derived: docs/outcomes.md.
`

func runReport(ctx context.Context, args []string, env envconfig.Lookuper, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", reportUsage, helpOut(args, stdout, stderr))
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("report takes no arguments, got %q", fs.Args())
	}
	var cfg struct{ Redis redisconn.Config }
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: env}); err != nil {
		return &exitError{code: 2, msg: "configuration: " + err.Error()}
	}
	if cfg.Redis.URL == "" && len(cfg.Redis.SentinelAddrs) == 0 && len(cfg.Redis.ClusterAddrs) == 0 {
		return &exitError{code: 2, msg: "report: set REDIS_URL (or REDIS_SENTINEL_* / REDIS_CLUSTER_ADDRS) to the Redis the service uses"}
	}
	// The connection's outage log speaks to a running service; this
	// command reports a failure as its own error instead.
	conn, err := redisconn.Open(ctx, cfg.Redis, slog.New(slog.DiscardHandler))
	if err != nil {
		return &exitError{code: 2, msg: "configuration: " + err.Error()}
	}
	defer conn.Close()
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rep, err := jobs.NewOutcomes(conn.Client).Report(rctx)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(stdout, rep)
	return nil
}

func printReport(w io.Writer, r jobs.Report) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Decisions\t%d\t%s\n", r.Decisions.Total, breakdown(r.Decisions.ByAction))
	fmt.Fprintf(tw, "Handoffs\t%d\ttasks created %d, failed %d\n", r.Handoffs.Total, r.Handoffs.TasksCreated, r.Handoffs.TasksFailed)
	fmt.Fprintf(tw, "  by rung\t\t%s\n", breakdown(r.Handoffs.ByRung))
	fmt.Fprintf(tw, "  by source\t\t%s\n", breakdown(r.Handoffs.BySource))
	fmt.Fprintf(tw, "  by channel\t\t%s\n", breakdown(r.Handoffs.ByChannel))
	fmt.Fprintf(tw, "  second reviewers\t%d\t%s\n", r.Handoffs.WithAlsoNeeds, breakdown(r.Handoffs.AlsoNeeds))
	fmt.Fprintf(tw, "Time to human\t%s\t(%d samples)\n", pct(r.TimeToHuman, seconds), r.TimeToHuman.Samples)
	fmt.Fprintf(tw, "SLA breaches\t%d\t%d handoffs, rate %.1f%%\n", r.SLA.Breaches, r.SLA.BreachedHandoffs, 100*r.SLA.BreachRate)
	fmt.Fprintf(tw, "Resolution\t%.1f%%\tcompleted %d, released %d, untracked %d\n", 100*r.Resolution.Rate, r.Resolution.Completed, r.Resolution.Released, r.Resolution.Untracked)
	fmt.Fprintf(tw, "Context completeness\t%s\t(%d samples)\n", pct(r.Completeness, percent), r.Completeness.Samples)
	fmt.Fprintf(tw, "Escalation accuracy\t%s\tfinished by the first assignee\n", ratio(r.EscalationAccuracy))
	fmt.Fprintf(tw, "Handoff precision\t%s\tfrom CRM dispositions\n", ratio(r.HandoffPrecision))
	fmt.Fprintf(tw, "Shadow agreement\t%s\n", ratio(r.ShadowAgreement))
	fmt.Fprintf(tw, "Reassignments\t%d\n", r.Reassignments)
	fmt.Fprintf(tw, "Follow-ups\t%d\tupdates to tasks a human already owned\n", r.FollowUps)
	tw.Flush()
}

func breakdown(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] || m[ks[i]] == m[ks[j]] && ks[i] < ks[j] })
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func seconds(v float64) string {
	return (time.Duration(v * float64(time.Second))).Round(time.Second).String()
}
func percent(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }

func pct(p jobs.Percentiles, f func(float64) string) string {
	if p.Samples == 0 {
		return "-"
	}
	return "p50 " + f(p.P50) + ", p90 " + f(p.P90)
}

func ratio(r jobs.Ratio) string {
	if r.Denominator == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", 100*r.Ratio, r.Numerator, r.Denominator)
}
