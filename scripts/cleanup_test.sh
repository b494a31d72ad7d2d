#!/usr/bin/env bash
# cleanup_test.sh — checks, for real, that the project's commands leave
# nothing behind. `make test` runs it after the Go tests.
#
#   1. scripts/test.sh (the test run of `make test`) stops the test
#      PostgreSQL it started, whether the tests pass, fail or are stopped by
#      SIGTERM (which make passes on), and then no test process is left; it
#      leaves a cluster that was already running as it was, and keeps it
#      running with ROSTER_KEEP_TEST_DB=1.
#   2. `make db-stop` and `make clean` stop the clusters and delete their
#      data that lived outside the checkout.
#   3. `make run`, stopped by SIGTERM, SIGINT or SIGHUP to make or SIGTERM to
#      scripts/run.sh, or failing by itself, leaves no roster process, no
#      listening port and no PostgreSQL that it started.
#
# It works on a copy of the checkout in a new private folder (0700, as
# `mktemp -d` makes it): as root, the postgres user cannot enter it, so the
# clusters live outside the checkout, as scripts/pg.sh describes. It stops
# only what it started, by process id, and deletes the copy at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
export GO=${GO:-go}

say() { echo "cleanup_test: $*" >&2; }
fail() {
  say "FAIL: $*"
  [ -s "$work/log" ] && { say "last lines of the log:"; tail -25 "$work/log" >&2; }
  exit 1
}

env --default-signal=INT true 2>/dev/null || { say "FAIL: this check needs env --default-signal (GNU coreutils 8.31 or later)"; exit 1; }

work=$(mktemp -d)
copy=$work/roster
run_pid=""    # the make run being checked: a session of its own
tpid=""       # a test run being checked
squatter=""   # a program holding the console's port
cleanup() {
  local rc=$?
  set +e # clean up all of it, whatever fails
  trap '' INT TERM HUP
  [ -n "$run_pid" ] && kill -KILL -- "-$run_pid" 2>/dev/null
  [ -n "$squatter" ] && kill -KILL "$squatter" 2>/dev/null
  [ -n "$tpid" ] && kill -TERM "$tpid" 2>/dev/null && wait "$tpid" # it stops what it started
  if [ -x "$copy/scripts/pg.sh" ]; then
    for d in pg pg-test; do "$copy/scripts/pg.sh" purge "$copy/.data/$d" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

mkdir "$copy"
tar -C "$src" --exclude=./.git --exclude=./.data --exclude=./bin --exclude=./test-output \
  --exclude=./node_modules -cf - . | tar -C "$copy" -xf -

fallback=0
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$copy"; then
  fallback=1
else
  say "note: the postgres user can enter $work, so the clusters stay in the copy (no data outside to check)"
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port sets port to a loopback port nothing listens on, and not given
# before. It is below the ports the kernel gives outgoing connections, which
# could take it at any moment.
given=" "
ephemeral=32768
read -r ephemeral _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
[ "$ephemeral" -gt 12000 ] || ephemeral=32768
free_port() {
  for _ in $(seq 200); do
    port=$((10000 + RANDOM % (ephemeral - 10000)))
    case "$given" in *" $port "*) continue ;; esac
    listening "$port" && continue
    given+="$port "
    return 0
  done
  fail "found no free port"
}

# outside_of DIR: the folders outside the checkout that hold the cluster of DIR.
outside_of() {
  local h
  for h in /tmp/roster-pg.*; do
    [ "$(cat "$h/checkout" 2>/dev/null)" = "$1" ] && echo "$h"
  done
  return 0
}

# procs_in_copy: processes whose program or working directory is in the copy.
procs_in_copy() {
  local p e c
  for p in /proc/[0-9]*; do
    e=$(readlink "$p/exe" 2>/dev/null) || continue
    c=$(readlink "$p/cwd" 2>/dev/null) || c=""
    case "$e/|$c/" in "$copy"/*|*"|$copy"/*) echo "  pid ${p#/proc/}: $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" ;; esac
  done
}

# children_of PID: the processes whose parent is PID.
children_of() {
  local p s
  for p in /proc/[0-9]*; do
    s=$(cat "$p/stat" 2>/dev/null) || continue
    s=${s##*) }; s=${s#* }  # the fields after the command's name: state ppid ...
    [ "${s%% *}" = "$1" ] && echo "${p#/proc/}"
  done
  return 0
}

# within SECONDS CMD...: run CMD every 0.2 s until it succeeds; fail after
# SECONDS (a guard against hanging, generous: nothing here is timed).
within() {
  local n=$(($1 * 5)); shift
  until "$@"; do
    n=$((n - 1)); [ "$n" -gt 0 ] || return 1
    sleep 0.2
  done
}

pg_status() { (cd "$copy" && scripts/pg.sh status "$1"); }

# expect_gone CLUSTER PORT WHAT [kept]: the cluster is stopped, nothing
# listens on its port, no process is in the copy, and none of its data is
# outside the checkout (unless "kept": make run keeps it between runs).
expect_gone() {
  local left
  pg_status "$1" && fail "$3: the PostgreSQL of $1 is still running"
  listening "$2" && fail "$3: something still listens on port $2"
  if [ "${4:-}" != kept ]; then
    left=$(outside_of "$copy/$1")
    [ -z "$left" ] || fail "$3: data of $1 left outside the checkout: $left"
    [ ! -e "$copy/$1/outside" ] || fail "$3: $1/outside still names a folder"
  fi
  left=$(procs_in_copy)
  [ -z "$left" ] || fail "$3: processes left:
$left"
}

# 1. The test run of make test.
free_port; test_port=$port
unset DATABASE_URL ROSTER_TEST_DATABASE_URL ROSTER_KEEP_TEST_DB ROSTER_PG_PORT ROSTER_ADDR \
  ROSTER_BASE_URL ROSTER_SMTP_URL ROSTER_CATCHER_SMTP ROSTER_CATCHER_HTTP
export ROSTER_TEST_PG_PORT=$test_port
cat >"$copy/internal/pgtest/zz_cleanup_test.go" <<'EOF'
package pgtest

// Written by scripts/cleanup_test.sh into its copy of the checkout only.

import (
	"os"
	"testing"
	"time"
)

func TestCleanupPasses(t *testing.T) { URL(t) }

func TestCleanupFails(t *testing.T) {
	URL(t)
	t.Fatal("failing on purpose")
}

// TestCleanupWaits holds a database until its process is stopped.
func TestCleanupWaits(t *testing.T) {
	URL(t)
	if err := os.WriteFile(os.Getenv("CLEANUP_READY"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Hour)
}
EOF
gotest() { (cd "$copy" && exec scripts/test.sh -count=1 -run "^$1\$" ./internal/pgtest) >>"$work/log" 2>&1; }

say "1. make test's test run stops the PostgreSQL it started"
gotest TestCleanupPasses || fail "the passing test run failed"
expect_gone .data/pg-test "$test_port" "after passing tests"

if gotest TestCleanupFails; then fail "the failing test run passed"; fi
expect_gone .data/pg-test "$test_port" "after failing tests"

(cd "$copy" && CLEANUP_READY=$work/ready exec scripts/test.sh -count=1 -run '^TestCleanupWaits$' ./internal/pgtest) >>"$work/log" 2>&1 &
tpid=$!
waiting_ready() { [ -e "$work/ready" ] || { kill -0 "$tpid" 2>/dev/null || fail "the waiting test run ended by itself"; false; }; }
within 600 waiting_ready || fail "the waiting test did not start"
pg_status .data/pg-test || fail "the waiting test holds a database, but no cluster runs"
kill -TERM "$tpid"
rc=0; wait "$tpid" || rc=$?
tpid=""
[ "$rc" = 143 ] || fail "the test run stopped by SIGTERM exited with $rc, not 143"
expect_gone .data/pg-test "$test_port" "after a test run stopped by SIGTERM"

say "1. a cluster that was already running is left running; ROSTER_KEEP_TEST_DB=1 keeps one"
(cd "$copy" && ROSTER_PG_FAST=1 scripts/pg.sh start .data/pg-test "$test_port") >/dev/null 2>>"$work/log"
gotest TestCleanupPasses || fail "the test run on a running cluster failed"
pg_status .data/pg-test || fail "the test run stopped a cluster that was running before it"

say "2. make db-stop stops it and deletes its data outside the checkout"
[ "$fallback" = 0 ] || [ -n "$(outside_of "$copy/.data/pg-test")" ] || fail "the cluster of a checkout postgres cannot enter is not outside it"
make -s -C "$copy" db-stop >>"$work/log" 2>&1 || fail "make db-stop failed"
expect_gone .data/pg-test "$test_port" "after make db-stop"

ROSTER_KEEP_TEST_DB=1 gotest TestCleanupPasses || fail "the test run with ROSTER_KEEP_TEST_DB=1 failed"
pg_status .data/pg-test || fail "ROSTER_KEEP_TEST_DB=1 did not keep the cluster running"
[ "$fallback" = 0 ] || [ -n "$(outside_of "$copy/.data/pg-test")" ] || fail "the kept cluster's data is not outside the checkout"

say "2. make clean stops it and deletes its data outside the checkout"
make -s -C "$copy" clean >>"$work/log" 2>&1 || fail "make clean failed"
expect_gone .data/pg-test "$test_port" "after make clean"
[ ! -e "$copy/.data" ] || fail "make clean left .data"

# 3. make run.
free_port; pg_port=$port
free_port; console=127.0.0.1:$port
free_port; smtp=127.0.0.1:$port
free_port; mailweb=127.0.0.1:$port
export ROSTER_PG_PORT=$pg_port ROSTER_ADDR=$console ROSTER_CATCHER_SMTP=$smtp ROSTER_CATCHER_HTTP=$mailweb

# start_run: make run in a session of its own, with the signals a terminal's
# make has (a background job starts with SIGINT and SIGQUIT ignored).
start_run() {
  (cd "$copy" && exec setsid env --default-signal=INT,QUIT,HUP make -s run) >>"$work/log" 2>&1 &
  run_pid=$!
}

# ready: the console answers 200 on /readyz; fails the test if make run ended.
ready() {
  kill -0 "$run_pid" 2>/dev/null || fail "make run ended before the console was ready"
  (
    exec 3<>"/dev/tcp/${console%:*}/${console##*:}" || exit 1
    printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$console" >&3
    read -r _ status _ <&3 || exit 1
    [ "$status" = 200 ]
  ) 2>/dev/null
}

# wait_run_ended WHAT: make run ends within a minute (it hangs otherwise).
wait_run_ended() {
  run_ended() { ! kill -0 "$run_pid" 2>/dev/null; }
  within 60 run_ended || fail "$1: make run did not end"
  wait "$run_pid" || true
  run_pid=""
}

expect_run_gone() {
  local p
  for p in "${console##*:}" "${smtp##*:}" "${mailweb##*:}"; do
    listening "$p" && fail "$1: something still listens on port $p"
  done
  expect_gone .data/pg "$pg_port" "$1" kept
}

stop_run() { # HOW SIGNAL
  start_run
  within 600 ready || fail "the console of make run was not ready"
  if [ "$1" = make ]; then
    kill "-$2" "$run_pid"
  else
    kill "-$2" $(children_of "$run_pid") # make's only child: scripts/run.sh
  fi
  wait_run_ended "SIG$2 to $1"
  expect_run_gone "make run stopped by SIG$2 to $1"
}

say "3. make run stopped by a signal stops everything it started"
for sig in TERM INT HUP; do stop_run make "$sig"; done
stop_run scripts/run.sh TERM

say "3. make run that fails by itself stops everything it started"
free_port
"$copy/bin/roster" mailcatcher -smtp "127.0.0.1:$port" -http "$console" >/dev/null 2>&1 &
squatter=$!
squatting() { listening "${console##*:}" || { kill -0 "$squatter" || fail "the port squatter did not start"; false; }; }
within 60 squatting || fail "the port squatter did not start"
start_run
wait_run_ended "make run with its console port taken"
kill "$squatter"; wait "$squatter" || true; squatter=""
grep -q "address already in use" "$work/log" || fail "make run did not fail on its taken port"
expect_run_gone "make run that failed"

say "2. make clean deletes make run's data outside the checkout"
[ "$fallback" = 0 ] || [ -n "$(outside_of "$copy/.data/pg")" ] || fail "make run's cluster is not outside the checkout"
make -s -C "$copy" clean >>"$work/log" 2>&1 || fail "make clean failed"
expect_gone .data/pg "$pg_port" "after make clean"

say "ok: nothing left behind"
