//! The conformance suite: one scenario run against every combination of metadata engine
//! and segment store — SQLite + folder, PostgreSQL + folder, SQLite + S3, PostgreSQL + S3
//! (PostgreSQL from `KORDON_TEST_POSTGRES`, an S3 server with Object Lock from
//! moto_server; both on 127.0.0.1, see `scripts/test`).
//!
//! The scenario is `kordon demo`: a simulated crossing point records and uploads (ingest),
//! with injected faults; what it leaves behind must show exactly those faults to the
//! server's continuity report, to the analytics (coverage, gaps, anomalies), to an auditor
//! running `kordon log verify` (the log), and to `kordon-verify` on the demo case's
//! evidence package. Then retention purges what no rule keeps, and all of that still holds.

mod common;

use std::process::Command;
use std::time::Duration;

use kordon_store::blob::testing::Moto;
use serde_json::Value;

use common::{port, run};

/// Where the metadata lives.
#[derive(Clone, Copy)]
enum Db {
    Sqlite,
    Postgres,
}

/// Where the segments live.
#[derive(Clone, Copy)]
enum Blobs {
    Folder,
    S3,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_folder() {
    scenario(Db::Sqlite, Blobs::Folder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_folder() {
    scenario(Db::Postgres, Blobs::Folder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_s3() {
    scenario(Db::Sqlite, Blobs::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_s3() {
    scenario(Db::Postgres, Blobs::S3).await;
}

async fn scenario(db: Db, blobs: Blobs) {
    let mut env: Vec<(&str, String)> = Vec::new();
    if let Db::Postgres = db {
        env.push((
            "KORDON_DATABASE_URL",
            kordon_store::meta::testing::fresh_database().await,
        ));
    }
    let _moto = match blobs {
        Blobs::Folder => None,
        Blobs::S3 => {
            let moto = Moto::start();
            let s3 = moto.settings("kordon-conformance");
            kordon_store::blob::create_bucket(&s3)
                .await
                .expect("bucket");
            // Short locks, so that the purge below may delete after them.
            env.extend(kordon_store::blob::testing::server_env(&s3, 2));
            Some(moto)
        }
    };
    let kordon = |args: &[&str]| {
        run(Command::new(env!("CARGO_BIN_EXE_kordon"))
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str()))))
    };
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    let (code, out) = kordon(&[
        "demo",
        "--data",
        d,
        "--listen",
        &format!("127.0.0.1:{}", port()),
        "--cameras",
        "5",
        "--minutes",
        "1",
        "--no-serve",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("5 cameras"), "{out}");
    assert!(out.contains("administrator token"), "{out}");
    let cams: Vec<(String, String)> = out
        .lines()
        .filter(|l| l.trim_start().starts_with("sim-"))
        .map(|l| {
            let mut w = l.split_whitespace();
            let id = w.next().expect("id").to_owned();
            (id, l.to_owned())
        })
        .collect();
    assert_eq!(cams.len(), 5, "{out}");

    // Serve the same data and look at it as a newcomer would.
    let p = port();
    // Killed when the test ends, however it ends.
    let _server = common::Killed(
        Command::new(env!("CARGO_BIN_EXE_kordon"))
            .args(["serve", "--data", d, "--listen", &format!("127.0.0.1:{p}")])
            .env("RUST_LOG", "warn")
            // Nothing but cases is kept: the purge below takes everything else.
            .env("KORDON_RETENTION_DAYS", "0")
            .env("KORDON_TEST_RETENTION_FLOOR_DAYS", "0")
            .env("KORDON_RETENTION_INSPECTION_DAYS", "0")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let url = format!("http://127.0.0.1:{p}");
    let mut ready = false;
    for _ in 0..200 {
        if reqwest::get(format!("{url}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "server did not start");
    let mut problems = Vec::new();
    let admin = std::fs::read_to_string(data.join("keys/admin-token")).expect("admin token");
    for (id, _) in &cams {
        let c: Value = reqwest::Client::new()
            .get(format!("{url}/v1/devices/{id}/continuity"))
            .bearer_auth(admin.trim())
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let kinds: Vec<String> = c["problems"]
            .as_array()
            .expect("problems")
            .iter()
            .map(|p| p["kind"].as_str().unwrap_or("").to_owned())
            .collect();
        let stops: Vec<String> = c["stops"]
            .as_array()
            .expect("stops")
            .iter()
            .map(|s| s["kind"].as_str().unwrap_or("").to_owned())
            .collect();
        problems.push((kinds, stops, c));
    }
    // cam00: wearer stop, explained by its event; cam01: two lost segments; cam02: crash,
    // explained by `recovered`; cam03: equivocation; cam04: clean.
    assert_eq!(problems[0].0, Vec::<String>::new(), "{}", problems[0].2);
    assert!(
        problems[0].1.iter().filter(|k| *k == "record-stop").count() >= 2,
        "{}",
        problems[0].2
    );
    assert!(
        !problems[1].0.is_empty() && problems[1].0.iter().all(|k| k == "missing"),
        "{}",
        problems[1].2
    );
    let lost: u64 = problems[1].2["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| p["to"].as_u64().expect("to") - p["from"].as_u64().expect("from") + 1)
        .sum();
    assert_eq!(lost, 2, "two lost segments: {}", problems[1].2);
    assert_eq!(problems[2].0, Vec::<String>::new(), "{}", problems[2].2);
    assert!(
        problems[2].1.contains(&"recovered".to_owned()),
        "{}",
        problems[2].2
    );
    assert_eq!(problems[3].0, vec!["equivocation"], "{}", problems[3].2);
    assert_eq!(problems[4].0, Vec::<String>::new(), "{}", problems[4].2);
    for (_, _, c) in &problems {
        assert_eq!(c["assignments"][0]["crossing_point"], "UA-KYIV-01");
        assert!(
            c["assignments"][0]["end"].is_string(),
            "returned at shift end"
        );
    }
    // The analytics agree with what was injected: each officer had one inspection over
    // the whole shift.
    let from = out
        .split("report gaps --from ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("from");
    let to = out
        .split("report gaps --from ")
        .nth(1)
        .and_then(|r| r.split(" --to ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .expect("to");
    let (code, json) = kordon(&[
        "report", "gaps", "--from", from, "--to", to, "--format", "json", "--server", &url,
        "--data", d,
    ]);
    assert_eq!(code, 0, "{json}");
    let g: Value = serde_json::from_str(&json).expect("json");
    let classes_of = |cam: &str| -> Vec<(String, f64)> {
        g["gaps"]
            .as_array()
            .expect("gaps")
            .iter()
            .filter(|x| {
                x["inspection_id"]
                    .as_str()
                    .is_some_and(|i| i.ends_with(cam))
            })
            .map(|x| {
                (
                    x["class"].as_str().unwrap_or("").to_owned(),
                    x["seconds"].as_f64().unwrap_or(0.0),
                )
            })
            .collect()
    };
    assert_eq!(
        classes_of("insp00"),
        vec![("stopped_by_wearer".to_owned(), 60.0)],
        "{json}"
    );
    assert_eq!(
        classes_of("insp01"),
        vec![("missing_segments".to_owned(), 20.0)],
        "{json}"
    );
    assert_eq!(
        classes_of("insp02"),
        vec![("device_fault".to_owned(), 30.0)],
        "{json}"
    );
    assert_eq!(
        classes_of("insp03"),
        vec![],
        "the refused twin takes nothing away: {json}"
    );
    assert_eq!(classes_of("insp04"), vec![], "{json}");
    let stops: Vec<&str> = g["stops_in_inspections"]
        .as_array()
        .expect("stops")
        .iter()
        .filter_map(|s| s["kind"].as_str())
        .collect();
    assert!(
        stops.contains(&"record-stop") && stops.contains(&"recovered"),
        "{json}"
    );
    let plates = &g["anomalies"]["plates"];
    assert_eq!(plates.as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(
        plates[0]["key"], "AA1234BB",
        "Cyrillic and Latin spellings meet: {json}"
    );
    assert!(
        g["gaps"][0]["from_local"]
            .as_str()
            .is_some_and(|t| t.ends_with("[Europe/Kyiv]")),
        "{json}"
    );
    let (code, csv) = kordon(&[
        "report", "coverage", "--from", from, "--to", to, "--format", "csv", "--server", &url,
        "--data", d,
    ]);
    assert_eq!(code, 0, "{csv}");
    assert_eq!(csv.lines().count(), 6, "header and five inspections: {csv}");
    assert!(csv.starts_with("inspection_id,crossing_point,lane,officers,start,end,covered_seconds,duration_seconds,coverage"), "{csv}");

    // The demo case's evidence package verifies offline.
    let pkg = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("kordon-verify "))
        .and_then(|l| l.split_whitespace().next())
        .expect("package line");
    let report = verify_demo_package(pkg, &data);
    // Under the demo's two witnesses, both required.
    let mut policy = String::new();
    std::io::Read::read_to_string(
        &mut zip::ZipArchive::new(std::fs::File::open(pkg).expect("package"))
            .expect("zip")
            .by_name(kordon_core::package::POLICY)
            .expect("policy.txt"),
        &mut policy,
    )
    .expect("policy");
    assert!(
        policy.contains("group witnesses 2 w1 w2\nquorum witnesses"),
        "{policy}"
    );
    assert!(
        report
            .lines
            .iter()
            .any(|l| l.subject == "checkpoint.note" && l.message.contains("witness quorum met")),
        "{:?}",
        report.lines
    );

    let (code, out) = kordon(&["log", "verify", "--server", &url, "--data", d]);
    assert_eq!(code, 2, "{out}");
    let fails = common::fails(&out);
    assert!(
        !fails.is_empty() && fails.iter().all(|l| l.contains("cam01: Missing")),
        "exactly the lost segments: {out}"
    );

    // Retention: once the bucket's locks have run out, everything outside the demo case
    // is purged; the case's footage is held. The log and the package still verify, and
    // an audit names the purged segments as purged, not missing.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let retention = || {
        let (code, out) = kordon(&["retention", "--server", &url, "--data", d]);
        assert_eq!(code, 0, "{out}");
        let count = |what: &str| -> u64 {
            out.split(what)
                .next()
                .and_then(|p| p.split_whitespace().last())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{what} in {out}"))
        };
        (count(" purged"), count(" held"))
    };
    let (purged, held) = retention();
    assert!(purged > 0 && held > 0, "purged {purged}, held {held}");
    // The case is closed: its holds are released (in a bucket too), and the next run
    // purges what only it held.
    let case = format!(
        "DEMO-{}",
        cams[0].0.split("-cam").next().expect("the run's name")
    );
    let (code, out) = kordon(&["case", "close", &case, "--server", &url, "--data", d]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = kordon(&["case", "close", &case, "--server", &url, "--data", d]);
    assert_eq!(code, 1, "closed once: {out}");
    let (purged_after, held_after) = retention();
    assert!(
        purged_after > 0 && held_after < held,
        "after closing: purged {purged_after}, held {held_after} (before: {held})"
    );
    let (code, after) = kordon(&["log", "verify", "--server", &url, "--data", d]);
    assert_eq!(code, 2, "{after}");
    assert_eq!(
        common::fails(&after),
        fails,
        "the purge changed no verdict: {after}"
    );
    verify_demo_package(pkg, &data);
}

/// The demo case's package holds (against its own policy) and, checked against the demo
/// TSA's chain, carries its RFC 3161 time and a playable file per held range.
fn verify_demo_package(pkg: &str, data: &std::path::Path) -> kordon_verify::Report {
    let tsa = kordon_core::timestamp::TsaChain::from_pem(
        &std::fs::read(data.join("tsa/chain.pem")).expect("the demo TSA's chain"),
    )
    .expect("pem");
    let report = kordon_verify::verify_package(
        std::path::Path::new(pkg),
        &kordon_verify::VerifyOptions {
            tsa: &[tsa],
            threads: 2,
            ..Default::default()
        },
    )
    .expect("zip");
    assert!(
        report.holds(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    for (subject, says) in [
        (
            "timestamps/",
            "trusted time (RFC 3161): every recording in this package",
        ),
        ("derived/", "derived by mp4-concat-copy"),
    ] {
        assert!(
            report
                .lines
                .iter()
                .any(|l| l.subject.starts_with(subject) && l.message.contains(says)),
            "{subject}: {:?}",
            report.lines
        );
    }
    report
}
