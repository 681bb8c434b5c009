//! A policy instance with its caches of compiled grants, as the host decides
//! live requests: a token's grants are compiled once per instance (they never
//! change after issuance), an owner's rights once per distinct set, and an
//! answer (an allow, or a deny with its reason) once per distinct question in a
//! second (`rulings.rs`). A fault replaces the instance and drops the caches with it.

use foldhash::{HashMap, HashMapExt};

use super::instance::{CompiledGrants, HotCall, PolicyFault, PolicyInstance};
use super::keyed::{KeyedGrants, KeyedRights};
use super::module::PolicyModule;
use super::rulings::{RulingKey, Rulings};
use crate::contract::{ActionId, Grants, TokenStatus};
use crate::ids::TokenId;
use crate::time::UnixTime;
use crate::verdict::{Code, Verdict};

/// Past this many cached entries a cache is emptied and refilled on demand.
const MAX_CACHED: usize = 100_000;

/// One request for a stored token, with everything a decision needs.
#[derive(Clone, Copy)]
pub struct Question<'a> {
    /// The token, by id (the caches' key).
    pub token: TokenId,
    /// Its stored grants.
    pub grants: &'a KeyedGrants,
    /// Its owner's rights now.
    pub owner_rights: &'a KeyedRights,
    /// Its expiry and revocation.
    pub status: TokenStatus,
    /// The action, as the module numbers it.
    pub action: ActionId,
    /// The resource the action is asked on.
    pub resource: &'a str,
    /// When it is asked.
    pub now: UnixTime,
}

/// One policy instance with its caches of compiled grants: what decides live
/// requests. Grants are keyed by value, so every token with the same grants (and
/// every owner with the same rights) shares one compiled handle; a lookup takes
/// the hash the key carries and compares by address first (`Keyed`).
pub struct Evaluator {
    instance: PolicyInstance,
    generation: u64,
    tokens: HashMap<KeyedGrants, CompiledGrants>,
    owners: HashMap<KeyedRights, CompiledGrants>,
    /// Normalised grants, fetched from the instance once per grant set (for reports).
    normalized: HashMap<KeyedGrants, Grants>,
    /// Answers given this second, keyed by compiled ids: forgotten whenever ids are released.
    rulings: Rulings,
}

impl Evaluator {
    /// An evaluator over a fresh instance of `module` (started on first use).
    pub fn new(module: &PolicyModule) -> Evaluator {
        let instance = module.instantiate();
        Evaluator {
            generation: instance.generation(),
            instance,
            tokens: HashMap::new(),
            owners: HashMap::new(),
            normalized: HashMap::new(),
            rulings: Rulings::default(),
        }
    }

    /// The instance itself, for one-shot calls (`decide`, `info`) outside the caches.
    pub fn instance(&mut self) -> &mut PolicyInstance {
        &mut self.instance
    }

    /// Decides with cached compiled grants, a deny with its reason; never fails,
    /// a fault is a deny.
    pub fn decide(&mut self, q: &Question<'_>) -> Verdict {
        self.decide_inner(q).unwrap_or_else(Verdict::from)
    }

    fn decide_inner(&mut self, q: &Question<'_>) -> Result<Verdict, PolicyFault> {
        let Question { grants, owner_rights, .. } = *q;
        self.drop_stale_handles();
        // The hit path reads each key's hash once.
        if let (Some(token), Some(owner)) = (self.tokens.get(grants), self.owners.get(owner_rights)) {
            let verdict = Self::ask(&mut self.instance, &mut self.rulings, token, owner, q);
            self.drop_stale_handles();
            return Ok(verdict);
        }
        if !self.tokens.contains_key(grants) {
            match self.instance.compile(grants)? {
                Ok(compiled) => {
                    if Self::make_room(&mut self.instance, &mut self.tokens) {
                        self.normalized.clear();
                        self.rulings.clear();
                    }
                    self.tokens.insert(KeyedGrants::clone(grants), compiled);
                }
                Err(denial) => return Ok(Verdict::deny(Code::Policy(denial.code), denial.message)),
            }
        }
        if !self.owners.contains_key(owner_rights) {
            match self.instance.compile(&Grants::Resources(owner_rights.to_vec()))? {
                Ok(compiled) => {
                    if Self::make_room(&mut self.instance, &mut self.owners) {
                        self.rulings.clear();
                    }
                    self.owners.insert(KeyedRights::clone(owner_rights), compiled);
                }
                Err(denial) => {
                    return Ok(Verdict::deny(
                        Code::Policy(denial.code),
                        format!("the owner's rights are not valid: {}", denial.message),
                    ));
                }
            }
        }
        let (Some(token), Some(owner)) = (self.tokens.get(grants), self.owners.get(owner_rights)) else {
            return Err(PolicyFault { message: "compiled grants vanished from the cache".into() });
        };
        let verdict = Self::ask(&mut self.instance, &mut self.rulings, token, owner, q);
        self.drop_stale_handles();
        Ok(verdict)
    }

    /// The answer to `q` with compiled sets: the one already given to this
    /// very question this second, else the module's ruling, a deny explained
    /// (its reason asked for). Only the module's own answers are kept: a fault,
    /// or a reason whose code is not the ruling's, is asked again next time.
    fn ask(
        instance: &mut PolicyInstance,
        rulings: &mut Rulings,
        token: &CompiledGrants,
        owner: &CompiledGrants,
        q: &Question<'_>,
    ) -> Verdict {
        let call =
            HotCall { token, owner, status: q.status, action: q.action, resource: q.resource, now: q.now.secs() };
        let key = RulingKey { token: token.id(), owner: owner.id(), status: q.status, action: q.action, now: call.now };
        let at = rulings.at(&key, q.resource);
        if let Some(known) = rulings.get(at, &key, q.resource) {
            return known;
        }
        let verdict = instance.decide_compiled(&call);
        let answer = match &verdict {
            Verdict::Allow { .. } => verdict,
            Verdict::Deny { code: ruled @ Code::Policy(_), .. } => {
                let ruled = *ruled;
                let reason = instance.explain(&verdict, &call);
                if reason.code() != Some(ruled) {
                    return reason; // not the module's own answer to keep
                }
                reason
            }
            Verdict::Deny { .. } => return verdict,
        };
        rulings.put(at, key, q.resource, &answer);
        answer
    }

    /// The normalised text of grant `index` of `grants` (compiled by an earlier
    /// `decide`), for reports; normalised grants cross the boundary once per grant set.
    pub fn grant_text(&mut self, grants: &KeyedGrants, index: u32) -> Option<String> {
        if !self.normalized.contains_key(grants) {
            let normalized = self.instance.normalized(self.tokens.get(grants)?).ok()?;
            self.normalized.insert(KeyedGrants::clone(grants), normalized);
        }
        crate::grant_text::print_nth(self.normalized.get(grants)?, index)
    }

    fn drop_stale_handles(&mut self) {
        if self.instance.generation() != self.generation {
            // The instance was replaced after a fault: its handles died with it.
            self.tokens.clear();
            self.owners.clear();
            self.normalized.clear();
            self.rulings.clear();
            self.generation = self.instance.generation();
        }
    }

    /// Empties a full cache (freeing its handles); true when it did.
    fn make_room<K>(instance: &mut PolicyInstance, cache: &mut HashMap<K, CompiledGrants>) -> bool {
        if cache.len() < MAX_CACHED {
            return false;
        }
        for (_, compiled) in cache.drain() {
            let _ = instance.release(compiled);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Access, Level, ResourceGrant};
    use crate::runtime::{Limits, PolicyModule, Runtime};

    #[test]
    fn a_cached_reason_is_the_one_the_module_gives_for_that_very_question() {
        let runtime = Runtime::new().unwrap();
        let module = PolicyModule::embedded(&runtime, Limits::default()).unwrap();
        let download = module.action_id("artifact:download").unwrap();
        let create = module.action_id("artifact:create").unwrap();
        let grants = KeyedGrants::from(Grants::Scopes(vec!["artifact:download".into()]));
        let owner = KeyedRights::from(
            &[ResourceGrant { resource: "channel/main".into(), access: Access::Level(Level::Read) }][..],
        );
        let live = TokenStatus { expires_at: None, revoked: false };
        let expired = TokenStatus { expires_at: Some(1_000), revoked: false };
        let question = |status, action, resource, now| Question {
            token: TokenId::new(1),
            grants: &grants,
            owner_rights: &owner,
            status,
            action,
            resource,
            now: UnixTime::from_secs(now),
        };
        let questions = [
            question(live, download, "channel/private/artifact/a", 500),
            question(live, download, "channel/other/artifact/a", 500),
            question(live, create, "channel/main/artifact/a", 500),
            question(expired, download, "channel/main/artifact/a", 2_000),
            question(expired, download, "channel/private/artifact/a", 2_000),
            question(live, download, "channel/main/artifact/a", 500),
            question(live, download, "channel/private/artifact/a", 501),
        ];
        let mut cached = Evaluator::new(&module);
        // Asked over and over in an interleaved order, each answer is what a
        // fresh evaluator (nothing cached) answers for that question.
        for round in 0..3 {
            for (i, q) in questions.iter().enumerate().cycle().skip(round).take(questions.len()) {
                let fresh = Evaluator::new(&module).decide(q);
                assert_eq!(cached.decide(q), fresh, "question {i}, round {round}");
            }
        }
        // Allows and explained denies are both kept (two may share a slot).
        assert!((1..=questions.len()).contains(&cached.rulings.len()), "{}", cached.rulings.len());
        let Verdict::Deny { message, .. } = cached.decide(&questions[0]) else { panic!("a deny") };
        assert!(message.contains("channel/private"), "{message}");
    }
}
