//! tlog-policy parsing: never panics.
#![no_main]
use kordon_core::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Policy::parse(s);
    }
});
