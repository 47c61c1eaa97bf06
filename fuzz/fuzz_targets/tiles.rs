//! Tile paths and entry bundles: never panic; round trips.
#![no_main]
use kordon_core::tiles::{TileId, decode_bundle, encode_bundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = decode_bundle(data) {
        assert_eq!(encode_bundle(&entries).expect("re-encodes"), data);
    }
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(t) = TileId::parse_path(s)
    {
        assert_eq!(t.path(), s);
    }
});
