//! tlog-proof parsing: never panics; canonical round trip.
#![no_main]
use kordon_core::tlog_proof::TlogProof;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = TlogProof::parse(data) {
        assert_eq!(TlogProof::parse(&p.to_bytes()).ok(), Some(p));
    }
});
