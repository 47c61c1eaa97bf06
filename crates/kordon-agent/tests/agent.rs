//! The agent as a real process against a real server on 127.0.0.1, with real ffmpeg:
//! recording from a test pattern and from a file, kill -9 and restart, the server away
//! and back, and dock import of unsigned files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use kordon_server::config::Config;
use serde_json::Value;

struct Server {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    url: String,
    data: PathBuf,
}

impl Server {
    async fn start(data: &Path, port: u16) -> Server {
        let config = Config {
            data: data.to_path_buf(),
            listen: ([127, 0, 0, 1], port).into(),
            ..Config::default()
        };
        let app: Arc<kordon_server::App> = kordon_server::open(config).await.expect("open server");
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            kordon_server::run(listener, app, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        Server {
            stop: Some(tx),
            task,
            url: format!("http://127.0.0.1:{port}"),
            data: data.to_path_buf(),
        }
    }

    async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = self.task.await;
    }

    async fn enroll_token(&self, device: &str) -> String {
        let admin =
            std::fs::read_to_string(self.data.join("keys/admin-token")).expect("admin token");
        let v: Value = reqwest::Client::new()
            .post(format!("{}/v1/devices/{device}/enroll-token", self.url))
            .bearer_auth(admin.trim())
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        v["token"].as_str().expect("token").to_owned()
    }

    async fn continuity(&self, device: &str) -> Value {
        let admin =
            std::fs::read_to_string(self.data.join("keys/admin-token")).expect("admin token");
        reqwest::Client::new()
            .get(format!("{}/v1/devices/{device}/continuity", self.url))
            .bearer_auth(admin.trim())
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json")
    }
}

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn agent(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kordon-agent"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("agent");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn init(s: &Server, dir: &Path, device: &str, extra: &[&str]) {
    let token = s.enroll_token(device).await;
    let mut args = vec![
        "init", "--server", &s.url, "--token", &token, "--device", device,
    ];
    args.extend_from_slice(extra);
    let (code, out) = agent(dir, &args);
    assert_eq!(code, 0, "{out}");
}

fn kinds(c: &Value) -> Vec<String> {
    c["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["kind"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_a_test_pattern_and_a_file_into_a_clean_chain() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start(&tmp.path().join("data"), port()).await;
    let dir = tmp.path().join("agent");
    init(&s, &dir, "cam-rec-01", &[]).await;
    let (code, out) = agent(
        &dir,
        &[
            "record",
            "--segment-seconds",
            "2",
            "--duration",
            "5",
            "--size",
            "320x240",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let c = s.continuity("cam-rec-01").await;
    assert!(c["segments"].as_u64().expect("n") >= 2, "{c}");
    assert_eq!(kinds(&c), Vec::<String>::new(), "{c}");
    // The camera said how it is with every upload; its test pattern has a sound track (the
    // last segment, cut by the stop within a second, may hold no audible sample).
    assert!(
        c["health"]["firmware"]
            .as_str()
            .is_some_and(|f| f.starts_with("kordon-agent/")),
        "{c}"
    );
    assert!(
        matches!(c["health"]["audio"].as_str(), Some("present" | "silent")),
        "{c}"
    );
    assert_eq!(
        c["health"]["backlog_links"].as_i64().map(|n| n >= 0),
        Some(true),
        "{c}"
    );
    let stops: Vec<&str> = c["stops"]
        .as_array()
        .expect("stops")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert_eq!(stops, vec!["record-stop", "power-off"]);

    // A file source: ffmpeg reads it at its own pace and ends with it.
    let file = tmp.path().join("source.mp4");
    assert!(
        Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=320x240:rate=10",
                "-t",
                "4",
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-y"
            ])
            .arg(&file)
            .status()
            .expect("ffmpeg")
            .success()
    );
    let src = format!("file:{}", file.display());
    let (code, out) = agent(
        &dir,
        &["record", "--source", &src, "--segment-seconds", "2"],
    );
    assert_eq!(code, 0, "{out}");
    let c2 = s.continuity("cam-rec-01").await;
    assert!(
        c2["segments"].as_u64() >= Some(c["segments"].as_u64().expect("n") + 2),
        "{c2}"
    );
    assert_eq!(kinds(&c2), Vec::<String>::new(), "{c2}");
    assert_eq!(c2["head"], c2["last_link"]);
    let (_, status) = agent(&dir, &["status"]);
    assert!(status.contains("upload backlog: 0 links"), "{status}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_agent_restarts_without_reusing_numbers_or_losing_footage() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start(&tmp.path().join("data"), port()).await;
    let dir = tmp.path().join("agent");
    init(&s, &dir, "cam-kill-01", &[]).await;
    // Power loss: the agent and its ffmpeg die together (one process group).
    let mut child = {
        use std::os::unix::process::CommandExt as _;
        Command::new(env!("CARGO_BIN_EXE_kordon-agent"))
            .arg("--dir")
            .arg(&dir)
            .args([
                "record",
                "--segment-seconds",
                "1",
                "--size",
                "160x120",
                "--fps",
                "10",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("agent")
    };
    // At a random point, 2.5 to 5.5 s into the recording.
    let mut r = [0u8; 2];
    getrandom::fill(&mut r).expect("random");
    tokio::time::sleep(Duration::from_millis(
        2500 + u64::from(u16::from_le_bytes(r)) % 3000,
    ))
    .await;
    let pgid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .status()
            .expect("kill")
            .success()
    );
    let _ = child.wait();
    let before = s.continuity("cam-kill-01").await;

    let (code, out) = agent(
        &dir,
        &[
            "record",
            "--segment-seconds",
            "1",
            "--duration",
            "3",
            "--size",
            "160x120",
            "--fps",
            "10",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (code, uploaded) = agent(&dir, &["upload", "--wait"]);
    assert_eq!(code, 0, "{uploaded}");
    let after = s.continuity("cam-kill-01").await;
    let k = kinds(&after);
    // On failure, say what the spool holds and what the upload said.
    let spool = |sub: &str| -> Vec<String> {
        std::fs::read_dir(dir.join("spool").join(sub))
            .map(|d| {
                d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(
        !k.contains(&"equivocation".to_owned())
            && !k.contains(&"missing".to_owned())
            && !k.contains(&"broken_prev".to_owned()),
        "{after}\nbefore the restart: {before}\nrecord: {out}\nupload: {uploaded}\nrejected: {:?}\npending: {:?}",
        spool("rejected"),
        spool("pending")
    );
    assert!(
        after["segments"].as_u64() > before["segments"].as_u64(),
        "{after}"
    );
    assert_eq!(after["head"], after["last_link"], "{after}");
    let stops: Vec<&str> = after["stops"]
        .as_array()
        .expect("stops")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert!(
        stops.contains(&"recovered"),
        "the interruption is a signed event: {after}"
    );
    assert!(
        std::fs::read_dir(dir.join("spool/recovered"))
            .expect("recovered")
            .count()
            >= 1,
        "the partial segment is kept"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn footage_waits_in_the_spool_while_the_server_is_away() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let p = port();
    let s = Server::start(&data, p).await;
    let dir = tmp.path().join("agent");
    init(&s, &dir, "cam-away-01", &["--p256"]).await;
    s.stop().await;

    let (code, out) = agent(
        &dir,
        &[
            "record",
            "--segment-seconds",
            "1",
            "--duration",
            "3",
            "--size",
            "160x120",
            "--fps",
            "10",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let (_, status) = agent(&dir, &["status"]);
    assert!(status.contains("last contact: unreachable"), "{status}");
    assert!(!status.contains("upload backlog: 0 links"), "{status}");
    let (code, _) = agent(&dir, &["upload"]);
    assert_eq!(code, 3, "nothing confirmed while away");

    let s = Server::start(&data, p).await;
    let (code, out) = agent(&dir, &["upload", "--wait"]);
    assert_eq!(code, 0, "{out}");
    let c = s.continuity("cam-away-01").await;
    assert_eq!(kinds(&c), Vec::<String>::new(), "{c}");
    assert_eq!(c["head"], c["last_link"]);
    assert!(c["segments"].as_u64() >= Some(2), "{c}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dock_import_signs_unsigned_files_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start(&tmp.path().join("data"), port()).await;
    let cam = tmp.path().join("camera");
    std::fs::create_dir_all(&cam).expect("mkdir");
    for (i, stamp) in [
        (0, Some("2026-11-28T07:00:00Z")),
        (1, Some("2026-11-28T07:00:02Z")),
        (2, None),
    ] {
        let mut cmd = Command::new("ffmpeg");
        cmd.args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size=160x120:rate=10:duration=2,hue=h={}", i * 90),
        ]);
        cmd.args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-y"]);
        if let Some(t) = stamp {
            cmd.args(["-metadata", &format!("creation_time={t}")]);
        }
        assert!(
            cmd.arg(cam.join(format!("VID{i:04}.MP4")))
                .status()
                .expect("ffmpeg")
                .success()
        );
    }
    let dir = tmp.path().join("dock");
    init(&s, &dir, "legacy-cam-7", &["--dock", "dock-kyiv-01"]).await;
    let (code, out) = agent(&dir, &["dock", "--from", cam.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("imported 3 file(s) (1 without a timestamp in the file), skipped 0"),
        "{out}"
    );
    let (code, out) = agent(&dir, &["dock", "--from", cam.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("imported 0 file(s) (0 without a timestamp in the file), skipped 3"),
        "{out}"
    );

    let c = s.continuity("legacy-cam-7").await;
    assert_eq!(c["segments"], 3, "{c}");
    // Signed by the dock, attested as dock; the silence before the unstamped file is a gap
    // the camera cannot explain, and nothing else is wrong.
    let k = kinds(&c);
    assert!(k.iter().all(|k| k == "unexplained_gap"), "{c}");
    let (first, _) = reqwest::get(format!("{}/log/checkpoint", s.url))
        .await
        .map(|r| (r.status(), ()))
        .expect("get");
    assert!(first.is_success());
    let body = std::fs::read_dir(dir.join("spool/sent"))
        .expect("sent")
        .next()
        .expect("one")
        .expect("entry")
        .path();
    let text = std::fs::read_to_string(body).expect("note");
    assert!(
        text.contains("attested: dock") && text.contains("— dock-kyiv-01 "),
        "{text}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn low_storage_and_battery_are_signed_events_and_nothing_is_deleted() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start(&tmp.path().join("data"), port()).await;
    let dir = tmp.path().join("agent");
    init(&s, &dir, "cam-health-01", &[]).await;
    let ps = tmp.path().join("power_supply/BAT0");
    std::fs::create_dir_all(&ps).expect("mkdir");
    std::fs::write(ps.join("type"), "Battery\n").expect("type");
    std::fs::write(ps.join("capacity"), "9\n").expect("capacity");
    let dock = tmp.path().join("dock-signal");
    std::fs::write(&dock, "0\n").expect("dock signal");
    let ps_dir = tmp.path().join("power_supply");
    let args = [
        "record",
        "--segment-seconds",
        "1",
        "--duration",
        "3",
        "--size",
        "160x120",
        "--fps",
        "10",
        "--min-free-mib",
        "1000000000",
        "--power-supply",
        ps_dir.to_str().expect("utf8"),
        "--dock-file",
        dock.to_str().expect("utf8"),
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_kordon-agent"))
        .arg("--dir")
        .arg(&dir)
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .expect("agent");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::fs::write(&dock, "1\n").expect("docked");
    assert!(child.wait().expect("wait").success());
    let sent: Vec<String> = std::fs::read_dir(dir.join("spool/sent"))
        .expect("sent")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("note"))
        .collect();
    assert_eq!(
        sent.iter()
            .filter(|n| n.contains("kind: storage-full"))
            .count(),
        1,
        "raised once"
    );
    assert_eq!(
        sent.iter()
            .filter(|n| n.contains("kind: battery-low\ndetail: battery at 9%"))
            .count(),
        1
    );
    assert_eq!(
        sent.iter()
            .filter(|n| n.contains("kind: docked\ndetail: dock signal"))
            .count(),
        1,
        "the dock signal is an event"
    );
    let c = s.continuity("cam-health-01").await;
    assert!(c["segments"].as_u64() >= Some(2), "recording went on: {c}");
    assert_eq!(kinds(&c), Vec::<String>::new(), "{c}");
    s.stop().await;
}

/// Runs ffmpeg over `file` with `args` and answers its standard output and error.
fn ffmpeg_text(file: &Path, args: &[&str]) -> String {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(file)
        .args(args)
        .output()
        .expect("ffmpeg");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Times (s) of the frames brighter than mid-grey: the flashes.
fn flashes(file: &Path) -> Vec<f64> {
    let text = ffmpeg_text(
        file,
        &[
            "-an",
            "-vf",
            "signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-",
            "-f",
            "null",
            "-",
        ],
    );
    let mut out = Vec::new();
    let mut t = None;
    for l in text.lines() {
        if let Some(p) = l.split("pts_time:").nth(1) {
            t = p.trim().parse::<f64>().ok();
        } else if let Some(y) = l.strip_prefix("lavfi.signalstats.YAVG=")
            && y.trim().parse::<f64>().is_ok_and(|y| y > 100.0)
            && let Some(t) = t
        {
            out.push(t);
        }
    }
    out
}

/// Times (s) where a beep starts: the ends of silences.
fn beeps(file: &Path) -> Vec<f64> {
    ffmpeg_text(
        file,
        &[
            "-vn",
            "-af",
            "silencedetect=n=-30dB:d=0.05",
            "-f",
            "null",
            "-",
        ],
    )
    .lines()
    .filter_map(|l| {
        l.split("silence_end:")
            .nth(1)?
            .split('|')
            .next()?
            .trim()
            .parse()
            .ok()
    })
    .collect()
}

/// The segments in the spool, oldest first, and their manifests' text.
fn spooled(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut segs: Vec<(u64, PathBuf)> = std::fs::read_dir(dir.join("spool/pending"))
        .expect("pending")
        .filter_map(|e| {
            let p = e.ok()?.path();
            let seq = p.file_stem()?.to_str()?.parse().ok()?;
            (p.extension()? == "seg").then_some((seq, p))
        })
        .collect();
    segs.sort_unstable();
    segs.into_iter()
        .map(|(_, p)| {
            let note = std::fs::read_to_string(p.with_extension("note")).expect("note");
            (p, note)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_synchronised_sound_and_says_when_there_is_none() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start(&tmp.path().join("data"), port()).await;
    // A clapperboard: a white frame and a 1 kHz beep at every whole second from 1 s.
    let src = tmp.path().join("clap.mp4");
    assert!(
        Command::new("ffmpeg")
            .args(["-v", "error", "-f", "lavfi", "-i"])
            .arg("color=c=black:s=320x240:r=25:d=7,drawbox=c=white:t=fill:enable='lt(mod(t+0.02,1),0.04)*gte(t,0.5)'")
            .args(["-f", "lavfi", "-i"])
            .arg("aevalsrc='if(lt(mod(t,1),0.1)*gte(t,0.5),sin(2*PI*1000*t),0)':s=48000:d=7")
            .args(["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-y"])
            .arg(&src)
            .status()
            .expect("ffmpeg")
            .success()
    );
    let dir = tmp.path().join("agent");
    init(&s, &dir, "cam-av-01", &[]).await;
    let source = format!("file:{}", src.display());
    let (code, out) = agent(
        &dir,
        &[
            "record",
            "--source",
            &source,
            "--segment-seconds",
            "2",
            "--no-upload",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let segs = spooled(&dir);
    assert!(segs.len() >= 3, "{segs:?}");
    for (_, note) in &segs {
        assert!(note.starts_with("kordon.segment/v2\n"), "{note}");
        assert!(note.contains("\naudio: present\n"), "{note}");
    }
    // Joined as an evidence package joins them, every flash has its beep within 40 ms.
    let list = tmp.path().join("list.txt");
    std::fs::write(
        &list,
        segs.iter()
            .map(|(p, _)| format!("file '{}'\n", p.display()))
            .collect::<String>(),
    )
    .expect("list");
    let joined = tmp.path().join("joined.mp4");
    let args = kordon_core::derive::concat_copy_args(
        list.to_str().expect("utf8"),
        joined.to_str().expect("utf8"),
    );
    assert!(
        Command::new("ffmpeg")
            .args(args)
            .status()
            .expect("ffmpeg")
            .success()
    );
    let (f, b) = (flashes(&joined), beeps(&joined));
    assert!(f.len() >= 5, "flashes {f:?}");
    for t in &f {
        let d = b
            .iter()
            .map(|x| x - t)
            .min_by(|x, y| x.abs().total_cmp(&y.abs()))
            .unwrap_or(f64::MAX);
        assert!(
            d.abs() <= 0.040,
            "A/V offset {d:+.3} s at {t} s; flashes {f:?} beeps {b:?}"
        );
    }

    // A camera without a microphone says so in every manifest, and its files have no track.
    let mute = tmp.path().join("mute");
    init(&s, &mute, "cam-av-02", &[]).await;
    let (code, out) = agent(
        &mute,
        &[
            "record",
            "--source",
            &source,
            "--segment-seconds",
            "2",
            "--no-upload",
            "--audio",
            "none",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let segs = spooled(&mute);
    assert!(!segs.is_empty());
    for (file, note) in &segs {
        assert!(note.contains("\naudio: none\n"), "{note}");
        assert!(!ffmpeg_text(file, &[]).contains(": Audio:"));
    }
    let (code, out) = agent(&mute, &["record", "--audio", "loud"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("\"loud\": expected source, alsa:<device>, pulse:<device> or none"),
        "{out}"
    );
    s.stop().await;
}
