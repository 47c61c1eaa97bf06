//! Hand-built shifts with exact expected intervals, from real signed and verified chains.

use std::collections::HashMap;

use kordon_analytics::coverage::{Assignment, CameraTimeline, Coverage, GapClass, coverage};
use kordon_analytics::span::Span;
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::hash::sha256;
use kordon_core::link::{Attestation, Audio, Event, EventKind, Link, LinkBody, Segment, genesis};
use kordon_core::note::SignerKey;
use kordon_core::time::Timestamp;

const T0: i64 = 1_795_849_200_000; // 2026-11-28T07:00:00Z

fn m(minutes: i64) -> i64 {
    T0 + minutes * 60_000
}

enum Step {
    Seg(i64, i64, bool),
    Ev(i64, EventKind),
    /// A segment that was signed but never arrived.
    Lost(i64, i64),
    /// A `kordon.segment/v2` segment stating its audio.
    Sound(i64, i64, Audio),
}

/// Signs a chain for `camera` and returns the timeline of what arrived.
fn timeline(camera: &str, steps: &[Step]) -> CameraTimeline {
    let key = SignerKey::ed25519_from_seed(camera, [7; 32]).expect("key");
    let mut links: Vec<Link> = Vec::new();
    let mut arrived = Vec::new();
    for s in steps {
        let seq = links.len() as u64;
        let prev = links.last().map_or_else(|| genesis(camera), Link::hash);
        let (body, keep) = match s {
            Step::Seg(a, b, _) | Step::Lost(a, b) | Step::Sound(a, b, _) => (
                LinkBody::Segment(Segment {
                    device: camera.into(),
                    seq,
                    start: Timestamp(m(*a)),
                    end: Timestamp(m(*b)),
                    size: 1,
                    sha256: sha256(&seq.to_be_bytes()),
                    night: matches!(s, Step::Seg(_, _, true)),
                    audio: match s {
                        Step::Sound(_, _, audio) => *audio,
                        _ => Audio::Unstated,
                    },
                    attested: Attestation::Device,
                    prev,
                }),
                !matches!(s, Step::Lost(..)),
            ),
            Step::Ev(t, kind) => (
                LinkBody::Event(Event {
                    device: camera.into(),
                    seq,
                    time: Timestamp(m(*t)),
                    kind: *kind,
                    detail: "test".into(),
                    prev,
                }),
                true,
            ),
        };
        let l = Link::sign(body, &key).expect("sign");
        if keep {
            arrived.push(l.bytes().to_vec());
        }
        links.push(l);
    }
    let report = verify_chain(
        camera,
        key.verifier(),
        &arrived,
        &ChainOptions { max_gap_ms: 2000 },
    );
    CameraTimeline::from_chain(&report)
}

/// One-minute segments from `a` to `b`.
fn segs(a: i64, b: i64) -> Vec<Step> {
    (a..b).map(|i| Step::Seg(i, i + 1, false)).collect()
}

fn assign(camera: &str, officer: &str, a: i64, b: i64) -> Assignment {
    Assignment {
        camera: camera.into(),
        officer: officer.into(),
        span: Span::new(m(a), m(b)),
    }
}

fn gaps(c: &Coverage) -> Vec<(i64, i64, GapClass)> {
    c.uncovered
        .iter()
        .map(|(s, g)| ((s.start - T0) / 60_000, (s.end - T0) / 60_000, *g))
        .collect()
}

fn run(
    ins: (i64, i64),
    officers: &[&str],
    assignments: &[Assignment],
    cams: Vec<(&str, CameraTimeline)>,
) -> Coverage {
    let cams: HashMap<String, CameraTimeline> =
        cams.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let officers: Vec<String> = officers.iter().map(|o| (*o).to_owned()).collect();
    coverage(Span::new(m(ins.0), m(ins.1)), &officers, assignments, &cams)
}

#[test]
fn a_wearer_stop_inside_an_inspection() {
    let mut steps = segs(0, 10);
    steps.push(Step::Ev(10, EventKind::RecordStop));
    steps.push(Step::Ev(15, EventKind::RecordStart));
    steps.extend(segs(15, 20));
    let c = run(
        (5, 18),
        &["O1"],
        &[assign("A", "O1", 0, 60)],
        vec![("A", timeline("A", &steps))],
    );
    assert_eq!((c.duration_ms, c.covered_ms), (13 * 60_000, 8 * 60_000));
    assert_eq!(gaps(&c), vec![(10, 15, GapClass::StoppedByWearer)]);
    assert!((c.ratio() - 8.0 / 13.0).abs() < 1e-9);
    assert_eq!(
        c.stops,
        vec![kordon_analytics::coverage::Stop {
            at_ms: m(10),
            camera: "A".into(),
            kind: "record-stop".into()
        }],
        "the stop inside the inspection is reported"
    );
    // An inspection that ends before the stop sees none.
    let before = run(
        (1, 9),
        &["O1"],
        &[assign("A", "O1", 0, 60)],
        vec![("A", timeline("A", &steps))],
    );
    assert!(before.stops.is_empty());
}

#[test]
fn a_lost_segment_is_missing_and_arrives_late() {
    let mut steps = segs(0, 4);
    steps.push(Step::Lost(4, 5));
    steps.extend(segs(5, 10));
    let c = run(
        (2, 8),
        &["O1"],
        &[assign("A", "O1", 0, 60)],
        vec![("A", timeline("A", &steps))],
    );
    assert_eq!(gaps(&c), vec![(4, 5, GapClass::MissingSegments)]);
    // The late upload fills it: recomputed coverage is complete.
    steps[4] = Step::Seg(4, 5, false);
    let c = run(
        (2, 8),
        &["O1"],
        &[assign("A", "O1", 0, 60)],
        vec![("A", timeline("A", &steps))],
    );
    assert_eq!((gaps(&c), c.covered_ms), (vec![], 6 * 60_000));
}

#[test]
fn device_faults_silences_and_uploads_still_on_the_way() {
    let mut steps = segs(0, 3);
    steps.push(Step::Ev(3, EventKind::StorageFull));
    steps.extend(segs(6, 8));
    steps.extend(segs(10, 12)); // silence 8..10 with no event
    let c = run(
        (1, 20),
        &["O1"],
        &[assign("A", "O1", 0, 60)],
        vec![("A", timeline("A", &steps))],
    );
    assert_eq!(
        gaps(&c),
        vec![
            (3, 6, GapClass::DeviceFault),
            (8, 10, GapClass::NoRecording),
            (12, 20, GapClass::NotYetUploaded)
        ]
    );
    assert_eq!(c.covered_ms, (2 + 2 + 2) * 60_000);
}

#[test]
fn an_inspection_spanning_two_assignments_and_a_hand_over() {
    // Camera A until minute 4, nobody from 4 to 6, camera B from 6.
    let a = timeline("A", &segs(0, 4));
    let b = timeline("B", &segs(6, 12));
    let c = run(
        (2, 8),
        &["O1"],
        &[assign("A", "O1", 0, 4), assign("B", "O1", 6, 60)],
        vec![("A", a), ("B", b)],
    );
    assert_eq!(gaps(&c), vec![(4, 6, GapClass::NotAssigned)]);
    assert_eq!(c.covered_ms, 4 * 60_000);
    // Another officer's camera does not count.
    let c = run(
        (2, 8),
        &["O2"],
        &[assign("A", "O1", 0, 60)],
        vec![("A", timeline("A", &segs(0, 12)))],
    );
    assert_eq!(gaps(&c), vec![(2, 8, GapClass::NotAssigned)]);
}

#[test]
fn two_officers_cover_together_and_the_most_specific_reason_wins() {
    let mut a = segs(0, 5);
    a.push(Step::Ev(5, EventKind::RecordStop));
    let c = run(
        (0, 10),
        &["O1", "O2"],
        &[assign("A", "O1", 0, 60), assign("B", "O2", 0, 60)],
        vec![("A", timeline("A", &a)), ("B", timeline("B", &segs(3, 10)))],
    );
    assert_eq!((gaps(&c), c.covered_ms), (vec![], 10 * 60_000));
    // B records only from 7: 5..7 is unrecorded by both; A's stop explains it better than
    // B's silence.
    let mut b = segs(0, 1);
    b.extend(segs(7, 10));
    let c = run(
        (0, 10),
        &["O1", "O2"],
        &[assign("A", "O1", 0, 60), assign("B", "O2", 0, 60)],
        vec![("A", timeline("A", &a)), ("B", timeline("B", &b))],
    );
    assert_eq!(gaps(&c), vec![(5, 7, GapClass::StoppedByWearer)]);
}

#[test]
fn night_share_counts_recorded_night_time_only() {
    let steps = vec![
        Step::Seg(0, 1, false),
        Step::Seg(1, 2, false),
        Step::Seg(2, 3, true),
        Step::Seg(3, 4, true),
        Step::Seg(4, 5, false),
    ];
    let c = run(
        (1, 10),
        &["O1"],
        &[assign("A", "O1", 0, 60)],
        vec![("A", timeline("A", &steps))],
    );
    assert_eq!(c.night_ms, 2 * 60_000);
    assert_eq!(c.covered_ms, 4 * 60_000);
    assert_eq!(gaps(&c), vec![(5, 10, GapClass::NotYetUploaded)]);
}

#[test]
fn video_without_sound_for_longer_than_allowed_is_a_gap_of_its_own() {
    use Audio::{None as NoTrack, Present, Silent};
    let steps = vec![
        Step::Sound(0, 1, Present),
        Step::Sound(1, 2, Present),
        Step::Sound(2, 3, Silent),
        Step::Sound(3, 4, Silent),
        Step::Sound(4, 5, NoTrack),
        Step::Sound(5, 6, Present),
        // One muted minute: shorter than the 90 s allowed here, so covered.
        Step::Sound(6, 7, Silent),
        Step::Sound(7, 8, Present),
        // v1 segments state nothing: never counted as silent.
        Step::Seg(8, 9, false),
        Step::Ev(9, EventKind::RecordStop),
    ];
    let mut a = timeline("A", &steps);
    a.audio_gap_ms = 90_000;
    let c = run(
        (0, 9),
        &["O1"],
        &[assign("A", "O1", 0, 60)],
        vec![("A", a.clone())],
    );
    assert_eq!(gaps(&c), vec![(2, 5, GapClass::NoAudio)]);
    assert_eq!(c.covered_ms, 6 * 60_000);
    // A second officer's camera heard minute 3: only the rest stays without sound.
    let b = timeline(
        "B",
        &[
            Step::Sound(3, 4, Present),
            Step::Ev(4, EventKind::RecordStop),
        ],
    );
    let c = run(
        (0, 9),
        &["O1", "O2"],
        &[assign("A", "O1", 0, 60), assign("B", "O2", 0, 60)],
        vec![("A", a), ("B", b)],
    );
    assert_eq!(
        gaps(&c),
        vec![(2, 3, GapClass::NoAudio), (4, 5, GapClass::NoAudio)]
    );
    assert_eq!(c.covered_ms, 7 * 60_000);
}
