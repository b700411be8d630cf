//! Routing keys of the results exchange and the AMQP topic-matching rule.

/// A job was priced; the quote is in the event.
pub const PRICE_CALCULATED: &str = "price.calculated";
/// The model cannot be priced as submitted (bad mesh, unknown alloy...): a final answer.
pub const PRICE_REJECTED: &str = "price.rejected";
/// Pricing failed for a technical reason after all attempts.
pub const PRICE_FAILED: &str = "price.failed";
/// A partner's order can be created in the CRM.
pub const CRM_ORDER_READY: &str = "crm.order.ready";
/// Routing key of [`crate::SubmitJob`] on the inbound exchange.
pub const MES_SUBMIT: &str = "mes.submit";

/// Binding of the MES results queue: every `price.*` event.
pub const MES_RESULTS_BINDING: &str = "price.#";
/// Binding of the CRM queue: every `crm.*` event.
pub const CRM_RESULTS_BINDING: &str = "crm.#";

/// Whether a topic-exchange binding `pattern` matches `routing_key`, as RabbitMQ decides it:
/// words are separated by `.`, `*` matches exactly one word, `#` matches zero or more words.
pub fn topic_matches(pattern: &str, routing_key: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('.').collect();
    let key: Vec<&str> = routing_key.split('.').collect();
    matches_from(&pattern, &key)
}

fn matches_from(pattern: &[&str], key: &[&str]) -> bool {
    match pattern.split_first() {
        None => key.is_empty(),
        Some((&"#", rest)) => (0..=key.len()).any(|skip| matches_from(rest, &key[skip..])),
        Some((&word, rest)) => match key.split_first() {
            Some((&first, key_rest)) => {
                (word == "*" || word == first) && matches_from(rest, key_rest)
            }
            None => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_matching_follows_amqp_rules() {
        let cases = [
            ("price.#", "price.calculated", true),
            ("price.#", "price", true),
            ("price.#", "price.a.b", true),
            ("price.#", "crm.order.ready", false),
            ("price.*", "price.calculated", true),
            ("price.*", "price", false),
            ("price.*", "price.a.b", false),
            ("*.order.*", "crm.order.ready", true),
            ("#", "anything.at.all", true),
            ("#", "", true),
            ("#.ready", "crm.order.ready", true),
            ("#.ready", "crm.order.done", false),
            ("crm.#.ready", "crm.ready", true),
            ("price.calculated", "price.calculated", true),
            ("price.calculated", "price.rejected", false),
            ("a.#.#.b", "a.b", true),
        ];
        for (pattern, key, expected) in cases {
            assert_eq!(topic_matches(pattern, key), expected, "{pattern} vs {key}");
        }
    }
}
