#!/usr/bin/env bash
# test.sh — `go test ARGS` (what `make test` and `make bench` run), and
# afterwards, pass or fail or interrupted, stop the project's test cluster
# (.data/pg-test) if this run started it, deleting its data when that lives
# outside the checkout (scripts/pg.sh). A cluster that was already running
# is left as it was.
#
#   ROSTER_KEEP_TEST_DB=1      keep the cluster running for the next run
#                              (`make db-stop` stops it)
#   ROSTER_TEST_DATABASE_URL   tests use that server instead; nothing is
#                              started or stopped
#
# The tests start the cluster themselves (internal/pgtest): this script only
# finds out afterwards whether they did.
#
# Temporary files (go's build folders, the tests' temporary folders, the
# browser's profiles) go to a folder of this run, deleted at the end: a test
# binary stopped by a signal runs no clean-up of its own. So do the
# browser's per-user configuration and cache (XDG_CONFIG_HOME,
# XDG_CACHE_HOME), which Go's own caches are kept out of.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -gt 0 ] || set -- -race -count=1 ./...
cluster=.data/pg-test

was_running=1
if [ -z "${ROSTER_TEST_DATABASE_URL:-}" ] && ! scripts/pg.sh status "$cluster"; then
  was_running=0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/roster-test.XXXXXX")
pid=""
finish() {
  rc=$?
  set +e # clean up all of it, whatever fails
  trap '' INT TERM HUP
  if [ -n "$pid" ] && kill -0 -- "-$pid" 2>/dev/null; then
    # go test does not pass a signal on to the test binaries, nor they to
    # the servers they started: stop the whole process group.
    # SIGINT first, as Ctrl-C would: servers shut down, go test reports.
    local sig
    for sig in INT TERM KILL; do
      kill "-$sig" -- "-$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    done
  fi
  rm -rf "$tmp"
  if [ "$was_running" = 0 ]; then
    if [ "${ROSTER_KEEP_TEST_DB:-}" = 1 ]; then
      scripts/pg.sh status "$cluster" && echo "test: ROSTER_KEEP_TEST_DB=1: the test PostgreSQL keeps running; 'make db-stop' stops it" >&2
    else
      scripts/pg.sh purge "$cluster" || rc=1
    fi
  fi
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# In a process group of its own, so that finish can stop every test binary
# and every server they run, however this script is stopped. (The job of a
# non-interactive shell is not a group leader, so setsid does not fork:
# $! is go test, and its group.)
gocache=$("${GO:-go}" env GOCACHE)
goenv=$("${GO:-go}" env GOENV)
TMPDIR=$tmp GOTMPDIR=$tmp XDG_CONFIG_HOME=$tmp/config XDG_CACHE_HOME=$tmp/cache GOCACHE=$gocache GOENV=$goenv \
  setsid "${GO:-go}" test "$@" &
pid=$!
wait "$pid"
