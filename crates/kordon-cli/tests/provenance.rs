//! Provenance that outsiders can check without trusting the customs service.
//!
//! RFC 3161 time on the log (`docs/spec/timestamps.md`), against local time-stamping
//! authorities (`kordon tsa serve`: `openssl ts -reply` behind HTTP, each its own CA): a
//! demo recorded with a trusted TSA and one whose certificate expired; the server keeps
//! only tokens that hold, packages carry them, `kordon-verify` gives the footage's trusted
//! time and refuses a token from an untrusted TSA, one for another checkpoint and one
//! signed with an expired certificate; a TSA that is down stops nothing and its gap shows.
//!
//! Content Credentials (`docs/spec/derived.md`): the demo package's playable file carries
//! a C2PA manifest naming its source segments, which an independent reader (the C2PA
//! project's Python binding, `c2pa-python` from PyPI, installed by `scripts/test`) finds
//! valid, and invalid once one byte of the video is changed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use common::{Files, Killed, port, read_zip, wait_for, write_zip};

/// `kordon tsa serve` in `dir` on `port`; answers the process, its URL and chain.
fn tsa(dir: &Path, name: &str, expired: bool, p: u16) -> (Killed, String, PathBuf) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kordon"));
    cmd.args(["tsa", "serve", "--dir"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{p}"), "--name", name])
        .stdout(std::process::Stdio::null());
    if expired {
        cmd.arg("--expired");
    }
    let k = Killed(cmd.spawn().expect("tsa"));
    wait_for(p);
    (k, format!("http://127.0.0.1:{p}"), dir.join("chain.pem"))
}

fn chain(p: &Path) -> kordon_core::timestamp::TsaChain {
    kordon_core::timestamp::TsaChain::from_pem(&std::fs::read(p).expect("chain")).expect("pem")
}

/// Verifies `pkg` against its own policy (given as trusted) and `tsa`; answers the lines.
fn verify(pkg: &Path, tsa: &[&Path]) -> Vec<String> {
    let policy = String::from_utf8(read_zip(pkg)["policy.txt"].clone()).expect("utf8");
    let chains: Vec<_> = tsa.iter().map(|p| chain(p)).collect();
    kordon_verify::verify_package(
        pkg,
        &kordon_verify::VerifyOptions {
            policy: Some(&policy),
            tsa: &chains,
            threads: 2,
            rederive: true,
        },
    )
    .expect("zip")
    .lines
    .iter()
    .map(ToString::to_string)
    .collect()
}

fn fails(lines: &[String]) -> Vec<&String> {
    lines.iter().filter(|l| l.starts_with("FAIL")).collect()
}

fn tokens(files: &Files, tsa: &str) -> Vec<u64> {
    files
        .keys()
        .filter_map(|n| match kordon_core::timestamp::PackageFile::parse(n) {
            Some(kordon_core::timestamp::PackageFile::Token { size, tsa: t }) if t == tsa => {
                Some(size)
            }
            _ => None,
        })
        .collect()
}

async fn get(url: &str) -> Value {
    reqwest::get(url)
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

async fn metric(url: &str, name: &str) -> Option<f64> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Waits until `pred` holds of the server's token list (at most 30 s).
async fn wait_tokens(url: &str, what: &str, pred: impl Fn(&[Value], u64) -> bool) -> Vec<Value> {
    for _ in 0..300 {
        let size = get(&format!("{url}/v1/log/inclusion?index=0")).await["size"]
            .as_u64()
            .unwrap_or(0);
        let mut all = Vec::new();
        let mut after: Option<u64> = None;
        loop {
            let q = after.map_or(String::new(), |a| format!("&after={a}"));
            let page = get(&format!("{url}/v1/log/timestamps?limit=2{q}")).await;
            all.extend(page["tokens"].as_array().expect("tokens").iter().cloned());
            match page["next"].as_u64() {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        if pred(&all, size) {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn footage_gets_trusted_time_and_every_false_time_stamp_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let a_port = port();
    let a = tsa(&d.join("tsa-a"), "TSA A", false, a_port);
    let (_b, b_url, b_chain) = tsa(&d.join("tsa-b"), "TSA B", true, port());
    let (_c, _, c_chain) = tsa(&d.join("tsa-c"), "TSA C", false, port());
    let (a_url, a_chain) = (a.1.clone(), a.2.clone());
    let mut a_process = Some(a.0);
    let env = vec![
        (
            "KORDON_TSA",
            format!(
                "a={a_url}={},b={b_url}={}",
                a_chain.display(),
                b_chain.display()
            ),
        ),
        ("KORDON_TSA_INTERVAL_S", "1".to_owned()),
    ];
    let data = d.join("data");
    let out = common::demo(data.to_str().expect("utf8"), 2, &env);
    assert!(
        !out.contains("demo, not a trusted time source"),
        "the TSAs named are used: {out}"
    );

    // The demo's server is gone; serve its data with the same TSAs (and a limit on playable
    // files that every range exceeds: its packages have none, the segments stay).
    let mut serve_env = env.clone();
    serve_env.push(("KORDON_DERIVED_MAX_BYTES", "1".to_owned()));
    let (_server, url) = common::serve(data.to_str().expect("utf8"), &serve_env);
    let token = common::admin_token(&data);
    let http = reqwest::Client::new();
    // A token over the whole log as it stands, then an export: the package carries it (the
    // footage's time) and a token over its own checkpoint.
    let stamped = wait_tokens(&url, "a token over the whole log", |t, size| {
        t.iter()
            .any(|t| t["tsa"] == "a" && t["size"].as_u64() == Some(size))
    })
    .await;
    assert!(
        stamped.iter().all(|t| t["tsa"] == "a"),
        "no token of the expired TSA is kept: {stamped:?}"
    );
    assert!(
        metric(&url, "kordon_tsa_failures_total{tsa=\"b\"}")
            .await
            .unwrap_or(0.0)
            >= 1.0
    );
    assert_eq!(metric(&url, "kordon_tsa_up{tsa=\"b\"}").await, Some(0.0));
    assert_eq!(metric(&url, "kordon_tsa_up{tsa=\"a\"}").await, Some(1.0));
    let case = std::fs::read_dir(data.join("exports"))
        .expect("exports")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".zip"))
        .and_then(|n| n.rsplit_once('-').map(|(c, _)| c.to_owned()))
        .expect("the demo's case");
    let export = |url: String| {
        let (http, token, case) = (http.clone(), token.clone(), case.clone());
        async move {
            let v: Value = http
                .post(format!("{url}/v1/cases/{case}/export"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("export")
                .json()
                .await
                .expect("json");
            let bytes = http
                .get(format!(
                    "{url}/v1/exports/{}",
                    v["file"].as_str().expect("file")
                ))
                .bearer_auth(&token)
                .send()
                .await
                .expect("download")
                .bytes()
                .await
                .expect("bytes");
            (v, bytes)
        }
    };
    let (v, bytes) = export(url.clone()).await;
    let pkg = d.join("case.zip");
    std::fs::write(&pkg, &bytes).expect("write");
    let files = read_zip(&pkg);
    let sizes = tokens(&files, "a");
    let top = v["checkpoint_size"].as_u64().expect("size");
    assert_eq!(v["timestamps"].as_u64(), Some(sizes.len() as u64), "{v}");
    assert_eq!(
        v["derived"].as_u64(),
        Some(0),
        "over derived_max_bytes: {v}"
    );
    assert!(
        files.keys().all(|k| !k.starts_with("derived/"))
            && files.keys().any(|k| k.starts_with("segments/")),
        "{:?}",
        files.keys()
    );
    assert!(
        sizes.contains(&top) && sizes.iter().any(|s| *s < top),
        "a token over the package's checkpoint and an earlier one: {sizes:?} (top {top})"
    );
    assert!(
        tokens(&files, "b").is_empty(),
        "the expired TSA's token is not in it"
    );
    let early = *sizes.iter().min().expect("early");

    // Against TSA A's chain: every token holds, and the footage's trusted time is the early
    // token's.
    let lines = verify(&pkg, &[&a_chain]);
    assert!(fails(&lines).is_empty(), "{lines:#?}");
    for s in &sizes {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!(
                "ok   timestamps/{s}.a.tsr: TSA a states the log held its first {s} entries at "
            ))),
            "{lines:#?}"
        );
    }
    let early_time = stamped
        .iter()
        .find(|t| t["size"].as_u64() == Some(early))
        .map(|t| t["time"].as_str().expect("time").to_owned())
        .expect("the early token is listed by the server");
    assert!(
        lines.iter().any(|l| l
            == &format!("note timestamps/: trusted time (RFC 3161): every recording in this package was in the log by {early_time}")),
        "{lines:#?}"
    );
    // Without --tsa: checked against the package's own chain, and said so.
    let own = verify(&pkg, &[]);
    assert!(
        fails(&own).is_empty() && own.iter().any(|l| l.contains("no --tsa given")),
        "{own:#?}"
    );

    // A TSA the verifier does not trust.
    let lines = verify(&pkg, &[&c_chain]);
    assert_eq!(fails(&lines).len(), sizes.len(), "{lines:#?}");
    assert!(
        fails(&lines)
            .iter()
            .all(|l| l.contains(".a.tsr: is not signed by a TSA you trust")),
        "{lines:#?}"
    );
    // A token for another checkpoint (the early one, filed as the package checkpoint's).
    let swapped = d.join("swapped.zip");
    let mut f = files.clone();
    let early_token = f[&format!("timestamps/{early}.a.tsr")].clone();
    f.insert(format!("timestamps/{top}.a.tsr"), early_token);
    write_zip(&swapped, &f);
    let lines = verify(&swapped, &[&a_chain]);
    assert_eq!(
        fails(&lines)
            .iter()
            .map(|l| l.split(": ").take(2).collect::<Vec<_>>().join(": "))
            .collect::<Vec<_>>(),
        vec![format!(
            "FAIL timestamps/{top}.a.tsr: is not a time-stamp of its checkpoint"
        )],
        "{lines:#?}"
    );
    // A token from a TSA whose certificate had expired when it signed (asked directly over
    // the package's checkpoint: the server never kept one).
    let note = kordon_core::note::Note::parse(&files["checkpoint.note"]).expect("note");
    let expired_token = http
        .post(&b_url)
        .header("content-type", "application/timestamp-query")
        .body(kordon_core::timestamp::request(note.text().as_bytes()))
        .send()
        .await
        .expect("tsa b")
        .bytes()
        .await
        .expect("bytes");
    let with_b = d.join("expired.zip");
    let mut f = files.clone();
    f.insert(format!("timestamps/{top}.b.tsr"), expired_token.to_vec());
    write_zip(&with_b, &f);
    let lines = verify(&with_b, &[&a_chain, &b_chain]);
    let bad = fails(&lines);
    assert_eq!(bad.len(), 1, "{lines:#?}");
    assert!(
        bad[0].starts_with(&format!(
            "FAIL timestamps/{top}.b.tsr: is not signed by a TSA you trust"
        )) && bad[0].to_lowercase().contains("expired"),
        "{bad:#?}"
    );
    // A file under timestamps/ that is none of the kinds.
    let added = d.join("added.zip");
    let mut f = files.clone();
    f.insert("timestamps/notes.txt".into(), b"trust me".to_vec());
    write_zip(&added, &f);
    let lines = verify(&added, &[&a_chain]);
    assert!(
        fails(&lines)
            == vec!["FAIL timestamps/notes.txt: is not a time-stamp file: added after export"],
        "{lines:#?}"
    );

    // TSA A goes down: the log goes on, exports still work, the gap shows.
    a_process.take();
    let before = wait_tokens(&url, "the last token", |_, _| true).await;
    let last_a = before
        .iter()
        .filter(|t| t["tsa"] == "a")
        .filter_map(|t| t["size"].as_u64())
        .max()
        .expect("a token");
    let (v, bytes) = export(url.clone()).await;
    assert_eq!(
        v["timestamps"].as_u64(),
        Some(1),
        "only the stored token: {v}"
    );
    let down_pkg = d.join("down.zip");
    std::fs::write(&down_pkg, &bytes).expect("write");
    let lines = verify(&down_pkg, &[&a_chain]);
    assert!(fails(&lines).is_empty(), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("trusted time (RFC 3161): every recording")),
        "{lines:#?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(metric(&url, "kordon_tsa_up{tsa=\"a\"}").await, Some(0.0));
    assert!(
        metric(&url, "kordon_tsa_behind_entries{tsa=\"a\"}")
            .await
            .unwrap_or(0.0)
            > 0.0
    );
    let size = get(&format!("{url}/v1/log/inclusion?index=0")).await["size"]
        .as_u64()
        .expect("size");
    assert!(
        size > last_a,
        "the log went on past the last token ({last_a} < {size})"
    );
    // Back up: the gap closes with a token over the log as it now stands.
    let _a = tsa(&d.join("tsa-a"), "TSA A", false, a_port);
    wait_tokens(&url, "a token after the TSA came back", |t, size| {
        t.iter()
            .any(|t| t["tsa"] == "a" && t["size"].as_u64() == Some(size))
    })
    .await;
    assert_eq!(metric(&url, "kordon_tsa_up{tsa=\"a\"}").await, Some(1.0));
}

/// The Python with `c2pa-python` (`scripts/test` makes `target/c2pa`).
fn c2pa_python() -> PathBuf {
    std::env::var_os("KORDON_TEST_C2PA_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/c2pa/bin/python3"),
        PathBuf::from,
    )
}

/// What the independent C2PA reader says of `file`: its manifest store as JSON.
fn c2pa_read(file: &Path) -> Value {
    let python = c2pa_python();
    let out = Command::new(&python)
        .args([
            "-c",
            "import sys\nfrom c2pa import Reader\nwith open(sys.argv[1], 'rb') as f:\n    print(Reader('video/mp4', f).json())",
        ])
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{} (run scripts/test, which installs c2pa-python): {e}", python.display()));
    assert!(
        out.status.success(),
        "c2pa-python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the reader's JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playable_file_carries_content_credentials_an_independent_reader_checks() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let data = d.join("data");
    common::demo(data.to_str().expect("utf8"), 2, &[]);
    let pkg = std::fs::read_dir(data.join("exports"))
        .expect("exports")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "zip"))
        .expect("the demo's package");
    let files = read_zip(&pkg);
    let signed: Vec<&String> = files.keys().filter(|k| k.ends_with(".c2pa.mp4")).collect();
    assert!(!signed.is_empty(), "{:?}", files.keys());
    let lines = verify(&pkg, &[&data.join("tsa/chain.pem")]);
    assert!(fails(&lines).is_empty(), "{lines:#?}");
    // --rederive: the joined file made again here gives the same bytes.
    assert!(
        lines
            .iter()
            .any(|l| l.contains(".mp4: made again with ffmpeg-") && l.ends_with(": the same bytes")),
        "{lines:#?}"
    );
    for p in &signed {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("ok   {p}: derived by c2pa-sign with c2pa-rs-"))),
            "{lines:#?}"
        );
        let f = d.join("signed.mp4");
        std::fs::write(&f, &files[*p]).expect("write");
        let store = c2pa_read(&f);
        let active = store["active_manifest"]
            .as_str()
            .expect("an active manifest");
        let manifest = &store["manifests"][active];
        assert_eq!(
            store["validation_state"].as_str(),
            Some("Valid"),
            "valid (its signer not on a trust list: a demo CA): {store:#}"
        );
        assert!(
            manifest["signature_info"]["common_name"]
                .as_str()
                .is_some_and(|n| n.contains("UA-KYIV-01 crossing point")),
            "{manifest:#}"
        );
        let provenance = manifest["assertions"]
            .as_array()
            .expect("assertions")
            .iter()
            .find(|a| a["label"] == "ua.customs.kordon.provenance")
            .unwrap_or_else(|| panic!("kordon's assertion: {manifest:#}"));
        // It names the package's segments of the range, by hash, with their log entries.
        let sources = provenance["data"]["sources"].as_array().expect("sources");
        assert!(!sources.is_empty());
        for s in sources {
            let path = kordon_core::package::segment_path(
                s["device"].as_str().expect("device"),
                s["seq"].as_u64().expect("seq"),
            );
            assert_eq!(
                s["sha256"].as_str(),
                Some(kordon_core::sha256(&files[&path]).to_hex().as_str()),
                "{path}"
            );
            assert!(s["link_log_index"].as_u64().is_some(), "{s}");
        }
        // One byte of the video changed: the independent reader says so.
        let mut bytes = files[*p].clone();
        let mdat = bytes.windows(4).position(|w| w == b"mdat").expect("mdat");
        bytes[mdat + 1000] ^= 1;
        std::fs::write(&f, &bytes).expect("write");
        let store = c2pa_read(&f);
        assert_eq!(
            store["validation_state"].as_str(),
            Some("Invalid"),
            "{store:#}"
        );
        assert!(
            store.to_string().contains("assertion.bmffHash.mismatch"),
            "{store:#}"
        );
    }
}
