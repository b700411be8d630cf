//! The tables of who may call the API: keys ([`keys`]) and their daily job quotas ([`quotas`]).
//! Only storage lives here; what a key is allowed (roles, hashing, caching) is the API's.

pub mod keys;
pub mod quotas;

pub use keys::KeyRow;
pub use quotas::{Quotas, Unit};
