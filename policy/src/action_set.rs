//! A set of catalog actions as a 128-bit mask: a compiled token's actions are
//! tested with one AND on the decision path, with no allocation.

/// An action's id: its index in the catalog (`catalog::CATALOG`), a `u32` as on the wire
/// (`decide-compiled`) and in the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionId(u32);

impl ActionId {
    /// The id the host passes over the wire.
    pub const fn from_wire(wire: u32) -> ActionId {
        ActionId(wire)
    }

    /// The id of catalog entry `index`, if the wire can carry it.
    pub fn from_index(index: usize) -> Option<ActionId> {
        u32::try_from(index).ok().map(ActionId)
    }

    /// The value on the wire.
    pub const fn wire(self) -> u32 {
        self.0
    }

    /// The catalog index (`usize::MAX`, which names nothing, if it cannot be one).
    pub fn index(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A set of catalog actions, one bit per action id (a catalog holds at most `CAPACITY`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActionSet(u128);

impl ActionSet {
    /// The most actions a catalog may hold.
    pub const CAPACITY: usize = 128;

    /// The set with no action.
    pub const fn empty() -> Self {
        ActionSet(0)
    }

    /// Adds `id`; true when it was not in the set yet.
    pub fn insert(&mut self, id: ActionId) -> bool {
        let bit = Self::bit(id);
        let fresh = self.0 & bit == 0;
        self.0 |= bit;
        fresh
    }

    /// Whether `id` is in the set. It tests one 64-bit half: a 128-bit shift is
    /// a library call inside wasm, and this runs on every decision.
    pub fn contains(self, id: ActionId) -> bool {
        let half = match id.wire() {
            0..64 => self.0 as u64,
            64..128 => (self.0 >> 64) as u64,
            _ => return false,
        };
        half >> (id.wire() % 64) & 1 == 1
    }

    /// The actions in either set.
    pub fn union(self, other: ActionSet) -> ActionSet {
        ActionSet(self.0 | other.0)
    }

    /// Whether every action of this set is in `other`.
    pub fn is_subset(self, other: ActionSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set holds no action.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many actions the set holds.
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The ids in ascending order.
    pub fn iter(self) -> impl Iterator<Item = ActionId> {
        (0..Self::CAPACITY).filter_map(ActionId::from_index).filter(move |id| self.contains(*id))
    }

    fn bit(id: ActionId) -> u128 {
        1u128.checked_shl(id.wire()).unwrap_or(0)
    }
}

impl FromIterator<ActionId> for ActionSet {
    fn from_iter<I: IntoIterator<Item = ActionId>>(iter: I) -> Self {
        let mut set = ActionSet::empty();
        for id in iter {
            set.insert(id);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_contains_and_iterate_in_order() {
        let id = ActionId::from_wire;
        let set: ActionSet = [5, 0, 127, 64].map(id).into_iter().collect();
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 5, 64, 127].map(id));
        assert!(set.contains(id(127)));
        assert!(!set.contains(id(1)));
        assert_eq!(set.len(), 4);
    }

    #[test]
    fn ids_past_capacity_are_never_members() {
        let mut set = ActionSet::empty();
        set.insert(ActionId::from_wire(500));
        assert!(set.is_empty());
        assert!(!set.contains(ActionId::from_wire(500)));
    }
}
