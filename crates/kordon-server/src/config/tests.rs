//! Unit tests of `config`.

use super::*;

#[test]
fn the_documented_example_is_the_default() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/kordon.toml.example");
    assert_eq!(
        Config::load(Some(&path)).expect("example parses"),
        Config::default()
    );
}

#[test]
fn unknown_fields_and_bad_values_are_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("k.toml");
    std::fs::write(&p, "listn = \"1.2.3.4:5\"\n").expect("write");
    let e = Config::load(Some(&p))
        .expect_err("typo refused")
        .to_string();
    assert!(e.contains("unknown field `listn`"), "{e}");
    std::fs::write(&p, "listen = \"nowhere\"\n").expect("write");
    assert!(Config::load(Some(&p)).is_err());
    // A crossing point's log may not share this server's origin.
    let edge =
        kordon_core::note::SignerKey::ed25519_from_seed("kordon.local/log", [1; 32]).expect("key");
    std::fs::write(&p, format!("edges = [\"{}\"]\n", edge.verifier())).expect("write");
    let e = Config::load(Some(&p)).expect_err("same origin").to_string();
    assert!(e.contains("give each server its own origin"), "{e}");
    // Retention below the floor is refused, naming the setting and the floor.
    std::fs::write(&p, "retention_days = 0\n").expect("write");
    let e = Config::load(Some(&p)).expect_err("floor").to_string();
    assert_eq!(
        e,
        "setting retention_days: 0 days is below the retention floor of 30 days (footage is kept at least 30 days; only a test may lower the floor, with KORDON_TEST_RETENTION_FLOOR_DAYS)"
    );
    let lowered = Config {
        retention_days: 0,
        retention_inspection_days: 0,
        test_retention_floor_days: Some(0),
        ..Config::default()
    };
    assert!(lowered.check().is_ok());
}
