//! A crossing point's year: every read route and page of a camera with 1,000 links
//! against the same reads when that camera holds a year of links (by default 2 cameras ×
//! 1,050,000 links — 10 s segments, 8 hours a day, with a start and a stop event per
//! shift — and a fleet of 48 cameras × 10,000 that recorded in the last days), plus
//! uploads and `/healthz` while 8 clients load dashboards, and the process's peak RSS.
//!
//! The same read shows the same window: `cam-a`'s first shift is 998 segments (issued
//! mid-shift), whole at 1,000 links, and its timeline and an inspection of it are read
//! again a year later; the latest shift (a whole 8 hours) is measured too. The dashboard
//! shows the last fortnight, which holds the fleet's shifts at both points and `cam-a`'s
//! and `cam-b`'s latest fortnight at the second. Reads are measured once the background
//! job has computed the coverage the uploads made stale.
//!
//! Path taken: links are signed with the cameras' keys and stored through
//! `Meta::insert_link` in process — the store half of ingest: the link row, the chain
//! state folded in the same transaction, coverage invalidation — without the log append
//! and the segment bytes (those are measured by the `ingest` bench of `kordon-cli`); the
//! uploads measured under load go through HTTP the whole way. Inspections (one an hour of
//! every shift) and assignments (one per shift) match the links.
//!
//! Run: `cargo bench -p kordon-server --bench year`. `KORDON_BENCH_YEAR_LINKS` sets the
//! links of the two large cameras (default 1050000), `KORDON_BENCH_FLEET` the number of
//! 10,000-link cameras (default 48), `KORDON_BENCH_DATABASE` a PostgreSQL URL (default:
//! SQLite in a temporary folder).

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
    /// Links made of the current shift.
    in_shift: u64,
    /// The day of its first shift, and that shift's segments (later ones have
    /// `PER_SHIFT`).
    start_day: i64,
    first_shift: u64,
}

/// Grows a camera's chain to `links` links: shifts of a start event, 2,880 segments (the
/// first shift `first_shift`) and a stop event, one shift a day, with its assignment and
/// one inspection an hour.
async fn grow(app: &App, c: &mut Cam, links: u64) {
    let opts = ChainOptions {
        max_gap_ms: app.config.max_gap_ms,
    };
    let mut batch: Vec<Link> = Vec::new();
    while c.cam.next < links {
        let segments = if c.day == c.start_day {
            c.first_shift
        } else {
            PER_SHIFT
        };
        let in_shift = c.in_shift;
        c.in_shift = (c.in_shift + 1) % (segments + 2);
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
        } else if in_shift == segments + 1 {
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

async fn enroll(app: &App, device: &str, officer: &str, start_day: i64, first_shift: u64) -> Cam {
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
        day: start_day,
        in_shift: 0,
        start_day,
        first_shift,
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
            format!("/v1/inspections/I-{cam}-{day}-1/coverage"),
        ),
        ("web dashboard /ui/", "/ui/".into()),
        (
            "shift timeline /ui/timeline",
            format!("/ui/timeline?device={cam}&date={date}"),
        ),
    ]
}

/// Waits until the background job has computed every stale coverage, as a server in
/// service has between shifts' uploads and the next morning's dashboards.
async fn coverage_settled(app: &App) {
    while !app
        .meta
        .stale_coverage("", 1)
        .await
        .expect("stale")
        .is_empty()
    {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Uploads measured per run: enough that the p99 is a percentile (the 10th slowest), not
/// one unlucky upload.
const UPLOADS: i64 = 1000;

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
    let mut cam = enroll(app, &format!("up-{loaders}"), "UA-UP", 0, PER_SHIFT).await;
    let (mut up, mut health) = (Vec::new(), Vec::new());
    let now = kordon_store::now_ms();
    for i in 0..UPLOADS {
        let bytes = format!("segment {i} of the upload camera").into_bytes();
        let start = now - 2 * UPLOADS * SEG + i * SEG;
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
    let fleet: usize = std::env::var("KORDON_BENCH_FLEET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
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
        // cam-a's first shift is 998 segments long (issued mid-shift): at 1,000 links it is
        // whole, so the reads of it then and a year later show the same window.
        let mut a = enroll(&app, "cam-a", "UA-A", 0, 998).await;
        let mut b = enroll(&app, "cam-b", "UA-B", 0, PER_SHIFT).await;
        let mut generated = 1_000u64;
        // The rest of the fleet recorded in the last days, in the dashboard's fortnight.
        let fleet_days = 10_000u64.div_ceil(PER_SHIFT + 2) as i64;
        for i in 0..fleet {
            let mut c = enroll(&app, &format!("cam-{i:02}"), &format!("UA-{i:02}"), 366 - fleet_days, PER_SHIFT).await;
            grow(&app, &mut c, 10_000).await;
            generated += 10_000;
        }
        coverage_settled(&app).await;
        // The same fleet, one camera with 1,000 links.
        grow(&app, &mut a, 1_000).await;
        coverage_settled(&app).await;
        let mut small = Vec::new();
        for (name, path) in reads("cam-a", 0) {
            small.push((name, timed(&http, &url, token, &path, 100).await));
        }
        for c in [&mut a, &mut b] {
            grow(&app, c, big).await;
            eprintln!("{}: {} links", c.cam.device, c.cam.next);
        }
        generated += 2 * big - 1_000;
        let gen_s = started.elapsed().as_secs_f64();
        coverage_settled(&app).await;
        let last_day = a.day - 1;
        println!("year on {engine}: {generated} links generated in {gen_s:.0} s ({:.0} links/s)", generated as f64 / gen_s);
        println!("| read | 1,000 links p50 / p99 (ms) | {big} links p50 / p99 (ms) | p50 ratio |");
        println!("| --- | --- | --- | --- |");
        for ((name, s), (_, path)) in small.iter().zip(reads("cam-a", 0)) {
            let l = timed(&http, &url, token, &path, 100).await;
            println!("| {name} | {:.1} / {:.1} | {:.1} / {:.1} | {:.2}× |", s.0, s.1, l.0, l.1, l.0 / s.0);
        }
        // The latest shift instead of the first (a whole 8 hours, its 8 inspections).
        let per_shift = |(name, _): &&(&str, _)| name.contains("inspection") || name.contains("timeline");
        for ((name, s), (_, path)) in small.iter().zip(reads("cam-a", last_day)).filter(|(r, _)| per_shift(r)) {
            let l = timed(&http, &url, token, &path, 100).await;
            println!("| {name}, the latest shift | {:.1} / {:.1} | {:.1} / {:.1} | {:.2}× |", s.0, s.1, l.0, l.1, l.0 / s.0);
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
