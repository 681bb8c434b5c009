//! The PostgreSQL schema, as numbered migrations applied in order in one
//! transaction under an advisory lock, so that hosts starting together migrate
//! once; `tokenscope_schema` records how far a database has come. The tables
//! match the SQLite ones; triggers keep the change counter and feed, and NOTIFY
//! the hosts (`tokenscope_changes`, `tokenscope_policy`) when a change commits.

use deadpool_postgres::Pool;

use super::sql::Sql;
use super::{Op, client};
use crate::store::{StoreError, StoreResult};

/// The advisory lock migrations hold (any number unlikely to clash).
const MIGRATION_LOCK: i64 = 0x746f_6b65_6e73;

/// Migration N (1-based) is `MIGRATIONS[N - 1]`. Append only; never edit one that shipped.
const MIGRATIONS: &[&str] = &[
    // 1: what the SQLite store's migrations 1-5 make, in one step.
    r"
    CREATE TABLE principals (
        id          BIGSERIAL PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        created_at  BIGINT NOT NULL
    );
    CREATE TABLE bindings (
        principal_id BIGINT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        binding      TEXT NOT NULL,
        PRIMARY KEY (principal_id, binding)
    );
    CREATE TABLE tokens (
        id              BIGSERIAL PRIMARY KEY,
        owner_id        BIGINT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        name            TEXT NOT NULL,
        description     TEXT NOT NULL DEFAULT '',
        secret_sha256   BYTEA NOT NULL UNIQUE,
        hint            TEXT NOT NULL,
        grants          TEXT NOT NULL,
        created_at      BIGINT NOT NULL,
        expires_at      BIGINT,
        revoked_at      BIGINT,
        use_count       BIGINT NOT NULL DEFAULT 0,
        last_used_at    BIGINT,
        last_warned_at  BIGINT,
        revision        BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX tokens_owner ON tokens(owner_id);
    CREATE INDEX tokens_expiry ON tokens(expires_at) WHERE expires_at IS NOT NULL AND revoked_at IS NULL;
    CREATE TABLE sign_in_links (
        secret_sha256 BYTEA PRIMARY KEY,
        principal_id  BIGINT NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        created_at    BIGINT NOT NULL,
        expires_at    BIGINT NOT NULL,
        used_at       BIGINT
    );

    -- The change counter: bumped, and the hosts notified, by every statement
    -- that changes what a verification reads. Usage counts and warnings do not.
    CREATE TABLE changes (id INT PRIMARY KEY CHECK (id = 1), counter BIGINT NOT NULL);
    INSERT INTO changes (id, counter) VALUES (1, 0);
    CREATE FUNCTION tokenscope_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE changes SET counter = counter + 1 WHERE id = 1;
        PERFORM pg_notify('tokenscope_changes', (extract(epoch FROM clock_timestamp()) * 1000)::bigint::text);
        RETURN NULL;
    END $$;
    CREATE TRIGGER tokens_added AFTER INSERT ON tokens
        FOR EACH STATEMENT EXECUTE FUNCTION tokenscope_changed();
    CREATE TRIGGER tokens_changed AFTER UPDATE OF owner_id, secret_sha256, grants, expires_at, revoked_at, revision
        ON tokens FOR EACH STATEMENT EXECUTE FUNCTION tokenscope_changed();
    CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens
        FOR EACH STATEMENT EXECUTE FUNCTION tokenscope_changed();
    CREATE TRIGGER principals_changed AFTER UPDATE OR DELETE ON principals
        FOR EACH STATEMENT EXECUTE FUNCTION tokenscope_changed();
    CREATE TRIGGER bindings_changed AFTER INSERT OR DELETE ON bindings
        FOR EACH STATEMENT EXECUTE FUNCTION tokenscope_changed();

    -- The change feed for gateways. A writer locks the counter row before it
    -- takes a sequence number, so numbers commit in order and a reader's cursor
    -- never passes a change still to commit.
    CREATE TABLE change_log (
        seq           BIGSERIAL PRIMARY KEY,
        secret_sha256 BYTEA,
        principal     TEXT
    );
    CREATE FUNCTION tokenscope_feed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM changes WHERE id = 1 FOR UPDATE;
        IF TG_TABLE_NAME = 'tokens' THEN
            INSERT INTO change_log (secret_sha256) VALUES (OLD.secret_sha256);
        ELSIF TG_TABLE_NAME = 'principals' THEN
            INSERT INTO change_log (principal) VALUES (OLD.name);
        ELSIF TG_OP = 'INSERT' THEN
            INSERT INTO change_log (principal) SELECT name FROM principals WHERE id = NEW.principal_id;
        ELSE
            INSERT INTO change_log (principal) SELECT name FROM principals WHERE id = OLD.principal_id;
        END IF;
        RETURN NULL;
    END $$;
    CREATE TRIGGER feed_token_changed AFTER UPDATE OF owner_id, secret_sha256, grants, expires_at, revoked_at, revision
        ON tokens FOR EACH ROW EXECUTE FUNCTION tokenscope_feed();
    CREATE TRIGGER feed_token_deleted AFTER DELETE ON tokens FOR EACH ROW EXECUTE FUNCTION tokenscope_feed();
    CREATE TRIGGER feed_principal AFTER UPDATE OR DELETE ON principals FOR EACH ROW EXECUTE FUNCTION tokenscope_feed();
    CREATE TRIGGER feed_binding AFTER INSERT OR DELETE ON bindings FOR EACH ROW EXECUTE FUNCTION tokenscope_feed();
    CREATE FUNCTION tokenscope_feed_bounded() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM change_log WHERE seq <= (SELECT max(seq) FROM change_log) - 65536;
        RETURN NULL;
    END $$;
    CREATE TRIGGER feed_bounded AFTER INSERT ON change_log
        FOR EACH STATEMENT EXECUTE FUNCTION tokenscope_feed_bounded();
    ",
    // 2: the fleet: published modules by digest, the rollout stack whose top
    // (not rolled back) is the desired module, and host heartbeats.
    r"
    CREATE TABLE policy_modules (
        sha256       TEXT PRIMARY KEY,
        bytes        BYTEA NOT NULL,
        published_at BIGINT NOT NULL
    );
    CREATE TABLE policy_rollout (
        seq            BIGSERIAL PRIMARY KEY,
        sha256         TEXT NOT NULL REFERENCES policy_modules(sha256),
        published_by   TEXT NOT NULL,
        published_at   BIGINT NOT NULL,
        rolled_back_at BIGINT,
        rolled_back_by TEXT
    );
    CREATE FUNCTION tokenscope_rollout() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('tokenscope_policy', '');
        RETURN NULL;
    END $$;
    CREATE TRIGGER rollout_changed AFTER INSERT OR UPDATE ON policy_rollout
        FOR EACH STATEMENT EXECUTE FUNCTION tokenscope_rollout();
    CREATE TABLE fleet_hosts (
        id                  TEXT PRIMARY KEY,
        listen              TEXT NOT NULL,
        version             TEXT NOT NULL,
        started_at          BIGINT NOT NULL,
        heartbeat_at        TIMESTAMPTZ NOT NULL,
        active_sha256       TEXT NOT NULL,
        refused             TEXT,
        invalidation_lag_ms BIGINT,
        listening           BOOLEAN NOT NULL
    );
    ",
    // 3: where a token minted for an OIDC identity token came from (JSON).
    "ALTER TABLE tokens ADD COLUMN origin TEXT;",
    // 4: the feed names a token's hash only when that hash stopped working or
    // what it may do narrowed (SQLite's migration 7); identity tokens already
    // exchanged, kept until they expire (SQLite's migration 9).
    r"
    DROP TRIGGER feed_token_changed ON tokens;
    CREATE TRIGGER feed_token_changed AFTER UPDATE OF owner_id, secret_sha256, grants, expires_at, revoked_at
        ON tokens FOR EACH ROW
        WHEN (OLD.secret_sha256 IS DISTINCT FROM NEW.secret_sha256
          OR OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
          OR OLD.grants IS DISTINCT FROM NEW.grants
          OR OLD.owner_id IS DISTINCT FROM NEW.owner_id
          OR (NEW.expires_at IS NOT NULL AND (OLD.expires_at IS NULL OR NEW.expires_at < OLD.expires_at)))
        EXECUTE FUNCTION tokenscope_feed();
    CREATE TABLE exchanged_identities (
        digest     BYTEA PRIMARY KEY,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX exchanged_identities_expiry ON exchanged_identities(expires_at);
    ",
    // 5: where and when a token's secret was reported leaked (SQLite's migration 10).
    "ALTER TABLE tokens ADD COLUMN leak TEXT;",
    // 6: signed leak reports already taken (SQLite's migration 11).
    "CREATE TABLE leak_reports (
        digest     BYTEA PRIMARY KEY,
        expires_at BIGINT NOT NULL
    );
    CREATE INDEX leak_reports_expiry ON leak_reports(expires_at);",
    // 7: the audit trail and its head (SQLite's migration 12); the head row's
    // lock orders every host's appends into the one chain. `prev` is the
    // append's scratch: the statement that moves the head returns the hash it
    // moved from there (`sha256` is PostgreSQL's own, 11 and later).
    "CREATE TABLE audit_events (
        seq        BIGINT PRIMARY KEY,
        at         BIGINT NOT NULL,
        actor      TEXT NOT NULL,
        actor_name TEXT,
        action     TEXT NOT NULL,
        target     TEXT NOT NULL,
        owner_id   BIGINT,
        body       TEXT NOT NULL,
        prev_hash  BYTEA NOT NULL,
        hash       BYTEA NOT NULL
    );
    CREATE INDEX audit_events_target ON audit_events(target, seq);
    CREATE INDEX audit_events_owner ON audit_events(owner_id, seq);
    CREATE TABLE audit_head (
        id   INT PRIMARY KEY CHECK (id = 1),
        seq  BIGINT NOT NULL,
        hash BYTEA NOT NULL,
        prev BYTEA NOT NULL
    );
    INSERT INTO audit_head (id, seq, hash, prev)
        VALUES (1, 0, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'));",
    // 8: who signed each host's active module (a trusted key's id, `embedded`,
    // `not-checked` or `unsigned`; empty from a host that predates it).
    "ALTER TABLE fleet_hosts ADD COLUMN active_signer TEXT NOT NULL DEFAULT '';",
];

/// How many migrations this build knows.
pub fn known() -> usize {
    MIGRATIONS.len()
}

/// Applies the migrations a database lacks.
pub async fn migrate(pool: Pool) -> StoreResult<()> {
    const OP: &str = "bring the schema up to date";
    let mut client = client(&pool, OP).await?;
    let tx = client.transaction().await.op(OP)?;
    tx.exec("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await.op(OP)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS tokenscope_schema (version INT NOT NULL); ").await.op(OP)?;
    let version: Option<i32> =
        tx.maybe_row("SELECT version FROM tokenscope_schema", &[]).await.op(OP)?.map(|r| r.get(0));
    let version = usize::try_from(version.unwrap_or(0)).unwrap_or(0);
    if version > known() {
        return Err(StoreError::NewerSchema { found: version, known: known() });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.batch_execute(sql).await.op("apply a migration")?;
        let reached = i32::try_from(index + 1).unwrap_or(i32::MAX);
        tx.exec("DELETE FROM tokenscope_schema", &[]).await.op(OP)?;
        tx.exec("INSERT INTO tokenscope_schema (version) VALUES ($1)", &[&reached]).await.op(OP)?;
    }
    tx.commit().await.op("commit the migrations")
}
