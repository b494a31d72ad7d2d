#!/usr/bin/env bash
# loadtest.sh — req/s and latency of the console's pages at 100,000 members,
# each against the same page served from memory.
#
#   scripts/loadtest.sh
#   NEIGHBOURS=10000 SIGNINS=50 ROUNDS=2 DURATION=5s scripts/loadtest.sh
#
# Builds bin/roster, starts the project's PostgreSQL in .data/pg-bench on
# 127.0.0.1:54331, seeds once (about 10 s; kept for the next run) a database
# of two accounts: Bench Co, 100,000 members (the seed is cut out of
# internal/postgres/bench_test.go), and Small Co, 100 members
# (scripts/loadtest-small.sql). It starts `roster serve` (A) on loopback
# without SMTP and, beside it, `roster serve-from-memory` (M: the same
# router, handlers and templ pages with every read answered from memory
# after the first: the yardstick of what the stack could do), signs in to
# both as each account's Owner with curl and runs wrk against each page,
# alternating the servers page by page. For each page it prints req/s, p50
# and p99 of each server and the ratio Roster ÷ from memory; then, for each
# Manage users view, Bench Co's ratio ÷ Small Co's (flat with size), and at
# the end every server's peak RSS (VmHWM). It stops what it started.
# Everything listens on 127.0.0.1 only.
#
# NEIGHBOURS=n (flat with neighbours): also seeds, once, a database of Small
# Co alone and one of Small Co beside n accounts of NEIGHBOUR_MEMBERS
# (1,000) members each, named so that Small Co's search terms match in every
# one of them (scripts/loadtest-neighbours.sql); serves them as S and N, and
# prints Small Co's req/s among the neighbours ÷ alone. At 10,000 accounts
# (10 million users and memberships) the seed takes about 10 minutes on
# 2 cores and about 10 GB of disk; it is not part of `make test`.
#
# SIGNINS=n: afterwards, n clients sign in with correct passwords in a loop
# (POST /login, a new session each time) while wrk measures SIGNIN_PAGES
# ("home page1 search-common") on A, each measured alone right before;
# prints the sign-ins' count and latency and A's peak RSS before and after.
#
# Settings (environment):
#   DURATION=10s CONNECTIONS=32 THREADS=2   wrk's, per page and round
#   ROUNDS=1                                repeat the whole list
#   PAGES="healthz home page1 ..."          a subset of the pages below
#   ROSTER_BIN=path                         use this binary instead of building
#   COMPARE_BIN=path                        also run this binary's `serve`
#                                           (B), alternating page by page;
#                                           with NEIGHBOURS also as SB, NB
#   MEMORY=0                                skip the from-memory server
#   NEIGHBOURS=0 NEIGHBOUR_MEMBERS=1000     see above
#   SIGNINS=0 SIGNIN_PAGES="…"              see above
#   SEED_ONLY=1                             seed the databases, then stop
#   PORT=18080 PG_PORT=54331
#
# The machine runs the server, PostgreSQL and wrk on the same cores: compare
# numbers of one run, not across runs (docs/performance.md).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-1}
PORT=${PORT:-18080}
PG_PORT=${PG_PORT:-54331}
PAGES=${PAGES:-"healthz home page1 page1000 search-rare search-medium search-common role-filter role-billing invited user invite-form audit accounts small-page1 small-search-rare small-search-medium small-search-common small-role-filter small-role-billing"}
MEMORY=${MEMORY:-1}
NEIGHBOURS=${NEIGHBOURS:-0}
NEIGHBOUR_MEMBERS=${NEIGHBOUR_MEMBERS:-1000}
out=$root/.data/loadtest
mkdir -p "$out"

log() { echo "loadtest: $*" >&2; }

command -v wrk >/dev/null || {
  log "installing wrk"
  (apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }) >/dev/null
}
command -v psql >/dev/null || { log "psql not found (apt-get install postgresql-client)"; exit 1; }

# What this script started, stopped on any exit.
pids=()
pg_started=""
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  [ -n "$pg_started" ] && scripts/pg.sh stop .data/pg-bench || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bin=${ROSTER_BIN:-}
if [ -z "$bin" ]; then
  log "building bin/roster"
  go build -o bin/roster ./cmd/roster
  bin=$root/bin/roster
fi

if ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
  pg_started=1
fi
admin=$(scripts/pg.sh start .data/pg-bench "$PG_PORT")
pg() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# ensure_db PREFIX WHAT SEED_FN [HASH_INPUT…]: the name of a database
# PREFIX_<hash of the migrations and HASH_INPUT>, made on first use by
# migrating a new database and running SEED_FN URL in it (then VACUUM
# ANALYZE), and kept for the next run; another of the same PREFIX (an older
# seed) is dropped first. The seed runs in PREFIX_<hash>_seeding, renamed
# only when it succeeded.
ensure_db() {
  local prefix=$1 what=$2 fn=$3 name start old url
  shift 3
  name=${prefix}_$( (cat migrations/*.sql; printf '%s\n' "$@") | sha256sum | cut -c1-16)
  if [ "$(pg "$admin" -tAc "SELECT count(*) FROM pg_database WHERE datname = '$name'")" = 0 ]; then
    for old in $(pg "$admin" -tAc "SELECT datname FROM pg_database WHERE datname LIKE '${prefix//_/\\_}\_%'"); do
      pg "$admin" -c "DROP DATABASE \"$old\" WITH (FORCE)"
    done
    log "seeding $name ($what)"
    start=$(date +%s)
    url=${admin%/postgres*}/${name}_seeding?sslmode=disable
    pg "$admin" -c "CREATE DATABASE ${name}_seeding"
    DATABASE_URL=$url "$bin" migrate >/dev/null
    "$fn" "$url" >&2
    pg "$url" -c "VACUUM (ANALYZE)"
    pg "$admin" -c "ALTER DATABASE ${name}_seeding RENAME TO $name"
    log "seeded $name in $(($(date +%s) - start)) s, $(pg "$admin" -tAc "SELECT pg_size_pretty(pg_database_size('$name'))")"
  fi
  echo "$name"
}

# The seeds, cut out of internal/postgres/bench_test.go (Bench Co, 100,000
# members) and scripts/loadtest-small.sql (Small Co, 100 members), each
# after the seeded people's functions (scripts/seed-people.sql), which live
# in the session that runs the seed.
people=$(cat scripts/seed-people.sql)
seed=$(sed -n '/^-- BEGIN SEED$/,/^-- END SEED$/p' internal/postgres/bench_test.go)
[ -n "$seed" ] || { log "no seed in internal/postgres/bench_test.go"; exit 1; }
seed="$people
$seed"
small="$people
$(cat scripts/loadtest-small.sql)"
seed_load() { echo "$seed" | pg "$1" -f - && echo "$small" | pg "$1" -f -; }
seed_alone() { echo "$small" | pg "$1" -f -; }
seed_neighbours() {
  local fresh=${admin%/postgres*}/roster_schema_check?sslmode=disable
  echo "$small" | pg "$1" -f -
  # Fewer checkpoints while 10 million rows are written; put back
  # afterwards, however the seed ends (this runs in ensure_db's subshell).
  reset_wal() {
    pg "$admin" -c "ALTER SYSTEM RESET max_wal_size" -c "ALTER SYSTEM RESET checkpoint_timeout" \
      -c "SELECT pg_reload_conf()" >/dev/null
  }
  trap reset_wal EXIT
  pg "$admin" -c "ALTER SYSTEM SET max_wal_size = '16GB'" -c "ALTER SYSTEM SET checkpoint_timeout = '30min'" \
    -c "SELECT pg_reload_conf()" >/dev/null
  pg "$1" -v accounts="$NEIGHBOURS" -v members="$NEIGHBOUR_MEMBERS" -f scripts/seed-people.sql -f scripts/loadtest-neighbours.sql
  reset_wal
  trap - EXIT
  # The seed dropped and remade indexes: the schema must be the migrations'.
  pg "$admin" -c "DROP DATABASE IF EXISTS roster_schema_check" -c "CREATE DATABASE roster_schema_check"
  DATABASE_URL=$fresh "$bin" migrate >/dev/null
  if ! diff <(pg_dump -s "$fresh" | grep -v '^\\\(un\)\?restrict ') <(pg_dump -s "$1" | grep -v '^\\\(un\)\?restrict '); then
    log "the neighbours' database does not have the migrations' schema"
    exit 1
  fi
  pg "$admin" -c "DROP DATABASE roster_schema_check"
  log "the neighbours' schema is the migrations' (pg_dump -s)"
}
name=$(ensure_db roster_load "Bench Co, 100,000 members; Small Co, 100" seed_load "$seed" "$small")
dburl=${admin%/postgres*}/$name?sslmode=disable
if [ "$NEIGHBOURS" -gt 0 ]; then
  name_s=$(ensure_db roster_alone "Small Co alone" seed_alone "$small")
  name_n=$(ensure_db roster_neighbours "Small Co beside $NEIGHBOURS accounts of $NEIGHBOUR_MEMBERS members" seed_neighbours \
    "$small" "$(cat scripts/loadtest-neighbours.sql)" "$NEIGHBOURS" "$NEIGHBOUR_MEMBERS")
fi
[ "${SEED_ONLY:-0}" = 1 ] && { log "seeded; SEED_ONLY=1, no load"; exit 0; }

# start_server BIN PORT COMMAND DBURL: roster COMMAND on loopback, no SMTP,
# logs to a file.
start_server() {
  env -u ROSTER_SMTP_URL -u ROSTER_BASE_URL -u ROSTER_TRUSTED_PROXIES -u ROSTER_METRICS_ADDR \
    DATABASE_URL="$4" ROSTER_ADDR="127.0.0.1:$2" \
    "$1" "$3" >"$out/server-$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$2/healthz" >/dev/null && return 0
    sleep 0.1
  done
  log "server on port $2 did not start; see $out/server-$2.log"
  exit 1
}

# sign_in PORT EMAIL: the session cookie of EMAIL, "roster_session=…".
sign_in() {
  local jar=$out/cookies-$1-$2 code
  rm -f "$jar"
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" \
    --data-urlencode email="$2" --data-urlencode password=bench-password-7fq2 \
    "http://127.0.0.1:$1/login")
  [ "$code" = 303 ] || { log "sign in as $2 on port $1: status $code"; exit 1; }
  awk '$6 == "roster_session" { print "roster_session=" $7 }' "$jar"
}

# Servers: label, binary, command, database, the accounts it holds.
# A and M (and B) serve the database of Bench Co and Small Co; with
# NEIGHBOURS, S serves Small Co alone and N Small Co among the neighbours.
servers=("A $bin serve $dburl bench,small")
[ -n "${COMPARE_BIN:-}" ] && servers+=("B $COMPARE_BIN serve $dburl bench,small")
[ "$MEMORY" = 1 ] && servers+=("M $bin serve-from-memory $dburl bench,small")
if [ "$NEIGHBOURS" -gt 0 ]; then
  servers+=("S $bin serve ${admin%/postgres*}/$name_s?sslmode=disable small")
  servers+=("N $bin serve ${admin%/postgres*}/$name_n?sslmode=disable small")
  if [ -n "${COMPARE_BIN:-}" ]; then
    servers+=("SB $COMPARE_BIN serve ${admin%/postgres*}/$name_s?sslmode=disable small")
    servers+=("NB $COMPARE_BIN serve ${admin%/postgres*}/$name_n?sslmode=disable small")
  fi
fi
declare -A cookie owner=([bench]=owner@bench.example [small]=owner@small.example)
for i in "${!servers[@]}"; do
  read -r label sbin scmd surl saccts <<<"${servers[$i]}"
  start_server "$sbin" $((PORT + i)) "$scmd" "$surl"
  for acct in ${saccts//,/ }; do
    cookie[$label-$acct]=$(sign_in $((PORT + i)) "${owner[$acct]}")
  done
done

sid=$(pg "$dburl" -tAc "SELECT sid FROM accounts WHERE name = 'Bench Co'")
ssid=$(pg "$dburl" -tAc "SELECT sid FROM accounts WHERE name = 'Small Co'")
# Page 1,000's cursor, made as the store makes it (join times are whole
# seconds in the seed), then checked against the page it must open.
read -r ts uid < <(pg "$dburl" -tA -F ' ' -c "
  SELECT to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), m.user_id
  FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE a.sid = '$sid'
  ORDER BY m.created_at, m.user_id OFFSET 49949 LIMIT 1")
first=$(pg "$dburl" -tAc "
  SELECT u.email FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN users u ON u.id = m.user_id
  WHERE a.sid = '$sid' ORDER BY m.created_at, m.user_id OFFSET 49950 LIMIT 1")
cursor=$(printf '%s\0%s' "$ts" "$uid" | base64 -w0 | tr '+/' '-_' | tr -d '=')

users=/accounts/$sid/users
susers=/accounts/$ssid/users
member=$(pg "$dburl" -tAc "
  SELECT u.sid FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN users u ON u.id = m.user_id
  WHERE a.sid = '$sid' AND m.roles = '{developer}' ORDER BY m.created_at LIMIT 1")
# Pages named small-… are Small Co's, the same views as Bench Co's pages of
# the same name (flat with size: Bench Co's ratio ÷ Small Co's; flat with
# neighbours: N ÷ S).
declare -A path=(
  [healthz]=/healthz
  [home]=/accounts/$sid/
  [page1]=$users
  [page1000]="$users?after=$cursor"
  [search-rare]="$users?q=quennell"
  [search-medium]="$users?q=okafor"
  [search-common]="$users?q=gmail"
  [role-filter]="$users?role=administrator"
  [role-billing]="$users?role=billing_manager"
  [invited]=/accounts/$sid/invitations
  [user]="$users/$member"
  [invite-form]="$users/invite"
  [audit]=/accounts/$sid/audit
  [accounts]=/accounts
  [small-page1]=$susers
  [small-search-rare]="$susers?q=quennell"
  [small-search-medium]="$susers?q=okafor"
  [small-search-common]="$susers?q=gmail"
  [small-role-filter]="$susers?role=administrator"
  [small-role-billing]="$susers?role=billing_manager"
)
curl -fs -H "Cookie: ${cookie[A-bench]}" "http://127.0.0.1:$PORT${path[page1000]}" | grep -q "$first" \
  || { log "page 1,000's cursor does not open page 1,000 (has the cursor format changed?)"; exit 1; }

# measure LABEL PORT PAGE ROUND [TAG]: wrk on one server's page; the result
# file's name.
measure() {
  local acct=bench res=$out/wrk-$3-$1-$4${5:+-$5}.txt
  case $3 in small-*) acct=small ;; esac
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency -H "Cookie: ${cookie[$1-$acct]}" \
    "http://127.0.0.1:$2${path[$3]}" >"$res"
  echo "$res"
}

# report PAGE LABEL ROUND FILE MEM_RPS: one line of the table, and the same
# in $out/results.tsv (page, server, round, req/s, p50, p99, ratio).
report() {
  awk -v page="$1" -v srv="$2" -v round="$3" -v mem="$5" -v tsv="$out/results.tsv" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    function kb(v) { if (v ~ /KB$/) return v + 0; if (v ~ /MB$/) return v * 1024; if (v ~ /GB$/) return v * 1048576; if (v ~ /B$/) return v / 1024; return v }
    / 50% / { p50 = ms($2) } / 99% / { p99 = ms($2) }
    /requests in/ { n = $1; bytes = kb($5) }
    /Non-2xx/ { err += $5 } /Socket errors/ { err += $4 + $6 + $8 + $10 }
    /Requests\/sec/ { rps = $2 }
    END {
      ratio = (mem > 0 && srv != "M") ? sprintf("%.2f", rps / mem) : ""
      printf "%-20s %-6s %5s %10.0f %7.1fms %7.1fms %8.1f %8d %7s\n", page, srv, round, rps, p50, p99, (n ? bytes / n : 0), err, ratio
      printf "%s\t%s\t%s\t%.0f\t%.1f\t%.1f\t%s\n", page, srv, round, rps, p50, p99, ratio >> tsv
    }' "$4"
}

# hwm PID: the process's peak resident set (VmHWM), in MB.
hwm() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

rm -f "$out/results.tsv"
log "$(nproc) cores; wrk -t$THREADS -c$CONNECTIONS -d$DURATION per page; server log in $out"
log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-20s %-6s %5s %10s %9s %9s %9s %8s %7s\n' page server round req/s p50 p99 KB/req errors ratio
for round in $(seq "$ROUNDS"); do
  for page in $PAGES; do
    [ -n "${path[$page]:-}" ] || { log "unknown page $page"; exit 1; }
    acct=bench
    case $page in small-*) acct=small ;; esac
    lines=()
    memrps=""
    for i in "${!servers[@]}"; do
      read -r label _ _ _ saccts <<<"${servers[$i]}"
      [[ ,$saccts, == *,$acct,* ]] || continue
      res=$(measure "$label" $((PORT + i)) "$page" "$round")
      [ "$label" = M ] && memrps=$(awk '/Requests\/sec/ { print $2 }' "$res")
      lines+=("$label $res")
    done
    for line in "${lines[@]}"; do
      read -r label res <<<"$line"
      report "$page" "$label" "$round" "$res" "$memrps"
    done
  done
  log "load average after round $round: $(cut -d' ' -f1-3 /proc/loadavg)"
done

# Flat with size: each Bench Co page's ratio to from memory ÷ Small Co's
# same page's, per round (the goal: ≥ 0.90). Flat with neighbours: Small
# Co's req/s among the neighbours (N) ÷ alone (S).
awk -F'\t' '
  { rps[$1, $2, $3] = $4; ratio[$1, $2, $3] = $7; rounds[$3] = 1; pages[$1] = 1 }
  END {
    for (p in pages) {
      if (p !~ /^small-/) continue
      big = substr(p, 7)
      for (r in rounds) {
        if (ratio[big, "A", r] != "" && ratio[p, "A", r] > 0)
          printf "flat with size   %-14s round %s: 100,000 members %s, 100 members %s of from memory: %.2f\n", big, r, ratio[big, "A", r], ratio[p, "A", r], ratio[big, "A", r] / ratio[p, "A", r]
        if (rps[p, "S", r] > 0 && rps[p, "N", r] > 0)
          printf "flat with neighbours %-20s round %s: alone %d req/s, among neighbours %d req/s: %.2f (from memory %d)\n", p, r, rps[p, "S", r], rps[p, "N", r], rps[p, "N", r] / rps[p, "S", r], rps[p, "M", r]
      }
    }
  }' "$out/results.tsv" | sort

# Sign-in: SIGNINS clients sign in with correct passwords in a loop (real
# POST /login, a new session each time) while wrk measures SIGNIN_PAGES on
# A; each page is measured alone right before.
SIGNINS=${SIGNINS:-0}
if [ "$SIGNINS" -gt 0 ]; then
  apid=${pids[0]}
  log "A's peak RSS before the sign-ins: $(hwm "$apid") MB"
  mapfile -t emails < <(pg "$dburl" -tAc "
    SELECT u.email FROM memberships m JOIN accounts a ON a.id = m.account_id JOIN users u ON u.id = m.user_id
    WHERE a.sid = '$sid' AND m.roles = '{developer}' ORDER BY m.created_at LIMIT $SIGNINS")
  for page in ${SIGNIN_PAGES:-home page1 search-common}; do
    report "$page" A alone "$(measure A "$PORT" "$page" signin alone)" ""
    rm -f "$out"/signin-*.txt "$out/signin-stop"
    loops=()
    for e in "${emails[@]}"; do
      (while [ ! -e "$out/signin-stop" ]; do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --data-urlencode email="$e" \
          --data-urlencode password=bench-password-7fq2 "http://127.0.0.1:$PORT/login"
      done >"$out/signin-$e.txt") &
      loops+=($!)
      pids+=($!)
    done
    sleep 1
    report "$page" A during "$(measure A "$PORT" "$page" signin during)" ""
    # Each client finishes the sign-in it is waiting for, so that none is
    # left on the server when the next page is measured alone.
    touch "$out/signin-stop"
    wait "${loops[@]}" 2>/dev/null || true
    bad=$(cat "$out"/signin-*.txt | awk '$1 != 303 && NF == 2' | wc -l)
    cat "$out"/signin-*.txt | awk '$1 == 303 { print $2 * 1000 }' | sort -n | awk -v bad="$bad" '
      { t[NR] = $1 }
      END { printf "loadtest: sign-ins meanwhile: %d (%d refused or failed), p50 %.0f ms, p99 %.0f ms\n", NR, bad, t[int(NR * 0.5) + 1], t[int(NR * 0.99) + 1] }' >&2
  done
  log "A's peak RSS after the sign-ins: $(hwm "$apid") MB"
fi

log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in "${!servers[@]}"; do
  label=${servers[$i]%% *}
  log "server $label ($((PORT + i))): RSS now $(($(ps -o rss= -p "${pids[$i]}") / 1024)) MB, peak (VmHWM) $(hwm "${pids[$i]}") MB"
done
