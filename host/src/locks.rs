//! One behaviour for a lock whose holder panicked (a poisoned lock), wherever
//! the host takes one: the lock is taken anyway, its poison is cleared, and
//! that is logged once. Every lock here guards state that stays usable after
//! a panic: caches and counters (whole entries are written under the lock),
//! sessions, swap history, a SQLite connection (an open transaction rolled
//! back as the panic unwound), a policy evaluator (a fault there is a deny).
//! Refusing every later request instead would turn one bug into an outage;
//! failing closed is the decisions' work, not the locks'.

use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

fn poisoned(what: &str) {
    tracing::error!(lock = what, "a thread panicked holding this lock; it is taken anyway (see locks.rs)");
}

/// Locks `mutex`, taking it anyway if its holder panicked.
pub fn lock<'a, T>(mutex: &'a Mutex<T>, what: &str) -> MutexGuard<'a, T> {
    mutex.lock().unwrap_or_else(|poison| {
        poisoned(what);
        mutex.clear_poison();
        poison.into_inner()
    })
}

/// Read-locks `lock`, taking it anyway if a writer panicked.
pub fn read<'a, T>(lock: &'a RwLock<T>, what: &str) -> RwLockReadGuard<'a, T> {
    lock.read().unwrap_or_else(|poison| {
        poisoned(what);
        lock.clear_poison();
        poison.into_inner()
    })
}

/// Write-locks `lock`, taking it anyway if a writer panicked.
pub fn write<'a, T>(lock: &'a RwLock<T>, what: &str) -> RwLockWriteGuard<'a, T> {
    lock.write().unwrap_or_else(|poison: PoisonError<_>| {
        poisoned(what);
        lock.clear_poison();
        poison.into_inner()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_is_taken_with_its_state_and_its_poison_cleared() {
        let mutex = std::sync::Arc::new(Mutex::new(vec![1]));
        let held = std::sync::Arc::clone(&mutex);
        let panicked = std::thread::spawn(move || {
            let mut guard = held.lock().unwrap();
            guard.push(2);
            panic!("a bug while holding the lock");
        })
        .join();
        assert!(panicked.is_err() && mutex.is_poisoned());
        assert_eq!(*lock(&mutex, "test"), vec![1, 2]);
        assert!(!mutex.is_poisoned(), "cleared: logged once, not on every later lock");

        let rw = std::sync::Arc::new(RwLock::new(0));
        let held = std::sync::Arc::clone(&rw);
        let _ = std::thread::spawn(move || {
            *held.write().unwrap() = 7;
            panic!("a bug while writing");
        })
        .join();
        assert_eq!(*read(&rw, "test"), 7);
        *write(&rw, "test") = 8;
        assert_eq!(*read(&rw, "test"), 8);
    }
}
