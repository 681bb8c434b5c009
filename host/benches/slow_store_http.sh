#!/usr/bin/env bash
# Checks answered from memory while the database is slow (issue 23): a release
# `tokenscope serve` on PostgreSQL whose pool reaches the database through a
# proxy that adds 100 ms to every chunk sent to it (the listening connection
# goes direct, `store.listen_url`); wrk checks one cached token, first alone,
# then while a second client sends only secrets nobody ever saw (each a store
# read, 100 ms late). Goal: with the slow client, the cached checks keep at
# least 0.8x of their rate alone and their p99 stays under 10 ms. Needs wrk
# and postgresql (apt-get install wrk postgresql). Usage:
#   host/benches/slow_store_http.sh [seconds] [connections] [threads] [slow-client connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-15}
CONNS=${2:-32}
THREADS=${3:-2}
SLOW=${4:-32}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cargo build --release -p tokenscope --locked -q
BIN=$PWD/target/release/tokenscope
WORK=$(mktemp -d)
chmod 755 "$WORK"
PGDIR="$WORK/pg"; mkdir "$PGDIR"; chown postgres:postgres "$PGDIR"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
PGPORT=18191; PROXYPORT=18192; PORT=18193
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap 'set +e; cleanup' EXIT
as_postgres "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -o "-p $PGPORT -h 127.0.0.1 -k $PGDIR" -l "$PGDIR/log" -w start >/dev/null
"$PGBIN/psql" -h 127.0.0.1 -p $PGPORT -U postgres -qAt -c "CREATE DATABASE serve"

# The slow path: every chunk toward the database waits 100 ms (answers pass at once).
cat > "$WORK/latency_proxy.py" <<'PY'
import asyncio, sys
listen, target, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
async def pipe(reader, writer, wait):
    try:
        while data := await reader.read(65536):
            if wait:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
async def serve(client_r, client_w):
    db_r, db_w = await asyncio.open_connection("127.0.0.1", target)
    await asyncio.gather(pipe(client_r, db_w, delay), pipe(db_r, client_w, 0), return_exceptions=True)
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()
asyncio.run(main())
PY
python3 "$WORK/latency_proxy.py" $PROXYPORT $PGPORT 0.1 &
sleep 0.5

cat > "$WORK/tokenscope.toml" <<TOML
[store]
url = "postgres://postgres@127.0.0.1:$PROXYPORT/serve"
listen_url = "postgres://postgres@127.0.0.1:$PGPORT/serve"
[policy]
cache_dir = "$WORK/cache"
[log]
decisions = "none"
[[check.routes]]
method = "GET"
path = "/api/repo/{channel}/{subdir}/{file}"
action = "artifact:download"
resource = "channel/{channel}/artifact/{file}"
TOML
T="$BIN --config $WORK/tokenscope.toml"
$T init --json > /dev/null
$T principal add ci --grant channel/main=read > /dev/null
SECRET=$($T token create --owner ci --name bench --scope artifact:download --json | sed -n 's/.*"secret":"\([^"]*\)".*/\1/p')
$T serve --listen 127.0.0.1:$PORT > /dev/null 2>"$WORK/serve.log" &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

cat > "$WORK/cached.lua" <<LUA
wrk.headers["X-Original-URI"] = "/api/repo/main/noarch/pkg.conda"
wrk.headers["X-Original-Method"] = "GET"
wrk.headers["Authorization"] = "Bearer $SECRET"
LUA
URL="http://127.0.0.1:$PORT/v1/check"
for _ in 1 2 3; do curl -s -o /dev/null -H "X-Original-URI: /api/repo/main/noarch/pkg.conda" \
  -H "X-Original-Method: GET" -H "Authorization: Bearer $SECRET" "$URL"; done

# The slow client: well-formed secrets nobody has, each new (base62 + CRC32 checksum).
cat > "$WORK/slow_client.py" <<'PY'
import http.client, os, sys, threading, time, zlib
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def secret():
    body = "tks_" + "".join(ALPHABET[b % 62] for b in os.urandom(27))
    value, digits = zlib.crc32(body.encode()), []
    for _ in range(6):
        digits.append(ALPHABET[value % 62]); value //= 62
    return body + "".join(reversed(digits))
port, seconds, clients = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
counts = {}
def run(i):
    conn, end, n = http.client.HTTPConnection("127.0.0.1", port), time.time() + seconds, {}
    while time.time() < end:
        conn.request("GET", "/v1/check", headers={"X-Original-URI": "/api/repo/main/noarch/pkg.conda",
            "X-Original-Method": "GET", "Authorization": "Bearer " + secret()})
        r = conn.getresponse(); r.read()
        n[r.status] = n.get(r.status, 0) + 1
    counts[i] = n
threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
[t.start() for t in threads]; [t.join() for t in threads]
total = {}
for n in counts.values():
    for k, v in n.items(): total[k] = total.get(k, 0) + v
print("slow client answers by status:", dict(sorted(total.items())))
PY

echo "== cached checks alone"
wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_}s" --latency -s "$WORK/cached.lua" "$URL" | tee "$WORK/alone.out"
echo "== cached checks while $SLOW connections send only new secrets (100 ms store path)"
python3 "$WORK/slow_client.py" $PORT "$SECONDS_" "$SLOW" > "$WORK/slow.out" &
SLOW_PID=$!
sleep 0.5
wrk -t"$THREADS" -c"$CONNS" -d"$(( SECONDS_ - 1 ))s" --latency -s "$WORK/cached.lua" "$URL" | tee "$WORK/beside.out"
wait "$SLOW_PID" || true
cat "$WORK/slow.out"
rate() { awk '/^Requests\/sec:/ {print $2}' "$WORK/$1.out"; }
p99() { awk '$1 == "99%" {print $2}' "$WORK/$1.out"; }
echo
echo "| cached checks | requests/s | p99 |"
echo "| --- | --- | --- |"
echo "| alone | $(rate alone) | $(p99 alone) |"
echo "| beside the slow client | $(rate beside) | $(p99 beside) |"
awk -v a="$(rate beside)" -v b="$(rate alone)" 'BEGIN { printf "ratio: %.2f (goal >= 0.80)\n", a / b }'
