#!/usr/bin/env bash
# The PostgreSQL store beside the SQLite one. Starts a PostgreSQL cluster of
# its own (Debian's server: initdb in a temp dir as the unprivileged postgres
# user, loopback only, default durability settings), then:
#   1. `cargo bench --bench store`: one verification on each backend, caches warm and cold;
#   2. wrk against one release `tokenscope serve` on PostgreSQL and one on
#      SQLite, an allowed check each (nginx auth_request headers, decision logs
#      off), with nginx `return 200` as the yardstick; one after another.
# Needs wrk, nginx and postgresql (apt-get install wrk nginx-light postgresql). Usage:
#   host/benches/fleet_http.sh [seconds] [connections] [threads]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-15}
CONNS=${2:-32}
THREADS=${3:-2}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cargo build --release -p tokenscope --locked -q
BIN=$PWD/target/release/tokenscope
WORK=$(mktemp -d)
chmod 755 "$WORK"
PGDIR="$WORK/pg"; mkdir "$PGDIR"; chown postgres:postgres "$PGDIR"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGPORT=18190
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null
  as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
as_postgres "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -o "-p $PGPORT -h 127.0.0.1 -k $PGDIR" -l "$PGDIR/log" -w start >/dev/null
psql() { "$PGBIN/psql" -h 127.0.0.1 -p $PGPORT -U postgres -qAt "$@"; }
psql -c "CREATE DATABASE bench" -c "CREATE DATABASE serve"

echo "== cargo bench --bench store"
TOKENSCOPE_BENCH_POSTGRES="postgres://postgres@127.0.0.1:$PGPORT/bench" cargo bench --bench store --locked -q

# Two hosts, the same setup, each on its own store.
setup() { # NAME STORE-LINE PORT
  cat > "$WORK/$1.toml" <<TOML
[store]
$2
[policy]
cache_dir = "$WORK/cache"
[[check.routes]]
method = "GET"
path = "/api/repo/{channel}/{subdir}/{file}"
action = "artifact:download"
resource = "channel/{channel}/artifact/{file}"
[log]
decisions = "none"
TOML
  local t="$BIN --config $WORK/$1.toml"
  $t init --json > /dev/null
  $t principal add ci --grant channel/main=read > /dev/null
  $t token create --owner ci --name bench --scope artifact:download --json | sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' > "$WORK/$1.secret"
  $t serve --listen "127.0.0.1:$3" > "$WORK/$1.log" 2>&1 &
  echo $! > "$WORK/$1.pid"
  cat > "$WORK/$1.lua" <<LUA
wrk.headers["X-Original-URI"] = "/api/repo/main/linux-64/numpy-1.26.4.conda"
wrk.headers["X-Original-Method"] = "GET"
wrk.headers["x-access-token"] = "$(cat "$WORK/$1.secret")"
LUA
}
setup postgres "url = \"postgres://postgres@127.0.0.1:$PGPORT/serve\"" 18191
setup sqlite "path = \"$WORK/t.db\"" 18192
sleep 1
for pair in postgres:18191 sqlite:18192; do
  name=${pair%%:*}; port=${pair##*:}
  code=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Original-Method: GET" \
    -H "X-Original-URI: /api/repo/main/linux-64/numpy-1.26.4.conda" -H "x-access-token: $(cat "$WORK/$name.secret")" \
    "http://127.0.0.1:$port/v1/check")
  [ "$code" = 200 ] || { echo "the $name host's allowed check is not a 200: $code"; cat "$WORK/$name.log"; exit 1; }
done

source host/benches/http_common.sh
start_nginx_200 18193
run tokenscope-postgres "$(cat "$WORK/postgres.pid")" -s "$WORK/postgres.lua" http://127.0.0.1:18191/v1/check
run tokenscope-sqlite "$(cat "$WORK/sqlite.pid")" -s "$WORK/sqlite.lua" http://127.0.0.1:18192/v1/check
run nginx-200 "$NGINX_WORKER" http://127.0.0.1:18193/
table tokenscope-postgres tokenscope-sqlite nginx-200
