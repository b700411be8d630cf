//! The shipped rules file and the errors a broken rules file gives.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pricing_core::pricing::{Channel, Rules, RulesError, SHIPPED_RULES_TOML};
use sha2::{Digest, Sha256};

/// 1-based line of the first occurrence of `needle` at or after byte `from`.
fn line_of(text: &str, needle: &str, from: usize) -> usize {
    let at = from + text[from..].find(needle).expect("needle present");
    text[..at].matches('\n').count() + 1
}

/// The shipped text with the first `old` inside the `[alloys.<code>]` table replaced by `new`;
/// returns the edited text and the line of the edit.
fn edit_alloy(code: &str, old: &str, new: &str) -> (String, usize) {
    let header = format!("[alloys.{code}]");
    let start = SHIPPED_RULES_TOML.find(&header).expect("alloy table");
    let at = start + SHIPPED_RULES_TOML[start..].find(old).expect("key in table");
    let line = SHIPPED_RULES_TOML[..at].matches('\n').count() + 1;
    let mut text = SHIPPED_RULES_TOML.to_owned();
    text.replace_range(at..at + old.len(), new);
    (text, line)
}

fn shipped() -> Rules {
    Rules::default_shipped().expect("shipped rules parse")
}

#[test]
fn shipped_rules_parse_and_record_version_and_hash_of_the_exact_bytes() {
    let rules = shipped();
    assert_eq!(rules.version(), "2026.12.3");
    assert_eq!(rules.currency(), "EUR");
    assert_eq!(
        rules.content_hash(),
        hex::encode(Sha256::digest(SHIPPED_RULES_TOML.as_bytes()))
    );
    assert_eq!(rules.content_hash().len(), 64);

    // Same numbers, one more comment: same version, different hash (the hash is of the bytes).
    let commented = format!("{SHIPPED_RULES_TOML}\n# a note\n");
    let again = Rules::from_toml_str(&commented).unwrap();
    assert_eq!(again.version(), rules.version());
    assert_ne!(again.content_hash(), rules.content_hash());
}

#[test]
fn shipped_rules_cover_the_required_alloys_and_aliases() {
    let rules = shipped();
    let required = [
        "au375y", "au375w", "au375r", "au585y", "au585w", "au585r", "au750y", "au750w", "au750r",
        "au999", "ag925", "pt950", "pd500", "pd950",
    ];
    for code in required {
        let (canonical, _) = rules
            .resolve_alloy(code)
            .unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(canonical, code);
    }
    for (alias, target) in [
        ("au750", "au750y"),
        ("au585", "au585y"),
        ("au375", "au375y"),
        ("AU750 ", "au750y"),
    ] {
        assert_eq!(
            rules.resolve_alloy(alias).map(|(c, _)| c),
            Some(target),
            "{alias:?}"
        );
    }
    assert!(rules.resolve_alloy("au800").is_none());
    for channel in Channel::ALL {
        assert!(rules.margin_pct(channel) >= rust_decimal::Decimal::ZERO);
    }
}

/// The shipped densities are the chart's numbers (or the documented estimates); a change to any of them
/// must be deliberate, so it must change this table too.
#[test]
fn shipped_densities_are_the_published_chart_values() {
    let rules = shipped();
    let expected = [
        ("au585y", 13.07, "Stuller"),
        ("au585w", 12.61, "Stuller"),
        ("au585r", 13.26, "Stuller"),
        ("au750y", 15.58, "Stuller"),
        ("au750w", 14.64, "Stuller"),
        ("au750r", 15.18, "Stuller"),
        ("au999", 19.36, "Stuller"),
        ("ag925", 10.40, "Stuller"),
        ("pt950", 20.80, "Stuller"),
        ("au375y", 11.33, "estimate"),
        ("au375w", 12.62, "estimate"),
        ("au375r", 11.31, "estimate"),
        ("pd950", 12.04, "estimate"),
        ("pd500", 11.23, "estimate"),
    ];
    assert_eq!(
        rules.alloy_codes().count(),
        expected.len(),
        "every shipped alloy is pinned here"
    );
    for (code, density, source) in expected {
        let (_, alloy) = rules.resolve_alloy(code).unwrap();
        assert_eq!(alloy.density_g_cm3, density, "{code}");
        assert!(
            alloy.density_note.as_deref().unwrap_or("").contains(source),
            "{code} note names its source"
        );
    }
}

#[test]
fn shipped_minimum_walls_follow_casting_practice() {
    let rules = shipped();
    for code in rules.alloy_codes() {
        let (_, alloy) = rules.resolve_alloy(code).unwrap();
        assert!(
            (0.6..=0.8).contains(&alloy.min_wall_mm),
            "{code}: {}",
            alloy.min_wall_mm
        );
    }
}

#[test]
fn a_typo_in_a_key_names_its_line_and_the_key() {
    let (text, line) = edit_alloy("au750y", "price_per_g", "pirce_per_g");
    let err = Rules::from_toml_str(&text).unwrap_err();
    assert!(matches!(err, RulesError::Syntax { .. }), "{err:?}");
    assert_eq!(err.line(), Some(line), "{err}");
    let message = err.to_string();
    assert!(message.contains(&format!("line {line}")), "{message}");
    assert!(message.contains("pirce_per_g"), "{message}");
}

#[test]
fn an_alloy_missing_a_field_names_the_field_and_the_alloys_table() {
    let (text, _) = edit_alloy("au750y", "min_wall_mm = 0.6\n", "");
    let err = Rules::from_toml_str(&text).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("min_wall_mm"), "{message}");
    // The error points at the header of the incomplete table.
    let header = line_of(&text, "[alloys.au750y]", 0);
    assert_eq!(err.line(), Some(header), "{message}");
}

#[test]
fn broken_toml_names_its_line() {
    let broken = SHIPPED_RULES_TOML.replacen("currency = \"EUR\"", "currency = \"EUR", 1);
    let err = Rules::from_toml_str(&broken).unwrap_err();
    let expected = line_of(&broken, "currency = \"EUR", 0);
    assert_eq!(err.line(), Some(expected), "{err}");
    assert!(
        err.to_string().contains(&format!("line {expected}")),
        "{err}"
    );
}

#[test]
fn out_of_range_values_name_their_line_and_key_path() {
    let margin_at = SHIPPED_RULES_TOML.find("[channels.website]").unwrap();
    let cases: Vec<(String, usize, &str)> = vec![
        {
            let (t, l) = edit_alloy("au750y", "density_g_cm3 = 15.58", "density_g_cm3 = -15.58");
            (t, l, "alloys.au750y.density_g_cm3")
        },
        {
            let (t, l) = edit_alloy("pt950", "price_per_g = \"46.00\"", "price_per_g = \"0\"");
            (t, l, "alloys.pt950.price_per_g")
        },
        {
            let (t, l) = edit_alloy("ag925", "min_wall_mm = 0.8", "min_wall_mm = nan");
            (t, l, "alloys.ag925.min_wall_mm")
        },
        {
            let mut t = SHIPPED_RULES_TOML.to_owned();
            let at = margin_at + t[margin_at..].find("margin_pct = \"45\"").unwrap();
            t.replace_range(at..at + "margin_pct = \"45\"".len(), "margin_pct = \"400\"");
            let l = line_of(&t, "margin_pct = \"400\"", 0);
            (t, l, "channels.website.margin_pct")
        },
        {
            let t = SHIPPED_RULES_TOML.replacen("au750 = \"au750y\"", "au750 = \"au750x\"", 1);
            let l = line_of(&t, "au750 = \"au750x\"", 0);
            (t, l, "aliases.au750")
        },
        {
            let t = SHIPPED_RULES_TOML.replacen("currency = \"EUR\"", "currency = \"euro\"", 1);
            let l = line_of(&t, "currency = \"euro\"", 0);
            (t, l, "currency")
        },
        {
            let t = SHIPPED_RULES_TOML.replacen(
                "hard_wall_fraction = 0.5",
                "hard_wall_fraction = 1.5",
                1,
            );
            let l = line_of(&t, "hard_wall_fraction = 1.5", 0);
            (t, l, "manufacturability.hard_wall_fraction")
        },
    ];
    for (text, line, path) in cases {
        let err = Rules::from_toml_str(&text).unwrap_err();
        match &err {
            RulesError::Invalid { path: p, .. } => assert_eq!(p, path, "{err}"),
            other => panic!("expected Invalid for {path}, got {other:?}"),
        }
        assert_eq!(err.line(), Some(line), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("line {line}")) && message.contains(path),
            "{message}"
        );
    }
}

#[test]
fn unknown_enum_values_and_tables_are_refused_at_their_line() {
    let cases = [
        ("mode = \"half_even\"", "mode = \"half_down\"", "half_down"),
        (
            "[channels.mes]",
            "[channels.wholesale]\nmargin_pct = \"10\"\n\n[channels.mes]",
            "wholesale",
        ),
    ];
    for (old, new, named) in cases {
        let text = SHIPPED_RULES_TOML.replacen(old, new, 1);
        let err = Rules::from_toml_str(&text).unwrap_err();
        let first_new_line = new.lines().next().unwrap();
        let expected = line_of(&text, first_new_line, 0);
        let message = err.to_string();
        assert!(message.contains(named), "{message}");
        assert_eq!(err.line(), Some(expected), "{message}");
    }
}
