.PHONY: test build demo bench bench-ingest fmt

# The test command: installs and starts a real redis-server, runs go vet and
# the race-enabled tests, stops Redis. See scripts/test.sh.
test:
	bash scripts/test.sh

build:
	go build -o bin/handoff ./cmd/handoff

demo:
	go run ./cmd/handoff demo

bench:
	go test -run '^$$' -bench . -benchmem ./...

# Ingest throughput, p99 at 1,000 req/s and peak RSS against a bare
# baseline on a private Redis (docs/BENCHMARKS.md).
bench-ingest:
	bash scripts/bench-ingest.sh

fmt:
	gofmt -w $$(git ls-files '*.go')
