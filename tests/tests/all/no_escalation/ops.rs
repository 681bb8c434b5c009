//! The steps of the escalation property test, as data: who acts, what it asks
//! for, on which names, nodes and tokens (indexes, resolved against the state
//! when the step is taken), and the strategies that generate them.

use proptest::prelude::*;
use tokenscope::contract::ResourceGrant;
use tokenscope::store::Binding;

pub(super) const NAMES: [&str; 6] = ["admin", "ana", "ben", "cy", "dee", "eve"];
pub(super) const NODES: [&str; 14] = [
    "",
    "channel/a",
    "channel/a/subchannel/n",
    "channel/a/artifact/f",
    "channel/a/subchannel/n/artifact/g",
    "channel/b",
    "channel/b/artifact/f",
    "vault/v",
    "vault/v/project/p",
    "vault/v/project/p/component/c",
    "vault/v/project/q",
    "user/ana",
    "user/ben",
    "user/admin",
];
pub(super) const LEVELS: [&str; 3] = ["read", "write", "manage"];
pub(super) const ACTION_SETS: [&str; 6] = [
    "artifact:download",
    "artifact:create,artifact:download",
    "create-scan",
    "user.token:edit,user.token:view",
    "channel:view",
    "subchannel:create",
];
pub(super) const SCOPES: [&str; 14] = [
    "artifact:download",
    "artifact:create",
    "artifact:*",
    "artifact",
    "channel:view",
    "channel",
    "user.token:*",
    "user.token:view",
    "system.principals:*",
    "create-scan",
    "certificate:approve",
    "certificate",
    "role:edit",
    "subchannel:create",
];
/// What the invariant samples: actions of every kind of node, and the host's own.
pub(super) const ACTIONS: [&str; 18] = [
    "artifact:download",
    "artifact:create",
    "artifact:delete",
    "artifact:view",
    "channel:view",
    "channel:edit",
    "channel:create",
    "subchannel:create",
    "subchannel:edit",
    "create-scan",
    "user.token:view",
    "user.token:edit",
    "system.principals:view",
    "system.principals:edit",
    "certificate",
    "certificate:approve",
    "role:edit",
    "system.tokens:introspect",
];
pub(super) const ROLES: [&str; 4] = ["continuous-integration", "cert-integration", "project-admin", "reader"];
pub(super) const RULES: usize = 4;

#[derive(Clone, Debug)]
pub(super) enum Who {
    Operator,
    Person(u8),
    Token(u8),
}

#[derive(Clone, Debug)]
pub(super) enum Access {
    Level(u8),
    Actions(u8),
}

/// A right to bind: at a node of the list, a role at one, or at a node the
/// actor holds a right on (so that binds often go through, and often just
/// exceed what is held).
#[derive(Clone, Debug)]
pub(super) enum Right {
    Grant(u8, Access),
    Role(u8, u8),
    Near(u8, Access),
}

/// Grants to ask for: scopes, resource grants at nodes of the list, or at
/// nodes the owner holds rights on.
#[derive(Clone, Debug)]
pub(super) enum Wanted {
    /// With `user.token:*` too when the flag is set (a token that manages tokens).
    Scopes(Vec<u8>, bool),
    Resources(Vec<(u8, Access)>),
    /// With `user/<owner>=manage` too when the flag is set.
    Near(Vec<(u8, Access)>, bool),
}

#[derive(Clone, Debug)]
pub(super) enum Op {
    Add {
        who: Who,
        name: u8,
        rights: Vec<Right>,
    },
    Remove {
        who: Who,
        name: u8,
    },
    Bind {
        who: Who,
        name: u8,
        rights: Vec<Right>,
    },
    Unbind {
        who: Who,
        name: u8,
        pick: u8,
    },
    /// For the actor's own principal (`None`) or a named one.
    Create {
        who: Who,
        owner: Option<u8>,
        wanted: Wanted,
        hours: Option<u16>,
    },
    Reissue {
        who: Who,
        token: u8,
    },
    Expire {
        who: Who,
        token: u8,
        hours: Option<u16>,
    },
    Revoke {
        who: Who,
        token: u8,
    },
    Delete {
        who: Who,
        token: u8,
    },
    Exchange {
        rule: u8,
        minutes: u16,
    },
    Wait {
        hours: u16,
    },
}

pub(super) fn who() -> impl Strategy<Value = Who> {
    prop_oneof![1 => Just(Who::Operator), 3 => any::<u8>().prop_map(Who::Person), 4 => any::<u8>().prop_map(Who::Token)]
}

pub(super) fn access() -> impl Strategy<Value = Access> {
    prop_oneof![3 => any::<u8>().prop_map(Access::Level), 1 => any::<u8>().prop_map(Access::Actions)]
}

pub(super) fn right() -> impl Strategy<Value = Right> {
    prop_oneof![
        3 => (any::<u8>(), access()).prop_map(|(node, access)| Right::Grant(node, access)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(role, node)| Right::Role(role, node)),
        3 => (any::<u8>(), access()).prop_map(|(node, access)| Right::Near(node, access)),
    ]
}

pub(super) fn wanted() -> impl Strategy<Value = Wanted> {
    prop_oneof![
        2 => (prop::collection::vec(any::<u8>(), 1..4), any::<bool>()).prop_map(|(s, m)| Wanted::Scopes(s, m)),
        1 => prop::collection::vec((any::<u8>(), access()), 1..3).prop_map(Wanted::Resources),
        3 => (prop::collection::vec((any::<u8>(), access()), 1..3), any::<bool>()).prop_map(|(n, m)| Wanted::Near(n, m)),
    ]
}

pub(super) fn hours() -> impl Strategy<Value = Option<u16>> {
    prop::option::weighted(0.7, 1u16..20_000)
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (who(), any::<u8>(), prop::collection::vec(right(), 0..3)).prop_map(|(who, name, rights)| Op::Add { who, name, rights }),
        1 => (who(), any::<u8>()).prop_map(|(who, name)| Op::Remove { who, name }),
        3 => (who(), any::<u8>(), prop::collection::vec(right(), 1..3)).prop_map(|(who, name, rights)| Op::Bind { who, name, rights }),
        2 => (who(), any::<u8>(), any::<u8>()).prop_map(|(who, name, pick)| Op::Unbind { who, name, pick }),
        6 => (who(), prop::option::weighted(0.4, any::<u8>()), wanted(), hours())
            .prop_map(|(who, owner, wanted, hours)| Op::Create { who, owner, wanted, hours }),
        3 => (who(), any::<u8>()).prop_map(|(who, token)| Op::Reissue { who, token }),
        2 => (who(), any::<u8>(), hours()).prop_map(|(who, token, hours)| Op::Expire { who, token, hours }),
        1 => (who(), any::<u8>()).prop_map(|(who, token)| Op::Revoke { who, token }),
        1 => (who(), any::<u8>()).prop_map(|(who, token)| Op::Delete { who, token }),
        2 => (0..RULES as u8, 1u16..120).prop_map(|(rule, minutes)| Op::Exchange { rule, minutes }),
        1 => (1u16..3000).prop_map(|hours| Op::Wait { hours }),
    ]
}

/// A case: the rights each named principal starts with (or none: not added
/// yet), then the steps.
pub(super) fn case(steps: usize) -> impl Strategy<Value = (Vec<Option<Vec<Right>>>, Vec<Op>)> {
    let initial = prop::option::weighted(0.8, prop::collection::vec(right(), 0..4));
    (prop::collection::vec(initial, NAMES.len() - 1), prop::collection::vec(op(), steps))
}

pub(super) fn pick<T: Copy>(list: &[T], i: u8) -> T {
    list[usize::from(i) % list.len()]
}

pub(super) fn access_text(access: &Access) -> String {
    match access {
        Access::Level(i) => pick(&LEVELS, *i).to_owned(),
        Access::Actions(i) => pick(&ACTION_SETS, *i).to_owned(),
    }
}

/// A node text (`/` for the root).
pub(super) fn node_text(node: &str) -> String {
    if node.is_empty() || node == "/" { "/".into() } else { node.to_owned() }
}

/// The node of `near`'s pick among `rights` (the root when there are none).
pub(super) fn near(rights: &[ResourceGrant], i: u8) -> String {
    if rights.is_empty() { "/".into() } else { node_text(&rights[usize::from(i) % rights.len()].resource) }
}

pub(super) fn binding(right: &Right, held: &[ResourceGrant]) -> Binding {
    match right {
        Right::Near(i, access) => Binding::Grant(format!("{}={}", near(held, *i), access_text(access))),
        Right::Grant(node, access) => {
            let node = pick(&NODES, *node);
            Binding::Grant(format!("{}={}", if node.is_empty() { "/" } else { node }, access_text(access)))
        }
        Right::Role(role, node) => {
            let node = pick(&NODES, *node);
            Binding::Role {
                role: pick(&ROLES, *role).to_owned(),
                at: if node.is_empty() { "/".into() } else { node.into() },
            }
        }
    }
}

pub(super) fn kind(op: &Op) -> &'static str {
    match op {
        Op::Add { .. } => "add",
        Op::Remove { .. } => "remove",
        Op::Bind { .. } => "bind",
        Op::Unbind { .. } => "unbind",
        Op::Create { .. } => "create",
        Op::Reissue { .. } => "reissue",
        Op::Expire { .. } => "expiry",
        Op::Revoke { .. } => "revoke",
        Op::Delete { .. } => "delete",
        Op::Exchange { .. } => "exchange",
        Op::Wait { .. } => "wait",
    }
}
