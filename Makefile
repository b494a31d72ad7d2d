# Roster — the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
export GOTOOLCHAIN ?= local

.PHONY: run test build generate check fmt db-stop chromium bench vuln clean

## run: start PostgreSQL, the mail catcher and the console; any way it is
## stopped, it stops what it started (see README)
run: build
	@scripts/run.sh

## build: compile bin/roster
build:
	$(GO) build -o bin/roster ./cmd/roster

## test: formatting, vet, generated code up to date, every test with -race,
## then the checks that make test, make run and make clean leave nothing
## behind. Stops the test PostgreSQL afterwards if it started it
## (ROSTER_KEEP_TEST_DB=1 keeps it running).
test: check chromium
	@GO=$(GO) scripts/test.sh -race -count=1 $$($(GO) list ./... | grep -v /internal/e2e$$)
	@# The browser tests drive the real binary, built without -race in its own
	@# process: -race there would instrument only chromedp, whose DOM event
	@# handling races with its own queries (a library bug, not ours).
	@GO=$(GO) scripts/test.sh -count=1 ./internal/e2e
	@GO=$(GO) scripts/cleanup_test.sh

## check: gofmt, go vet, templ fmt, and the committed templ output is current
check:
	@bad=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$')); \
	  if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool templ fmt -fail web/templates >/dev/null
	$(GO) tool templ generate -path web/templates >/dev/null
	@git diff --exit-code -- web/templates || { echo "generated templ code is stale: run 'make generate' and commit"; exit 1; }

## generate: regenerate templ code
generate:
	$(GO) tool templ fmt web/templates
	$(GO) tool templ generate -path web/templates

## chromium: install Chromium for the browser tests when missing
chromium:
	@scripts/chromium.sh

## bench: benchmarks (numbers are written down in docs/performance.md)
bench:
	@GO=$(GO) scripts/test.sh -run '^$$' -bench . -benchmem ./...

## vuln: known vulnerabilities in the dependencies and the standard library
## (govulncheck, pinned as a Go tool; needs to reach vuln.go.dev, so it is not
## part of `make test`)
vuln:
	$(GO) tool govulncheck ./...

## db-stop: stop the project's PostgreSQL clusters, and delete the data of
## any that had to live outside the checkout
db-stop:
	@for d in pg pg-test pg-bench; do scripts/pg.sh purge .data/$$d || exit; done

## clean: db-stop, then delete what builds and tests made in the checkout
clean: db-stop
	rm -rf bin .data test-output
