#!/usr/bin/env bash
# run.sh — what `make run` does: PostgreSQL (the project's own cluster unless
# DATABASE_URL is set), migrations, a local mail catcher unless
# ROSTER_SMTP_URL is set, then `roster serve` in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=bin/roster
addr=${ROSTER_ADDR:-127.0.0.1:8080}
export ROSTER_ADDR=$addr
export ROSTER_BASE_URL=${ROSTER_BASE_URL:-http://$addr}

if [ -z "${DATABASE_URL:-}" ]; then
  admin=$(scripts/pg.sh start .data/pg "${ROSTER_PG_PORT:-54320}")
  if ! psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = 'roster'" | grep -q 1; then
    psql "$admin" -qc "CREATE DATABASE roster" >/dev/null
    echo "run: created database roster" >&2
  fi
  export DATABASE_URL=${admin%/postgres*}/roster?sslmode=disable
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

mail_note="mail goes to ROSTER_SMTP_URL"
if [ -z "${ROSTER_SMTP_URL:-}" ]; then
  smtp=${ROSTER_CATCHER_SMTP:-127.0.0.1:1025}
  web=${ROSTER_CATCHER_HTTP:-127.0.0.1:8025}
  "$bin" mailcatcher -smtp "$smtp" -http "$web" &
  pids+=($!)
  export ROSTER_SMTP_URL="smtp://$smtp?tls=none"
  mail_note="read mail at http://$web/ (the local mail catcher; set ROSTER_SMTP_URL to send real mail)"
  sleep 0.3
fi

"$bin" migrate
cat <<MSG

  Roster is starting.
    Open the console:  $ROSTER_BASE_URL/
    Mail:              $mail_note
    Database:          ${DATABASE_URL%%\?*}
  Press Ctrl-C to stop. 'make db-stop' stops the project's PostgreSQL.

MSG
"$bin" serve &
pids+=($!)
wait "${pids[-1]}"
