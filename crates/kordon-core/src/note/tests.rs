//! Unit tests of signed notes and keys.

use super::*;

#[test]
fn text_may_hold_empty_lines_and_the_last_one_separates() {
    let k = SignerKey::ed25519_from_seed("example.com/a", [7; 32]).expect("key");
    let mut n = Note::new("first\n\nsecond\n").expect("text");
    n.sign(&k).expect("sign");
    let parsed = Note::parse(&n.to_bytes()).expect("parse");
    assert_eq!(parsed.text(), "first\n\nsecond\n");
    assert_eq!(
        parsed
            .verify(std::slice::from_ref(k.verifier()))
            .expect("verifies")
            .len(),
        1
    );
}

#[test]
fn key_strings_round_trip_for_every_type() {
    let keys = [
        SignerKey::ed25519_from_seed("log", [1; 32]).expect("ed"),
        SignerKey::ecdsa_p256_from_scalar("cam", [2; 32]).expect("p256"),
        SignerKey::cosigner_from_seed("witness", [3; 32]).expect("cosig"),
    ];
    for k in keys {
        let back = SignerKey::parse(&k.to_key_string()).expect("signer parses");
        assert_eq!(back.verifier(), k.verifier());
        let v = VerifierKey::parse(&k.verifier().to_string()).expect("verifier parses");
        assert_eq!(&v, k.verifier());
        assert!(
            !format!("{k:?}").contains(&k.to_key_string()[12..]),
            "debug leaks the secret"
        );
    }
}

#[test]
fn ecdsa_high_s_is_refused() {
    let k = SignerKey::ecdsa_p256_from_scalar("cam", [9; 32]).expect("key");
    let sig = k.sign(b"hello\n").expect("sign");
    assert!(k.verifier().verify(b"hello\n", &sig.bytes));
    let s = p256::ecdsa::Signature::from_der(&sig.bytes).expect("der");
    let (r, sv) = s.split_scalars();
    let high = p256::ecdsa::Signature::from_scalars(r, -*sv).expect("sig");
    assert!(!k.verifier().verify(b"hello\n", high.to_der().as_bytes()));
}
