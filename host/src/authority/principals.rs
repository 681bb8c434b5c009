//! Managing token owners: add (with the right to manage their own tokens),
//! bind and unbind grants and roles, list and remove. A change to a principal's
//! bindings changes what its tokens may do from their next use on.

use std::collections::BTreeMap;

use super::{Authority, LifecycleError};
use crate::config::RoleConfig;
use crate::grant_text::parse_grant;
use crate::store::{Binding, Principal};

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
    /// tokens (`manage` on `user/<name>`).
    pub fn add_principal(&self, name: &str, bindings: &[Binding]) -> Result<Principal, LifecycleError> {
        check_name(name)?;
        let principal = self.store.add_principal(name, self.now())?;
        let own = Binding::Grant(format!("user/{name}=manage"));
        for binding in bindings.iter().chain(std::iter::once(&own)) {
            self.store.bind(principal.id, binding)?;
        }
        tracing::info!(principal = %name, "principal added");
        self.principal(name)
    }

    /// Adds `bindings` to principal `name` (one it has already changes nothing).
    pub fn bind(&self, name: &str, bindings: &[Binding]) -> Result<Principal, LifecycleError> {
        let principal = self.principal(name)?;
        let bound = bindings.iter().try_for_each(|binding| self.store.bind(principal.id, binding));
        self.caches.owner_changed(principal.id);
        bound?;
        self.principal(name)
    }

    /// Removes `bindings` from principal `name`; a binding it does not have is
    /// `NotFound` (the ones before it are removed).
    pub fn unbind(&self, name: &str, bindings: &[Binding]) -> Result<Principal, LifecycleError> {
        let principal = self.principal(name)?;
        let unbound = self.unbind_each(&principal, bindings);
        self.caches.owner_changed(principal.id);
        unbound?;
        self.principal(name)
    }

    fn unbind_each(&self, principal: &Principal, bindings: &[Binding]) -> Result<(), LifecycleError> {
        for binding in bindings {
            if !self.store.unbind(principal.id, binding)? {
                let name = &principal.name;
                return Err(LifecycleError::NotFound(format!("binding `{}` of principal `{name}`", binding.to_text())));
            }
        }
        Ok(())
    }

    /// Removes principal `name` and every token it owns.
    pub fn remove_principal(&self, name: &str) -> Result<(), LifecycleError> {
        let principal = self.principal(name)?;
        let removed = self.store.remove_principal(name);
        self.caches.owner_changed(principal.id);
        if !removed? {
            return Err(LifecycleError::NotFound(format!("principal `{name}`")));
        }
        tracing::info!(principal = %name, "principal removed");
        Ok(())
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
