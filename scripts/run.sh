#!/usr/bin/env bash
# run.sh — what `make run` does: PostgreSQL (the project's own cluster unless
# DATABASE_URL is set), migrations, a local mail catcher unless
# ROSTER_SMTP_URL is set, then `roster serve`.
#
# It stops everything it started (the console, the catcher, and the cluster
# when it was not already running) when any of these happens: Ctrl-C;
# SIGINT, SIGTERM or SIGHUP to this script or to the `make` running it; the
# console or the catcher stopping; a step failing. A cluster that was
# already running is left running.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=bin/roster
addr=${ROSTER_ADDR:-127.0.0.1:8080}
export ROSTER_ADDR=$addr
export ROSTER_BASE_URL=${ROSTER_BASE_URL:-http://$addr}
cluster=.data/pg

pids=()
pg_started=""
cleanup() {
  local rc=$?
  set +e # stop all of it, whatever fails
  trap '' INT TERM HUP
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$pg_started" ]; then
    scripts/pg.sh stop "$cluster" || true
  fi
  exit "$rc"
}
trap cleanup EXIT
# A trap that returned would let the script go on to its next step.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# start CMD...: run CMD in the background as one of ours. With setpriv, it
# gets SIGTERM when this script dies, even by SIGKILL.
start() {
  if command -v setpriv >/dev/null; then
    setpriv --pdeathsig TERM -- "$@" &
  else
    "$@" &
  fi
  pids+=($!)
}

# watch_parent returns when our parent dies or, if it is make, when make is
# being stopped. GNU make passes SIGTERM on to this script, but on SIGINT,
# SIGHUP or SIGQUIT sent to make alone it only waits for us; it stops
# catching that signal as it does (the signal's bit leaves SigCgt in
# /proc/PID/status), which is how we notice. Linux only; elsewhere signals
# to this script, SIGTERM to make, and Ctrl-C still work.
watch_parent() {
  local parent=$PPID mask=$((0x4007)) # SIGHUP SIGINT SIGQUIT SIGTERM
  [ -r "/proc/$parent/status" ] || { wait_forever; return; }
  local comm caught="" now stat
  comm=$(cat "/proc/$parent/comm" 2>/dev/null || true)
  if [ "$comm" = make ] || [ "$comm" = gmake ]; then
    caught=$((0x$(awk '/^SigCgt:/ {print $2}' "/proc/$parent/status") & mask))
  fi
  while read -rt 1 <> <(:) || true; do
    stat=$(cat "/proc/$$/stat" 2>/dev/null) || return 0
    stat=${stat##*) }  # the fields after the command's name: state ppid ...
    stat=${stat#* }
    [ "${stat%% *}" = "$parent" ] || { echo "run: our parent process is gone; stopping" >&2; return 0; }
    [ -n "$caught" ] || continue
    now=$(awk '/^SigCgt:/ {print $2}' "/proc/$parent/status" 2>/dev/null) || return 0
    [ $((0x$now & mask)) = "$caught" ] || { echo "run: make is being stopped; stopping" >&2; return 0; }
  done
}
wait_forever() { while read -rt 3600 <> <(:) || true; do :; done; }

if [ -z "${DATABASE_URL:-}" ]; then
  scripts/pg.sh status "$cluster" || pg_started=1
  admin=$(scripts/pg.sh start "$cluster" "${ROSTER_PG_PORT:-54320}")
  if ! psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = 'roster'" | grep -q 1; then
    psql "$admin" -qc "CREATE DATABASE roster" >/dev/null
    echo "run: created database roster" >&2
  fi
  export DATABASE_URL=${admin%/postgres*}/roster?sslmode=disable
fi

mail_note="mail goes to ROSTER_SMTP_URL"
if [ -z "${ROSTER_SMTP_URL:-}" ]; then
  smtp=${ROSTER_CATCHER_SMTP:-127.0.0.1:1025}
  web=${ROSTER_CATCHER_HTTP:-127.0.0.1:8025}
  start "$bin" mailcatcher -smtp "$smtp" -http "$web"
  # Ready when its SMTP port answers; it exits at once if a port is taken.
  for i in $(seq 101); do
    kill -0 "${pids[-1]}" 2>/dev/null && [ "$i" -le 100 ] || { echo "run: the mail catcher did not start (is $smtp or $web taken? set ROSTER_CATCHER_SMTP, ROSTER_CATCHER_HTTP)" >&2; exit 1; }
    (exec 3<>"/dev/tcp/${smtp%:*}/${smtp##*:}") 2>/dev/null && break
    sleep 0.1
  done
  export ROSTER_SMTP_URL="smtp://$smtp?tls=none"
  mail_note="read mail at http://$web/ (the local mail catcher; set ROSTER_SMTP_URL to send real mail)"
fi

"$bin" migrate
cat <<MSG

  Roster is starting.
    Open the console:  $ROSTER_BASE_URL/
    Mail:              $mail_note
    Database:          ${DATABASE_URL%%\?*}
  Ctrl-C stops all of this (PostgreSQL too, if this started it).

MSG
start "$bin" serve
watch_parent &
pids+=($!)
# Whichever stops first (the console, the catcher, or the watch of our
# parent), everything stops.
wait -n
