//! Issuing: may a creator holding some rights issue a token with the requested
//! grants? The grants must parse and exist in the catalog, stay within the
//! creator's rights (acs: no privilege escalation), and binding a token at a node
//! needs manage there (component: the project's; subchannel: the channel's).

use crate::catalog;
use crate::grant_set::{CompiledAccess, GrantSet};
use crate::model::{Denial, DenyCode, Grants, Level, ResourceGrant};
use crate::quote::Quoted;

/// Checks `requested` against `creator`'s rights; returns the normalised grants.
pub fn check_grants(creator: &[ResourceGrant], requested: &Grants) -> Result<Grants, Denial> {
    let creator =
        GrantSet::compile_rights(creator).map_err(|d| Denial::new(d.code, format!("creator rights: {}", d.message)))?;
    let token = GrantSet::compile(requested)?;
    if token.is_empty() {
        return Err(Denial::new(DenyCode::InvalidGrant, "a token needs at least one grant"));
    }
    match &token {
        GrantSet::Resources(grants) => {
            for grant in grants {
                let admin = grant.node.admin_node();
                if !creator.holds_level(Level::Manage, &admin) {
                    return Err(Denial::new(
                        DenyCode::AdminRequired,
                        format!(
                            "a token bound to {} needs manage on {}, which the creator does not hold",
                            Quoted(&grant.node.to_string()),
                            Quoted(&admin.to_string())
                        ),
                    ));
                }
                let node = grant.node.as_ref();
                let within = match grant.access {
                    CompiledAccess::Level(level) => creator.holds_level(level, &node),
                    CompiledAccess::Actions(set) => set
                        .iter()
                        .all(|id| catalog::get(id).is_some_and(|def| creator.allows(id, def.level, &node).is_some())),
                };
                if !within {
                    return Err(Denial::new(
                        DenyCode::Escalation,
                        format!("the grant on {} exceeds the creator's rights there", Quoted(&grant.node.to_string())),
                    ));
                }
            }
        }
        GrantSet::Scopes { actions, .. } => {
            if let Some(missing) = actions.iter().find(|id| !creator.holds_somewhere(*id)) {
                let name = catalog::get(missing).map_or("?", |d| d.name);
                return Err(Denial::new(
                    DenyCode::Escalation,
                    format!("the creator does not hold `{name}` anywhere, so a token cannot carry it"),
                ));
            }
        }
    }
    Ok(token.normalized())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(creator: &[ResourceGrant], requested: Grants) -> Option<DenyCode> {
        check_grants(creator, &requested).err().map(|d| d.code)
    }

    #[test]
    fn project_admin_cannot_mint_vault_token() {
        let creator = [ResourceGrant::level("vault/acme/project/web", Level::Manage)];
        let vault = Grants::Resources(vec![ResourceGrant::actions("vault/acme", &["create-scan"])]);
        assert_eq!(code(&creator, vault), Some(DenyCode::AdminRequired));
        let component =
            Grants::Resources(vec![ResourceGrant::actions("vault/acme/project/web/component/api", &["create-scan"])]);
        assert_eq!(code(&creator, component), None);
    }

    #[test]
    fn component_admin_alone_cannot_mint_component_token() {
        let creator = [ResourceGrant::level("vault/acme/project/web/component/api", Level::Manage)];
        let component =
            Grants::Resources(vec![ResourceGrant::actions("vault/acme/project/web/component/api", &["create-scan"])]);
        assert_eq!(code(&creator, component), Some(DenyCode::AdminRequired));
    }

    #[test]
    fn read_holder_cannot_issue_write_scope() {
        let creator = [ResourceGrant::actions("/", &["role:view"])];
        assert_eq!(code(&creator, Grants::Scopes(vec!["role".into()])), None);
        assert_eq!(code(&creator, Grants::Scopes(vec!["role:edit".into()])), Some(DenyCode::Escalation));
    }

    #[test]
    fn empty_token_is_refused() {
        let creator = [ResourceGrant::level("/", Level::Manage)];
        assert_eq!(code(&creator, Grants::Resources(vec![])), Some(DenyCode::InvalidGrant));
    }
}
