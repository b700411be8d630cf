//! What a worker does with the end of a pricing run: pure decisions, tested with tables.
//!
//! - a quote whose worst alloy is priced or needs review → PRICE_CALCULATED;
//! - a quote with a rejected alloy, or a parse/quote error → REJECTED with `code: message`
//!   (a final answer about the model: the same bytes would be rejected again);
//! - a panic, a timeout or an unreadable blob → retried by returning the message to its queue,
//!   unless this was the last attempt: then FAILED with the reason, and the message goes to the
//!   dead-letter queue.

use pricing_core::ModelQuote;
use pricing_core::pricing::{Severity, Status};
use scheduler::Outcome;

use crate::price::PriceRun;

/// Where a delivery stands among the attempts it is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Failed deliveries of this message before this one (the broker's count).
    pub delivery_count: u32,
    /// Returns the queue tolerates before dead-lettering (`x-delivery-limit`).
    pub delivery_limit: u32,
    /// Starts of the job so far, this one included (the store's count).
    pub job_attempts: u32,
    /// Starts the store allows before it fails the job.
    pub max_attempts: u32,
}

impl Attempt {
    /// True when a failure now is final: returning the message would make the broker
    /// dead-letter it (without our reason), or the store would refuse the next start.
    pub fn is_last(&self) -> bool {
        self.delivery_count >= self.delivery_limit || self.job_attempts >= self.max_attempts.max(1)
    }

    /// "delivery 2 of 4": for reasons recorded on the job.
    pub fn describe(&self) -> String {
        format!(
            "attempt {} of {}",
            self.job_attempts,
            self.max_attempts.max(1)
        )
    }
}

/// What to do with a run's delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Record this outcome with the job, then acknowledge.
    Complete(Outcome),
    /// Return the message to its queue (nack with requeue) for another attempt.
    Retry { reason: String },
    /// The last attempt failed: record FAILED with `reason`, then dead-letter the message.
    GiveUp { reason: String },
}

/// A reason stored on a job ([`contracts::Reason`]), so events can carry the machine code apart.
pub fn reason(code: &str, message: &str) -> String {
    contracts::Reason::new(code, message).to_string()
}

/// A technical failure: retried while attempts remain.
pub fn failure(reason: String, attempt: Attempt) -> Decision {
    if attempt.is_last() {
        Decision::GiveUp {
            reason: format!("{reason} ({})", attempt.describe()),
        }
    } else {
        Decision::Retry { reason }
    }
}

/// The decision for a finished pricing run.
pub fn decide(run: PriceRun, attempt: Attempt) -> Decision {
    match run {
        PriceRun::Quoted(quote) => quoted(&quote),
        PriceRun::Invalid(error) => Decision::Complete(Outcome::Rejected {
            reason: reason(error.code(), &error.to_string()),
        }),
        PriceRun::Panicked(message) => failure(reason("pricing_panicked", &message), attempt),
        PriceRun::TimedOut(after) => failure(
            reason(
                "pricing_timed_out",
                &format!("no result after {} ms", after.as_millis()),
            ),
            attempt,
        ),
    }
}

fn quoted(quote: &ModelQuote) -> Decision {
    if quote.worst_status() == Status::Rejected {
        return Decision::Complete(Outcome::Rejected {
            reason: rejection_reason(quote),
        });
    }
    match serde_json::to_value(quote) {
        Ok(json) => Decision::Complete(Outcome::Priced {
            quote: json,
            rules_version: quote.rules_version.clone(),
        }),
        // Cannot happen with the types involved, but must not lose the job if it does.
        Err(e) => Decision::Complete(Outcome::Failed {
            reason: reason("quote_not_serializable", &e.to_string()),
            retryable: false,
        }),
    }
}

/// The first blocker of the first rejected alloy, as `code: message`.
fn rejection_reason(quote: &ModelQuote) -> String {
    quote
        .alloys
        .iter()
        .filter(|a| a.status == Status::Rejected)
        .flat_map(|a| a.reasons.iter())
        .find(|r| r.severity == Severity::Blocker)
        .map(|r| {
            let code = serde_json::to_value(r.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "rejected".to_owned());
            reason(&code, &r.message)
        })
        .unwrap_or_else(|| reason("rejected", "the model cannot be made as it is"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pricing_core::pricing::{Channel, Rules};
    use pricing_core::{ParseError, PipelineError, QuoteRequest};
    use std::time::Duration;

    fn attempt(delivery_count: u32, job_attempts: u32) -> Attempt {
        Attempt {
            delivery_count,
            delivery_limit: 3,
            job_attempts,
            max_attempts: 3,
        }
    }

    fn quote_of(mesh: fixtures::PolyMesh) -> ModelQuote {
        let mut bytes = Vec::new();
        fixtures::write_stl_binary(&mesh.to_f32(), &mut bytes).unwrap();
        let req = QuoteRequest {
            alloys: vec!["au750y".into()],
            channel: Channel::Website,
            analyze: Default::default(),
            thickness: Default::default(),
        };
        pricing_core::quote_model(&bytes, &Rules::default_shipped().unwrap(), &req).unwrap()
    }

    #[test]
    fn last_attempt_cases() {
        // (delivery_count, job_attempts, last)
        let cases = [
            (0, 1, false),
            (1, 2, false),
            (2, 2, false),
            (3, 2, true),
            (0, 3, true),
            (5, 1, true),
        ];
        for (count, starts, last) in cases {
            assert_eq!(attempt(count, starts).is_last(), last, "{count} {starts}");
        }
    }

    #[test]
    fn technical_failures_retry_until_the_last_attempt() {
        let timed_out = || PriceRun::TimedOut(Duration::from_millis(250));
        assert_eq!(
            decide(timed_out(), attempt(0, 1)),
            Decision::Retry {
                reason: "pricing_timed_out: no result after 250 ms".into()
            }
        );
        assert_eq!(
            decide(timed_out(), attempt(2, 3)),
            Decision::GiveUp {
                reason: "pricing_timed_out: no result after 250 ms (attempt 3 of 3)".into()
            }
        );
        assert_eq!(
            decide(
                PriceRun::Panicked("index out of bounds".into()),
                attempt(1, 2)
            ),
            Decision::Retry {
                reason: "pricing_panicked: index out of bounds".into()
            }
        );
    }

    #[test]
    fn bad_models_are_rejected_at_once_with_their_code() {
        let run = PriceRun::Invalid(PipelineError::Parse(ParseError::Empty));
        let Decision::Complete(Outcome::Rejected { reason }) = decide(run, attempt(0, 1)) else {
            panic!("expected a rejection")
        };
        assert_eq!(contracts::Reason::parse(&reason, "x").code, "empty_file");
    }

    #[test]
    fn quotes_are_priced_or_rejected_by_their_worst_alloy() {
        let (ring, _) = fixtures::torus_ring(9.0, 1.2, 48, 24);
        let Decision::Complete(Outcome::Priced {
            quote,
            rules_version,
        }) = decide(PriceRun::Quoted(Box::new(quote_of(ring))), attempt(0, 1))
        else {
            panic!("expected a price")
        };
        assert_eq!(quote["rules_version"], rules_version.as_str());
        assert_eq!(quote["measurements"]["triangles"], 2304);

        // An open box cannot be cast: its alloy is rejected, so is the job, with the blocker's code.
        let (open, _) = fixtures::open_box([10.0, 8.0, 6.0], [0.0; 3]);
        let quote = quote_of(open);
        assert_eq!(quote.worst_status(), Status::Rejected);
        let Decision::Complete(Outcome::Rejected { reason }) =
            decide(PriceRun::Quoted(Box::new(quote)), attempt(0, 1))
        else {
            panic!("expected a rejection")
        };
        let contracts::Reason { code, message } = contracts::Reason::parse(&reason, "x");
        assert_eq!(code, "not_watertight", "{reason}");
        assert!(!message.is_empty());
    }
}
