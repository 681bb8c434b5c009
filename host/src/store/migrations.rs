//! The schema, as numbered migrations applied in order inside one transaction
//! each; `PRAGMA user_version` records how far a database has come.

/// Migration N (1-based) is `MIGRATIONS[N - 1]`. Append only; never edit one that shipped.
pub const MIGRATIONS: &[&str] = &[
    // 1: principals, their bindings, and tokens (hash only) with usage.
    "CREATE TABLE principals (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE bindings (
        principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        binding      TEXT NOT NULL,
        PRIMARY KEY (principal_id, binding)
    );
    CREATE TABLE tokens (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        owner_id        INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        description     TEXT NOT NULL DEFAULT '',
        secret_sha256   BLOB NOT NULL UNIQUE,
        hint            TEXT NOT NULL,
        grants          TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        expires_at      INTEGER,
        revoked_at      INTEGER,
        use_count       INTEGER NOT NULL DEFAULT 0,
        last_used_at    INTEGER,
        last_warned_at  INTEGER
    );
    CREATE INDEX tokens_owner ON tokens(owner_id);
    CREATE INDEX tokens_expiry ON tokens(expires_at) WHERE expires_at IS NOT NULL AND revoked_at IS NULL;",
    // 2: a revision per token, bumped by every edit or reissue, so that concurrent
    // changes of one token are detected (one wins, the others conflict).
    "ALTER TABLE tokens ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;",
    // 3: a change counter, bumped by every write that changes what a verification
    // reads (a token added, edited, reissued, revoked or deleted; a principal's
    // bindings or the principal itself), by whatever process wrote it, so that a
    // process's caches see another's changes. Usage counts and warnings do not bump it.
    "CREATE TABLE changes (id INTEGER PRIMARY KEY CHECK (id = 1), counter INTEGER NOT NULL);
    INSERT INTO changes (id, counter) VALUES (1, 0);
    CREATE TRIGGER tokens_added AFTER INSERT ON tokens
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER tokens_changed AFTER UPDATE OF owner_id, secret_sha256, grants, expires_at, revoked_at, revision
        ON tokens BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER principals_changed AFTER UPDATE ON principals
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER principals_deleted AFTER DELETE ON principals
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER bindings_added AFTER INSERT ON bindings
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER bindings_deleted AFTER DELETE ON bindings
        BEGIN UPDATE changes SET counter = counter + 1; END;",
    // 4: the change feed for gateways that cache tokens by hash: a row per token
    // whose stored state changed or went away (its hash before the change: a
    // reissue names the old secret's hash) and per principal whose rights changed
    // or who went away. The last 65,536 rows are kept; a reader whose cursor is
    // older than that starts over.
    "CREATE TABLE change_log (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        secret_sha256 BLOB,
        principal     TEXT
    );
    CREATE TRIGGER feed_token_changed AFTER UPDATE OF owner_id, secret_sha256, grants, expires_at, revoked_at, revision
        ON tokens BEGIN INSERT INTO change_log (secret_sha256) VALUES (OLD.secret_sha256); END;
    CREATE TRIGGER feed_token_deleted AFTER DELETE ON tokens
        BEGIN INSERT INTO change_log (secret_sha256) VALUES (OLD.secret_sha256); END;
    CREATE TRIGGER feed_principal_changed AFTER UPDATE ON principals
        BEGIN INSERT INTO change_log (principal) VALUES (OLD.name); END;
    CREATE TRIGGER feed_principal_deleted AFTER DELETE ON principals
        BEGIN INSERT INTO change_log (principal) VALUES (OLD.name); END;
    CREATE TRIGGER feed_binding_added AFTER INSERT ON bindings
        BEGIN INSERT INTO change_log (principal) SELECT name FROM principals WHERE id = NEW.principal_id; END;
    CREATE TRIGGER feed_binding_deleted AFTER DELETE ON bindings
        BEGIN INSERT INTO change_log (principal) SELECT name FROM principals WHERE id = OLD.principal_id; END;
    CREATE TRIGGER feed_bounded AFTER INSERT ON change_log
        BEGIN DELETE FROM change_log WHERE seq <= NEW.seq - 65536; END;",
    // 5: one-time sign-in links for the token page (hash only), made by an
    // operator for a person who has no token yet; a link is used at most once.
    "CREATE TABLE sign_in_links (
        secret_sha256 BLOB PRIMARY KEY,
        principal_id  INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        created_at    INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        used_at       INTEGER
    );",
    // 6: where a token came from when it was minted in exchange for an OIDC
    // identity token (issuer, subject, rule; JSON), NULL otherwise.
    "ALTER TABLE tokens ADD COLUMN origin TEXT;",
    // 7: the feed names a token's hash only when that hash stopped working or
    // what it may do narrowed (revoked, reissued, grants or owner changed, an
    // expiry set or made earlier), never for a rename or a later expiry, so a
    // live token's current hash is not published.
    "DROP TRIGGER feed_token_changed;
    CREATE TRIGGER feed_token_changed AFTER UPDATE OF owner_id, secret_sha256, grants, expires_at, revoked_at
        ON tokens
        WHEN OLD.secret_sha256 IS NOT NEW.secret_sha256
          OR OLD.revoked_at IS NOT NEW.revoked_at
          OR OLD.grants IS NOT NEW.grants
          OR OLD.owner_id IS NOT NEW.owner_id
          OR (NEW.expires_at IS NOT NULL AND (OLD.expires_at IS NULL OR NEW.expires_at < OLD.expires_at))
        BEGIN INSERT INTO change_log (secret_sha256) VALUES (OLD.secret_sha256); END;",
    // 8: principal ids are never handed out again (the table's INTEGER PRIMARY
    // KEY would reuse the newest id once it is removed): new principals take
    // the next number of this counter, which every insert, copied ids included,
    // moves past.
    "CREATE TABLE principal_ids (id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL);
    INSERT INTO principal_ids (id, last) SELECT 1, COALESCE(MAX(id), 0) FROM principals;
    CREATE TRIGGER principal_ids_taken AFTER INSERT ON principals
        BEGIN UPDATE principal_ids SET last = MAX(last, NEW.id); END;",
    // 9: identity tokens already exchanged (their SHA-256), kept until they
    // expire, so each is exchanged once.
    "CREATE TABLE exchanged_identities (
        digest     BLOB PRIMARY KEY,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX exchanged_identities_expiry ON exchanged_identities(expires_at);",
    // 10: where and when a token's secret was reported leaked (JSON: at, url,
    // source, reporter), NULL otherwise; the report revoked it.
    "ALTER TABLE tokens ADD COLUMN leak TEXT;",
    // 11: signed leak reports already taken (the SHA-256 of the body), kept
    // until their replay window ends, so a body is taken once by the whole fleet.
    "CREATE TABLE leak_reports (
        digest     BLOB PRIMARY KEY,
        expires_at INTEGER NOT NULL
    );
    CREATE INDEX leak_reports_expiry ON leak_reports(expires_at);",
    // 12: the audit trail: one row per event, in the chain's order (`seq`),
    // with the columns its filters read, the event's canonical JSON, and the
    // chain's hashes; the head (last seq and hash) is kept apart, so a removed
    // tail shows. Events outlive what they name: no foreign keys. Every page a
    // change writes goes to disk before it returns, so an event adds one row and
    // no index: an owner's events (which the token page reads) are indexed in
    // `audit_owners` a batch at a time, up to `audit_owners_upto`, and the few
    // after it are found by a scan of the trail's tail.
    "CREATE TABLE audit_events (
        seq        INTEGER PRIMARY KEY,
        at         INTEGER NOT NULL,
        actor      TEXT NOT NULL,
        actor_name TEXT,
        action     TEXT NOT NULL,
        target     TEXT NOT NULL,
        owner_id   INTEGER,
        body       TEXT NOT NULL,
        prev_hash  BLOB NOT NULL,
        hash       BLOB NOT NULL
    );
    CREATE TABLE audit_owners (
        owner_id INTEGER NOT NULL,
        seq      INTEGER NOT NULL,
        PRIMARY KEY (owner_id, seq)
    ) WITHOUT ROWID;
    ALTER TABLE changes ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE changes ADD COLUMN audit_hash BLOB NOT NULL
        DEFAULT x'0000000000000000000000000000000000000000000000000000000000000000';
    ALTER TABLE changes ADD COLUMN audit_owners_upto INTEGER NOT NULL DEFAULT 0;",
    // 13: token ids come from a counter in the one row of `changes`, which every
    // token insert writes anyway, instead of AUTOINCREMENT, whose
    // `sqlite_sequence` row was one more page on disk per create. Ids are still
    // never handed out again: the counter only moves up, past copied ids too.
    "ALTER TABLE changes ADD COLUMN token_last INTEGER NOT NULL DEFAULT 0;
    UPDATE changes SET token_last = max(
        coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'tokens'), 0),
        coalesce((SELECT max(id) FROM tokens), 0));
    CREATE TABLE tokens_counted (
        id              INTEGER PRIMARY KEY,
        owner_id        INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        description     TEXT NOT NULL DEFAULT '',
        secret_sha256   BLOB NOT NULL UNIQUE,
        hint            TEXT NOT NULL,
        grants          TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        expires_at      INTEGER,
        revoked_at      INTEGER,
        use_count       INTEGER NOT NULL DEFAULT 0,
        last_used_at    INTEGER,
        last_warned_at  INTEGER,
        revision        INTEGER NOT NULL DEFAULT 0,
        origin          TEXT,
        leak            TEXT
    );
    INSERT INTO tokens_counted (id, owner_id, name, description, secret_sha256, hint, grants, created_at, expires_at,
        revoked_at, use_count, last_used_at, last_warned_at, revision, origin, leak)
    SELECT id, owner_id, name, description, secret_sha256, hint, grants, created_at, expires_at,
        revoked_at, use_count, last_used_at, last_warned_at, revision, origin, leak FROM tokens;
    DROP TABLE tokens;
    ALTER TABLE tokens_counted RENAME TO tokens;
    DELETE FROM sqlite_sequence WHERE name = 'tokens';
    CREATE INDEX tokens_owner ON tokens(owner_id);
    CREATE INDEX tokens_expiry ON tokens(expires_at) WHERE expires_at IS NOT NULL AND revoked_at IS NULL;
    CREATE TRIGGER tokens_added AFTER INSERT ON tokens
        BEGIN UPDATE changes SET counter = counter + 1, token_last = max(token_last, NEW.id); END;
    CREATE TRIGGER tokens_changed AFTER UPDATE OF owner_id, secret_sha256, grants, expires_at, revoked_at, revision
        ON tokens BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens
        BEGIN UPDATE changes SET counter = counter + 1; END;
    CREATE TRIGGER feed_token_deleted AFTER DELETE ON tokens
        BEGIN INSERT INTO change_log (secret_sha256) VALUES (OLD.secret_sha256); END;
    CREATE TRIGGER feed_token_changed AFTER UPDATE OF owner_id, secret_sha256, grants, expires_at, revoked_at
        ON tokens
        WHEN OLD.secret_sha256 IS NOT NEW.secret_sha256
          OR OLD.revoked_at IS NOT NEW.revoked_at
          OR OLD.grants IS NOT NEW.grants
          OR OLD.owner_id IS NOT NEW.owner_id
          OR (NEW.expires_at IS NOT NULL AND (OLD.expires_at IS NULL OR NEW.expires_at < OLD.expires_at))
        BEGIN INSERT INTO change_log (secret_sha256) VALUES (OLD.secret_sha256); END;",
];
