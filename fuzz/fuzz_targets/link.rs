//! Chain-link parsing: never panics; a parsed body writes back to the same text.
#![no_main]
use kordon_core::link::Link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(l) = Link::parse(data) {
        let text = l.body().to_text().expect("a parsed body can be written");
        assert!(data.starts_with(text.as_bytes()), "one body, one text");
    }
});
