//! The table behind `grant-set-id`: compiled grant sets kept inside the
//! instance under small numbers that the host passes back on every decision (a
//! number crosses the boundary for free, a resource handle does not). Freed ids
//! are handed out again; an id that is not live finds nothing.

/// The most sets one instance keeps at once.
pub const MAX_SLOTS: usize = 1 << 20;

/// Values under reusable `u32` ids.
#[derive(Debug, Default)]
pub struct Slots<T> {
    entries: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Slots<T> {
    /// No entries.
    pub const fn new() -> Slots<T> {
        Slots { entries: Vec::new(), free: Vec::new() }
    }

    /// Keeps `value` and names it; `None` when the table is full.
    pub fn insert(&mut self, value: T) -> Option<u32> {
        if let Some(id) = self.free.pop()
            && let Some(slot) = self.entries.get_mut(id as usize)
        {
            *slot = Some(value);
            return Some(id);
        }
        if self.entries.len() >= MAX_SLOTS {
            return None;
        }
        let id = u32::try_from(self.entries.len()).ok()?;
        self.entries.push(Some(value));
        Some(id)
    }

    /// The live value under `id`.
    pub fn get(&self, id: u32) -> Option<&T> {
        self.entries.get(id as usize).and_then(Option::as_ref)
    }

    /// Frees `id` (a second free, or an id never handed out, does nothing).
    pub fn remove(&mut self, id: u32) -> Option<T> {
        let taken = self.entries.get_mut(id as usize).and_then(Option::take);
        if taken.is_some() {
            self.free.push(id);
        }
        taken
    }

    /// How many values are live.
    pub fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_reused_and_dead_ids_find_nothing() {
        let mut slots = Slots::new();
        let a = slots.insert("a").unwrap();
        let b = slots.insert("b").unwrap();
        assert_ne!(a, b);
        assert_eq!(slots.remove(a), Some("a"));
        assert_eq!(slots.get(a), None);
        assert_eq!(slots.remove(a), None, "a second free does nothing");
        assert_eq!(slots.remove(99), None);
        let c = slots.insert("c").unwrap();
        assert_eq!(c, a, "a freed id is handed out again");
        assert_eq!(slots.get(c), Some(&"c"));
        assert_eq!(slots.get(b), Some(&"b"));
        assert_eq!(slots.len(), 2);
    }
}
