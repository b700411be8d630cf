//! A run message turned into what pricing-core needs.

use contracts::RunJob;
use pricing_core::{FormatHint, QuoteRequest};

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
    use pricing_core::Units;
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
}
