//! Search queries at the analytics issue's size: 1 M inspections (a year at 200 crossing
//! points, 10,000 officers, each with a camera on one long shift) in SQLite or PostgreSQL, with 1,000
//! bookmarks. Each query runs 20 times; the p50 and the worst are printed against the
//! 50 ms target. The baseline in the same run is one full scan of the inspections table
//! (what any query would cost without its index).
//!
//! Run: `cargo bench -p kordon-store --bench search` (`KORDON_BENCH_INSPECTIONS` to change
//! the size; `KORDON_BENCH_ENGINE=postgres` for PostgreSQL from `KORDON_TEST_POSTGRES`).

use std::time::{Duration, Instant};

use kordon_store::meta::testing::Rng;
use kordon_store::meta::{Assignment, Bookmark, InspectionQuery, InspectionRow, Meta};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const DAY: i64 = 86_400_000;
const OFFICERS: usize = 10_000;

fn row(n: usize, rng: &mut Rng) -> InspectionRow {
    let officer = rng.below(OFFICERS as u64) as usize;
    let start = T0 + rng.below(365 * DAY as u64) as i64;
    let plate = format!("AA{:04}BB", rng.below(10_000));
    InspectionRow {
        id: format!("I-{n:07}"),
        crossing_point: format!("UA-{:03}", officer % 200),
        lane: format!("{}", rng.below(8) + 1),
        officers: vec![format!("UA-{officer:05}")],
        start_ms: start,
        end_ms: start + 300_000 + rng.below(2_400_000) as i64,
        plate: plate.clone(),
        plate_norm: plate,
        declaration: format!("UA100/{n:07}"),
        declarant: String::new(),
        kind: "vehicle".into(),
        outcome: "cleared".into(),
    }
}

async fn time(name: &str, m: &Meta, q: &InspectionQuery) -> Duration {
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..20 {
        let t = Instant::now();
        found = m.search_inspections(q, 100).await.expect("search").len();
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "{name:<32} p50 {:>7.2} ms  worst {:>7.2} ms  ({found} found)",
        times[10].as_secs_f64() * 1000.0,
        times[19].as_secs_f64() * 1000.0
    );
    times[19]
}

async fn load(m: &Meta, n: usize) {
    for o in 0..OFFICERS {
        let cam = format!("cam-{o:05}");
        m.create_enroll_token(&cam, &format!("t{o}"), 0, i64::MAX)
            .await
            .expect("token");
        m.enroll(&cam, &format!("t{o}"), "key", 0)
            .await
            .expect("enroll");
        m.assign(
            &Assignment {
                id: format!("a{o}"),
                device_id: cam,
                officer: format!("UA-{o:05}"),
                crossing_point: format!("UA-{:03}", o % 200),
                start_ms: T0,
                end_ms: None,
            },
            "bench",
        )
        .await
        .expect("assign");
    }
    let mut rng = Rng(7);
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        batch.push(row(i, &mut rng));
        if batch.len() == 10_000 || i + 1 == n {
            m.put_inspections(&batch, 0).await.expect("put");
            batch.clear();
        }
    }
    for b in 0..1000 {
        m.add_bookmark(
            &Bookmark {
                id: format!("b{b}"),
                inspection_id: Some(format!("I-{:07}", rng.below(n as u64))),
                device_id: None,
                at_ms: T0,
                label: format!("note {b} driver argued"),
                created_by: "bench".into(),
            },
            0,
        )
        .await
        .expect("bookmark");
    }
}

fn main() {
    let n: usize = std::env::var("KORDON_BENCH_INSPECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("meta.db");
        let (m, url) = if std::env::var("KORDON_BENCH_ENGINE").is_ok_and(|e| e == "postgres") {
            let url = kordon_store::meta::testing::fresh_database().await;
            (Meta::open_postgres(&url).await.expect("open"), url)
        } else {
            let m = Meta::open_sqlite(&path).await.expect("open");
            (m, format!("sqlite://{}", path.display()))
        };
        println!("engine: {:?}", m.engine());
        let t = Instant::now();
        load(&m, n).await;
        println!(
            "loaded {n} inspections, {OFFICERS} officers with cameras, 1000 bookmarks in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        let officer = row(0, &mut Rng(7)).officers[0].clone();
        let day = T0 + 180 * DAY;
        let queries: Vec<(&str, InspectionQuery)> = vec![
            (
                "vehicle plate",
                InspectionQuery {
                    plate_norm: Some("AA1234BB".into()),
                    ..Default::default()
                },
            ),
            (
                "declaration number",
                InspectionQuery {
                    declaration: Some(format!("UA100/{:07}", n / 3)),
                    ..Default::default()
                },
            ),
            (
                "inspection id",
                InspectionQuery {
                    id: Some(format!("I-{:07}", n / 4)),
                    ..Default::default()
                },
            ),
            (
                "officer, one month",
                InspectionQuery {
                    officer: Some(officer),
                    from: Some(day),
                    to: Some(day + 30 * DAY),
                    ..Default::default()
                },
            ),
            (
                "camera",
                InspectionQuery {
                    device: Some("cam-04242".into()),
                    ..Default::default()
                },
            ),
            (
                "crossing point + lane, one day",
                InspectionQuery {
                    crossing_point: Some("UA-042".into()),
                    lane: Some("3".into()),
                    from: Some(day),
                    to: Some(day + DAY),
                    ..Default::default()
                },
            ),
            (
                "time range, one hour",
                InspectionQuery {
                    from: Some(day),
                    to: Some(day + DAY / 24),
                    ..Default::default()
                },
            ),
            (
                "bookmark text",
                InspectionQuery {
                    bookmark: Some("note 77 ".into()),
                    ..Default::default()
                },
            ),
        ];
        let mut worst = Duration::ZERO;
        for (name, q) in &queries {
            worst = worst.max(time(name, &m, q).await);
        }
        let raw = sqlx::AnyPool::connect(&url).await.expect("raw");
        let t = Instant::now();
        let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inspections WHERE plate LIKE '%1234%'")
            .fetch_one(&raw)
            .await
            .expect("scan");
        let scan = t.elapsed();
        println!(
            "baseline full scan {:.1} ms; worst query {:.2} ms = {:.3}x of it (target: under 50 ms)",
            scan.as_secs_f64() * 1000.0,
            worst.as_secs_f64() * 1000.0,
            worst.as_secs_f64() / scan.as_secs_f64()
        );
    });
}
