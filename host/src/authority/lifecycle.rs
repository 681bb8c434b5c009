//! Issuing and managing tokens: create (the policy's issuance check decides),
//! reissue (new secret, the old one dead at once), edit, revoke, delete. Expiry
//! follows the operator's rules: a default lifetime, a maximum, and no-expiry only
//! where the config allows it. A request made with a token (the API) stays within
//! that token: its grants (decided by the policy) and its lifetime.

use std::time::Duration;

use crate::contract::{Grants, ResourceGrant};
use crate::secret::Secret;
use crate::store::{Edited, NewToken, Principal, StoredGrants, TokenEdit, TokenId, TokenOrigin, TokenRecord};
use crate::time::UnixTime;

use super::rights::owner_rights;
use super::{Authority, LifecycleError, RefusalCode};

/// When a token should expire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// The configured default lifetime (one year unless configured).
    Default,
    /// At this time.
    At(UnixTime),
    /// This long from now.
    Ttl(Duration),
    /// Never, where the config allows it.
    Never,
}

/// A token to create.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    /// Who will own it (and is its creator): the grants must be within its rights.
    pub owner: String,
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// When it expires.
    pub expiry: Expiry,
    /// What it may do, as asked for (the policy normalises them).
    pub grants: Grants,
    /// The token the request was made with (the API); `None` for the operator (the CLI).
    pub asked_by: Option<TokenId>,
    /// Where the request came from, when it is an identity token exchange.
    pub origin: Option<TokenOrigin>,
}

/// A change to one token, made at once or not at all.
#[derive(Clone, Debug, Default)]
pub struct TokenChange {
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new expiry.
    pub expiry: Option<Expiry>,
    /// Issue a new secret; the old one is dead once the change is stored.
    pub reissue: bool,
}

/// What a request made with a token may not exceed: that token's grants and lifetime.
pub(super) struct Ceiling {
    id: TokenId,
    grants: Grants,
    expires_at: Option<UnixTime>,
}

/// A token just created or reissued: the only time its secret is available.
pub struct Issued {
    /// The token as stored.
    pub record: TokenRecord,
    /// Its secret, shown this once.
    pub secret: Secret,
}

const MAX_NAME: usize = 128;
const MAX_DESCRIPTION: usize = 1024;

fn refused(code: RefusalCode, message: impl Into<String>) -> LifecycleError {
    LifecycleError::Refused { code, message: message.into() }
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), LifecycleError> {
    if text.chars().count() > max || text.chars().any(|c| c.is_control() || is_format(c)) {
        return Err(LifecycleError::Invalid(format!(
            "the {what} must be at most {max} characters with no control or format characters \
             (bidi overrides, zero-width characters)"
        )));
    }
    Ok(())
}

/// Unicode format characters (category Cf) that can make a name display as
/// another: bidi embeddings, overrides and isolates, zero-width characters, the
/// BOM, soft hyphen and invisible operators.
pub(crate) fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

impl Authority {
    /// The principal named `name`.
    pub fn principal(&self, name: &str) -> Result<Principal, LifecycleError> {
        self.store.principal(name)?.ok_or_else(|| LifecycleError::NotFound(format!("principal `{name}`")))
    }

    /// The rights `principal` holds now: its grants and its roles at their nodes.
    pub fn owner_rights(&self, principal: &Principal) -> Result<Vec<ResourceGrant>, LifecycleError> {
        Ok(owner_rights(principal, &self.config.roles)?)
    }

    /// The token with id `id`.
    pub fn token(&self, id: TokenId) -> Result<TokenRecord, LifecycleError> {
        self.store.token(id)?.ok_or_else(|| LifecycleError::NotFound(format!("token {id}")))
    }

    /// The tokens `owner` owns, or every token; never a secret.
    pub fn tokens(&self, owner: Option<&Principal>) -> Result<Vec<TokenRecord>, LifecycleError> {
        Ok(self.store.tokens(owner.map(|p| p.id))?)
    }

    /// Creates a token for `request.owner`, who is also its creator: the grants
    /// must pass the policy's issuance check against the owner's current rights.
    pub fn create_token(&self, request: &IssueRequest) -> Result<Issued, LifecycleError> {
        if request.name.trim().is_empty() {
            return Err(LifecycleError::Invalid("a token needs a name".into()));
        }
        check_text("name", &request.name, MAX_NAME)?;
        check_text("description", &request.description, MAX_DESCRIPTION)?;
        let now = self.now();
        let ceiling = self.ceiling(request.asked_by)?;
        let expires_at = self.resolve_expiry(request.expiry, now)?;
        let expires_at = capped(expires_at, request.expiry, ceiling.as_ref())?;
        let owner = self.principal(&request.owner)?;
        let rights = self.owner_rights(&owner)?;
        let normalized = self.issuable(&rights, &request.grants, ceiling.as_ref())?;
        let secret = Secret::generate()?;
        let token = NewToken {
            owner: owner.id,
            name: request.name.clone(),
            description: request.description.clone(),
            hash: secret.hash(),
            hint: secret.hint(),
            grants: StoredGrants::from_grants(&normalized),
            created_at: now,
            expires_at,
            origin: request.origin.clone(),
        };
        let id = self.store.insert_token(&token)?;
        self.caches.token_changed(id, Some(&token.hash));
        tracing::info!(token = id.get(), owner = %owner.name, name = %request.name, "token created");
        Ok(Issued { record: self.token(id)?, secret })
    }

    /// A new secret for the token; the old secret is dead once this returns.
    pub fn reissue_token(&self, id: TokenId) -> Result<Issued, LifecycleError> {
        let (record, secret) = self.change_token(id, TokenChange { reissue: true, ..TokenChange::default() }, None)?;
        let secret = secret.ok_or_else(|| LifecycleError::Invalid("no secret was issued".into()))?;
        Ok(Issued { record, secret })
    }

    /// Renames, describes and/or changes the expiry of a token, as the operator.
    pub fn edit_token(
        &self,
        id: TokenId,
        name: Option<String>,
        description: Option<String>,
        expiry: Option<Expiry>,
    ) -> Result<TokenRecord, LifecycleError> {
        self.change_token(id, TokenChange { name, description, expiry, reissue: false }, None).map(|(record, _)| record)
    }

    /// Renames, describes, changes the expiry of and/or reissues a token, all at
    /// once or not at all. Asked by a token (`asked_by`), the token changed must be
    /// within the asking one (grants and lifetime) unless it is that token, and no
    /// new expiry may outlive the asking token. A concurrent change of the same
    /// token makes this one a `Conflict`.
    pub fn change_token(
        &self,
        id: TokenId,
        change: TokenChange,
        asked_by: Option<TokenId>,
    ) -> Result<(TokenRecord, Option<Secret>), LifecycleError> {
        if let Some(name) = &change.name {
            if name.trim().is_empty() {
                return Err(LifecycleError::Invalid("a token needs a name".into()));
            }
            check_text("name", name, MAX_NAME)?;
        }
        if let Some(description) = &change.description {
            check_text("description", description, MAX_DESCRIPTION)?;
        }
        let record = self.token(id)?;
        let ceiling = self.ceiling(asked_by)?;
        if change.reissue && record.revoked_at.is_some() {
            return Err(refused(RefusalCode::Revoked, format!("token {id} is revoked; create a new one")));
        }
        let expires_at = match change.expiry {
            Some(expiry) => {
                let at = self.resolve_expiry(expiry, self.now())?;
                Some(capped(at, expiry, ceiling.as_ref())?)
            }
            None => None,
        };
        if let Some(ceiling) = ceiling.as_ref().filter(|c| c.id != id) {
            self.within_ceiling(&record, expires_at.unwrap_or(record.expires_at), ceiling)?;
        }
        let secret = if change.reissue { Some(Secret::generate()?) } else { None };
        let edit = TokenEdit {
            name: change.name,
            description: change.description,
            expires_at,
            secret: secret.as_ref().map(|s| (s.hash(), s.hint())),
            revision: Some(record.revision),
        };
        let edited = self.store.edit_token(id, &edit);
        self.caches.token_changed(id, edit.secret.as_ref().map(|(hash, _)| hash));
        match edited? {
            Edited::Done => {}
            Edited::NotFound => return Err(LifecycleError::NotFound(format!("token {id}"))),
            Edited::Conflict => {
                return Err(LifecycleError::Conflict(format!(
                    "token {id} was changed by another request at the same time; nothing was changed"
                )));
            }
        }
        if secret.is_some() {
            tracing::info!(token = id.get(), "token reissued");
        }
        Ok((self.token(id)?, secret))
    }

    /// The grants and lifetime of the token a request was made with.
    fn ceiling(&self, asked_by: Option<TokenId>) -> Result<Option<Ceiling>, LifecycleError> {
        let Some(id) = asked_by else { return Ok(None) };
        let record = self.token(id)?;
        if record.revoked_at.is_some() {
            return Err(refused(RefusalCode::Revoked, "the token that asked is revoked"));
        }
        let grants = record.grants.to_grants()?;
        Ok(Some(Ceiling { id, grants, expires_at: record.expires_at }))
    }

    /// The policy's issuance check: `requested` within `rights`, and within the
    /// asking token's grants when a token asked; the normalised grants.
    pub(super) fn issuable(
        &self,
        rights: &[ResourceGrant],
        requested: &Grants,
        ceiling: Option<&Ceiling>,
    ) -> Result<Grants, LifecycleError> {
        match self.policy.active().check_grants(rights, requested, ceiling.map(|c| &c.grants)) {
            Ok(Ok(grants)) => Ok(grants),
            Ok(Err(denial)) => Err(refused(RefusalCode::Policy(denial.code), denial.message)),
            Err(fault) => Err(refused(RefusalCode::PolicyFault, fault.message)),
        }
    }

    /// A token changed by another one must hold no more than the one that asks:
    /// its grants within the asker's, and it must not outlive the asker.
    fn within_ceiling(
        &self,
        record: &TokenRecord,
        expires_at: Option<UnixTime>,
        ceiling: &Ceiling,
    ) -> Result<(), LifecycleError> {
        let owner = self.store.principal_by_id(record.owner)?;
        let rights = match &owner {
            Some(owner) => self.owner_rights(owner)?,
            None => Vec::new(),
        };
        let grants = record.grants.to_grants()?;
        self.issuable(&rights, &grants, Some(ceiling)).map_err(|err| match err {
            LifecycleError::Refused { code, message } => refused(
                code,
                format!("token {} holds more than the token that asked, which may not change it: {message}", record.id),
            ),
            other => other,
        })?;
        if let Some(cap) = ceiling.expires_at
            && expires_at.is_none_or(|at| at > cap)
        {
            return Err(refused(
                RefusalCode::ExpiryBeyondCaller,
                format!("token {} would outlive the token that asked, which may not change it", record.id),
            ));
        }
        Ok(())
    }

    /// Revokes a token: refused from its next use on.
    pub fn revoke_token(&self, id: TokenId) -> Result<TokenRecord, LifecycleError> {
        // Forgotten whatever the store answered: a failed write may still have landed.
        let revoked = self.store.revoke_token(id, self.now());
        self.caches.token_changed(id, None);
        if !revoked? {
            return Err(LifecycleError::NotFound(format!("token {id}")));
        }
        tracing::info!(token = id.get(), "token revoked");
        self.token(id)
    }

    /// Deletes a token: its secret is unknown from then on.
    pub fn delete_token(&self, id: TokenId) -> Result<(), LifecycleError> {
        let deleted = self.store.delete_token(id);
        self.caches.token_changed(id, None);
        if !deleted? {
            return Err(LifecycleError::NotFound(format!("token {id}")));
        }
        tracing::info!(token = id.get(), "token deleted");
        Ok(())
    }

    /// Live tokens that expire within `window` from now.
    pub fn expiring_tokens(&self, window: Duration) -> Result<Vec<TokenRecord>, LifecycleError> {
        let now = self.now();
        Ok(self.store.expiring(now, now.saturating_add(window))?)
    }

    fn resolve_expiry(&self, expiry: Expiry, now: UnixTime) -> Result<Option<UnixTime>, LifecycleError> {
        let rules = &self.config.tokens;
        let at = match expiry {
            Expiry::Never if rules.allow_no_expiry => return Ok(None),
            Expiry::Never => {
                return Err(refused(
                    RefusalCode::NoExpiryNotAllowed,
                    "tokens without expiry are not allowed here (tokens.allow_no_expiry)",
                ));
            }
            Expiry::Default => now.saturating_add(rules.default_ttl),
            Expiry::Ttl(ttl) => now.saturating_add(ttl),
            Expiry::At(at) => at,
        };
        let Some(lifetime) = at.since(now).filter(|d| !d.is_zero()) else {
            return Err(refused(RefusalCode::ExpiryInPast, "the expiry must be in the future"));
        };
        if lifetime.as_secs() > rules.max_ttl.as_secs() {
            let max_days = rules.max_ttl.as_secs() / 86_400;
            return Err(refused(
                RefusalCode::ExpiryTooLong,
                format!("the expiry is further away than the maximum of {max_days} days"),
            ));
        }
        Ok(Some(at))
    }
}

/// An expiry no later than the asking token's: the default lifetime is shortened
/// to it; an explicit later expiry, or none, is refused.
fn capped(
    expires_at: Option<UnixTime>,
    asked: Expiry,
    ceiling: Option<&Ceiling>,
) -> Result<Option<UnixTime>, LifecycleError> {
    let Some(cap) = ceiling.and_then(|c| c.expires_at) else { return Ok(expires_at) };
    match expires_at {
        Some(at) if at <= cap => Ok(Some(at)),
        Some(_) if asked == Expiry::Default => Ok(Some(cap)),
        _ => Err(refused(
            RefusalCode::ExpiryBeyondCaller,
            format!(
                "the expiry is later than that of the token that asked (@{}); a token cannot outlive it",
                cap.secs()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_hidden_characters_and_count_characters() {
        for hidden in ["a\u{202E}gpj.exe", "a\u{200B}b", "\u{FEFF}x", "a\u{2066}b", "x\u{E0041}", "a\nb", "a\u{7f}"] {
            assert!(check_text("name", hidden, MAX_NAME).is_err(), "{hidden:?}");
        }
        assert!(check_text("name", "ci-uploader (main)", MAX_NAME).is_ok());
        // The limit counts characters, as the API document says, not bytes.
        assert!(check_text("name", &"é".repeat(MAX_NAME), MAX_NAME).is_ok());
        assert!(check_text("name", &"é".repeat(MAX_NAME + 1), MAX_NAME).is_err());
    }
}
