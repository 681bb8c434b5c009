#!/usr/bin/env bash
# `tokenscope leaks scan` against rg (issue 26): a generated tree of about 1 GB
# (4,000 text files of 256 KiB, lines of code-like text, 400 planted secrets,
# lookalikes with broken checksums) and a generated repository of 10,000
# commits; each scanned three times, median wall time, beside rg with the same
# regex (`tokenscope leaks rules --format regex`) over the same tree and over
# the same `git log -p` stream. Generated once into target/leaks-bench (kept).
# Needs ripgrep (apt-get install ripgrep) and git. Usage: host/benches/leaks_scan.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v rg >/dev/null || { apt-get install -y -qq ripgrep >/dev/null; }
cargo build --release -p tokenscope --locked -q
BIN=$PWD/target/release/tokenscope
WORK=$PWD/target/leaks-bench
mkdir -p "$WORK"
PATTERN=$("$BIN" leaks rules --format regex)

# One definition of a well-formed secret for both generators: `tks_`, 27 base62
# characters, their CRC-32 as 6 base62 digits (host/request/src/secret_shape.rs).
cat > "$WORK/plant.py" <<'PY'
import zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def secret(rnd):
    body = "tks_" + "".join(rnd.choice(A) for _ in range(27))
    v = zlib.crc32(body.encode()) & 0xFFFFFFFF
    d = ""
    for _ in range(6):
        d = A[v % 62] + d
        v //= 62
    return body + d
PY

if ! [ -f "$WORK/tree.done" ]; then
  rm -rf "$WORK/tree"
  python3 - "$WORK/tree" "$WORK" <<'PY'
import os, random, sys
root = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from plant import secret as planted_secret
rnd = random.Random(26)
secret = lambda: planted_secret(rnd)
words = "let const fn return if else match for while struct impl pub use mod token secret value config deploy url".split()
line_pool = []
for _ in range(5000):
    n = rnd.randint(3, 14)
    line_pool.append("    " + " ".join(rnd.choice(words) for _ in range(n)) + (";" if rnd.random() < .5 else ""))
planted = 0
for f in range(4000):
    d = os.path.join(root, "d%02d" % (f % 40))
    os.makedirs(d, exist_ok=True)
    lines, size = [], 0
    while size < 256 * 1024:
        r = rnd.random()
        if r < 0.0004 and planted < 400:
            l = 'API_TOKEN="%s"' % secret(); planted += 1
        elif r < 0.001:
            s = secret(); l = "broken = %s%s" % (s[:-1], "0" if s[-1] != "0" else "1")
        elif r < 0.0015:
            l = "the tks_ prefix marks a token; tks_short is not one"
        else:
            l = rnd.choice(line_pool)
        lines.append(l); size += len(l) + 1
    with open(os.path.join(d, "f%04d.rs" % f), "w") as out:
        out.write("\n".join(lines) + "\n")
print("planted", planted)
PY
  touch "$WORK/tree.done"
fi

if ! [ -f "$WORK/repo.done" ]; then
  rm -rf "$WORK/repo"
  git init -q "$WORK/repo"
  python3 - "$WORK" <<'PY' | git -C "$WORK/repo" fast-import --quiet
import random, sys
sys.path.insert(0, sys.argv[1])
from plant import secret as planted_secret
rnd = random.Random(10000)
secret = lambda: planted_secret(rnd)
out = sys.stdout
files = {}
for c in range(10000):
    name = "src/m%03d.rs" % rnd.randrange(300)
    text = files.get(name, "")
    new = "\n".join("fn f%d() { let v = %d; }" % (rnd.randrange(10**6), rnd.randrange(10**6)) for _ in range(20))
    if c % 100 == 7:
        new += '\nconst TOKEN: &str = "%s";' % secret()
    text = (text + new + "\n")[-16000:]
    files[name] = text
    data = text.encode()
    msg = ("commit %d\n" % c).encode()
    out.write("commit refs/heads/main\ncommitter t <t@example.test> %d +0000\n" % (1700000000 + c))
    out.write("data %d\n" % len(msg)); out.flush(); sys.stdout.buffer.write(msg)
    out.write("M 100644 inline %s\ndata %d\n" % (name, len(data))); out.flush(); sys.stdout.buffer.write(data)
    out.write("\n")
PY
  touch "$WORK/repo.done"
fi

median() { sort -n | sed -n 2p; }
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
bytes=$(du -sb "$WORK/tree" | cut -f1)
log_bytes=$(git -C "$WORK/repo" log --all -p --no-color --unified=0 | wc -c)
echo "tree: $bytes bytes in $(find "$WORK/tree" -type f | wc -l) files; history: 10,000 commits, git log -p is $log_bytes bytes"
echo "found in the tree: $("$BIN" leaks scan "$WORK/tree" 2>/dev/null | wc -l) (rg lines matching the shape: $(rg -c --no-filename "$PATTERN" "$WORK/tree" | paste -sd+ | bc))"
for what in tokenscope rg; do
  for round in 1 2 3; do
    case $what in
      tokenscope) timed "$BIN" leaks scan "$WORK/tree" ;;
      rg) timed rg -c "$PATTERN" "$WORK/tree" ;;
    esac
  done | median | awk -v w="$what" -v b="$bytes" '{printf "tree  %-10s %6.2f s  %7.0f MB/s\n", w, $1, b / $1 / 1e6}'
done
for what in tokenscope "git log -p | rg"; do
  for round in 1 2 3; do
    case $what in
      tokenscope) timed "$BIN" leaks scan --git "$WORK/repo" ;;
      *) timed bash -c "git -C '$WORK/repo' log --all -p --no-color --unified=0 | rg -c '$PATTERN'" ;;
    esac
  done | median | awk -v w="$what" '{printf "history  %-16s %6.2f s\n", w, $1}'
done
echo "found in history: $("$BIN" leaks scan --git "$WORK/repo" 2>/dev/null | wc -l)"
