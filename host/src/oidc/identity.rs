//! An identity token, validated: size, a header naming an accepted asymmetric
//! algorithm and a key id, the issuer configured, the signature by the
//! issuer's key of that id (its type matching the algorithm), `aud`, `exp`,
//! `nbf` and `iat` within the leeway, and the claims rules read of the right
//! type. Only then are its claims trusted.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::error::{OidcError, shown};
use super::keys::Keys;
use super::strict_json::Strictness;
use crate::config::IssuerConfig;
use crate::time::UnixTime;

/// The longest identity token read (real ones are 1 to 2 KiB).
pub const MAX_TOKEN_BYTES: usize = 16 << 10;

/// A configured issuer and its keys.
pub struct Issuer {
    /// As configured.
    pub config: IssuerConfig,
    /// Its key set.
    pub keys: Keys,
}

/// The algorithms an identity token may be signed with.
const ACCEPTED: &[Algorithm] = &[Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// A validated identity.
#[derive(Clone, Debug)]
pub struct Identity {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// When the identity token expires (`exp`).
    pub expires_at: UnixTime,
    /// Every claim, for the rules.
    pub claims: Map<String, Value>,
}

/// The `iss` of `token`, read before the signature is checked only to find the
/// issuer whose key checks it.
fn unverified_issuer(token: &str) -> Result<String, OidcError> {
    let claims: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(malformed)?;
    match claims.get("iss") {
        Some(Value::String(iss)) => Ok(iss.clone()),
        Some(_) => Err(OidcError::ClaimType("iss".into())),
        None => Err(OidcError::MissingClaim("iss".into())),
    }
}

fn malformed(err: jsonwebtoken::errors::Error) -> OidcError {
    OidcError::Malformed(err.to_string())
}

/// The SHA-256 of a JWT's signed part (`header.payload`): the same for every
/// signature of it (an ECDSA signature has two valid forms), so an identity
/// token is known again however its signature is spelled.
pub fn signed_part_digest(token: &str) -> [u8; 32] {
    use sha2::Digest;
    let signed = token.rsplit_once('.').map_or(token, |(signed, _)| signed);
    sha2::Sha256::digest(signed.as_bytes()).into()
}

/// Validates `token` against `issuers` at `now` with `leeway`.
pub fn validate(token: &str, issuers: &[Issuer], now: UnixTime, leeway: Duration) -> Result<Identity, OidcError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(OidcError::TooLarge(token.len(), MAX_TOKEN_BYTES));
    }
    match super::strict_json::check_token(token) {
        Ok(()) => {}
        Err(Strictness::Duplicate(name)) => return Err(OidcError::DuplicateMember(shown(&name, 80))),
        Err(Strictness::Unreadable(why)) => return Err(OidcError::Malformed(why)),
    }
    let header = jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
        // An algorithm the library does not know (`none` among them).
        ErrorKind::Json(_) if token.split('.').next().is_some_and(|h| !h.is_empty()) => {
            OidcError::Algorithm("an unknown algorithm".into())
        }
        _ => malformed(e),
    })?;
    if !ACCEPTED.contains(&header.alg) {
        return Err(OidcError::Algorithm(format!("{:?}", header.alg)));
    }
    let kid = header.kid.ok_or_else(|| OidcError::MissingClaim("kid (header)".into()))?;
    let iss = unverified_issuer(token)?;
    let issuer =
        issuers.iter().find(|i| i.config.issuer == iss).ok_or_else(|| OidcError::UnknownIssuer(shown(&iss, 200)))?;
    let jwk = issuer.keys.key(&kid)?;
    // A key published for one algorithm is used for that one only.
    if let Some(alg) = jwk.common.key_algorithm
        && Algorithm::try_from(alg).ok() != Some(header.alg)
    {
        return Err(OidcError::Algorithm(format!("{:?} with a key for {alg:?}", header.alg)));
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| OidcError::Keys(format!("key `{kid}`: {e}")))?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = leeway.as_secs();
    validation.validate_nbf = true;
    validation.set_issuer(&[&issuer.config.issuer]);
    validation.set_audience(&[&issuer.config.audience]);
    // `exp` is required below, after its type: a text `exp` is `invalid-claim`, not missing.
    validation.set_required_spec_claims(&["iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(|e| match e.kind() {
        ErrorKind::InvalidSignature => OidcError::Signature,
        ErrorKind::ExpiredSignature => OidcError::Expired,
        ErrorKind::ImmatureSignature => OidcError::NotYetValid,
        ErrorKind::InvalidAudience => OidcError::Audience(issuer.config.audience.clone()),
        ErrorKind::InvalidIssuer => OidcError::UnknownIssuer(shown(&iss, 200)),
        ErrorKind::MissingRequiredClaim(claim) => OidcError::MissingClaim(claim.clone()),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            OidcError::Algorithm(format!("{:?} with this key", header.alg))
        }
        ErrorKind::InvalidClaimFormat(claim) => OidcError::ClaimType(claim.clone()),
        _ => malformed(e),
    })?;
    let claims = data.claims;
    let number = |name: &str| -> Result<Option<u64>, OidcError> {
        match claims.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| OidcError::ClaimType(name.into())),
            Some(_) => Err(OidcError::ClaimType(name.into())),
        }
    };
    let exp = number("exp")?.ok_or_else(|| OidcError::MissingClaim("exp".into()))?;
    let iat = number("iat")?.ok_or_else(|| OidcError::MissingClaim("iat".into()))?;
    number("nbf")?;
    if iat > now.secs().saturating_add(leeway.as_secs()) {
        return Err(OidcError::NotYetValid);
    }
    // The library checks exp against the system clock; the host's clock decides too.
    if exp.saturating_add(leeway.as_secs()) <= now.secs() {
        return Err(OidcError::Expired);
    }
    let subject = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
        Some(Value::String(_)) | None => return Err(OidcError::MissingClaim("sub".into())),
        Some(_) => return Err(OidcError::ClaimType("sub".into())),
    };
    Ok(Identity { issuer: iss, subject, expires_at: UnixTime::from_secs(exp), claims })
}
