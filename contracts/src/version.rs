//! `schema_version`: a field every contract carries, fixed per type, checked when decoding.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Serialises as the number `N` and refuses any number outside `OLDEST..=N`, so a consumer never
/// silently misreads a message written for another version of its contract. `OLDEST` is below `N`
/// only where the newer version retypes what the older one already said (the fields read the same).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SchemaVersion<const N: u32, const OLDEST: u32 = N>;

impl<const N: u32, const OLDEST: u32> SchemaVersion<N, OLDEST> {
    pub const VALUE: u32 = N;
}

impl<const N: u32, const OLDEST: u32> Serialize for SchemaVersion<N, OLDEST> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(N)
    }
}

impl<'de, const N: u32, const OLDEST: u32> Deserialize<'de> for SchemaVersion<N, OLDEST> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Expect<const M: u32, const O: u32>;
        impl<const M: u32, const O: u32> Visitor<'_> for Expect<M, O> {
            type Value = SchemaVersion<M, O>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "schema_version {O} to {M}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                if (u64::from(O)..=u64::from(M)).contains(&v) {
                    Ok(SchemaVersion)
                } else if O == M {
                    Err(E::custom(format!(
                        "unsupported schema_version {v}, this consumer reads {M}"
                    )))
                } else {
                    Err(E::custom(format!(
                        "unsupported schema_version {v}, this consumer reads {O} to {M}"
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
        deserializer.deserialize_u64(Expect::<N, OLDEST>)
    }
}

impl<const N: u32, const OLDEST: u32> JsonSchema for SchemaVersion<N, OLDEST> {
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

    #[test]
    fn a_range_accepts_its_older_versions_and_writes_the_newest() {
        type V = SchemaVersion<3, 2>;
        assert_eq!(serde_json::to_string(&V::default()).unwrap(), "3");
        for (text, ok) in [("1", false), ("2", true), ("3", true), ("4", false)] {
            assert_eq!(serde_json::from_str::<V>(text).is_ok(), ok, "{text}");
        }
    }
}
