//! Law 3 of the event model: with feature `serde`, every event serializes to one JSON object and
//! deserializes back to the same value.

use monwire_event::Event;
use monwire_tests::strategies;
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_event_round_trips_through_json(event in strategies::event()) {
        let text = serde_json::to_string(&event).unwrap();
        prop_assert!(!text.contains('\n'), "one event is one JSON line");
        let back: Event = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, event);
    }
}
