#!/usr/bin/env bash
# The check endpoint under load, beside nginx's `return 200` as the yardstick:
# wrk drives `GET /v1/check` of a release `tokenscope serve` (nginx auth_request
# headers, a valid token, a mapped route, a real SQLite store), then an nginx
# location that only returns 200, with the same connections and duration.
# Needs wrk and nginx (apt-get install wrk nginx-light). Usage:
#   host/benches/check_http.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-15}
CONNS=${2:-32}
cargo build --release -p tokenscope --locked -q
BIN=$PWD/target/release/tokenscope
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT

cat > "$WORK/tokenscope.toml" <<TOML
[store]
path = "$WORK/t.db"
[policy]
cache_dir = "$WORK/cache"
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
TOKENSCOPE_LOG=warn $T serve --listen 127.0.0.1:18181 > /dev/null &
sleep 1

cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK; proxy_temp_path $WORK; fastcgi_temp_path $WORK; uwsgi_temp_path $WORK; scgi_temp_path $WORK;
  server { listen 127.0.0.1:18182; location / { return 200; } }
}
NGINX
nginx -c "$WORK/nginx.conf"
sleep 0.5

cat > "$WORK/headers.lua" <<LUA
wrk.headers["X-Original-URI"] = "/api/repo/main/linux-64/numpy-1.26.4.conda"
wrk.headers["X-Original-Method"] = "GET"
wrk.headers["x-access-token"] = "$SECRET"
LUA
# One check first: it must be an allow, or the figures mean nothing.
curl -fsS -o /dev/null -w '%{http_code}\n' -H "X-Original-Method: GET" -H "X-Original-URI: /api/repo/main/linux-64/numpy-1.26.4.conda" \
  -H "x-access-token: $SECRET" http://127.0.0.1:18181/v1/check
echo "== tokenscope /v1/check (allow)"
wrk -t2 -c"$CONNS" -d"${SECONDS_}s" --latency -s "$WORK/headers.lua" http://127.0.0.1:18181/v1/check
echo "== nginx return 200"
wrk -t2 -c"$CONNS" -d"${SECONDS_}s" --latency http://127.0.0.1:18182/
