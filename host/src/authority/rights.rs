//! A principal's current rights: its explicit grants plus its roles (from the
//! config) bound at their nodes. Computed on every verify, so a demoted owner's
//! tokens lose the right at their next use.

use thiserror::Error;

use crate::config::RoleConfig;
use crate::contract::ResourceGrant;
use crate::grant_text::parse_grant;
use crate::store::{Binding, Principal};

/// A principal's binding cannot be read as a grant: its rights are unknown, so
/// nothing is decided on them.
#[derive(Debug, Error)]
#[error("principal `{principal}` has a binding `{binding}` that is not a valid grant: {reason}")]
pub struct RightsError {
    /// The principal's name.
    pub principal: String,
    /// The binding, as text.
    pub binding: String,
    /// Why it is not a grant.
    pub reason: String,
}

/// The rights `principal` holds now. A binding to a role the config no longer
/// defines grants nothing (and is reported, not fatal).
pub fn owner_rights(
    principal: &Principal,
    roles: &std::collections::BTreeMap<String, RoleConfig>,
) -> Result<Vec<ResourceGrant>, RightsError> {
    let mut rights = Vec::with_capacity(principal.bindings.len());
    for binding in &principal.bindings {
        let right = binding_right(binding, roles).map_err(|err| RightsError {
            principal: principal.name.clone(),
            binding: binding.to_text(),
            reason: format!("{err:#}"),
        })?;
        match right {
            Some(right) => rights.push(right),
            None => tracing::warn!(principal = %principal.name, binding = %binding.to_text(),
                "binding to an undefined role grants nothing"),
        }
    }
    Ok(rights)
}

/// The right one binding gives: a grant as written, or a role's access at its
/// node; none for a role the config does not define.
pub fn binding_right(
    binding: &Binding,
    roles: &std::collections::BTreeMap<String, RoleConfig>,
) -> anyhow::Result<Option<ResourceGrant>> {
    match binding {
        Binding::Grant(text) => parse_grant(text).map(Some),
        Binding::Role { role, at } => match roles.get(role) {
            Some(def) => parse_grant(&format!("{at}={}", def.access)).map(Some),
            None => Ok(None),
        },
    }
}

/// Whether `rights` hold manage on the root: a root administrator's.
pub fn administers_root(rights: &[ResourceGrant]) -> bool {
    rights.iter().any(|g| {
        (g.resource.is_empty() || g.resource == "/")
            && matches!(g.access, crate::contract::Access::Level(crate::contract::Level::Manage))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Access, Level};

    #[test]
    fn roles_bind_at_their_node_and_unknown_roles_grant_nothing() {
        let mut roles = std::collections::BTreeMap::new();
        roles.insert("ci".to_owned(), RoleConfig { description: String::new(), access: "artifact:create".into() });
        let p = Principal {
            id: crate::store::PrincipalId::new(1),
            name: "bob".into(),
            created_at: crate::time::UnixTime::default(),
            bindings: vec![
                Binding::Role { role: "ci".into(), at: "channel/ci".into() },
                Binding::Role { role: "gone".into(), at: "/".into() },
                Binding::Grant("channel/main=read".into()),
            ],
        };
        let rights = owner_rights(&p, &roles).unwrap();
        assert_eq!(rights.len(), 2);
        assert_eq!(rights[0].resource, "channel/ci");
        assert!(matches!(rights[1].access, Access::Level(Level::Read)));
    }
}
