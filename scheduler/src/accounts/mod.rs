//! The tables of who may call the API: keys ([`keys`]), their daily job quotas ([`quotas`]) and
//! the browser sessions exchanged for them ([`sessions`]).
//! Only storage lives here; what a key is allowed (roles, hashing, caching) is the API's.

pub mod keys;
pub mod quotas;
pub mod sessions;

pub use keys::KeyRow;
pub use quotas::{Quotas, Unit};
pub use sessions::SessionRow;
