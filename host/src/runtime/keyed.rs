//! Grants as the evaluator's caches key them: shared, hashed once when they are
//! read from the store, and compared by address before by value, so a decision
//! for a cached token neither hashes nor compares its grant strings.

use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};
use std::ops::Deref;
use std::sync::{Arc, LazyLock};

use crate::contract::{Grants, ResourceGrant};

/// One seed per process: equal values hash equal in every `Keyed`, and the
/// hashes cannot be foreseen from outside.
static SEED: LazyLock<foldhash::fast::RandomState> = LazyLock::new(foldhash::fast::RandomState::default);

/// A shared value with its hash, taken once. Two are equal when they hash
/// equal and are the same allocation or equal values.
pub struct Keyed<T: ?Sized> {
    hash: u64,
    value: Arc<T>,
}

/// A token's grants, keyed.
pub type KeyedGrants = Keyed<Grants>;
/// An owner's rights, keyed.
pub type KeyedRights = Keyed<[ResourceGrant]>;

impl<T: Hash + ?Sized> Keyed<T> {
    /// Keys `value`, hashing it now.
    pub fn new(value: Arc<T>) -> Keyed<T> {
        Keyed { hash: SEED.hash_one(&*value), value }
    }
}

impl<T: Hash> From<T> for Keyed<T> {
    fn from(value: T) -> Keyed<T> {
        Keyed::new(Arc::new(value))
    }
}

impl<T: Hash + Clone> From<&[T]> for Keyed<[T]> {
    fn from(value: &[T]) -> Keyed<[T]> {
        Keyed::new(Arc::from(value))
    }
}

impl<T: ?Sized> Keyed<T> {
    /// The shared value.
    pub fn shared(&self) -> &Arc<T> {
        &self.value
    }
}

impl<T: ?Sized> Clone for Keyed<T> {
    fn clone(&self) -> Self {
        Keyed { hash: self.hash, value: Arc::clone(&self.value) }
    }
}

impl<T: ?Sized> Deref for Keyed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: ?Sized> Hash for Keyed<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl<T: PartialEq + ?Sized> PartialEq for Keyed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.value, &other.value) || *self.value == *other.value)
    }
}

impl<T: Eq + ?Sized> Eq for Keyed<T> {}

impl<T: fmt::Debug + ?Sized> fmt::Debug for Keyed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{Access, Level};

    #[test]
    fn equal_values_are_equal_keys_whether_shared_or_not() {
        let scopes = || Grants::Scopes(vec!["artifact:download".into(), "channel:view".into()]);
        let one = KeyedGrants::from(scopes());
        let same = one.clone();
        let copy = KeyedGrants::from(scopes());
        let other = KeyedGrants::from(Grants::Scopes(vec!["artifact:download".into()]));
        assert!(one == same && one == copy && one != other);
        let hash = |k: &KeyedGrants| foldhash::fast::FixedState::default().hash_one(k);
        assert_eq!(hash(&one), hash(&copy));

        let read = ResourceGrant { resource: "channel/main".into(), access: Access::Level(Level::Read) };
        let rights = KeyedRights::from(&[read.clone()][..]);
        assert_eq!(rights, KeyedRights::from(&[read][..]));
        assert_ne!(rights, KeyedRights::from(&[][..]));
    }
}
