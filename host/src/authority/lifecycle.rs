//! Issuing and managing tokens: create (the policy's issuance check decides),
//! reissue (new secret, the old one dead at once), edit, revoke, delete. Expiry
//! follows the operator's rules: a default lifetime, a maximum, and no-expiry only
//! where the config allows it. Every operation names its actor; the actor must
//! hold `user.token:edit` on the owner's node, and whatever hands out or widens
//! a secret goes through the one ceiling (`ceiling.rs`).

use std::time::Duration;

use super::actions::{TOKEN_EDIT, user_node};
use serde_json::json;

use super::audit::{Acted, refusal_of, token_fields};
use super::ceiling::{Actor, Ceiling};
use super::{Authority, LifecycleError, RefusalCode};
use crate::audit::{AuditActor, AuditEvent};
use crate::contract::{Grants, ResourceGrant};
use crate::secret::Secret;
use crate::store::{
    Edited, ExchangeOnce, Exchanged, NewToken, Principal, PrincipalId, StoredGrants, TokenEdit, TokenId, TokenOrigin,
    TokenRecord,
};
use crate::time::UnixTime;

use super::rights::owner_rights;

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
    /// What an identity token exchange adds (and only an exchange).
    pub exchange: Option<ExchangeFacts>,
}

/// What an identity token exchange adds to a token request.
#[derive(Clone, Debug)]
pub struct ExchangeFacts {
    /// Where the token came from: issuer, subject and rule.
    pub origin: TokenOrigin,
    /// The identity token, exchanged once, and the owner's cap of live exchanged tokens.
    pub once: ExchangeOnce,
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

    /// Creates a token for `request.owner`, by `actor`: the actor must hold
    /// `user.token:edit` on the owner's node, and the grants and expiry pass the
    /// ceiling (the owner's current rights, the asking token, and the acting
    /// principal's own current rights when it is not the owner).
    pub fn create_token(&self, by: impl Into<Acted>, request: &IssueRequest) -> Result<Issued, LifecycleError> {
        let by = by.into();
        let result = self.issue(&by, request);
        if let Err(err) = &result
            && let Some(code) = refusal_of(err)
        {
            let mut event = self.creation_event(&by, None, request).refused(&code);
            event.owner = self.store.principal(&request.owner).ok().flatten().map(|p| p.id);
            self.record_event(&event);
        }
        result
    }

    /// The event of creating `request`'s token (the store adds its id and
    /// what it stored); an exchange's actor is the identity token's issuer,
    /// subject and rule.
    fn creation_event(&self, by: &Acted, ceiling: Option<&Ceiling>, request: &IssueRequest) -> AuditEvent {
        let action = if request.exchange.is_some() { "oidc.exchange" } else { "token.create" };
        let mut event = self.event(by, ceiling, action, format!("principal/{}", request.owner));
        if let Some(exchange) = &request.exchange {
            let TokenOrigin { issuer, subject, rule } = exchange.origin.clone();
            event.actor = AuditActor::Oidc { issuer, subject, rule };
        }
        event
    }

    fn issue(&self, by: &Acted, request: &IssueRequest) -> Result<Issued, LifecycleError> {
        let actor = by.actor;
        if request.name.trim().is_empty() {
            return Err(LifecycleError::Invalid("a token needs a name".into()));
        }
        check_text("name", &request.name, MAX_NAME)?;
        check_text("description", &request.description, MAX_DESCRIPTION)?;
        if (actor == Actor::Exchange) != request.exchange.is_some() {
            return Err(LifecycleError::Invalid("only an identity token exchange mints an exchanged token".into()));
        }
        let now = self.now();
        let ceiling = self.ceiling(actor)?;
        let owner = self.principal(&request.owner)?;
        if actor != Actor::Exchange {
            self.authorize(&ceiling, TOKEN_EDIT, &user_node(&owner.name))?;
        }
        let expires_at = self.resolve_expiry(request.expiry, now)?;
        let expires_at = default_within(expires_at, request.expiry, &ceiling);
        let normalized = self.admit(&ceiling, &owner, &request.grants, expires_at)?;
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
            origin: request.exchange.as_ref().map(|e| e.origin.clone()),
        };
        let audit = self.creation_event(by, Some(&ceiling), request);
        let id = match &request.exchange {
            None => self.store.insert_token(&token, &audit)?,
            Some(exchange) => match self.store.insert_exchanged(&token, &exchange.once, now, &audit)? {
                Exchanged::Stored(id) => id,
                Exchanged::Replayed => {
                    return Err(refused(
                        RefusalCode::IdentityReplayed,
                        "this identity token was exchanged before: each is exchanged once",
                    ));
                }
                Exchanged::AtCapacity => {
                    return Err(refused(
                        RefusalCode::TooManyLive,
                        format!(
                            "`{}` holds {} live exchanged tokens, the most its rule allows (oidc.rules.max_live)",
                            owner.name, exchange.once.max_live
                        ),
                    ));
                }
            },
        };
        self.caches.token_changed(id, Some(&token.hash));
        tracing::info!(token = id.get(), owner = %owner.name, name = %request.name, "token created");
        Ok(Issued { record: self.token(id)?, secret })
    }

    /// A new secret for token `id`, by `actor`; the old secret is dead once
    /// this returns.
    pub fn reissue_token(&self, by: impl Into<Acted>, id: TokenId) -> Result<Issued, LifecycleError> {
        let change = TokenChange { reissue: true, ..TokenChange::default() };
        let (record, secret) = self.change_token(by, id, None, change)?;
        let secret = secret.ok_or_else(|| LifecycleError::Invalid("no secret was issued".into()))?;
        Ok(Issued { record, secret })
    }

    /// Renames, describes, changes the expiry of and/or reissues token `id`
    /// (of `owner`, when the request names whose it is), by `actor`, all at once
    /// or not at all. A change that hands out a secret (reissue) or widens what
    /// one may do (a later expiry, or none) goes through the ceiling, as create
    /// does; so does any change of one token by another (a token never changes
    /// what holds more than itself). A concurrent change of the same token
    /// makes this one a `Conflict`.
    pub fn change_token(
        &self,
        by: impl Into<Acted>,
        id: TokenId,
        owner: Option<&str>,
        change: TokenChange,
    ) -> Result<(TokenRecord, Option<Secret>), LifecycleError> {
        let by = by.into();
        let action = if change.reissue { "token.reissue" } else { "token.edit" };
        let result = self.change(&by, action, id, owner, change);
        self.noted(&by, action, format!("token/{id}"), self.owner_of(id), result)
    }

    /// Whose token `id` is, for a refused attempt's event (none when it is gone).
    fn owner_of(&self, id: TokenId) -> Option<PrincipalId> {
        self.store.token(id).ok().flatten().map(|t| t.owner)
    }

    fn change(
        &self,
        by: &Acted,
        action: &str,
        id: TokenId,
        owner: Option<&str>,
        change: TokenChange,
    ) -> Result<(TokenRecord, Option<Secret>), LifecycleError> {
        let actor = by.actor;
        if let Some(name) = &change.name {
            if name.trim().is_empty() {
                return Err(LifecycleError::Invalid("a token needs a name".into()));
            }
            check_text("name", name, MAX_NAME)?;
        }
        if let Some(description) = &change.description {
            check_text("description", description, MAX_DESCRIPTION)?;
        }
        let ceiling = self.ceiling(actor)?;
        let record = self.addressed(&ceiling, id, owner)?;
        if let (true, Some(leak)) = (change.reissue, &record.leak) {
            return Err(refused(
                RefusalCode::Leaked,
                format!("token {id} was reported leaked at {}; create a new one", leak.url),
            ));
        }
        if change.reissue && record.revoked_at.is_some() {
            return Err(refused(RefusalCode::Revoked, format!("token {id} is revoked; create a new one")));
        }
        let expires_at = match change.expiry {
            Some(expiry) => Some(self.resolve_expiry(expiry, self.now())?),
            None => None,
        };
        let after = expires_at.unwrap_or(record.expires_at);
        let later = match (after, record.expires_at) {
            (None, Some(_)) => true,
            (Some(new), Some(old)) => new > old,
            _ => false,
        };
        let by_another = ceiling.asking_id().is_some_and(|asking| asking != id);
        if change.reissue || later || by_another {
            let owner = self
                .store
                .principal_by_id(record.owner)?
                .ok_or_else(|| LifecycleError::NotFound(format!("the owner of token {id}")))?;
            let grants = record.grants.to_grants()?;
            self.admit(&ceiling, &owner, &grants, after).map_err(|err| {
                err.explained(|| format!("token {id} may not be reissued, extended or changed by this actor"))
            })?;
        }
        // Otherwise a token changes only itself, and nothing later than it was:
        // within its own lifetime already.
        let secret = if change.reissue { Some(Secret::generate()?) } else { None };
        let edit = TokenEdit {
            name: change.name,
            description: change.description,
            expires_at,
            secret: secret.as_ref().map(|s| (s.hash(), s.hint())),
            revision: Some(record.revision),
        };
        let (before, after) = edit_change(&record, &edit);
        let audit = self
            .event(by, Some(&ceiling), action, format!("token/{id}"))
            .with_owner(record.owner)
            .with_change(Some(before), Some(after));
        let edited = self.store.edit_token(id, &edit, &audit);
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

    /// Token `id`, when it is `owner`'s (if the request names an owner) and the
    /// actor may edit its owner's tokens; another principal's token is not found.
    fn addressed(&self, ceiling: &Ceiling, id: TokenId, owner: Option<&str>) -> Result<TokenRecord, LifecycleError> {
        let record = self.token(id)?;
        if owner.is_some_and(|owner| owner != record.owner_name) {
            return Err(LifecycleError::NotFound(format!("token {id}")));
        }
        self.authorize(ceiling, TOKEN_EDIT, &user_node(&record.owner_name))?;
        Ok(record)
    }

    /// The policy's issuance check: `requested` within `rights`, and within the
    /// grants `caller` when a token asked; the normalised grants.
    pub(super) fn issuable(
        &self,
        rights: &[ResourceGrant],
        requested: &Grants,
        caller: Option<&Grants>,
    ) -> Result<Grants, LifecycleError> {
        match self.policy.active().check_grants(rights, requested, caller) {
            Ok(Ok(grants)) => Ok(grants),
            Ok(Err(denial)) => Err(refused(RefusalCode::Policy(denial.code), denial.message)),
            Err(fault) => Err(refused(RefusalCode::PolicyFault, fault.message)),
        }
    }

    /// Revokes token `id` (of `owner`, when the request names whose), by
    /// `actor`: refused from its next use on.
    pub fn revoke_token(
        &self,
        by: impl Into<Acted>,
        id: TokenId,
        owner: Option<&str>,
    ) -> Result<TokenRecord, LifecycleError> {
        let by = by.into();
        let result = self.revoke(&by, id, owner);
        self.noted(&by, "token.revoke", format!("token/{id}"), self.owner_of(id), result)
    }

    fn revoke(&self, by: &Acted, id: TokenId, owner: Option<&str>) -> Result<TokenRecord, LifecycleError> {
        let ceiling = self.ceiling(by.actor)?;
        let record = self.addressed(&ceiling, id, owner)?;
        let now = self.now();
        let audit =
            self.event(by, Some(&ceiling), "token.revoke", format!("token/{id}")).with_owner(record.owner).with_change(
                Some(json!({"revoked_at": record.revoked_at})),
                Some(json!({"revoked_at": record.revoked_at.unwrap_or(now)})),
            );
        // Forgotten whatever the store answered: a failed write may still have landed.
        let revoked = self.store.revoke_token(id, now, &audit);
        self.caches.token_changed(id, None);
        if !revoked? {
            return Err(LifecycleError::NotFound(format!("token {id}")));
        }
        tracing::info!(token = id.get(), "token revoked");
        self.token(id)
    }

    /// Deletes token `id` (of `owner`, when the request names whose), by
    /// `actor`: its secret is unknown from then on.
    pub fn delete_token(&self, by: impl Into<Acted>, id: TokenId, owner: Option<&str>) -> Result<(), LifecycleError> {
        let by = by.into();
        let result = self.delete(&by, id, owner);
        self.noted(&by, "token.delete", format!("token/{id}"), self.owner_of(id), result)
    }

    fn delete(&self, by: &Acted, id: TokenId, owner: Option<&str>) -> Result<(), LifecycleError> {
        let ceiling = self.ceiling(by.actor)?;
        let record = self.addressed(&ceiling, id, owner)?;
        let audit = self
            .event(by, Some(&ceiling), "token.delete", format!("token/{id}"))
            .with_owner(record.owner)
            .with_change(Some(token_fields(&record)), None);
        let deleted = self.store.delete_token(id, &audit);
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

/// What an edit changes, before and after: only the fields it sets (a new
/// secret shows as its hint, never the secret or its hash).
fn edit_change(record: &TokenRecord, edit: &TokenEdit) -> (serde_json::Value, serde_json::Value) {
    let (mut before, mut after) = (serde_json::Map::new(), serde_json::Map::new());
    let mut put = |field: &str, old: serde_json::Value, new: serde_json::Value| {
        before.insert(field.to_owned(), old);
        after.insert(field.to_owned(), new);
    };
    if let Some(name) = &edit.name {
        put("name", json!(record.name), json!(name));
    }
    if let Some(description) = &edit.description {
        put("description", json!(record.description), json!(description));
    }
    if let Some(expires_at) = edit.expires_at {
        put("expires_at", json!(record.expires_at), json!(expires_at));
    }
    if let Some((_, hint)) = &edit.secret {
        put("hint", json!(record.hint), json!(hint));
    }
    (before.into(), after.into())
}

/// The default lifetime, shortened to the asking token's when that ends
/// sooner; an explicit expiry is left for the ceiling to judge.
fn default_within(expires_at: Option<UnixTime>, asked: Expiry, ceiling: &Ceiling) -> Option<UnixTime> {
    let cap = ceiling.asking.as_ref().and_then(|a| a.expires_at);
    match (expires_at, cap) {
        (Some(at), Some(cap)) if asked == Expiry::Default && at > cap => Some(cap),
        _ => expires_at,
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
