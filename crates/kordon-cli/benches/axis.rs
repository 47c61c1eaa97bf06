//! The content-destination path (an AXIS Body Worn system controller pushing clips over
//! the Swift subset) against the native path (kordon's agent uploading signed segments),
//! measured in the same run on the same `kordon serve` (release build), loopback.
//!
//! Both upload 16 (`KORDON_BENCH_CLIPS`) distinct real clips (10 s, 1280×720, 25 fps, H.264 ~8 Mbit/s with AAC
//! sound) from 4 concurrent streams (the controller's stream per camera, the agent's per
//! camera). The native path checks the camera's signature and stores; the content
//! destination also measures each clip's sound with ffmpeg, scans it for in-stream
//! signatures and signs its link itself, one camera chain at a time. Printed: MB/s and
//! clips/s of each, and their ratio.
//!
//! Run: `cargo bench -p kordon-cli --bench axis`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use kordon_core::link::{Attestation, Audio, Link, LinkBody, Segment, genesis};
use kordon_core::note::SignerKey;
use kordon_core::time::Timestamp;
use sha2::{Digest as _, Sha256};

/// Clips per path (`KORDON_BENCH_CLIPS`, default 16).
fn clips_per_path() -> usize {
    std::env::var("KORDON_BENCH_CLIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}
const STREAMS: usize = 4;

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn make_clips(dir: &Path, from: usize, n: usize) -> Vec<Vec<u8>> {
    (from..from + n)
        .map(|i| {
            let out = dir.join(format!("clip-{i}.mp4"));
            let ok = Command::new("ffmpeg")
                .args([
                    "-v",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    "testsrc2=size=1280x720:rate=25:duration=10",
                ])
                .args([
                    "-f",
                    "lavfi",
                    "-i",
                    "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=10",
                ])
                .args(["-vf", &format!("hue=h={}", i * 11)])
                .args([
                    "-c:v",
                    "libx264",
                    "-preset",
                    "ultrafast",
                    "-b:v",
                    "8M",
                    "-pix_fmt",
                    "yuv420p",
                ])
                .args(["-c:a", "aac", "-movflags", "+faststart", "-y"])
                .arg(&out)
                .status()
                .expect("ffmpeg")
                .success();
            assert!(ok);
            std::fs::read(&out).expect("clip")
        })
        .collect()
}

async fn native(http: &reqwest::Client, url: &str, data: &Path, clips: &[Vec<u8>]) -> f64 {
    let admin = std::fs::read_to_string(data.join("keys/admin-token")).expect("token");
    let mut keys = Vec::new();
    for s in 0..STREAMS {
        let key = SignerKey::ed25519_from_seed(&format!("bench-cam-{s}"), [s as u8 + 1; 32])
            .expect("key");
        let id = key.verifier().name().to_owned();
        let t: serde_json::Value = http
            .post(format!("{url}/v1/devices/{id}/enroll-token"))
            .bearer_auth(admin.trim())
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        let body = serde_json::json!({"device": id, "token": t["token"], "key": key.verifier().to_string()});
        assert!(
            http.post(format!("{url}/v1/enroll"))
                .json(&body)
                .send()
                .await
                .expect("enroll")
                .status()
                .is_success()
        );
        keys.push(key);
    }
    let t0 = kordon_store::now_ms() - 3_600_000;
    let start = Instant::now();
    let tasks: Vec<_> = keys
        .into_iter()
        .enumerate()
        .map(|(s, key)| {
            let (http, url) = (http.clone(), url.to_owned());
            let mine: Vec<Vec<u8>> = clips.iter().skip(s).step_by(STREAMS).cloned().collect();
            tokio::spawn(async move {
                let id = key.verifier().name().to_owned();
                let mut prev = genesis(&id);
                for (seq, bytes) in mine.into_iter().enumerate() {
                    // The agent measures the sound when it seals the segment: its cost is
                    // the camera's, not the server's.
                    let link = Link::sign(
                        LinkBody::Segment(Segment {
                            device: id.clone(),
                            seq: seq as u64,
                            start: Timestamp(t0 + seq as i64 * 10_000),
                            end: Timestamp(t0 + (seq as i64 + 1) * 10_000),
                            size: bytes.len() as u64,
                            sha256: kordon_core::Hash(Sha256::digest(&bytes).into()),
                            night: false,
                            audio: Audio::Present,
                            attested: Attestation::Device,
                            prev,
                        }),
                        &key,
                    )
                    .expect("sign");
                    prev = link.hash();
                    let res = http
                        .put(format!("{url}/v1/devices/{id}/segments/{seq}"))
                        .header(
                            "Kordon-Manifest",
                            base64::engine::general_purpose::STANDARD.encode(link.bytes()),
                        )
                        .body(bytes)
                        .send()
                        .await
                        .expect("upload");
                    assert_eq!(res.status().as_u16(), 201);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    start.elapsed().as_secs_f64()
}

async fn axis(http: &reqwest::Client, url: &str, clips: &[Vec<u8>], key: &str) -> f64 {
    let r = http
        .get(format!("{url}/axis/auth/v1.0"))
        .header("X-Auth-User", "scu")
        .header("X-Auth-Key", key)
        .send()
        .await
        .expect("auth");
    let token = r.headers()["x-auth-token"]
        .to_str()
        .expect("token")
        .to_owned();
    let storage = r.headers()["x-storage-url"]
        .to_str()
        .expect("url")
        .to_owned();
    let put = |path: String, meta: Vec<(String, String)>, body: Vec<u8>| {
        let mut b = http
            .put(format!("{storage}/{path}"))
            .header("X-Auth-Token", &token);
        for (k, v) in meta {
            b = b.header(k, v);
        }
        b.body(body).send()
    };
    let user = "6f1c2b0a-1111-4a4a-9b9b-00000000b001";
    assert!(
        put(
            format!("Users/{user}"),
            vec![("X-Object-Meta-Name".into(), "bench".into())],
            vec![]
        )
        .await
        .expect("user")
        .status()
        .is_success()
    );
    let t0 = kordon_store::now_ms() - 3_600_000;
    let mut containers = Vec::new();
    for s in 0..STREAMS {
        let serial = format!("B8A44FBE000{s}");
        assert!(
            put(
                format!("Devices/{serial}"),
                vec![("X-Object-Meta-Model".into(), "W101".into())],
                vec![]
            )
            .await
            .expect("dev")
            .status()
            .is_success()
        );
        let on = Timestamp(t0).to_string();
        let compact: String = on[..19]
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == 'T')
            .collect();
        let container = format!("{user}_{serial}_{compact}Z");
        let r = http
            .put(format!("{storage}/{container}"))
            .header("X-Auth-Token", &token)
            .header("X-Container-Meta-Triggerontimeiso", &on)
            .header("X-Container-Meta-Scuserialnumber", "ACCC8E00BE00")
            .send()
            .await
            .expect("container");
        assert!(r.status().is_success());
        containers.push(container);
    }
    let start = Instant::now();
    let tasks: Vec<_> = containers
        .into_iter()
        .enumerate()
        .map(|(s, container)| {
            let (http, storage, token) = (http.clone(), storage.clone(), token.clone());
            let mine: Vec<Vec<u8>> = clips.iter().skip(s).step_by(STREAMS).cloned().collect();
            tokio::spawn(async move {
                for (i, bytes) in mine.into_iter().enumerate() {
                    let (a, b) = (t0 + i as i64 * 10_000, t0 + (i as i64 + 1) * 10_000);
                    loop {
                        let res = http
                            .put(format!("{storage}/{container}/clip{i}_{s}.mp4"))
                            .header("X-Auth-Token", &token)
                            .header("X-Object-Meta-Starttimeiso", Timestamp(a).to_string())
                            .header("X-Object-Meta-Stoptimeiso", Timestamp(b).to_string())
                            .body(bytes.clone())
                            .send()
                            .await
                            .expect("upload");
                        match res.status().as_u16() {
                            201 => break,
                            503 => tokio::time::sleep(Duration::from_millis(100)).await,
                            s => panic!("{s}: {}", res.text().await.unwrap_or_default()),
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    start.elapsed().as_secs_f64()
}

fn main() {
    let root: PathBuf = std::env::var_os("KORDON_BENCH_DIR")
        .map_or_else(std::env::temp_dir, PathBuf::from)
        .join(format!("kordon-bench-axis-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("dir");
    let made = Instant::now();
    let clips = clips_per_path();
    let native_clips = make_clips(&root, 0, clips);
    let axis_clips = make_clips(&root, clips, clips);
    let mb = |c: &[Vec<u8>]| c.iter().map(Vec::len).sum::<usize>() as f64 / 1e6;
    eprintln!(
        "{} + {} clips made in {:.0} s ({:.1} + {:.1} MB)",
        clips,
        clips,
        made.elapsed().as_secs_f64(),
        mb(&native_clips),
        mb(&axis_clips)
    );
    let data = root.join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let config = root.join("kordon.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"{}\"\nlisten = \"127.0.0.1:{port}\"\n[axis]\nuser = \"scu\"\npublic_url = \"http://127.0.0.1:{port}\"\ncrossing_point = \"UA-BENCH\"\nmax_uploads = {STREAMS}\n",
            data.display()
        ),
    )
    .expect("config");
    let _server = Proc(
        Command::new(env!("CARGO_BIN_EXE_kordon"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..400 {
            if http
                .get(format!("{url}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let key = std::fs::read_to_string(data.join("keys/axis-key")).expect("axis key");
        let n = native(&http, &url, &data, &native_clips).await;
        let a = axis(&http, &url, &axis_clips, key.trim()).await;
        let (nr, ar) = (mb(&native_clips) / n, mb(&axis_clips) / a);
        println!(
            "native agent upload:      {:>7.1} MB/s  {:>5.1} clips/s  ({n:.2} s)",
            nr,
            clips as f64 / n
        );
        println!(
            "content destination path: {:>7.1} MB/s  {:>5.1} clips/s  ({a:.2} s)",
            ar,
            clips as f64 / a
        );
        println!("ratio content destination / native: {:.2}", ar / nr);
    });
    let _ = std::fs::remove_dir_all(&root);
}
