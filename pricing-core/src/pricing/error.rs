//! Errors at the pricing boundary: a rules file that cannot be used, or a quote that cannot be made.

use super::location::Location;

/// Why a rules file was refused. Both variants name where in the file the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// Not valid TOML, an unknown key (typo), a missing key or a value of the wrong type.
    #[error("pricing rules, {}: {message}", fmt_location(.location))]
    Syntax {
        location: Option<Location>,
        message: String,
    },
    /// Well-formed, but a value is out of range or refers to something that does not exist.
    #[error("pricing rules, {}, `{path}`: {message}", fmt_location(.location))]
    Invalid {
        location: Option<Location>,
        path: String,
        message: String,
    },
}

impl RulesError {
    /// The line the error points at, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            RulesError::Syntax { location, .. } | RulesError::Invalid { location, .. } => {
                location.map(|l| l.line)
            }
        }
    }
}

fn fmt_location(location: &Option<Location>) -> String {
    location.map_or_else(|| "position unknown".to_owned(), |l| l.to_string())
}

/// Why no quote could be made at all (as opposed to a quote whose status is `rejected`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    #[error("unknown alloy `{requested}`; known codes: {known}")]
    UnknownAlloy { requested: String, known: String },
    #[error("no alloy requested; known codes: {known}")]
    NoAlloyRequested { known: String },
    /// The measurements themselves are unusable (NaN, infinite, negative area...): bad input.
    #[error("invalid measurement `{field}`: {reason}")]
    InvalidFacts { field: &'static str, reason: String },
    /// An amount does not fit an exact decimal (absurdly large model or price).
    #[error("amount out of range while computing {what}")]
    OutOfRange { what: &'static str },
}
