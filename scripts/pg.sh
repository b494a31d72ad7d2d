#!/usr/bin/env bash
# pg.sh — a private PostgreSQL cluster for development and tests.
#
#   scripts/pg.sh start DIR PORT   start (or reuse) the cluster of DIR on 127.0.0.1:PORT
#                                  and print its connection URL on stdout
#   scripts/pg.sh status DIR       exit 0 when the cluster of DIR is running, 3 when not
#   scripts/pg.sh stop DIR         stop the cluster of DIR, if running; its data stays
#   scripts/pg.sh purge DIR        stop it, and delete its data if that lives outside
#                                  the checkout (below); data in DIR stays
#
# Where the data lives. Normally in DIR (DIR/data, the log DIR/server.log).
# The server refuses to run as root, so as root it runs as the `postgres`
# user, and that user must be able to enter DIR. It cannot when the checkout
# sits in a private folder (a 0700 home, a `mktemp -d` folder): opening such a
# folder to other users is not ours to do, so the cluster then lives in a new
# folder /tmp/roster-pg.XXXXXXXXXX (0700, owned by postgres), named in
# DIR/outside. That folder holds a file `checkout` naming DIR back. It is
# deleted by `purge` (make db-stop, make clean, and make test for the test
# cluster it started), and `start` and `purge` delete any such folder whose
# checkout no longer points to it (a checkout deleted without `make clean`),
# stopping its server first. Listens on loopback only.
set -euo pipefail

cmd=${1:-}; dir=${2:-}; port=${3:-5432}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|status|stop|purge DIR [PORT]" >&2; exit 2; }

log() { echo "pg.sh: $*" >&2; }

# Folders outside checkouts are made here, under this prefix.
outside_prefix=/tmp/roster-pg.

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

# Stopping needs no server binaries: without them nothing of ours can run.
bindir=$(find_bin) || bindir=""
if [ -z "$bindir" ] && [ "$cmd" = start ]; then
  install_server
  bindir=$(find_bin) || { log "still no pg_ctl after install"; exit 1; }
fi

run_as=()
owner=$(id -un)
if [ "$(id -u)" = 0 ]; then
  run_as=(runuser -u postgres --)
  owner=postgres
fi

# The server must not inherit the lock (fd 9), or it would hold it forever.
as_owner() { (cd / && "${run_as[@]}" "$@" 9>&-); }

running() { # DATA
  [ -n "$bindir" ] && [ -s "$1/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$1" status >/dev/null 2>&1
}

stop_server() { # DATA
  if running "$1"; then
    as_owner "$bindir/pg_ctl" -D "$1" -m fast -w stop >/dev/null
    log "stopped PostgreSQL in $1"
  fi
}

# is_outside_home H: H is one of our folders outside a checkout (made by
# mktemp under the prefix, owned by the server's user, not a link).
is_outside_home() {
  case "$1" in "$outside_prefix"??????????) ;; *) return 1 ;; esac
  [ -d "$1" ] && [ ! -L "$1" ] && [ -f "$1/checkout" ] && [ "$(stat -c %U "$1")" = "$owner" ]
}

# sweep deletes the outside folders whose checkout no longer names them.
sweep() {
  local h c
  for h in "$outside_prefix"*; do
    is_outside_home "$h" || continue
    c=$(cat "$h/checkout" 2>/dev/null) || continue
    [ "$(cat "$c/outside" 2>/dev/null)" = "$h" ] && continue
    log "deleting $h: its checkout $c is gone"
    stop_server "$h/data"
    rm -rf "$h"
  done
}

# Before outside folders were recorded, they were /tmp/roster-pg-<hash of
# DIR> and were never deleted: delete this checkout's, if any.
sweep_legacy() {
  local h
  h=/tmp/roster-pg-$(echo "$dir" | md5sum | cut -c1-12)
  [ -d "$h" ] && [ ! -L "$h" ] && [ "$(stat -c %U "$h")" = "$owner" ] || return 0
  log "deleting $h, where an older pg.sh kept this checkout's cluster"
  stop_server "$h/data"
  rm -rf "$h"
}

# A DIR that does not exist holds no cluster; only start makes it.
if [ "$cmd" != start ] && [ ! -d "$dir" ]; then
  case "$cmd" in
  status) exit 3 ;;
  stop) exit 0 ;;
  purge) sweep; exit 0 ;;
  *) echo "usage: $0 start|status|stop|purge DIR [PORT]" >&2; exit 2 ;;
  esac
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# resolve_home sets home, where the cluster of DIR lives: DIR, or the folder
# DIR/outside names.
resolve_home() {
  local h
  home=$dir
  [ -f "$dir/outside" ] || return 0
  h=$(cat "$dir/outside")
  if is_outside_home "$h" && [ "$(cat "$h/checkout")" = "$dir" ]; then
    home=$h
  elif [ "$cmd" != status ]; then
    rm -f "$dir/outside" # its folder is gone (a reboot cleared /tmp, say)
  fi
}

if [ "$cmd" = status ]; then
  resolve_home
  running "$home/data" && exit 0 || exit 3
fi

# Test packages run in parallel and each may call this: one at a time.
exec 9>"$dir/.lock"
flock 9
resolve_home

case "$cmd" in
start)
  sweep
  sweep_legacy
  if [ "$home" = "$dir" ] && [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$dir"; then
    home=$(mktemp -d "${outside_prefix}XXXXXXXXXX")
    # The pointer first, then the name back: sweep only looks at folders
    # that have the name back, and finds the pointer already there.
    echo "$home" >"$dir/outside"
    echo "$dir" >"$home/checkout"
    chown -R postgres: "$home"
    log "$dir is not reachable by the postgres user; the cluster lives in $home (make db-stop or make clean deletes it)"
  fi
  data=$home/data
  sock=$home/run
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data" "$sock"
    [ "$(id -u)" = 0 ] && chown -R postgres: "$home"
    chmod 700 "$data"
    as_owner "$bindir/initdb" --no-sync -U postgres -A trust -E UTF8 --locale=C.UTF-8 -D "$data" >/dev/null
    log "created cluster in $data"
  fi
  mkdir -p "$sock"; [ "$(id -u)" = 0 ] && chown postgres: "$sock"
  if ! running "$data"; then
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      log "port $port on 127.0.0.1 is taken by another program; choose another port (ROSTER_PG_PORT for make run)"
      exit 1
    fi
    fast=""
    # Tests throw their data away: skip durability there (ROSTER_PG_FAST=1).
    [ "${ROSTER_PG_FAST:-}" = 1 ] && fast="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    as_owner "$bindir/pg_ctl" -D "$data" -w -t 30 -l "$home/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $sock $fast -c max_connections=300" \
      start >/dev/null || { log "server did not start; see $home/server.log"; tail -20 "$home/server.log" >&2; exit 1; }
    log "started PostgreSQL on 127.0.0.1:$port"
  fi
  # A cluster already running keeps the port it was started with.
  port=$(sed -n 4p "$data/postmaster.pid" 2>/dev/null || echo "$port")
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  stop_server "$home/data"
  ;;
purge)
  stop_server "$home/data"
  if [ "$home" != "$dir" ]; then
    rm -rf "$home"
    rm -f "$dir/outside"
    log "deleted $home"
  fi
  sweep_legacy
  sweep
  ;;
*) echo "usage: $0 start|status|stop|purge DIR [PORT]" >&2; exit 2 ;;
esac
