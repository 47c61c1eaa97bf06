//! Parsers take any bytes without panicking, and no single-byte change to a signed link
//! yields a different link that still verifies.

use kordon_core::checkpoint::Checkpoint;
use kordon_core::link::Link;
use kordon_core::note::{Note, SignerKey, VerifierKey};
use kordon_core::policy::Policy;
use kordon_core::tiles::{TileId, decode_bundle};
use kordon_core::time::Timestamp;
use kordon_core::tlog_proof::TlogProof;
use proptest::prelude::*;

fn vector(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Feeds `data` to every parser; returns how many accepted it.
fn parse_everything(data: &[u8]) -> usize {
    let s = String::from_utf8_lossy(data);
    [
        Note::parse(data).is_ok(),
        Link::parse(data).is_ok(),
        Checkpoint::parse(&s).is_ok(),
        TlogProof::parse(data).is_ok(),
        Policy::parse(&s).is_ok(),
        TileId::parse_path(&s).is_ok(),
        decode_bundle(data).is_ok(),
        VerifierKey::parse(&s).is_ok(),
        SignerKey::parse(&s).is_ok(),
        Timestamp::parse(&s).is_ok(),
    ]
    .iter()
    .filter(|ok| **ok)
    .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        parse_everything(&data);
    }

    #[test]
    fn mutated_vectors_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>(), which in 0usize..5) {
        let names = ["links/segment-ed25519.note", "links/checkpoint.note", "links/event-record-stop.tlog-proof", "links/policy.txt", "links/segment-p256.note"];
        let mut data = vector(names[which]);
        let i = pos.index(data.len());
        data[i] = byte;
        parse_everything(&data);
    }

    #[test]
    fn no_single_byte_change_to_a_link_still_verifies(pos in any::<prop::sample::Index>(), byte in any::<u8>(), p256 in any::<bool>()) {
        let (rel, key_line) = if p256 { ("links/segment-p256.note", 1) } else { ("links/segment-ed25519.note", 0) };
        let original = vector(rel);
        let keys = String::from_utf8(vector("links/verifier-keys.txt")).expect("utf8");
        let key = VerifierKey::parse(keys.lines().nth(key_line).expect("key")).expect("key parses");
        let mut data = original.clone();
        let i = pos.index(data.len());
        prop_assume!(data[i] != byte);
        data[i] = byte;
        let still_valid = Link::parse(&data).is_ok_and(|l| l.verify(&key).is_ok());
        prop_assert!(!still_valid, "byte {} changed to {:#04x} and the link still verifies", i, byte);
    }
}

#[test]
fn oversized_input_is_refused_by_size_first() {
    let big = vec![b'a'; 70_000];
    assert!(matches!(
        Note::parse(&big),
        Err(kordon_core::note::NoteError::TooLarge { size: 70_000, .. })
    ));
    assert!(matches!(
        Link::parse(&big),
        Err(kordon_core::link::LinkError::TooLarge(70_000))
    ));
    assert_eq!(parse_everything(&big), 0);
}
