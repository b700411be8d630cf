//! The exchanges messages are published to, by their name within a deployment: a broker
//! deployment prefixes them (`alexandrite.jobs`), so one broker can hold several (tests do).

use std::fmt;

/// An exchange of the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exchange {
    /// Run messages, routed by lane.
    Jobs,
    /// Result events for MES (`price.*`) and the CRM (`crm.*`).
    Results,
    /// MES's job submissions.
    Inbound,
    /// Where the consuming queues dead-letter, routed by source queue.
    DeadLetter,
}

impl Exchange {
    pub const ALL: [Exchange; 4] = [
        Exchange::Jobs,
        Exchange::Results,
        Exchange::Inbound,
        Exchange::DeadLetter,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Exchange::Jobs => "jobs",
            Exchange::Results => "results",
            Exchange::Inbound => "inbound",
            Exchange::DeadLetter => "dlx",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for e in Exchange::ALL {
            assert_eq!(Exchange::parse(e.as_str()), Some(e));
        }
        assert_eq!(Exchange::parse("jobs.small"), None);
    }
}
