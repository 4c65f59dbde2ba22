#!/usr/bin/env bash
# Ingest benchmark: Handoff's webhook front door against a bare baseline,
# measured in the same run on the same Redis (docs/BENCHMARKS.md).
#
#   scripts/bench-ingest.sh            # about 70 s after the build (idle machine)
#
# It builds handoff, handoff-load and the baseline server, starts a private
# redis-server (AOF and snapshots off) on a free port in a temporary
# directory, starts `handoff serve --role http` and the baseline on loopback
# ports, then measures against each:
#   (a) max throughput: HubSpot batches of 100 events, closed loop, 10 s;
#   (s) max throughput: single-event HubSpot requests, 32 connections, closed
#       loop, 10 s;
#   (b) latency: 1,000 single-event HubSpot requests/s on a fixed schedule, 10 s;
#   (m) Redis memory per event retained for the dedupe window (used_memory
#       growth over phase b's handoff run, and MEMORY USAGE of task records);
# and the peak RSS of the handoff process (VmHWM). It prints the figures and
# the handoff/baseline ratios against the targets. Everything it started is
# stopped on exit. Tunables (environment): BENCH_SECONDS (10),
# BENCH_CONCURRENCY (16, phase a), BENCH_SINGLE_CONCURRENCY (32, phase s),
# BENCH_RATE (1000, phase b), BENCH_OUT (a directory to keep the JSON reports).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${BENCH_SECONDS:-10}
CONC=${BENCH_CONCURRENCY:-16}
SCONC=${BENCH_SINGLE_CONCURRENCY:-32}
RATE=${BENCH_RATE:-1000}

for cmd in redis-server redis-cli python3 curl; do
  command -v "$cmd" >/dev/null || { echo "bench-ingest: $cmd is required" >&2; exit 1; }
done

work=$(mktemp -d -t handoff-bench-XXXXXX)
pids=()
redis_port=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$redis_port" ]; then
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$work/redis.pid" 2>/dev/null)" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_http() { # url name pid
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "bench-ingest: $2 exited; its log:" >&2; cat "$work/$2.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench-ingest: $2 did not answer $1" >&2; cat "$work/$2.log" >&2; exit 1
}

echo "bench-ingest: building" >&2
go build -o "$work/handoff" ./cmd/handoff
go build -o "$work/handoff-load" ./cmd/handoff-load
go build -o "$work/baseline" ./cmd/handoff-load/baseline

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log"
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$redis_port" ping >/dev/null || { echo "bench-ingest: redis-server did not start" >&2; exit 1; }

handoff_port=$(free_port)
baseline_port=$(free_port)
export HUBSPOT_CLIENT_SECRET="bench-hubspot-client-secret"
export PUBLIC_BASE_URL="http://127.0.0.1:$handoff_port"
export SALESFORCE_ORG_IDS="00Dxx0000000001EAA"
export MARKETO_WEBHOOK_SECRET="bench-marketo-secret"
export MARKETO_BASE_URL="https://123-ABC-456.mktorest.com"
export AGENT_WEBHOOK_SECRET="whsec_YmVuY2gtYWdlbnQtc2VjcmV0LTAxMjM0NTY3ODk="

REDIS_URL="redis://127.0.0.1:$redis_port/0" HTTP_ADDR="127.0.0.1:$handoff_port" LOG_LEVEL=warn \
  "$work/handoff" serve --role http >"$work/handoff.log" 2>&1 &
handoff_pid=$!
pids+=("$handoff_pid")
"$work/baseline" --listen "127.0.0.1:$baseline_port" --redis "redis://127.0.0.1:$redis_port/0" >"$work/baseline.log" 2>&1 &
baseline_pid=$!
pids+=("$baseline_pid")
wait_http "http://127.0.0.1:$handoff_port/healthz" handoff "$handoff_pid"
wait_http "http://127.0.0.1:$baseline_port/healthz" baseline "$baseline_pid"

# CPU seconds used so far by a process (utime+stime) and by Redis.
proc_cpu() { awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$1/stat"; }
redis_cpu() { redis-cli -p "$redis_port" info cpu | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.3f", s }'; }
redis_mem() { redis-cli -p "$redis_port" info memory | awk -F: '/^used_memory:/ { printf "%d", $2 }'; }

# load NAME PORT PID ARGS...: one measured run on an empty Redis; the JSON
# report goes to $work/NAME.json, the CPU seconds the server and Redis used
# during it to $work/NAME.cpu.
load() {
  local name=$1 port=$2 pid=$3
  shift 3
  redis-cli -p "$redis_port" flushall >/dev/null
  echo "bench-ingest: $name" >&2
  local s0 r0 m0
  s0=$(proc_cpu "$pid"); r0=$(redis_cpu); m0=$(redis_mem)
  timeout $((SECONDS_EACH + 30)) "$work/handoff-load" --target "http://127.0.0.1:$port" --json "$@" >"$work/$name.json"
  echo "$(proc_cpu "$pid") $s0 $(redis_cpu) $r0" | awk '{ printf "%.3f %.3f\n", $1 - $2, $3 - $4 }' >"$work/$name.cpu"
  echo "$m0 $(redis_mem)" >"$work/$name.mem"
}
throughput() { load "$1" "$2" "$3" --source hubspot --batch 100 --concurrency "$CONC" --duration "$4"; }
single() { load "$1" "$2" "$3" --source hubspot --batch 1 --concurrency "$SCONC" --duration "$4"; }
latency() { load "$1" "$2" "$3" --source hubspot --batch 1 --rate "$RATE" --concurrency 64 --duration "${SECONDS_EACH}s"; }

# Warm both servers (connections, pools), briefly.
load warm-handoff "$handoff_port" "$handoff_pid" --source mix --batch 10 --concurrency 4 --duration 1s
load warm-baseline "$baseline_port" "$baseline_pid" --source mix --batch 10 --concurrency 4 --duration 1s

# Throughput in four half-length slices, handoff-baseline-baseline-handoff,
# so that a linear drift of the machine's other load (CI neighbours) cancels
# out; then the latency runs, in the opposite order.
half=$(awk -v s="$SECONDS_EACH" 'BEGIN { printf "%.1fs", s / 2 }')
throughput tput-handoff-1 "$handoff_port" "$handoff_pid" "$half"
throughput tput-baseline-1 "$baseline_port" "$baseline_pid" "$half"
throughput tput-baseline-2 "$baseline_port" "$baseline_pid" "$half"
throughput tput-handoff-2 "$handoff_port" "$handoff_pid" "$half"
single single-handoff-1 "$handoff_port" "$handoff_pid" "$half"
single single-baseline-1 "$baseline_port" "$baseline_pid" "$half"
single single-baseline-2 "$baseline_port" "$baseline_pid" "$half"
single single-handoff-2 "$handoff_port" "$handoff_pid" "$half"
latency lat-baseline "$baseline_port" "$baseline_pid"
latency lat-handoff "$handoff_port" "$handoff_pid"
# (m) What phase b's handoff run left in Redis: every accepted event's task
# record (its dedupe marker), sampled with MEMORY USAGE.
{ redis-cli -p "$redis_port" --scan --pattern 'asynq:{events}:t:*' || true; } | head -n 2000 |
  awk '{ print "MEMORY USAGE", $0, "SAMPLES 0" }' | redis-cli -p "$redis_port" |
  awk '{ s += $1; n++ } END { printf "%d %d\n", n, (n ? s / n : 0) }' >"$work/task-usage"

hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
handoff_hwm=$(hwm_kb "$handoff_pid")
baseline_hwm=$(hwm_kb "$baseline_pid")

if [ -n "${BENCH_OUT:-}" ]; then
  mkdir -p "$BENCH_OUT"
  cp "$work"/tput-*.json "$work"/single-*.json "$work"/lat-*.json "$work"/*.cpu "$work"/*.mem "$BENCH_OUT"/
fi

python3 - "$work" "$handoff_hwm" "$baseline_hwm" "$RATE" "$CONC" "$SCONC" <<'EOF'
import json, sys, os
work, hwm_h, hwm_b, rate, conc, sconc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
names = ("tput-handoff-1", "tput-handoff-2", "tput-baseline-1", "tput-baseline-2",
         "single-handoff-1", "single-handoff-2", "single-baseline-1", "single-baseline-2", "lat-handoff", "lat-baseline")
r = {n: json.load(open(os.path.join(work, n + ".json"))) for n in names}
cpu = {n: [float(v) for v in open(os.path.join(work, n + ".cpu")).read().split()] for n in names}
# The two throughput slices of each side, summed: events / total time.
for phase, side in [(p, s) for p in ("tput", "single") for s in ("handoff", "baseline")]:
    a, b = r[f"{phase}-{side}-1"], r[f"{phase}-{side}-2"]
    t = a["elapsed_s"] + b["elapsed_s"]
    m = {k: a[k] + b[k] for k in ("events_acked", "events_accepted", "requests_acked")}
    m["elapsed_s"] = t
    m["events_acked_per_s"] = m["events_acked"] / t
    m["requests_acked_per_s"] = m["requests_acked"] / t
    m["slices_events_per_s"] = [a["events_acked_per_s"], b["events_acked_per_s"]]
    m["service_ms"] = {q: max(a["service_ms"][q], b["service_ms"][q]) for q in ("p50", "p99")}
    m["status"] = {k: a["status"].get(k, 0) + b["status"].get(k, 0) for k in set(a["status"]) | set(b["status"])}
    m["errors"] = {k: (a.get("errors") or {}).get(k, 0) + (b.get("errors") or {}).get(k, 0) for k in set(a.get("errors") or {}) | set(b.get("errors") or {})}
    r[f"{phase}-{side}"] = m
    cpu[f"{phase}-{side}"] = [cpu[f"{phase}-{side}-1"][i] + cpu[f"{phase}-{side}-2"][i] for i in (0, 1)]
def errs(x):
    bad = {k: v for k, v in x["status"].items() if not k.startswith("2")}
    bad.update(x.get("errors") or {})
    return ", ".join(f"{k}={v}" for k, v in sorted(bad.items())) or "none"
th, tb = r["tput-handoff"], r["tput-baseline"]
sh, sb = r["single-handoff"], r["single-baseline"]
lh, lb = r["lat-handoff"], r["lat-baseline"]
def closed_loop(title, phase, h, b):
    print(f"\n{title}, {h['elapsed_s']:.0f} s each (2 slices, H-B-B-H)")
    print(f"    {'':10}{'events/s':>10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}  {'accepted':>9}  {'slices ev/s':>13}  non-2xx/errors")
    for name, x in (("handoff", h), ("baseline", b)):
        print(f"    {name:10}{x['events_acked_per_s']:>10.0f}{x['requests_acked_per_s']:>8.1f}{x['service_ms']['p50']:>9.2f}{x['service_ms']['p99']:>9.2f}  {x['events_accepted']:>9}  {'/'.join(f'{v:.0f}' for v in x['slices_events_per_s']):>13}  {errs(x)}")
    print(f"    CPU per 1,000 acknowledged events (ms):  {'server':>8}{'redis':>8}")
    for name in ("handoff", "baseline"):
        x, (c_srv, c_red) = r[f"{phase}-{name}"], cpu[f"{phase}-{name}"]
        n = max(x["events_acked"], 1) / 1000
        print(f"    {name:10}{'':30}{c_srv * 1000 / n:>8.1f}{c_red * 1000 / n:>8.1f}")
closed_loop(f"(a) max throughput, HubSpot batches of 100, {conc} in flight", "tput", th, tb)
closed_loop(f"(s) max throughput, single-event HubSpot requests, {sconc} connections", "single", sh, sb)
print(f"\n(b) fixed {rate} req/s, single-event HubSpot requests, latency from the scheduled send")
print(f"    {'':10}{'acked/s':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}  unsent  non-2xx/errors")
for name, x in (("handoff", lh), ("baseline", lb)):
    l = x["latency_ms"]
    print(f"    {name:10}{x['requests_acked_per_s']:>10.0f}{l['p50']:>9.2f}{l['p90']:>9.2f}{l['p99']:>9.2f}{l['max']:>9.2f}  {x['requests_unsent']:>6}  {errs(x)}")
m0, m1 = (int(v) for v in open(os.path.join(work, "lat-handoff.mem")).read().split())
sampled, usage = (int(v) for v in open(os.path.join(work, "task-usage")).read().split())
per_event = (m1 - m0) / max(lh["events_accepted"], 1)
print(f"\n(m) Redis memory per event retained for the dedupe window (phase b's handoff run, {lh['events_accepted']} events)")
print(f"    used_memory growth / accepted event: {per_event:.0f} B;  MEMORY USAGE of a task record: {usage} B (mean of {sampled})")
print(f"\n(d) peak RSS (VmHWM): handoff {hwm_h/1024:.1f} MiB, baseline {hwm_b/1024:.1f} MiB")
def div(a, b): return a / b if b else float("nan")
ratio = div(th["events_acked_per_s"], tb["events_acked_per_s"])
sratio = div(sh["events_acked_per_s"], sb["events_acked_per_s"])
p99r = div(lh["latency_ms"]["p99"], lb["latency_ms"]["p99"])
def verdict(ok): return "met" if ok else "MISSED"
print("\nhandoff / baseline (same run, same Redis):")
print(f"    single-event throughput  {sratio*100:6.1f} %   target >= 80 %   {verdict(sratio >= 0.80)}")
print(f"    batch-of-100 throughput  {ratio*100:6.1f} %   target >= 90 %   {verdict(ratio >= 0.90)}")
print(f"    p99 ack @ {rate}/s         {p99r:6.3g} x   target <= 3 x    {verdict(p99r <= 3 and lh['requests_unsent'] == 0)}   (handoff {lh['latency_ms']['p99']:.2f} ms, baseline {lb['latency_ms']['p99']:.2f} ms)")
print(f"    peak RSS                 {hwm_h/hwm_b if hwm_b else float('nan'):6.2f} x   handoff {hwm_h/1024:.1f} MiB, target < 150 MiB  {verdict(hwm_h < 150*1024)}")
try:
    print(f"    load average during the run: {open('/proc/loadavg').read().split()[0:3]} on {os.cpu_count()} CPUs")
except OSError:
    pass
EOF
