//! A crossing point's year: every read route and page of a camera with 1,000 links
//! against the same reads when that camera holds a year of links (by default 2 cameras ×
//! 1,050,000 links — 10 s segments, 8 hours a day, with a start and a stop event per
//! shift — and 48 cameras × 10,000), plus uploads and `/healthz` while 8 clients load
//! dashboards, and the process's peak RSS.
//!
//! Path taken: links are signed with the cameras' keys and stored through
//! `Meta::insert_link` in process — the store half of ingest: the link row, the chain
//! state folded in the same transaction, coverage invalidation — without the log append
//! and the segment bytes (those are measured by the `ingest` bench of `kordon-cli`); the
//! uploads measured under load go through HTTP the whole way. Inspections (one an hour of
//! every shift) and assignments (one per shift) match the links.
//!
//! Run: `cargo bench -p kordon-server --bench year`. `KORDON_BENCH_YEAR_LINKS` sets the
//! links of the two large cameras (default 1050000), `KORDON_BENCH_DATABASE` a PostgreSQL
//! URL (default: SQLite in a temporary folder).

use std::sync::Arc;
use std::time::Instant;

use kordon_core::chain::ChainOptions;
use kordon_core::link::{EventKind, Link};
use kordon_server::App;
use kordon_store::meta::testing::TestCamera;
use kordon_store::meta::{Assignment, InspectionRow, NewLink};

const DAY: i64 = 86_400_000;
const SEG: i64 = 10_000;
const PER_SHIFT: u64 = 2_880; // 8 h of 10 s segments

/// 06:00 UTC of the day a year and a day ago: the year ends around now, so that the
/// dashboard's fortnight and today hold the latest shifts.
fn t0() -> i64 {
    (kordon_store::now_ms() / DAY - 366) * DAY + 6 * 3_600_000
}

struct Cam {
    cam: TestCamera,
    officer: String,
    t: i64,
    day: i64,
}

/// Grows a camera's chain to `links` links: shifts of a start event, 2,880 segments and
/// a stop event, one shift a day, with its assignment and one inspection an hour.
async fn grow(app: &App, c: &mut Cam, links: u64) {
    let opts = ChainOptions {
        max_gap_ms: app.config.max_gap_ms,
    };
    let mut batch: Vec<Link> = Vec::new();
    while c.cam.next < links {
        let in_shift = c.cam.next % (PER_SHIFT + 2);
        if in_shift == 0 {
            c.t = t0() + c.day * DAY;
            let a = Assignment {
                id: format!("a-{}-{}", c.cam.device, c.day),
                device_id: c.cam.device.clone(),
                officer: c.officer.clone(),
                crossing_point: "UA-KYIV-01".into(),
                start_ms: c.t - 60_000,
                end_ms: None,
            };
            app.meta.assign(&a, "bench").await.expect("assign");
            let rows: Vec<InspectionRow> = (0..8)
                .map(|h| InspectionRow {
                    id: format!("I-{}-{}-{h}", c.cam.device, c.day),
                    crossing_point: "UA-KYIV-01".into(),
                    lane: "1".into(),
                    officers: vec![c.officer.clone()],
                    start_ms: c.t + h * 3_600_000 + 600_000,
                    end_ms: c.t + h * 3_600_000 + 1_500_000,
                    plate: format!("AA{:04}BB", h + c.day),
                    plate_norm: format!("AA{:04}BB", h + c.day),
                    declaration: format!("D{}", c.day),
                    declarant: String::new(),
                    kind: "vehicle".into(),
                    outcome: "cleared".into(),
                })
                .collect();
            app.meta
                .put_inspections(&rows, 0)
                .await
                .expect("inspections");
            batch.push(c.cam.event(EventKind::RecordStart, c.t));
        } else if in_shift == PER_SHIFT + 1 {
            batch.push(c.cam.event(EventKind::RecordStop, c.t));
            app.meta
                .return_device(&c.cam.device, c.t + 60_000, "bench")
                .await
                .expect("return");
            c.day += 1;
        } else {
            batch.push(c.cam.segment(c.t, c.t + SEG));
            c.t += SEG;
        }
        if batch.len() == 4096 || c.cam.next == links {
            for l in batch.drain(..) {
                let new = NewLink {
                    link: &l,
                    log_floor: 0,
                    chain: opts,
                };
                app.meta.insert_link(&new, c.t).await.expect("insert");
            }
        }
    }
}

async fn enroll(app: &App, device: &str, officer: &str) -> Cam {
    let cam = TestCamera::new(device);
    app.meta
        .create_enroll_token(device, device, 0, i64::MAX)
        .await
        .expect("token");
    app.meta
        .enroll(device, device, &cam.vkey(), 0)
        .await
        .expect("enroll");
    Cam {
        cam,
        officer: officer.into(),
        t: t0(),
        day: 0,
    }
}

/// p50 and p99 of `n` GETs of `path`.
async fn timed(http: &reqwest::Client, url: &str, token: &str, path: &str, n: usize) -> (f64, f64) {
    let mut t = Vec::with_capacity(n);
    for _ in 0..n {
        let s = Instant::now();
        let r = http
            .get(format!("{url}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.bytes().await.expect("body");
        t.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    t.sort_by(f64::total_cmp);
    (t[n / 2], t[(n * 99 / 100).min(n - 1)])
}

fn reads(cam: &str, day: i64) -> Vec<(&'static str, String)> {
    let date = jiff::Timestamp::from_millisecond(t0() + day * DAY)
        .expect("time")
        .strftime("%Y-%m-%d")
        .to_string();
    vec![
        ("GET /v1/devices", "/v1/devices".into()),
        (
            "GET /v1/devices/{id}/continuity",
            format!("/v1/devices/{cam}/continuity"),
        ),
        (
            "coverage of an inspection",
            format!("/v1/inspections/I-{cam}-{day}-3/coverage"),
        ),
        ("web dashboard /ui/", "/ui/".into()),
        (
            "shift timeline /ui/timeline",
            format!("/ui/timeline?device={cam}&date={date}"),
        ),
    ]
}

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Uploads (HTTP, real segment bytes) while `loaders` clients load the dashboard: p50 and
/// p99 of the uploads and of `/healthz`.
async fn under_load(app: &Arc<App>, url: &str, token: &str, loaders: usize) -> [(f64, f64); 2] {
    let http = reqwest::Client::new();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let tasks: Vec<_> = (0..loaders)
        .map(|_| {
            let (http, url, token, stop) =
                (http.clone(), url.to_owned(), token.to_owned(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = http
                        .get(format!("{url}/ui/"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .map(|r| r.bytes());
                }
            })
        })
        .collect();
    let mut cam = enroll(app, &format!("up-{loaders}"), "UA-UP").await;
    let (mut up, mut health) = (Vec::new(), Vec::new());
    let now = kordon_store::now_ms();
    for i in 0..60 {
        let bytes = format!("segment {i} of the upload camera").into_bytes();
        let start = now - 3_600_000 + i * SEG;
        let link = cam.cam.segment_over(start, start + SEG, &bytes);
        let len = bytes.len() as u64;
        let s = Instant::now();
        let r = kordon_agent::api::link_request(&http, url, &link, Some((bytes.into(), len)))
            .send()
            .await
            .expect("upload");
        assert!(r.status().is_success(), "upload: {}", r.status());
        up.push(s.elapsed().as_secs_f64() * 1000.0);
        let s = Instant::now();
        http.get(format!("{url}/healthz"))
            .send()
            .await
            .expect("health");
        health.push(s.elapsed().as_secs_f64() * 1000.0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    [up, health].map(|mut v| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() * 99 / 100])
    })
}

fn main() {
    let big: u64 = std::env::var("KORDON_BENCH_YEAR_LINKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_050_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let dir = tempfile::tempdir().expect("tmp");
        let config = kordon_server::config::Config {
            data: dir.path().join("data"),
            database_url: std::env::var("KORDON_BENCH_DATABASE")
                .ok()
                .map(kordon_store::meta::DatabaseUrl),
            ..Default::default()
        };
        let engine = if config.database_url.is_some() { "PostgreSQL" } else { "SQLite" };
        let app = kordon_server::open(config).await.expect("open");
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", l.local_addr().expect("addr"));
        tokio::spawn(kordon_server::serve_router(l, kordon_server::router(app.clone()), std::future::pending()));
        let token = std::fs::read_to_string(dir.path().join("data/keys/admin-token")).expect("token");
        let token = token.trim();
        let http = reqwest::Client::new();
        let kyiv = kordon_store::meta::CrossingPointRow {
            code: "UA-KYIV-01".into(),
            name_uk: "Київ".into(),
            name_latin: "Kyiv".into(),
            tz: "Europe/Kyiv".into(),
            lanes: vec!["1".into()],
        };
        app.meta.put_crossing_point(&kyiv, 0).await.expect("crossing point");

        let started = Instant::now();
        let mut a = enroll(&app, "cam-a", "UA-A").await;
        let mut b = enroll(&app, "cam-b", "UA-B").await;
        let mut generated = 1_000u64;
        for i in 0..48 {
            let mut c = enroll(&app, &format!("cam-{i:02}"), &format!("UA-{i:02}")).await;
            grow(&app, &mut c, 10_000).await;
            generated += 10_000;
        }
        // The same fleet, one camera with 1,000 links.
        grow(&app, &mut a, 1_000).await;
        let small: Vec<_> = {
            let mut v = Vec::new();
            for (name, path) in reads("cam-a", 0) {
                v.push((name, timed(&http, &url, token, &path, 100).await));
            }
            v
        };
        for c in [&mut a, &mut b] {
            grow(&app, c, big).await;
            eprintln!("{}: {} links", c.cam.device, c.cam.next);
        }
        generated += 2 * big - 1_000;
        let gen_s = started.elapsed().as_secs_f64();
        let last_day = a.day - 1;
        println!("year on {engine}: {generated} links generated in {gen_s:.0} s ({:.0} links/s)", generated as f64 / gen_s);
        println!("| read | 1,000 links p50 / p99 (ms) | {big} links p50 / p99 (ms) | p50 ratio |");
        println!("| --- | --- | --- | --- |");
        for ((name, s), (_, path)) in small.iter().zip(reads("cam-a", last_day)) {
            let l = timed(&http, &url, token, &path, 100).await;
            println!("| {name} | {:.1} / {:.1} | {:.1} / {:.1} | {:.2}× |", s.0, s.1, l.0, l.1, l.0 / s.0);
        }
        let idle = under_load(&app, &url, token, 0).await;
        let loaded = under_load(&app, &url, token, 8).await;
        println!("| uploads (HTTP, idle → 8 dashboard clients) | {:.1} / {:.1} | {:.1} / {:.1} | p99 {:.2}× |", idle[0].0, idle[0].1, loaded[0].0, loaded[0].1, loaded[0].1 / idle[0].1);
        println!("| /healthz (idle → 8 dashboard clients) | {:.1} / {:.1} | {:.1} / {:.1} | p99 {:.2}× |", idle[1].0, idle[1].1, loaded[1].0, loaded[1].1, loaded[1].1 / idle[1].1);
        // The state kept as the year arrived, against a recomputation from its links.
        for cam in ["cam-a", "cam-00"] {
            let s = Instant::now();
            let r: kordon_api::devices::Recheck = http
                .post(format!("{url}/v1/devices/{cam}/recheck"))
                .bearer_auth(token)
                .json(&serde_json::json!({}))
                .send()
                .await
                .expect("recheck")
                .json()
                .await
                .expect("recheck answer");
            println!(
                "recheck {cam}: {} links, {} problems, {} differences, {:.1} s",
                r.links,
                r.problems,
                r.differences.len(),
                s.elapsed().as_secs_f64()
            );
            assert!(r.differences.is_empty(), "{:?}", r.differences);
        }
        println!("peak RSS of the process (server, generator and clients): {:.0} MB", rss_mb());
    });
}
