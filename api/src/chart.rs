//! The console's ETA-truth chart, rendered on the server as SVG (no chart library in the page):
//! promised against actual seconds to final, one dot per finished job, coloured by lane, with the
//! line where the promise was exact. Pure: outcomes in, markup out; only numbers and lane names
//! (a fixed set) reach the markup.

use std::fmt::Write as _;

use contracts::Lane;
use scheduler::eta_truth::{EtaOutcome, LaneTruth};

const W: f64 = 640.0;
const H: f64 = 360.0;
const PAD: f64 = 48.0;

fn colour(lane: Lane) -> &'static str {
    match lane {
        Lane::Small => "#2f7ed8",
        Lane::Medium => "#e8a33c",
        Lane::Large => "#c0392b",
    }
}

/// A "nice" axis top at or above `v`: 1, 2 or 5 × a power of ten.
fn nice_ceiling(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|t| *t >= v)
        .unwrap_or(10.0 * p)
}

/// The chart for `outcomes` (at most a few thousand dots) with `summary` in the legend.
pub fn eta_truth_svg(title: &str, outcomes: &[EtaOutcome], summary: &[LaneTruth]) -> String {
    let top = nice_ceiling(
        outcomes
            .iter()
            .map(|o| o.predicted_seconds.max(o.actual_seconds))
            .fold(0.0, f64::max),
    );
    let x = |s: f64| PAD + (s / top).clamp(0.0, 1.0) * (W - 2.0 * PAD);
    let y = |s: f64| H - PAD - (s / top).clamp(0.0, 1.0) * (H - 2.0 * PAD);
    let mut svg = String::with_capacity(4096 + outcomes.len() * 64);
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="ETA truth: promised against actual seconds to final" font-family="sans-serif" font-size="12">"##
    );
    let _ = write!(svg, r##"<rect width="{W}" height="{H}" fill="#fff"/>"##);
    // The title is one of the route's fixed strings; escaped anyway.
    let _ = write!(
        svg,
        r##"<text x="{PAD}" y="20" font-weight="bold">{}</text>"##,
        escape(title)
    );
    let _ = write!(
        svg,
        r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#888" stroke-dasharray="4 4"/>"##,
        x(0.0),
        y(0.0),
        x(top),
        y(top)
    );
    let _ = write!(
        svg,
        r##"<path d="M{PAD} {PAD} V{} H{}" fill="none" stroke="#333"/>"##,
        H - PAD,
        W - PAD
    );
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="{}" y="{}" text-anchor="end">{}</text>"##,
            x(v),
            H - PAD + 16.0,
            label(v),
            PAD - 6.0,
            y(v) + 4.0,
            label(v)
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="middle">promised seconds to final</text><text transform="translate(14 {}) rotate(-90)" text-anchor="middle">actual seconds</text>"##,
        W / 2.0,
        H - 8.0,
        H / 2.0
    );
    for o in outcomes {
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}" fill-opacity="0.6"/>"##,
            x(o.predicted_seconds),
            y(o.actual_seconds),
            colour(o.lane)
        );
    }
    for (i, t) in summary.iter().enumerate() {
        let ly = PAD + 16.0 * i as f64;
        let _ = write!(
            svg,
            r##"<circle cx="{}" cy="{}" r="4" fill="{}"/><text x="{}" y="{}">{}: {} jobs, median error {:.0} %, p90 {:.0} %</text>"##,
            PAD + 12.0,
            ly,
            colour(t.lane),
            PAD + 20.0,
            ly + 4.0,
            t.lane.as_str(),
            t.jobs,
            t.median_error * 100.0,
            t.p90_error * 100.0
        );
    }
    if outcomes.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#666">no finished jobs in this window</text>"##,
            W / 2.0,
            H / 2.0
        );
    }
    svg.push_str("</svg>");
    svg
}

fn label(v: f64) -> String {
    if v >= 10.0 || v == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Escapes text for XML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    #[test]
    fn axis_tops() {
        for (v, want) in [
            (0.0, 1.0),
            (0.7, 1.0),
            (1.0, 1.0),
            (1.5, 2.0),
            (3.0, 5.0),
            (7.0, 10.0),
            (120.0, 200.0),
            (f64::NAN, 1.0),
        ] {
            assert_eq!(nice_ceiling(v), want, "{v}");
        }
    }

    #[test]
    fn one_dot_per_job_and_a_legend_per_lane() {
        let at = DateTime::from_timestamp(0, 0).unwrap();
        let outcomes = [
            EtaOutcome {
                lane: Lane::Small,
                predicted_seconds: 2.0,
                actual_seconds: 3.0,
                finished_at: at,
                wait: None,
            },
            EtaOutcome {
                lane: Lane::Large,
                predicted_seconds: 40.0,
                actual_seconds: 30.0,
                finished_at: at,
                wait: None,
            },
        ];
        let summary = scheduler::eta_truth::summarise(&outcomes);
        let svg = eta_truth_svg("last <hour>", &outcomes, &summary);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("r=\"3\"").count(), 2);
        assert!(svg.contains("small: 1 jobs, median error 50 %"));
        assert!(svg.contains("large: 1 jobs, median error 25 %"));
        assert!(svg.contains("last &lt;hour&gt;") && !svg.contains("<hour>"));
        assert!(eta_truth_svg("x", &[], &[]).contains("no finished jobs"));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
