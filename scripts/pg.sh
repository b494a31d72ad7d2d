#!/usr/bin/env bash
# pg.sh — a private PostgreSQL cluster for development and tests.
#
#   scripts/pg.sh start DIR PORT   start (or reuse) a cluster in DIR on 127.0.0.1:PORT
#                                  and print its connection URL on stdout
#   scripts/pg.sh stop DIR         stop the cluster in DIR, if running
#
# The server refuses to run as root, so as root it runs as the `postgres`
# user; a DIR that user cannot reach (a checkout under a 0700 home, say) is
# replaced by a folder under /tmp named after DIR. Listens on loopback only.
set -euo pipefail

cmd=${1:-}; dir=${2:-}; port=${3:-5432}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2; }

log() { echo "pg.sh: $*" >&2; }

find_bin() {
  local b
  for b in "$(command -v pg_ctl 2>/dev/null || true)" /usr/lib/postgresql/*/bin/pg_ctl; do
    [ -x "$b" ] && { dirname "$b"; return 0; }
  done
  return 1
}

install_server() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "PostgreSQL server not found; installing Debian's postgresql package"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib) >&2
  else
    log "PostgreSQL server binaries (initdb, pg_ctl) not found."
    log "Install them, e.g.: sudo apt-get install postgresql postgresql-contrib"
    log "or set DATABASE_URL to a PostgreSQL 15+ database you already run."
    exit 1
  fi
}

bindir=$(find_bin) || { install_server; bindir=$(find_bin) || { log "still no pg_ctl after install"; exit 1; }; }

run_as=()
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
  run_as=(runuser -u postgres --)
  owner=postgres
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# Test packages run in parallel and each may call this: one at a time.
exec 9>"$dir/.lock"
flock 9
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$dir"; then
  alt=/tmp/roster-pg-$(echo "$dir" | md5sum | cut -c1-12)
  log "$dir is not reachable by the postgres user; using $alt"
  mkdir -p "$alt"
  dir=$alt
fi
data=$dir/data
sock=$dir/run

# The server must not inherit the lock (fd 9), or it would hold it forever.
as_owner() { (cd / && "${run_as[@]}" "$@" 9>&-); }

case "$cmd" in
start)
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data" "$sock"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
    chmod 700 "$data"
    as_owner "$bindir/initdb" --no-sync -U postgres -A trust -E UTF8 --locale=C.UTF-8 -D "$data" >/dev/null
    log "created cluster in $data"
  fi
  mkdir -p "$sock"; [ "$(id -u)" = 0 ] && chown postgres: "$sock"
  if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      log "port $port on 127.0.0.1 is taken by another program; choose another port (ROSTER_PG_PORT for make run)"
      exit 1
    fi
    fast=""
    # Tests throw their data away: skip durability there (ROSTER_PG_FAST=1).
    [ "${ROSTER_PG_FAST:-}" = 1 ] && fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    as_owner "$bindir/pg_ctl" -D "$data" -w -t 30 -l "$dir/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $sock $fast -c max_connections=300" \
      start >/dev/null || { log "server did not start; see $dir/server.log"; tail -20 "$dir/server.log" >&2; exit 1; }
    log "started PostgreSQL on 127.0.0.1:$port"
  fi
  # A cluster already running keeps the port it was started with.
  port=$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || echo "$port")
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  if [ -s "$data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    log "stopped PostgreSQL in $data"
  fi
  ;;
*) echo "usage: $0 start|stop DIR [PORT]" >&2; exit 2 ;;
esac
