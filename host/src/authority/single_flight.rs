//! One store read for many waiters: concurrent verifications of one secret
//! that the caches cannot answer share a single read of its hash (the first
//! reads, the others wait for its answer), so a burst of requests with a new
//! token costs the store one query. A flight is keyed by the caches'
//! generation too: a request that comes after a write through this process
//! never takes an answer read before it.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

use crate::locks;

/// Reads in flight, by key.
pub struct SingleFlight<K, V> {
    flights: Mutex<HashMap<K, Arc<OnceLock<V>>>>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight { flights: Mutex::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash + Copy, V: Clone> SingleFlight<K, V> {
    /// `read()`'s answer for `key`: read here, or, when a read of `key` is
    /// already in flight, that read's answer once it lands.
    pub fn once(&self, key: K, read: impl FnOnce() -> V) -> V {
        let flight = Arc::clone(locks::lock(&self.flights, "store reads in flight").entry(key).or_default());
        let answer = flight.get_or_init(read).clone();
        let mut flights = locks::lock(&self.flights, "store reads in flight");
        if flights.get(&key).is_some_and(|current| Arc::ptr_eq(current, &flight)) {
            flights.remove(&key);
        }
        answer
    }

    /// How many reads are in flight now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        locks::lock(&self.flights, "store reads in flight").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Barrier, mpsc};

    #[test]
    fn concurrent_reads_of_one_key_are_one_read_and_later_ones_read_again() {
        let flights = Arc::new(SingleFlight::<u8, usize>::default());
        let reads = Arc::new(AtomicUsize::new(0));
        let (release, gate) = mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        let started = Arc::new(Barrier::new(9));
        let waiters: Vec<_> = (0..8)
            .map(|_| {
                let (flights, reads, gate, started) =
                    (Arc::clone(&flights), Arc::clone(&reads), Arc::clone(&gate), Arc::clone(&started));
                std::thread::spawn(move || {
                    started.wait();
                    flights.once(7, || {
                        // The one read waits until all eight are waiting on it.
                        let _ = gate.lock().unwrap().recv();
                        reads.fetch_add(1, Ordering::SeqCst) + 100
                    })
                })
            })
            .collect();
        started.wait();
        while flights.len() == 0 {
            std::thread::yield_now();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        release.send(()).unwrap();
        let answers: Vec<usize> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
        assert!(answers.iter().all(|a| *a == 100), "{answers:?}");
        assert_eq!(reads.load(Ordering::SeqCst), 1, "one read for eight waiters");
        assert_eq!(flights.len(), 0, "the flight is over");
        release.send(()).unwrap();
        assert_eq!(flights.once(7, || reads.fetch_add(1, Ordering::SeqCst) + 100), 101, "a later request reads again");
    }
}
