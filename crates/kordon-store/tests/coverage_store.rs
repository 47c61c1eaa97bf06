//! Stored coverage: what invalidates it, and that a result computed before a change is
//! never written over the change.

use kordon_core::chain::ChainOptions;
use kordon_store::meta::testing::TestCamera;
use kordon_store::meta::{Assignment, InspectionOutcome, InspectionRow, Meta, NewLink};

const H: i64 = 3_600_000;

fn inspection(id: &str, officer: &str, start: i64, end: i64) -> InspectionRow {
    InspectionRow {
        id: id.into(),
        crossing_point: "UA-KYIV-01".into(),
        lane: "1".into(),
        officers: vec![officer.into()],
        start_ms: start,
        end_ms: end,
        plate: "AA1234BB".into(),
        plate_norm: "AA1234BB".into(),
        declaration: "D1".into(),
        declarant: String::new(),
        kind: "vehicle".into(),
        outcome: "cleared".into(),
    }
}

async fn camera(m: &Meta, id: &str, officer: &str, from: i64) {
    m.create_enroll_token(id, &format!("t-{id}"), 0, i64::MAX)
        .await
        .expect("token");
    m.enroll(id, &format!("t-{id}"), "key", 0)
        .await
        .expect("enroll");
    m.assign(
        &Assignment {
            id: format!("a-{id}"),
            device_id: id.into(),
            officer: officer.into(),
            crossing_point: "UA-KYIV-01".into(),
            start_ms: from,
            end_ms: None,
        },
        "test",
    )
    .await
    .expect("assign");
}

async fn link(m: &Meta, device: &str, seq: u64, start: i64, end: i64) {
    let cam = TestCamera::new(device);
    let link = cam.segment_with(seq, kordon_core::link::genesis(device), start, end);
    m.insert_link(
        &NewLink {
            link: &link,
            log_floor: 0,
            chain: ChainOptions::default(),
        },
        0,
    )
    .await
    .expect("link");
}

/// `(generation, stored coverage)` of an inspection.
async fn state(m: &Meta, id: &str) -> (i64, Option<String>) {
    let li = m.inspection(id).await.expect("read").expect("exists");
    (li.generation, li.coverage)
}

#[tokio::test]
async fn coverage_is_invalidated_by_exactly_what_it_depends_on_in_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    let m = Meta::open_sqlite(&dir.path().join("meta.db"))
        .await
        .expect("open");
    coverage_invalidation(&m).await;
}

#[tokio::test]
async fn coverage_is_invalidated_by_exactly_what_it_depends_on_in_postgres() {
    let url = kordon_store::meta::testing::fresh_database().await;
    let m = Meta::open_postgres(&url).await.expect("open");
    coverage_invalidation(&m).await;
}

async fn coverage_invalidation(m: &Meta) {
    camera(m, "cam-a", "UA-1", 0).await;
    camera(m, "cam-b", "UA-2", 0).await;
    let (early, late) = (
        inspection("I-1", "UA-1", H, 2 * H),
        inspection("I-2", "UA-1", 5 * H, 6 * H),
    );
    assert_eq!(
        m.put_inspections(&[early.clone(), late.clone()], 0)
            .await
            .expect("put"),
        vec![InspectionOutcome::New, InspectionOutcome::New]
    );
    for id in ["I-1", "I-2"] {
        let (g, c) = state(m, id).await;
        assert_eq!(c, None, "not computed yet");
        assert!(m.store_coverage(id, g, "computed").await.expect("store"));
        assert_eq!(state(m, id).await.1.as_deref(), Some("computed"));
    }

    // A link of another officer's camera changes nothing.
    link(m, "cam-b", 0, H, 2 * H).await;
    assert_eq!(state(m, "I-1").await.1.as_deref(), Some("computed"));
    // A link of UA-1's camera at 3 h: I-1 ended before, I-2 is after it.
    let g2 = state(m, "I-2").await.0;
    link(m, "cam-a", 0, 3 * H, 3 * H + 10_000).await;
    assert_eq!(state(m, "I-1").await.1.as_deref(), Some("computed"));
    let (g2_now, c2) = state(m, "I-2").await;
    assert_eq!((g2_now, c2), (g2 + 1, None), "stale");
    // A result computed before the change is not stored over it.
    assert!(!m.store_coverage("I-2", g2, "old").await.expect("store"));
    assert_eq!(state(m, "I-2").await.1, None);
    assert!(m.store_coverage("I-2", g2_now, "new").await.expect("store"));
    // A late link that fills a gap before I-1 (its predecessor started before I-1 ended)
    // makes I-1 stale too.
    link(m, "cam-a", 5, 4 * H, 4 * H + 10_000).await;
    let g2 = state(m, "I-2").await.0;
    assert!(m.store_coverage("I-2", g2, "after 5").await.expect("store"));
    link(m, "cam-a", 2, H + 60_000, H + 70_000).await;
    assert_eq!(state(m, "I-1").await.1, None, "late link inside I-1");
    // It cannot change what comes after the next segment (seq 5 at 4 h): I-2 stays.
    assert_eq!(state(m, "I-2").await.1.as_deref(), Some("after 5"));

    // A correction is a new version with fresh coverage; the old version is kept.
    let mut corrected = late.clone();
    corrected.end_ms += 60_000;
    assert_eq!(
        m.put_inspection(&corrected, 1).await.expect("put"),
        InspectionOutcome::Corrected(2)
    );
    let li = m.inspection("I-2").await.expect("read").expect("exists");
    assert_eq!(
        (li.version, li.coverage, li.row.end_ms),
        (2, None, corrected.end_ms)
    );
    // Searching by officer and by camera sees only the latest version, once.
    let q = kordon_store::meta::InspectionQuery {
        device: Some("cam-a".into()),
        ..Default::default()
    };
    let found: Vec<(String, i64)> = m
        .search_inspections(&q, 10)
        .await
        .expect("search")
        .into_iter()
        .map(|l| (l.row.id, l.version))
        .collect();
    assert_eq!(found, vec![("I-1".into(), 1), ("I-2".into(), 2)]);

    // Returning the camera invalidates the officer's inspections after the hand-out.
    assert!(
        m.store_coverage("I-1", state(m, "I-1").await.0, "x")
            .await
            .expect("store")
    );
    m.return_device("cam-a", 7 * H, "test")
        .await
        .expect("return");
    assert_eq!(state(m, "I-1").await.1, None);
    // A return before the hand-out is refused.
    camera(m, "cam-c", "UA-3", 8 * H).await;
    let err = m
        .return_device("cam-c", 7 * H, "test")
        .await
        .expect_err("refused");
    assert!(
        err.to_string().contains("before it was handed out"),
        "{err}"
    );
}
