#!/usr/bin/env bash
# Runs every fuzz target in the repository (found with
# `go test -list '^Fuzz' ./...`) for FUZZTIME each (default 10s), one after
# the other, and exits non-zero if any of them failed.
#
# The seed corpus of a target is its f.Add calls plus the files in the
# package's testdata/fuzz/<FuzzName>/ (committed). When a target fails, Go
# writes the failing input there as a new file: commit it, it becomes a
# regression seed that `go test` (without -fuzz) runs every time. The corpus
# the fuzzer grows while running stays in the Go build cache
# ($(go env GOCACHE)/fuzz), so later runs resume from it.
#
#   scripts/fuzz.sh                         # every target, 10s each
#   FUZZTIME=1m scripts/fuzz.sh             # longer
#   FUZZ_MATCH=Outbound scripts/fuzz.sh     # only targets whose name matches (grep -E)
#   FUZZ_PKGS=./webhooks scripts/fuzz.sh    # only these packages
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZTIME=${FUZZTIME:-10s}
FUZZ_MATCH=${FUZZ_MATCH:-.}
FUZZ_PKGS=${FUZZ_PKGS:-./...}

list=$(go test -list '^Fuzz' $FUZZ_PKGS 2>&1) || { echo "$list" >&2; echo "fuzz.sh: could not list the fuzz targets" >&2; exit 2; }

# `go test -list` prints a package's matching names, then "ok <pkg> <time>".
targets=()
names=()
while IFS= read -r line; do
  case "$line" in
    Fuzz*) names+=("$line") ;;
    ok*)
      pkg=$(awk '{print $2}' <<<"$line")
      for n in "${names[@]}"; do targets+=("$pkg $n"); done
      names=()
      ;;
    *) names=() ;;
  esac
done <<<"$list"

if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets found" >&2
  exit 2
fi

failed=()
ran=0
for t in "${targets[@]}"; do
  pkg=${t% *}
  name=${t#* }
  grep -Eq -- "$FUZZ_MATCH" <<<"$name" || continue
  ran=$((ran + 1))
  echo "=== $pkg $name ($FUZZTIME)"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"; then
    failed+=("$pkg $name")
    dir=$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$name
    echo "fuzz.sh: $name failed; the failing input is in $dir (commit it as a regression seed once fixed)" >&2
  fi
done

echo "fuzz.sh: ran $ran targets for $FUZZTIME each"
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz.sh: FAILED %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "fuzz.sh: all passed"
