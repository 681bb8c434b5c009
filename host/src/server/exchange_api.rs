//! `POST /api/auth/exchange`: an OIDC identity token (RFC 8693 form fields
//! `subject_token` and, when given, `grant_type` and `subject_token_type`, or
//! JSON `{"subject_token": ...}`) for a short-lived tokenscope secret. The
//! identity token is the credential: no other token is needed. The decision log
//! names the issuer, subject and rule; never the identity token or the secret.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::api_body::TokenView;
use super::blocking::blocking;
use super::client_info::ClientOf;
use super::error::{json_error, lifecycle_error};
use crate::oidc::{ExchangeError, OidcError};

/// RFC 8693's grant type and the token types we take and give.
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_TYPES: &[&str] = &["urn:ietf:params:oauth:token-type:jwt", "urn:ietf:params:oauth:token-type:id_token"];
const ISSUED_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The largest body read: room for a too-large identity token to be refused
/// as such (401), not as a too-large body.
pub const MAX_BODY: usize = 2 << 20;

#[derive(Deserialize)]
struct JsonBody {
    subject_token: String,
}

/// Why a request carries no identity token to look at.
struct BadRequest(StatusCode, &'static str, String);

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        json_error(self.0, self.1, &self.2)
    }
}

/// The identity token in `body`.
fn subject_token(headers: &HeaderMap, body: &[u8]) -> Result<String, BadRequest> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let bad = |message: &str| BadRequest(StatusCode::BAD_REQUEST, "bad-request", message.to_owned());
    match essence.as_str() {
        "application/json" => serde_json::from_slice::<JsonBody>(body)
            .map(|b| b.subject_token)
            .map_err(|_| bad("the JSON body must be {\"subject_token\": \"<identity token>\"}")),
        "application/x-www-form-urlencoded" => {
            let mut token = None;
            for (key, value) in form_urlencoded::parse(body) {
                match key.as_ref() {
                    "subject_token" if token.is_some() => return Err(bad("`subject_token` is given twice")),
                    "subject_token" => token = Some(value.into_owned()),
                    "grant_type" if value != GRANT_TYPE => {
                        return Err(bad(&format!("`grant_type` must be `{GRANT_TYPE}`")));
                    }
                    "subject_token_type" if !JWT_TYPES.contains(&value.as_ref()) => {
                        return Err(bad("`subject_token_type` must name a JWT or an ID token"));
                    }
                    _ => {}
                }
            }
            token.ok_or_else(|| bad("the form has no `subject_token`"))
        }
        _ => Err(BadRequest(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send a form (`application/x-www-form-urlencoded`) or JSON".to_owned(),
        )),
    }
}

fn refused(err: &OidcError) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    json_error(status, err.code(), &err.to_string())
}

/// `POST /api/auth/exchange`
pub async fn exchange(
    State(state): State<Arc<AppState>>,
    ClientOf(client): ClientOf,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = match subject_token(&headers, &body) {
        Ok(token) => token,
        Err(bad) => return bad.into_response(),
    };
    let exchanger = Arc::clone(&state.oidc);
    if !exchanger.configured() {
        return json_error(StatusCode::NOT_FOUND, "not-configured", "no OIDC issuer is configured ([[oidc.issuers]])");
    }
    let outcome = blocking(&state, move |authority| {
        let result = exchanger.exchange(authority, token.trim(), client);
        let logged = match &result {
            Ok((issued, matched)) => {
                tracing::info!(
                    target: "tokenscope::exchange",
                    // Debug-quoted: text from the token cannot break the line.
                    issuer = ?matched.identity.issuer,
                    subject = ?matched.identity.subject,
                    rule = %matched.rule.label(),
                    token = issued.record.id.get(),
                    expires_at = matched.expires_at.secs(),
                    "identity token exchanged"
                );
                Ok(())
            }
            Err(err) => Err(err.to_string()),
        };
        if let Err(why) = logged {
            tracing::warn!(target: "tokenscope::exchange", "identity token exchange refused: {why}");
        }
        result.map(|(issued, matched)| (issued, matched.expires_at))
    })
    .await;
    let (issued, expires_at) = match outcome {
        Ok(Ok(done)) => done,
        Ok(Err(ExchangeError::Identity(err))) => return refused(&err),
        Ok(Err(ExchangeError::Mint(err))) => return lifecycle_error(err),
        Err(lost) => return lost.into_response(),
    };
    let expires_in = expires_at.secs().saturating_sub(state.authority.now().secs());
    let view = TokenView { token: &issued.record, secret: None };
    let mut response = Json(json!({
        "access_token": issued.secret.expose(),
        "issued_token_type": ISSUED_TYPE,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "expires_at": expires_at.secs(),
        "token": view,
    }))
    .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}
