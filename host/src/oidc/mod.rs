//! Short-lived tokens for OIDC identity tokens (a CI job's, a cloud
//! workload's): the identity token is validated (`identity.rs`) with the
//! issuer's keys (`keys.rs`), a rule picks the principal and grants
//! (`rules.rs`), and `Exchanger::exchange` mints an ordinary stored token
//! through the policy's issuance check, no longer-lived than the identity.

mod error;
mod identity;
mod keys;
mod rules;
mod strict_json;

pub use error::OidcError;
pub use identity::{Identity, MAX_TOKEN_BYTES};
pub use rules::Rule;

use std::time::Duration;

use crate::audit::Client;
use crate::authority::{Actor, Authority, ExchangeFacts, Expiry, IssueRequest, Issued, LifecycleError};
use crate::config::OidcConfig;
use crate::contract::Grants;
use crate::store::{ExchangeOnce, TokenOrigin};
use crate::time::UnixTime;
use identity::Issuer;
use keys::{KeySource, Keys};

/// Validates identity tokens and matches rules, for the exchange endpoint and `tokenscope oidc test`.
pub struct Exchanger {
    issuers: Vec<Issuer>,
    rules: Vec<Rule>,
    leeway: Duration,
}

/// An identity, the rule it matched, and how long its token may live.
pub struct Matched<'r> {
    /// The validated identity.
    pub identity: Identity,
    /// The rule that matched.
    pub rule: &'r Rule,
    /// When the minted token expires: the rule's ttl, capped by the issuer's
    /// `max_ttl` and by the identity token's own expiry.
    pub expires_at: UnixTime,
}

/// Why an exchange did not mint a token.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The identity token or its match was refused.
    #[error(transparent)]
    Identity(#[from] OidcError),
    /// Minting was refused (the policy's issuance check, a missing principal) or failed.
    #[error(transparent)]
    Mint(#[from] LifecycleError),
}

impl Exchanger {
    /// From `[oidc]` (validated with the config).
    pub fn new(config: &OidcConfig) -> Exchanger {
        let issuers = config
            .issuers
            .iter()
            .map(|issuer| {
                let source = match (&issuer.jwks_url, &issuer.jwks_file) {
                    (Some(url), _) => KeySource::Url(url.clone()),
                    (None, Some(file)) => KeySource::File(file.clone()),
                    (None, None) => KeySource::Url(String::new()),
                };
                Issuer { config: issuer.clone(), keys: Keys::new(source) }
            })
            .collect();
        Exchanger { issuers, rules: rules::compile(&config.rules), leeway: config.leeway }
    }

    /// Whether any issuer is configured (else the endpoint refuses every exchange).
    pub fn configured(&self) -> bool {
        !self.issuers.is_empty()
    }

    /// Validates `token` at `now` and finds its rule.
    pub fn matching(&self, token: &str, now: UnixTime) -> Result<Matched<'_>, OidcError> {
        let identity = identity::validate(token, &self.issuers, now, self.leeway)?;
        let rule = rules::matching(&self.rules, &identity)?;
        let max_ttl = self.issuers.iter().find(|i| i.config.issuer == identity.issuer).map(|i| i.config.max_ttl);
        let ttl = rule.config.ttl.min(max_ttl.unwrap_or(rule.config.ttl));
        let expires_at = now.saturating_add(ttl).min(identity.expires_at);
        if expires_at <= now {
            return Err(OidcError::Expired);
        }
        Ok(Matched { identity, rule, expires_at })
    }

    /// Validates `token`, matches a rule and mints its token through `authority`.
    /// `client` is where the request came from, for the audit trail.
    pub fn exchange(
        &self,
        authority: &Authority,
        token: &str,
        client: Option<Client>,
    ) -> Result<(Issued, Matched<'_>), ExchangeError> {
        let matched = self.matching(token, authority.now())?;
        let rule = &matched.rule.config;
        let grants = match (&rule.scopes, &rule.resources) {
            (Some(scopes), _) => Grants::Scopes(scopes.clone()),
            (None, Some(resources)) => Grants::Resources(
                resources
                    .iter()
                    .map(|g| crate::grant_text::parse_grant(g))
                    .collect::<anyhow::Result<_>>()
                    .map_err(|e| LifecycleError::Invalid(format!("rule {}: {e:#}", matched.rule.label())))?,
            ),
            (None, None) => Grants::Scopes(Vec::new()),
        };
        let subject: String = matched.identity.subject.chars().take(96).collect();
        let request = IssueRequest {
            owner: rule.principal.clone(),
            name: format!("oidc {subject}"),
            description: format!(
                "for an identity token of {}",
                matched.identity.issuer.chars().take(200).collect::<String>()
            ),
            expiry: Expiry::At(matched.expires_at),
            grants,
            exchange: Some(ExchangeFacts {
                origin: TokenOrigin {
                    issuer: matched.identity.issuer.clone(),
                    subject: matched.identity.subject.clone(),
                    rule: matched.rule.label(),
                },
                once: ExchangeOnce {
                    digest: identity::signed_part_digest(token),
                    until: matched.identity.expires_at.saturating_add(self.leeway),
                    max_live: rule.max_live,
                },
            }),
        };
        let issued = authority.create_token(Actor::Exchange.from_client(client), &request)?;
        Ok((issued, matched))
    }
}
