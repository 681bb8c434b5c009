#!/usr/bin/env bash
# The check endpoint under load, beside two yardsticks: wrk drives a release
# `tokenscope serve` (nginx auth_request headers, a real SQLite store, decision
# logs on as configured by default: every decision, text, to stderr here sent to
# /dev/null) with an allowed check, a denied check (the token's owner lacks the
# channel), and the server's own bare 200 (`/healthz`: the HTTP stack alone),
# then an nginx location that only returns 200, with the same threads,
# connections and duration, one after another on this machine (wrk and the
# server share its cores). Prints wrk's output and a table of req/s, p50, p99
# and each row's ratio to nginx. Needs wrk and nginx (apt-get install wrk
# nginx-light). With a fifth argument R above 1, the allowed and the denied
# check alternate R times (seconds/R each) and a last line gives deny/allow over
# all rounds: on a machine whose speed drifts, the pair is then measured under
# the same conditions. Usage:
#   host/benches/check_http.sh [seconds] [connections] [threads] [log.decisions: all|denies|none] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-15}
CONNS=${2:-32}
THREADS=${3:-2}
DECISIONS=${4:-all}
ROUNDS=${5:-1}
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
[log]
decisions = "$DECISIONS"
TOML
T="$BIN --config $WORK/tokenscope.toml"
$T init --json > /dev/null
$T principal add ci --grant channel/main=read > /dev/null
SECRET=$($T token create --owner ci --name bench --scope artifact:download --json | sed -n 's/.*"secret":"\([^"]*\)".*/\1/p')
$T serve --listen 127.0.0.1:18181 > /dev/null 2>&1 &
SERVER_PID=$!
sleep 1

source host/benches/http_common.sh
start_nginx_200 18182

for kind in allow deny; do
  channel=main; [ "$kind" = deny ] && channel=private
  cat > "$WORK/$kind.lua" <<LUA
wrk.headers["X-Original-URI"] = "/api/repo/$channel/linux-64/numpy-1.26.4.conda"
wrk.headers["X-Original-Method"] = "GET"
wrk.headers["x-access-token"] = "$SECRET"
LUA
done
# One check of each first: they must be what the rows say, or the figures mean nothing.
check() {
  curl -sS -o /dev/null -w '%{http_code} %header{x-tokenscope-deny-code}' -H "X-Original-Method: GET" \
    -H "X-Original-URI: /api/repo/$1/linux-64/numpy-1.26.4.conda" -H "x-access-token: $SECRET" http://127.0.0.1:18181/v1/check
}
[ "$(check main)" = "200 " ] || { echo "the allowed check is not a 200: $(check main)"; exit 1; }
[ "$(check private)" = "403 owner-lacks-right" ] || { echo "the denied check is not a 403: $(check private)"; exit 1; }

if [ "$ROUNDS" -le 1 ]; then
  run tokenscope-allow "$SERVER_PID" -s "$WORK/allow.lua" http://127.0.0.1:18181/v1/check
  run tokenscope-deny "$SERVER_PID" -s "$WORK/deny.lua" http://127.0.0.1:18181/v1/check
  run tokenscope-200 "$SERVER_PID" http://127.0.0.1:18181/healthz
  run nginx-200 "$NGINX_WORKER" http://127.0.0.1:18182/
  table tokenscope-allow tokenscope-deny tokenscope-200 nginx-200
  exit 0
fi

FULL=$SECONDS_
SECONDS_=$(( FULL / ROUNDS > 0 ? FULL / ROUNDS : 1 ))
rows=()
for r in $(seq 1 "$ROUNDS"); do
  run "tokenscope-allow-$r" "$SERVER_PID" -s "$WORK/allow.lua" http://127.0.0.1:18181/v1/check
  run "tokenscope-deny-$r" "$SERVER_PID" -s "$WORK/deny.lua" http://127.0.0.1:18181/v1/check
  rows+=("tokenscope-allow-$r" "tokenscope-deny-$r")
done
SECONDS_=$FULL
run tokenscope-200 "$SERVER_PID" http://127.0.0.1:18181/healthz
run nginx-200 "$NGINX_WORKER" http://127.0.0.1:18182/
table "${rows[@]}" tokenscope-200 nginx-200
# Requests and CPU ticks summed over the rounds of each kind.
sum() { cat "$WORK"/tokenscope-"$1"-*."$2" | awk -v what="$2" 'what == "out" && /requests in/ {n += $1} what == "ticks" {n += $1} END {print n}'; }
hz=$(getconf CLK_TCK)
echo
awk -v ar="$(sum allow out)" -v dr="$(sum deny out)" -v at="$(sum allow ticks)" -v dt="$(sum deny ticks)" -v hz="$hz" -v r="$ROUNDS" \
  'BEGIN { printf "over %d rounds: deny/allow %.2fx (requests %d / %d); CPU per request allow %.1f µs, deny %.1f µs\n", r, dr / ar, dr, ar, at / hz * 1e6 / ar, dt / hz * 1e6 / dr }'
