#!/usr/bin/env bash
# The project's test command (make test). It installs redis-server when it is
# missing, starts one on a free port in a temporary directory (unless
# REDIS_TEST_ADDR names one already), installs chromium for the console's
# browser tests when it is missing, runs go vet and the race-enabled test
# suite against it, stops it, and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  echo "test.sh: installing redis-server (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi

# The console's browser tests drive a headless Chromium (Debian package
# chromium); under CI=true they fail instead of skipping when it is missing.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && [ -z "${CHROMIUM:-}" ]; then
  echo "test.sh: installing chromium (Debian package) for the console's browser tests" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

started=""
if [ -z "${REDIS_TEST_ADDR:-}" ]; then
  dir=$(mktemp -d -t handoff-redis-XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $(( (RANDOM % 20000) + 30000 )))
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" --appendonly no \
    --databases 1024 --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 1 100); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$port" ping >/dev/null || { echo "test.sh: redis-server did not start (see $dir/redis.log)" >&2; exit 1; }
  export REDIS_TEST_ADDR="127.0.0.1:$port"
  started="$dir"
  echo "test.sh: redis-server $(redis-server --version | awk '{print $3}') on $REDIS_TEST_ADDR" >&2
fi
cleanup() {
  if [ -n "$started" ]; then
    redis-cli -p "${REDIS_TEST_ADDR##*:}" shutdown nosave >/dev/null 2>&1 || kill "$(cat "$started/redis.pid" 2>/dev/null)" 2>/dev/null || true
    rm -rf "$started"
  fi
}
trap cleanup EXIT

# Formatting is checked, not assumed: the files gofmt would change fail the run.
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "test.sh: these files are not formatted (run gofmt -w):" >&2
  printf '%s\n' "$unformatted" >&2
  exit 1
fi
go vet ./...
go test -race -count=1 -timeout 15m ./...

# The example ladders through the real binary, as a user runs them: every
# ladder lints clean and every case file passes (exit 1 on any failure).
bin=$(mktemp -d -t handoff-bin-XXXXXX)
go build -o "$bin/handoff" ./cmd/handoff
for f in fixtures/ladders/*.yaml; do
  case "$f" in
    *.cases.yaml) verb=test ;;
    *) verb=lint ;;
  esac
  if ! out=$("$bin/handoff" ladder "$verb" "$f" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "test.sh: handoff ladder $verb $f failed" >&2
    rm -rf "$bin"
    exit 1
  fi
  printf '%s\n' "$out" | tail -n 1
done

# The default ladder on the public labelled set (fixtures/ladders/eval),
# with the targets it must meet. The targets live here and nowhere else;
# raise them as the ladder and the set improve (0 = reported, not enforced).
eval_dir=fixtures/ladders/eval
eval_min_precision=0.95
eval_min_recall=0.95
eval_min_reviewer=0.95
eval_min_hard_negatives=0.95
eval_min_flips=0.95
eval_min_non_english=0.95
if compgen -G "$eval_dir/*.yaml" >/dev/null; then
  rc=0
  out=$("$bin/handoff" ladder eval builtin:default "$eval_dir" -n 25 \
    --min-precision "$eval_min_precision" --min-recall "$eval_min_recall" \
    --min-reviewer "$eval_min_reviewer" --min-hard-negatives "$eval_min_hard_negatives" \
    --min-flips "$eval_min_flips" --min-non-english "$eval_min_non_english" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out" >&2
    echo "test.sh: handoff ladder eval builtin:default $eval_dir failed (exit $rc)" >&2
    rm -rf "$bin"
    exit 1
  fi
  # The headline: everything up to the result line, and any notes.
  printf '%s\n' "$out" | sed -n '1,/^Result:/p; /^Note:/p'
else
  echo "test.sh: no labelled cases in $eval_dir yet; ladder eval skipped"
fi
rm -rf "$bin"

# ---- console timing (without -race) ----
# TestViewsFastOnRealVolumes seeds 100,000 audit entries and checks that
# each console view renders in under 200 ms at p95. It skips under -race
# (the race detector's slowdown makes the figures meaningless), so the run
# above never exercises it; this runs it on its own, without -race (10 to
# 25 seconds, most of it seeding Redis), prints each view's p50/p95 and
# fails if it fails or skips.
rc=0
out=$(go test -count=1 -timeout 5m -v -run '^TestViewsFastOnRealVolumes$' ./console/ 2>&1) || rc=$?
printf '%s\n' "$out" | grep -E 'p95|^(--- |ok|FAIL)' || true
if [ "$rc" -ne 0 ] || ! printf '%s\n' "$out" | grep -q -- '--- PASS: TestViewsFastOnRealVolumes'; then
  printf '%s\n' "$out" >&2
  echo "test.sh: the console's timing test failed or did not run (exit $rc)" >&2
  exit 1
fi
