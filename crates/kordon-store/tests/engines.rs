//! The metadata store behaves the same on SQLite and on PostgreSQL: chain links (retries,
//! equivocation, the log's bookkeeping), custody, search, holds and purges — and on
//! PostgreSQL the monthly partitions of `links` are created ahead and filled correctly.

use kordon_core::chain::ChainOptions;
use kordon_core::link::{EventKind, Link};
use kordon_store::meta::testing::TestCamera;
use kordon_store::meta::{Bookmark, Engine, InsertOutcome, Meta, NewLink};

const DAY: i64 = 86_400_000;
/// 2026-11-28T12:00:00Z.
const NOW: i64 = 1_795_867_200_000;

fn new(link: &Link) -> NewLink<'_> {
    NewLink {
        link,
        log_floor: 0,
        chain: ChainOptions::default(),
    }
}

async fn behaves(m: &Meta) {
    m.create_enroll_token("cam-1", "t", 0, i64::MAX)
        .await
        .expect("token");
    let mut cam = TestCamera::new("cam-1");
    m.enroll("cam-1", "t", &cam.vkey(), 0)
        .await
        .expect("enroll");

    // A new link, its retry, and a different link under the same seq (equivocation).
    let l0 = cam.segment(NOW, NOW + 60_000);
    let h = |l: &Link| l.hash().to_hex();
    assert_eq!(
        m.insert_link(&new(&l0), NOW).await.expect("insert"),
        InsertOutcome::Inserted
    );
    match m.insert_link(&new(&l0), NOW).await.expect("retry") {
        InsertOutcome::Duplicate(s) => assert_eq!(s.body, l0.bytes()),
        other => panic!("retry: {other:?}"),
    }
    let forged = cam.segment_with(0, l0.body().prev(), NOW - 40 * DAY, NOW - 40 * DAY + 1);
    match m.insert_link(&new(&forged), NOW).await.expect("conflict") {
        InsertOutcome::Conflict(s) => assert_eq!(s.hash, h(&l0)),
        other => panic!("equivocation: {other:?}"),
    }
    for (time, new) in [(NOW, true), (NOW + 1, false)] {
        let recorded = m
            .record_equivocation("cam-1", 0, &h(&forged), forged.bytes(), time)
            .await
            .expect("record");
        assert_eq!(recorded, new, "a twin is new once");
    }
    assert_eq!(
        m.equivocations("cam-1", 10).await.expect("list"),
        vec![(0, h(&forged))]
    );
    // Links in other months (one far back, in no month partition) and out of order.
    let l1 = cam.segment(NOW - 400 * DAY, NOW - 400 * DAY + 60_000);
    let l2 = cam.segment(NOW + 35 * DAY, NOW + 35 * DAY + 60_000);
    for l in [&l2, &l1] {
        assert_eq!(
            m.insert_link(&new(l), NOW).await.expect("insert"),
            InsertOutcome::Inserted
        );
    }
    let page = m.chain_page("cam-1", None, 10).await.expect("links");
    let bodies: Vec<&[u8]> = page.iter().map(|p| p.1.as_slice()).collect();
    assert_eq!(bodies, vec![l0.bytes(), l1.bytes(), l2.bytes()]);

    // The log's bookkeeping.
    m.insert_custody(&kordon_store::meta::NewCustody {
        hash: "c0",
        action: "view",
        subject: "inspection:I-1",
        body: b"custody zero",
        private: None,
        created_at: NOW,
        log_floor: 0,
    })
    .await
    .expect("custody");
    let unlogged: Vec<String> = m
        .unlogged()
        .await
        .expect("unlogged")
        .into_iter()
        .map(|u| u.hash)
        .collect();
    assert_eq!(unlogged.len(), 4, "{unlogged:?}");
    for (i, h) in [h(&l0), h(&l1), h(&l2), "c0".into()].iter().enumerate() {
        m.set_log_index(h, i as u64).await.expect("index");
    }
    assert!(m.unlogged().await.expect("unlogged").is_empty());
    assert_eq!(m.max_log_index().await.expect("max"), Some(3));
    assert_eq!(m.log_index_of(&h(&l2)).await.expect("of"), Some(2));
    let logged = m.logged_entries().await.expect("logged");
    assert_eq!(logged[1], (1, l1.bytes().to_vec()));
    assert_eq!(
        m.custody_mentioning("view", "custody")
            .await
            .expect("mentioning")
            .len(),
        1
    );

    // A camera's custody trail, a page at a time, newest first: its own events and those
    // about its segments, not another camera's whose id starts the same.
    for i in 0..450i64 {
        for (subject, hash) in [
            (format!("device cam-1 seq {i}"), format!("t1-{i}")),
            (format!("device cam-10 seq {i}"), format!("t10-{i}")),
        ] {
            m.insert_custody(&kordon_store::meta::NewCustody {
                hash: &hash,
                action: "tombstone",
                subject: &subject,
                body: b"x",
                private: None,
                created_at: NOW,
                log_floor: 0,
            })
            .await
            .expect("custody");
        }
        m.set_log_index(&format!("t1-{i}"), 1000 + 2 * i as u64)
            .await
            .expect("index");
        m.set_log_index(&format!("t10-{i}"), 1001 + 2 * i as u64)
            .await
            .expect("index");
    }
    let mut trail = Vec::new();
    let mut before = None;
    loop {
        let page = m
            .custody_trail("device cam-1", before, 200)
            .await
            .expect("trail");
        before = page.last().and_then(|r| r.log_index);
        let full = page.len() == 200;
        trail.extend(page);
        if !full {
            break;
        }
    }
    assert_eq!(trail.len(), 450);
    assert!(
        trail
            .iter()
            .all(|r| r.subject.starts_with("device cam-1 seq "))
    );
    assert!(trail.windows(2).all(|w| w[0].log_index > w[1].log_index));
    // One action of the trail only, through its own index, a page at a time.
    for i in 0..3i64 {
        let hash = format!("v1-{i}");
        m.insert_custody(&kordon_store::meta::NewCustody {
            hash: &hash,
            action: "view",
            subject: &format!("device cam-1 seq {i}"),
            body: b"x",
            private: None,
            created_at: NOW,
            log_floor: 0,
        })
        .await
        .expect("custody");
        m.set_log_index(&hash, 5000 + i as u64)
            .await
            .expect("index");
    }
    let views = m
        .custody_trail_of("device cam-1", Some("view"), None, 2)
        .await
        .expect("views");
    assert_eq!(
        views.iter().map(|r| r.log_index).collect::<Vec<_>>(),
        [Some(5002), Some(5001)]
    );
    let older = m
        .custody_trail_of("device cam-1", Some("view"), Some(5001), 2)
        .await
        .expect("views");
    assert_eq!(older.len(), 1);
    assert!(views.iter().chain(&older).all(|r| r.action == "view"));

    // Explanations: the queue of those waiting for a decision at given crossing points,
    // paged; what one person filed; a decision with its comment.
    for (id, cp) in [("I-K", "UA-KYIV-01"), ("I-L", "UA-LVIV-01")] {
        m.put_inspection(
            &kordon_store::meta::InspectionRow {
                id: id.into(),
                crossing_point: cp.into(),
                lane: "1".into(),
                officers: vec!["UA-1".into(), "UA-2".into()],
                start_ms: NOW,
                end_ms: NOW + 600_000,
                plate: "AA1234BB".into(),
                plate_norm: "AA1234BB".into(),
                declaration: "D".into(),
                declarant: String::new(),
                kind: "vehicle".into(),
                outcome: "cleared".into(),
            },
            NOW,
        )
        .await
        .expect("inspection");
    }
    for (n, (id, inspection, by)) in [
        ("g1", "I-K", "UA-1"),
        ("g2", "I-L", "UA-1"),
        ("g3", "I-K", "UA-2"),
    ]
    .into_iter()
    .enumerate()
    {
        m.file_gap_reason(&kordon_store::meta::GapReason {
            id: id.into(),
            inspection_id: inspection.into(),
            from_ms: NOW,
            to_ms: NOW + 60_000,
            reason: "malfunction".into(),
            text: "battery".into(),
            status: "pending".into(),
            filed_by: by.into(),
            filed_at: NOW + n as i64,
            decided_by: None,
            decided_at: None,
            comment: None,
        })
        .await
        .expect("file");
    }
    let kyiv = ["UA-KYIV-01".to_owned()];
    let queue = m.pending_gap_reasons(&kyiv, None, 1).await.expect("queue");
    assert_eq!(queue.len(), 1);
    assert_eq!(
        (
            queue[0].reason.id.as_str(),
            queue[0].crossing_point.as_str(),
            queue[0].officers.len()
        ),
        ("g1", "UA-KYIV-01", 2)
    );
    let next = m
        .pending_gap_reasons(
            &kyiv,
            Some((queue[0].reason.filed_at, &queue[0].reason.id)),
            10,
        )
        .await
        .expect("queue");
    assert_eq!(
        next.iter()
            .map(|x| x.reason.id.as_str())
            .collect::<Vec<_>>(),
        ["g3"]
    );
    assert_eq!(
        m.pending_gap_reasons(&[], None, 10)
            .await
            .expect("all")
            .len(),
        3
    );
    let g = m
        .decide_gap_reason("g1", "rejected", "sup", NOW + 10, Some("which battery?"))
        .await
        .expect("decide");
    assert_eq!(
        (
            g.status.as_str(),
            g.decided_by.as_deref(),
            g.comment.as_deref()
        ),
        ("rejected", Some("sup"), Some("which battery?"))
    );
    assert!(
        m.decide_gap_reason("g1", "approved", "sup", NOW + 11, None)
            .await
            .is_err()
    );
    assert_eq!(
        m.pending_gap_reasons(&kyiv, None, 10)
            .await
            .expect("queue")
            .len(),
        1
    );
    // Cases, newest first, a page at a time, of the crossing points asked for (all for a
    // national user).
    for (n, cp) in [
        Some("UA-KYIV-01"),
        Some("UA-LVIV-01"),
        None,
        Some("UA-KYIV-01"),
    ]
    .into_iter()
    .enumerate()
    {
        m.open_case(&kordon_store::meta::Case {
            id: format!("C-{n}"),
            reference: "R".into(),
            kind: "complaint".into(),
            description: "d".into(),
            opened_by: "sup".into(),
            opened_at: NOW + n as i64,
            closed_at: None,
            crossing_point: cp.map(str::to_owned),
        })
        .await
        .expect("case");
    }
    let ids = |cs: Vec<kordon_store::meta::Case>| cs.into_iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(m.cases_page(&kyiv, None, 10).await.expect("cases")),
        ["C-3", "C-0"]
    );
    let first = m.cases_page(&[], None, 2).await.expect("cases");
    assert_eq!(ids(first.clone()), ["C-3", "C-2"]);
    let last = &first[1];
    assert_eq!(
        ids(m
            .cases_page(&[], Some((last.opened_at, &last.id)), 10)
            .await
            .expect("cases")),
        ["C-1", "C-0"]
    );
    // Reviews of inspections, by inspection, oldest first.
    for (n, (id, inspection)) in [("r1", "I-K"), ("r2", "I-L"), ("r3", "I-K")]
        .into_iter()
        .enumerate()
    {
        m.add_review(&kordon_store::meta::Review {
            id: id.into(),
            inspection_id: inspection.into(),
            reviewer: "sup".into(),
            reviewed_at: NOW + n as i64,
            outcome: "meets".into(),
            checklist: "filmed_throughout;sound_clear".into(),
            note: String::new(),
        })
        .await
        .expect("review");
    }
    let reviews = m.reviews_of(&["I-K", "I-X"]).await.expect("reviews");
    assert_eq!(
        reviews["I-K"]
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>(),
        ["r1", "r3"]
    );
    assert!(!reviews.contains_key("I-X") && !reviews.contains_key("I-L"));
    let mine = m.gap_reasons_filed_by("UA-1", 10).await.expect("mine");
    assert_eq!(
        mine.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        ["g2", "g1"]
    );

    // Bookmarks: a label found whatever the ASCII case.
    m.add_bookmark(
        &Bookmark {
            id: "b1".into(),
            inspection_id: None,
            device_id: Some("cam-1".into()),
            at_ms: NOW,
            label: "Cargo Seal".into(),
            created_by: "analyst".into(),
        },
        NOW,
    )
    .await
    .expect("bookmark");
    assert_eq!(
        m.bookmarks("cargo s", Some("cam-1"))
            .await
            .expect("find")
            .len(),
        1
    );
    assert_eq!(m.bookmarks("50%", None).await.expect("find").len(), 0);

    // The links overlapping a time range, also when a long one (a docked recording of two
    // hours) began long before it, with an event inside it.
    m.create_enroll_token("dock-1", "t2", 0, i64::MAX)
        .await
        .expect("token");
    let mut dock = TestCamera::new("dock-1");
    m.enroll("dock-1", "t2", &dock.vkey(), 0)
        .await
        .expect("enroll");
    let long = dock.segment(NOW, NOW + 7_200_000);
    let stop = dock.event(EventKind::RecordStop, NOW + 600_000);
    let after = dock.segment(NOW + 7_200_000, NOW + 7_260_000);
    for l in [&long, &stop, &after] {
        assert_eq!(
            m.insert_link(&new(l), NOW).await.expect("insert"),
            InsertOutcome::Inserted
        );
    }
    let seqs =
        |rows: Vec<kordon_store::meta::LinkRow>| rows.iter().map(|r| r.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(
            m.links_covering("dock-1", NOW + 3_600_000, NOW + 3_660_000)
                .await
                .expect("covering")
        ),
        vec![0]
    );
    assert_eq!(
        seqs(
            m.links_covering("dock-1", NOW + 500_000, NOW + 7_300_000)
                .await
                .expect("covering")
        ),
        vec![0, 1, 2]
    );
    assert!(
        m.links_covering("dock-1", NOW - 2 * DAY, NOW - DAY)
            .await
            .expect("covering")
            .is_empty()
    );

    // Holds and purges.
    assert!(!m.is_held("cam-1", NOW, NOW + 1).await.expect("held"));
    let blob0 = match l0.body() {
        kordon_core::link::LinkBody::Segment(s) => s.sha256.to_hex(),
        kordon_core::link::LinkBody::Event(_) => unreachable!("a segment"),
    };
    assert!(m.blob_in_use(&blob0).await.expect("in use"));
    let old = m.purge_candidates(NOW + 1, 10).await.expect("candidates");
    assert_eq!(old.len(), 5, "the segments of both devices");
    m.mark_purged("cam-1", 0, "tomb", NOW).await.expect("purge");
    assert!(!m.blob_in_use(&blob0).await.expect("in use"));
    assert_eq!(
        m.purge_candidates(NOW + 1, 10)
            .await
            .expect("candidates")
            .len(),
        4
    );
}

#[tokio::test]
async fn sqlite_behaves() {
    let dir = tempfile::tempdir().expect("tmp");
    let m = Meta::open_sqlite(&dir.path().join("m.db"))
        .await
        .expect("open");
    assert_eq!(m.engine(), Engine::Sqlite);
    behaves(&m).await;
}

#[tokio::test]
async fn postgres_behaves_and_partitions_links_by_month() {
    let url = kordon_store::meta::testing::fresh_database().await;
    let m = Meta::open_postgres(&url).await.expect("open");
    assert_eq!(m.engine(), Engine::Postgres);
    behaves(&m).await;

    // Where each link landed: this month's partition (created at open), and the default
    // partition for a month 400 days back.
    let placed = |sql: &'static str| {
        let url = url.clone();
        async move {
            use sqlx::Connection as _;
            let mut c = sqlx::AnyConnection::connect(&url).await.expect("connect");
            sqlx::query_scalar::<_, String>(sql)
                .fetch_all(&mut c)
                .await
                .expect("query")
        }
    };
    let where_is = "SELECT tableoid::regclass::text || ':' || seq FROM links WHERE device_id = 'cam-1' ORDER BY seq";
    let before = placed(where_is).await;
    let now_part = format!("links_p{}", &jiff_month(NOW));
    assert_eq!(before[0], format!("{now_part}:0"));
    assert_eq!(before[1], "links_default:1");
    // Creating the partition of that old month moves its rows out of the default one.
    m.ensure_partitions(NOW - 400 * DAY)
        .await
        .expect("partitions");
    let after = placed(where_is).await;
    assert_eq!(
        after[1],
        format!("links_p{}:1", jiff_month(NOW - 400 * DAY))
    );
    assert_eq!(after.len(), 3, "no row lost or doubled: {after:?}");
    // Still one link per (device, seq) after the move.
    let (_, again, _) = m
        .chain_page("cam-1", Some(0), 1)
        .await
        .expect("read")
        .remove(0);
    let again = Link::parse(&again).expect("parse");
    assert!(matches!(
        m.insert_link(&new(&again), NOW).await.expect("retry"),
        InsertOutcome::Duplicate(_)
    ));
}

/// `YYYYMM` of a time in UTC.
fn jiff_month(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .expect("time")
        .strftime("%Y%m")
        .to_string()
}

/// Writers that read before they write (hand-out and return, links with their chain
/// state) run side by side on the SQLite file's connections: none fails with "database
/// is locked" (a deferred transaction would, `SQLITE_BUSY_SNAPSHOT`), none is lost.
/// A camera enrolled in `m`.
async fn enrolled(m: &Meta, device: &str) -> TestCamera {
    let cam = TestCamera::new(device);
    m.create_enroll_token(device, device, 0, i64::MAX)
        .await
        .expect("token");
    m.enroll(device, device, &cam.vkey(), 0)
        .await
        .expect("enroll");
    cam
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_writers_side_by_side_all_succeed() {
    let dir = tempfile::tempdir().expect("tmp");
    let m = std::sync::Arc::new(
        Meta::open_sqlite(&dir.path().join("m.db"))
            .await
            .expect("open"),
    );
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let m = m.clone();
            tokio::spawn(async move {
                let mut cam = enrolled(&m, &format!("cam-{w}")).await;
                for shift in 0..15 {
                    let t = NOW + shift * 60_000;
                    let a = kordon_store::meta::Assignment {
                        id: format!("a-{w}-{shift}"),
                        device_id: cam.device.clone(),
                        officer: format!("UA-{w}"),
                        crossing_point: "UA-KYIV-01".into(),
                        start_ms: t,
                        end_ms: None,
                    };
                    m.assign(&a, "test").await.expect("assign");
                    let l = cam.segment(t, t + 10_000);
                    m.insert_link(&new(&l), t).await.expect("link");
                    m.return_device(&cam.device, t + 30_000, "test")
                        .await
                        .expect("return");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("writer");
    }
    for w in 0..8 {
        let s = m.chain_state(&format!("cam-{w}")).await.expect("state");
        assert_eq!(s.map(|s| s.links), Some(15), "cam-{w}");
    }
}
