.PHONY: test build demo bench fmt

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

fmt:
	gofmt -w $$(git ls-files '*.go')
