//! `kordon-verify --log`: the whole log audited from its tiles, from a folder (offline,
//! the log key given) and from a server, as a court's or an auditor's copy would; a
//! changed byte in a tile or bundle is found and named.

use std::process::Command;

fn verify(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kordon-verify"))
        .args(args)
        .output()
        .expect("run kordon-verify");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_folder_and_a_server_are_audited_and_a_changed_byte_is_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let config = kordon_server::config::Config {
        data: data.clone(),
        ..Default::default()
    };
    let app = kordon_server::open(config).await.expect("open");
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(kordon_server::run(l, app.clone(), std::future::pending()));
    let token = std::fs::read_to_string(data.join("keys/admin-token"))
        .expect("token")
        .trim()
        .to_owned();
    let http = reqwest::Client::new();
    // 300 custody events: a full entry bundle and hash tile, and a partial one.
    for i in 0..300 {
        let res = http
            .post(format!("{url}/v1/devices/cam-{i}/enroll-token"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 201);
    }
    let key = app.log.verifier().to_string();
    let folder = data.to_str().expect("utf8");

    let (code, out) = verify(&["--log", folder, "--log-key", &key]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("at size 300: 300 entries"), "{out}");
    assert!(out.contains("OK: every tile"), "{out}");

    let (code, out) = verify(&["--log", &url, "--log-key", &key]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("at size 300"), "{out}");

    // Without the key a folder cannot be trusted: a usage error, not a verdict.
    let (code, out) = verify(&["--log", folder]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--log-key is required"), "{out}");
    // Another log's key: the checkpoint does not verify.
    let other = kordon_core::note::SignerKey::ed25519_from_seed("kordon.local/log", [5; 32])
        .expect("key")
        .verifier()
        .to_string();
    let (code, out) = verify(&["--log", folder, "--log-key", &other]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("checkpoint does not verify"), "{out}");

    // One byte of the full hash tile changed: that tile is named, the verdict fails.
    let tile = data.join("log/tile/0/000");
    let mut bytes = std::fs::read(&tile).expect("tile");
    bytes[40] ^= 1;
    std::fs::write(&tile, bytes).expect("write");
    let (code, out) = verify(&["--log", folder, "--log-key", &key]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL tile/0/000: does not match the hashes of the entries"),
        "{out}"
    );
}
