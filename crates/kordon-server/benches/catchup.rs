//! A crossing point's day after a 24-hour outage of the centre: how long the centre takes
//! to catch up, against the crossing point's own ingest of the same day in the same run.
//!
//! The crossing point (`kordon_server::open`, SQLite + a folder, forwarding configured)
//! takes a day of 50 cameras — 8-hour shifts of 10 s segments, 2,880 a camera, each
//! camera's assignment and one inspection an hour — through HTTP uploads, 16 at a time,
//! while the centre is down. Then the centre starts (its key known offline, the crossing
//! point in its `edges`) and the clock runs until the crossing point's forwarding status
//! shows the whole log at the centre, confirmed by a verified receipt, no holes, and the
//! records sent. Printed: entries, segments, bytes, seconds and rates of both, their
//! ratio, and the centre's final counts checked against the crossing point's.
//!
//! Segment bytes are small by default (`KORDON_BENCH_SEGMENT_BYTES`, 16384): the figure
//! measured is the per-item cost of forwarding; bytes move at the ingest bench's rate.
//! `KORDON_BENCH_CAMERAS` (50) and `KORDON_BENCH_SEGMENTS` (2880 a camera) scale it.
//!
//! Run: `cargo bench -p kordon-server --bench catchup`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use kordon_server::config::{Config, ForwardConfig};
use kordon_store::meta::testing::TestCamera;
use serde_json::{Value, json};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn serve(app: Arc<kordon_server::App>, port: u16) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    tokio::spawn(kordon_server::run(listener, app, std::future::pending()));
}

fn token(data: &std::path::Path) -> String {
    std::fs::read_to_string(data.join("keys/admin-token"))
        .expect("token")
        .trim()
        .to_owned()
}

async fn admin(http: &reqwest::Client, url: &str, tok: &str, path: &str, body: Value) -> Value {
    let r = http
        .post(format!("{url}{path}"))
        .bearer_auth(tok)
        .json(&body)
        .send()
        .await
        .expect("post");
    let st = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(st.is_success(), "{path}: {st} {v}");
    v
}

async fn get(http: &reqwest::Client, url: &str, tok: &str, path: &str) -> Value {
    http.get(format!("{url}{path}"))
        .bearer_auth(tok)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let cameras = env_or("KORDON_BENCH_CAMERAS", 50) as usize;
    let per_camera = env_or("KORDON_BENCH_SEGMENTS", 2_880);
    let seg_bytes = env_or("KORDON_BENCH_SEGMENT_BYTES", 16_384).max(64) as usize;
    let dir = tempfile::tempdir().expect("tmp");
    let (centre_d, edge_d) = (dir.path().join("centre"), dir.path().join("edge"));
    let centre_key = kordon_server::log_key(&centre_d, "centre.bench/log").expect("centre key");
    let centre_port = free_port();
    let centre_url = format!("http://127.0.0.1:{centre_port}");
    let quiet = |data: std::path::PathBuf, origin: &str| Config {
        data,
        origin: origin.into(),
        retention_interval_s: 86_400 * 365,
        scrub_interval_s: 86_400 * 365,
        ..Config::default()
    };
    let edge_cfg = Config {
        forward: Some(ForwardConfig {
            url: centre_url.clone(),
            token: token(&centre_d),
            centre_key: Some(centre_key.verifier().to_string()),
            retry_s: 60,
        }),
        ..quiet(edge_d.clone(), "edge.bench/log")
    };
    let edge = kordon_server::open(edge_cfg).await.expect("edge");
    let edge_key = edge.log.verifier().to_string();
    let edge_port = free_port();
    serve(edge.clone(), edge_port).await;
    let edge_url = format!("http://127.0.0.1:{edge_port}");
    let etok = token(&edge_d);
    let http = reqwest::Client::new();

    // The day, at the crossing point, with the centre down.
    let t0 = (kordon_store::now_ms() / 86_400_000 - 1) * 86_400_000 + 6 * 3_600_000;
    let seg_ms = 10_000i64;
    let mut cams = Vec::new();
    let cp = "UA-BENCH-01";
    let r = http
        .put(format!("{edge_url}/v1/crossing-points/{cp}"))
        .bearer_auth(&etok)
        .json(&json!({"name_uk": "Стенд", "name_latin": "Bench", "tz": "Europe/Kyiv", "lanes": ["1"]}))
        .send()
        .await
        .expect("cp");
    assert!(r.status().is_success(), "{}", r.status());
    for c in 0..cameras {
        let cam = TestCamera::new(&format!("bench-cam-{c:02}"));
        let t = admin(
            &http,
            &edge_url,
            &etok,
            &format!("/v1/devices/{}/enroll-token", cam.device),
            json!({}),
        )
        .await;
        let r = http
            .post(format!("{edge_url}/v1/enroll"))
            .json(&json!({"device": cam.device, "token": t["token"], "key": cam.vkey()}))
            .send()
            .await
            .expect("enroll");
        assert_eq!(r.status().as_u16(), 201);
        let officer = format!("UA-{}", 5000 + c);
        let r = http
            .put(format!("{edge_url}/v1/officers/{officer}"))
            .bearer_auth(&etok)
            .json(&json!({"name": format!("Officer {c}"), "crossing_point": cp}))
            .send()
            .await
            .expect("officer");
        assert!(r.status().is_success());
        admin(
            &http,
            &edge_url,
            &etok,
            "/v1/assignments",
            json!({"device": cam.device, "officer": officer, "crossing_point": cp,
                   "at": kordon_core::time::Timestamp(t0 - 60_000).to_string()}),
        )
        .await;
        cams.push(cam);
    }
    let hours = (per_camera * seg_ms as u64).div_ceil(3_600_000) as i64;
    let inspections: Vec<Value> = (0..cameras)
        .flat_map(|c| {
            (0..hours).map(move |h| {
                let s = t0 + h * 3_600_000;
                json!({"inspection_id": format!("bench-{c:02}-{h}"), "crossing_point": cp, "lane": "1",
                       "officers": [format!("UA-{}", 5000 + c)],
                       "start": kordon_core::time::Timestamp(s + 60_000).to_string(),
                       "end": kordon_core::time::Timestamp(s + 1_260_000).to_string(),
                       "vehicle_plate": format!("AA{c:02}{h:02}BB"), "declaration_no": format!("UA/{c}/{h}"),
                       "kind": "vehicle", "outcome": "cleared"})
            })
        })
        .collect();
    for chunk in inspections.chunks(500) {
        admin(&http, &edge_url, &etok, "/v1/inspections", json!(chunk)).await;
    }
    let body = vec![7u8; seg_bytes];
    let ingest = Instant::now();
    let uploads = cams.into_iter().map(|mut cam| {
        let (http, url, body) = (http.clone(), edge_url.clone(), body.clone());
        async move {
            for i in 0..per_camera as i64 {
                // Each segment's bytes are its own.
                let mut b = body.clone();
                let tag = format!("{}/{i}", cam.device);
                b[..tag.len()].copy_from_slice(tag.as_bytes());
                let start = t0 + i * seg_ms;
                let link = cam.segment_over(start, start + seg_ms, &b);
                let len = b.len() as u64;
                let r = kordon_agent::api::link_request(&http, &url, &link, Some((b.into(), len)))
                    .send()
                    .await
                    .expect("upload");
                assert_eq!(
                    r.status().as_u16(),
                    201,
                    "{}",
                    r.text().await.unwrap_or_default()
                );
            }
        }
    });
    futures_util::stream::iter(uploads)
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    let ingest_s = ingest.elapsed().as_secs_f64();
    let segments = cameras as u64 * per_camera;
    let size = edge.log.published().size;
    println!(
        "crossing point's day: {cameras} cameras × {per_camera} segments of {seg_bytes} bytes = {segments} segments, {size} log entries; ingested in {ingest_s:.1} s ({:.0} segments/s)",
        segments as f64 / ingest_s
    );
    let fwd = get(&http, &edge_url, &etok, "/v1/forwarding").await;
    assert_eq!(fwd["connected"], false, "the centre is down: {fwd}");

    // The centre comes back.
    let centre_cfg = Config {
        edges: vec![edge_key],
        ..quiet(centre_d.clone(), "centre.bench/log")
    };
    let started = Instant::now();
    let centre = kordon_server::open(centre_cfg).await.expect("centre");
    serve(centre.clone(), centre_port).await;
    // How far the crossing point's log and records are at the centre.
    let ctok = token(&centre_d);
    let at_centre = || get(&http, &centre_url, &ctok, "/v1/edges/edge.bench%2Flog");
    let mut shown = Instant::now();
    let last = loop {
        let f = get(&http, &edge_url, &etok, "/v1/forwarding").await;
        let done = f["backlog"] == 0
            && f["holes"] == 0
            && f["confirmed"].as_u64() >= Some(size)
            && f["connected"] == true;
        if done {
            // The records follow the entries; wait until the centre holds the feed.
            let c = at_centre().await;
            let pending = edge
                .meta
                .outbox_after(c["records"].as_u64().unwrap_or(0), i64::MAX, 1)
                .await
                .expect("outbox");
            if pending.is_empty() {
                break f;
            }
        }
        if shown.elapsed() > Duration::from_secs(10) {
            println!(
                "  … {:.0} s: forwarded {} of {}, confirmed {}",
                started.elapsed().as_secs_f64(),
                f["forwarded"],
                f["size"],
                f["confirmed"]
            );
            shown = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let catchup_s = started.elapsed().as_secs_f64();
    let bytes = segments * seg_bytes as u64;
    println!(
        "catch-up after the outage: {catchup_s:.1} s for {size} entries ({:.0} entries/s), {segments} segments ({:.0}/s, {:.1} MB/s), records of {} inspections and {cameras} assignments",
        size as f64 / catchup_s,
        segments as f64 / catchup_s,
        bytes as f64 / catchup_s / 1e6,
        inspections.len()
    );
    println!(
        "ratio catch-up time / ingest time of the same day: {:.2} (a day of this crossing point reaches the centre in {:.1} min; the day itself is 24 h)",
        catchup_s / ingest_s,
        catchup_s / 60.0
    );
    // What arrived is the crossing point's.
    let c = at_centre().await;
    assert_eq!(c["size"].as_u64(), Some(size), "{c}");
    assert_eq!(last["segments"].as_u64(), Some(segments), "{last}");
    let at_centre = centre.meta.inspection("bench-00-0").await.expect("db");
    assert!(at_centre.is_some(), "the inspections reached the centre");
}
