#!/usr/bin/env bash
# What the audit trail costs a token create: `cargo bench --bench create` on
# this checkout and on BASE (default: the last commit before the trail, with
# this bench file copied in; its API is the same), in interleaved rounds on one
# machine, and the ratio of their create rates (median per round).
#   host/benches/audit_cost.sh [BASE]        ROUNDS=3 by default
# TOKENSCOPE_BENCH_POSTGRES=postgres://... adds PostgreSQL (a fresh database per side).
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
base=${1:-dd9fdd1}
rounds=${ROUNDS:-3}
work=$(mktemp -d)
cleanup() { git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
git -C "$root" worktree add --detach "$work/base" "$base" >/dev/null
cp "$root/host/benches/create.rs" "$work/base/host/benches/create.rs"
printf '\n[[bench]]\nname = "create"\nharness = false\n' >> "$work/base/host/Cargo.toml"
# One target dir: the dependencies build once; each side builds its own tokenscope.
export CARGO_TARGET_DIR="$root/target"
args=(--warm-up-time 2 --measurement-time 6 --noplot)
run() { (cd "$1" && cargo bench -q -p tokenscope --bench create -- "${args[@]}" 2>/dev/null); }
# criterion prints `create/sqlite/token   time:   [low mid high]`: the middle value, in µs.
mid_us() {
  awk '$1 ~ /^create\// { name=$1 }
    /time:/ { v=$(NF-3); u=$(NF-2);
      f = (u=="ns") ? 0.001 : (u=="µs" || u=="us") ? 1 : (u=="ms") ? 1000 : 1000000;
      printf "%s %.1f us\n", name, v*f }'
}
echo "building both sides"
(cd "$work/base" && cargo bench -q -p tokenscope --bench create --no-run 2>/dev/null)
(cd "$root" && cargo bench -q -p tokenscope --bench create --no-run 2>/dev/null)
for round in $(seq "$rounds"); do
  run "$work/base" | mid_us | sed "s/^/round $round without /"
  run "$root" | mid_us | sed "s/^/round $round with    /"
done
