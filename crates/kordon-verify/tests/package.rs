//! End to end: a server with two witnesses and a simulated crossing point (real H.264 via
//! ffmpeg), a case exported as an evidence package and checked by the `kordon-verify`
//! binary; then every forgery we could think of, each reported precisely; retention,
//! legal hold, tombstones (purged, not missing); scrubbing; receipts; one segment file
//! against the live log.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use kordon_agent::simulate::{Fault, SimOptions, simulate};
use kordon_core::link::Link;
use kordon_core::note::SignerKey;
use serde_json::{Value, json};

type Files = BTreeMap<String, Vec<u8>>;

fn write_secret(path: &Path, contents: &str) {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("secret");
    f.write_all(contents.as_bytes()).expect("write");
}

async fn serve(router: kordon_server::Router) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(kordon_server::serve_router(
        l,
        router,
        std::future::pending(),
    ));
    url
}

struct Fleet {
    url: String,
    token: String,
    data: PathBuf,
    http: reqwest::Client,
    cams: Vec<String>,
    run: String,
}

impl Fleet {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("post");
        let st = res.status().as_u16();
        (st, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let res = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get");
        let st = res.status().as_u16();
        (st, res.json().await.unwrap_or(Value::Null))
    }

    async fn export(&self, case: &str, out: &Path) -> Value {
        let (st, v) = self
            .post(&format!("/v1/cases/{case}/export"), json!({}))
            .await;
        assert_eq!(st, 200, "{v}");
        let bytes = self
            .http
            .get(format!(
                "{}/v1/exports/{}",
                self.url,
                v["file"].as_str().expect("file")
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("download")
            .bytes()
            .await
            .expect("bytes");
        std::fs::write(out, &bytes).expect("write");
        // The download is in the custody trail.
        let trail = self
            .http
            .get(format!(
                "{}/ui/custody?subject=export%20{}",
                self.url,
                v["file"].as_str().expect("file")
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("custody")
            .text()
            .await
            .expect("html");
        assert!(trail.contains(r#"data-action="download""#), "{trail}");
        v
    }
}

async fn fleet(dir: &Path) -> Fleet {
    fleet_with(dir, None).await
}

/// A fleet whose segments go to `s3` (a bucket with Object Lock) instead of the folder.
async fn fleet_with(dir: &Path, s3: Option<kordon_store::blob::S3Settings>) -> Fleet {
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("keys")).expect("keys");
    let log = SignerKey::ed25519_from_seed("kordon.test/log", [9; 32]).expect("key");
    write_secret(&data.join("keys/log.key"), &log.to_key_string());
    let token = "t0ken-for-the-evidence-test".to_owned();
    write_secret(&data.join("keys/admin-token"), &token);
    let mut witnesses = Vec::new();
    for n in ["w1", "w2"] {
        let w = kordon_witness::Witness::open(
            &dir.join(n),
            &format!("witness.test/{n}"),
            vec![log.verifier().clone()],
        )
        .expect("witness");
        let key = w.verifier().to_string();
        let url = serve(kordon_witness::router(w)).await;
        witnesses.push(kordon_server::config::WitnessConfig { url, key });
    }
    let config = kordon_server::config::Config {
        data: data.clone(),
        origin: "kordon.test/log".into(),
        witnesses,
        retention_days: 0,
        retention_inspection_days: 0,
        test_retention_floor_days: Some(0),
        s3,
        s3_lock_s: Some(0),
        ..Default::default()
    };
    let app = kordon_server::open(config).await.expect("server");
    let url = serve(kordon_server::router(app)).await;
    let report = simulate(&SimOptions {
        server: url.clone(),
        admin_token: token.clone(),
        cameras: 4,
        minutes: 1,
        segment_seconds: 10,
        crossing_point: "UA-TEST-01".into(),
        first_officer: 1000,
        faults: vec![(0, Fault::Stop), (1, Fault::Lose)],
        work: dir.join("video"),
    })
    .await
    .expect("simulate");
    let cams: Vec<String> = report.cameras.iter().map(|c| c.0.clone()).collect();
    let run = cams[0].split("-cam").next().expect("run").to_owned();
    Fleet {
        url,
        token,
        data,
        http: reqwest::Client::new(),
        cams,
        run,
    }
}

/// Runs `kordon-verify`; answers its exit code and output.
fn verify(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kordon-verify"))
        .args(args)
        .output()
        .expect("kordon-verify");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn read_zip(p: &Path) -> Files {
    let mut z = zip::ZipArchive::new(std::fs::File::open(p).expect("open")).expect("zip");
    let names: Vec<String> = z
        .file_names()
        .map(|n| n.expect("name").into_owned())
        .collect();
    names
        .into_iter()
        .map(|n| {
            let mut b = Vec::new();
            z.by_name(&n)
                .expect("member")
                .read_to_end(&mut b)
                .expect("read");
            (n, b)
        })
        .collect()
}

fn write_zip(p: &Path, files: &Files) {
    let mut w = zip::ZipWriter::new(std::fs::File::create(p).expect("create"));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (n, b) in files {
        w.start_file(n.as_str(), opts).expect("start");
        w.write_all(b).expect("write");
    }
    w.finish().expect("finish");
}

/// Writes a tampered copy of `pkg` and verifies it; answers the exit code and output.
fn tampered(dir: &Path, pkg: &Path, name: &str, edit: impl FnOnce(&mut Files)) -> (i32, String) {
    let mut files = read_zip(pkg);
    edit(&mut files);
    let out = dir.join(format!("{name}.zip"));
    write_zip(&out, &files);
    verify(&[out.to_str().expect("utf8")])
}

fn names(files: &Files, prefix: &str) -> Vec<String> {
    files
        .keys()
        .filter(|k| k.starts_with(prefix))
        .cloned()
        .collect()
}

/// Removes the signature lines of `key_name` from a note (or a proof's checkpoint).
fn strip_signature(bytes: &[u8], key_name: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).expect("utf8");
    let prefix = format!("\u{2014} {key_name} ");
    text.split_inclusive('\n')
        .filter(|l| !l.starts_with(&prefix))
        .collect::<String>()
        .into_bytes()
}

/// Seconds of video in an MP4, by ffprobe.
fn duration(bytes: &[u8], dir: &Path) -> f64 {
    let f = dir.join("probe.mp4");
    std::fs::write(&f, bytes).expect("write");
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&f)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a duration")
}

/// The package's playable files: each plays for as long as its sources together, is the
/// same bytes when `kordon-verify --rederive` runs the logged operation again on the
/// package's segments, and one changed byte is refused as not the logged result.
fn derived_files_play_and_are_what_the_log_says(
    d: &Path,
    pkg: &Path,
    files: &Files,
    meta: &Value,
    cam1: &str,
    out: &str,
) {
    let derived = names(files, "derived/");
    assert_eq!(
        meta["derived"].as_u64(),
        Some(derived.len() as u64),
        "{meta}"
    );
    assert!(
        derived
            .iter()
            .any(|p| p.starts_with(&format!("derived/{cam1}/"))),
        "the range of camera 1 has its playable file: {derived:?}"
    );
    for p in &derived {
        assert!(
            out.contains(&format!(
                "ok   {p}: derived by mp4-concat-copy with ffmpeg-"
            )),
            "{p}: {out}"
        );
        let (device, range) = p["derived/".len()..p.len() - 4]
            .split_once('/')
            .expect("path");
        let (first, last) = range.split_once('-').expect("range");
        let (first, last): (u64, u64) = (first.parse().expect("n"), last.parse().expect("n"));
        let sources: Vec<String> = (first..=last)
            .map(|seq| kordon_core::package::segment_path(device, seq))
            .filter(|s| files.contains_key(s))
            .collect();
        let total: f64 = sources.iter().map(|s| duration(&files[s], d)).sum();
        let joined = duration(&files[p], d);
        assert!(
            (joined - total).abs() < 0.2 && total > 0.0,
            "{p}: plays {joined} s, its {} sources {total} s",
            sources.len()
        );
    }
    // The operation run again by the verifier on the package's segments: the same bytes.
    let (code, again) = verify(&[pkg.to_str().expect("utf8"), "--rederive", "--verbose"]);
    assert_eq!(code, 3, "holds (against its own policy): {again}");
    for p in &derived {
        assert!(
            again.contains(&format!("ok   {p}: made again with ffmpeg-"))
                && again.contains(": the same bytes"),
            "{p}: {again}"
        );
    }
    let p = derived[0].clone();
    let (code, out) = tampered(d, pkg, "derived-flip", |z| {
        let b = z.get_mut(&p).expect("derived");
        let n = b.len() / 2;
        b[n] ^= 1;
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("FAIL {p}: SHA-256"))
                && l.contains(
                    "the derivation in the log states: not the file derived from the segments"
                )),
        "{out}"
    );
}

fn fail_lines(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("FAIL")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_verify_and_every_forgery_is_caught() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = fleet(dir.path()).await;
    let (cam0, cam1, cam2, cam3) = (&f.cams[0], &f.cams[1], &f.cams[2], &f.cams[3]);

    // A complaint about officer UA-1000's inspection, and footage of camera 1.
    let (st, v) = f
        .post("/v1/cases", json!({"id": "C-1", "reference": "СКАРГА 17/2026", "kind": "complaint", "description": "complaint about a vehicle inspection"}))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = f
        .post(
            "/v1/cases/C-1/items",
            json!({"kind": "inspection", "inspection_id": format!("{}-insp00", f.run)}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (_, cont) = f.get(&format!("/v1/devices/{cam1}/continuity")).await;
    let (from, to) = (
        cont["assignments"][0]["start"].clone(),
        cont["assignments"][0]["end"].clone(),
    );
    let (st, v) = f
        .post("/v1/cases/C-1/items", json!({"kind": "range", "device": cam1, "from": from, "to": to, "text": "the whole shift"}))
        .await;
    assert_eq!(st, 201, "{v}");
    for (body, code) in [
        (
            json!({"kind": "range", "device": cam1, "from": to, "to": from}),
            "bad_request",
        ),
        (json!({"kind": "boat"}), "bad_request"),
        (json!({"kind": "inspection"}), "bad_request"),
        (
            json!({"kind": "segment", "device": cam1, "seq": 999}),
            "not_found",
        ),
    ] {
        let (st, v) = f.post("/v1/cases/C-1/items", body.clone()).await;
        assert!(st == 400 || st == 404, "{body}: {v}");
        assert_eq!(v["error"], code, "{body}: {v}");
    }
    let (st, v) = f.post("/v1/cases/C-404/export", json!({})).await;
    assert_eq!((st, v["error"].as_str()), (404, Some("not_found")));

    let pkg = dir.path().join("C-1.zip");
    let meta = f.export("C-1", &pkg).await;
    let p = pkg.to_str().expect("utf8");
    let (code, out) = verify(&[p, "--verbose"]);
    assert_eq!(
        code, 3,
        "holds, against the package's own policy only: {out}"
    );
    assert!(
        out.contains("HOLDS AGAINST THE PACKAGE'S OWN POLICY ONLY")
            && out.contains("nothing was checked about WHO signed"),
        "{out}"
    );
    assert!(out.contains("witness quorum met"), "{out}");
    let files = read_zip(&pkg);
    let segs0 = names(&files, &format!("segments/{cam0}/"));
    let segs1 = names(&files, &format!("segments/{cam1}/"));
    assert!(segs0.len() >= 5 && segs1.len() >= 4, "{:?}", files.keys());
    assert!(
        names(&files, &format!("segments/{cam2}/")).is_empty(),
        "only what the case holds"
    );
    // The wearer's stop on camera 0 is in the package as a signed event.
    assert!(out.contains("event record-stop at"), "{out}");
    // Camera 1 lost two segments: the package shows the hole, as a fact, not a failure.
    assert!(
        out.contains(&format!("note camera {cam1}: links"))
            && out.contains("never reached the log"),
        "{out}"
    );
    assert!(fail_lines(&out).is_empty(), "{out}");
    derived_files_play_and_are_what_the_log_says(dir.path(), &pkg, &files, &meta, cam1, &out);
    let report = String::from_utf8(files["report.html"].clone()).expect("utf8");
    assert!(
        report.contains("Пакет доказів / Evidence package")
            && report.contains("СКАРГА 17/2026")
            && report.contains("Часовий пояс / Time zone: Europe/Kyiv")
            && report.contains("+02:00[Europe/Kyiv]")
            && report.contains("event: record-stop"),
        "{report}"
    );
    // A policy the court holds independently: the same keys work; another log key fails.
    let court = dir.path().join("court-policy.txt");
    std::fs::write(&court, &files["policy.txt"]).expect("write");
    let (code, out) = verify(&[p, "--policy", court.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{out}");
    let other = SignerKey::ed25519_from_seed("kordon.test/log", [1; 32]).expect("key");
    let wrong = String::from_utf8(files["policy.txt"].clone())
        .expect("utf8")
        .replace(
            &SignerKey::ed25519_from_seed("kordon.test/log", [9; 32])
                .expect("key")
                .verifier()
                .to_string(),
            &other.verifier().to_string(),
        );
    std::fs::write(&court, wrong).expect("write");
    let (code, out) = verify(&[p, "--policy", court.to_str().expect("utf8")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL checkpoint.note: does not satisfy the policy"),
        "{out}"
    );

    // Forgeries.
    let d = dir.path();
    // Of the archive itself: a second member of the same name (the altered one first,
    // which players read), bytes before the archive a streaming reader would take for a
    // member, an extra file under proofs/.
    let seg = segs0[0].clone();
    let twin = format!("{}x", &seg[..seg.len() - 1]);
    let dup = d.join("dup.zip");
    let files = read_zip(&pkg);
    let mut altered = files[&seg].clone();
    let n = altered.len() / 2;
    altered[n] ^= 1;
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&dup).expect("create"));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file(twin.as_str(), opts).expect("start");
        w.write_all(&altered).expect("write");
        for (name, b) in &files {
            w.start_file(name.as_str(), opts).expect("start");
            w.write_all(b).expect("write");
        }
        w.finish().expect("finish");
    }
    // The altered copy renamed to the segment's name, in its local and central headers.
    let bytes = std::fs::read(&dup).expect("read");
    let mut patched = bytes;
    let (from, to) = (twin.as_bytes(), seg.as_bytes());
    let mut i = 0;
    while let Some(at) = patched[i..].windows(from.len()).position(|w| w == from) {
        patched[i + at..i + at + to.len()].copy_from_slice(to);
        i += at + to.len();
    }
    std::fs::write(&dup, &patched).expect("write");
    let (code, out) = verify(&[dup.to_str().expect("utf8")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL package.zip: is not one consistent zip"),
        "{out}"
    );
    let prefixed = d.join("prefixed.zip");
    let mut bytes = b"PK\x03\x04 a member no directory lists ".to_vec();
    bytes.extend(std::fs::read(&pkg).expect("read"));
    std::fs::write(&prefixed, &bytes).expect("write");
    let (code, out) = verify(&[prefixed.to_str().expect("utf8")]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL package.zip:"), "{out}");
    let (code, out) = tampered(d, &pkg, "extra-proof", |z| {
        z.insert(
            format!("proofs/{}.tlog-proof", "ab".repeat(32)),
            vec![0; 2 << 20],
        );
    });
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("proves nothing in the contents list"), "{out}");
    let s0 = segs0[1].clone();
    let (code, out) = tampered(d, &pkg, "flip", |z| {
        let b = z.get_mut(&s0).expect("seg");
        let n = b.len() / 2;
        b[n] ^= 0x01;
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("FAIL {s0}: SHA-256")) && out.contains("changed after export"),
        "{out}"
    );
    assert!(out.contains("not the camera's recording"), "{out}");

    let (code, out) = tampered(d, &pkg, "drop", |z| {
        z.remove(&s0);
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "FAIL {s0}: listed in the contents but not in the package"
        )),
        "{out}"
    );
    assert!(out.contains("missing: link"), "{out}");

    let s1 = segs0[2].clone();
    let (code, out) = tampered(d, &pkg, "swap", |z| {
        let a = z[&s0].clone();
        let b = z[&s1].clone();
        z.insert(s0.clone(), b);
        z.insert(s1.clone(), a);
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("FAIL {s0}")) && out.contains(&format!("FAIL {s1}")),
        "{out}"
    );

    let l0 = names(&files, &format!("links/{cam0}/"))[3].clone();
    let (code, out) = tampered(d, &pkg, "edit-manifest", |z| {
        let t = String::from_utf8(z[&l0].clone()).expect("utf8");
        let edited = t
            .replacen("night false", "night true", 1)
            .replacen("2026", "2025", 1);
        assert_ne!(t, edited);
        z.insert(l0.clone(), edited.into_bytes());
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("is not signed by the camera's enrolled key")
            || out.contains("is not a valid link"),
        "{out}"
    );
    assert!(out.contains(&format!("FAIL {l0}: SHA-256")), "{out}");

    let proofs = names(&files, "proofs/");
    let (code, out) = tampered(d, &pkg, "replace-proof", |z| {
        let own = format!(
            "proofs/{}.tlog-proof",
            kordon_core::sha256(&z[&l0]).to_hex()
        );
        let other = proofs.iter().find(|p| **p != own).expect("another proof");
        let bytes = z[other].clone();
        z.insert(own, bytes);
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("FAIL {l0}: its proof")) && out.contains("does not hold"),
        "{out}"
    );

    let (code, out) = tampered(d, &pkg, "strip-witness", |z| {
        for (n, b) in z.iter_mut() {
            if n == "checkpoint.note" || n.starts_with("proofs/") {
                *b = strip_signature(b, "witness.test/w2");
            }
        }
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL checkpoint.note: does not satisfy the policy"),
        "{out}"
    );
    assert!(out.contains("FAIL export.note: its proof"), "{out}");

    let (code, out) = tampered(d, &pkg, "resign", |z| {
        let l = Link::parse(&z[&l0]).expect("link");
        let forger = SignerKey::ed25519_from_seed(cam0, [66; 32]).expect("key");
        let forged = Link::sign(l.body().clone(), &forger).expect("sign");
        z.insert(l0.clone(), forged.bytes().to_vec());
        z.insert(
            format!("devices/{cam0}.vkey"),
            format!("{}\n", forger.verifier()).into_bytes(),
        );
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "FAIL devices/{cam0}.vkey: no enrollment event in the log names this key"
        )),
        "{out}"
    );

    // A second case with camera 2's footage; splice one of its segments into the first.
    f.post(
        "/v1/cases",
        json!({"id": "C-2", "reference": "R-2", "kind": "internal_review", "description": "other"}),
    )
    .await;
    let (_, c2) = f.get(&format!("/v1/devices/{cam2}/continuity")).await;
    // C-2 holds the first half minute of camera 2's shift only.
    let c2_start = c2["assignments"][0]["start"]
        .as_str()
        .expect("start")
        .to_owned();
    let c2_end = c2["assignments"][0]["end"]
        .as_str()
        .expect("end")
        .to_owned();
    let c2_mid = kordon_core::time::Timestamp(
        kordon_core::time::Timestamp::parse(&c2_start)
            .expect("time")
            .0
            + 30_000,
    )
    .to_string();
    let (st, v) = f
        .post(
            "/v1/cases/C-2/items",
            json!({"kind": "range", "device": cam2, "from": c2_start, "to": c2_mid}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let pkg2 = dir.path().join("C-2.zip");
    f.export("C-2", &pkg2).await;
    let other = read_zip(&pkg2);
    let (code, out) = tampered(d, &pkg, "splice", |z| {
        for (n, b) in &other {
            if n.contains(cam2.as_str()) || n.starts_with("proofs/") {
                z.entry(n.clone()).or_insert_with(|| b.clone());
            }
        }
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("FAIL segments/{cam2}/")) && out.contains("added after export"),
        "{out}"
    );
    let (code, out) = tampered(d, &pkg, "splice-and-relist", |z| {
        let mut contents = String::from_utf8(z["contents.txt"].clone()).expect("utf8");
        for (n, b) in &other {
            if n.starts_with(&format!("segments/{cam2}/")) {
                z.insert(n.clone(), b.clone());
                contents.push_str(&format!(
                    "{} {} {n}\n",
                    kordon_core::sha256(b).to_hex(),
                    b.len()
                ));
            }
        }
        z.insert("contents.txt".into(), contents.into_bytes());
    });
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL contents.txt"), "{out}");
    let (code, out) = verify(&[dir.path().join("nothing.zip").to_str().expect("utf8")]);
    assert_eq!(code, 2, "{out}");

    // Receipts: release the package; the recipient checks it against the log.
    let sha = meta["sha256"].as_str().expect("sha").to_owned();
    let (st, v) = f
        .post(
            "/v1/cases/C-1/receipts",
            json!({"recipient": "Печерський районний суд м. Києва", "package_sha256": sha}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let (code, out) = verify(&[p, "--receipt", "--server", &f.url]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ok   receipt: case C-1: package sha256") && out.contains("Печерський"),
        "{out}"
    );
    let (code, out) = verify(&[
        dir.path().join("flip.zip").to_str().expect("utf8"),
        "--receipt",
        "--server",
        &f.url,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no release of a package"), "{out}");

    // One segment file against the live log.
    let seg = dir.path().join("one.mp4");
    std::fs::write(&seg, &files[&s0]).expect("write");
    let (code, out) = verify(&[seg.to_str().expect("utf8"), "--server", &f.url]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("signed by the camera, in the log at index"),
        "{out}"
    );
    let mut b = files[&s0].clone();
    b[100] ^= 0xff;
    std::fs::write(&seg, &b).expect("write");
    let (code, out) = verify(&[seg.to_str().expect("utf8"), "--server", &f.url]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not an original recording"), "{out}");

    // Retention (0 days in this test): held footage stays, a violation holds too, the
    // rest is purged with tombstones.
    let (_, c3) = f.get(&format!("/v1/devices/{cam3}/continuity")).await;
    let (st, v) = f.post("/v1/inspections", json!({
        "inspection_id": "V-1", "crossing_point": "UA-TEST-01", "lane": "1", "officers": "UA-1003",
        "start": c3["assignments"][0]["start"], "end": c3["assignments"][0]["end"],
        "vehicle_plate": "AA0001AA", "declaration_no": "D-V", "kind": "goods", "outcome": "violation"})).await;
    assert_eq!(st, 200, "{v}");
    let before: Vec<PathBuf> = walk(&f.data.join("blobs/sha256"));
    let (st, v) = f.post("/v1/retention/run", json!({})).await;
    assert_eq!(st, 200, "{v}");
    let purged = v["purged"].as_u64().expect("purged");
    assert!(
        purged == 3 && v["held"].as_u64().expect("held") >= 10,
        "{v}"
    );
    let after = walk(&f.data.join("blobs/sha256"));
    assert_eq!(
        before.len() - after.len(),
        purged as usize,
        "bytes of purged segments are gone"
    );
    // Everything in the case's package is still stored: export it again, it verifies.
    let pkg3 = dir.path().join("C-1-again.zip");
    f.export("C-1", &pkg3).await;
    let (code, out) = verify(&[pkg3.to_str().expect("utf8")]);
    assert_eq!(code, 3, "held footage survived retention: {out}");
    // Camera 2's footage was purged: adding it to a case now exports tombstones, and the
    // verifier says purged, not missing.
    let (st, v) = f
        .post(
            "/v1/cases/C-2/items",
            json!({"kind": "range", "device": cam2, "from": c2_mid, "to": c2_end}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let pkg4 = dir.path().join("C-2-purged.zip");
    f.export("C-2", &pkg4).await;
    let (code, out) = verify(&[pkg4.to_str().expect("utf8")]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("purged by retention, not missing: tombstone in the log"),
        "{out}"
    );
    let (code, out) = tampered(d, &pkg4, "no-tombstone", |z| {
        let t: Vec<String> = z
            .iter()
            .filter(|(n, b)| {
                n.starts_with("custody/")
                    && kordon_core::note::Note::parse(b)
                        .ok()
                        .and_then(|n| kordon_core::custody::Event::parse(n.text()).ok())
                        .is_some_and(|e| e.action() == "tombstone")
            })
            .map(|(n, _)| n.clone())
            .collect();
        assert!(!t.is_empty());
        for n in t {
            z.remove(&n.replace(".note", ".private"));
            z.remove(&n);
        }
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("missing: link"),
        "without its tombstone a purged segment is missing: {out}"
    );

    // Custody events are version 2: the package opens each with its private part; a
    // private part changed (who did it, or why), or one that opens no event, fails.
    let files = read_zip(&pkg4);
    let private: Vec<&String> = files.keys().filter(|n| n.ends_with(".private")).collect();
    assert!(!private.is_empty(), "the package opens its custody events");
    let (_, out) = verify(&["--verbose", pkg4.to_str().expect("utf8")]);
    assert!(
        out.contains("case-open case C-2 by ") && !out.contains("not opened here"),
        "every event opened, who did it shown: {out}"
    );
    let victim_private = private[0].clone();
    let (code, out) = tampered(d, &pkg4, "private-changed", |z| {
        let b = z.get_mut(&victim_private).expect("private part");
        let at = b.len() - 2;
        b[at] ^= 0x01;
    });
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&victim_private), "{out}");
    let (code, out) = tampered(d, &pkg4, "private-orphan", |z| {
        let note = victim_private.replace(".private", ".note");
        z.remove(&note);
    });
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("opens no custody event in the package"),
        "{out}"
    );

    // Scrub: a stored blob corrupted on disk is found, quarantined and reported.
    let victim = after.first().expect("a blob").clone();
    let mut b = std::fs::read(&victim).expect("read");
    b[10] ^= 0x10;
    std::fs::write(&victim, &b).expect("write");
    let (st, _) = f.post("/v1/scrub", json!({})).await;
    assert_eq!(st, 200);
    let mut status = Value::Null;
    for _ in 0..200 {
        status = f.get("/v1/scrub").await.1;
        if status["running"] == false && status["finished_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status["bad"], 1, "{status}");
    assert_eq!(
        status["checked"].as_u64(),
        Some(after.len() as u64),
        "{status}"
    );
    assert!(!victim.exists(), "moved aside");
    assert_eq!(walk(&f.data.join("blobs/quarantine")).len(), 1);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The evidence path with segments in an S3 bucket under Object Lock: ingest, playback
/// by byte ranges, a case whose footage goes on the bucket's legal hold, export and
/// offline verification, retention that purges the rest with tombstones while the
/// bucket itself refuses to delete held footage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_with_segments_in_an_object_locked_bucket() {
    let m = kordon_store::blob::testing::Moto::start();
    let s3 = m.settings("kordon-evidence");
    kordon_store::blob::create_bucket(&s3)
        .await
        .expect("bucket");
    let dir = tempfile::tempdir().expect("tmp");
    let f = fleet_with(dir.path(), Some(s3.clone())).await;
    assert!(
        walk(&f.data.join("blobs/sha256")).is_empty(),
        "no segment in the local folder"
    );
    let cam1 = &f.cams[1];

    // Playback by byte range, straight from the bucket.
    let (_, cont) = f.get(&format!("/v1/devices/{cam1}/continuity")).await;
    let (from, to) = (
        cont["assignments"][0]["start"].clone(),
        cont["assignments"][0]["end"].clone(),
    );
    let (st, v) = f
        .post("/v1/cases", json!({"id": "C-S3", "reference": "ЗАПИТ 3/2026", "kind": "law_enforcement_request", "description": "a prosecutor's request"}))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = f
        .post(
            "/v1/cases/C-S3/items",
            json!({"kind": "range", "device": cam1, "from": from, "to": to}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let pkg = dir.path().join("C-S3.zip");
    f.export("C-S3", &pkg).await;
    let (code, out) = verify(&[pkg.to_str().expect("utf8")]);
    assert_eq!(code, 3, "{out}");
    let files = read_zip(&pkg);
    let (seg_name, seg) = files
        .iter()
        .find(|(n, _)| n.starts_with("segments/"))
        .expect("a segment in the package");
    let sha = kordon_core::sha256(seg).to_hex();
    let res = f
        .http
        .get(format!("{}/v1/blobs/{sha}?reason=range%20test", f.url))
        .bearer_auth(&f.token)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .expect("range");
    assert_eq!(res.status().as_u16(), 206, "{seg_name}");
    assert_eq!(
        res.headers()["content-range"].to_str().expect("header"),
        format!("bytes 100-199/{}", seg.len())
    );
    assert_eq!(res.bytes().await.expect("bytes").as_ref(), &seg[100..200]);

    // Retention: the rest is purged from the bucket with tombstones; the case's footage
    // stays, and the bucket itself refuses to delete it (legal hold).
    let (st, v) = f.post("/v1/retention/run", json!({})).await;
    assert_eq!(st, 200, "{v}");
    assert!(v["purged"].as_u64().expect("purged") > 0, "{v}");
    let direct = kordon_store::blob::S3BlobStore::open(s3, dir.path().join("spool-direct"), 0)
        .await
        .expect("direct client");
    let held = kordon_core::Hash::from_hex(&sha).expect("hash");
    let err = direct.purge(&held).await.expect_err("legal hold");
    assert!(
        matches!(err, kordon_store::blob::BlobError::Locked(_)),
        "{err}"
    );
    assert!(direct.contains(&held).await);
    let again = dir.path().join("C-S3-again.zip");
    f.export("C-S3", &again).await;
    let (code, out) = verify(&[again.to_str().expect("utf8")]);
    assert_eq!(code, 3, "held footage survived retention: {out}");
}
