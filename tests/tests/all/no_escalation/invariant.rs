//! The invariant of the escalation property test, decided by the loaded
//! policy: what a live secret is allowed now, its owner holds now, and every
//! other principal or token that obtained or widened it held then; what a
//! person or token bound, it held.

use proptest::test_runner::TestCaseError;
use tokenscope::authority::Actor;
use tokenscope::contract::{Request, ResourceGrant, Token};
use tokenscope::grant_text::parse_grant;
use tokenscope::verdict::Verdict;

use super::machine::{Bound, Held, Machine, Snapshot, as_itself};
use super::ops::{ACTIONS, NODES};

impl Machine {
    pub(super) fn decide(&mut self, token: &Token, action: &str, resource: &str, now: u64) -> bool {
        let request = Request { action: action.to_owned(), resource: resource.to_owned(), now };
        self.instance.decide(token, &request).is_allow()
    }

    /// Checks the invariant for `held` on `samples` requests (every one when
    /// `samples` is `None`): (1), (2), (3).
    pub(super) fn check(
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
    pub(super) fn check_bound(&mut self, snapshot: &Snapshot, bound: &[ResourceGrant]) -> Result<(), TestCaseError> {
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

pub(super) fn fail(held: &Held, action: &str, resource: &str, why: &str) -> TestCaseError {
    TestCaseError::fail(format!("token {} allows `{action}` on `{resource}`: {why}; bounds {:?}", held.id, held.bounds))
}
