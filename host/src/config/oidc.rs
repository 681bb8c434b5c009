//! The `[oidc]` tables: identity token issuers a CI job's token may come from
//! (`[[oidc.issuers]]`, each with its audience, key set and longest lifetime),
//! and the rules that turn a validated identity into a short-lived token of a
//! principal (`[[oidc.rules]]`, first match wins, no match is a refusal).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

use super::duration::duration;

/// `[oidc]` as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// Issuers whose identity tokens are accepted.
    pub issuers: Vec<IssuerConfig>,
    /// Which identities get which token; the first that matches wins.
    pub rules: Vec<RuleConfig>,
    /// How far `exp`, `nbf` and `iat` may be off (clock skew between the issuer and this host).
    #[serde(deserialize_with = "duration")]
    pub leeway: Duration,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig { issuers: Vec::new(), rules: Vec::new(), leeway: Duration::from_secs(30) }
    }
}

/// One `[[oidc.issuers]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The `iss` claim, matched exactly.
    pub issuer: String,
    /// A value `aud` must contain.
    pub audience: String,
    /// Where the issuer publishes its keys (https, or http on a loopback address).
    pub jwks_url: Option<String>,
    /// Or a file holding them (no network).
    pub jwks_file: Option<PathBuf>,
    /// The longest a token minted for this issuer's identities may live.
    #[serde(default = "default_max_ttl", deserialize_with = "duration")]
    pub max_ttl: Duration,
}

fn default_max_ttl() -> Duration {
    Duration::from_secs(3600)
}

fn default_rule_ttl() -> Duration {
    Duration::from_secs(15 * 60)
}

/// One `[[oidc.rules]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The issuer whose identities it applies to (one of `oidc.issuers`).
    pub issuer: String,
    /// Claims that must hold: each a string claim, equal to the value or
    /// matching it as a glob (`*` within a `/`-separated segment, `**` across).
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// The principal the minted token belongs to.
    pub principal: String,
    /// What the minted token may do, as scopes...
    pub scopes: Option<Vec<String>>,
    /// ...or as resource grants (`RESOURCE=ACCESS`).
    pub resources: Option<Vec<String>>,
    /// How long the minted token lives (capped by the issuer's `max_ttl` and
    /// by the identity token's own remaining lifetime).
    #[serde(default = "default_rule_ttl", deserialize_with = "duration")]
    pub ttl: Duration,
    /// The most live (unrevoked, unexpired) exchanged tokens the principal may
    /// hold at once; an exchange beyond it is refused (429).
    #[serde(default = "default_max_live")]
    pub max_live: u32,
}

fn default_max_live() -> u32 {
    100
}

impl OidcConfig {
    /// Refuses issuers without exactly one key source, key URLs that are not
    /// https (except on loopback), rules naming unknown issuers, and rules
    /// without grants.
    pub fn validate(&self) -> Result<()> {
        for (i, issuer) in self.issuers.iter().enumerate() {
            let at = format!("oidc.issuers[{i}]");
            if issuer.issuer.is_empty() || issuer.audience.is_empty() {
                bail!("{at}: `issuer` and `audience` must not be empty");
            }
            if self.issuers.iter().filter(|other| other.issuer == issuer.issuer).count() > 1 {
                bail!("{at}: issuer `{}` is configured twice", issuer.issuer);
            }
            match (&issuer.jwks_url, &issuer.jwks_file) {
                (Some(url), None) => check_key_url(url).map_err(|e| anyhow::anyhow!("{at}: {e}"))?,
                (None, Some(_)) => {}
                _ => bail!("{at}: give exactly one of `jwks_url` and `jwks_file`"),
            }
            if issuer.max_ttl.is_zero() || issuer.max_ttl > Duration::from_secs(24 * 3600) {
                bail!("{at}: `max_ttl` must be longer than zero and at most 24h");
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("oidc.rules[{i}]");
            if !self.issuers.iter().any(|issuer| issuer.issuer == rule.issuer) {
                bail!("{at}: issuer `{}` is not one of oidc.issuers", rule.issuer);
            }
            let grants = rule.scopes.as_ref().map_or(0, Vec::len) + rule.resources.as_ref().map_or(0, Vec::len);
            if rule.scopes.is_some() == rule.resources.is_some() || grants == 0 {
                bail!("{at}: give `scopes` or `resources` (not both), with at least one entry");
            }
            if rule.principal.is_empty() || rule.ttl.is_zero() {
                bail!("{at}: `principal` must not be empty and `ttl` must be longer than zero");
            }
            if rule.max_live == 0 || rule.max_live > 100_000 {
                bail!("{at}: `max_live` must be between 1 and 100000");
            }
            for (claim, pattern) in &rule.claims {
                claim_pattern(pattern).map_err(|e| anyhow::anyhow!("{at}: claim `{claim}`: {e}"))?;
            }
        }
        if self.leeway > Duration::from_secs(300) {
            bail!("oidc.leeway must be at most 5m");
        }
        Ok(())
    }
}

/// A rule's claim pattern: `*` matches within one `/`-separated segment, `**`
/// across (globset syntax); a value without glob characters matches only itself.
pub fn claim_pattern(pattern: &str) -> Result<globset::GlobMatcher, globset::Error> {
    Ok(globset::GlobBuilder::new(pattern).literal_separator(true).build()?.compile_matcher())
}

/// Keys are fetched over https; plain http only from this machine (tests, a
/// sidecar): an IP literal in 127.0.0.0/8, `::1`, or exactly `localhost`.
/// The host is parsed, never matched by prefix (`127.evil.example` is a name).
fn check_key_url(url: &str) -> Result<()> {
    let parsed = url::Url::parse(url).map_err(|e| anyhow::anyhow!("`jwks_url` `{url}` is not a URL: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => bail!("`jwks_url` must be https (http only on a loopback address), not `{url}`"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_pattern_without_glob_characters_matches_only_itself(a in "[a-zA-Z0-9/._:@-]{0,24}", b in "[a-zA-Z0-9/._:@-]{0,24}") {
            let pattern = claim_pattern(&a).unwrap();
            prop_assert!(pattern.is_match(&a));
            prop_assert_eq!(pattern.is_match(&b), a == b);
        }

        #[test]
        fn a_star_stays_within_its_segment(prefix in "[a-z]{1,8}", segment in "[a-z._-]{0,8}", deeper in "[a-z]{1,8}") {
            let pattern = claim_pattern(&format!("{prefix}/*")).unwrap();
            let (inside, below, beside) =
                (format!("{prefix}/{segment}"), format!("{prefix}/{segment}/{deeper}"), format!("{prefix}x/{segment}"));
            prop_assert!(pattern.is_match(&inside));
            prop_assert!(!pattern.is_match(&below));
            prop_assert!(!pattern.is_match(&beside));
        }
    }

    fn config(text: &str) -> Result<OidcConfig> {
        let config: OidcConfig = toml::from_str(text)?;
        config.validate().map(|()| config)
    }

    const ISSUER: &str =
        "[[issuers]]\nissuer = \"https://token.actions.githubusercontent.com\"\naudience = \"tokenscope\"\n";

    #[test]
    fn issuers_need_one_key_source_over_https_and_rules_need_a_known_issuer_and_grants() {
        let ok = format!("{ISSUER}jwks_url = \"https://token.actions.githubusercontent.com/.well-known/jwks\"\n");
        assert!(config(&ok).is_ok());
        assert!(config(&format!("{ISSUER}jwks_url = \"http://keys.example/jwks\"\n")).is_err());
        assert!(config(&format!("{ISSUER}jwks_url = \"http://127.0.0.1:9/jwks\"\n")).is_ok());
        assert!(config(ISSUER).is_err(), "no key source");
        let both = format!("{ISSUER}jwks_url = \"https://k/jwks\"\njwks_file = \"k.json\"\n");
        assert!(config(&both).is_err());
        let rule = "[[rules]]\nissuer = \"https://token.actions.githubusercontent.com\"\nprincipal = \"ci\"\n";
        assert!(config(&format!("{ok}{rule}scopes = [\"artifact:view\"]\n")).is_ok());
        assert!(config(&format!("{ok}{rule}")).is_err(), "no grants");
        assert!(config(&format!("{ok}{rule}scopes = [\"a\"]\nresources = [\"b=read\"]\n")).is_err());
        let other = rule.replace("githubusercontent", "gitlab");
        assert!(config(&format!("{ok}{other}scopes = [\"a\"]\n")).is_err(), "unknown issuer");
        assert!(config(&format!("{ok}{rule}scopes = [\"a\"]\nclaims = {{ ref = \"refs/[\" }}\n")).is_err());
        assert!(config(&format!("{ok}{rule}scopes = [\"a\"]\nmax_live = 0\n")).is_err());
    }

    #[test]
    fn plain_http_key_urls_must_name_a_loopback_host_not_merely_start_like_one() {
        for good in ["http://127.0.0.1:9/jwks", "http://127.1.2.3/jwks", "http://[::1]:8/jwks", "http://localhost/k"] {
            assert!(config(&format!("{ISSUER}jwks_url = \"{good}\"\n")).is_ok(), "{good}");
        }
        for bad in [
            "http://127.evil.example/jwks",
            "http://127.0.0.1.nip.io/jwks",
            "http://localhost.evil.example/jwks",
            "http://[::2]/jwks",
            "http://0.0.0.0/jwks",
            "http://128.0.0.1/jwks",
            "ftp://127.0.0.1/jwks",
        ] {
            assert!(config(&format!("{ISSUER}jwks_url = \"{bad}\"\n")).is_err(), "{bad}");
        }
    }
}
