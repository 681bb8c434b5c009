//! How many refused attempts an actor may have recorded a minute: a flood of
//! refusals (a leaked token hammering what it may not do) must neither grow the
//! trail without end nor hold the store's writer. Past the budget they are
//! counted, and the actor's next recorded refusal says how many went unrecorded.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

/// The most actors remembered at once (limiter states, unrecorded counts);
/// past it, those idle long enough to have their whole budget back are forgotten.
const REMEMBERED: usize = 65_536;

/// Each actor's budget of recorded refusals.
pub struct RefusalBudget<C: Clock = DefaultClock> {
    limiter: RateLimiter<String, DashMapStateStore<String>, C, NoOpMiddleware<C::Instant>>,
    unrecorded: Mutex<HashMap<String, u64>>,
}

/// What becomes of one refused attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Record it, saying how many of the actor's refusals before it were not.
    Record {
        /// Refusals counted, not recorded, since the actor's last recorded one.
        unrecorded: u64,
    },
    /// Count it only; `first` when it is the first one past the budget.
    Count {
        /// The first refusal past the budget since the last recorded one.
        first: bool,
    },
}

impl RefusalBudget {
    /// `per_minute` recorded refusals an actor, on the system's monotonic clock.
    pub fn per_minute(per_minute: NonZeroU32) -> RefusalBudget {
        RefusalBudget::with_clock(per_minute, DefaultClock::default())
    }
}

impl<C: Clock> RefusalBudget<C> {
    /// `per_minute` recorded refusals an actor (all at once, at most), on `clock`.
    pub fn with_clock(per_minute: NonZeroU32, clock: C) -> RefusalBudget<C> {
        RefusalBudget {
            limiter: RateLimiter::dashmap_with_clock(Quota::per_minute(per_minute), clock),
            unrecorded: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one refused attempt of `actor` (its label, `token:17`).
    pub fn admit(&self, actor: &str) -> Refusal {
        if self.limiter.len() > REMEMBERED {
            self.limiter.retain_recent();
        }
        let mut unrecorded = crate::locks::lock(&self.unrecorded, "unrecorded refusals");
        let key = actor.to_owned();
        if self.limiter.check_key(&key).is_ok() {
            return Refusal::Record { unrecorded: unrecorded.remove(actor).unwrap_or(0) };
        }
        if unrecorded.len() >= REMEMBERED && !unrecorded.contains_key(actor) {
            tracing::warn!(
                "{REMEMBERED} actors past their refusal budget at once; their unrecorded counts are dropped"
            );
            unrecorded.clear();
        }
        let count = unrecorded.entry(key).or_insert(0);
        *count += 1;
        Refusal::Count { first: *count == 1 }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    #[test]
    fn past_the_budget_refusals_are_counted_and_the_next_recorded_one_says_how_many() {
        let clock = FakeRelativeClock::default();
        let budget = RefusalBudget::with_clock(NonZeroU32::new(3).unwrap_or(NonZeroU32::MIN), clock.clone());
        for _ in 0..3 {
            assert_eq!(budget.admit("token:1"), Refusal::Record { unrecorded: 0 });
        }
        assert_eq!(budget.admit("token:1"), Refusal::Count { first: true });
        assert_eq!(budget.admit("token:1"), Refusal::Count { first: false });
        // Another actor has a budget of its own.
        assert_eq!(budget.admit("token:2"), Refusal::Record { unrecorded: 0 });
        // A third of a minute later, one more is recorded, carrying the count.
        clock.advance(Duration::from_secs(20));
        assert_eq!(budget.admit("token:1"), Refusal::Record { unrecorded: 2 });
        assert_eq!(budget.admit("token:1"), Refusal::Count { first: true });
        clock.advance(Duration::from_secs(60));
        assert_eq!(budget.admit("token:1"), Refusal::Record { unrecorded: 1 });
        assert_eq!(budget.admit("token:1"), Refusal::Record { unrecorded: 0 });
    }
}
