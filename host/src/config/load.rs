//! The whole configuration: `Config` with one field per table, read from the
//! TOML file, overridden from the environment, and validated as a whole.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use super::{
    AuditConfig, CacheConfig, Check, FleetConfig, GatewayConfig, IntrospectConfig, LeaksConfig, LogConfig,
    NotifierConfig, OidcConfig, PolicyConfig, RecordConfig, RoleConfig, ServerConfig, StoreConfig, TokenConfig,
    UsageConfig, parse_duration, public_origin,
};
use crate::grant_text::parse_grant;
use crate::store::StoreLocation;

/// The file read when `--config` is not given and it exists.
pub const DEFAULT_CONFIG_FILE: &str = "tokenscope.toml";

/// Everything `tokenscope.toml` can set; every key is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where tokens, principals and usage live.
    pub store: StoreConfig,
    /// Which policy module decides, and its limits.
    pub policy: PolicyConfig,
    /// Token issuing rules.
    pub tokens: TokenConfig,
    /// Usage counting.
    pub usage: UsageConfig,
    /// Expiry warnings (acs: interval 1h, backoff 24h, window 168h).
    pub expiry_notifier: NotifierConfig,
    /// Named grant sets that principals are bound to, e.g. `continuous-integration`.
    pub roles: BTreeMap<String, RoleConfig>,
    /// The HTTP server (`tokenscope serve`).
    pub server: ServerConfig,
    /// The proxy check endpoint and its route map, built once when the config is read.
    pub check: Check,
    /// Recording a sample of live decisions (for `tokenscope policy diff`).
    pub record: RecordConfig,
    /// What the verify path keeps in memory, and how soon it sees other processes' writes.
    pub cache: CacheConfig,
    /// Decision log lines: which decisions, and in which format.
    pub log: LogConfig,
    /// What `POST /v1/introspect` tells gateways about caching its answers.
    pub introspect: IntrospectConfig,
    /// What `tokenscope gateway build` puts into a `wasi:http` gateway.
    pub gateway: GatewayConfig,
    /// Hosts sharing a PostgreSQL store: heartbeats and policy rollout.
    pub fleet: FleetConfig,
    /// Short-lived tokens in exchange for OIDC identity tokens (CI jobs).
    pub oidc: OidcConfig,
    /// Leak reports (`POST /v1/leaks`): signers, replays, the webhook.
    pub leaks: LeaksConfig,
    /// The audit trail: how long its events are kept.
    pub audit: AuditConfig,
}

impl Config {
    /// Reads `path`, or `tokenscope.toml` in the working directory when it exists,
    /// else the defaults; then applies the environment and validates.
    pub fn load(path: Option<&Path>) -> Result<Config> {
        let mut config = match path {
            Some(path) => Self::from_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => Self::from_file(Path::new(DEFAULT_CONFIG_FILE))?,
            None => Config::default(),
        };
        config.apply_env(|key| std::env::var(key).ok())?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses one config file (without the environment or `validate`).
    pub fn from_file(path: &Path) -> Result<Config> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("failed to read config `{}`", path.display()))?;
        let mut config: Config =
            toml::from_str(&text).with_context(|| format!("config `{}` is not valid", path.display()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        config.policy.load_trust(base).with_context(|| format!("config `{}` is not valid", path.display()))?;
        Ok(config)
    }

    /// Environment overrides for the expiry notifier, Go-style durations.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<()> {
        let notifier = &mut self.expiry_notifier;
        for (key, slot) in [
            ("TOKENSCOPE_TOKEN_EXPIRATION_NOTIFIER_INTERVAL", &mut notifier.interval),
            ("TOKENSCOPE_TOKEN_EXPIRATION_NOTIFIER_BACKOFF_INTERVAL", &mut notifier.backoff),
            ("TOKENSCOPE_TOKEN_EXPIRATION_DETECTION_WINDOW", &mut notifier.window),
        ] {
            if let Some(text) = var(key) {
                *slot = parse_duration(&text).with_context(|| format!("bad value in `{key}`"))?;
            }
        }
        Ok(())
    }

    /// Checks what the types cannot: orderings, ranges, role grants.
    pub fn validate(&self) -> Result<()> {
        self.fleet.validate()?;
        self.oidc.validate()?;
        self.leaks.validate()?;
        self.audit.validate()?;
        if let Some(trust) = &self.policy.trust
            && trust.keys.is_empty()
        {
            bail!(
                "policy.trust names no keys: a trust table that trusts no key would refuse every module (remove the table to run unsigned modules)"
            );
        }
        if self.tokens.default_ttl > self.tokens.max_ttl {
            bail!("tokens.default_ttl is longer than tokens.max_ttl");
        }
        for (what, d) in [
            ("usage.flush_interval", self.usage.flush_interval),
            ("expiry_notifier.interval", self.expiry_notifier.interval),
            ("policy.call_timeout", self.policy.call_timeout),
            ("policy.settle", self.policy.settle),
            ("server.header_read_timeout", self.server.header_read_timeout),
        ] {
            if d.is_zero() {
                bail!("{what} must be longer than zero");
            }
        }
        // Bounded so that neither the connection semaphore nor a timer deadline can overflow.
        if self.server.max_connections == 0 || self.server.max_connections > 1_000_000 {
            bail!("server.max_connections must be between 1 and 1000000");
        }
        if self.server.workers > 256 {
            bail!("server.workers must be at most 256 (0: one per core)");
        }
        if self.server.store_waits == 0 || self.server.store_waits > 4096 {
            bail!("server.store_waits must be between 1 and 4096");
        }
        if let Some(url) = &self.server.public_url {
            public_origin(url)?;
        }
        if let Some(url) = &self.store.url
            && !matches!(StoreLocation::parse(url), Ok(StoreLocation::Postgres(_)))
        {
            bail!("store.url must start with `postgres://` or `postgresql://`: it names a PostgreSQL database");
        }
        if let Some(url) = &self.store.listen_url
            && (self.store.url.is_none() || !matches!(StoreLocation::parse(url), Ok(StoreLocation::Postgres(_))))
        {
            bail!("store.listen_url goes with store.url, and must start with `postgres://` or `postgresql://`");
        }
        if self.store.timeout < Duration::from_millis(100) || self.store.timeout > Duration::from_secs(600) {
            bail!("store.timeout must be between 100ms and 10m");
        }
        if self.store.pool_size == 0 || self.store.pool_size > 256 {
            bail!("store.pool_size must be between 1 and 256");
        }
        if self.server.header_read_timeout > Duration::from_secs(3600) {
            bail!("server.header_read_timeout must be at most 1h");
        }
        // A wasm32 memory holds at most 4 GiB; a larger figure would wrap when turned into bytes.
        if self.policy.memory_mib == 0 || self.policy.memory_mib > 4096 {
            bail!("policy.memory_mib must be between 1 and 4096");
        }
        if self.record.every == 0 {
            bail!("record.every must be at least 1");
        }
        if self.cache.refresh.is_zero() || self.cache.refresh > Duration::from_millis(500) {
            bail!("cache.refresh must be between 1ms and 500ms");
        }
        if self.cache.tokens == 0 || self.cache.unknown == 0 || self.cache.owners == 0 {
            bail!("cache.tokens, cache.unknown and cache.owners must be at least 1");
        }
        for (name, role) in &self.roles {
            parse_grant(&format!("/={}", role.access)).with_context(|| format!("role `{name}` has a bad access"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::duration::days;

    #[test]
    fn defaults_follow_acs() {
        let c = Config::default();
        assert_eq!(c.expiry_notifier.interval, Duration::from_secs(3600));
        assert_eq!(c.expiry_notifier.backoff, Duration::from_secs(86_400));
        assert_eq!(c.expiry_notifier.window, Duration::from_secs(168 * 3600));
        assert_eq!(c.tokens.default_ttl, days(365));
        c.validate().unwrap();
    }

    #[test]
    fn toml_roles_and_durations_parse_and_unknown_keys_are_refused() {
        let c: Config = toml::from_str(
            "[tokens]\nmax_ttl = \"90d\"\ndefault_ttl = \"30d\"\n[roles.continuous-integration]\naccess = \"artifact:create,artifact:download\"\n",
        )
        .unwrap();
        assert_eq!(c.tokens.max_ttl, days(90));
        c.validate().unwrap();
        assert!(toml::from_str::<Config>("[tokens]\nmax_tll = \"1d\"\n").is_err());
        assert!(toml::from_str::<Config>("[usage]\nflush_interval = \"soon\"\n").is_err());
    }

    #[test]
    fn memory_limits_that_would_wrap_are_refused() {
        // 2^44 MiB shifted into bytes wraps to 0 in a u64.
        for mib in [0_u64, 4097, 1 << 44] {
            let c: Config = toml::from_str(&format!("[policy]\nmemory_mib = {mib}\n")).unwrap();
            assert!(c.validate().is_err(), "{mib}");
        }
    }

    #[test]
    fn the_example_config_is_valid() {
        let c =
            Config::from_file(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tokenscope.example.toml")))
                .unwrap();
        c.validate().unwrap();
        assert_eq!(c.roles.len(), 3);
    }

    #[test]
    fn connection_limits_are_bounded() {
        let c: Config = toml::from_str("[server]\nmax_connections = 18446744073709551615\n").unwrap();
        assert!(c.validate().is_err());
        let c: Config = toml::from_str("[server]\nheader_read_timeout = \"100000000y\"\n").unwrap();
        assert!(c.validate().is_err());
        let c: Config = toml::from_str("[server]\nmax_connections = 0\n").unwrap();
        assert!(c.validate().is_err());
        let c: Config = toml::from_str("[server]\nworkers = 100000\n").unwrap();
        assert!(c.validate().is_err());
        let c: Config = toml::from_str("[server]\nworkers = 3\n").unwrap();
        c.validate().unwrap();
    }

    #[test]
    fn env_overrides_take_go_durations() {
        let mut c = Config::default();
        c.apply_env(|k| (k == "TOKENSCOPE_TOKEN_EXPIRATION_DETECTION_WINDOW").then(|| "24h".to_owned())).unwrap();
        assert_eq!(c.expiry_notifier.window, Duration::from_secs(86_400));
        assert!(c.apply_env(|_| Some("whenever".to_owned())).is_err());
    }
}
