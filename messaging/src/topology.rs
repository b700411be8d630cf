//! The broker entities this project declares, named from one prefix so tests can use their own.
//!
//! ```text
//! {p}.jobs     (direct)  --lane name-->        {p}.jobs.{small,medium,large}   quorum, delivery limit
//! {p}.inbound  (direct)  --mes.submit-->       {p}.mes.inbound                 quorum, delivery limit
//! {p}.results  (topic)   --price.#-->          {p}.results.mes                 quorum, delivery limit
//!                        --crm.#-->            {p}.results.crm                 quorum, delivery limit
//! {p}.dlx      (direct)  --source queue name-> {source queue}.dead             quorum, no limit
//! ```
//! Every queue with a delivery limit dead-letters (at-least-once) to `{p}.dlx` with its own name as
//! routing key, so each one has exactly one dead-letter queue.

use contracts::{Exchange, Lane, routing};

/// RabbitMQ's default is 20 in 4.x and unlimited in 3.x; we always set one explicitly.
pub const DEFAULT_DELIVERY_LIMIT: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExchangeKind {
    Direct,
    Topic,
}

impl ExchangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeKind::Direct => "direct",
            ExchangeKind::Topic => "topic",
        }
    }
}

/// A durable exchange.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExchangeSpec {
    pub name: String,
    pub kind: ExchangeKind,
}

/// Where a queue's rejected or over-delivered messages go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeadLetterRoute {
    pub exchange: String,
    pub routing_key: String,
}

/// A durable quorum queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueSpec {
    pub name: String,
    /// Failed deliveries (returns) tolerated before the broker dead-letters the message; see the
    /// crate docs for exactly how RabbitMQ 3.10 counts them.
    pub delivery_limit: Option<u32>,
    pub dead_letter: Option<DeadLetterRoute>,
}

/// `queue` receives what `exchange` routes with a key matching `routing_key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BindingSpec {
    pub exchange: String,
    pub queue: String,
    pub routing_key: String,
}

/// An exchange plus routing key: where a message is published.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    pub exchange: String,
    pub routing_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    prefix: String,
    delivery_limit: u32,
}

impl Topology {
    /// `prefix` is typically `alexandrite` in production and a random name in tests.
    pub fn new(prefix: impl Into<String>) -> Self {
        Topology {
            prefix: prefix.into(),
            delivery_limit: DEFAULT_DELIVERY_LIMIT,
        }
    }

    /// The `x-delivery-limit` of every consuming queue (not of dead-letter queues).
    pub fn with_delivery_limit(mut self, limit: u32) -> Self {
        self.delivery_limit = limit;
        self
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn delivery_limit(&self) -> u32 {
        self.delivery_limit
    }

    /// `exchange`'s name on the broker: the deployment's prefix and the contracts' name.
    pub fn exchange(&self, exchange: Exchange) -> String {
        format!("{}.{}", self.prefix, exchange.as_str())
    }

    pub fn jobs_exchange(&self) -> String {
        self.exchange(Exchange::Jobs)
    }

    pub fn results_exchange(&self) -> String {
        self.exchange(Exchange::Results)
    }

    pub fn inbound_exchange(&self) -> String {
        self.exchange(Exchange::Inbound)
    }

    pub fn dead_letter_exchange(&self) -> String {
        self.exchange(Exchange::DeadLetter)
    }

    /// Where the scheduler publishes a [`crate::RunJob`] for `lane`.
    pub fn job_route(&self, lane: Lane) -> Route {
        Route {
            exchange: self.jobs_exchange(),
            routing_key: lane.as_str().to_owned(),
        }
    }

    /// Where a result event with `routing_key` (see [`contracts::routing`]) is published.
    pub fn result_route(&self, routing_key: &str) -> Route {
        Route {
            exchange: self.results_exchange(),
            routing_key: routing_key.to_owned(),
        }
    }

    /// Where MES publishes a [`crate::SubmitJob`].
    pub fn inbound_route(&self) -> Route {
        Route {
            exchange: self.inbound_exchange(),
            routing_key: routing::MES_SUBMIT.to_owned(),
        }
    }

    pub fn lane_queue(&self, lane: Lane) -> QueueSpec {
        self.consuming_queue(format!("{}.jobs.{}", self.prefix, lane.as_str()))
    }

    pub fn inbound_queue(&self) -> QueueSpec {
        self.consuming_queue(format!("{}.mes.inbound", self.prefix))
    }

    /// Receives every `price.*` event for MES.
    pub fn mes_results_queue(&self) -> QueueSpec {
        self.consuming_queue(format!("{}.results.mes", self.prefix))
    }

    /// Receives every `crm.*` event for the CRM connector.
    pub fn crm_results_queue(&self) -> QueueSpec {
        self.consuming_queue(format!("{}.results.crm", self.prefix))
    }

    /// The dead-letter queue of `source` (one of this topology's consuming queues).
    pub fn dead_queue_of(&self, source: &QueueSpec) -> QueueSpec {
        QueueSpec {
            name: format!("{}.dead", source.name),
            delivery_limit: None,
            dead_letter: None,
        }
    }

    pub fn lane_dead_queue(&self, lane: Lane) -> QueueSpec {
        self.dead_queue_of(&self.lane_queue(lane))
    }

    fn consuming_queue(&self, name: String) -> QueueSpec {
        let dead_letter = DeadLetterRoute {
            exchange: self.dead_letter_exchange(),
            routing_key: name.clone(),
        };
        QueueSpec {
            name,
            delivery_limit: Some(self.delivery_limit),
            dead_letter: Some(dead_letter),
        }
    }

    pub fn exchanges(&self) -> Vec<ExchangeSpec> {
        vec![
            ExchangeSpec {
                name: self.jobs_exchange(),
                kind: ExchangeKind::Direct,
            },
            ExchangeSpec {
                name: self.results_exchange(),
                kind: ExchangeKind::Topic,
            },
            ExchangeSpec {
                name: self.inbound_exchange(),
                kind: ExchangeKind::Direct,
            },
            ExchangeSpec {
                name: self.dead_letter_exchange(),
                kind: ExchangeKind::Direct,
            },
        ]
    }

    /// Consuming queues with the binding that feeds each.
    fn consuming_queues(&self) -> Vec<(QueueSpec, Route)> {
        let mut queues: Vec<(QueueSpec, Route)> = Lane::ALL
            .into_iter()
            .map(|lane| (self.lane_queue(lane), self.job_route(lane)))
            .collect();
        queues.push((self.inbound_queue(), self.inbound_route()));
        queues.push((
            self.mes_results_queue(),
            self.result_route(routing::MES_RESULTS_BINDING),
        ));
        queues.push((
            self.crm_results_queue(),
            self.result_route(routing::CRM_RESULTS_BINDING),
        ));
        queues
    }

    /// Every queue, consuming queues first, then their dead-letter queues.
    pub fn queues(&self) -> Vec<QueueSpec> {
        let consuming: Vec<QueueSpec> = self
            .consuming_queues()
            .into_iter()
            .map(|(q, _)| q)
            .collect();
        let dead: Vec<QueueSpec> = consuming.iter().map(|q| self.dead_queue_of(q)).collect();
        consuming.into_iter().chain(dead).collect()
    }

    pub fn bindings(&self) -> Vec<BindingSpec> {
        let mut bindings = Vec::new();
        for (queue, route) in self.consuming_queues() {
            let dead = self.dead_queue_of(&queue);
            if let Some(dl) = &queue.dead_letter {
                bindings.push(BindingSpec {
                    exchange: dl.exchange.clone(),
                    queue: dead.name,
                    routing_key: dl.routing_key.clone(),
                });
            }
            bindings.push(BindingSpec {
                exchange: route.exchange,
                queue: queue.name,
                routing_key: route.routing_key,
            });
        }
        bindings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let t = Topology::new("t1");
        assert_eq!(t.lane_queue(Lane::Small).name, "t1.jobs.small");
        assert_eq!(t.lane_dead_queue(Lane::Large).name, "t1.jobs.large.dead");
        assert_eq!(t.inbound_queue().name, "t1.mes.inbound");
        assert_eq!(
            t.job_route(Lane::Medium),
            Route {
                exchange: "t1.jobs".into(),
                routing_key: "medium".into()
            }
        );
        assert_eq!(t.inbound_route().exchange, "t1.inbound");
        assert_eq!(t.result_route(routing::PRICE_FAILED).exchange, "t1.results");
    }

    #[test]
    fn every_consuming_queue_has_a_bound_dead_letter_queue_and_a_feed() {
        let t = Topology::new("p").with_delivery_limit(7);
        let queues = t.queues();
        let bindings = t.bindings();
        let consuming: Vec<&QueueSpec> =
            queues.iter().filter(|q| q.dead_letter.is_some()).collect();
        assert_eq!(consuming.len(), 6);
        for q in consuming {
            assert_eq!(q.delivery_limit, Some(7));
            let dl = q.dead_letter.as_ref().unwrap();
            let dead = t.dead_queue_of(q);
            assert!(
                queues.contains(&dead),
                "{} has no dead-letter queue",
                q.name
            );
            assert!(bindings.contains(&BindingSpec {
                exchange: dl.exchange.clone(),
                queue: dead.name.clone(),
                routing_key: dl.routing_key.clone(),
            }));
            assert!(
                bindings
                    .iter()
                    .any(|b| b.queue == q.name && b.exchange != t.dead_letter_exchange())
            );
        }
        let exchanges: Vec<String> = t.exchanges().into_iter().map(|e| e.name).collect();
        assert!(bindings.iter().all(|b| exchanges.contains(&b.exchange)));
        assert!(
            bindings
                .iter()
                .all(|b| queues.iter().any(|q| q.name == b.queue))
        );
    }
}
