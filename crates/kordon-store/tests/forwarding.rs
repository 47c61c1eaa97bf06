//! What forwarding keeps in the store, the same on SQLite and on PostgreSQL: the change
//! feed the triggers fill, records read at a crossing point and applied at the centre row
//! for row, refused whole when they do not fit; the holes and the confirmed size.

use kordon_core::merkle::Frontier;
use kordon_store::meta::testing::TestCamera;
use kordon_store::meta::{
    Assignment, CrossingPointRow, EdgeState, ForwardHole, Meta, MetaError, Record,
};

const ORIGIN: &str = "edge.kordon.test/log";

async fn carried(edge: &Meta, centre: &Meta) {
    // At the crossing point: a crossing point, a camera handed out and taken back.
    edge.put_crossing_point(
        &CrossingPointRow {
            code: "UA-T-1".into(),
            name_uk: "Тест".into(),
            name_latin: "Test".into(),
            tz: "Europe/Kyiv".into(),
            lanes: vec!["1".into()],
        },
        1,
    )
    .await
    .expect("crossing point");
    let cam = TestCamera::new("cam-1");
    edge.create_enroll_token("cam-1", "t", 0, i64::MAX)
        .await
        .expect("token");
    edge.enroll("cam-1", "t", &cam.vkey(), 0)
        .await
        .expect("enroll");
    let a = Assignment {
        id: "as-1".into(),
        device_id: "cam-1".into(),
        officer: "UA-1".into(),
        crossing_point: "UA-T-1".into(),
        start_ms: 1_000,
        end_ms: None,
    };
    edge.assign(&a, "admin").await.expect("assign");
    edge.return_device("cam-1", 9_000, "admin")
        .await
        .expect("return");

    // The triggers noted each change, in order.
    let feed = edge.outbox_after(0, i64::MAX, 100).await.expect("feed");
    let kinds: Vec<(&str, &str)> = feed
        .iter()
        .map(|(_, k, i)| (k.as_str(), i.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("crossing_point", "UA-T-1"),
            ("assignment", "as-1"),
            ("assignment", "as-1")
        ]
    );
    assert!(
        edge.outbox_after(0, 0, 100).await.expect("feed").is_empty(),
        "nothing settled before the epoch"
    );
    let through = feed.last().expect("last").0;
    let records = vec![
        edge.record("crossing_point", "UA-T-1")
            .await
            .expect("record"),
        edge.record("assignment", "as-1").await.expect("record"),
    ];

    // The centre takes records only of a crossing point whose log it holds.
    assert!(
        !centre
            .apply_records(ORIGIN, through, &records)
            .await
            .expect("apply")
    );
    let mut frontier = Frontier::default();
    frontier.push_leaf_hash(kordon_core::merkle::leaf_hash(b"entry 0"));
    let state = EdgeState {
        origin: ORIGIN.into(),
        size: 1,
        frontier: frontier.to_text(),
        checkpoint: b"checkpoint".to_vec(),
        updated_at: 1,
        records: 0,
    };
    assert!(
        centre
            .extend_edge(0, &[b"entry 0".to_vec()], &state)
            .await
            .expect("extend")
    );
    // A record that does not fit is refused whole: nothing of the batch is applied.
    let mut bad = records.clone();
    let mut other = records[1].tables["assignments"][0].clone();
    other.insert("id".into(), kordon_store::meta::Cell::Text("as-2".into()));
    bad[1]
        .tables
        .get_mut("assignments")
        .expect("table")
        .push(other);
    match centre.apply_records(ORIGIN, through, &bad).await {
        Err(MetaError::Invalid(m)) => assert!(m.contains("a row whose id is not"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(centre.crossing_points().await.expect("cps").is_empty());
    let unknown = Record {
        kind: "vehicle".into(),
        ..records[0].clone()
    };
    assert!(matches!(
        centre.apply_records(ORIGIN, through, &[unknown]).await,
        Err(MetaError::Invalid(_))
    ));

    // Applied: the centre holds the crossing point's rows, and a retry changes nothing.
    for _ in 0..2 {
        assert!(
            centre
                .apply_records(ORIGIN, through, &records)
                .await
                .expect("apply")
        );
        for r in &records {
            assert_eq!(
                centre.record(&r.kind, &r.id).await.expect("record"),
                *r,
                "{} {}",
                r.kind,
                r.id
            );
        }
    }
    assert_eq!(
        centre.edge(ORIGIN).await.expect("edge").map(|e| e.records),
        Some(through)
    );
    assert_eq!(
        centre.assignments("cam-1").await.expect("assignments"),
        edge.assignments("cam-1").await.expect("assignments")
    );
    edge.prune_outbox(through).await.expect("prune");
    assert!(
        edge.outbox_after(0, i64::MAX, 100)
            .await
            .expect("feed")
            .is_empty()
    );

    // Holes: recorded once, due on their schedule, retried, closed.
    let hole = ForwardHole {
        idx: 7,
        device_id: "cam-1".into(),
        seq: 3,
        reason: "not stored here".into(),
        attempts: 1,
        found_at: 100,
        next_at: 200,
    };
    assert!(edge.add_forward_hole(&hole).await.expect("hole"));
    assert!(!edge.add_forward_hole(&hole).await.expect("again"));
    assert!(
        edge.due_forward_holes(199, 10)
            .await
            .expect("due")
            .is_empty()
    );
    assert_eq!(
        edge.due_forward_holes(200, 10).await.expect("due"),
        std::slice::from_ref(&hole)
    );
    edge.retry_forward_hole(7, "still", 400)
        .await
        .expect("retry");
    let holes = edge.forward_holes(None, 10).await.expect("holes");
    let n = edge.forward_hole_count().await.expect("count");
    assert_eq!((holes[0].attempts, holes[0].next_at, n), (2, 400, 1));
    assert!(edge.is_forward_hole(7).await.expect("is"));
    edge.close_forward_hole(7).await.expect("close");
    assert!(!edge.is_forward_hole(7).await.expect("is"));

    // The confirmed size only grows.
    assert_eq!(edge.forward_confirmed().await.expect("confirmed"), 0);
    edge.set_forward_confirmed(10, "r", 1).await.expect("set");
    edge.set_forward_confirmed(5, "r", 2).await.expect("set");
    assert_eq!(edge.forward_confirmed().await.expect("confirmed"), 10);
}

#[tokio::test]
async fn sqlite_carries_records_and_holes() {
    let dir = tempfile::tempdir().expect("tmp");
    let edge = Meta::open_sqlite(&dir.path().join("edge.db"))
        .await
        .expect("edge");
    let centre = Meta::open_sqlite(&dir.path().join("centre.db"))
        .await
        .expect("centre");
    carried(&edge, &centre).await;
}

#[tokio::test]
async fn postgres_carries_records_and_holes() {
    let edge = Meta::open_postgres(&kordon_store::meta::testing::fresh_database().await)
        .await
        .expect("edge");
    let centre = Meta::open_postgres(&kordon_store::meta::testing::fresh_database().await)
        .await
        .expect("centre");
    carried(&edge, &centre).await;
}
