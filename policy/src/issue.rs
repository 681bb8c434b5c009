//! Issuing: may a creator holding some rights issue a token with the requested
//! grants? The grants must parse and exist in the catalog, stay within the
//! creator's rights (acs: no privilege escalation), and binding a token at a node
//! needs manage there (component: the project's; subchannel: the channel's). When
//! a token asks (the API), the new grants must also stay within that token's.

use crate::action_set::ActionSet;
use crate::catalog;
use crate::grant_set::{CompiledAccess, CompiledGrant, GrantSet};
use crate::model::{Denial, DenyCode, Grants, Level, ResourceGrant};
use crate::quote::Quoted;
use crate::resource::NodeRef;

/// Checks `requested` against `creator`'s rights and, when a token asks, against
/// that token's grants (`caller`); returns the normalised grants.
pub fn check_grants(creator: &[ResourceGrant], requested: &Grants, caller: Option<&Grants>) -> Result<Grants, Denial> {
    let creator =
        GrantSet::compile_rights(creator).map_err(|d| Denial::new(d.code, format!("creator rights: {}", d.message)))?;
    let caller = caller
        .map(GrantSet::compile)
        .transpose()
        .map_err(|d| Denial::new(d.code, format!("the calling token's grants: {}", d.message)))?;
    let token = GrantSet::compile(requested)?;
    if token.is_empty() {
        return Err(Denial::new(DenyCode::InvalidGrant, "a token needs at least one grant"));
    }
    match &token {
        GrantSet::Resources(grants) => {
            // Sorted by node, so a node granted twice shows up as neighbours.
            if let Some(pair) = grants.windows(2).find(|w| matches!(w, [a, b] if a.node == b.node)) {
                let node = pair.first().map(|g| g.node.to_string()).unwrap_or_default();
                return Err(Denial::new(
                    DenyCode::InvalidGrant,
                    format!("two grants for {}: give each node one grant", Quoted(&node)),
                ));
            }
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
    if let Some(caller) = &caller {
        within_caller(&token, caller)?;
    }
    Ok(token.normalized())
}

/// Every action a token with `token`'s grants can be allowed, somewhere, the
/// calling token allows there too: a token never mints or keeps alive more than
/// it holds itself.
fn within_caller(token: &GrantSet, caller: &GrantSet) -> Result<(), Denial> {
    let beyond = |what: String, id: catalog::ActionId| {
        let name = catalog::get(id).map_or("?", |d| d.name);
        Err(Denial::new(
            DenyCode::Escalation,
            format!("{what} exceeds the grants of the token that asked: it does not hold `{name}` there"),
        ))
    };
    match token {
        // Scopes are not bound to nodes: the caller must hold each action everywhere.
        GrantSet::Scopes { actions, .. } => {
            for id in actions.iter() {
                let level = catalog::get(id).map_or(Level::Manage, |d| d.level);
                if caller.allows(id, level, &NodeRef::ROOT).is_none() {
                    return beyond("the scope grant".to_owned(), id);
                }
            }
        }
        GrantSet::Resources(grants) => {
            for grant in grants {
                let node = grant.node.as_ref();
                for id in reachable_actions(grant).iter() {
                    let level = catalog::get(id).map_or(Level::Manage, |d| d.level);
                    if caller.allows(id, level, &node).is_none() {
                        return beyond(format!("the grant on {}", Quoted(&grant.node.to_string())), id);
                    }
                }
            }
        }
    }
    Ok(())
}

/// The actions a resource grant can allow at or below its node.
fn reachable_actions(grant: &CompiledGrant) -> ActionSet {
    match grant.access {
        CompiledAccess::Actions(set) => set,
        CompiledAccess::Level(held) => catalog::CATALOG
            .iter()
            .enumerate()
            .filter(|(_, def)| def.level <= held && def.applies_below(grant.node.kind()))
            .filter_map(|(id, _)| catalog::ActionId::from_index(id))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(creator: &[ResourceGrant], requested: Grants) -> Option<DenyCode> {
        check_grants(creator, &requested, None).err().map(|d| d.code)
    }

    fn scopes(s: &[&str]) -> Grants {
        Grants::Scopes(s.iter().map(|x| (*x).to_owned()).collect())
    }

    fn asked_by(caller: Grants, requested: Grants) -> Option<DenyCode> {
        let owner = [ResourceGrant::level("/", Level::Manage)];
        check_grants(&owner, &requested, Some(&caller)).err().map(|d| d.code)
    }

    #[test]
    fn a_token_that_only_manages_tokens_mints_nothing_else() {
        let manager = scopes(&["user.token:*"]);
        assert_eq!(asked_by(manager.clone(), scopes(&["artifact:create"])), Some(DenyCode::Escalation));
        assert_eq!(
            asked_by(manager.clone(), Grants::Resources(vec![ResourceGrant::level("channel/main", Level::Read)])),
            Some(DenyCode::Escalation)
        );
        assert_eq!(asked_by(manager, scopes(&["user.token:view"])), None);
    }

    #[test]
    fn a_calling_token_bounds_by_node_and_by_action() {
        let caller = Grants::Resources(vec![ResourceGrant::level("channel/main", Level::Write)]);
        let at = |node: &str, level| Grants::Resources(vec![ResourceGrant::level(node, level)]);
        assert_eq!(asked_by(caller.clone(), at("channel/main", Level::Read)), None);
        assert_eq!(asked_by(caller.clone(), at("channel/main/subchannel/n", Level::Write)), None);
        assert_eq!(asked_by(caller.clone(), at("channel/main", Level::Manage)), Some(DenyCode::Escalation));
        assert_eq!(asked_by(caller.clone(), at("channel/other", Level::Read)), Some(DenyCode::Escalation));
        // Scopes hold everywhere, which a node-bound caller does not.
        assert_eq!(asked_by(caller, scopes(&["artifact:download"])), Some(DenyCode::Escalation));
        let scoped = scopes(&["artifact:*;channel:view,history,view-artifacts"]);
        assert_eq!(
            asked_by(
                scoped.clone(),
                Grants::Resources(vec![ResourceGrant::actions("channel/a", &["artifact:create"])])
            ),
            None
        );
        assert_eq!(asked_by(scoped, scopes(&["artifact:create"])), None);
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
    fn a_token_grants_each_node_once_but_owner_rights_may_repeat_one() {
        let creator = [ResourceGrant::level("/", Level::Manage), ResourceGrant::actions("/", &["role:view"])];
        let twice = Grants::Resources(vec![
            ResourceGrant::level("channel/a", Level::Read),
            ResourceGrant::actions("channel/a", &["artifact:create"]),
        ]);
        assert_eq!(code(&creator, twice), Some(DenyCode::InvalidGrant));
    }

    #[test]
    fn empty_token_is_refused() {
        let creator = [ResourceGrant::level("/", Level::Manage)];
        assert_eq!(code(&creator, Grants::Resources(vec![])), Some(DenyCode::InvalidGrant));
    }

    mod never_exceeds_creator {
        use proptest::prelude::*;

        use crate::catalog::{ActionId, CATALOG};
        use crate::decide::{Query, decide};
        use crate::grant_set::GrantSet;
        use crate::model::{Access, Grants, Level, ResourceGrant, TokenStatus};

        /// Whether `token`, owned by `owner`, may do `action` on `resource` (live, at time 0).
        fn allows(token: &GrantSet, owner: &GrantSet, action: ActionId, resource: &str) -> bool {
            let status = TokenStatus::default();
            decide(&Query { token, owner, status, action, resource, now: 0 }).is_allow()
        }

        const NODES: &[&str] = &[
            "/",
            "vault/a",
            "vault/a/project/p",
            "vault/a/project/p/component/c",
            "vault/a/project/q",
            "vault/b",
            "channel/m",
            "channel/m/subchannel/s",
            "channel/n",
            "user/u",
        ];
        const REQUESTED_AT: &[&str] = &["channel/m/artifact/x", "channel/m/subchannel/s/artifact/y", "channel/new"];
        const ACTIONS: &[&str] = &[
            "create-scan",
            "artifact:download",
            "artifact:create",
            "artifact:delete",
            "channel:view",
            "channel:edit",
            "subchannel:create",
            "role:view",
            "role:edit",
            "certificate",
            "certificate:approve",
            "user.token:edit",
        ];
        const SCOPES: &[&str] = &[
            "artifact",
            "artifact:create",
            "artifact:*",
            "channel:edit",
            "role",
            "role:edit",
            "certificate:approve;ssh",
            "create-scan:*",
            "user.token:view",
        ];

        fn access() -> impl Strategy<Value = Access> {
            prop_oneof![
                prop::sample::select(Level::ALL.to_vec()).prop_map(Access::Level),
                prop::sample::subsequence(ACTIONS.to_vec(), 1..4)
                    .prop_map(|a| Access::Actions(a.into_iter().map(str::to_owned).collect())),
            ]
        }

        fn rights(max: usize) -> impl Strategy<Value = Vec<ResourceGrant>> {
            prop::collection::btree_map(prop::sample::select(NODES.to_vec()), access(), 0..max).prop_map(|m| {
                m.into_iter().map(|(node, access)| ResourceGrant { resource: node.to_owned(), access }).collect()
            })
        }

        fn requested() -> impl Strategy<Value = Grants> {
            prop_oneof![
                rights(4).prop_map(Grants::Resources),
                prop::sample::subsequence(SCOPES.to_vec(), 1..4)
                    .prop_map(|s| Grants::Scopes(s.into_iter().map(str::to_owned).collect())),
            ]
        }

        fn every_request() -> impl Iterator<Item = (crate::catalog::ActionId, &'static str)> {
            (0..CATALOG.len())
                .filter_map(crate::catalog::ActionId::from_index)
                .flat_map(|id| NODES.iter().chain(REQUESTED_AT).map(move |r| (id, *r)))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Whatever check-grants lets a creator issue, the token allows nothing
            /// the creator does not hold, even before the owner check at decision time.
            #[test]
            fn issued_tokens_never_exceed_their_creator(creator in rights(4), requested in requested()) {
                let Ok(issued) = super::super::check_grants(&creator, &requested, None) else { return Ok(()) };
                let token = GrantSet::compile(&issued).map_err(|d| TestCaseError::fail(d.message))?;
                let creator_set = GrantSet::compile_rights(&creator).map_err(|d| TestCaseError::fail(d.message))?;
                let everyone = GrantSet::compile_rights(&[ResourceGrant::level("/", Level::Manage)])
                    .map_err(|d| TestCaseError::fail(d.message))?;
                match &token {
                    GrantSet::Resources(_) => {
                        for (id, resource) in every_request() {
                            let by_token = allows(&token, &everyone, id, resource);
                            let by_creator = allows(&creator_set, &everyone, id, resource);
                            prop_assert!(!by_token || by_creator, "token allows action {id} on {resource} beyond its creator");
                        }
                    }
                    GrantSet::Scopes { actions, .. } => {
                        for id in actions.iter() {
                            prop_assert!(creator_set.holds_somewhere(id), "scope action {id} not held by the creator");
                        }
                    }
                }
            }

            /// Whatever a calling token lets its owner mint, the new token allows
            /// nothing the calling token would deny.
            #[test]
            fn issued_tokens_never_exceed_the_token_that_asked(caller in requested(), requested in requested()) {
                let root = [ResourceGrant::level("/", Level::Manage)];
                let Ok(caller_set) = GrantSet::compile(&caller) else { return Ok(()) };
                let Ok(issued) = super::super::check_grants(&root, &requested, Some(&caller)) else { return Ok(()) };
                let token = GrantSet::compile(&issued).map_err(|d| TestCaseError::fail(d.message))?;
                let everyone = GrantSet::compile_rights(&root).map_err(|d| TestCaseError::fail(d.message))?;
                for (id, resource) in every_request() {
                    if allows(&token, &everyone, id, resource) {
                        prop_assert!(
                            allows(&caller_set, &everyone, id, resource),
                            "token allows action {id} on {resource} beyond the token that asked"
                        );
                    }
                }
            }

            /// After the owner loses rights, the token allows only what the owner still holds.
            #[test]
            fn demoted_owner_bounds_every_decision(creator in rights(4), requested in requested(), demoted in rights(3)) {
                let Ok(issued) = super::super::check_grants(&creator, &requested, None) else { return Ok(()) };
                let token = GrantSet::compile(&issued).map_err(|d| TestCaseError::fail(d.message))?;
                let Ok(owner) = GrantSet::compile_rights(&demoted) else { return Ok(()) };
                let everyone = GrantSet::compile_rights(&[ResourceGrant::level("/", Level::Manage)])
                    .map_err(|d| TestCaseError::fail(d.message))?;
                for (id, resource) in every_request() {
                    if allows(&token, &owner, id, resource) {
                        prop_assert!(allows(&owner, &everyone, id, resource));
                    }
                }
            }
        }
    }
}
