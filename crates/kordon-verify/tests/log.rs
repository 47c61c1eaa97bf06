//! `kordon-verify --log`: the whole log audited from its tiles, from a folder (offline,
//! the log key given) and from a server, as a court's or an auditor's copy would; a
//! changed byte in a tile or bundle is found and named; an audit goes on from the state
//! the last one saved and reads only what the log added.

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
    let (app, url, token) = server(&data, None).await;
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
    assert!(
        out.contains("at size 300 (from 0): 300 entries read"),
        "{out}"
    );
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

/// A server on a fresh data folder (with `keys` copied in first, if given), its URL and
/// its admin token.
async fn server(
    data: &std::path::Path,
    keys: Option<&std::path::Path>,
) -> (std::sync::Arc<kordon_server::App>, String, String) {
    if let Some(keys) = keys {
        std::fs::create_dir_all(data.join("keys")).expect("keys dir");
        for f in std::fs::read_dir(keys).expect("keys") {
            let f = f.expect("entry").path();
            std::fs::copy(&f, data.join("keys").join(f.file_name().expect("name"))).expect("copy");
        }
    }
    let config = kordon_server::config::Config {
        data: data.to_path_buf(),
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
    (app, url, token)
}

/// Uploads `links` (segments with their bytes).
async fn upload(http: &reqwest::Client, url: &str, links: &[(kordon_core::link::Link, Vec<u8>)]) {
    for (link, bytes) in links {
        let len = bytes.len() as u64;
        let r = kordon_agent::api::link_request(http, url, link, Some((bytes.clone().into(), len)))
            .send()
            .await
            .expect("upload");
        assert!(r.status().is_success(), "upload: {}", r.status());
    }
}

/// The next `n` segments of `cam`, 10 s each from `t`.
fn segments(
    cam: &mut kordon_store::meta::testing::TestCamera,
    t: &mut i64,
    n: usize,
) -> Vec<(kordon_core::link::Link, Vec<u8>)> {
    (0..n)
        .map(|_| {
            let bytes = format!("{} at {t}", cam.device).into_bytes();
            let link = cam.segment_over(*t, *t + 10_000, &bytes);
            *t += 10_000;
            (link, bytes)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_goes_on_from_its_saved_state_and_reads_only_what_was_added() {
    use kordon_store::meta::testing::TestCamera;
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let (app, url, token) = server(&data, None).await;
    let http = reqwest::Client::new();
    // Each camera records without a break from a day ago.
    let mut times = [kordon_store::now_ms() - 86_400_000; 2];
    let mut cams = [TestCamera::new("cam-s1"), TestCamera::new("cam-s2")];
    for cam in &cams {
        let base = format!("{url}/v1/devices/{}", cam.device);
        let r: serde_json::Value = http
            .post(format!("{base}/enroll-token"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        let r = http
            .post(format!("{url}/v1/enroll"))
            .json(
                &serde_json::json!({"device": cam.device, "token": r["token"], "key": cam.vkey()}),
            )
            .send()
            .await
            .expect("enroll");
        assert_eq!(r.status(), 201);
    }
    for (cam, t) in cams.iter_mut().zip(&mut times) {
        let links = segments(cam, t, 150);
        upload(&http, &url, &links).await;
    }
    let key = app.log.verifier().to_string();
    let folder = data.to_str().expect("utf8");
    let state = dir.path().join("audit.state");
    let st = state.to_str().expect("utf8");
    let audit = |extra: &[&str]| {
        let mut args = vec!["--log", folder, "--log-key", &key];
        args.extend_from_slice(extra);
        verify(&args)
    };

    // The first run with a new state file audits the whole log: 2 enrollment tokens, 2
    // enrollments, 300 links.
    let (code, out) = audit(&["--state", st]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("at size 304 (from 0): 304 entries read"),
        "{out}"
    );
    // 50 more links: only they are read, the root is recomputed from the saved edge.
    for (cam, t) in cams.iter_mut().zip(&mut times) {
        let links = segments(cam, t, 25);
        upload(&http, &url, &links).await;
    }
    let (code, out) = audit(&["--state", st]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("at size 354 (from 304): 50 entries read, 2 devices"),
        "{out}"
    );
    // Nothing new: nothing read, still holds.
    let (code, out) = audit(&["--state", st]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(from 354): 0 entries read"), "{out}");
    // What the runs saved is exactly what one audit of the whole log saves.
    let whole = dir.path().join("whole.state");
    let (code, out) = audit(&["--state", whole.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        std::fs::read_to_string(&state).expect("state"),
        std::fs::read_to_string(&whole).expect("whole state")
    );

    // A link arrives before the one numbered below it: the run after reports the hole
    // (a finding about the footage; the state still goes on), the next one the late link.
    let mut two = segments(&mut cams[0], &mut times[0], 2);
    let late = two.remove(0);
    upload(&http, &url, &two).await;
    let (code, out) = audit(&["--state", st]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL device cam-s1: Missing"), "{out}");
    upload(&http, &url, &[late]).await;
    let (code, out) = audit(&["--state", st]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 late"), "{out}");
    let (code, out) = audit(&[]);
    assert_eq!(code, 0, "a whole audit places the late link: {out}");

    // An entry audited before, changed in the bundle the next run reads again (the last,
    // partial one): named, and the state is not advanced.
    let saved = std::fs::read_to_string(&state).expect("state");
    let bundle = data.join("log/tile/entries/001.p/100");
    let original = std::fs::read(&bundle).expect("bundle");
    let mut bytes = original.clone();
    bytes[30] ^= 1;
    std::fs::write(&bundle, &bytes).expect("write");
    let (code, out) = audit(&["--state", st]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL entry 256: not the entry audited before at size 356"),
        "{out}"
    );
    assert_eq!(std::fs::read_to_string(&state).expect("state"), saved);
    std::fs::write(&bundle, &original).expect("restore");

    // Another log under the same key (a log rewritten and re-signed): it does not extend
    // what was audited, whatever its size.
    let other = dir.path().join("other");
    let (_, url2, token2) = server(&other, Some(&data.join("keys"))).await;
    for i in 0..400 {
        let r = http
            .post(format!("{url2}/v1/devices/cam-r{i}/enroll-token"))
            .bearer_auth(&token2)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 201);
    }
    let (code, out) = verify(&[
        "--log",
        other.to_str().expect("utf8"),
        "--log-key",
        &key,
        "--state",
        st,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not extend what was audited"), "{out}");
    assert_eq!(std::fs::read_to_string(&state).expect("state"), saved);
}
