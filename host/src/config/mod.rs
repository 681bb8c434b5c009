//! The host's configuration: one TOML file (every key optional, unknown keys
//! refused), environment overrides for the expiry notifier, and `validate()`.
//! Durations are Go-style text (`1h`, `24h`, `168h`, `30d`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Deserializer};

use crate::grant_text::parse_grant;

mod fleet;
mod gateway;
mod oidc;
use crate::runtime::Limits;
use crate::store::StoreLocation;
pub use fleet::FleetConfig;
pub use gateway::{GatewayConfig, origin};
pub use oidc::{IssuerConfig, OidcConfig, RuleConfig, claim_pattern};

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
}

/// How long gateways may keep introspection answers (`Cache-Control: max-age`).
/// A gateway also polls the change feed, so revocations reach it sooner.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IntrospectConfig {
    /// For a stored token.
    #[serde(deserialize_with = "duration")]
    pub max_age: Duration,
    /// For a hash that matches no stored token.
    #[serde(deserialize_with = "duration")]
    pub unknown_max_age: Duration,
}

impl Default for IntrospectConfig {
    fn default() -> Self {
        IntrospectConfig { max_age: Duration::from_secs(60), unknown_max_age: Duration::from_secs(5) }
    }
}

/// What the verify path keeps in memory. Writes through this process take effect
/// on the next request; another process's writes (the CLI beside a server) are
/// seen within twice `refresh`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Keep stored tokens, owners' rights and unknown secrets in memory.
    pub enabled: bool,
    /// The most stored tokens held; past it the cache is emptied and refills on demand.
    pub tokens: usize,
    /// The most unknown (well-formed, never issued) secrets remembered.
    pub unknown: usize,
    /// The most owners' rights held.
    pub owners: usize,
    /// How often the store's change counter is read (1 ms to 500 ms).
    #[serde(deserialize_with = "duration")]
    pub refresh: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            tokens: 262_144,
            unknown: 65_536,
            owners: 65_536,
            refresh: Duration::from_millis(250),
        }
    }
}

/// Which decisions get a log line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionLog {
    /// Every decision.
    #[default]
    All,
    /// Denies only.
    Denies,
    /// None (errors and warnings are still logged).
    None,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `key=value` text, one line per event.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `message` and the event's fields.
    Json,
}

/// Decision logs (`tokenscope serve` writes them off the request path).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `all`, `denies` or `none`.
    pub decisions: DecisionLog,
    /// `text` or `json`.
    pub format: LogFormat,
}

/// The HTTP server's address and limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// The address to listen on (loopback by default).
    pub listen: std::net::SocketAddr,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The most header bytes (names and values) a request may carry.
    pub max_header_bytes: usize,
    /// The longest a request may take.
    #[serde(deserialize_with = "duration")]
    pub request_timeout: Duration,
    /// How long shutdown waits for in-flight requests.
    #[serde(deserialize_with = "duration")]
    pub shutdown_grace: Duration,
    /// The longest a client may take to send a request's complete headers,
    /// counted from when its connection is ready for a request: slow headers and
    /// keep-alive connections idle for this long are closed.
    #[serde(deserialize_with = "duration")]
    pub header_read_timeout: Duration,
    /// Open client connections at most; more wait in the listen backlog.
    pub max_connections: usize,
    /// Threads that accept and serve connections, each with its own event loop
    /// (0: one per core).
    pub workers: usize,
    /// Checks that may wait for the store at once (a token, or its owner's
    /// rights, the caches cannot answer); they wait off the serving threads,
    /// and past this many a check is answered 503 `store-unavailable` at once.
    pub store_waits: usize,
    /// The URL people reach this server at (behind a proxy); when it is https,
    /// the token page's session cookie is `Secure`.
    pub public_url: Option<String>,
    /// The token page's sessions end after this long without a request.
    #[serde(deserialize_with = "duration")]
    pub session_idle: Duration,
    /// And this long after sign-in in any case.
    #[serde(deserialize_with = "duration")]
    pub session_max: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 64 << 10,
            max_header_bytes: 16 << 10,
            request_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            workers: 0,
            store_waits: 64,
            public_url: None,
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(8 * 3600),
        }
    }
}

pub use tokenscope_request::CheckConfig;

/// The origin (scheme, host and port, as a browser's `Origin` header names
/// it) of `server.public_url`, which must be an http or https URL with a host;
/// `https` however it is spelled.
pub fn public_origin(public_url: &str) -> Result<url::Url> {
    let url = url::Url::parse(public_url).with_context(|| format!("server.public_url `{public_url}` is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        bail!("server.public_url `{public_url}` must be an http or https URL with a host");
    }
    Ok(url)
}

/// The check endpoint as configured (`[check]`), and its reading rules (the
/// canonical public prefixes and the route map) built from it once, when the
/// config is read: a config with a bad route is refused there, and nothing
/// builds the route map again.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "CheckConfig")]
pub struct Check {
    written: CheckConfig,
    settings: Arc<tokenscope_request::Settings>,
}

impl Check {
    /// The `[check]` table as written.
    pub fn written(&self) -> &CheckConfig {
        &self.written
    }

    /// The reading rules: convention, prefix, public prefixes and routes.
    pub fn settings(&self) -> &Arc<tokenscope_request::Settings> {
        &self.settings
    }
}

impl TryFrom<CheckConfig> for Check {
    type Error = tokenscope_request::SettingsError;

    fn try_from(written: CheckConfig) -> Result<Check, Self::Error> {
        let settings = written.settings(written.convention)?;
        Ok(Check { written, settings: Arc::new(settings) })
    }
}

impl Default for Check {
    fn default() -> Self {
        let written = CheckConfig::default();
        let settings = tokenscope_request::Settings::empty(written.convention, &written.prefix);
        Check { written, settings: Arc::new(settings) }
    }
}

/// Where the store lives: the SQLite file `path`, unless `url` names a
/// PostgreSQL database (`postgres://user@host:port/db`) that hosts share.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file; relative paths are relative to the working directory.
    pub path: PathBuf,
    /// A PostgreSQL URL; when set, `path` is not used.
    pub url: Option<String>,
    /// Where the listening connection (change notifications, and the change
    /// counter with every probe) goes instead of `url`: the database itself,
    /// when `url` names a transaction pooler, which does not carry `LISTEN`.
    pub listen_url: Option<String>,
    /// The pool's connections per host (PostgreSQL), beside the listening one.
    pub pool_size: usize,
    /// Prepare each statement once per pooled connection (PostgreSQL). Off
    /// when `url` names a transaction pooler that cannot keep prepared
    /// statements (pgbouncer before 1.21, or without `max_prepared_statements`):
    /// every statement is then sent unnamed, planned each time.
    pub prepared_statements: bool,
    /// The longest one store operation may take (PostgreSQL): past it the
    /// operation fails, a check or a change answers 503 `store-unavailable`.
    #[serde(deserialize_with = "duration")]
    pub timeout: Duration,
}

impl StoreConfig {
    /// Where the store is.
    pub fn location(&self) -> StoreLocation {
        match &self.url {
            Some(url) => StoreLocation::Postgres(url.clone()),
            None => StoreLocation::Sqlite(self.path.clone()),
        }
    }

    /// How a PostgreSQL store is opened beside its URL.
    pub fn pg_options(&self) -> crate::store::PgOptions {
        crate::store::PgOptions {
            listen_url: self.listen_url.clone(),
            pool_size: Some(self.pool_size),
            unnamed_statements: !self.prepared_statements,
            op_timeout: Some(self.timeout),
        }
    }

    /// Points at `location` instead.
    pub fn set(&mut self, location: StoreLocation) {
        // The config's listening URL names the config's database, not this one.
        self.listen_url = None;
        match location {
            StoreLocation::Sqlite(path) => {
                self.path = path;
                self.url = None;
            }
            StoreLocation::Postgres(url) => self.url = Some(url),
        }
    }
}

/// Shown without the password a URL may carry.
impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreConfig({})", self.location())
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: PathBuf::from("tokenscope.db"),
            url: None,
            listen_url: None,
            pool_size: crate::store::DEFAULT_POOL_SIZE,
            prepared_statements: true,
            timeout: crate::store::DEFAULT_OP_TIMEOUT,
        }
    }
}

/// Which policy module decides, its limits, and how modules are swapped and cached.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// A policy component to load instead of the embedded default.
    pub file: Option<PathBuf>,
    /// The longest one policy call may run.
    #[serde(deserialize_with = "duration")]
    pub call_timeout: Duration,
    /// The most linear memory one policy instance may use, in MiB.
    pub memory_mib: usize,
    /// Reload `file` when it changes on disk (`serve`; SIGHUP reloads it always).
    pub watch: bool,
    /// How long a changed file must stay the same before it is read.
    #[serde(deserialize_with = "duration")]
    pub settle: Duration,
    /// Refuse modules that ship no test vectors.
    pub require_vectors: bool,
    /// Instances deciding in parallel; 0 means one per core.
    pub evaluators: usize,
    /// Cache compiled modules on disk, so a restart or a known module does not recompile.
    pub cache: bool,
    /// Where compiled modules are cached (default: `$XDG_CACHE_HOME/tokenscope`, or `~/.cache/tokenscope`).
    pub cache_dir: Option<PathBuf>,
    /// A candidate module to run beside the active one on live traffic, never affecting an answer.
    pub shadow: Option<PathBuf>,
    /// The largest module `POST /api/system/policy` accepts, in bytes.
    pub max_module_bytes: usize,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        let limits = Limits::default();
        PolicyConfig {
            file: None,
            call_timeout: limits.call_timeout,
            memory_mib: limits.memory_bytes >> 20,
            watch: true,
            settle: Duration::from_millis(100),
            require_vectors: true,
            evaluators: 0,
            cache: true,
            cache_dir: None,
            shadow: None,
            max_module_bytes: 16 << 20,
        }
    }
}

impl PolicyConfig {
    /// The runtime limits of every policy call.
    pub fn limits(&self) -> Limits {
        Limits { call_timeout: self.call_timeout, memory_bytes: self.memory_mib << 20 }
    }

    /// How many evaluators decide in parallel.
    pub fn evaluators(&self) -> usize {
        match self.evaluators {
            0 => std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            n => n,
        }
    }

    /// The module cache directory, if caching is on and one can be named.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        if !self.cache {
            return None;
        }
        if let Some(dir) = &self.cache_dir {
            return Some(dir.clone());
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
        Some(base.join("tokenscope"))
    }
}

/// Recording a sample of live decisions for `tokenscope policy diff`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordConfig {
    /// The JSON-lines file decisions are appended to; none records nothing.
    pub file: Option<PathBuf>,
    /// Record every n-th decision.
    pub every: u64,
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig { file: None, every: 1 }
    }
}

/// The rules tokens are issued under.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// The lifetime of a token created without an expiry (acs: one year).
    #[serde(deserialize_with = "duration")]
    pub default_ttl: Duration,
    /// The longest lifetime a token may be given.
    #[serde(deserialize_with = "duration")]
    pub max_ttl: Duration,
    /// Whether `--no-expiry` is allowed at all.
    pub allow_no_expiry: bool,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig { default_ttl: days(365), max_ttl: days(2 * 365), allow_no_expiry: false }
    }
}

/// How usage is counted.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UsageConfig {
    /// How often counted uses are written to the store; a crash loses at most this much.
    #[serde(deserialize_with = "duration")]
    pub flush_interval: Duration,
}

impl Default for UsageConfig {
    fn default() -> Self {
        UsageConfig { flush_interval: Duration::from_secs(1) }
    }
}

/// acs's expiry warnings.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifierConfig {
    /// How often to look for expiring tokens (`TOKENSCOPE_TOKEN_EXPIRATION_NOTIFIER_INTERVAL`).
    #[serde(deserialize_with = "duration")]
    pub interval: Duration,
    /// The least time between two warnings for one token (`..._BACKOFF_INTERVAL`).
    #[serde(deserialize_with = "duration")]
    pub backoff: Duration,
    /// How long before expiry warnings start (`TOKENSCOPE_TOKEN_EXPIRATION_DETECTION_WINDOW`).
    #[serde(deserialize_with = "duration")]
    pub window: Duration,
}

impl Default for NotifierConfig {
    fn default() -> Self {
        NotifierConfig {
            interval: Duration::from_secs(3600),
            backoff: Duration::from_secs(24 * 3600),
            window: Duration::from_secs(168 * 3600),
        }
    }
}

/// A named grant set: a level or a list of actions, bound at a node per principal.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoleConfig {
    /// What the role is for.
    pub description: String,
    /// `read`, `write` or `manage`, or a comma-separated list of actions.
    pub access: String,
}

fn days(n: u64) -> Duration {
    Duration::from_secs(n * 24 * 3600)
}

/// Parses Go-style durations such as `1h`, `24h`, `168h`, `30d`, `90m`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    humantime::parse_duration(text).with_context(|| format!("`{text}` is not a duration (e.g. `1h`, `168h`, `30d`)"))
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(|e| serde::de::Error::custom(format!("{e:#}")))
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
        toml::from_str(&text).with_context(|| format!("config `{}` is not valid", path.display()))
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
