#!/usr/bin/env bash
# The figures behind the README's capacity model (issue 23): one release
# `tokenscope serve` on a PostgreSQL of the script's own with
# pg_stat_statements, counting what the database runs for an idle host (per
# second), a cached check, a check of a secret the host has not seen, a token
# created and revoked through the API, and usage flushes; then how many of the
# check path's one read (the token lookup by hash) and of token creations this
# PostgreSQL answers per second (pgbench, the host's own statements, prepared as
# the host sends them by default and unnamed as it does behind a pooler). Loopback only; about two minutes. Needs wrk and
# postgresql (apt-get install wrk postgresql). Usage:
#   host/benches/capacity.sh [pgbench clients]
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${1:-8}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cargo build --release -p tokenscope --locked -q
BIN=$PWD/target/release/tokenscope
WORK=$(mktemp -d); chmod 755 "$WORK"
PGDIR="$WORK/pg"; mkdir "$PGDIR"; chown postgres:postgres "$PGDIR" 2>/dev/null || true
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGPORT=18231; PORT=18232
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap 'set +e; cleanup' EXIT
as_postgres "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
  -o "-p $PGPORT -h 127.0.0.1 -k $PGDIR -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" \
  start >/dev/null
PSQL=("$PGBIN/psql" -h 127.0.0.1 -p $PGPORT -U postgres -qAt)
"${PSQL[@]}" -c "CREATE DATABASE cap"
"${PSQL[@]}" -d cap -c "CREATE EXTENSION pg_stat_statements"

cat > "$WORK/tokenscope.toml" <<TOML
[store]
url = "postgres://postgres@127.0.0.1:$PGPORT/cap"
[policy]
cache_dir = "$WORK/cache"
[usage]
flush_interval = "1s"
[log]
decisions = "none"
[[check.routes]]
method = "GET"
path = "/api/repo/{channel}/{subdir}/{file}"
action = "artifact:download"
resource = "channel/{channel}/artifact/{file}"
TOML
T="$BIN --config $WORK/tokenscope.toml"
secret() { sed -n 's/.*"secret":"\([^"]*\)".*/\1/p'; }
ADMIN=$($T init --json | secret)
$T principal add ci --grant channel/main=read > /dev/null
GOOD=$($T token create --owner ci --name good --scope artifact:download --json | secret)
$T serve --listen 127.0.0.1:$PORT > /dev/null 2>"$WORK/serve.log" &
HOST=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.05; done

# Statements in database cap since the last reset (pg_stat_statements' own
# queries and psql's are left out), and transactions committed.
export CAP_PSQL="${PSQL[*]} -d cap" CAP_PORT=$PORT CAP_ADMIN=$ADMIN CAP_GOOD=$GOOD CAP_WORK=$WORK
python3 - <<'PY'
import http.client, json, os, subprocess, sys, time
sys.path.insert(0, "host/benches/chaos")
from bench_secrets import unknown_secret

PSQL, PORT = os.environ["CAP_PSQL"].split(), int(os.environ["CAP_PORT"])
ADMIN, GOOD = os.environ["CAP_ADMIN"], os.environ["CAP_GOOD"]
URI = "/api/repo/main/noarch/pkg.conda"

def sql(q):
    return subprocess.run(PSQL + ["-c", q], check=True, capture_output=True, text=True).stdout.strip()

OURS = "dbid = (SELECT oid FROM pg_database WHERE datname = 'cap') AND query NOT ILIKE '%pg_stat%'"
def reset():
    sql("SELECT pg_stat_statements_reset()")
    return time.time()
def statements():
    rows = sql(f"SELECT calls, regexp_replace(left(query, 70), '\\s+', ' ', 'g') FROM pg_stat_statements "
               f"WHERE {OURS} ORDER BY calls DESC")
    out = []
    for line in filter(None, rows.splitlines()):
        calls, query = line.split("|", 1)
        out.append((int(calls), query))
    return out
def total(rows, utility=False):
    return sum(c for c, q in rows if utility or not q.strip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")))

conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
def call(method, path, headers, body=None):
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    return r.status, r.read()
def check(secret):
    return call("GET", "/v1/check", {"X-Original-URI": URI, "X-Original-Method": "GET",
                                     "Authorization": "Bearer " + secret})[0]
api = {"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"}

print("| what | statements | per unit | transactions |")
print("| --- | --- | --- | --- |")
def row(what, units, rows, background=0.0):
    n = total(rows) - background
    tx = sum(c for c, q in rows if q.strip().upper().startswith("COMMIT"))
    print(f"| {what} | {total(rows)} | {n / units:.3f} | {tx} |")

# An idle host: what it reads with nothing to do.
started = reset(); time.sleep(10); idle = statements(); took = time.time() - started
idle_rate = total(idle) / took
print(f"| an idle host, 10 s | {total(idle)} | {idle_rate:.2f} per second | - |")
for calls, query in idle:
    print(f"|  {query} | {calls} | | |")

def measured(what, units, work, each=False):
    started = reset(); work(); rows = statements(); took = time.time() - started
    row(what, units, rows, background=idle_rate * took)
    for calls, query in (rows if each else []):
        if calls >= units:
            print(f"|  {query} | {calls} | {calls / units:.2f} | |")
    return rows

for _ in range(3):
    check(GOOD)
measured("20,000 checks of one cached token", 20000, lambda: [check(GOOD) for _ in range(20000)])
measured("2,000 checks of secrets nobody has", 2000, lambda: [check(unknown_secret()) for _ in range(2000)])
made = []
def create():
    for i in range(500):
        status, body = call("POST", "/api/principals/ci/tokens", api,
                            json.dumps({"name": f"cap{i}", "scopes": ["artifact:download"], "ttl": "1h"}))
        assert status == 201, (status, body)
        made.append(json.loads(body))
measured("500 tokens created through the API", 500, create, each=True)
measured("the first check of each of them", 500, lambda: [check(t["secret"]) for t in made])
def revoke():
    for t in made:
        status, body = call("POST", f"/api/principals/ci/tokens/{t['id']}/revoke", api)
        assert status == 200, (status, body)
measured("500 revocations through the API", 500, revoke, each=True)
time.sleep(2)
measured("the next check of each (revoked)", 500, lambda: [check(t["secret"]) for t in made])
# Usage: every allowed check counts; one statement per flush, whatever the tokens.
started = reset(); end = time.time() + 10
while time.time() < end:
    check(GOOD)
rows = statements(); flushes = sum(c for c, q in rows if "use_count" in q)
print(f"| usage flushes while checking for 10 s | {flushes} | {flushes / (time.time() - started):.2f} per second | - |")

# pgbench scripts from the host's own statements: the check path's read (the
# hash of a random one of 1,000 secrets, half of them stored) and a creation.
def seen(like):
    return sql(f"SELECT query FROM pg_stat_statements WHERE query LIKE '{like}' LIMIT 1")
sql("UPDATE tokens SET secret_sha256 = sha256(convert_to(id::text, 'UTF8')) WHERE name LIKE 'cap%'")
lookup = seen("%t.secret_sha256 = $1%").replace("$1", "sha256(convert_to(:n::text, 'UTF8'))")
values = ["(SELECT id FROM principals WHERE name = 'ci')", "'bench'", "''",
          "sha256(convert_to(:n::text || clock_timestamp()::text, 'UTF8'))", "'tks_x'", "'[]'", "0", "NULL", "NULL"]
create = seen("INSERT INTO tokens (owner_id%")
for i in reversed(range(len(values))):
    create = create.replace(f"${i + 1}", values[i])
work = os.environ["CAP_WORK"]
open(f"{work}/lookup.sql", "w").write(f"\\set n random(1, 1000)\n{lookup};\n")
open(f"{work}/create.sql", "w").write(f"\\set n random(1, 1000000000)\nBEGIN;\n{create};\nCOMMIT;\n")
open(f"{work}/ok", "w").write("")
PY
[ -f "$WORK/ok" ] || exit 1

kill "$HOST"; wait "$HOST" || true   # pgbench alone on the database
sleep 1
echo
echo "pgbench, $CLIENTS clients, 10 s each (prepared: named once per connection; extended: unnamed, planned every time):"
# Prepared (the default) and unnamed (`store.prepared_statements = false`,
# behind a pooler that cannot keep them): what planning every statement costs.
for run in lookup:prepared lookup:extended create:prepared create:extended; do
  script=${run%:*}; mode=${run#*:}
  if "$PGBIN/pgbench" -h 127.0.0.1 -p $PGPORT -U postgres -n -M "$mode" -c "$CLIENTS" -j 2 -T 10 \
      -f "$WORK/$script.sql" cap > "$WORK/$script.out" 2>&1; then
    echo "  $script ($mode): $(awk '/^tps/ {print int($3)}' "$WORK/$script.out") per second"
  else
    echo "  $script: pgbench failed:"; tail -5 "$WORK/$script.out"; cat "$WORK/$script.sql"; exit 1
  fi
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), default settings"
