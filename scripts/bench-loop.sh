#!/usr/bin/env bash
# The agent's loop under load: POST /webhooks/agent with Prefer: wait → the
# synchronous decision (cached and cold buyer profiles), and ownership
# change → signed callback at a local receiver, against the in-process
# HubSpot fake answering each call after BENCH_CRM_LATENCY, at BENCH_RATE
# turns/s, on a real local redis-server.
# Usage: scripts/bench-loop.sh [rate] [duration] [crm latency]
set -euo pipefail
cd "$(dirname "$0")/.."
export HANDOFF_LOOP_BENCH=1
export BENCH_RATE="${1:-${BENCH_RATE:-50}}" BENCH_DURATION="${2:-${BENCH_DURATION:-10s}}" BENCH_CRM_LATENCY="${3:-${BENCH_CRM_LATENCY:-50ms}}"
if [ -z "${REDIS_TEST_ADDR:-}" ]; then
  command -v redis-server >/dev/null || { echo "redis-server missing: apt-get install -y redis-server" >&2; exit 1; }
  dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --databases 1024 --daemonize yes --pidfile "$dir/pid" --logfile "$dir/log"
  trap 'redis-cli -p '"$port"' shutdown nosave >/dev/null 2>&1 || true; rm -rf '"$dir" EXIT
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export REDIS_TEST_ADDR="127.0.0.1:$port"
fi
go test -count=1 -run TestLoopLatencyBench -v ./cmd/handoff 2>&1 | grep -E "loop:|latency|callback:|p50|FAIL|ok"
