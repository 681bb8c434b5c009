#!/usr/bin/env python3
"""Pages a token create writes to SQLite's WAL, with and without its audit event.

    host/benches/wal_pages.py [CREATES]      (default 2000)

Makes a store with `tokenscope init` (target/debug/tokenscope, or TOKENSCOPE: an
older build gives its own schema's figure),
then replays a create's statements as `store/sqlite` runs them (the token's
insert, and with the trail the event's insert and the head's move), CREATES
commits in WAL mode with `synchronous = FULL` and checkpoints off, and reports
the WAL frames per commit: what a commit writes and syncs, which is what a
create costs on a disk (BENCHMARKS.md, "Token create with the audit trail").
"""
import os
import sqlite3
import subprocess
import sys
import tempfile

creates = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
binary = os.environ.get("TOKENSCOPE", os.path.join(root, "target", "debug", "tokenscope"))
work = tempfile.mkdtemp()
config = os.path.join(work, "tokenscope.toml")
with open(config, "w") as f:
    f.write(f'[store]\npath = "{work}/t.db"\n')
subprocess.run([binary, "--config", config, "init", "--json"], check=True, stdout=subprocess.DEVNULL)
BODY = (
    '{"action":"token.create","actor":{"kind":"operator","os_user":"bench","uid":0},"after":{"description":'
    '"benchmark","expires_at":1828185659,"grants":["artifact:download","artifact:create"],"hint":"tks_abcd…",'
    '"name":"ci","origin":null},"at":1796649659,"before":null,"client":null,"host":"bench","owner":1,'
    '"refused":null,"seq":%d,"target":"token/%d"}'
)


def frames(trail):
    db = os.path.join(work, "t.db")
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=FULL")
    c.execute("PRAGMA wal_autocheckpoint=0")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    counter = [r[1] for r in c.execute("PRAGMA table_info(changes)")]
    for i in range(creates):
        c.execute("BEGIN IMMEDIATE")
        token_id = "(SELECT token_last + 1 FROM changes WHERE id = 1)" if "token_last" in counter else "NULL"
        c.execute(
            f"INSERT INTO tokens (id, owner_id, name, description, secret_sha256, hint, grants, created_at, expires_at)"
            f" VALUES ({token_id}, 1, 'ci', 'benchmark', ?, 'tks_abcd', ?, 1796649659, 1828185659)",
            (os.urandom(32), '{"kind":"scopes","items":["artifact:download","artifact:create"]}'),
        )
        if trail:
            seq, _ = c.execute("SELECT audit_seq, audit_hash FROM changes WHERE id = 1").fetchone()
            seq += 1
            c.execute(
                "INSERT INTO audit_events (seq, at, actor, actor_name, action, target, owner_id, body, prev_hash, hash)"
                " VALUES (?, 1796649659, 'operator:bench', NULL, 'token.create', ?, 1, ?, ?, ?)",
                (seq, f"token/{i}", BODY % (seq, i), os.urandom(32), os.urandom(32)),
            )
            c.execute("UPDATE changes SET audit_seq = ?, audit_hash = ? WHERE id = 1", (seq, os.urandom(32)))
            if "audit_owners_upto" in counter and seq % 64 == 0:
                c.execute(
                    "INSERT OR IGNORE INTO audit_owners (owner_id, seq) SELECT owner_id, seq FROM audit_events"
                    " WHERE seq > (SELECT audit_owners_upto FROM changes WHERE id = 1) AND owner_id IS NOT NULL"
                )
                c.execute("UPDATE changes SET audit_owners_upto = audit_seq WHERE id = 1")
        c.execute("COMMIT")
    size = os.path.getsize(db + "-wal")
    page = c.execute("PRAGMA page_size").fetchone()[0]
    c.close()
    return (size - 32) / (page + 24) / creates


has_trail = sqlite3.connect(os.path.join(work, "t.db")).execute(
    "SELECT count(*) FROM sqlite_master WHERE name = 'audit_events'"
).fetchone()[0]
alone = frames(False)
with_event = f", token and event {frames(True):.2f}" if has_trail else " (this store has no audit trail)"
print(f"WAL frames per create, {creates} creates: token alone {alone:.2f}{with_event}")
