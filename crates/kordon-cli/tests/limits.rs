//! No outsider can stop ingest or the log by holding connections open (issue 15): 20,000
//! idle connections from two other hosts (separate processes, 127.0.0.2 and 127.0.0.3),
//! a request head sent a byte at a time, a refused upload whose body trickles in, and an
//! upload slower than the minimum rate — while a camera keeps uploading, `/readyz` stays
//! 200, the server's file descriptors stay bounded, and afterwards everything works.

mod common;

use std::io::{BufRead as _, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use kordon_store::meta::testing::TestCamera;
use serde_json::Value;

const ATTACKER: &str = r#"
import socket, sys
src, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
held = []
for i in range(n):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    held.append(s)
print(len(held), flush=True)
sys.stdin.read()
"#;

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

async fn ready(http: &reqwest::Client, url: &str) -> u16 {
    http.get(format!("{url}/readyz"))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

/// Sends `head` and then `body` a byte every `every`, until the server answers or closes;
/// answers what it said and how long that took.
fn trickle(addr: &str, head: &str, body: &[u8], every: Duration) -> (String, Duration) {
    let start = Instant::now();
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.write_all(head.as_bytes()).expect("head");
    s.set_read_timeout(Some(every)).expect("timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    for b in body.iter().chain(std::iter::repeat(&b'x')) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
        if s.write_all(std::slice::from_ref(b)).is_err()
            || start.elapsed() > Duration::from_secs(60)
        {
            let _ = s.read_to_end(&mut out);
            break;
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_clients_cannot_stop_ingest_or_the_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let (server, url) = common::serve(
        data.to_str().expect("utf-8"),
        &[
            ("KORDON_HEADER_READ_TIMEOUT_S", "2".into()),
            ("KORDON_UPLOAD_IDLE_TIMEOUT_S", "2".into()),
            ("KORDON_UPLOAD_MIN_BYTES_PER_S", "1000".into()),
            ("KORDON_MAX_CONNECTIONS_PER_PEER", "64".into()),
        ],
    );
    let pid = server.0.id();
    let addr = url.trim_start_matches("http://").to_owned();
    let port: u16 = addr
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let http = reqwest::Client::new();
    let admin = common::admin_token(&data);
    let mut cam = TestCamera::new("cam-limits-01");
    common::enroll(&http, &url, &admin, &cam).await;
    assert_eq!(common::upload(&http, &url, &mut cam, 0).await.0, 201);
    let baseline = open_fds(pid);

    // 20,000 idle connections from two other hosts.
    let mut attackers: Vec<_> = ["127.0.0.2", "127.0.0.3"]
        .iter()
        .map(|src| {
            Command::new("python3")
                .args(["-c", ATTACKER, src, &port.to_string(), "10000"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("python3")
        })
        .collect();
    for a in &mut attackers {
        let mut line = String::new();
        std::io::BufReader::new(a.stdout.as_mut().expect("stdout"))
            .read_line(&mut line)
            .expect("attacker");
        assert_eq!(line.trim(), "10000", "the attacker holds its connections");
    }
    let held = open_fds(pid);
    assert!(
        held < baseline + 2 * 64 + 32,
        "the server holds at most 64 per host: {held} descriptors (was {baseline})"
    );
    assert_eq!(
        ready(&http, &url).await,
        200,
        "ready while 20,000 sockets wait"
    );
    for i in 1..4 {
        let (st, v) = common::upload(&http, &url, &mut cam, i).await;
        assert_eq!(st, 201, "ingest goes on: {v}");
    }
    // The 128 it took are closed once their head is late.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(
        open_fds(pid) <= baseline + 8,
        "idle connections closed: {}",
        open_fds(pid)
    );

    // A request head a byte every 0.3 s: cut off at the header timeout.
    let (said, took) = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || {
            trickle(
                &addr,
                "G",
                b"ET /readyz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                Duration::from_millis(300),
            )
        }
    })
    .await
    .expect("slow head");
    assert!(
        !said.contains("200 OK") && took < Duration::from_secs(6),
        "{said:?} after {took:?}"
    );

    // A refused upload (unknown camera) whose body trickles: answered within seconds.
    let mut stranger = TestCamera::new("cam-not-enrolled");
    let link = stranger.segment_over(0, 10_000, &[7u8; 1000]);
    let head = |link: &kordon_core::link::Link, len: usize| {
        let b = link.body();
        format!(
            "PUT /v1/devices/{}/segments/{} HTTP/1.1\r\nHost: x\r\nKordon-Manifest: {}\r\nContent-Length: {len}\r\n\r\n",
            b.device(),
            b.seq(),
            base64::engine::general_purpose::STANDARD.encode(link.bytes()),
        )
    };
    let (said, took) = tokio::task::spawn_blocking({
        let (addr, h) = (addr.clone(), head(&link, 1000));
        move || trickle(&addr, &h, &[7u8; 1000], Duration::from_millis(1500))
    })
    .await
    .expect("trickled refusal");
    assert!(said.starts_with("HTTP/1.1 4"), "{said}");
    assert!(took < Duration::from_secs(15), "answered after {took:?}");

    // An accepted upload slower than 1,000 bytes/s: refused once it has run 2 s.
    let body = vec![9u8; 5000];
    let now = kordon_store::now_ms() - 1_800_000;
    let link = cam.segment_over(now, now + 10_000, &body);
    let (said, took) = tokio::task::spawn_blocking({
        let (addr, h) = (addr.clone(), head(&link, body.len()));
        move || trickle(&addr, &h, &body, Duration::from_millis(200))
    })
    .await
    .expect("slow upload");
    assert!(
        said.starts_with("HTTP/1.1 400")
            && said.contains("upload_interrupted")
            && said.contains("slower than 1000 bytes/s"),
        "{said}"
    );
    assert!(took < Duration::from_secs(10), "refused after {took:?}");

    // The attackers leave; everything still works, nothing was lost.
    for mut a in attackers {
        drop(a.stdin.take());
        let _ = a.wait();
    }
    assert_eq!(ready(&http, &url).await, 200);
    let (st, v) = common::upload(&http, &url, &mut cam, 10).await;
    assert_eq!(st, 201, "{v}");
    let r = http
        .get(format!("{url}/v1/devices/{}/continuity", cam.device))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("continuity");
    let c: Value = r.json().await.expect("continuity json");
    assert_eq!(c["segments"], 5, "every accepted upload stored: {c}");
}
