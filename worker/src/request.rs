//! A run message turned into what pricing-core needs, and the job options the run message reads.

use contracts::RunJob;
use pricing_core::{FormatHint, QuoteRequest, Units};

/// Key of the job options holding the unit of the model's coordinates (`mm`, `cm`, `m`, `in`).
pub const UNITS_OPTION: &str = "units";

/// The unit named in a job's options, if any. Intake writes it from a parsed [`Units`], so a
/// value that does not parse was never written by this code and is ignored.
pub fn units_option(options: &serde_json::Value) -> Option<Units> {
    options
        .get(UNITS_OPTION)
        .and_then(serde_json::Value::as_str)
        .and_then(|u| u.parse().ok())
}

/// The quote request for `job`: its words are typed in the contract, so nothing here can fail.
pub fn quote_request(job: &RunJob) -> QuoteRequest {
    let mut request = QuoteRequest {
        alloys: job.alloys.clone(),
        channel: job.channel,
        analyze: Default::default(),
        thickness: Default::default(),
    };
    request.analyze.format = Some(FormatHint::Exact(job.format));
    request.analyze.units = job.units;
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::{Channel, Format, Lane, SchemaVersion};
    use uuid::Uuid;

    fn job(channel: Channel, format: Format, units: Option<Units>) -> RunJob {
        RunJob {
            schema_version: SchemaVersion,
            job_id: Uuid::from_u128(1),
            model_sha256: "ab".repeat(32),
            format,
            triangles: 10,
            lane: Lane::Small,
            alloys: vec!["au750y".into(), "ag925".into()],
            channel,
            tenant: "t".into(),
            partner_ref: None,
            units,
            correlation_id: None,
            attempt: 1,
        }
    }

    #[test]
    fn request_cases() {
        let cases = [
            (Channel::Partner, Format::StlBinary, Some(Units::Cm)),
            (Channel::Website, Format::Obj, None),
            (Channel::Mes, Format::ThreeMf, Some(Units::In)),
        ];
        for (channel, format, units) in cases {
            let r = quote_request(&job(channel, format, units));
            assert_eq!(r.channel, channel);
            assert_eq!(r.alloys, ["au750y", "ag925"]);
            assert_eq!(r.analyze.format, Some(FormatHint::Exact(format)));
            assert_eq!(r.analyze.units, units);
        }
    }

    #[test]
    fn units_come_from_the_options() {
        let cases = [
            (serde_json::json!({"units": "in"}), Some(Units::In)),
            (serde_json::json!({"units": "furlong"}), None),
            (serde_json::json!({"units": 3}), None),
            (serde_json::json!({}), None),
            (serde_json::Value::Null, None),
        ];
        for (options, want) in cases {
            assert_eq!(units_option(&options), want, "{options}");
        }
    }
}
