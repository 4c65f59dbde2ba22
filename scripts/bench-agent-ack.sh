#!/usr/bin/env bash
# The agent turn's acknowledgement without Prefer, this tree against an
# older commit, in one run on the same machine and the same Redis
# (docs/BENCHMARKS.md): did the synchronous-decision work slow the plain path?
#
#   scripts/bench-agent-ack.sh [base ref]     # default 86dc7f8, the commit before it
#
# It builds `handoff` from the working tree and from the base ref (git
# archive into a temporary directory, no worktree), and handoff-load from
# the working tree; starts a private redis-server and both servers with
# `serve --role http` (nothing drains the queue, as in bench-ingest.sh);
# then sends signed agent turns (no Prefer header) on a fixed schedule,
# BENCH_RATE/s for BENCH_SECONDS per slice, in four slices ordered
# new-base-base-new so a drift of the machine's other load cancels out, and
# prints the latency from each scheduled send to its 2xx, per server, and
# the ratio new/base, and the server's CPU time per 1,000 acknowledged
# turns (steadier than latency on a shared machine). Everything it started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:-86dc7f8}
SECONDS_EACH=${BENCH_SECONDS:-10}
RATE=${BENCH_RATE:-500}

for cmd in redis-server redis-cli python3 curl git; do
  command -v "$cmd" >/dev/null || { echo "bench-agent-ack: $cmd is required" >&2; exit 1; }
done

work=$(mktemp -d -t handoff-ack-XXXXXX)
pids=()
redis_port=""
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$redis_port" ]; then
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url name pid
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "bench-agent-ack: $2 exited; its log:" >&2; cat "$work/$2.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench-agent-ack: $2 did not answer $1" >&2; exit 1
}

echo "bench-agent-ack: building this tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')) and $BASE" >&2
go build -o "$work/handoff-new" ./cmd/handoff
go build -o "$work/handoff-load" ./cmd/handoff-load
mkdir "$work/base-src"
git archive "$BASE" | tar -x -C "$work/base-src"
(cd "$work/base-src" && go build -o "$work/handoff-base" ./cmd/handoff)

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
  --daemonize yes --pidfile "$work/redis.pid" --logfile "$work/redis.log"
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

export AGENT_WEBHOOK_SECRET="whsec_YmVuY2gtYWdlbnQtc2VjcmV0LTAxMjM0NTY3ODk="
declare -A port pid
for side in new base; do
  port[$side]=$(free_port)
  # Each server its own Redis database, so neither sees the other's keys.
  db=1; [ "$side" = base ] && db=2
  REDIS_URL="redis://127.0.0.1:$redis_port/$db" HTTP_ADDR="127.0.0.1:${port[$side]}" LOG_LEVEL=warn \
    "$work/handoff-$side" serve --role http >"$work/$side.log" 2>&1 &
  pid[$side]=$!
  pids+=("${pid[$side]}")
  wait_http "http://127.0.0.1:${port[$side]}/healthz" "$side" "${pid[$side]}"
done

# CPU seconds used so far by a process (utime+stime): less sensitive to
# the machine's other load than latency is.
proc_cpu() { awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$1/stat"; }
load() { # name side duration
  echo "bench-agent-ack: $1" >&2
  local c0
  c0=$(proc_cpu "${pid[$2]}")
  timeout $((SECONDS_EACH + 30)) "$work/handoff-load" --target "http://127.0.0.1:${port[$2]}" --json \
    --source agent --rate "$RATE" --concurrency 64 --duration "$3" >"$work/$1.json"
  echo "$(proc_cpu "${pid[$2]}") $c0" | awk '{ printf "%.3f\n", $1 - $2 }' >"$work/$1.cpu"
}
load warm-new new 1s
load warm-base base 1s
load new-1 new "${SECONDS_EACH}s"
load base-1 base "${SECONDS_EACH}s"
load base-2 base "${SECONDS_EACH}s"
load new-2 new "${SECONDS_EACH}s"

python3 - "$work" "$RATE" "$BASE" <<'EOF'
import json, os, sys
work, rate, base = sys.argv[1], sys.argv[2], sys.argv[3]
r = {n: json.load(open(os.path.join(work, n + ".json"))) for n in ("new-1", "new-2", "base-1", "base-2")}
cpu = {n: float(open(os.path.join(work, n + ".cpu")).read()) for n in r}
def bad(x):
    b = {k: v for k, v in x["status"].items() if not k.startswith("2")}
    b.update(x.get("errors") or {})
    return ", ".join(f"{k}={v}" for k, v in sorted(b.items())) or "none"
print(f"\nagent turns without Prefer, {rate}/s on a fixed schedule, latency from the scheduled send to the 2xx (ms)")
print(f"    {'':16}{'acked/s':>9}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'CPU ms/1k':>11}  unsent  non-2xx/errors")
for n in ("new-1", "base-1", "base-2", "new-2"):
    x, l = r[n], r[n]["latency_ms"]
    label = ("this tree" if n.startswith("new") else base) + " #" + n[-1]
    print(f"    {label:16}{x['requests_acked_per_s']:>9.0f}{l['p50']:>8.2f}{l['p90']:>8.2f}{l['p99']:>8.2f}{l['max']:>8.2f}{cpu[n] * 1e6 / max(x['requests_acked'], 1):>11.1f}  {x['requests_unsent']:>6}  {bad(x)}")
def mean(side, q): return (r[side + "-1"]["latency_ms"][q] + r[side + "-2"]["latency_ms"][q]) / 2
print(f"\nthis tree / {base} (mean of the two slices each):")
for q in ("p50", "p90", "p99"):
    print(f"    {q}  {mean('new', q):7.2f} / {mean('base', q):7.2f} ms = {mean('new', q) / mean('base', q):5.2f} x")
def cpk(side): return sum(cpu[side + s] for s in ("-1", "-2")) * 1e6 / max(sum(r[side + s]["requests_acked"] for s in ("-1", "-2")), 1)
print(f"    CPU of the server per 1,000 acknowledged turns  {cpk('new'):7.1f} / {cpk('base'):7.1f} ms = {cpk('new') / cpk('base'):5.2f} x")
print(f"    load average: {open('/proc/loadavg').read().split()[0:3]} on {os.cpu_count()} CPUs")
EOF
