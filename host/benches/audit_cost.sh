#!/usr/bin/env bash
# What the audit trail costs a token create: `cargo bench --bench create` on
# this checkout and on BASE (default: the last commit before the trail, with
# this bench file copied in; its API is the same), in interleaved rounds on one
# machine, and the ratio of their create rates (median per round).
#   host/benches/audit_cost.sh [BASE]        ROUNDS=3 by default
# PG=1 adds PostgreSQL: a cluster of its own (Debian's server, initdb in a temp
# dir as the postgres user, as fleet_http.sh does), a fresh database per side and round.
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
base=${1:-dd9fdd1}
rounds=${ROUNDS:-3}
work=$(mktemp -d); chmod 755 "$work"
# BASE's checkout stays in target/ (where cargo keys its build by path), so a
# second run builds nothing again.
basedir="$root/target/audit-cost-base"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
if [ "$(git -C "$basedir" rev-parse HEAD 2>/dev/null)" != "$(git -C "$root" rev-parse "$base")" ]; then
  git -C "$root" worktree remove --force "$basedir" >/dev/null 2>&1 || rm -rf "$basedir"
  git -C "$root" worktree prune
  git -C "$root" worktree add --detach "$basedir" "$base" >/dev/null
  printf '\n[[bench]]\nname = "create"\nharness = false\n' >> "$basedir/host/Cargo.toml"
fi
cp "$root/host/benches/create.rs" "$basedir/host/benches/create.rs"
# One target dir: the dependencies build once; each side builds its own tokenscope.
export CARGO_TARGET_DIR="$root/target"
args=(--warm-up-time 2 --measurement-time 6 --noplot)
if [ "${PG:-0}" = 1 ]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  PGPORT=${PGPORT:-55439}
  mkdir "$work/pg"; chown postgres:postgres "$work/pg" 2>/dev/null || true
  as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  as_postgres "$PGBIN/initdb" -D "$work/pg/data" -A trust -U postgres >/dev/null
  as_postgres "$PGBIN/pg_ctl" -D "$work/pg/data" -o "-p $PGPORT -h 127.0.0.1 -k $work/pg" -l "$work/pg/log" -w start >/dev/null
  cleanup() {
    as_postgres "$PGBIN/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
  }
fi
# Runs the bench in checkout $1; with PG=1 on a new database named $2.
run() {
  if [ "${PG:-0}" = 1 ]; then
    "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qAt -c "CREATE DATABASE $2" >/dev/null
    export TOKENSCOPE_BENCH_POSTGRES="postgres://postgres@127.0.0.1:$PGPORT/$2"
  fi
  (cd "$1" && cargo bench -q -p tokenscope --bench create -- "${args[@]}" 2>/dev/null)
}
# criterion prints `create/sqlite/token   time:   [low mid high]`: the middle value, in µs.
mid_us() {
  awk '$1 ~ /^create\// { name=$1 }
    /time:/ { v=$(NF-3); u=$(NF-2);
      f = (u=="ns") ? 0.001 : (u=="µs" || u=="us") ? 1 : (u=="ms") ? 1000 : 1000000;
      printf "%s %.1f us\n", name, v*f }'
}
echo "building both sides"
(cd "$basedir" && cargo bench -q -p tokenscope --bench create --no-run 2>/dev/null)
(cd "$root" && cargo bench -q -p tokenscope --bench create --no-run 2>/dev/null)
for round in $(seq "$rounds"); do
  run "$basedir" "without_$round" | mid_us | sed "s/^/round $round without /"
  run "$root" "with_$round" | mid_us | sed "s/^/round $round with    /"
done
