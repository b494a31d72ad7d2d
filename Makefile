# Roster — the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
GO ?= go
export GOTOOLCHAIN ?= local

.PHONY: run test build generate check fmt db-stop chromium bench vuln clean

## run: start PostgreSQL, the mail catcher and the console (see README)
run: build
	@scripts/run.sh

## build: compile bin/roster
build:
	$(GO) build -o bin/roster ./cmd/roster

## test: formatting, vet, generated code up to date, then every test with -race
test: check chromium
	$(GO) test -race -count=1 ./...

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
	$(GO) test -run '^$$' -bench . -benchmem ./...

## vuln: known vulnerabilities in the dependencies and the standard library
## (govulncheck, pinned as a Go tool; needs to reach vuln.go.dev, so it is not
## part of `make test`)
vuln:
	$(GO) tool govulncheck ./...

## db-stop: stop the project's PostgreSQL clusters
db-stop:
	@scripts/pg.sh stop .data/pg
	@scripts/pg.sh stop .data/pg-test

clean: db-stop
	rm -rf bin .data test-output
