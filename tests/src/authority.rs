//! A token authority over a fresh SQLite file in a temp dir, with the embedded
//! default policy and a manual clock, for the lifecycle tests.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use tokenscope::authority::Authority;
use tokenscope::config::{Config, RoleConfig};
use tokenscope::store::{SqliteStore, Store};
use tokenscope::time::{ManualClock, UnixTime};

use crate::modules::default_policy;

/// 2027-01-15: the tests' "now".
pub const T0: u64 = 1_800_000_000;

pub struct TestAuthority {
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub authority: Authority,
    /// The store the authority runs on, for tests that change it behind the authority's back.
    pub store: Arc<dyn Store>,
}

/// The config the tests use: acs's Continuous Integration role and a venafi-style integration.
pub fn test_config(store: PathBuf) -> Config {
    let mut config = Config::default();
    config.store.path = store;
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

impl TestAuthority {
    pub fn new() -> Result<TestAuthority> {
        let dir = tempfile::tempdir()?;
        let config = test_config(dir.path().join("tokens.db"));
        Self::open(dir, config)
    }

    pub fn open(dir: tempfile::TempDir, config: Config) -> Result<TestAuthority> {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&config.store.path)?);
        let clock = Arc::new(ManualClock::new(UnixTime::from_secs(T0)));
        let authority = Authority::new(Arc::clone(&store), default_policy()?, config, clock.clone());
        Ok(TestAuthority { dir, clock, authority, store })
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}
