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
# nginx-light). Usage:
#   host/benches/check_http.sh [seconds] [connections] [threads] [log.decisions: all|denies|none]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-15}
CONNS=${2:-32}
THREADS=${3:-2}
DECISIONS=${4:-all}
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

# CPU ticks (user + system, all threads) a process has used so far.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx.pid")" | head -1)
run() { # name, pid of the serving process, wrk arguments...
  local name=$1 pid=$2; shift 2
  echo "== $name"
  local before; before=$(ticks "$pid")
  wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_}s" --latency "$@" | tee "$WORK/$name.out"
  echo $(( $(ticks "$pid") - before )) > "$WORK/$name.ticks"
}
run tokenscope-allow "$SERVER_PID" -s "$WORK/allow.lua" http://127.0.0.1:18181/v1/check
run tokenscope-deny "$SERVER_PID" -s "$WORK/deny.lua" http://127.0.0.1:18181/v1/check
run tokenscope-200 "$SERVER_PID" http://127.0.0.1:18181/healthz
run nginx-200 "$NGINX_WORKER" http://127.0.0.1:18182/

rate() { awk '/^Requests\/sec:/ {print $2}' "$WORK/$1.out"; }
pct() { awk -v p="$2%" '$1 == p {print $2}' "$WORK/$1.out"; }
NGINX=$(rate nginx-200)
echo
HZ=$(getconf CLK_TCK)
echo "| server | requests/s | p50 | p99 | vs nginx | server CPU per request |"
echo "| --- | --- | --- | --- | --- | --- |"
for name in tokenscope-allow tokenscope-deny tokenscope-200 nginx-200; do
  r=$(rate "$name")
  total=$(awk '/requests in/ {print $1}' "$WORK/$name.out")
  printf '| %s | %.0f | %s | %s | %sx | %s µs |\n' "$name" "$r" "$(pct "$name" 50)" "$(pct "$name" 99)" \
    "$(awk -v a="$r" -v b="$NGINX" 'BEGIN { printf "%.2f", a / b }')" \
    "$(awk -v t="$(cat "$WORK/$name.ticks")" -v hz="$HZ" -v n="$total" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')"
done
