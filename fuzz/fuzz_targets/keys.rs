//! Verifier and signer key strings, and timestamps: never panic; round trips.
#![no_main]
use kordon_core::note::{SignerKey, VerifierKey};
use kordon_core::time::Timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(k) = VerifierKey::parse(s) {
        assert_eq!(k.to_string(), s);
    }
    if let Ok(k) = SignerKey::parse(s) {
        assert_eq!(k.to_key_string(), s);
    }
    if let Ok(t) = Timestamp::parse(s) {
        assert_eq!(t.format().as_deref(), Ok(s));
    }
});
