//! Names no other test (or test run) uses.

/// `{prefix}_{random}`: a valid PostgreSQL identifier and RabbitMQ name prefix when `prefix` is
/// lowercase letters, digits and underscores.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}
