//! A ring's size in the charts jewellers use, from its bore's inner diameter; see the rules'
//! `[ring_sizes]` for the charts and their sources.

use serde::Serialize;

use super::rules::RingSizeCharts;
use crate::ring::Bore;

/// What a jeweller reads off a ring sizer, or why it cannot be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RingSize {
    pub inner_diameter_mm: f64,
    pub inner_circumference_mm: f64,
    /// Largest minus smallest diameter round the bore.
    pub out_of_round_mm: f64,
    /// Whether sizes are given: a round bore within the charts' range.
    pub sizable: bool,
    /// ISO 8653 (EU): the inner circumference in whole millimetres.
    pub iso_8653: Option<u32>,
    /// US / Canada, to the nearest quarter size.
    pub us_canada: Option<f64>,
    /// UK / Australia: a letter, with " 1/2" for half sizes.
    pub uk_australia: Option<String>,
    /// Japan (JIS).
    pub japan: Option<u32>,
    /// The charts used (the rules' `ring_sizes.source`).
    pub chart: String,
    /// Why no size is given, in a sentence; `None` when sized.
    pub note: Option<String>,
}

/// Sizes for `bore` in every chart, or a note saying why it cannot be sized.
pub fn ring_size(bore: &Bore, charts: &RingSizeCharts) -> RingSize {
    let d = bore.inner_diameter_mm;
    let c = std::f64::consts::PI * d;
    let note = if bore.out_of_round_mm > charts.out_of_round_tolerance_mm {
        Some(format!(
            "The inside of the ring is not round enough to size: its diameter varies by {:.2} mm \
             round the bore (more than {:.2} mm). Make the inner surface a circle, or give the size \
             with the order.",
            bore.out_of_round_mm, charts.out_of_round_tolerance_mm
        ))
    } else if d < charts.min_inner_diameter_mm || d > charts.max_inner_diameter_mm {
        Some(format!(
            "The opening is {d:.2} mm across, outside finger-ring sizes ({:.0}-{:.0} mm): no ring size \
             is given.",
            charts.min_inner_diameter_mm, charts.max_inner_diameter_mm
        ))
    } else {
        None
    };
    let sizable = note.is_none();
    let us = (c - charts.us_base_circumference_mm) / charts.us_step_mm;
    let us_quarter = (us * 4.0).round() / 4.0;
    RingSize {
        inner_diameter_mm: d,
        inner_circumference_mm: c,
        out_of_round_mm: bore.out_of_round_mm,
        sizable,
        iso_8653: sizable.then(|| c.round() as u32),
        us_canada: (sizable && us_quarter >= 0.0).then_some(us_quarter),
        uk_australia: if sizable { uk(c, charts) } else { None },
        japan: if sizable { japan(us, charts) } else { None },
        chart: charts.source.clone(),
        note,
    }
}

/// The UK letter for circumference `c`: the nearest half size.
fn uk(c: f64, charts: &RingSizeCharts) -> Option<String> {
    let halves = (2.0 * (c - charts.uk_base_circumference_mm) / charts.uk_step_mm).round();
    if !(0.0..52.0).contains(&halves) {
        return None;
    }
    let halves = halves as u8;
    let letter = char::from(b'A' + halves / 2);
    Some(if halves % 2 == 1 {
        format!("{letter} 1/2")
    } else {
        letter.to_string()
    })
}

/// The Japanese size whose US equivalent is nearest `us` (the lower size on a tie), within half a
/// US size of the chart's ends.
fn japan(us: f64, charts: &RingSizeCharts) -> Option<u32> {
    let table = &charts.japan_as_us;
    let (first, last) = (*table.first()?, *table.last()?);
    if us < first - 0.5 || us > last + 0.5 {
        return None;
    }
    let mut best: Option<(f64, usize)> = None;
    for (i, &u) in table.iter().enumerate() {
        let gap = (u - us).abs();
        if best.is_none_or(|(g, _)| gap < g) {
            best = Some((gap, i));
        }
    }
    best.map(|(_, i)| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::Rules;

    fn bore(d: f64, out_of_round: f64) -> Bore {
        Bore {
            axis: [0.0, 0.0, 1.0],
            centre_mm: [0.0; 3],
            inner_diameter_mm: d,
            out_of_round_mm: out_of_round,
        }
    }

    #[test]
    fn size_table_in_every_chart() {
        let rules = Rules::default_shipped().unwrap();
        let charts = rules.ring_sizes();
        // Diameters from the charts' own formulas: US 7 is 11.6332 + 7 × 0.8128 mm.
        let us = |s: f64| (36.537 + 2.5535 * s) / std::f64::consts::PI;
        let uk = |i: f64| (37.5 + 1.25 * i) / std::f64::consts::PI;
        // (diameter, ISO, US, UK, JP)
        let cases = [
            (us(7.0), 54, 7.0, "N 1/2", 14),
            (us(5.0), 49, 5.0, "J 1/2", 9),
            (us(9.0), 60, 9.0, "R 1/2", 18),
            (uk(12.2), 53, 6.25, "M", 12),
            (52.0 / std::f64::consts::PI, 52, 6.0, "L 1/2", 11),
        ];
        for (d, iso, us_size, uk_size, jp) in cases {
            let s = ring_size(&bore(d, 0.0), charts);
            assert!(s.sizable && s.note.is_none(), "{d}: {s:?}");
            assert_eq!(s.iso_8653, Some(iso), "{d}");
            assert_eq!(s.us_canada, Some(us_size), "{d}");
            assert_eq!(s.uk_australia.as_deref(), Some(uk_size), "{d}");
            assert_eq!(s.japan, Some(jp), "{d}");
            assert!(s.chart.contains("ISO 8653"));
        }
    }

    #[test]
    fn an_oval_or_a_bangle_gets_a_note_and_no_size() {
        let rules = Rules::default_shipped().unwrap();
        let cases = [
            (17.0, 0.5, "not round"),
            (52.0, 0.0, "outside"),
            (5.0, 0.0, "outside"),
        ];
        for (d, oval, says) in cases {
            let s = ring_size(&bore(d, oval), rules.ring_sizes());
            assert!(!s.sizable, "{d}");
            assert_eq!((s.iso_8653, s.us_canada, s.japan), (None, None, None));
            assert!(s.note.as_deref().is_some_and(|n| n.contains(says)), "{s:?}");
        }
    }
}
