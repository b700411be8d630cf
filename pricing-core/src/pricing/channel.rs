//! Sales channels, each with its own margin in the rules.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The public website.
    Retail,
    /// Jewellers and resellers buying for their own customers.
    Partner,
    /// MES internal orders.
    Mes,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Retail, Channel::Partner, Channel::Mes];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Retail => "retail",
            Channel::Partner => "partner",
            Channel::Mes => "mes",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `"retail" | "partner" | "mes"` (case-insensitive) was not given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel `{0}`; expected one of: retail, partner, mes")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == wanted)
            .ok_or_else(|| UnknownChannel(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_case_insensitively_and_rejects_others() {
        let cases = [
            ("retail", Ok(Channel::Retail)),
            (" Partner ", Ok(Channel::Partner)),
            ("MES", Ok(Channel::Mes)),
            ("wholesale", Err(UnknownChannel("wholesale".into()))),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Channel>(), expected, "{text:?}");
        }
        for c in Channel::ALL {
            assert_eq!(c.to_string().parse::<Channel>(), Ok(c));
        }
    }
}
