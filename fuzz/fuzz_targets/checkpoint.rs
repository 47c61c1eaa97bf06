//! Checkpoint body parsing: never panics; canonical round trip.
#![no_main]
use kordon_core::checkpoint::Checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(cp) = Checkpoint::parse(s)
    {
        assert_eq!(cp.to_text(), s);
    }
});
