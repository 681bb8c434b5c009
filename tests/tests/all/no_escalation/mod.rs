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

mod invariant;
mod machine;
mod ops;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestCaseError, TestRunner};

use machine::{Held, Machine};
use ops::{ACTIONS, NODES, case};

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
        // Every change of the case is in the audit trail, whose chain is whole.
        let trail = tokenscope::authority::verify_trail(machine.t.store.as_ref(), None, None);
        prop_assert!(trail.is_ok(), "the audit trail does not verify: {trail:?}");
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
