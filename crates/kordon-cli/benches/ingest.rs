//! Ingest and log latency against their baselines, measured in the same run.
//!
//! 1. `dd if=/dev/zero of=… bs=4M conv=fsync` on the disk the server writes to, then
//!    `kordon serve` (release build) ingesting 64 MiB segments over HTTP on loopback from 4
//!    concurrent uploads: throughput as a share of dd, and the server's RSS growth.
//! 2. With two witnesses: latency from the start of an upload to (a) its answer, which
//!    comes once the link is in a published checkpoint, and (b) the first checkpoint
//!    cosigned by both witnesses that covers it.
//!
//! 3. The same upload (`KORDON_BENCH_BACKEND_GIB`, 1 by default) into each combination of
//!    metadata (SQLite, PostgreSQL from `KORDON_TEST_POSTGRES`) and segment store (a
//!    folder, an S3 bucket with Object Lock on moto_server), all on loopback.
//!
//! Run: `cargo bench -p kordon-cli --bench ingest` (`KORDON_BENCH_GIB=10` by default;
//! `KORDON_BENCH_ONLY=backends` runs only part 3).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use kordon_core::hash::sha256;
use kordon_core::link::{Attestation, Audio, Event, EventKind, Link, LinkBody, Segment, genesis};
use kordon_core::note::SignerKey;
use kordon_core::time::Timestamp;
use sha2::{Digest as _, Sha256};

const SEG: usize = 64 << 20;

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn serve(data: &Path, env: &[(&str, String)]) -> (Proc, String) {
    let p = port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kordon"));
    cmd.args(["serve", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{p}")])
        .env("RUST_LOG", "error")
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = Proc(cmd.spawn().expect("spawn"));
    let url = format!("http://127.0.0.1:{p}");
    for _ in 0..400 {
        if reqwest::get(format!("{url}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, url);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("server did not start");
}

async fn enroll(http: &reqwest::Client, url: &str, data: &Path, key: &SignerKey) {
    let token = std::fs::read_to_string(data.join("keys/admin-token")).expect("token");
    let id = key.verifier().name();
    let t: serde_json::Value = http
        .post(format!("{url}/v1/devices/{id}/enroll-token"))
        .bearer_auth(token.trim())
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let body =
        serde_json::json!({"device": id, "token": t["token"], "key": key.verifier().to_string()});
    assert!(
        http.post(format!("{url}/v1/enroll"))
            .json(&body)
            .send()
            .await
            .expect("enroll")
            .status()
            .is_success()
    );
}

fn dd(dir: &Path, mib: u64) -> f64 {
    let out = dir.join("dd.bin");
    let start = Instant::now();
    let st = Command::new("dd")
        .args([
            "if=/dev/zero",
            &format!("of={}", out.display()),
            "bs=4M",
            &format!("count={}", mib / 4),
            "conv=fsync",
        ])
        .stderr(Stdio::null())
        .status()
        .expect("dd");
    assert!(st.success());
    let secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(out);
    (mib << 20) as f64 / secs
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn ingest(root: &Path) {
    let gib: u64 = std::env::var("KORDON_BENCH_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let count = (gib << 30) as usize / SEG;
    let dd_rate = dd(root, 2048);
    println!(
        "baseline: dd bs=4M conv=fsync, 2 GiB: {:.0} MiB/s",
        dd_rate / (1 << 20) as f64
    );

    let data = root.join("ingest");
    let (server, url) = serve(&data, &[]).await;
    let http = reqwest::Client::new();
    let keys: Vec<SignerKey> = (0..4)
        .map(|i| {
            SignerKey::ed25519_from_seed(&format!("bench-cam-{i}"), [i as u8 + 1; 32]).expect("key")
        })
        .collect();
    for k in &keys {
        enroll(&http, &url, &data, k).await;
    }
    // One random 64 MiB block; segment n differs in its first 8 bytes.
    let mut base = vec![0u8; SEG];
    for (i, c) in base.chunks_mut(32).enumerate() {
        c.copy_from_slice(&sha256(&(i as u64).to_le_bytes()).0);
    }
    let base = Bytes::from(base);
    let seg_hash = |n: u64| {
        let mut h = Sha256::new();
        h.update(n.to_be_bytes());
        h.update(&base[8..]);
        kordon_core::Hash(h.finalize().into())
    };
    eprintln!("hashing {count} segments of 64 MiB before the timed part ...");
    let hashes: Arc<Vec<kordon_core::Hash>> = Arc::new((0..count as u64).map(seg_hash).collect());
    let pid = server.0.id();
    let rss0 = rss_kib(pid);
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(rss0));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let secs = upload_all(&http, &url, keys, count, &base, &hashes).await;
    sampler.abort();
    let rate = (count * SEG) as f64 / secs;
    let growth = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(rss0);
    println!(
        "ingest: {count} x 64 MiB over HTTP, 4 concurrent: {:.0} MiB/s = {:.2} of dd (target >= 0.90)",
        rate / (1 << 20) as f64,
        rate / dd_rate
    );
    println!(
        "server RSS: {} MiB at start, growth {} MiB while ingesting {gib} GiB (target < 100 MiB)",
        rss0 / 1024,
        growth / 1024
    );
    export_and_verify(&http, &url, &data, pid, dd_rate).await;
    audit_vs_sha256sum(&url, &data);
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// Uploads `count` segments of 64 MiB from four cameras at once; answers the seconds.
async fn upload_all(
    http: &reqwest::Client,
    url: &str,
    keys: Vec<SignerKey>,
    count: usize,
    base: &Bytes,
    hashes: &Arc<Vec<kordon_core::Hash>>,
) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = keys
        .into_iter()
        .enumerate()
        .map(|(t, key)| {
            let (http, url, base, hashes) =
                (http.clone(), url.to_owned(), base.clone(), hashes.clone());
            tokio::spawn(async move {
                let mut prev = genesis(key.verifier().name());
                for (seq, n) in (t..count).step_by(4).enumerate() {
                    let body = LinkBody::Segment(Segment {
                        device: key.verifier().name().into(),
                        seq: seq as u64,
                        start: Timestamp(1_795_849_200_000 + seq as i64 * 60_000),
                        end: Timestamp(1_795_849_260_000 + seq as i64 * 60_000),
                        size: SEG as u64,
                        sha256: hashes[n],
                        night: false,
                        audio: Audio::Unstated,
                        attested: Attestation::Device,
                        prev,
                    });
                    let link = Link::sign(body, &key).expect("sign");
                    prev = link.hash();
                    let head = Bytes::copy_from_slice(&(n as u64).to_be_bytes());
                    let chunks: Vec<Result<Bytes, std::io::Error>> = std::iter::once(Ok(head))
                        .chain(
                            (8..SEG)
                                .step_by(1 << 20)
                                .map(|o| Ok(base.slice(o..(o + (1 << 20)).min(SEG)))),
                        )
                        .collect();
                    let res = http
                        .put(format!(
                            "{url}/v1/devices/{}/segments/{seq}",
                            key.verifier().name()
                        ))
                        .header(
                            "Kordon-Manifest",
                            base64::engine::general_purpose::STANDARD.encode(link.bytes()),
                        )
                        .header("Content-Length", SEG)
                        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                            chunks,
                        )))
                        .send()
                        .await
                        .expect("upload");
                    assert_eq!(
                        res.status().as_u16(),
                        201,
                        "{}",
                        res.text().await.unwrap_or_default()
                    );
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    start.elapsed().as_secs_f64()
}

/// The same upload into SQLite + a folder and into SQLite + an S3 bucket with Object Lock
/// (moto_server on loopback), in the same run.
async fn backends(root: &Path) {
    let gib: u64 = std::env::var("KORDON_BENCH_BACKEND_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let count = (gib << 30) as usize / SEG;
    let base = Bytes::from(vec![7u8; SEG]);
    let hashes: Arc<Vec<kordon_core::Hash>> = Arc::new(
        (0..count as u64)
            .map(|n| {
                let mut h = Sha256::new();
                h.update(n.to_be_bytes());
                h.update(&base[8..]);
                kordon_core::Hash(h.finalize().into())
            })
            .collect(),
    );
    let moto = kordon_store::blob::testing::Moto::start();
    // One bucket per combination: segments are stored by their hash, so a second run
    // into the same bucket would find them all there already.
    let mut s3_env = Vec::new();
    for bucket in ["kordon-bench-sqlite", "kordon-bench-postgres"] {
        let s3 = moto.settings(bucket);
        kordon_store::blob::create_bucket(&s3)
            .await
            .expect("bucket");
        s3_env.push(kordon_store::blob::testing::server_env(&s3, 3600));
    }
    let pg = |url: String| ("KORDON_DATABASE_URL", url);
    let mut pg_s3 = s3_env.pop().expect("bucket");
    pg_s3.push(pg(kordon_store::meta::testing::fresh_database().await));
    let sqlite_s3 = s3_env.pop().expect("bucket");
    let mut rates = Vec::new();
    for (name, env) in [
        ("SQLite + folder", Vec::new()),
        (
            "PostgreSQL + folder",
            vec![pg(kordon_store::meta::testing::fresh_database().await)],
        ),
        ("SQLite + S3 (moto_server, Object Lock)", sqlite_s3),
        ("PostgreSQL + S3 (moto_server, Object Lock)", pg_s3),
    ] {
        let data = root.join(format!("backend-{}", rates.len()));
        let (server, url) = serve(&data, &env).await;
        let http = reqwest::Client::new();
        let keys: Vec<SignerKey> = (0..4)
            .map(|i| {
                SignerKey::ed25519_from_seed(&format!("bench-b-{i}"), [i as u8 + 40; 32])
                    .expect("key")
            })
            .collect();
        for k in &keys {
            enroll(&http, &url, &data, k).await;
        }
        let secs = upload_all(&http, &url, keys, count, &base, &hashes).await;
        let rate = (count * SEG) as f64 / secs / (1 << 20) as f64;
        println!("ingest into {name}: {count} x 64 MiB in {secs:.1} s = {rate:.0} MiB/s");
        rates.push(rate);
        drop(server);
        let _ = std::fs::remove_dir_all(&data);
    }
    for (i, name) in ["PostgreSQL + folder", "SQLite + S3", "PostgreSQL + S3"]
        .iter()
        .enumerate()
    {
        println!("{name} / SQLite + folder: {:.2}", rates[i + 1] / rates[0]);
    }
}

/// Exports everything just ingested as one evidence package and verifies it.
async fn export_and_verify(http: &reqwest::Client, url: &str, data: &Path, pid: u32, dd_rate: f64) {
    let token = std::fs::read_to_string(data.join("keys/admin-token")).expect("token");
    let post = |path: String, body: serde_json::Value| {
        let req = http
            .post(format!("{url}{path}"))
            .bearer_auth(token.trim())
            .json(&body);
        async move {
            let res = req.send().await.expect("post");
            let st = res.status();
            let v: serde_json::Value = res.json().await.expect("json");
            assert!(st.is_success(), "{v}");
            v
        }
    };
    post("/v1/cases".into(), serde_json::json!({"id": "BENCH", "reference": "bench", "kind": "internal_review", "description": "everything ingested"})).await;
    for i in 0..4 {
        post(
            "/v1/cases/BENCH/items".into(),
            serde_json::json!({"kind": "range", "device": format!("bench-cam-{i}"), "from": "2026-11-28T00:00:00Z", "to": "2026-11-29T00:00:00Z"}),
        )
        .await;
    }
    let rss0 = rss_kib(pid);
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(rss0));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let start = Instant::now();
    let v = post("/v1/cases/BENCH/export".into(), serde_json::json!({})).await;
    let secs = start.elapsed().as_secs_f64();
    sampler.abort();
    let size = v["size"].as_u64().expect("size");
    println!(
        "export: {:.2} GiB package in {secs:.1} s = {:.0} MiB/s = {:.2} of dd; server RSS growth {} MiB",
        size as f64 / (1u64 << 30) as f64,
        size as f64 / secs / (1 << 20) as f64,
        size as f64 / secs / dd_rate,
        peak.load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(rss0)
            / 1024
    );
    let path = data.join("exports").join(v["file"].as_str().expect("file"));
    // Drop the package from the page cache where we can, so the disk is read too.
    let uncache = || {
        let _ = Command::new("dd")
            .args([
                &format!("if={}", path.display()),
                "iflag=nocache",
                "count=0",
            ])
            .stderr(Stdio::null())
            .status();
    };
    // Baseline in the same run: reading the package from the disk, nothing else.
    uncache();
    let start = Instant::now();
    let st = Command::new("dd")
        .args([&format!("if={}", path.display()), "of=/dev/null", "bs=4M"])
        .stderr(Stdio::null())
        .status()
        .expect("dd");
    assert!(st.success());
    let read_rate = size as f64 / 1e9 / start.elapsed().as_secs_f64();
    println!("read: dd of the package to /dev/null, {read_rate:.2} GB/s");
    // Cold (from the disk) with 1 and 2 threads, then warm: the package read once into the
    // page cache (it fits), so only the two cores bound it.
    for (threads, cold) in [(1, true), (2, true), (2, false)] {
        if cold {
            uncache();
        } else {
            let _ = Command::new("dd")
                .args([&format!("if={}", path.display()), "of=/dev/null", "bs=4M"])
                .stderr(Stdio::null())
                .status();
        }
        let start = Instant::now();
        let report = kordon_verify::verify_package(
            &path,
            &kordon_verify::VerifyOptions {
                threads,
                ..Default::default()
            },
        )
        .expect("verify");
        let secs = start.elapsed().as_secs_f64();
        assert!(
            report.holds(),
            "{:?}",
            report.failures().collect::<Vec<_>>()
        );
        println!(
            "verify ({threads} thread{}, {}): {:.2} GB of media in {secs:.2} s = {:.2} GB/s = {:.2} of the disk read (target >= 1.5 GB/s on both cores); peak RSS of this process {} MiB",
            if threads == 1 { "" } else { "s" },
            if cold {
                "from the disk"
            } else {
                "in the page cache"
            },
            report.media_bytes as f64 / 1e9,
            report.media_bytes as f64 / 1e9 / secs,
            report.media_bytes as f64 / 1e9 / secs / read_rate,
            std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(
                    |s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l
                        .split_whitespace()
                        .nth(1)?
                        .parse::<u64>()
                        .ok())
                )
                .unwrap_or(0)
                / 1024
        );
    }
}

/// `kordon log verify` with every stored segment (8 at a time over HTTP, one audit run)
/// against `sha256sum` over the same blob files, in the same run.
fn audit_vs_sha256sum(url: &str, data: &Path) {
    let mut files = Vec::new();
    let mut stack = vec![data.join("blobs/sha256")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    // Twice, the faster counts: both it and the audit then read from the page cache
    // (the machine holds the files), so hashing is compared, not the cold disk.
    let mut sum = f64::MAX;
    for _ in 0..2 {
        let start = Instant::now();
        let ok = Command::new("sha256sum")
            .args(&files)
            .stdout(Stdio::null())
            .status()
            .expect("sha256sum");
        assert!(ok.success());
        sum = sum.min(start.elapsed().as_secs_f64());
    }
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kordon"))
        .args(["log", "verify", "--server", url, "--data"])
        .arg(data)
        .output()
        .expect("kordon log verify");
    let audit = start.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let mib = bytes as f64 / (1 << 20) as f64;
    println!(
        "audit: kordon log verify read {} segments ({mib:.0} MiB) in {audit:.2} s = {:.0} MiB/s, {:.1} segments/s; sha256sum over the same files {sum:.2} s = {:.0} MiB/s; audit / sha256sum = {:.2} (target >= 0.5)",
        files.len(),
        mib / audit,
        files.len() as f64 / audit,
        mib / sum,
        sum / audit
    );
}

async fn latency(root: &Path) {
    let data = root.join("latency");
    let vkey = {
        let (_s, url) = serve(&data, &[]).await;
        reqwest::get(format!("{url}/log/verifier-key"))
            .await
            .expect("key")
            .text()
            .await
            .expect("text")
            .trim()
            .to_owned()
    };
    let mut witnesses = Vec::new();
    let mut env = Vec::new();
    for i in 0..2 {
        let p = port();
        let dir = root.join(format!("w{i}"));
        let child = Proc(
            Command::new(env!("CARGO_BIN_EXE_kordon"))
                .args(["witness", "serve", "--data"])
                .arg(&dir)
                .args([
                    "--listen",
                    &format!("127.0.0.1:{p}"),
                    "--name",
                    &format!("w{i}.bench"),
                    "--log",
                    &vkey,
                ])
                .env("RUST_LOG", "error")
                .stdout(Stdio::null())
                .spawn()
                .expect("witness"),
        );
        while !dir.join("witness.key").exists()
            || tokio::net::TcpStream::connect(("127.0.0.1", p))
                .await
                .is_err()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let k = SignerKey::parse(
            std::fs::read_to_string(dir.join("witness.key"))
                .expect("k")
                .trim(),
        )
        .expect("key");
        env.push(format!("http://127.0.0.1:{p}={}", k.verifier()));
        witnesses.push(child);
    }
    let (_server, url) = serve(&data, &[("KORDON_WITNESSES", env.join(","))]).await;
    let http = reqwest::Client::new();
    let key = SignerKey::ed25519_from_seed("bench-lat-0", [9; 32]).expect("key");
    enroll(&http, &url, &data, &key).await;

    // Poll the witnessed checkpoint and note when each size first appears cosigned.
    let seen: Arc<std::sync::Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let poller = {
        let (seen, url, http) = (seen.clone(), url.clone(), http.clone());
        tokio::spawn(async move {
            loop {
                if let Ok(r) = http
                    .get(format!("{url}/v1/log/witnessed-checkpoint"))
                    .send()
                    .await
                    && let Ok(t) = r.text().await
                    && t.matches('\u{2014}').count() >= 3
                    && let Some(size) = t.lines().nth(1).and_then(|s| s.parse().ok())
                {
                    let mut v = seen.lock().expect("lock");
                    if v.last().is_none_or(|(s, _)| *s < size) {
                        v.push((size, Instant::now()));
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let n = 400;
    let mut prev = genesis("bench-lat-0");
    let mut results = Vec::new();
    for seq in 0..n {
        let link = Link::sign(
            LinkBody::Event(Event {
                device: "bench-lat-0".into(),
                seq,
                time: Timestamp(1_795_849_200_000 + seq as i64),
                kind: EventKind::BatteryLow,
                detail: "bench".into(),
                prev,
            }),
            &key,
        )
        .expect("sign");
        prev = link.hash();
        let t0 = Instant::now();
        let v: serde_json::Value = http
            .put(format!("{url}/v1/devices/bench-lat-0/events/{seq}"))
            .body(link.bytes().to_vec())
            .send()
            .await
            .expect("put")
            .json()
            .await
            .expect("json");
        let answered = t0.elapsed().as_secs_f64() * 1000.0;
        results.push((t0, answered, v["log_index"].as_u64().expect("index")));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    poller.abort();
    let seen = seen.lock().expect("lock").clone();
    let mut answered: Vec<f64> = results.iter().map(|r| r.1).collect();
    let mut witnessed: Vec<f64> = results
        .iter()
        .filter_map(|(t0, _, idx)| {
            seen.iter()
                .find(|(size, _)| *size > *idx)
                .map(|(_, t)| t.duration_since(*t0).as_secs_f64() * 1000.0)
        })
        .collect();
    println!(
        "upload -> in published checkpoint (answer): p50 {:.1} ms, p99 {:.1} ms ({} uploads)",
        percentile(&mut answered, 0.5),
        percentile(&mut answered, 0.99),
        answered.len()
    );
    println!(
        "upload -> checkpoint cosigned by 2 witnesses: p50 {:.1} ms, p99 {:.1} ms ({} of {} observed; targets p50 < 300 ms, p99 < 1000 ms)",
        percentile(&mut witnessed, 0.5),
        percentile(&mut witnessed, 0.99),
        witnessed.len(),
        results.len()
    );
    drop(witnesses);
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tmp");
    rt.block_on(async {
        if std::env::var("KORDON_BENCH_ONLY").is_ok_and(|v| v == "backends") {
            backends(root.path()).await;
            return;
        }
        if std::env::var("KORDON_BENCH_ONLY").is_ok_and(|v| v == "ingest") {
            ingest(root.path()).await;
            return;
        }
        latency(root.path()).await;
        backends(root.path()).await;
        ingest(root.path()).await;
    });
}
