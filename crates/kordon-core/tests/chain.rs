//! Chain verification against every kind of tampering a custodian could attempt.

use kordon_core::chain::{ChainOptions, ChainProblem, ChainReport, verify_chain};
use kordon_core::hash::sha256;
use kordon_core::link::{
    Attestation, Audio, Event, EventKind, Link, LinkBody, LinkError, Segment, genesis,
};
use kordon_core::note::{Note, SignerKey};
use kordon_core::time::Timestamp;

const DEVICE: &str = "cam-01";

struct Builder {
    key: SignerKey,
    device: String,
    now: i64,
    links: Vec<Link>,
}

impl Builder {
    fn new(key: SignerKey) -> Self {
        Builder {
            key,
            device: DEVICE.into(),
            now: 1_795_849_200_000,
            links: Vec::new(),
        }
    }

    fn prev(&self) -> kordon_core::Hash {
        self.links
            .last()
            .map_or_else(|| genesis(&self.device), Link::hash)
    }

    fn segment_at(&mut self, start: i64, len_ms: i64) -> &mut Self {
        let seq = self.links.len() as u64;
        let body = LinkBody::Segment(Segment {
            device: self.device.clone(),
            seq,
            start: Timestamp(start),
            end: Timestamp(start + len_ms),
            size: 1000 + seq,
            sha256: sha256(&seq.to_be_bytes()),
            night: false,
            audio: Audio::Unstated,
            attested: Attestation::Device,
            prev: self.prev(),
        });
        self.links.push(Link::sign(body, &self.key).expect("sign"));
        self.now = start + len_ms;
        self
    }

    fn segment(&mut self) -> &mut Self {
        self.segment_at(self.now, 10_000)
    }

    fn event(&mut self, kind: EventKind) -> &mut Self {
        let body = LinkBody::Event(Event {
            device: self.device.clone(),
            seq: self.links.len() as u64,
            time: Timestamp(self.now),
            kind,
            detail: "test".into(),
            prev: self.prev(),
        });
        self.links.push(Link::sign(body, &self.key).expect("sign"));
        self
    }

    fn raw(&self) -> Vec<Vec<u8>> {
        self.links.iter().map(|l| l.bytes().to_vec()).collect()
    }
}

fn cam_key() -> SignerKey {
    SignerKey::ed25519_from_seed(DEVICE, [7; 32]).expect("key")
}

/// seq 0 record-start, 1–5 segments, 6 record-stop, 7 segment a minute later, 8 segment.
fn shift() -> Builder {
    let mut b = Builder::new(cam_key());
    b.event(EventKind::RecordStart)
        .segment()
        .segment()
        .segment()
        .segment()
        .segment();
    b.event(EventKind::RecordStop);
    let later = b.now + 60_000;
    b.segment_at(later, 10_000).segment();
    b
}

fn check(b: &Builder, raw: &[Vec<u8>]) -> ChainReport {
    verify_chain(DEVICE, b.key.verifier(), raw, &ChainOptions::default())
}

#[test]
fn an_intact_shift_holds_in_any_order() {
    let b = shift();
    let r = check(&b, &b.raw());
    assert_eq!(r.problems, vec![]);
    assert_eq!(r.head, Some(8));
    assert_eq!(r.links.len(), 9);
    let mut shuffled = b.raw();
    shuffled.reverse();
    shuffled.swap(2, 5);
    let r2 = check(&b, &shuffled);
    assert_eq!(r2.problems, vec![]);
    assert_eq!(
        r2.links.iter().map(|l| l.body().seq()).collect::<Vec<_>>(),
        (0..9).collect::<Vec<_>>()
    );
    // Retries (identical duplicates) are harmless.
    let mut twice = b.raw();
    twice.extend(b.raw());
    assert!(check(&b, &twice).is_clean());
}

#[test]
fn a_dropped_link_is_a_missing_sequence_number() {
    let b = shift();
    let mut raw = b.raw();
    raw.remove(3);
    let r = check(&b, &raw);
    assert_eq!(r.problems, vec![ChainProblem::Missing { from: 3, to: 3 }]);
    assert_eq!(r.head, Some(2));
    raw.remove(0);
    assert_eq!(
        check(&b, &raw).problems,
        vec![
            ChainProblem::Missing { from: 0, to: 0 },
            ChainProblem::Missing { from: 3, to: 3 }
        ]
    );
}

#[test]
fn an_edited_segment_hash_breaks_the_signature() {
    let b = shift();
    let mut raw = b.raw();
    let text = String::from_utf8(raw[2].clone()).expect("utf8");
    let pos = text.find("sha256: ").expect("field") + 8;
    let mut edited = raw[2].clone();
    edited[pos] = if edited[pos] == b'0' { b'1' } else { b'0' };
    raw[2] = edited;
    let r = check(&b, &raw);
    assert_eq!(
        r.problems,
        vec![
            ChainProblem::BadSignature { index: 2, seq: 2 },
            ChainProblem::Missing { from: 2, to: 2 }
        ]
    );
}

#[test]
fn a_link_replayed_in_place_of_another_leaves_a_hole() {
    let b = shift();
    let mut raw = b.raw();
    raw[3] = raw[2].clone();
    let r = check(&b, &raw);
    assert_eq!(r.problems, vec![ChainProblem::Missing { from: 3, to: 3 }]);
}

#[test]
fn a_link_signed_by_another_key_is_refused() {
    let b = shift();
    let mut forger = Builder::new(SignerKey::ed25519_from_seed(DEVICE, [8; 32]).expect("key"));
    forger.event(EventKind::RecordStart).segment().segment();
    let mut raw = b.raw();
    raw[1] = forger.raw()[1].clone();
    let r = check(&b, &raw);
    assert_eq!(
        r.problems,
        vec![
            ChainProblem::BadSignature { index: 1, seq: 1 },
            ChainProblem::Missing { from: 1, to: 1 }
        ]
    );
    // A forged chain re-signed end to end with another key holds nothing at all.
    let all_forged = check(&b, &forger.raw());
    assert_eq!(all_forged.links.len(), 0);
    assert_eq!(all_forged.head, None);
}

#[test]
fn a_re_signed_reordered_chain_shows_broken_links() {
    // The device key itself signs links out of chain order (e.g. a tampered agent): the
    // signatures hold but the prev hashes do not.
    let b = shift();
    let mut links = b.links.clone();
    let LinkBody::Segment(mut s2) = links[2].body().clone() else {
        panic!("segment")
    };
    let LinkBody::Segment(mut s3) = links[3].body().clone() else {
        panic!("segment")
    };
    std::mem::swap(&mut s2.start, &mut s3.start);
    std::mem::swap(&mut s2.end, &mut s3.end);
    links[2] = Link::sign(LinkBody::Segment(s2), &b.key).expect("sign");
    links[3] = Link::sign(LinkBody::Segment(s3), &b.key).expect("sign");
    let raw: Vec<Vec<u8>> = links.iter().map(|l| l.bytes().to_vec()).collect();
    let r = check(&b, &raw);
    let t = |l: &Link| (l.body().start(), l.body().end());
    let ((_, end1), (start2, end2), (start3, end3), (start4, _)) =
        (t(&links[1]), t(&links[2]), t(&links[3]), t(&links[4]));
    assert_eq!(
        r.problems,
        vec![
            ChainProblem::UnexplainedGap {
                after_seq: 1,
                before_seq: 2,
                from: end1,
                to: start2
            },
            ChainProblem::BrokenPrev {
                seq: 3,
                expected: links[2].hash(),
                found: b.links[2].hash()
            },
            ChainProblem::TimeBackwards {
                seq: 3,
                previous: end2,
                time: start3
            },
            ChainProblem::BrokenPrev {
                seq: 4,
                expected: links[3].hash(),
                found: b.links[3].hash()
            },
            ChainProblem::UnexplainedGap {
                after_seq: 3,
                before_seq: 4,
                from: end3,
                to: start4
            },
        ]
    );
    assert_eq!(r.head, Some(2));
}

#[test]
fn two_links_under_one_number_are_equivocation() {
    let b = shift();
    let LinkBody::Segment(mut other) = b.links[4].body().clone() else {
        panic!("segment")
    };
    other.sha256 = sha256(b"other footage");
    let other = Link::sign(LinkBody::Segment(other), &b.key).expect("sign");
    let mut raw = b.raw();
    raw.push(other.bytes().to_vec());
    let r = check(&b, &raw);
    assert_eq!(
        r.problems,
        vec![ChainProblem::Equivocation {
            seq: 4,
            first: b.links[4].hash(),
            second: other.hash()
        }]
    );
}

#[test]
fn silence_without_a_stop_event_is_an_unexplained_gap() {
    let mut b = Builder::new(cam_key());
    b.segment().segment();
    let gap_start = b.now;
    b.segment_at(gap_start + 45_000, 10_000);
    let r = check(&b, &b.raw());
    assert_eq!(
        r.problems,
        vec![ChainProblem::UnexplainedGap {
            after_seq: 1,
            before_seq: 2,
            from: Timestamp(gap_start),
            to: Timestamp(gap_start + 45_000),
        }]
    );
    // The same silence after a power-off is explained; a battery warning does not explain it.
    let mut ok = Builder::new(cam_key());
    ok.segment().segment().event(EventKind::PowerOff);
    let t = ok.now + 45_000;
    ok.segment_at(t, 10_000);
    assert!(check(&ok, &ok.raw()).is_clean());
    let mut warn = Builder::new(cam_key());
    warn.segment().segment().event(EventKind::BatteryLow);
    let t = warn.now + 45_000;
    warn.segment_at(t, 10_000);
    assert_eq!(check(&warn, &warn.raw()).problems.len(), 1);
}

#[test]
fn time_running_backwards_is_reported_unless_the_clock_was_synced() {
    let mut b = Builder::new(cam_key());
    b.segment().segment();
    let back = b.now - 5_000;
    b.segment_at(back, 10_000);
    let r = check(&b, &b.raw());
    assert_eq!(
        r.problems,
        vec![ChainProblem::TimeBackwards {
            seq: 2,
            previous: Timestamp(back + 5_000),
            time: Timestamp(back)
        }]
    );
    let mut synced = Builder::new(cam_key());
    synced.segment().segment();
    synced.now -= 5_000;
    synced.event(EventKind::ClockSync).segment();
    assert!(check(&synced, &synced.raw()).is_clean());
}

#[test]
fn the_first_link_must_name_the_genesis_value() {
    let key = cam_key();
    let bad = Link::sign(
        LinkBody::Event(Event {
            device: DEVICE.into(),
            seq: 0,
            time: Timestamp(0),
            kind: EventKind::PowerOn,
            detail: "boot".into(),
            prev: sha256(b"not genesis"),
        }),
        &key,
    )
    .expect("sign");
    let r = verify_chain(
        DEVICE,
        key.verifier(),
        &[bad.bytes()],
        &ChainOptions::default(),
    );
    assert_eq!(
        r.problems,
        vec![ChainProblem::BrokenPrev {
            seq: 0,
            expected: genesis(DEVICE),
            found: sha256(b"not genesis")
        }]
    );
    assert_eq!(r.head, None);
}

#[test]
fn p256_devices_chain_the_same_way() {
    let mut b = Builder::new(SignerKey::ecdsa_p256_from_scalar(DEVICE, [3; 32]).expect("key"));
    b.event(EventKind::PowerOn)
        .segment()
        .segment()
        .event(EventKind::PowerOff);
    let r = check(&b, &b.raw());
    assert!(r.is_clean(), "{:?}", r.problems);
    assert_eq!(r.head, Some(3));
}

#[test]
fn foreign_malformed_and_misattested_links_are_named() {
    let b = shift();
    let mut other = Builder::new(SignerKey::ed25519_from_seed("cam-02", [9; 32]).expect("key"));
    other.device = "cam-02".into();
    other.segment();
    // A dock-attested segment signed by the device's own key claims the wrong attestation.
    let mut dockish = shift();
    let LinkBody::Segment(mut s) = dockish.links[1].body().clone() else {
        panic!("segment")
    };
    s.attested = Attestation::Dock;
    dockish.links[1] = Link::sign(LinkBody::Segment(s), &dockish.key).expect("sign");
    let mut raw = vec![other.raw()[0].clone(), b"garbage".to_vec()];
    raw.extend(dockish.raw());
    let r = check(&b, &raw);
    assert_eq!(
        r.problems[0],
        ChainProblem::WrongDevice {
            index: 0,
            device: "cam-02".into()
        }
    );
    assert!(matches!(
        &r.problems[1],
        ChainProblem::Malformed {
            index: 1,
            error: LinkError::Note(_)
        }
    ));
    assert_eq!(
        r.problems[2],
        ChainProblem::AttestationMismatch {
            seq: 1,
            signer: DEVICE.into()
        }
    );
    // ... and its hash changed, so link 2 no longer points at it.
    assert!(matches!(
        r.problems[3],
        ChainProblem::BrokenPrev { seq: 2, .. }
    ));
    assert_eq!(r.problems.len(), 4);
}

#[test]
fn a_link_with_two_signatures_is_refused() {
    let b = shift();
    let mut n = Note::parse(b.links[0].bytes()).expect("parse");
    n.sign(&SignerKey::ed25519_from_seed("someone", [1; 32]).expect("key"))
        .expect("sign");
    assert_eq!(
        Link::parse(&n.to_bytes()).err(),
        Some(LinkError::SignatureCount(2))
    );
}

#[test]
fn an_event_may_fall_inside_the_segment_before_it_but_not_before_it() {
    let mut b = Builder::new(cam_key());
    b.segment();
    b.now -= 4_000; // noticed while that segment was being recorded
    b.event(EventKind::Docked);
    b.now += 4_000;
    b.segment();
    assert!(
        check(&b, &b.raw()).is_clean(),
        "{:?}",
        check(&b, &b.raw()).problems
    );

    let mut bad = Builder::new(cam_key());
    bad.segment();
    let start = bad.links[0].body().start();
    bad.now = start.0 - 1;
    bad.event(EventKind::Docked);
    assert_eq!(
        check(&bad, &bad.raw()).problems,
        vec![ChainProblem::TimeBackwards {
            seq: 1,
            previous: start,
            time: Timestamp(start.0 - 1)
        }]
    );
}
