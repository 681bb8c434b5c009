//! `POST /v1/leaks`: secret scanners report leaked secrets in GitHub's secret
//! scanning partner format (`[{"token", "type", "url", "source"}]`), signed with
//! ECDSA P-256 over the raw body by a configured key (`Github-Public-Key-Identifier`,
//! `Github-Public-Key-Signature`) or sent with a token that holds
//! `system.tokens:report-leak`. Each secret that names a token revokes it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};

use super::AppState;
use super::api_caller::Presented;
use super::api_error::{ApiError, ApiResult};
use super::blocking::run;
use super::client_info::ClientOf;
use crate::audit::AuditActor;
use crate::config::LeaksConfig;
use crate::leaks::{BadReport, LeakReport, parse_report};

/// The action a reporting token holds (on the root).
const REPORT_LEAK: &str = "system.tokens:report-leak";
/// The header naming the key a report is signed with (GitHub's name).
pub const KEY_ID_HEADER: &str = "github-public-key-identifier";
/// The header carrying the signature: base64 of an ASN.1 DER ECDSA signature.
pub const SIGNATURE_HEADER: &str = "github-public-key-signature";
/// The largest report body read (a full report of 1,000 entries fits).
pub const MAX_BODY: usize = 1 << 20;

/// The configured signers' keys (a signed body taken is kept in the store, for
/// the whole fleet, until `leaks.replay_window` ends).
pub struct LeakDesk {
    keys: HashMap<String, VerifyingKey>,
}

impl LeakDesk {
    /// The desk for `config` (its keys were checked when the config was read;
    /// one that does not parse is left out, and reports signed with it are refused).
    pub fn new(config: &LeaksConfig) -> LeakDesk {
        let keys = config.signers.iter().filter_map(|s| Some((s.key_id.clone(), s.key().ok()?))).collect();
        LeakDesk { keys }
    }

    /// Who signed `body`, if the signature holds; the refusal otherwise.
    fn signer(&self, key_id: &str, signature: Option<&str>, body: &[u8]) -> ApiResult<String> {
        let refused =
            |code, message: &str| ApiError::Refused { status: StatusCode::UNAUTHORIZED, code, message: message.into() };
        let Some(key) = self.keys.get(key_id) else {
            return Err(refused("unknown-key", "the report is signed with a key this server does not know"));
        };
        let signature = signature
            .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s.trim()).ok())
            .and_then(|der| Signature::from_der(&der).ok())
            .ok_or_else(|| {
                refused("bad-signature", "the signature is missing or not base64 of a DER ECDSA signature")
            })?;
        key.verify(body, &signature).map_err(|_| refused("bad-signature", "the signature does not match the body"))?;
        Ok(format!("signer {key_id}"))
    }
}

/// The report in `body`, or its refusal (line and column only: a secret in it is never echoed).
fn entries_of(body: &[u8]) -> ApiResult<Vec<LeakReport>> {
    parse_report(body).map_err(|bad| match bad {
        BadReport::Malformed { .. } => ApiError::bad_request(bad.to_string()),
        BadReport::TooMany => ApiError::Refused {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "too-many-entries",
            message: bad.to_string(),
        },
        BadReport::Field(..) => ApiError::invalid(bad.to_string()),
    })
}

/// `POST /v1/leaks`
pub async fn report(
    State(state): State<Arc<AppState>>,
    presented: Presented,
    ClientOf(client): ClientOf,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    if [KEY_ID_HEADER, SIGNATURE_HEADER].iter().any(|name| headers.get_all(*name).iter().count() > 1) {
        return Err(ApiError::bad_request("a report names one key and one signature, each once"));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (reporter, by) = match header(KEY_ID_HEADER) {
        Some(key_id) => {
            let signer = state.leaks.signer(key_id, header(SIGNATURE_HEADER), &body)?;
            let claimed = body.clone();
            if !run(&state, move |a| Ok(a.claim_leak_report(&claimed)?)).await? {
                return Err(ApiError::Refused {
                    status: StatusCode::CONFLICT,
                    code: "replayed",
                    message: "this signed report was accepted before; it is not taken again".into(),
                });
            }
            (signer, AuditActor::Signer { key_id: key_id.to_owned() })
        }
        None => {
            let caller = presented.at(&state, REPORT_LEAK, "/".to_owned()).await?;
            let by = AuditActor::Token { token: caller.token, principal: caller.principal, name: caller.name.clone() };
            (format!("token of {}", caller.name), by)
        }
    };
    let entries = entries_of(&body)?;
    let answers = run(&state, move |a| Ok(a.report_leaks(&entries, &reporter, &by, client)?)).await?;
    Ok(Json(answers).into_response())
}
