//! Managing token owners: add (with the right to manage their own tokens),
//! bind and unbind grants and roles, list and remove. Every change names its
//! actor, who must hold `system.principals:edit` on the root; a right bound goes
//! through the ceiling (valid for the loaded policy, and held by the actor), and
//! no change may leave the store without a principal that manages the root. A
//! change to a principal's bindings changes what its tokens may do from their
//! next use on.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;

use super::actions::{PRINCIPALS_EDIT, ROOT};
use super::audit::Acted;
use super::ceiling::Ceiling;
use super::rights::{administers_root, binding_right, owner_rights};
use super::{Authority, LifecycleError, RefusalCode};
use crate::audit::AuditEvent;
use crate::config::RoleConfig;
use crate::grant_text::parse_grant;
use crate::store::{Binding, Guarded, Principal, PrincipalId, PrincipalsGuard};

/// The most characters a principal's name may have.
const MAX_NAME: usize = 128;

/// Principal names are resource names (`user/<name>`): `[A-Za-z0-9._+-]`, 1-128
/// characters, and neither `.` nor `..`.
fn check_name(name: &str) -> Result<(), LifecycleError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'));
    if !ok {
        return Err(LifecycleError::Invalid(format!(
            "principal name `{}` must be 1-{MAX_NAME} of `A-Z a-z 0-9 . _ + -`",
            name.escape_debug()
        )));
    }
    Ok(())
}

/// The bindings that rights (`RESOURCE=ACCESS`) and roles (`ROLE[@RESOURCE]`,
/// the root without a resource) name, as the CLI, the API and the token page
/// take them: rights that read as grants, roles the config defines.
pub fn bindings_from_texts(
    grants: &[String],
    roles: &[String],
    defined: &BTreeMap<String, RoleConfig>,
) -> Result<Vec<Binding>, LifecycleError> {
    let mut out = Vec::with_capacity(grants.len() + roles.len());
    for grant in grants {
        parse_grant(grant).map_err(|e| LifecycleError::Invalid(format!("{e:#}")))?;
        out.push(Binding::Grant(grant.clone()));
    }
    for text in roles {
        let (role, at) = text.split_once('@').unwrap_or((text, "/"));
        if !defined.contains_key(role) {
            return Err(LifecycleError::Invalid(format!(
                "no role `{role}` in the config (see `tokenscope role list`)"
            )));
        }
        if at.is_empty() {
            return Err(LifecycleError::Invalid(format!("`{text}` names no resource after `@`")));
        }
        out.push(Binding::Role { role: role.to_owned(), at: at.to_owned() });
    }
    Ok(out)
}

impl Authority {
    /// Every principal, by name, with its bindings.
    pub fn principals(&self) -> Result<Vec<Principal>, LifecycleError> {
        Ok(self.store.principals()?)
    }

    /// Adds principal `name` with `bindings`, and the right to manage its own
    /// tokens (`manage` on `user/<name>`, which needs no ceiling: its tokens
    /// never exceed the principal's other rights), by `actor`.
    pub fn add_principal(
        &self,
        by: impl Into<Acted>,
        name: &str,
        bindings: &[Binding],
    ) -> Result<Principal, LifecycleError> {
        let by = by.into();
        let result = self.add(&by, name, bindings);
        self.noted(&by, "principal.add", format!("principal/{name}"), None, result)
    }

    fn add(&self, by: &Acted, name: &str, bindings: &[Binding]) -> Result<Principal, LifecycleError> {
        check_name(name)?;
        let ceiling = self.ceiling(by.actor)?;
        self.authorize(&ceiling, PRINCIPALS_EDIT, ROOT)?;
        self.admit_bindings(&ceiling, bindings)?;
        let own = Binding::Grant(format!("user/{name}=manage"));
        let all: Vec<Binding> = bindings.iter().cloned().chain(std::iter::once(own)).collect();
        let audit = self
            .event(by, Some(&ceiling), "principal.add", format!("principal/{name}"))
            .with_change(None, Some(json!({"name": name, "bindings": texts(&all)})));
        self.store.add_principal(name, self.now(), &all, &audit)?;
        tracing::info!(principal = %name, "principal added");
        self.principal(name)
    }

    /// Adds `bindings` to principal `name` (one it has already changes
    /// nothing), by `actor`: each must pass the ceiling.
    pub fn bind(&self, by: impl Into<Acted>, name: &str, bindings: &[Binding]) -> Result<Principal, LifecycleError> {
        let by = by.into();
        let result = self.bind_as(&by, name, bindings);
        self.noted(&by, "principal.bind", format!("principal/{name}"), self.principal_id(name), result)
    }

    fn principal_id(&self, name: &str) -> Option<PrincipalId> {
        self.store.principal(name).ok().flatten().map(|p| p.id)
    }

    fn bind_as(&self, by: &Acted, name: &str, bindings: &[Binding]) -> Result<Principal, LifecycleError> {
        let ceiling = self.ceiling(by.actor)?;
        self.authorize(&ceiling, PRINCIPALS_EDIT, ROOT)?;
        let principal = self.principal(name)?;
        self.admit_bindings(&ceiling, bindings)?;
        let mut after = principal.bindings.clone();
        after.extend(bindings.iter().filter(|b| !principal.bindings.contains(b)).cloned());
        let audit = self.binding_event(by, &ceiling, "principal.bind", &principal, &after);
        let bound = self.store.bind(principal.id, bindings, &audit);
        self.caches.owner_changed(principal.id);
        bound?;
        self.principal(name)
    }

    /// Removes `bindings` from principal `name`, all of them or none, by
    /// `actor`; a binding it does not have is `NotFound`, and a change that
    /// would leave nobody managing the root is refused.
    pub fn unbind(&self, by: impl Into<Acted>, name: &str, bindings: &[Binding]) -> Result<Principal, LifecycleError> {
        let by = by.into();
        let result = self.unbind_as(&by, name, bindings);
        self.noted(&by, "principal.unbind", format!("principal/{name}"), self.principal_id(name), result)
    }

    fn unbind_as(&self, by: &Acted, name: &str, bindings: &[Binding]) -> Result<Principal, LifecycleError> {
        let ceiling = self.ceiling(by.actor)?;
        self.authorize(&ceiling, PRINCIPALS_EDIT, ROOT)?;
        let principal = self.principal(name)?;
        if let Some(missing) = bindings.iter().find(|b| !principal.bindings.contains(b)) {
            return Err(LifecycleError::NotFound(format!("binding `{}` of principal `{name}`", missing.to_text())));
        }
        let after: Vec<Binding> = principal.bindings.iter().filter(|b| !bindings.contains(b)).cloned().collect();
        let audit = self.binding_event(by, &ceiling, "principal.unbind", &principal, &after);
        let unbound = self.store.unbind(principal.id, bindings, &self.root_kept(), &audit);
        self.caches.owner_changed(principal.id);
        match unbound? {
            Guarded::Done => self.principal(name),
            Guarded::Missing => Err(LifecycleError::NotFound(format!("a binding of principal `{name}`"))),
            Guarded::Refused => Err(last_administrator(name, "unbinding this")),
        }
    }

    /// Removes principal `name` and every token it owns, by `actor`; removing
    /// the last principal that manages the root is refused. The principal as
    /// it was (its id ends its page sessions).
    pub fn remove_principal(&self, by: impl Into<Acted>, name: &str) -> Result<Principal, LifecycleError> {
        let by = by.into();
        let result = self.remove(&by, name);
        self.noted(&by, "principal.remove", format!("principal/{name}"), self.principal_id(name), result)
    }

    fn remove(&self, by: &Acted, name: &str) -> Result<Principal, LifecycleError> {
        let ceiling = self.ceiling(by.actor)?;
        self.authorize(&ceiling, PRINCIPALS_EDIT, ROOT)?;
        let principal = self.principal(name)?;
        let tokens = self.store.tokens(Some(principal.id))?.len();
        let audit = self
            .event(by, Some(&ceiling), "principal.remove", format!("principal/{name}"))
            .with_owner(principal.id)
            .with_change(Some(json!({"name": name, "bindings": texts(&principal.bindings), "tokens": tokens})), None);
        let removed = self.store.remove_principal(name, &self.root_kept(), &audit);
        self.caches.owner_changed(principal.id);
        match removed? {
            Guarded::Done => {
                tracing::info!(principal = %name, "principal removed");
                Ok(principal)
            }
            Guarded::Missing => Err(LifecycleError::NotFound(format!("principal `{name}`"))),
            Guarded::Refused => Err(last_administrator(name, "removing")),
        }
    }

    /// The event of `principal`'s bindings becoming `after`.
    fn binding_event(
        &self,
        by: &Acted,
        ceiling: &Ceiling,
        action: &str,
        principal: &Principal,
        after: &[Binding],
    ) -> AuditEvent {
        self.event(by, Some(ceiling), action, format!("principal/{}", principal.name))
            .with_owner(principal.id)
            .with_change(Some(json!({"bindings": texts(&principal.bindings)})), Some(json!({"bindings": texts(after)})))
    }

    /// Every binding through the ceiling, before any is stored.
    fn admit_bindings(&self, ceiling: &Ceiling, bindings: &[Binding]) -> Result<(), LifecycleError> {
        for binding in bindings {
            let right = binding_right(binding, &self.config.roles)
                .map_err(|e| LifecycleError::Invalid(format!("`{}`: {e:#}", binding.to_text())))?
                .ok_or_else(|| {
                    LifecycleError::Invalid(format!("`{}` names no role of the config", binding.to_text()))
                })?;
            self.admit_right(ceiling, &right)
                .map_err(|err| err.explained(|| format!("`{}` cannot be bound", binding.to_text())))?;
        }
        Ok(())
    }

    /// The guard of changes that take rights away: where some principal
    /// managed the root before, one still does afterwards.
    fn root_kept(&self) -> PrincipalsGuard {
        let roles = self.config.roles.clone();
        Arc::new(move |before: &[Principal], after: &[Principal]| {
            let any = |principals: &[Principal]| {
                principals.iter().any(|p| owner_rights(p, &roles).is_ok_and(|rights| administers_root(&rights)))
            };
            !any(before) || any(after)
        })
    }
}

fn texts(bindings: &[Binding]) -> Vec<String> {
    let mut texts: Vec<String> = bindings.iter().map(Binding::to_text).collect();
    texts.sort();
    texts
}

fn last_administrator(name: &str, doing: &str) -> LifecycleError {
    LifecycleError::Refused {
        code: RefusalCode::LastAdministrator,
        message: format!(
            "{doing} `{name}` would leave no principal with manage on the root; bind `/=manage` to another first"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_names_are_resource_names() {
        for good in ["alice", "ci-acme.web", "a+b_c", &"x".repeat(MAX_NAME)] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a b", "é", &"x".repeat(MAX_NAME + 1)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
