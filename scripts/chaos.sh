#!/usr/bin/env bash
# The chaos suite (docs/RELIABILITY.md): builds handoff, starts a Redis with
# AOF (appendfsync always) for the tests that share one, runs every
# TestChaos* scenario, and prints a table of events sent, acknowledged,
# tasks created, duplicates and lost. Exits non-zero when any scenario lost
# or doubled something (the tests fail on it).
#
#   scripts/chaos.sh               # each scenario once (about 3 minutes)
#   CHAOS_LONG=1 scripts/chaos.sh  # 4 SIGKILL rounds instead of 1
#   CHAOS_RACE=0 scripts/chaos.sh  # without the race detector
#
# The SIGKILL, Redis-restart and SIGTERM scenarios start their own private
# redis-server (AOF on) so they can kill it; the others use the shared one.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v redis-server >/dev/null 2>&1 || {
  echo "chaos.sh: redis-server is not installed (scripts/test.sh installs it)" >&2
  exit 1
}

echo "chaos.sh: building handoff" >&2
go build -o bin/handoff ./cmd/handoff

started=""
if [ -z "${REDIS_TEST_ADDR:-}" ]; then
  dir=$(mktemp -d -t handoff-chaos-redis-XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $(( (RANDOM % 20000) + 30000 )))
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" \
    --appendonly yes --appendfsync always \
    --databases 1024 --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null || { echo "chaos.sh: redis-server did not start (see $dir/redis.log)" >&2; exit 1; }
  export REDIS_TEST_ADDR="127.0.0.1:$port"
  started="$dir"
fi
report=$(mktemp -t handoff-chaos-report-XXXXXX)
log=$(mktemp -t handoff-chaos-log-XXXXXX)
cleanup() {
  if [ -n "$started" ]; then
    redis-cli -p "${REDIS_TEST_ADDR##*:}" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$started/redis.pid" 2>/dev/null)" 2>/dev/null || true
    rm -rf "$started"
  fi
  rm -f "$report"
}
trap cleanup EXIT

race="-race"
[ "${CHAOS_RACE:-1}" = "0" ] && race=""
timeout=10m
[ -n "${CHAOS_LONG:-}" ] && timeout=25m

echo "chaos.sh: running the chaos scenarios (log: $log)" >&2
status=0
# -parallel 6: the scenarios mostly wait (lease recovery, backoff), so run
# them all at once even on a 2-CPU machine.
CHAOS_REPORT="$report" go test $race -run 'Chaos' -count=1 -v -parallel 6 -timeout "$timeout" ./cmd/handoff >"$log" 2>&1 || status=$?
grep -E '^(--- |FAIL|ok|PASS)' "$log" || true

echo
awk -F'\t' 'BEGIN {
    printf "%-20s %8s %8s %8s %8s %8s %8s %8s %8s\n", "scenario", "sent", "acked", "decided", "handoffs", "tasks", "dupes", "lost", "refused"
  }
  $1 == "CHAOS-RESULT" {
    printf "%-20s %8d %8d %8d %8d %8d %8d %8d %8d\n", $2, $3, $4, $5, $6, $7, $8, $9, $11
    s[3]+=$3; s[4]+=$4; s[5]+=$5; s[6]+=$6; s[7]+=$7; s[8]+=$8; s[9]+=$9; s[11]+=$11; n++
  }
  END {
    printf "%-20s %8d %8d %8d %8d %8d %8d %8d %8d\n", "total", s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[11]
    if (n == 0) { print "no scenario reported a result"; exit 1 }
  }' "$report" || status=1

if [ "$status" -ne 0 ]; then
  echo "chaos.sh: FAILED (see $log)" >&2
  grep -E '^\s+chaos_.*(lost|duplicates|no decision|has no task|tasks|archived)' "$log" | head -40 >&2 || true
  exit "$status"
fi
echo "chaos.sh: every acknowledged event decided once, every handoff one task" >&2
