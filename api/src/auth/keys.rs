//! API keys: `alx_` + 64 hex digits (244 random bits), shown once at creation; the database keeps
//! only their SHA-256 (unsalted is enough for keys this long), a short prefix to tell them apart,
//! the role, tenant and limits. Lookups are cached for a few seconds, so a revocation takes effect
//! within [`CACHE_TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Principal, Role, default_tenant};
use scheduler::accounts::KeyRow;
use scheduler::store::Db;

/// How long a looked-up key is trusted without asking the database again.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const KEY_PREFIX: &str = "alx_";
/// Characters of the key kept in clear (prefix included), for listings.
const SHOWN_CHARS: usize = 12;

/// A stored key, without the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyRecord {
    pub id: Uuid,
    /// The key's first characters.
    pub key_prefix: String,
    pub role: Role,
    pub tenant: Option<String>,
    pub label: Option<String>,
    pub rate_per_minute: Option<u32>,
    pub daily_quota: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl KeyRecord {
    /// The caller this key authenticates. `default_rate` applies when the key has no own limit.
    pub fn principal(&self, default_rate: Option<u32>) -> Principal {
        Principal {
            key_id: Some(self.id),
            role: self.role,
            tenant: self
                .tenant
                .clone()
                .or_else(|| default_tenant(self.role).map(str::to_owned))
                .unwrap_or_default(),
            rate_per_minute: self.rate_per_minute.or(default_rate),
            daily_quota: self.daily_quota,
        }
    }
}

/// What a new key is for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewKey {
    pub role: Option<Role>,
    pub tenant: Option<String>,
    pub label: Option<String>,
    pub rate_per_minute: Option<u32>,
    pub daily_quota: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("a partner key needs a tenant (--tenant)")]
    TenantRequired,
    #[error("a role is required")]
    RoleRequired,
    #[error("limits must be at least 1")]
    ZeroLimit,
    #[error("no key matches {0:?}")]
    NotFound(String),
    #[error("{0:?} matches several keys; give more characters or the id")]
    Ambiguous(String),
    #[error("corrupt key row: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// SHA-256 of a key, lower-case hex.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A fresh random key.
pub fn generate_key() -> String {
    // Version-4 UUIDs come from the OS's cryptographic generator (getrandom).
    let a = Uuid::new_v4();
    let b = Uuid::new_v4();
    format!("{KEY_PREFIX}{}{}", a.simple(), b.simple())
}

/// The key table.
#[derive(Debug)]
pub struct KeyStore {
    db: Db,
    cache: Mutex<HashMap<String, (Instant, Option<KeyRecord>)>>,
}

impl KeyStore {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Creates a key; returns it (the only time it exists in clear) with its record.
    pub async fn create(&self, new: NewKey) -> Result<(String, KeyRecord), KeyError> {
        let role = new.role.ok_or(KeyError::RoleRequired)?;
        if role == Role::Partner && new.tenant.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(KeyError::TenantRequired);
        }
        if new.rate_per_minute == Some(0) || new.daily_quota == Some(0) {
            return Err(KeyError::ZeroLimit);
        }
        let key = generate_key();
        let record = KeyRecord {
            id: Uuid::now_v7(),
            key_prefix: key.chars().take(SHOWN_CHARS).collect(),
            role,
            tenant: new.tenant,
            label: new.label,
            rate_per_minute: new.rate_per_minute,
            daily_quota: new.daily_quota,
            created_at: Utc::now(),
            revoked_at: None,
        };
        let hash = hash_key(&key);
        self.db.insert_key(&record.row(), &hash).await?;
        Ok((key, record))
    }

    /// The active key `key` is, if any (cached for [`CACHE_TTL`]).
    pub async fn authenticate(&self, key: &str) -> Result<Option<KeyRecord>, KeyError> {
        let hash = hash_key(key);
        if let Ok(cache) = self.cache.lock()
            && let Some((at, record)) = cache.get(&hash)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(record.clone());
        }
        let record = match self.db.active_key(&hash).await? {
            Some(row) => Some(KeyRecord::of_row(row)?),
            None => None,
        };
        if let Ok(mut cache) = self.cache.lock() {
            // Bounded: unknown keys are cached too, so a flood of random keys is cleared out.
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (Instant::now(), record.clone()));
        }
        Ok(record)
    }

    /// Every key, newest first (revoked ones included).
    pub async fn list(&self) -> Result<Vec<KeyRecord>, KeyError> {
        let rows = self.db.keys().await?;
        rows.into_iter().map(KeyRecord::of_row).collect()
    }

    /// Active (not revoked) keys.
    pub async fn count_active(&self) -> Result<u64, KeyError> {
        Ok(self.db.count_active_keys().await?)
    }

    /// Revokes the key whose id or shown prefix is `id_or_prefix`; returns its record.
    pub async fn revoke(&self, id_or_prefix: &str) -> Result<KeyRecord, KeyError> {
        let wanted = id_or_prefix.trim();
        let matches: Vec<KeyRecord> = self
            .list()
            .await?
            .into_iter()
            .filter(|k| {
                k.id.to_string() == wanted
                    || k.id.simple().to_string() == wanted
                    || (wanted.len() >= 6 && k.key_prefix.starts_with(wanted))
            })
            .collect();
        let record = match matches.as_slice() {
            [] => return Err(KeyError::NotFound(wanted.to_owned())),
            [one] => one.clone(),
            _ => return Err(KeyError::Ambiguous(wanted.to_owned())),
        };
        let now = Utc::now();
        self.db.revoke_key(record.id, now).await?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
        Ok(KeyRecord {
            revoked_at: record.revoked_at.or(Some(now)),
            ..record
        })
    }
}

impl KeyRecord {
    /// A stored row, its role parsed (the one place the API reads the column).
    pub fn of_row(row: KeyRow) -> Result<Self, KeyError> {
        Ok(KeyRecord {
            id: row.id,
            key_prefix: row.key_prefix,
            role: row
                .role
                .parse()
                .map_err(|e| KeyError::Corrupt(format!("{e}")))?,
            tenant: row.tenant,
            label: row.label,
            rate_per_minute: row.rate_per_minute,
            daily_quota: row.daily_quota,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
        })
    }

    fn row(&self) -> KeyRow {
        KeyRow {
            id: self.id,
            key_prefix: self.key_prefix.clone(),
            role: self.role.as_str().to_owned(),
            tenant: self.tenant.clone(),
            label: self.label.clone(),
            rate_per_minute: self.rate_per_minute,
            daily_quota: self.daily_quota,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_and_hash_stably() {
        let a = generate_key();
        let b = generate_key();
        assert_ne!(a, b);
        assert!(a.starts_with("alx_") && a.len() == 4 + 64);
        assert_eq!(hash_key(&a), hash_key(&a));
        assert_eq!(hash_key(&a).len(), 64);
        assert_ne!(hash_key(&a), hash_key(&b));
    }
}
