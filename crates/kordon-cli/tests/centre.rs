//! A centre and two crossing points, each a `kordon serve` process of its own, set up in
//! the order `docs/deploy.md` allows (keys printed offline first), through what a demo
//! never meets: the centre down while the crossing points record and run retention, a
//! damaged and a missing segment at one of them, a crossing point the centre does not know
//! yet (accepted on SIGHUP, no restart), a rewritten edge log. Each forwarding alert of
//! `docs/deploy.md` is evaluated, as written there, over the servers' `/metrics` and
//! fires in its scenario and not before.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use common::{Killed, admin_token, port, run, wait_for};
use kordon_agent::simulate::{SimOptions, SimReport, simulate};
use serde_json::{Value, json};

/// `kordon` with `args` and `env`: exit code and output.
fn kordon_env(args: &[&str], env: &[(&str, String)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kordon"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// `kordon serve` on `port` with `args` and `env`.
fn serve(data: &Path, port: u16, args: &[&str], env: &[(&str, String)]) -> Killed {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kordon"));
    cmd.args(["serve", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = Killed(cmd.spawn().expect("serve"));
    wait_for(port);
    child
}

/// A server under test: its URL and data folder.
struct Node {
    url: String,
    data: PathBuf,
}

impl Node {
    fn token(&self) -> String {
        admin_token(&self.data)
    }

    async fn get(&self, path: &str) -> Value {
        let r = reqwest::Client::new()
            .get(format!("{}{path}", self.url))
            .bearer_auth(self.token())
            .send()
            .await
            .expect("get");
        let status = r.status();
        let v: Value = r.json().await.expect("json");
        assert!(status.is_success(), "GET {path}: {status} {v}");
        v
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.url))
            .bearer_auth(self.token())
            .json(body)
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.url))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    /// Polls `path` until `done` holds (at most 90 s).
    async fn until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..900 {
            last = self.get(path).await;
            if done(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{}{path} never got there: {last}", self.url);
    }
}

/// A sample's value in Prometheus text (the first series of the metric).
fn sample(text: &str, metric: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// The forwarding alerts of `docs/deploy.md`: name → expression.
fn documented_alerts() -> BTreeMap<String, String> {
    let doc = include_str!("../../../docs/deploy.md");
    let mut alerts = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() > 3
            && let (Some(name), Some(expr)) = (
                cells[1].strip_prefix('`').and_then(|c| c.strip_suffix('`')),
                cells[2].strip_prefix('`').and_then(|c| c.strip_suffix('`')),
            )
            && name.chars().next().is_some_and(char::is_uppercase)
        {
            alerts.insert(name.to_owned(), expr.to_owned());
        }
    }
    alerts
}

/// Whether alert `name` fires over `now` (and `before`, for `delta` and `increase`): the
/// documented expression evaluated as written, its `for` left to Prometheus.
fn fires(name: &str, before: &str, now: &str) -> bool {
    let alerts = documented_alerts();
    let expr = alerts
        .get(name)
        .unwrap_or_else(|| panic!("docs/deploy.md documents no alert {name}: {alerts:?}"));
    let (lhs, op, rhs) = ["==", ">"]
        .iter()
        .find_map(|op| expr.split_once(op).map(|(l, r)| (l.trim(), *op, r.trim())))
        .unwrap_or_else(|| panic!("{name}: cannot read {expr}"));
    let threshold: f64 = rhs.parse().expect("threshold");
    let value = match lhs.split_once('(') {
        Some(("delta" | "increase", inner)) => {
            let metric = inner.split('[').next().expect("metric");
            match sample(now, metric) {
                Some(v) => v - sample(before, metric).unwrap_or(0.0),
                None => return false,
            }
        }
        Some((f, _)) => panic!("{name}: no evaluator for {f}"),
        None => match sample(now, lhs) {
            Some(v) => v,
            None => return false,
        },
    };
    match op {
        "==" => value == threshold,
        _ => value > threshold,
    }
}

/// Simulates a shift of two cameras at crossing point `cp`.
async fn shift(node: &Node, cp: &str, first_officer: u32, work: &Path) -> SimReport {
    simulate(&SimOptions {
        server: node.url.clone(),
        admin_token: node.token(),
        cameras: 2,
        minutes: 1,
        segment_seconds: 10,
        crossing_point: cp.into(),
        first_officer,
        faults: Vec::new(),
        work: work.to_path_buf(),
    })
    .await
    .expect("simulate")
}

/// Every stored blob of a folder store: hash → path.
fn blobs(data: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    for d in std::fs::read_dir(data.join("blobs/sha256")).expect("blobs") {
        for f in std::fs::read_dir(d.expect("dir").path()).expect("dir") {
            let p = f.expect("file").path();
            let name = p.file_name().and_then(|n| n.to_str()).expect("name");
            if name.len() == 64 {
                out.insert(name.to_owned(), p);
            }
        }
    }
    out
}

/// `kordon report <kind>` as JSON rows of `key`, sorted.
fn report(node: &Node, kind: &str, list: &str, from: &str, to: &str) -> Vec<Value> {
    let data = node.data.to_str().expect("utf-8");
    let (code, out) = kordon_env(
        &[
            "report", kind, "--server", &node.url, "--data", data, "--from", from, "--to", to,
            "--format", "json",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).expect("report json");
    let mut rows = v[list].as_array().cloned().unwrap_or_default();
    rows.sort_by_key(|r| r.to_string());
    rows
}

/// The inspections of plate AA1234BB (either script) in a range: `(id, crossing point)`.
async fn plate(node: &Node, from: &str, to: &str) -> Vec<(String, String)> {
    let v = node
        .get(&format!(
            "/v1/search/inspections?vehicle_plate=AA1234BB&from={}&to={}",
            from.replace('+', "%2B"),
            to.replace('+', "%2B")
        ))
        .await;
    let mut rows: Vec<(String, String)> = v["inspections"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["inspection_id"].as_str().unwrap_or_default().to_owned(),
                r["crossing_point"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn origin_path(origin: &str) -> String {
    origin.replace('/', "%2F")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_centre_and_two_crossing_points_lose_nothing_and_stall_on_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let (centre_d, a_d, b_d) = (
        dir.path().join("centre"),
        dir.path().join("edge-a"),
        dir.path().join("edge-b"),
    );
    let (centre_o, a_o, b_o) = (
        "centre.kordon.test/log",
        "edge-a.kordon.test/log",
        "edge-b.kordon.test/log",
    );

    // Keys first, offline, in any order: nothing has started yet.
    let key_of = |data: &Path, origin: &str| {
        let (code, out) = kordon_env(
            &["log", "key", "--data", data.to_str().expect("utf-8")],
            &[("KORDON_ORIGIN", origin.to_owned())],
        );
        assert_eq!(code, 0, "{out}");
        out.lines()
            .find(|l| l.starts_with(&format!("{origin}+")))
            .unwrap_or_else(|| panic!("no key in {out}"))
            .trim()
            .to_owned()
    };
    let centre_key = key_of(&centre_d, centre_o);
    let (a_key, b_key) = (key_of(&a_d, a_o), key_of(&b_d, b_o));
    assert_eq!(key_of(&a_d, a_o), a_key, "printed again, not made again");
    let (_, again) = kordon_env(
        &["log", "key", "--data", a_d.to_str().expect("utf-8")],
        &[("KORDON_ORIGIN", a_o.to_owned())],
    );
    assert!(!again.contains("created"), "{again}");

    // The centre knows crossing point A only; it is down while the crossing points work.
    let centre_conf = dir.path().join("centre.toml");
    let write_conf = |edges: &[&str]| {
        std::fs::write(
            &centre_conf,
            format!("origin = \"{centre_o}\"\nedges = {edges:?}\n"),
        )
        .expect("conf")
    };
    write_conf(&[&a_key]);
    let centre_port = port();
    let centre = Node {
        url: format!("http://127.0.0.1:{centre_port}"),
        data: centre_d.clone(),
    };
    let edge_env = |origin: &str| {
        vec![
            ("KORDON_ORIGIN", origin.to_owned()),
            ("KORDON_FORWARD_URL", centre.url.clone()),
            ("KORDON_FORWARD_TOKEN", admin_token(&centre_d)),
            ("KORDON_FORWARD_CENTRE_KEY", centre_key.clone()),
            ("KORDON_FORWARD_RETRY_S", "1".to_owned()),
            ("KORDON_RETENTION_DAYS", "0".to_owned()),
            ("KORDON_RETENTION_INSPECTION_DAYS", "0".to_owned()),
            ("KORDON_TEST_RETENTION_FLOOR_DAYS", "0".to_owned()),
            ("KORDON_RETENTION_INTERVAL_S", "86400".to_owned()),
        ]
    };
    let (a_port, b_port) = (port(), port());
    let _a_proc = serve(&a_d, a_port, &[], &edge_env(a_o));
    let _b_proc = serve(&b_d, b_port, &[], &edge_env(b_o));
    let a = Node {
        url: format!("http://127.0.0.1:{a_port}"),
        data: a_d.clone(),
    };
    let b = Node {
        url: format!("http://127.0.0.1:{b_port}"),
        data: b_d.clone(),
    };
    let served = reqwest::get(format!("{}/log/verifier-key", a.url))
        .await
        .expect("key")
        .text()
        .await
        .expect("text");
    assert_eq!(
        served.trim(),
        a_key,
        "the offline key is the one the server uses"
    );
    let a_metrics = a.metrics().await;
    assert!(
        a_metrics.contains("kordon_test_setting{name=\"retention_floor_days\"} 0"),
        "the lowered floor is named in /metrics"
    );

    // Link down: the alert fires.
    a.until("/v1/forwarding", |v| {
        v["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("not reachable"))
    })
    .await;
    let quiet = a.metrics().await;
    assert!(fires("ForwardLinkDown", &quiet, &quiet));
    assert!(!fires("ForwardBacklogGrowing", &quiet, &quiet));

    // A shift at each crossing point, the centre down: the backlog grows, and says so.
    let a_shift = shift(&a, "UA-EDGE-A", 1000, &dir.path().join("sim-a")).await;
    let b_shift = shift(&b, "UA-EDGE-B", 2000, &dir.path().join("sim-b")).await;
    let before = quiet;
    let mut grown = String::new();
    for _ in 0..400 {
        grown = a.metrics().await;
        if fires("ForwardBacklogGrowing", &before, &grown) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        fires("ForwardBacklogGrowing", &before, &grown),
        "backlog {:?} → {:?}",
        sample(&before, "kordon_forward_backlog"),
        sample(&grown, "kordon_forward_backlog")
    );

    // A gap reason filed at B (on its second inspection's first ten seconds).
    let run_b = b_shift.cameras[1].0.split("-cam").next().expect("run");
    let b_insp = format!("{run_b}-insp01");
    let b_rows = report(&b, "coverage", "inspections", &b_shift.from, &b_shift.to);
    let start = b_rows
        .iter()
        .find(|r| r["inspection_id"] == b_insp.as_str())
        .and_then(|r| r["start"].as_str())
        .expect("start")
        .to_owned();
    let start_ms = kordon_core::time::Timestamp::parse(&start).expect("time").0;
    let (st, v) = b
        .post(
            &format!("/v1/inspections/{b_insp}/gap-reasons"),
            &json!({"from": start, "to": kordon_core::time::Timestamp(start_ms + 10_000).to_string(),
                    "reason": "malfunction", "text": "battery swap at the lane"}),
        )
        .await;
    assert!(st < 300, "{v}");

    // A case at A holds one camera's inspection (it goes to the centre with its items).
    let run_a = a_shift.cameras[0].0.split("-cam").next().expect("run");
    let (st, v) = a
        .post(
            "/v1/cases",
            &json!({"id": "CASE-A-1", "reference": "A-1", "kind": "complaint",
                    "description": "complaint at crossing point A", "crossing_point": "UA-EDGE-A"}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = a
        .post(
            "/v1/cases/CASE-A-1/items",
            &json!({"kind": "inspection", "inspection_id": format!("{run_a}-insp00"), "text": ""}),
        )
        .await;
    assert!(st < 300, "{v}");

    // At A one stored segment is damaged, and one of the held camera's is lost.
    let a_blobs = blobs(&a_d);
    assert!(a_blobs.len() >= 8, "{a_blobs:?}");
    let a_db = kordon_store::meta::Meta::open_sqlite(&a_d.join("kordon.db"))
        .await
        .expect("db");
    let mut of_held = Vec::new();
    for (sha, path) in &a_blobs {
        let link = a_db.link_by_blob(sha).await.expect("link").expect("a link");
        of_held.push((link.device_id == a_shift.cameras[0].0, path.clone()));
    }
    let lost = of_held.iter().find(|(h, _)| *h).expect("held").1.clone();
    let damaged = of_held.iter().find(|(h, _)| !*h).expect("other").1.clone();
    let (damaged_bytes, lost_bytes) = (
        std::fs::read(&damaged).expect("read"),
        std::fs::read(&lost).expect("read"),
    );
    let mut flipped = damaged_bytes.clone();
    flipped[damaged_bytes.len() / 2] ^= 0x01;
    std::fs::write(&damaged, &flipped).expect("flip");
    std::fs::remove_file(&lost).expect("lose");

    // Retention runs at A with the centre down: nothing the centre has not confirmed goes.
    let (st, run1) = a.post("/v1/retention/run", &json!({})).await;
    assert_eq!(st, 200, "{run1}");
    assert_eq!(run1["purged"], 0, "{run1}");
    assert!(run1["waiting"].as_u64() >= Some(6), "{run1}");
    assert_eq!(
        blobs(&a_d).len(),
        a_blobs.len() - 1,
        "only the lost one is gone"
    );
    let waiting = a.metrics().await;
    assert!(fires("RetentionWaitingForCentre", &waiting, &waiting));
    assert!(!fires("ForwardItemStuck", &waiting, &waiting));

    // The centre comes up. A forwards everything past the two bad items, which become
    // holes: named at A and at the centre, and alerted.
    let centre_proc = serve(
        &centre_d,
        centre_port,
        &["--config", centre_conf.to_str().expect("utf-8")],
        &[],
    );
    let fwd = a
        .until("/v1/forwarding", |v| {
            v["connected"] == true && v["backlog"] == 0 && v["holes"] == 2
        })
        .await;
    assert!(fwd["confirmed"].as_u64() > Some(0), "{fwd}");
    let holes = a.get("/v1/forwarding/holes").await;
    let reasons: Vec<&str> = holes["holes"]
        .as_array()
        .expect("holes")
        .iter()
        .filter_map(|h| h["reason"].as_str())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("hash_mismatch"))
            && reasons.iter().any(|r| r.contains("is not stored here")),
        "{holes}"
    );
    let at_centre = centre
        .until(&format!("/v1/edges/{}/holes", origin_path(a_o)), |v| {
            v["holes"].as_array().is_some_and(|h| h.len() == 2)
        })
        .await;
    assert_eq!(at_centre["next"], Value::Null, "{at_centre}");
    // Records that do not fit are refused whole, naming what is wrong; a crossing point
    // the centre does not know cannot send any.
    for (records, code, says) in [
        (
            json!([{"kind": "vehicle", "id": "x", "tables": {}}]),
            400,
            "no record kind",
        ),
        (
            json!([{"kind": "officer", "id": "UA-1000", "tables": {"officers": [{"service_no": "UA-9", "name": "x", "crossing_point": "X", "updated_at": 1}]}}]),
            400,
            "a row whose service_no is not",
        ),
        (
            json!([{"kind": "officer", "id": "UA-1000", "tables": {"officers": [{"service_no": "UA-1000", "name": 5, "crossing_point": "X", "updated_at": 1}]}}]),
            400,
            "wrong type",
        ),
    ] {
        let (st, v) = centre
            .post(
                "/v1/edges/records",
                &json!({"origin": a_o, "through": 1_000_000, "records": records}),
            )
            .await;
        assert_eq!(st, code, "{v}");
        assert_eq!(v["error"], "bad_records", "{v}");
        assert!(
            v["message"].as_str().is_some_and(|m| m.contains(says)),
            "{v}"
        );
    }
    let (st, v) = centre
        .post(
            "/v1/edges/records",
            &json!({"origin": "stranger.kordon.test/log", "through": 1, "records": []}),
        )
        .await;
    assert_eq!(st, 403, "{v}");

    let stuck = a.metrics().await;
    assert!(fires("ForwardItemStuck", &stuck, &stuck));
    assert!(!fires("ForwardLinkDown", &stuck, &stuck));

    // B is refused (the centre does not know it yet): link down at B.
    b.until("/v1/forwarding", |v| {
        v["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("403") && e.contains("not a crossing point allowed"))
    })
    .await;
    let refused = b.metrics().await;
    assert!(fires("ForwardLinkDown", &refused, &refused));
    // Added to the centre's file and reloaded on SIGHUP, without a restart.
    write_conf(&[&a_key, &b_key]);
    let pid = centre_proc.0.id().to_string();
    let (code, out) = run(Command::new("kill").args(["-HUP", &pid]));
    assert_eq!(code, 0, "{out}");
    b.until("/v1/forwarding", |v| {
        v["connected"] == true && v["backlog"] == 0 && v["holes"] == 0
    })
    .await;
    let (st, reloaded) = centre.post("/v1/edges/reload", &json!({})).await;
    assert_eq!(st, 200, "{reloaded}");
    assert_eq!(reloaded["origins"], json!([a_o, b_o]), "{reloaded}");

    // A case exported at A while a held segment's bytes are lost: the package is written,
    // the segment marked missing, and the verifier says so.
    std::fs::write(&damaged, &damaged_bytes).expect("repair");
    let (st, exported) = a.post("/v1/cases/CASE-A-1/export", &json!({})).await;
    assert_eq!(st, 200, "{exported}");
    let export_file = a_d
        .join("exports")
        .join(exported["file"].as_str().expect("file"));
    let verified = kordon_verify::verify_package(
        &export_file,
        &kordon_verify::VerifyOptions {
            threads: 2,
            ..Default::default()
        },
    )
    .expect("zip");
    let missing: Vec<String> = verified
        .failures()
        .map(|l| l.message.clone())
        .filter(|m| m.contains("missing"))
        .collect();
    assert_eq!(exported["missing"], 1, "{exported}");
    assert_eq!(missing.len(), 1, "{missing:?}");

    // The bytes come back: the retries bring both items to the centre.
    std::fs::write(&lost, &lost_bytes).expect("restore");
    a.until("/v1/forwarding", |v| v["holes"] == 0).await;
    centre
        .until(&format!("/v1/edges/{}/holes", origin_path(a_o)), |v| {
            v["holes"].as_array().is_some_and(Vec::is_empty)
        })
        .await;
    let healed = a.metrics().await;
    assert!(!fires("ForwardItemStuck", &healed, &healed));
    assert!(!fires("ForwardLinkDown", &healed, &healed));

    // The centre holds every segment, link, inspection and assignment of both.
    let centre_blobs: BTreeSet<String> = blobs(&centre_d).into_keys().collect();
    for (name, edge_blobs) in [("A", blobs(&a_d)), ("B", blobs(&b_d))] {
        for sha in edge_blobs.keys() {
            assert!(centre_blobs.contains(sha), "segment {sha} of {name}");
        }
    }
    for (edge, sim) in [(&a, &a_shift), (&b, &b_shift)] {
        for (device, _, _) in &sim.cameras {
            let path = format!("/v1/devices/{device}/continuity");
            let here = edge.get(&path).await;
            let there = centre.until(&path, |c| c["head"] == here["head"]).await;
            assert_eq!(there["links"], here["links"], "{device}");
            assert_eq!(there["problems"], here["problems"], "{device}");
        }
    }
    let (from, to) = (
        a_shift.from.clone().min(b_shift.from.clone()),
        a_shift.to.clone().max(b_shift.to.clone()),
    );
    for (kind, list) in [("coverage", "inspections"), ("shifts", "shifts")] {
        let mut union = report(&a, kind, list, &from, &to);
        union.extend(report(&b, kind, list, &from, &to));
        union.sort_by_key(|r| r.to_string());
        assert_eq!(union.len(), 4, "{kind}: {union:?}");
        let mut at_centre = Vec::new();
        for _ in 0..300 {
            at_centre = report(&centre, kind, list, &from, &to);
            if at_centre == union {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(
            at_centre, union,
            "{kind} at the centre = the union of the edges'"
        );
    }
    // Search at the centre finds the plate at both crossing points, each row naming its
    // own; the edges find their own.
    let mut found = plate(&a, &from, &to).await;
    found.extend(plate(&b, &from, &to).await);
    found.sort();
    assert_eq!(found.len(), 4, "{found:?}");
    assert_eq!(plate(&centre, &from, &to).await, found);
    let case = centre.get("/v1/cases/CASE-A-1").await;
    assert_eq!(case["crossing_point"], "UA-EDGE-A", "{case}");
    let (st, v) = centre.post("/v1/retention/run", &json!({})).await;
    assert_eq!((st, v["waiting"].as_u64()), (200, Some(0)), "{v}");

    // Now retention at A purges what the centre confirmed, and holds the case.
    let (st, run2) = a.post("/v1/retention/run", &json!({})).await;
    assert_eq!(st, 200, "{run2}");
    assert!(run2["purged"].as_u64() > Some(0), "{run2}");
    assert_eq!(run2["waiting"], 0, "{run2}");
    assert!(run2["held"].as_u64() > Some(0), "{run2}");
    let purged = a.metrics().await;
    assert!(!fires("RetentionWaitingForCentre", &purged, &purged));

    // A rewritten edge log is refused and alerted: an entry the centre holds, changed;
    // then a longer tree that does not extend the one the centre holds.
    let key = kordon_core::note::SignerKey::parse(
        std::fs::read_to_string(a_d.join("keys/log.key"))
            .expect("key")
            .trim(),
    )
    .expect("key");
    let held = centre.get(&format!("/v1/edges/{}", origin_path(a_o))).await["size"]
        .as_u64()
        .expect("size");
    let before = centre.metrics().await;
    assert!(!fires("EdgeRewritten", &before, &before));
    for (from, count) in [(0, 1), (held, 1)] {
        let mut tree = kordon_core::merkle::MemoryHashes::new();
        let size = from + count;
        for i in 0..size {
            tree.push_entry(format!("forged {i}").as_bytes());
        }
        let cp = kordon_core::checkpoint::Checkpoint {
            origin: a_o.to_owned(),
            size,
            root: tree.root(),
            extensions: vec![],
        };
        let mut note = kordon_core::note::Note::new(&cp.to_text()).expect("note");
        note.sign(&key).expect("sign");
        let b64 = base64::engine::general_purpose::STANDARD;
        let (st, v) = centre
            .post(
                "/v1/edges/entries",
                &json!({
                    "checkpoint": String::from_utf8_lossy(&note.to_bytes()),
                    "from": from,
                    "entries": (from..size).map(|i| b64.encode(format!("forged {i}"))).collect::<Vec<_>>(),
                }),
            )
            .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (409, Some("edge_rewritten")),
            "{v}"
        );
    }
    let after = centre.metrics().await;
    assert!(fires("EdgeRewritten", &before, &after));

    // Every log still verifies.
    for node in [&centre, &a, &b] {
        let data = node.data.to_str().expect("utf-8");
        let (code, out) = kordon_env(
            &["log", "verify", "--server", &node.url, "--data", data],
            &[],
        );
        assert_eq!(code, 0, "{}: {out}", node.url);
    }

    // The custody trail names what happened: at A the two skipped items and their
    // recovery; at the centre the reload that accepted B.
    drop(centre_proc);
    for action in ["forward-skip", "forward-recovered"] {
        let events = a_db
            .custody_mentioning(action, "entry")
            .await
            .expect("custody");
        assert_eq!(events.len(), 2, "{action}");
    }
    let db = kordon_store::meta::Meta::open_sqlite(&centre_d.join("kordon.db"))
        .await
        .expect("db");
    let reloads = db
        .custody_mentioning("edges-reload", b_o)
        .await
        .expect("custody");
    assert_eq!(reloads.len(), 2, "SIGHUP and the API call");
    let reasons = db.gap_reasons(&b_insp).await.expect("gap reasons");
    assert_eq!(
        reasons.iter().map(|g| g.text.as_str()).collect::<Vec<_>>(),
        ["battery swap at the lane"],
        "the gap reason filed at B is at the centre"
    );
    assert!(
        reloads[0]
            .private
            .as_deref()
            .is_some_and(|p| p.contains("actor: SIGHUP")),
        "{:?}",
        reloads[0].private
    );
}
