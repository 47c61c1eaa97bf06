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
