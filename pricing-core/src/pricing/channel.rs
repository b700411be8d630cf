//! Sales channels: where a job came from, and so whose margin applies. One type for the API, the
//! jobs, the rules and the messages; spelled `website`, `partner`, `mes` everywhere. `retail` (the
//! rules' and run message's word before contracts v2) is still read as `website`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The public website (retail customers).
    #[serde(alias = "retail")]
    Website,
    /// Jewellers and resellers buying for their own customers.
    Partner,
    /// MES internal orders.
    Mes,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Website, Channel::Partner, Channel::Mes];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Website => "website",
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

/// `"website" | "partner" | "mes"` (case-insensitive) was not given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel `{0}`; expected one of: website, partner, mes")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        if wanted == "retail" {
            return Ok(Channel::Website);
        }
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
            ("website", Ok(Channel::Website)),
            ("retail", Ok(Channel::Website)),
            (" Partner ", Ok(Channel::Partner)),
            ("MES", Ok(Channel::Mes)),
            ("wholesale", Err(UnknownChannel("wholesale".into()))),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Channel>(), expected, "{text:?}");
        }
        for c in Channel::ALL {
            assert_eq!(c.to_string().parse::<Channel>(), Ok(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{c}\""));
            assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), c);
        }
        assert_eq!(
            serde_json::from_str::<Channel>("\"retail\"").unwrap(),
            Channel::Website
        );
    }
}
