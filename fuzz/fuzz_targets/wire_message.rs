//! Fuzzes the federation's wire decoder: arbitrary bytes go to `federation::msg::decode`, which
//! must return a message or an error, never panic. A message that decodes must encode again and
//! that encoding must decode (equality is not asserted: JSON floats may move by one ulp).

#![no_main]

use federation::msg::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode(data) {
        let bytes = encode(&message).expect("a decoded message encodes");
        let again = decode(&bytes).expect("an encoded message decodes");
        assert_eq!(
            std::mem::discriminant(&again),
            std::mem::discriminant(&message),
            "the wire round trip changed the kind of message"
        );
    }
});
