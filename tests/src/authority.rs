//! A token authority over a fresh store (a SQLite file in a temp dir, or a new
//! database on the tests' PostgreSQL when `TOKENSCOPE_TEST_STORE=postgres`),
//! with the embedded default policy and a manual clock, for the lifecycle tests.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use tokenscope::authority::Authority;
use tokenscope::config::{Config, RoleConfig};
use tokenscope::store::Store;
use tokenscope::time::{ManualClock, UnixTime};

use crate::modules::default_policy;

/// 2027-01-15: the tests' "now".
pub const T0: u64 = 1_800_000_000;

/// An authority over a fresh store in a temp dir, with a clock the test moves.
pub struct TestAuthority {
    /// The temp dir holding the store (removed on drop).
    pub dir: tempfile::TempDir,
    /// The authority's clock, starting at `T0`.
    pub clock: Arc<ManualClock>,
    /// The authority under test.
    pub authority: Authority,
    /// The store the authority runs on, for tests that change it behind the authority's back.
    pub store: Arc<dyn Store>,
}

/// The config the tests use: acs's Continuous Integration role and a venafi-style integration.
pub fn test_config(store: PathBuf) -> Config {
    let mut config = Config::default();
    config.store.path = store;
    if crate::postgres::backend_is_postgres() {
        // A test that cannot get its database fails at `open`, with this reason.
        config.store.url = Some(
            crate::postgres::Postgres::shared()
                .and_then(|pg| pg.database())
                .unwrap_or_else(|e| format!("postgres://unavailable/{e}")),
        );
    }
    config.roles.insert(
        "continuous-integration".into(),
        RoleConfig {
            description: "acs: Continuous Integration".into(),
            access: "artifact:create,artifact:download,artifact:view,channel:view".into(),
        },
    );
    config.roles.insert(
        "cert-integration".into(),
        RoleConfig { description: "venafi integration".into(), access: "certificate,certificate:approve".into() },
    );
    config
}

/// Where a test's store is, as `--store` takes it: a file in `dir`, or a new
/// database on the tests' PostgreSQL when `TOKENSCOPE_TEST_STORE=postgres`.
pub fn test_store(dir: &std::path::Path) -> String {
    let config = test_config(dir.join("tokens.db"));
    config.store.url.unwrap_or_else(|| config.store.path.display().to_string())
}

impl TestAuthority {
    /// A fresh authority with `test_config` (SQLite, or PostgreSQL when the tests run on it).
    pub fn new() -> Result<TestAuthority> {
        let dir = tempfile::tempdir()?;
        let config = test_config(dir.path().join("tokens.db"));
        Self::open(dir, config)
    }

    /// An authority over `config`'s store in `dir`, at `T0`.
    pub fn open(dir: tempfile::TempDir, config: Config) -> Result<TestAuthority> {
        let store: Arc<dyn Store> = tokenscope::store::open(&config.store.location())?;
        let clock = Arc::new(ManualClock::new(UnixTime::from_secs(T0)));
        let authority = Authority::new(Arc::clone(&store), default_policy()?, config, clock.clone());
        Ok(TestAuthority { dir, clock, authority, store })
    }

    /// The store the authority runs on.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
