//! Signed-note parsing: never panics; whatever parses re-encodes to the same bytes.
#![no_main]
use kordon_core::note::Note;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(n) = Note::parse(data) {
        assert_eq!(n.to_bytes(), data, "a parsed note re-encodes to its input");
    }
});
