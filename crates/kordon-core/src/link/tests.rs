//! Unit tests of `link`.

use super::*;

fn segment() -> LinkBody {
    LinkBody::Segment(Segment {
        device: "cam-0001".into(),
        seq: 0,
        start: Timestamp(1_795_888_800_000),
        end: Timestamp(1_795_888_810_000),
        size: 1234,
        sha256: sha256(b"video"),
        night: true,
        audio: Audio::Unstated,
        attested: Attestation::Device,
        prev: genesis("cam-0001"),
    })
}

#[test]
fn a_segment_round_trips_byte_for_byte() {
    let key = SignerKey::ed25519_from_seed("cam-0001", [1; 32]).expect("key");
    let l = Link::sign(segment(), &key).expect("sign");
    let text = std::str::from_utf8(l.bytes()).expect("utf8");
    assert!(
        text.starts_with(
            "kordon.segment/v1\ndevice: cam-0001\nseq: 0\nstart: 2026-11-28T18:00:00.000Z\n"
        ),
        "{text}"
    );
    let back = Link::parse(l.bytes()).expect("parse");
    assert_eq!(back, l);
    back.verify(key.verifier()).expect("verifies");
}

#[test]
fn a_v2_segment_states_its_audio_and_may_be_system_attested() {
    let key = SignerKey::ed25519_from_seed("kordon-edge", [2; 32]).expect("key");
    for (audio, word) in [
        (Audio::Present, "present"),
        (Audio::Silent, "silent"),
        (Audio::None, "none"),
    ] {
        let LinkBody::Segment(mut s) = segment() else {
            unreachable!()
        };
        s.audio = audio;
        s.attested = Attestation::System;
        let l = Link::sign(LinkBody::Segment(s.clone()), &key).expect("sign");
        let text = std::str::from_utf8(l.bytes()).expect("utf8");
        assert!(text.starts_with("kordon.segment/v2\n"), "{text}");
        assert!(
            text.contains(&format!("night: yes\naudio: {word}\nattested: system\n")),
            "{text}"
        );
        assert_eq!(Link::parse(l.bytes()).expect("parse"), l);
    }
    // A system attestation cannot be written without stating the audio.
    let LinkBody::Segment(mut s) = segment() else {
        unreachable!()
    };
    s.attested = Attestation::System;
    assert_eq!(
        LinkBody::Segment(s).to_text().err(),
        Some(bad("audio", "attested: system needs kordon.segment/v2"))
    );
}

#[test]
fn strict_fields() {
    let key = SignerKey::ed25519_from_seed("cam-0001", [1; 32]).expect("key");
    let good = segment().to_text().expect("text");
    let cases: Vec<(String, LinkError)> = vec![
        (
            good.replace("seq: 0", "seq: 00"),
            bad("seq", "not a decimal number without leading zeros"),
        ),
        (
            good.replace("night: yes", "night: true"),
            bad("night", "must be yes or no"),
        ),
        (
            good.replace("kordon.segment/v1", "kordon.segment/v3"),
            LinkError::UnknownVersion("kordon.segment/v3".into()),
        ),
        // v2 needs the audio line; v1 refuses it and the system attestation.
        (
            good.replace("kordon.segment/v1", "kordon.segment/v2"),
            LinkError::MissingField {
                line: 9,
                expected: "audio",
            },
        ),
        (
            good.replace("night: yes\n", "night: yes\naudio: present\n"),
            LinkError::MissingField {
                line: 9,
                expected: "attested",
            },
        ),
        (
            good.replace("attested: device", "attested: system"),
            bad("attested", "must be device or dock"),
        ),
        (
            good.replace("kordon.segment/v1", "kordon.segment/v2")
                .replace("night: yes\n", "night: yes\naudio: loud\n"),
            bad("audio", "must be present, silent or none"),
        ),
        (
            good.replace("size: 1234\n", ""),
            LinkError::MissingField {
                line: 6,
                expected: "size",
            },
        ),
        (format!("{good}extra: 1\n"), LinkError::TrailingLine(11)),
        (
            good.replace("device: cam-0001", "device: cam 0001"),
            bad("device", "must be 1-64 characters of A-Z a-z 0-9 . _ - : /"),
        ),
    ];
    for (text, want) in cases {
        let mut n = Note::new(&text).expect("note");
        n.sign(&key).expect("sign");
        assert_eq!(Link::parse(&n.to_bytes()).err(), Some(want), "{text}");
    }
}
