//! Leak reports: every reported secret that names a stored token revokes it at
//! once and records where it leaked (one store statement; the caches forget it,
//! other hosts and gateways see the change feed), and its owner is told (a log
//! line in the notifier's style, the token page, and `[leaks] webhook_url`).

use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use sha2::Digest;

use super::Authority;
use crate::audit::{AuditActor, AuditEvent, Client};
use crate::leaks::LeakReport;
use crate::secret::{SecretHash, check_shape, hint_of};
use crate::store::{LeakRecord, StoreError, TokenRecord};

/// What the report's answer says of an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeakLabel {
    /// A stored token: revoked now (or before), the leak recorded.
    TruePositive,
    /// Not a secret of this store (unknown, or not a tokenscope secret at all).
    FalsePositive,
}

/// The answer for one entry.
#[derive(Clone, Debug, Serialize)]
pub struct LeakAnswer {
    /// The SHA-256 of the reported text, hex.
    pub token_hash: String,
    /// The entry's `type`, echoed.
    pub token_type: String,
    /// Whether it was one of ours.
    pub label: LeakLabel,
}

/// The notifier-style line that tells a token's owner it was revoked for a leak.
pub fn leak_line(token: &TokenRecord, leak: &LeakRecord) -> String {
    format!(
        "Warn: API Token {} (ID {}) of {} was revoked: its secret was reported leaked at {} (by {}).",
        token.name, token.id, token.owner_name, leak.url, leak.reporter
    )
}

impl Authority {
    /// Handles one report from `reporter` (a signer's key id or a reporting
    /// token's owner): each entry that names a stored token revokes it and
    /// records the leak. A store error stops the report (the reporter retries;
    /// entries already handled stay handled, and a second report of them is
    /// answered the same).
    /// `by` is who reported (a signer's key, or the reporting token) as the audit trail names it.
    pub fn report_leaks(
        &self,
        entries: &[LeakReport],
        reporter: &str,
        by: &AuditActor,
        client: Option<Client>,
    ) -> Result<Vec<LeakAnswer>, StoreError> {
        let now = self.now();
        let mut answers = Vec::with_capacity(entries.len());
        for entry in entries {
            let text = entry.token.trim();
            let hash = SecretHash::of(text);
            let answer = |label| LeakAnswer { token_hash: hash.to_hex(), token_type: entry.kind.clone(), label };
            if check_shape(text).is_err() {
                answers.push(answer(LeakLabel::FalsePositive));
                continue;
            }
            let Some(token) = self.store.token_by_hash(&hash)? else {
                answers.push(answer(LeakLabel::FalsePositive));
                continue;
            };
            let leak =
                LeakRecord { at: now, url: entry.url.clone(), source: entry.source.clone(), reporter: reporter.into() };
            // Forgotten whatever the store answered: a failed write may still have landed.
            let audit = AuditEvent::new(now, self.host_id(), by.clone(), "token.leak", format!("token/{}", token.id))
                .with_owner(token.owner)
                .with_client(client.clone())
                .with_change(
                    Some(json!({"revoked_at": token.revoked_at})),
                    Some(json!({"revoked_at": token.revoked_at.unwrap_or(now), "leak": leak})),
                );
            let recorded = self.store.record_leak(token.id, &leak, &audit);
            self.caches.token_changed(token.id, None);
            if recorded? {
                let kept = self.store.token(token.id)?.and_then(|t| t.leak).unwrap_or(leak);
                tracing::warn!(
                    target: "tokenscope::leaks",
                    token = token.id.get(),
                    owner = %token.owner_name,
                    hint = %hint_of(text),
                    url = %kept.url,
                    "{}",
                    leak_line(&token, &kept)
                );
                self.tell_webhook(&token, &kept, text);
            }
            answers.push(answer(LeakLabel::TruePositive));
        }
        Ok(answers)
    }

    /// Takes a signed report's body for the first time within
    /// `leaks.replay_window`, for the whole fleet (the store keeps its SHA-256):
    /// false when it is a replay.
    pub fn claim_leak_report(&self, body: &[u8]) -> Result<bool, StoreError> {
        let digest: [u8; 32] = sha2::Sha256::digest(body).into();
        let now = self.now();
        self.store.claim_leak_report(&digest, now, now.saturating_add(self.config.leaks.replay_window))
    }

    /// Posts one leak to `[leaks] webhook_url`, if set, off the caller's thread,
    /// retried with backoff; the secret is never in it (its hint and hash are).
    fn tell_webhook(&self, token: &TokenRecord, leak: &LeakRecord, secret: &str) {
        let Some(url) = self.config.leaks.webhook_url.clone() else { return };
        let attempts = self.config.leaks.webhook_attempts;
        let body = json!({
            "event": "token.leaked",
            "token": {"id": token.id.get(), "name": token.name, "owner": token.owner_name, "hint": hint_of(secret)},
            "token_hash": SecretHash::of(secret).to_hex(),
            "leak": leak,
            "message": leak_line(token, leak),
        });
        let id = token.id.get();
        let spawned = std::thread::Builder::new().name("tokenscope-leak-webhook".into()).spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .into();
            let mut wait = Duration::from_millis(250);
            for attempt in 1..=attempts {
                let why = match agent.post(&url).send_json(&body) {
                    Ok(response) if response.status().is_success() => return,
                    Ok(response) => format!("answered {}", response.status()),
                    Err(err) => err.to_string(),
                };
                if attempt == attempts {
                    tracing::error!(target: "tokenscope::leaks", token = id, "the leak webhook failed {attempts} times; giving up: {why}");
                    return;
                }
                tracing::warn!(target: "tokenscope::leaks", token = id, attempt, "the leak webhook failed: {why}; retrying");
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        });
        if let Err(err) = spawned {
            tracing::error!(target: "tokenscope::leaks", token = id, "cannot start the leak webhook: {err}");
        }
    }
}
