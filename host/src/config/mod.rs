//! The host's configuration: one TOML file (every key optional, unknown keys
//! refused), environment overrides for the expiry notifier, and `validate()`.
//! Durations are Go-style text (`1h`, `24h`, `168h`, `30d`). One file per table.

mod audit;
mod cache;
mod check;
mod duration;
mod fleet;
mod gateway;
mod introspect;
mod leaks;
mod load;
mod log;
mod notifier;
mod oidc;
mod policy;
mod record;
mod roles;
mod server;
mod store;
mod tokens;
mod usage;

pub use audit::AuditConfig;
pub use cache::CacheConfig;
pub use check::{Check, CheckConfig};
pub use duration::parse_duration;
pub use fleet::FleetConfig;
pub use gateway::{GatewayConfig, origin};
pub use introspect::IntrospectConfig;
pub use leaks::{LeaksConfig, SignerConfig};
pub use load::{Config, DEFAULT_CONFIG_FILE};
pub use log::{DecisionLog, LogConfig, LogFormat};
pub use notifier::NotifierConfig;
pub use oidc::{IssuerConfig, OidcConfig, RuleConfig, claim_pattern};
pub use policy::{PolicyConfig, TrustTable};
pub use record::RecordConfig;
pub use roles::RoleConfig;
pub use server::{ServerConfig, public_origin};
pub use store::StoreConfig;
pub use tokens::TokenConfig;
pub use usage::UsageConfig;
