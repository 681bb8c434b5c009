#!/usr/bin/env bash
# A soak of one release `tokenscope serve` (SQLite store) under mixed traffic
# for MINUTES (default 30): allowed and denied checks, secrets nobody has, API
# token writes, page sign-ins, from 8 clients. Reports per minute the requests,
# the checks' p50 and p99, the server's RSS and open file descriptors; fails
# when memory or descriptors keep growing past the second minute (every cache
# is bounded). Usage:
#   host/benches/chaos/soak.sh [--dev] [minutes]
set -euo pipefail
cd "$(dirname "$0")/../../.."
PROFILE=release; [ "${1:-}" = "--dev" ] && { PROFILE=debug; shift; }
MINUTES=${1:-30}
if [ $PROFILE = release ]; then cargo build --release -p tokenscope --locked -q; else cargo build -p tokenscope --locked -q; fi
BIN=$PWD/target/$PROFILE/tokenscope
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
cat > "$WORK/tokenscope.toml" <<TOML
[store]
path = "$WORK/t.db"
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
secret() { sed -n 's/.*"secret":"\([^"]*\)".*/\1/p'; }
export SOAK_ADMIN=$($T init --json | secret)
$T principal add ci --grant channel/main=read --grant user/ci=manage > /dev/null
$T principal add other --grant channel/other=read > /dev/null
export SOAK_GOOD=$($T token create --owner ci --name good --scope artifact:download --scope user.token:view --json | secret)
export SOAK_DENIED=$($T token create --owner other --name denied --scope artifact:download --json | secret)
PORT=18221
$T serve --listen 127.0.0.1:$PORT > /dev/null 2>"$WORK/serve.log" &
PID=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.05; done
python3 host/benches/chaos/soak_driver.py $PORT "$MINUTES" $PID
