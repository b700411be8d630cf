//! The one place where the scheduler's, the messaging contracts' and pricing-core's words for the
//! same things meet: lanes and sales channels.
//!
//! The scheduler names its own lanes (routing key `jobs.<lane>` in its outbox) and its channels
//! after where a job came from (`website`, `partner`, `mes`); the message contracts use the
//! topology's lanes and pricing-core's channel names (`retail`, `partner`, `mes`); a job's price
//! list is `scheduler::Channel::sales_channel`.

use scheduler::Channel as JobChannel;

/// The messaging lane of a scheduler lane.
pub fn to_messaging_lane(lane: scheduler::Lane) -> messaging::Lane {
    match lane {
        scheduler::Lane::Small => messaging::Lane::Small,
        scheduler::Lane::Medium => messaging::Lane::Medium,
        scheduler::Lane::Large => messaging::Lane::Large,
    }
}

/// The scheduler lane of a messaging lane.
pub fn to_scheduler_lane(lane: messaging::Lane) -> scheduler::Lane {
    match lane {
        messaging::Lane::Small => scheduler::Lane::Small,
        messaging::Lane::Medium => scheduler::Lane::Medium,
        messaging::Lane::Large => scheduler::Lane::Large,
    }
}

/// Where a job came from, given the channel name a message carries (`retail` or `website` for
/// the public site). `None` for anything else.
pub fn job_channel(name: &str) -> Option<JobChannel> {
    match name.trim().to_ascii_lowercase().as_str() {
        "retail" | "website" => Some(JobChannel::Website),
        "partner" => Some(JobChannel::Partner),
        "mes" => Some(JobChannel::Mes),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_round_trip_and_keep_their_names() {
        for lane in scheduler::Lane::ALL {
            let m = to_messaging_lane(lane);
            assert_eq!(m.as_str(), lane.as_str());
            assert_eq!(to_scheduler_lane(m), lane);
        }
        assert_eq!(messaging::Lane::ALL.len(), scheduler::Lane::ALL.len());
    }

    #[test]
    fn channel_cases() {
        let cases = [
            ("retail", Some(JobChannel::Website), "retail"),
            ("website", Some(JobChannel::Website), "retail"),
            (" Partner ", Some(JobChannel::Partner), "partner"),
            ("MES", Some(JobChannel::Mes), "mes"),
            ("wholesale", None, ""),
            ("", None, ""),
        ];
        for (name, job, price) in cases {
            assert_eq!(job_channel(name), job, "{name}");
            if let Some(job) = job {
                assert_eq!(job.sales_channel().as_str(), price, "{name}");
            }
        }
    }
}
