//! [`QuoteSummary`] read from the quote document a job stores (the API's quote JSON), for the
//! CRM's order. Lenient: a field the document lacks is absent in the summary, never an error.

use serde_json::Value;

use crate::{AlloyTotal, QuoteSummary, RingSizeSummary, StoneSummary, StonesSummary};

/// A string, or a number written as text (decimals are strings in quotes, but be lenient).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn small(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|v| u32::try_from(v).ok())
}

impl QuoteSummary {
    /// What the CRM needs from the quote document `quote`.
    pub fn of_quote(quote: &Value) -> Self {
        let alloys = quote["alloys"]
            .as_array()
            .map(|alloys| alloys.iter().map(alloy).collect())
            .unwrap_or_default();
        let ring = &quote["ring"];
        let gems = &quote["gems"];
        QuoteSummary {
            rules_version: text(&quote["rules_version"]).unwrap_or_default(),
            currency: text(&quote["currency"]).unwrap_or_default(),
            alloys,
            ring: ring["inner_diameter_mm"]
                .as_f64()
                .map(|inner_diameter_mm| RingSizeSummary {
                    inner_diameter_mm,
                    iso_8653: small(&ring["iso_8653"]),
                    us_canada: ring["us_canada"].as_f64(),
                    uk_australia: text(&ring["uk_australia"]),
                    japan: small(&ring["japan"]),
                    note: text(&ring["note"]),
                }),
            stones: small(&gems["count"]).map(|count| StonesSummary {
                count,
                total_carat_if_diamond: gems["total_carat_if_diamond"].as_f64().unwrap_or(0.0),
                setting_total: text(&gems["setting_total"]).unwrap_or_default(),
                stones: gems["stones"]
                    .as_array()
                    .map(|rows| rows.iter().map(stone).collect())
                    .unwrap_or_default(),
            }),
        }
    }
}

fn alloy(a: &Value) -> AlloyTotal {
    AlloyTotal {
        alloy: text(&a["alloy"]).unwrap_or_default(),
        status: text(&a["status"]).unwrap_or_default(),
        weight_g: text(&a["weight_g"]),
        casting_charge_g: text(&a["weights"]["casting_charge"]["grams"]),
        finished_g: text(&a["weights"]["finished"]["grams"]),
        total: text(&a["total"]),
    }
}

fn stone(r: &Value) -> StoneSummary {
    StoneSummary {
        cut: text(&r["cut"]).unwrap_or_default(),
        length_mm: r["length_mm"].as_f64().unwrap_or(0.0),
        width_mm: r["width_mm"].as_f64().unwrap_or(0.0),
        depth_mm: r["depth_mm"].as_f64().unwrap_or(0.0),
        carat_if_diamond: r["carat_if_diamond"].as_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_of_a_quote_document() {
        let quote = json!({
            "rules_version": "2025.1",
            "currency": "EUR",
            "alloys": [
                {"alloy": "au750", "status": "priced", "weight_g": "3.21", "total": "412.50",
                 "weights": {"casting_charge": {"grams": "3.884"}, "finished": {"grams": "3.021"}}},
                {"alloy": "ag925", "status": "needs_review", "weight_g": 1.5, "total": null}
            ],
            "ring": {"inner_diameter_mm": 17.32, "iso_8653": 54, "us_canada": 7.0,
                     "uk_australia": "N 1/2", "japan": 14, "note": null},
            "gems": {"count": 1, "total_carat_if_diamond": 0.03, "setting_total": "6.00",
                     "stones": [{"cut": "round", "length_mm": 2.0, "width_mm": 1.98, "depth_mm": 1.24,
                                 "carat_if_diamond": 0.03, "setting": "6.00"}]}
        });
        let s = QuoteSummary::of_quote(&quote);
        assert_eq!(
            (s.rules_version.as_str(), s.currency.as_str()),
            ("2025.1", "EUR")
        );
        assert_eq!(
            s.alloys,
            [
                AlloyTotal {
                    alloy: "au750".into(),
                    status: "priced".into(),
                    weight_g: Some("3.21".into()),
                    casting_charge_g: Some("3.884".into()),
                    finished_g: Some("3.021".into()),
                    total: Some("412.50".into())
                },
                AlloyTotal {
                    alloy: "ag925".into(),
                    status: "needs_review".into(),
                    weight_g: Some("1.5".into()),
                    casting_charge_g: None,
                    finished_g: None,
                    total: None
                }
            ]
        );
        assert_eq!(
            s.ring,
            Some(RingSizeSummary {
                inner_diameter_mm: 17.32,
                iso_8653: Some(54),
                us_canada: Some(7.0),
                uk_australia: Some("N 1/2".into()),
                japan: Some(14),
                note: None,
            })
        );
        assert_eq!(
            s.stones,
            Some(StonesSummary {
                count: 1,
                total_carat_if_diamond: 0.03,
                setting_total: "6.00".into(),
                stones: vec![StoneSummary {
                    cut: "round".into(),
                    length_mm: 2.0,
                    width_mm: 1.98,
                    depth_mm: 1.24,
                    carat_if_diamond: Some(0.03),
                }],
            })
        );
    }

    #[test]
    fn a_bare_document_gives_an_empty_summary() {
        let s = QuoteSummary::of_quote(&json!(null));
        assert!(s.alloys.is_empty() && s.ring.is_none() && s.stones.is_none());
    }
}
