//! The same words in different crates: the scheduler's lanes and channels, the broker's lanes,
//! pricing-core's sales channels.

use pricing_core::pricing::Channel as SalesChannel;
use scheduler::{Channel, Lane};

pub fn lane(lane: Lane) -> messaging::Lane {
    match lane {
        Lane::Small => messaging::Lane::Small,
        Lane::Medium => messaging::Lane::Medium,
        Lane::Large => messaging::Lane::Large,
    }
}

/// Whose margin applies: the website sells retail.
pub fn sales_channel(channel: Channel) -> SalesChannel {
    match channel {
        Channel::Website => SalesChannel::Retail,
        Channel::Partner => SalesChannel::Partner,
        Channel::Mes => SalesChannel::Mes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_maps() {
        for l in Lane::ALL {
            assert_eq!(lane(l).as_str(), l.as_str());
        }
        let pairs = [
            (Channel::Website, "retail"),
            (Channel::Partner, "partner"),
            (Channel::Mes, "mes"),
        ];
        for (c, want) in pairs {
            assert_eq!(sales_channel(c).as_str(), want);
        }
    }
}
