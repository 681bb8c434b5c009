//! The answers an evaluator gave this second, by question. A policy module
//! imports nothing, so the same question (compiled grants, owner, status,
//! action, resource, second) asked again gets the same answer, an allow or a
//! deny with its reason, without a call into the module. A fixed table whose
//! slots are reused in place: bounded memory, no allocation once warm, and a
//! flood of distinct questions only overwrites slots.

use std::hash::BuildHasher;

use crate::contract::{ActionId, TokenStatus};
use crate::verdict::Verdict;

/// How many answers are kept (a power of two: the slot is the hash's low bits).
const SLOTS: usize = 1024;
/// Longer resources are asked every time (a slot's text never grows past this).
const MAX_KEPT_RESOURCE: usize = 256;

/// Every input of a decision but the resource.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct RulingKey {
    /// The token's compiled grants (the module's handle).
    pub token: u32,
    /// The owner's compiled rights.
    pub owner: u32,
    pub status: TokenStatus,
    pub action: ActionId,
    /// The second asked about: an answer is never reused in another second.
    pub now: u64,
}

struct Slot {
    key: Option<RulingKey>,
    resource: String,
    verdict: Verdict,
}

/// Answers by question, one slot each.
pub(super) struct Rulings {
    slots: Box<[Slot]>,
    /// Seeded per evaluator: which questions share a slot cannot be chosen from outside.
    hasher: foldhash::fast::RandomState,
}

impl Default for Rulings {
    fn default() -> Rulings {
        let slots =
            (0..SLOTS).map(|_| Slot { key: None, resource: String::new(), verdict: Verdict::Allow { grant: 0 } });
        Rulings { slots: slots.collect(), hasher: foldhash::fast::RandomState::default() }
    }
}

/// The slot a question's answer is kept in, found once per question (its hash
/// is taken once, whether the answer is then read or written).
#[derive(Clone, Copy)]
pub(super) struct At(usize);

impl Rulings {
    /// Where the answer to this question is kept.
    pub fn at(&self, key: &RulingKey, resource: &str) -> At {
        // The mask keeps the index below SLOTS, so the truncation loses nothing used.
        At((self.hasher.hash_one((key, resource)) as usize) & (SLOTS - 1))
    }

    /// The answer given to this very question, if it is still kept at `at`.
    pub fn get(&self, at: At, key: &RulingKey, resource: &str) -> Option<Verdict> {
        let slot = self.slots.get(at.0)?;
        (slot.key.as_ref() == Some(key) && slot.resource == resource).then(|| slot.verdict.clone())
    }

    /// Keeps `verdict` at `at` as the answer to this question, in place of the slot's last one.
    pub fn put(&mut self, at: At, key: RulingKey, resource: &str, verdict: &Verdict) {
        if resource.len() > MAX_KEPT_RESOURCE {
            return;
        }
        if let Some(slot) = self.slots.get_mut(at.0) {
            slot.key = Some(key);
            slot.resource.clear();
            slot.resource.push_str(resource);
            slot.verdict = verdict.clone();
        }
    }

    /// Forgets every answer (the compiled handles they name were released).
    pub fn clear(&mut self) {
        for slot in self.slots.iter_mut() {
            slot.key = None;
        }
    }

    /// How many slots hold an answer.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|slot| slot.key.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Code;

    fn get(rulings: &Rulings, key: &RulingKey, resource: &str) -> Option<Verdict> {
        rulings.get(rulings.at(key, resource), key, resource)
    }

    fn put(rulings: &mut Rulings, key: RulingKey, resource: &str, verdict: &Verdict) {
        let at = rulings.at(&key, resource);
        rulings.put(at, key, resource, verdict);
    }

    fn key(now: u64) -> RulingKey {
        RulingKey {
            token: 1,
            owner: 2,
            status: TokenStatus { expires_at: None, revoked: false },
            action: ActionId::from_index(3).unwrap(),
            now,
        }
    }

    #[test]
    fn an_answer_is_given_back_only_for_the_very_same_question() {
        let mut rulings = Rulings::default();
        let deny = Verdict::deny(Code::UnknownToken, "no");
        put(&mut rulings, key(10), "channel/a", &deny);
        assert_eq!(get(&rulings, &key(10), "channel/a"), Some(deny));
        assert_eq!(get(&rulings, &key(11), "channel/a"), None, "another second");
        assert_eq!(get(&rulings, &key(10), "channel/ab"), None, "another resource");
        assert_eq!(get(&rulings, &RulingKey { owner: 9, ..key(10) }, "channel/a"), None, "another owner");
        rulings.clear();
        assert_eq!(get(&rulings, &key(10), "channel/a"), None);
    }

    #[test]
    fn a_flood_of_questions_stays_within_the_table() {
        let mut rulings = Rulings::default();
        for i in 0..(SLOTS * 20) {
            put(&mut rulings, key(1), &format!("channel/{i}"), &Verdict::Allow { grant: 0 });
        }
        assert!(rulings.len() <= SLOTS);
        assert!(rulings.slots.iter().all(|slot| slot.resource.capacity() <= 64), "slots reuse their text");
        put(&mut rulings, key(1), &"x".repeat(MAX_KEPT_RESOURCE + 1), &Verdict::Allow { grant: 0 });
        assert_eq!(get(&rulings, &key(1), &"x".repeat(MAX_KEPT_RESOURCE + 1)), None, "too long to keep");
    }
}
