//! Identifiers as their own types, so that an owner id cannot be passed where an account id
//! goes: each wraps a UUID, is stored as one, and prints as one.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new random id.
            pub fn generate() -> Self {
                $name(Uuid::new_v4())
            }

            /// The UUID inside.
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                $name(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id_type!(
    /// A customer account.
    AccountId
);
id_type!(
    /// A PAN, GSTIN or branch owner of an account (the `owner_id` header).
    OwnerId
);
id_type!(
    /// A person who logs in to the console.
    UserId
);
