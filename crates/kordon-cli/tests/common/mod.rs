//! Helpers shared by the tests that run the `kordon` binary as its own process.

#![allow(dead_code)]

use std::process::{Child, Command};
use std::time::Duration;

/// A child process killed (and reaped) when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port on 127.0.0.1.
pub fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Waits until something listens on `port`.
pub fn wait_for(port: u16) {
    let up = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "nothing listens on {port}");
}

/// Runs a command; answers its exit code and its stdout and stderr together.
pub fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("run");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The `kordon` binary with `args`: exit code and output.
pub fn kordon(args: &[&str]) -> (i32, String) {
    run(Command::new(env!("CARGO_BIN_EXE_kordon")).args(args))
}

/// `kordon serve` on a free port for `data`, with `env`; answers the process and its URL.
pub fn serve(data: &str, env: &[(&str, String)]) -> (Killed, String) {
    let p = port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kordon"));
    cmd.args([
        "serve",
        "--data",
        data,
        "--listen",
        &format!("127.0.0.1:{p}"),
    ])
    .env("RUST_LOG", "warn")
    .stdout(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = Killed(cmd.spawn().expect("serve"));
    wait_for(p);
    (child, format!("http://127.0.0.1:{p}"))
}

/// `kordon demo --no-serve` into `data` with `cameras` cameras for a minute; its output.
pub fn demo(data: &str, cameras: usize, env: &[(&str, String)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kordon"));
    cmd.args([
        "demo",
        "--data",
        data,
        "--listen",
        &format!("127.0.0.1:{}", port()),
        "--cameras",
        &cameras.to_string(),
        "--minutes",
        "1",
        "--no-serve",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (code, out) = run(&mut cmd);
    assert_eq!(code, 0, "{out}");
    out
}

/// The `FAIL` lines of an audit, sorted.
pub fn fails(out: &str) -> Vec<&str> {
    let mut f: Vec<&str> = out.lines().filter(|l| l.starts_with("FAIL")).collect();
    f.sort_unstable();
    f
}

/// The administrator token of a data folder.
pub fn admin_token(data: &std::path::Path) -> String {
    std::fs::read_to_string(data.join("keys/admin-token"))
        .expect("admin token")
        .trim()
        .to_owned()
}

/// Enrolls a test camera with the server at `url`.
pub async fn enroll(
    http: &reqwest::Client,
    url: &str,
    admin: &str,
    cam: &kordon_store::meta::testing::TestCamera,
) {
    let r = http
        .post(format!("{url}/v1/devices/{}/enroll-token", cam.device))
        .bearer_auth(admin)
        .send()
        .await
        .expect("token");
    let v: serde_json::Value = r.json().await.expect("token json");
    let r = http
        .post(format!("{url}/v1/enroll"))
        .json(&serde_json::json!({"device": cam.device, "token": v["token"], "key": cam.vkey()}))
        .send()
        .await
        .expect("enroll");
    assert_eq!(r.status().as_u16(), 201);
}

/// Uploads segment `i` of a test camera (10 s, an hour ago plus `i` × 10 s): status and
/// answer.
pub async fn upload(
    http: &reqwest::Client,
    url: &str,
    cam: &mut kordon_store::meta::testing::TestCamera,
    i: i64,
) -> (u16, serde_json::Value) {
    let now = kordon_store::now_ms() - 3_600_000 + i * 10_000;
    let bytes = format!("segment {i} of {}", cam.device).into_bytes();
    let link = cam.segment_over(now, now + 10_000, &bytes);
    let len = bytes.len() as u64;
    let r = kordon_agent::api::link_request(http, url, &link, Some((bytes.into(), len)))
        .send()
        .await
        .expect("upload");
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// A zip's members by name.
pub type Files = std::collections::BTreeMap<String, Vec<u8>>;

/// Every member of a zip.
pub fn read_zip(p: &std::path::Path) -> Files {
    use std::io::Read as _;
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

/// A zip of these members (stored).
pub fn write_zip(p: &std::path::Path, files: &Files) {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(std::fs::File::create(p).expect("create"));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (n, b) in files {
        w.start_file(n.as_str(), opts).expect("start");
        w.write_all(b).expect("write");
    }
    w.finish().expect("finish");
}
