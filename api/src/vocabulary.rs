//! The same words in different crates: the scheduler's lanes and the broker's lanes. (A job's
//! price list is `scheduler::Channel::sales_channel`.)

use scheduler::Lane;

pub fn lane(lane: Lane) -> messaging::Lane {
    match lane {
        Lane::Small => messaging::Lane::Small,
        Lane::Medium => messaging::Lane::Medium,
        Lane::Large => messaging::Lane::Large,
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
    }
}
