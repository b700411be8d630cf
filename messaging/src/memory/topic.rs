//! The AMQP topic-matching rule, as the in-process broker applies it to its bindings.

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
