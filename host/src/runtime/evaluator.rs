//! A policy instance with its caches of compiled grants, as the host decides
//! live requests: a token's grants are compiled once per instance (they never
//! change after issuance), an owner's rights once per distinct set. A fault
//! replaces the instance and drops the caches with it.

use foldhash::{HashMap, HashMapExt};

use super::instance::{CompiledGrants, HotCall, PolicyFault, PolicyInstance};
use super::module::PolicyModule;
use crate::contract::{ActionId, Grants, ResourceGrant, TokenStatus};
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
    pub grants: &'a Grants,
    /// Its owner's rights now.
    pub owner_rights: &'a [ResourceGrant],
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
/// every owner with the same rights) shares one compiled handle, and a lookup
/// builds no key.
pub struct Evaluator {
    instance: PolicyInstance,
    generation: u64,
    tokens: HashMap<Grants, CompiledGrants>,
    owners: HashMap<Vec<ResourceGrant>, CompiledGrants>,
    /// Normalised grants, fetched from the instance once per grant set (for reports).
    normalized: HashMap<Grants, Grants>,
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
        // The hit path hashes each key once.
        if let (Some(token), Some(owner)) = (self.tokens.get(grants), self.owners.get(owner_rights)) {
            let verdict = Self::ask(&mut self.instance, token, owner, q);
            self.drop_stale_handles();
            return Ok(verdict);
        }
        if !self.tokens.contains_key(grants) {
            match self.instance.compile(grants)? {
                Ok(compiled) => {
                    if Self::make_room(&mut self.instance, &mut self.tokens) {
                        self.normalized.clear();
                    }
                    self.tokens.insert(grants.clone(), compiled);
                }
                Err(denial) => return Ok(Verdict::Deny { code: Code::Policy(denial.code), message: denial.message }),
            }
        }
        if !self.owners.contains_key(owner_rights) {
            match self.instance.compile(&Grants::Resources(owner_rights.to_vec()))? {
                Ok(compiled) => {
                    Self::make_room(&mut self.instance, &mut self.owners);
                    self.owners.insert(owner_rights.to_vec(), compiled);
                }
                Err(denial) => {
                    return Ok(Verdict::Deny {
                        code: Code::Policy(denial.code),
                        message: format!("the owner's rights are not valid: {}", denial.message),
                    });
                }
            }
        }
        let (Some(token), Some(owner)) = (self.tokens.get(grants), self.owners.get(owner_rights)) else {
            return Err(PolicyFault { message: "compiled grants vanished from the cache".into() });
        };
        let verdict = Self::ask(&mut self.instance, token, owner, q);
        self.drop_stale_handles();
        Ok(verdict)
    }

    /// The ruling for `q` with compiled sets; a deny is explained (its reason asked for).
    fn ask(instance: &mut PolicyInstance, token: &CompiledGrants, owner: &CompiledGrants, q: &Question<'_>) -> Verdict {
        let call =
            HotCall { token, owner, status: q.status, action: q.action, resource: q.resource, now: q.now.secs() };
        let verdict = instance.decide_compiled(&call);
        if matches!(verdict, Verdict::Deny { code: Code::Policy(_), .. }) {
            return instance.explain(&verdict, &call);
        }
        verdict
    }

    /// The normalised text of grant `index` of `grants` (compiled by an earlier
    /// `decide`), for reports; normalised grants cross the boundary once per grant set.
    pub fn grant_text(&mut self, grants: &Grants, index: u32) -> Option<String> {
        if !self.normalized.contains_key(grants) {
            let normalized = self.instance.normalized(self.tokens.get(grants)?).ok()?;
            self.normalized.insert(grants.clone(), normalized);
        }
        crate::grant_text::print_nth(self.normalized.get(grants)?, index)
    }

    fn drop_stale_handles(&mut self) {
        if self.instance.generation() != self.generation {
            // The instance was replaced after a fault: its handles died with it.
            self.tokens.clear();
            self.owners.clear();
            self.normalized.clear();
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
