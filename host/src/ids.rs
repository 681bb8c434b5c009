//! The ids of stored things, as newtypes over their row ids so that a token's id
//! can never be passed where a principal's is meant. A bare `i64` only at the
//! SQL edge; the policy runtime keys its caches by `TokenId` too.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An id: a newtype over the row id, so ids of different things cannot be swapped.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id of row `id` (the SQL form).
            pub const fn new(id: i64) -> $name {
                $name(id)
            }

            /// The row id (the SQL form).
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(text: &str) -> Result<$name, Self::Err> {
                text.parse().map($name)
            }
        }
    };
}

id_type!(
    /// A principal's id.
    PrincipalId
);
id_type!(
    /// A token's id (shown to people as the token's number).
    TokenId
);
