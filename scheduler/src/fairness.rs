//! Fairness between tenants within a lane: start-time fair queueing (SFQ) tags, turned into a
//! message priority the queue can enforce.
//!
//! Each lane keeps a virtual clock `V` (the start tag of the last job a worker started) and each
//! `(lane, tenant)` keeps the finish tag `F` of its last queued job. A new job of cost `c` from a
//! tenant of weight `w` gets
//!
//! ```text
//! start  S = max(V, F_tenant)
//! finish F_tenant := S + c / w
//! ```
//!
//! Serving jobs in ascending `S` gives each backlogged tenant a share of the lane proportional
//! to its weight, whatever order they were submitted in: a partner that floods 10,000 jobs gets
//! tags stretching far into the virtual future, while the website's next job starts at `V`.
//!
//! How it is enforced in practice: the broker queue is FIFO, and the outbox relay publishes as
//! soon as it can, so the tag itself cannot order deliveries. Instead each run message carries
//! an AMQP priority ([`priority_for_lag`], 0..=9, lane queues declared with `x-max-priority`
//! 10) computed from the job's lag `S - V` at submission: a job near the front of the fair order
//! gets a high priority, the 500th job of a flood a low one. What that guarantees:
//! - a tenant with no backlog (lag 0) is delivered ahead of every job of lag greater than about
//!   one quantum (see [`FairnessConfig::quantum_seconds`]) that is still in the queue;
//! - within one priority level delivery is FIFO, so the order is SFQ quantised to ten
//!   logarithmic buckets, not exact SFQ;
//! - the priority is fixed when the message is published. A flooding tenant's old low-priority
//!   jobs are overtaken only by jobs whose own lag is smaller, and a tenant's lag only stays
//!   small while it uses no more than its share, so the flood still drains at its fair share
//!   but is not strictly starvation-free if other tenants together exceed the lane's capacity.
//! - ETAs ([`crate::eta`]) are computed from the SFQ order, so they are estimates of that order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use contracts::Channel;

/// Highest AMQP priority used; lane queues should be declared with `x-max-priority` of 10.
pub const MAX_PRIORITY: u8 = 9;

/// Weights and quantum for tenant fairness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FairnessConfig {
    /// Weight of a tenant not listed in `tenant_weights`, by channel.
    pub website_weight: f64,
    pub partner_weight: f64,
    pub mes_weight: f64,
    /// Per-tenant overrides.
    pub tenant_weights: BTreeMap<String, f64>,
    /// Virtual seconds of lag that cost one priority level at first (levels are logarithmic:
    /// lag < 1 quantum keeps priority 9, < 3 quanta 8, < 7 quanta 7, ...).
    pub quantum_seconds: f64,
}

impl Default for FairnessConfig {
    fn default() -> Self {
        Self {
            website_weight: 1.0,
            partner_weight: 1.0,
            mes_weight: 1.0,
            tenant_weights: BTreeMap::new(),
            quantum_seconds: 1.0,
        }
    }
}

impl FairnessConfig {
    /// The weight of `tenant`, always finite and positive.
    pub fn weight(&self, tenant: &str, channel: Channel) -> f64 {
        let w = self
            .tenant_weights
            .get(tenant)
            .copied()
            .unwrap_or(match channel {
                Channel::Website => self.website_weight,
                Channel::Partner => self.partner_weight,
                Channel::Mes => self.mes_weight,
            });
        if w.is_finite() && w > 0.0 { w } else { 1.0 }
    }
}

/// SFQ tags of a new job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tags {
    pub start: f64,
    pub finish: f64,
}

/// Tags of a job of `cost_seconds` from a tenant of `weight`, given the lane clock and the
/// tenant's last finish tag (`None` when the tenant has never queued in this lane).
pub fn tags(
    lane_clock: f64,
    tenant_last_finish: Option<f64>,
    cost_seconds: f64,
    weight: f64,
) -> Tags {
    let start = tenant_last_finish.map_or(lane_clock, |f| f.max(lane_clock));
    let cost = if cost_seconds.is_finite() {
        cost_seconds.max(0.0)
    } else {
        0.0
    };
    Tags {
        start,
        finish: start + cost / weight,
    }
}

/// Message priority for a job whose start tag is `lag` virtual seconds ahead of the lane clock.
pub fn priority_for_lag(lag: f64, quantum_seconds: f64) -> u8 {
    if !lag.is_finite() || quantum_seconds.is_nan() || quantum_seconds <= 0.0 {
        return 0;
    }
    let levels = (1.0 + lag.max(0.0) / quantum_seconds).log2().floor();
    let drop = if levels >= f64::from(MAX_PRIORITY) {
        MAX_PRIORITY
    } else {
        levels as u8
    };
    MAX_PRIORITY - drop
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_cases() {
        // (clock, last finish, cost, weight, start, finish)
        let cases = [
            (0.0, None, 2.0, 1.0, 0.0, 2.0),
            (5.0, None, 2.0, 2.0, 5.0, 6.0),
            (5.0, Some(3.0), 1.0, 1.0, 5.0, 6.0),
            (5.0, Some(9.0), 1.0, 1.0, 9.0, 10.0),
            (5.0, Some(9.0), f64::NAN, 1.0, 9.0, 9.0),
            (5.0, Some(9.0), -4.0, 1.0, 9.0, 9.0),
        ];
        for (clock, last, cost, w, s, f) in cases {
            let t = tags(clock, last, cost, w);
            assert_eq!((t.start, t.finish), (s, f), "{clock} {last:?} {cost} {w}");
        }
    }

    #[test]
    fn flood_is_interleaved_with_an_idle_tenant() {
        // A partner queues 100 one-second jobs; then the website queues one. Its start tag is
        // the lane clock, ahead of 99 of the partner's jobs.
        let mut partner_finish = None;
        let mut partner_starts = Vec::new();
        for _ in 0..100 {
            let t = tags(0.0, partner_finish, 1.0, 1.0);
            partner_starts.push(t.start);
            partner_finish = Some(t.finish);
        }
        let web = tags(0.0, None, 1.0, 1.0);
        let ahead = partner_starts.iter().filter(|&&s| s < web.start).count();
        assert_eq!(ahead, 0);
        assert_eq!(priority_for_lag(web.start - 0.0, 1.0), MAX_PRIORITY);
        assert!(priority_for_lag(partner_starts[99], 1.0) < 4);
    }

    #[test]
    fn priority_cases() {
        // (lag, quantum, priority)
        let cases = [
            (0.0, 1.0, 9),
            (0.99, 1.0, 9),
            (1.0, 1.0, 8),
            (2.9, 1.0, 8),
            (3.0, 1.0, 7),
            (7.0, 1.0, 6),
            (100.0, 1.0, 3),
            (511.0, 1.0, 0),
            (1e12, 1.0, 0),
            (-5.0, 1.0, 9),
            (6.0, 2.0, 7),
            (f64::NAN, 1.0, 0),
            (1.0, 0.0, 0),
        ];
        for (lag, q, p) in cases {
            assert_eq!(priority_for_lag(lag, q), p, "lag {lag} quantum {q}");
        }
    }

    #[test]
    fn weights() {
        let mut c = FairnessConfig {
            partner_weight: 0.5,
            ..FairnessConfig::default()
        };
        c.tenant_weights.insert("acme".into(), 3.0);
        c.tenant_weights.insert("broken".into(), f64::NAN);
        assert_eq!(c.weight("acme", Channel::Partner), 3.0);
        assert_eq!(c.weight("other", Channel::Partner), 0.5);
        assert_eq!(c.weight("web", Channel::Website), 1.0);
        assert_eq!(c.weight("broken", Channel::Mes), 1.0);
    }
}
