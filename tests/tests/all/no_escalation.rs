//! "No token exceeds its creator", for every operation: a stateful property
//! test over the real authority (the embedded default policy, a real SQLite
//! file, or a PostgreSQL database in the suite's second pass), driven through
//! the entry points the API, the token page, the CLI and the exchange call.
//! Random principals with random rights and roles; random actors (the
//! operator, people signed in by link, tokens of every shape, dead ones too,
//! identity tokens) doing random sequences of create, edit, reissue, revoke,
//! delete, bind, unbind, add, remove and exchange, with time passing. After
//! every step, for each live secret and a sample of requests it is allowed now
//! (decided by `Authority::verify`, the check path):
//!
//! 1. its owner holds the request now;
//! 2. every principal other than the owner who obtained the secret (created
//!    or reissued it) or widened it (pushed its expiry later) held the request
//!    at that moment;
//! 3. every token that did so covers the request with its grants, and has not
//!    expired;
//!
//! every right bound by a person or a token was held by them when bound (4),
//! and a secret that died (reissued, revoked, deleted) never works again (5).
//! A scope token acts wherever its owner holds the action, so its owner's later
//! rights are its owner's own (1); that is what scope tokens mean (psm).
//!
//! `TOKENSCOPE_ESCALATION_CASES` sequences (default 12) of
//! `TOKENSCOPE_ESCALATION_STEPS` steps (default 40); the long run sets both
//! (RELIABILITY.md). `TOKENSCOPE_ESCALATION_WHY=1` prints why creates were refused.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};
use serde_json::json;
use tokenscope::authority::{Actor, Authority, Expiry, IssueRequest, TokenChange};
use tokenscope::config::{Config, IssuerConfig, RoleConfig, RuleConfig};
use tokenscope::contract::{Grants, Request, ResourceGrant, Token};
use tokenscope::grant_text::{grants_from_texts, parse_grant};
use tokenscope::oidc::Exchanger;
use tokenscope::runtime::PolicyInstance;
use tokenscope::store::{Binding, PrincipalId, TokenId};
use tokenscope::verdict::Verdict;
use tokenscope_tests::authority::{TestAuthority, test_config};
use tokenscope_tests::oidc::Key;

const NAMES: [&str; 6] = ["admin", "ana", "ben", "cy", "dee", "eve"];
const NODES: [&str; 14] = [
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
const LEVELS: [&str; 3] = ["read", "write", "manage"];
const ACTION_SETS: [&str; 6] = [
    "artifact:download",
    "artifact:create,artifact:download",
    "create-scan",
    "user.token:edit,user.token:view",
    "channel:view",
    "subchannel:create",
];
const SCOPES: [&str; 14] = [
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
const ACTIONS: [&str; 18] = [
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
const ROLES: [&str; 4] = ["continuous-integration", "cert-integration", "project-admin", "reader"];
const RULES: usize = 4;

#[derive(Clone, Debug)]
enum Who {
    Operator,
    Person(u8),
    Token(u8),
}

#[derive(Clone, Debug)]
enum Access {
    Level(u8),
    Actions(u8),
}

/// A right to bind: at a node of the list, a role at one, or at a node the
/// actor holds a right on (so that binds often go through, and often just
/// exceed what is held).
#[derive(Clone, Debug)]
enum Right {
    Grant(u8, Access),
    Role(u8, u8),
    Near(u8, Access),
}

/// Grants to ask for: scopes, resource grants at nodes of the list, or at
/// nodes the owner holds rights on.
#[derive(Clone, Debug)]
enum Wanted {
    /// With `user.token:*` too when the flag is set (a token that manages tokens).
    Scopes(Vec<u8>, bool),
    Resources(Vec<(u8, Access)>),
    /// With `user/<owner>=manage` too when the flag is set.
    Near(Vec<(u8, Access)>, bool),
}

#[derive(Clone, Debug)]
enum Op {
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

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![1 => Just(Who::Operator), 3 => any::<u8>().prop_map(Who::Person), 4 => any::<u8>().prop_map(Who::Token)]
}

fn access() -> impl Strategy<Value = Access> {
    prop_oneof![3 => any::<u8>().prop_map(Access::Level), 1 => any::<u8>().prop_map(Access::Actions)]
}

fn right() -> impl Strategy<Value = Right> {
    prop_oneof![
        3 => (any::<u8>(), access()).prop_map(|(node, access)| Right::Grant(node, access)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(role, node)| Right::Role(role, node)),
        3 => (any::<u8>(), access()).prop_map(|(node, access)| Right::Near(node, access)),
    ]
}

fn wanted() -> impl Strategy<Value = Wanted> {
    prop_oneof![
        2 => (prop::collection::vec(any::<u8>(), 1..4), any::<bool>()).prop_map(|(s, m)| Wanted::Scopes(s, m)),
        1 => prop::collection::vec((any::<u8>(), access()), 1..3).prop_map(Wanted::Resources),
        3 => (prop::collection::vec((any::<u8>(), access()), 1..3), any::<bool>()).prop_map(|(n, m)| Wanted::Near(n, m)),
    ]
}

fn hours() -> impl Strategy<Value = Option<u16>> {
    prop::option::weighted(0.7, 1u16..20_000)
}

fn op() -> impl Strategy<Value = Op> {
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

/// A case: the rights each named principal starts with, then the steps.
/// A case: the rights each named principal starts with (or none: not added
/// yet), then the steps.
fn case(steps: usize) -> impl Strategy<Value = (Vec<Option<Vec<Right>>>, Vec<Op>)> {
    let initial = prop::option::weighted(0.8, prop::collection::vec(right(), 0..4));
    (prop::collection::vec(initial, NAMES.len() - 1), prop::collection::vec(op(), steps))
}

fn pick<T: Copy>(list: &[T], i: u8) -> T {
    list[usize::from(i) % list.len()]
}

fn access_text(access: &Access) -> String {
    match access {
        Access::Level(i) => pick(&LEVELS, *i).to_owned(),
        Access::Actions(i) => pick(&ACTION_SETS, *i).to_owned(),
    }
}

/// A node text (`/` for the root).
fn node_text(node: &str) -> String {
    if node.is_empty() || node == "/" { "/".into() } else { node.to_owned() }
}

/// The node of `near`'s pick among `rights` (the root when there are none).
fn near(rights: &[ResourceGrant], i: u8) -> String {
    if rights.is_empty() { "/".into() } else { node_text(&rights[usize::from(i) % rights.len()].resource) }
}

fn binding(right: &Right, held: &[ResourceGrant]) -> Binding {
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

/// What bounds a live secret besides its owner: who obtained or widened it.
#[derive(Clone, Debug)]
enum Bound {
    /// A principal other than the owner, with its rights at that moment.
    Principal(String, Vec<ResourceGrant>),
    /// An asking token, with its grants and expiry at that moment.
    Token(TokenId, Grants, Option<u64>),
}

#[derive(Clone, Debug)]
struct Held {
    id: TokenId,
    secret: String,
    bounds: Vec<Bound>,
}

/// The identity token issuer the cases exchange with: one Ed25519 key, its
/// JWKS in a file, made once per test process.
struct Issuer {
    key: Key,
    jwks: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn issuer() -> &'static Issuer {
    static ISSUER: OnceLock<Issuer> = OnceLock::new();
    ISSUER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::new(dir.path(), jsonwebtoken::Algorithm::EdDSA, "ed-1").unwrap();
        let jwks = dir.path().join("jwks.json");
        std::fs::write(&jwks, tokenscope_tests::oidc::jwks(&[&key])).unwrap();
        Issuer { key, jwks, _dir: dir }
    })
}

const ISS: &str = "https://ci.example";

fn config(dir: &std::path::Path) -> Config {
    let mut config = test_config(dir.join("tokens.db"));
    for (name, access) in [("project-admin", "manage"), ("reader", "read")] {
        config.roles.insert(name.into(), RoleConfig { description: String::new(), access: access.into() });
    }
    config.oidc.issuers.push(IssuerConfig {
        issuer: ISS.into(),
        audience: "tokenscope".into(),
        jwks_url: None,
        jwks_file: Some(issuer().jwks.clone()),
        max_ttl: Duration::from_secs(3600),
    });
    let rule = |n: usize, principal: &str, scopes: Option<&[&str]>, resources: Option<&[&str]>| RuleConfig {
        issuer: ISS.into(),
        claims: BTreeMap::from([("repository".to_owned(), format!("r{n}"))]),
        principal: principal.into(),
        scopes: scopes.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
        resources: resources.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
        ttl: Duration::from_secs(3600),
        max_live: 3,
    };
    config.oidc.rules = vec![
        rule(0, "ana", Some(&["artifact:download"]), None),
        rule(1, "ben", None, Some(&["channel/a=read"])),
        rule(2, "cy", Some(&["channel:view", "artifact:create"]), None),
        rule(3, "admin", None, Some(&["vault/v=write"])),
    ];
    config.tokens.max_ttl = Duration::from_secs(3 * 365 * 86_400);
    config.tokens.allow_no_expiry = true;
    config
}

struct Machine {
    t: TestAuthority,
    exchanger: Exchanger,
    /// The policy instance the invariant decides with.
    instance: PolicyInstance,
    /// Every principal id ever seen (removed ones too: a gone person still tries).
    people: Vec<PrincipalId>,
    /// Every token ever made (dead ones too: a dead token still tries).
    tokens: Vec<TokenId>,
    live: BTreeMap<TokenId, Held>,
    dead: Vec<String>,
    exchanged: u64,
    /// Operations that went through, by kind (the run's report).
    done: BTreeMap<&'static str, u64>,
    /// Sampled decisions that allowed.
    allowed: u64,
}

/// What an actor is at the moment it acts.
struct Snapshot {
    actor: Actor,
    principal: Option<(PrincipalId, String, Vec<ResourceGrant>)>,
    token: Option<(TokenId, Grants, Option<u64>)>,
}

fn as_itself(rights: &[ResourceGrant]) -> Token {
    Token {
        grants: Grants::Resources(rights.to_vec()),
        owner_rights: rights.to_vec(),
        expires_at: None,
        revoked: false,
    }
}

impl Machine {
    fn new(initial: &[Option<Vec<Right>>]) -> Machine {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let exchanger = Exchanger::new(&config.oidc);
        let t = TestAuthority::open(dir, config).unwrap();
        let a = &t.authority;
        let admin = a.add_principal(Actor::Operator, "admin", &[Binding::Grant("/=manage".into())]).unwrap();
        let mut people = vec![admin.id];
        for (name, rights) in NAMES.iter().skip(1).zip(initial) {
            let Some(rights) = rights else { continue };
            let bindings: Vec<Binding> = rights.iter().map(|r| binding(r, &[])).collect();
            let added = a
                .add_principal(Actor::Operator, name, &bindings)
                .or_else(|_| a.add_principal(Actor::Operator, name, &[]))
                .unwrap();
            people.push(added.id);
        }
        let instance = a.module().instantiate();
        Machine {
            t,
            exchanger,
            instance,
            people,
            tokens: Vec::new(),
            live: BTreeMap::new(),
            dead: Vec::new(),
            exchanged: 0,
            done: BTreeMap::new(),
            allowed: 0,
        }
    }

    fn a(&self) -> &Authority {
        &self.t.authority
    }

    fn now(&self) -> u64 {
        self.a().now().secs()
    }

    fn rights_of(&self, id: PrincipalId) -> Option<(String, Vec<ResourceGrant>)> {
        let principal = self.t.store.principal_by_id(id).unwrap()?;
        let rights = self.a().owner_rights(&principal).ok()?;
        Some((principal.name, rights))
    }

    fn actor(&self, who: &Who) -> Snapshot {
        match who {
            Who::Operator => Snapshot { actor: Actor::Operator, principal: None, token: None },
            Who::Person(i) => {
                let id = pick(&self.people, *i);
                let principal = self.rights_of(id).map(|(name, rights)| (id, name, rights));
                Snapshot { actor: Actor::Person(id), principal, token: None }
            }
            Who::Token(i) if self.tokens.is_empty() => self.actor(&Who::Person(*i)),
            Who::Token(i) => {
                let id = pick(&self.tokens, *i);
                let record = self.t.store.token(id).unwrap();
                let token = record
                    .as_ref()
                    .and_then(|r| Some((id, r.grants.to_grants().ok()?, r.expires_at.map(|e| e.secs()))));
                let principal =
                    record.as_ref().and_then(|r| self.rights_of(r.owner).map(|(name, rights)| (r.owner, name, rights)));
                Snapshot { actor: Actor::Token(id), principal, token }
            }
        }
    }

    /// What bounds a secret of `owner` that `snapshot` obtains or widens.
    fn bounds(snapshot: &Snapshot, owner: PrincipalId) -> Vec<Bound> {
        let mut bounds = Vec::new();
        if let Some((id, name, rights)) = &snapshot.principal
            && *id != owner
        {
            bounds.push(Bound::Principal(name.clone(), rights.clone()));
        }
        if let Some((id, grants, expires)) = &snapshot.token {
            bounds.push(Bound::Token(*id, grants.clone(), *expires));
        }
        bounds
    }

    fn owner_of(&self, id: TokenId) -> Option<PrincipalId> {
        self.t.store.token(id).unwrap().map(|r| r.owner)
    }

    fn kill(&mut self, id: TokenId) {
        if let Some(held) = self.live.remove(&id) {
            self.dead.push(held.secret);
        }
    }

    /// Applies one step and counts it when it went through.
    fn step(&mut self, op: &Op) -> (Vec<TokenId>, Option<(Snapshot, Vec<ResourceGrant>)>) {
        let (before, people) = (self.tokens.len() + self.live.len() + self.dead.len(), self.people.len());
        let kind = kind(op);
        let stamp = (self.t.store.change_counter().unwrap_or(0), self.now());
        let out = self.apply(op);
        let after = self.tokens.len() + self.live.len() + self.dead.len();
        let changed = (self.t.store.change_counter().unwrap_or(0), self.now()) != stamp;
        if changed || after != before || self.people.len() != people {
            *self.done.entry(kind).or_default() += 1;
        }
        out
    }

    /// Applies one step; the secrets it handed out or widened, and rights it
    /// bound with who bound them.
    fn apply(&mut self, op: &Op) -> (Vec<TokenId>, Option<(Snapshot, Vec<ResourceGrant>)>) {
        let name_of = |i: u8| pick(&NAMES, i);
        match op {
            Op::Add { who, name, rights } | Op::Bind { who, name, rights } => {
                let s = self.actor(who);
                let held = s.principal.as_ref().map(|(_, _, rights)| rights.clone()).unwrap_or_default();
                let bindings: Vec<Binding> = rights.iter().map(|r| binding(r, &held)).collect();
                let done = match op {
                    Op::Add { .. } => self.a().add_principal(s.actor, name_of(*name), &bindings),
                    _ => self.a().bind(s.actor, name_of(*name), &bindings),
                };
                if let Ok(principal) = done {
                    if !self.people.contains(&principal.id) {
                        self.people.push(principal.id);
                    }
                    let roles = &self.a().config().roles;
                    let bound: Vec<ResourceGrant> = bindings
                        .iter()
                        .filter_map(|b| tokenscope::authority::binding_right(b, roles).ok().flatten())
                        .collect();
                    let touched = self
                        .live
                        .values()
                        .map(|h| h.id)
                        .filter(|id| self.owner_of(*id) == Some(principal.id))
                        .collect();
                    return (touched, Some((s, bound)));
                }
            }
            Op::Remove { who, name } => {
                let s = self.actor(who);
                if self.a().remove_principal(s.actor, name_of(*name)).is_ok() {
                    let gone: Vec<TokenId> =
                        self.live.keys().copied().filter(|id| self.owner_of(*id).is_none()).collect();
                    for id in gone {
                        self.kill(id);
                    }
                }
            }
            Op::Unbind { who, name, pick: which } => {
                let s = self.actor(who);
                if let Ok(principal) = self.a().principal(name_of(*name))
                    && !principal.bindings.is_empty()
                {
                    let one = pick(&principal.bindings.iter().collect::<Vec<_>>(), *which).clone();
                    let _ = self.a().unbind(s.actor, &principal.name, &[one]);
                }
            }
            Op::Create { who, owner, wanted, hours } => {
                let s = self.actor(who);
                let owner = match (owner, &s.principal) {
                    (Some(i), _) => name_of(*i).to_owned(),
                    (None, Some((_, name, _))) => name.clone(),
                    (None, None) => name_of(0).to_owned(),
                };
                let grants = match wanted {
                    Wanted::Scopes(list, manages) => {
                        let mut scopes: Vec<String> = list.iter().map(|i| pick(&SCOPES, *i).to_owned()).collect();
                        if *manages {
                            scopes.push("user.token:*".into());
                        }
                        grants_from_texts(&scopes, &[])
                    }
                    Wanted::Resources(list) => grants_from_texts(
                        &[],
                        &list
                            .iter()
                            .map(|(node, access)| format!("{}={}", node_text(pick(&NODES, *node)), access_text(access)))
                            .collect::<Vec<_>>(),
                    ),
                    Wanted::Near(list, manages) => {
                        let principal = self.a().principal(&owner).ok();
                        let rights = principal.and_then(|p| self.a().owner_rights(&p).ok()).unwrap_or_default();
                        let mut texts: Vec<String> = list
                            .iter()
                            .map(|(i, access)| format!("{}={}", near(&rights, *i), access_text(access)))
                            .collect();
                        if *manages {
                            texts.insert(0, format!("user/{owner}=manage"));
                        }
                        texts.sort();
                        texts.dedup_by(|a, b| a.split('=').next() == b.split('=').next());
                        grants_from_texts(&[], &texts)
                    }
                };
                let Ok(grants) = grants else { return (Vec::new(), None) };
                let expiry = hours.map_or(Expiry::Default, |h| Expiry::Ttl(Duration::from_secs(u64::from(h) * 3600)));
                let request = IssueRequest {
                    owner,
                    name: "t".into(),
                    description: String::new(),
                    expiry,
                    grants,
                    exchange: None,
                };
                let made = self.a().create_token(s.actor, &request);
                if std::env::var_os("TOKENSCOPE_ESCALATION_WHY").is_some()
                    && let Err(err) = &made
                {
                    eprintln!("create by {:?} for {}: {err}", s.actor, request.owner);
                }
                if let Ok(issued) = made {
                    let id = issued.record.id;
                    self.tokens.push(id);
                    let bounds = Self::bounds(&s, issued.record.owner);
                    self.live.insert(id, Held { id, secret: issued.secret.expose().to_owned(), bounds });
                    return (vec![id], None);
                }
            }
            Op::Reissue { who, token } if !self.tokens.is_empty() => {
                let s = self.actor(who);
                let id = pick(&self.tokens, *token);
                let owner = self.owner_of(id);
                if let Ok(issued) = self.a().reissue_token(s.actor, id) {
                    self.kill(id);
                    let bounds = owner.map(|o| Self::bounds(&s, o)).unwrap_or_default();
                    self.live.insert(id, Held { id, secret: issued.secret.expose().to_owned(), bounds });
                    return (vec![id], None);
                }
            }
            Op::Expire { who, token, hours } if !self.tokens.is_empty() => {
                let s = self.actor(who);
                let id = pick(&self.tokens, *token);
                let before = self.t.store.token(id).unwrap().map(|r| r.expires_at);
                let expiry = hours.map_or(Expiry::Never, |h| Expiry::Ttl(Duration::from_secs(u64::from(h) * 3600)));
                let change = TokenChange { expiry: Some(expiry), ..TokenChange::default() };
                if let Ok((record, _)) = self.a().change_token(s.actor, id, None, change) {
                    let later = match (before.flatten(), record.expires_at) {
                        (Some(old), Some(new)) => new > old,
                        (Some(_), None) => true,
                        _ => false,
                    };
                    if later && let Some(held) = self.live.get_mut(&id) {
                        // From now on the lifetime is the extender's to answer for: an
                        // asking token's expiry bounded only the lifetime it granted.
                        for bound in &mut held.bounds {
                            if let Bound::Token(_, _, expires_at) = bound {
                                *expires_at = None;
                            }
                        }
                        held.bounds.extend(Self::bounds(&s, record.owner));
                        return (vec![id], None);
                    }
                }
            }
            Op::Revoke { who, token } if !self.tokens.is_empty() => {
                let s = self.actor(who);
                let id = pick(&self.tokens, *token);
                if self.a().revoke_token(s.actor, id, None).is_ok() {
                    self.kill(id);
                }
            }
            Op::Delete { who, token } if !self.tokens.is_empty() => {
                let s = self.actor(who);
                let id = pick(&self.tokens, *token);
                if self.a().delete_token(s.actor, id, None).is_ok() {
                    self.kill(id);
                }
            }
            Op::Exchange { rule, minutes } => {
                let now = self.now();
                self.exchanged += 1;
                let claims = json!({
                    "iss": ISS, "aud": "tokenscope", "sub": format!("job-{}", self.exchanged),
                    "repository": format!("r{rule}"), "iat": now, "exp": now + u64::from(*minutes) * 60,
                    "jti": self.exchanged,
                });
                let identity = issuer().key.sign(&claims);
                if let Ok((issued, _)) = self.exchanger.exchange(self.a(), &identity) {
                    let id = issued.record.id;
                    self.tokens.push(id);
                    self.live.insert(id, Held { id, secret: issued.secret.expose().to_owned(), bounds: Vec::new() });
                    // The same identity token again mints nothing.
                    assert!(
                        self.exchanger.exchange(self.a(), &identity).is_err(),
                        "an identity token was exchanged twice"
                    );
                    return (vec![id], None);
                }
            }
            Op::Wait { hours } => self.t.clock.advance(u64::from(*hours) * 3600),
            _ => {}
        }
        (Vec::new(), None)
    }

    fn decide(&mut self, token: &Token, action: &str, resource: &str, now: u64) -> bool {
        let request = Request { action: action.to_owned(), resource: resource.to_owned(), now };
        self.instance.decide(token, &request).is_allow()
    }

    /// Checks the invariant for `held` on `samples` requests (every one when
    /// `samples` is `None`): (1), (2), (3).
    fn check(
        &mut self,
        held: &Held,
        samples: Option<usize>,
        rng: &mut impl FnMut(usize) -> usize,
    ) -> Result<u64, TestCaseError> {
        let pairs: Vec<(usize, usize)> = match samples {
            None => (0..ACTIONS.len()).flat_map(|a| (0..NODES.len()).map(move |n| (a, n))).collect(),
            Some(k) => (0..k).map(|_| (rng(ACTIONS.len()), rng(NODES.len()))).collect(),
        };
        let now = self.now();
        let mut checked = 0;
        for (a, n) in pairs {
            let (action, resource) = (ACTIONS[a], NODES[n]);
            let verified = self.a().verify(Some(&held.secret), action, resource);
            checked += 1;
            if !matches!(verified.verdict, Verdict::Allow { .. }) {
                continue;
            }
            self.allowed += 1;
            let record = self
                .t
                .store
                .token(held.id)
                .unwrap()
                .ok_or_else(|| fail(held, action, resource, "a deleted token allowed"))?;
            let (owner, rights) = self
                .rights_of(record.owner)
                .ok_or_else(|| fail(held, action, resource, "allowed with its owner gone"))?;
            if !self.decide(&as_itself(&rights), action, resource, now) {
                return Err(fail(held, action, resource, &format!("(1) its owner `{owner}` does not hold it now")));
            }
            for bound in held.bounds.clone() {
                match bound {
                    Bound::Principal(name, rights) => {
                        if !self.decide(&as_itself(&rights), action, resource, now) {
                            return Err(fail(
                                held,
                                action,
                                resource,
                                &format!("(2) `{name}`, who obtained or widened it, did not hold it then"),
                            ));
                        }
                    }
                    Bound::Token(id, grants, expires_at) => {
                        let root = vec![parse_grant("/=manage").unwrap()];
                        let asking = Token { grants, owner_rights: root, expires_at, revoked: false };
                        if !self.decide(&asking, action, resource, now) {
                            return Err(fail(
                                held,
                                action,
                                resource,
                                &format!(
                                    "(3) token {id}, which obtained or widened it, does not cover it (or has expired)"
                                ),
                            ));
                        }
                    }
                }
            }
        }
        Ok(checked)
    }

    /// (4): rights bound by a person or a token were held by them when bound.
    fn check_bound(&mut self, snapshot: &Snapshot, bound: &[ResourceGrant]) -> Result<(), TestCaseError> {
        if snapshot.actor == Actor::Operator || bound.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let root = vec![parse_grant("/=manage").unwrap()];
        for action in ACTIONS {
            for resource in NODES {
                if !self.decide(&as_itself(bound), action, resource, now) {
                    continue;
                }
                let held_by_actor = snapshot.principal.as_ref().is_some_and(|(_, _, rights)| {
                    let rights = rights.clone();
                    self.decide(&as_itself(&rights), action, resource, now)
                });
                let within_token = snapshot.token.as_ref().is_none_or(|(_, grants, expires_at)| {
                    let asking = Token {
                        grants: grants.clone(),
                        owner_rights: root.clone(),
                        expires_at: *expires_at,
                        revoked: false,
                    };
                    self.decide(&asking, action, resource, now)
                });
                if !(held_by_actor && within_token) {
                    return Err(TestCaseError::fail(format!(
                        "(4) {:?} bound {bound:?}, which allows `{action}` on `{resource}` that it did not hold",
                        snapshot.actor
                    )));
                }
            }
        }
        Ok(())
    }
}

fn kind(op: &Op) -> &'static str {
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

fn fail(held: &Held, action: &str, resource: &str, why: &str) -> TestCaseError {
    TestCaseError::fail(format!("token {} allows `{action}` on `{resource}`: {why}; bounds {:?}", held.id, held.bounds))
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn no_sequence_of_operations_hands_out_more_than_its_actor_holds() {
    let cases =
        env("TOKENSCOPE_ESCALATION_CASES", if tokenscope_tests::postgres::backend_is_postgres() { 4 } else { 12 });
    let steps = usize::try_from(env("TOKENSCOPE_ESCALATION_STEPS", 40)).unwrap();
    let (total_steps, total_checks, total_allowed) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let done = std::sync::Mutex::new(BTreeMap::<&'static str, u64>::new());
    let started = Instant::now();
    let mut runner = TestRunner::new(RunnerConfig {
        cases: u32::try_from(cases).unwrap(),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..RunnerConfig::default()
    });
    let result = runner.run(&case(steps), |(initial, ops)| {
        let mut machine = Machine::new(&initial);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ ops.len() as u64;
        let mut rng = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            usize::try_from(seed % n as u64).unwrap_or(0)
        };
        for (step, op) in ops.iter().enumerate() {
            let (touched, bound) = machine.step(op);
            total_steps.fetch_add(1, Ordering::Relaxed);
            if let Some((snapshot, rights)) = &bound {
                machine
                    .check_bound(snapshot, rights)
                    .map_err(|e| TestCaseError::fail(format!("step {step} {op:?}: {e}")))?;
            }
            let live: Vec<Held> = machine.live.values().cloned().collect();
            for held in &live {
                let samples = if touched.contains(&held.id) { None } else { Some(3) };
                let checked = machine
                    .check(held, samples, &mut rng)
                    .map_err(|e| TestCaseError::fail(format!("step {step} {op:?}: {e}")))?;
                total_checks.fetch_add(checked, Ordering::Relaxed);
            }
            // (5) A secret that died never works again.
            if !machine.dead.is_empty() {
                let secret = machine.dead[rng(machine.dead.len())].clone();
                let (action, resource) = (ACTIONS[rng(ACTIONS.len())], NODES[rng(NODES.len())]);
                let verified = machine.a().verify(Some(&secret), action, resource);
                prop_assert!(
                    !verified.verdict.is_allow(),
                    "step {step} {op:?}: a dead secret allowed `{action}` on `{resource}`"
                );
            }
        }
        total_allowed.fetch_add(machine.allowed, Ordering::Relaxed);
        let mut all = done.lock().unwrap();
        for (kind, n) in &machine.done {
            *all.entry(kind).or_default() += n;
        }
        Ok(())
    });
    eprintln!(
        "no_escalation: {} steps, {} checked decisions ({} allowed), in {:.1} s ({cases} cases of {steps} steps, {}); \
         went through: {:?}",
        total_steps.load(Ordering::Relaxed),
        total_checks.load(Ordering::Relaxed),
        total_allowed.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        if tokenscope_tests::postgres::backend_is_postgres() { "PostgreSQL" } else { "SQLite" },
        done.lock().unwrap(),
    );
    if let Err(err) = result {
        panic!("{err}");
    }
}
