//! `schema_version`: a field every contract carries, fixed per type, checked when decoding.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Serialises as the number `N` and refuses any other number, so a consumer never silently
/// misreads a message written for another version of its contract.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SchemaVersion<const N: u32>;

impl<const N: u32> SchemaVersion<N> {
    pub const VALUE: u32 = N;
}

impl<const N: u32> Serialize for SchemaVersion<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(N)
    }
}

impl<'de, const N: u32> Deserialize<'de> for SchemaVersion<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Expect<const M: u32>;
        impl<const M: u32> Visitor<'_> for Expect<M> {
            type Value = SchemaVersion<M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "schema_version {M}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                if v == u64::from(M) {
                    Ok(SchemaVersion)
                } else {
                    Err(E::custom(format!(
                        "unsupported schema_version {v}, this consumer reads {M}"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("unsupported schema_version {v}"))),
                }
            }
        }
        deserializer.deserialize_u64(Expect::<N>)
    }
}

impl<const N: u32> JsonSchema for SchemaVersion<N> {
    fn schema_name() -> Cow<'static, str> {
        format!("SchemaVersion{N}").into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        let mut schema = Schema::default();
        schema.insert("type".into(), "integer".into());
        schema.insert("const".into(), N.into());
        schema.insert(
            "description".into(),
            "Version of this message's contract; a consumer refuses versions it does not know."
                .into(),
        );
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_its_own_number() {
        assert_eq!(serde_json::to_string(&SchemaVersion::<2>).unwrap(), "2");
        assert!(serde_json::from_str::<SchemaVersion<2>>("2").is_ok());
        assert!(serde_json::from_str::<SchemaVersion<2>>("1").is_err());
        assert!(serde_json::from_str::<SchemaVersion<2>>("-2").is_err());
        assert!(serde_json::from_str::<SchemaVersion<2>>("\"2\"").is_err());
    }
}
