//! Size lanes: each has its own run queue and workers, so a small job never waits behind a large
//! one. Which lane a job goes to is the scheduler's decision (`scheduler::routing`); this is the word.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A lane, ordered from the smallest jobs to the largest (`Ord` follows that order).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    Small,
    Medium,
    Large,
}

impl Lane {
    /// Smallest first: the order in which a worker with a free slot looks at the lanes.
    pub const ALL: [Lane; 3] = [Lane::Small, Lane::Medium, Lane::Large];

    pub const fn as_str(self) -> &'static str {
        match self {
            Lane::Small => "small",
            Lane::Medium => "medium",
            Lane::Large => "large",
        }
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown lane `{0}`; expected one of: small, medium, large")]
pub struct UnknownLane(pub String);

impl FromStr for Lane {
    type Err = UnknownLane;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Lane::ALL
            .into_iter()
            .find(|lane| lane.as_str() == wanted)
            .ok_or_else(|| UnknownLane(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order_is_small_first() {
        for lane in Lane::ALL {
            assert_eq!(lane.as_str().parse::<Lane>(), Ok(lane));
            assert_eq!(
                serde_json::to_value(lane).unwrap(),
                serde_json::json!(lane.as_str())
            );
        }
        assert_eq!(" Large ".parse::<Lane>(), Ok(Lane::Large));
        assert!("huge".parse::<Lane>().is_err());
        assert!(Lane::Small < Lane::Medium && Lane::Medium < Lane::Large);
    }
}
