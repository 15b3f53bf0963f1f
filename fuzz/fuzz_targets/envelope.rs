//! NIC envelope decoding: any bytes either fail to parse or give an envelope whose status and
//! error codes can be read, without a panic.
#![no_main]

use irp_protocol::envelope::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::parse(data) {
        let _ = envelope.is_success();
        let _ = envelope.error_codes();
        let again = serde_json::to_vec(&envelope).expect("an envelope serialises");
        assert!(
            Envelope::parse(&again).is_ok(),
            "a parsed envelope must parse again"
        );
    }
});
