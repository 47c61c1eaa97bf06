//! The agent's own cost while recording, against ffmpeg's in the same run: the agent
//! records a 1080p file source (`-re`, real time) into 10 s segments; the CPU time of the
//! agent process (hashing, signing, spooling, polling) is compared with that of its
//! ffmpeg child (decoding and H.264 encoding). Then upload throughput from the spool to a
//! local server. Run: `cargo bench -p kordon-agent --bench record`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn cpu_seconds(pid: u32) -> f64 {
    // utime + stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100/s).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("rt");
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tmp");
    let root = tmp.path();
    let seconds = 40;
    let source = root.join("source-1080p.mp4");
    eprintln!("making a {seconds} s 1080p30 source file ...");
    assert!(
        Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                &format!("testsrc2=size=1920x1080:rate=30:duration={seconds}")
            ])
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-y"
            ])
            .arg(&source)
            .status()
            .expect("ffmpeg")
            .success()
    );

    rt.block_on(async {
        let data = root.join("data");
        let config = kordon_server::config::Config { data: data.clone(), ..Default::default() };
        let app = kordon_server::open(config).await.expect("server");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(kordon_server::run(listener, app, std::future::pending()));
        let admin = std::fs::read_to_string(data.join("keys/admin-token")).expect("token");
        let token: serde_json::Value = reqwest::Client::new()
            .post(format!("{url}/v1/devices/bench-cam/enroll-token"))
            .bearer_auth(admin.trim())
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json");
        let agent_dir = root.join("agent");
        let bin = env!("CARGO_BIN_EXE_kordon-agent");
        let st = Command::new(bin)
            .arg("--dir")
            .arg(&agent_dir)
            .args(["init", "--server", &url, "--token", token["token"].as_str().expect("token"), "--device", "bench-cam"])
            .output()
            .expect("init");
        assert!(st.status.success());

        // Record without uploading, measuring the agent and ffmpeg separately.
        let mut child = Command::new(bin)
            .arg("--dir")
            .arg(&agent_dir)
            .args(["record", "--source", &format!("file:{}", source.display()), "--segment-seconds", "10", "--no-upload"])
            .spawn()
            .expect("record");
        let pid = child.id();
        let (mut agent_cpu, mut peak_rss) = (0.0f64, 0u64);
        // CPU of every child seen: the recording ffmpeg is the largest; the others (the
        // brightness probe per segment) are the agent's own cost.
        let mut child_cpu: std::collections::HashMap<u32, f64> = std::collections::HashMap::new();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            agent_cpu = agent_cpu.max(cpu_seconds(pid));
            for c in children(pid) {
                let v = cpu_seconds(c);
                let e = child_cpu.entry(c).or_insert(0.0);
                *e = e.max(v);
            }
            let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
                .unwrap_or(0);
            peak_rss = peak_rss.max(rss);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let ffmpeg_cpu = child_cpu.values().copied().fold(0.0, f64::max);
        let probes: f64 = child_cpu.values().sum::<f64>() - ffmpeg_cpu;
        let agent_cpu = agent_cpu + probes;
        println!(
            "recording {seconds} s of 1080p30 from a file: agent {agent_cpu:.2} s CPU (incl. {probes:.2} s of brightness probes), ffmpeg {ffmpeg_cpu:.2} s CPU -> agent adds {:.2} % (target < 2 %); agent peak RSS {} MiB",
            100.0 * agent_cpu / ffmpeg_cpu.max(0.01),
            peak_rss / 1024
        );

        let spooled: u64 = std::fs::read_dir(agent_dir.join("spool/pending"))
            .expect("pending")
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        let start = Instant::now();
        let out = Command::new(bin).arg("--dir").arg(&agent_dir).args(["upload", "--wait"]).output().expect("upload");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let secs = start.elapsed().as_secs_f64();
        println!(
            "upload from the spool: {:.1} MiB in {secs:.2} s = {:.0} MiB/s (server ingest measured by kordon-cli's bench: ~487 MiB/s with 4 streams)",
            spooled as f64 / 1048576.0,
            spooled as f64 / 1048576.0 / secs
        );
        assert!(Path::new(&agent_dir).exists());
    });
}
