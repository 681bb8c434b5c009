//! The state machine of the escalation property test: a real authority over a
//! fresh store, the actors resolved at the moment they act, and each step
//! applied through the entry points the API, the page, the CLI and the
//! exchange call; what each live secret's obtainers held is kept beside it.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::json;
use tokenscope::authority::{Actor, Authority, Expiry, IssueRequest, TokenChange};
use tokenscope::config::{Config, IssuerConfig, RoleConfig, RuleConfig};
use tokenscope::contract::{Grants, ResourceGrant, Token};
use tokenscope::grant_text::grants_from_texts;
use tokenscope::oidc::Exchanger;
use tokenscope::runtime::PolicyInstance;
use tokenscope::store::{Binding, PrincipalId, TokenId};
use tokenscope_tests::authority::{TestAuthority, test_config};
use tokenscope_tests::oidc::Key;

use super::ops::{NAMES, NODES, Op, Right, SCOPES, Wanted, Who, access_text, binding, kind, near, node_text, pick};

/// What bounds a live secret besides its owner: who obtained or widened it.
#[derive(Clone, Debug)]
pub(super) enum Bound {
    /// A principal other than the owner, with its rights at that moment.
    Principal(String, Vec<ResourceGrant>),
    /// An asking token, with its grants and expiry at that moment.
    Token(TokenId, Grants, Option<u64>),
}

#[derive(Clone, Debug)]
pub(super) struct Held {
    pub(super) id: TokenId,
    pub(super) secret: String,
    pub(super) bounds: Vec<Bound>,
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

pub(super) struct Machine {
    pub(super) t: TestAuthority,
    exchanger: Exchanger,
    /// The policy instance the invariant decides with.
    pub(super) instance: PolicyInstance,
    /// Every principal id ever seen (removed ones too: a gone person still tries).
    people: Vec<PrincipalId>,
    /// Every token ever made (dead ones too: a dead token still tries).
    tokens: Vec<TokenId>,
    pub(super) live: BTreeMap<TokenId, Held>,
    pub(super) dead: Vec<String>,
    exchanged: u64,
    /// Operations that went through, by kind (the run's report).
    pub(super) done: BTreeMap<&'static str, u64>,
    /// Sampled decisions that allowed.
    pub(super) allowed: u64,
}

/// What an actor is at the moment it acts.
pub(super) struct Snapshot {
    pub(super) actor: Actor,
    pub(super) principal: Option<(PrincipalId, String, Vec<ResourceGrant>)>,
    pub(super) token: Option<(TokenId, Grants, Option<u64>)>,
}

pub(super) fn as_itself(rights: &[ResourceGrant]) -> Token {
    Token {
        grants: Grants::Resources(rights.to_vec()),
        owner_rights: rights.to_vec(),
        expires_at: None,
        revoked: false,
    }
}

impl Machine {
    pub(super) fn new(initial: &[Option<Vec<Right>>]) -> Machine {
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

    pub(super) fn a(&self) -> &Authority {
        &self.t.authority
    }

    pub(super) fn now(&self) -> u64 {
        self.a().now().secs()
    }

    pub(super) fn rights_of(&self, id: PrincipalId) -> Option<(String, Vec<ResourceGrant>)> {
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
    pub(super) fn step(&mut self, op: &Op) -> (Vec<TokenId>, Option<(Snapshot, Vec<ResourceGrant>)>) {
        let (before, people) = (self.tokens.len() + self.live.len() + self.dead.len(), self.people.len());
        let kind = kind(op);
        let stamp = (self.t.store.change_counter().unwrap_or(0), self.now());
        let trail = self.t.store.audit_head().unwrap().0;
        let out = self.apply(op);
        let after = self.tokens.len() + self.live.len() + self.dead.len();
        let counter = self.t.store.change_counter().unwrap_or(0);
        if counter != stamp.0 {
            // Whatever changed what a verification reads was recorded, in its own transaction.
            let events: Vec<_> =
                self.t.store.audit_rows(trail, 100).unwrap().iter().map(|row| row.record().unwrap()).collect();
            assert!(
                events.iter().any(|e| e.event.refused.is_none()),
                "{kind} changed the store with no event recording it: {events:?}"
            );
        }
        let changed = (counter, self.now()) != stamp;
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
                if let Ok((issued, _)) = self.exchanger.exchange(self.a(), &identity, None) {
                    let id = issued.record.id;
                    self.tokens.push(id);
                    self.live.insert(id, Held { id, secret: issued.secret.expose().to_owned(), bounds: Vec::new() });
                    // The same identity token again mints nothing.
                    assert!(
                        self.exchanger.exchange(self.a(), &identity, None).is_err(),
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
}
