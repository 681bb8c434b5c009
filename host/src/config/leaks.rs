//! `[leaks]`: who may report leaked secrets to `POST /v1/leaks` by signature
//! (`[[leaks.signers]]`: a key id and an ECDSA P-256 public key, as GitHub's
//! secret scanning partner programme signs), how long a report's body is
//! remembered against replays, and an optional webhook told of each leak.

use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use p256::ecdsa::VerifyingKey;
use serde::Deserialize;

use super::duration::duration;

/// `[leaks]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LeaksConfig {
    /// Keys whose signatures over a report's body are accepted.
    pub signers: Vec<SignerConfig>,
    /// How long a report's body is remembered: the same body again within it is a replay (409).
    #[serde(deserialize_with = "duration")]
    pub replay_window: Duration,
    /// Where each leak is posted as JSON (never the secret), retried with backoff.
    pub webhook_url: Option<String>,
    /// How many times a webhook delivery is tried before it is given up (and logged).
    pub webhook_attempts: u32,
}

impl Default for LeaksConfig {
    fn default() -> Self {
        LeaksConfig {
            signers: Vec::new(),
            replay_window: Duration::from_secs(3600),
            webhook_url: None,
            webhook_attempts: 5,
        }
    }
}

/// `[[leaks.signers]]`: one public key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerConfig {
    /// The key's id, as the report names it (`Github-Public-Key-Identifier`).
    pub key_id: String,
    /// The ECDSA P-256 public key, PEM (`-----BEGIN PUBLIC KEY-----`).
    pub pem: String,
}

impl SignerConfig {
    /// The key, parsed.
    pub fn key(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_str(self.pem.trim())
            .map_err(|_| anyhow::anyhow!("not an ECDSA P-256 public key in PEM"))
            .with_context(|| format!("leaks.signers key `{}`", self.key_id))
    }
}

impl LeaksConfig {
    /// Keys parse, ids are unique and non-empty, the webhook is an http(s) URL.
    pub fn validate(&self) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for signer in &self.signers {
            if signer.key_id.trim().is_empty() {
                bail!("leaks.signers: a key_id is empty");
            }
            if !seen.insert(signer.key_id.as_str()) {
                bail!("leaks.signers: key_id `{}` is given twice", signer.key_id);
            }
            signer.key()?;
        }
        if self.replay_window.is_zero() {
            bail!("leaks.replay_window must be longer than zero");
        }
        if let Some(url) = &self.webhook_url {
            let parsed = url::Url::parse(url).with_context(|| format!("leaks.webhook_url `{url}`"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                bail!("leaks.webhook_url must be http or https");
            }
        }
        if self.webhook_attempts == 0 {
            bail!("leaks.webhook_attempts must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_and_repeated_ids_are_refused() {
        let bad = |pem: &str| LeaksConfig {
            signers: vec![SignerConfig { key_id: "k".into(), pem: pem.into() }],
            ..LeaksConfig::default()
        };
        assert!(bad("not a key").validate().unwrap_err().to_string().contains("`k`"));
        assert!(LeaksConfig::default().validate().is_ok());
        let webhook = LeaksConfig { webhook_url: Some("ftp://x".into()), ..LeaksConfig::default() };
        assert!(webhook.validate().is_err());
    }
}
