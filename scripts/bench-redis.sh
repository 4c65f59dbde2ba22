#!/usr/bin/env bash
# asynq enqueue (what ingest pays per event) against redis-benchmark on the
# same local Redis, in one run: redis-benchmark's SET and EVALSHA are the
# ceiling a client library can reach on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v redis-benchmark >/dev/null || { echo "redis-benchmark missing: apt-get install -y redis-server (redis-tools)" >&2; exit 1; }
dir=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no --databases 1024 --daemonize yes --pidfile "$dir/pid" --logfile "$dir/log"
trap 'redis-cli -p '"$port"' shutdown nosave >/dev/null 2>&1 || true; rm -rf '"$dir" EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
n=${N:-100000}
set_rps=$(redis-benchmark -p "$port" -c 16 -n "$n" -t set -q --csv | awk -F'"' '/SET/ {print $4}')
sha=$(redis-cli -p "$port" script load "redis.call('SET', KEYS[1], ARGV[1]) return 1")
lua_rps=$(redis-benchmark -p "$port" -c 16 -n "$n" -q --csv evalsha "$sha" 1 key:__rand_int__ v | awk -F'"' '/evalsha/ {print $4}')
ns=$(REDIS_TEST_ADDR="127.0.0.1:$port" go test -run '^$' -bench AsynqEnqueue -benchtime "${n}x" ./jobs | awk '/BenchmarkAsynqEnqueue/ {print $3}')
awk -v s="$set_rps" -v l="$lua_rps" -v ns="$ns" 'BEGIN {
  e = 1e9 / ns
  printf "redis-benchmark SET (16 clients):     %8.0f ops/s\n", s
  printf "redis-benchmark EVALSHA (16 clients): %8.0f ops/s\n", l
  printf "asynq Enqueue with TaskID (16 goroutines): %8.0f ops/s  (%.0f%% of SET, %.0f%% of EVALSHA)\n", e, 100*e/s, 100*e/l
}'
