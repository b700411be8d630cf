//! A run message turned into what pricing-core needs, and the job options the worker reads.

use messaging::RunJob;
use pricing_core::{FormatHint, QuoteRequest, Units};

use crate::vocabulary;

/// Key of the job options holding the unit of the model's coordinates (`mm`, `cm`, `m`, `in`).
pub const UNITS_OPTION: &str = "units";

/// The unit named in a job's options, if any.
pub fn units_option(options: &serde_json::Value) -> Option<String> {
    options
        .get(UNITS_OPTION)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// A run message that cannot be priced as stated: `(code, message)` for the rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    pub code: &'static str,
    pub message: String,
}

/// The quote request for `job`. The recorded format is a hint only when it names one exactly
/// (else the content is sniffed again).
pub fn quote_request(job: &RunJob) -> Result<QuoteRequest, BadRequest> {
    let channel = vocabulary::job_channel(&job.channel)
        .map(scheduler::Channel::sales_channel)
        .ok_or_else(|| BadRequest {
            code: "unknown_channel",
            message: format!("unknown sales channel {:?}", job.channel),
        })?;
    let units = match job
        .units
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        None => None,
        Some(name) => Some(name.parse::<Units>().map_err(|e| BadRequest {
            code: "unknown_units",
            message: e.to_string(),
        })?),
    };
    let mut request = QuoteRequest {
        alloys: job.alloys.clone(),
        channel,
        analyze: Default::default(),
        thickness: Default::default(),
    };
    request.analyze.format = job.format.parse::<FormatHint>().ok();
    request.analyze.units = units;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use messaging::{Lane, SchemaVersion};
    use pricing_core::Format;
    use pricing_core::pricing::Channel;
    use uuid::Uuid;

    fn job(channel: &str, format: &str, units: Option<&str>) -> RunJob {
        RunJob {
            schema_version: SchemaVersion,
            job_id: Uuid::from_u128(1),
            model_sha256: "ab".repeat(32),
            format: format.into(),
            triangles: 10,
            lane: Lane::Small,
            alloys: vec!["au750y".into(), "ag925".into()],
            channel: channel.into(),
            tenant: "t".into(),
            partner_ref: None,
            units: units.map(str::to_owned),
            correlation_id: None,
            attempt: 1,
        }
    }

    #[test]
    fn request_cases() {
        let ok = quote_request(&job("partner", "stl-binary", Some("cm"))).unwrap();
        assert_eq!(ok.channel, Channel::Partner);
        assert_eq!(ok.alloys, ["au750y", "ag925"]);
        assert_eq!(
            ok.analyze.format,
            Some(FormatHint::Exact(Format::StlBinary))
        );
        assert_eq!(ok.analyze.units, Some(Units::Cm));

        let sniffed = quote_request(&job("retail", "mystery", None)).unwrap();
        assert_eq!(sniffed.channel, Channel::Retail);
        assert_eq!(sniffed.analyze.format, None);
        assert_eq!(sniffed.analyze.units, None);
        assert_eq!(
            quote_request(&job("mes", "stl", Some(" ")))
                .unwrap()
                .analyze
                .format,
            Some(FormatHint::Stl)
        );

        let cases = [
            (job("wholesale", "obj", None), "unknown_channel"),
            (job("retail", "obj", Some("furlong")), "unknown_units"),
        ];
        for (j, code) in cases {
            assert_eq!(quote_request(&j).unwrap_err().code, code);
        }
    }

    #[test]
    fn units_come_from_the_options() {
        let cases = [
            (serde_json::json!({"units": "in"}), Some("in")),
            (serde_json::json!({"units": 3}), None),
            (serde_json::json!({}), None),
            (serde_json::Value::Null, None),
        ];
        for (options, want) in cases {
            assert_eq!(units_option(&options).as_deref(), want, "{options}");
        }
    }
}
