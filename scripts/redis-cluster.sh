#!/usr/bin/env bash
# Starts (or stops) a Redis Cluster of three masters and three replicas on
# loopback, with the Debian redis-server, for tests and local trials.
#
#   scripts/redis-cluster.sh start [BASE_PORT]   # ports BASE..BASE+5 (default 7001)
#   scripts/redis-cluster.sh stop  [BASE_PORT]
#
# start prints the node addresses, comma-separated, for REDIS_CLUSTER_ADDRS
# (or REDIS_TEST_CLUSTER_ADDRS), once the cluster reports cluster_state:ok
# and every slot is served. Data lives in a temporary directory removed by
# stop; nothing is persisted.
set -euo pipefail

cmd=${1:-}
base=${2:-7001}
dir_file=${TMPDIR:-/tmp}/handoff-redis-cluster-$base.dir

case "$cmd" in
start)
  command -v redis-server >/dev/null || { echo "redis-cluster.sh: redis-server not installed (apt-get install redis-server)" >&2; exit 1; }
  dir=$(mktemp -d -t "handoff-cluster-$base-XXXXXX")
  echo "$dir" >"$dir_file"
  addrs=()
  for i in 0 1 2 3 4 5; do
    port=$((base + i))
    mkdir -p "$dir/$port"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/$port" --save "" --appendonly no \
      --cluster-enabled yes --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 2000 \
      --daemonize yes --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log"
    addrs+=("127.0.0.1:$port")
  done
  for a in "${addrs[@]}"; do
    for _ in $(seq 1 100); do redis-cli -p "${a##*:}" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "${a##*:}" ping >/dev/null || { echo "redis-cluster.sh: node $a did not start (see $dir/${a##*:}/redis.log)" >&2; exit 1; }
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
    { cat "$dir/create.log" >&2; exit 1; }
  for _ in $(seq 1 200); do
    ok=1
    for a in "${addrs[@]}"; do
      info=$(redis-cli -p "${a##*:}" cluster info 2>/dev/null || true)
      grep -q 'cluster_state:ok' <<<"$info" && grep -q 'cluster_slots_ok:16384' <<<"$info" || ok=0
    done
    [ "$ok" = 1 ] && break
    sleep 0.1
  done
  [ "$ok" = 1 ] || { echo "redis-cluster.sh: the cluster did not become ready" >&2; exit 1; }
  (IFS=,; echo "${addrs[*]}")
  ;;
stop)
  [ -f "$dir_file" ] || exit 0
  dir=$(cat "$dir_file")
  for i in 0 1 2 3 4 5; do
    redis-cli -p $((base + i)) shutdown nosave >/dev/null 2>&1 || true
  done
  rm -rf "$dir" "$dir_file"
  ;;
*)
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
