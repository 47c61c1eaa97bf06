//! A long log audited whole, then again from the state the whole audit saved after 1 %
//! more entries arrived (issue 21: the second ≤ 2 % of the first), against reading the
//! same tile files in the same run (the floor any audit has).
//!
//! The log is grown through `kordon_log` (the sequencer's production write path, 4,096
//! appends in flight) with what a crossing point logs: each camera's enrolment (a custody
//! event signed by the log key) and its chain of signed segment links, cameras
//! interleaved. Run: `cargo bench -p kordon-verify --bench audit`
//! (`KORDON_BENCH_AUDIT_ENTRIES`, default 1,000,000; 50 cameras).

use std::sync::Arc;
use std::time::{Duration, Instant};

use kordon_core::custody::{Custody, public_subject};
use kordon_core::note::{Note, SignerKey};
use kordon_core::time::Timestamp;
use kordon_log::{Log, LogOptions};
use kordon_store::meta::testing::TestCamera;
use kordon_verify::audit::{DirSource, audit_from};

const CAMERAS: usize = 50;
const SEG: i64 = 10_000;

fn enrollment(log_key: &SignerKey, cam: &TestCamera) -> Vec<u8> {
    let subject = format!("device {}", cam.device);
    let c = Custody {
        time: Timestamp(0),
        actor: cam.device.clone(),
        action: "enroll".into(),
        subject: subject.clone(),
        detail: cam.vkey(),
    };
    let (text, _) = c
        .seal(&public_subject(&subject, &[1; 32]), [2; 32])
        .expect("seal");
    let mut note = Note::new(&text).expect("note");
    note.sign(log_key).expect("sign");
    note.to_bytes()
}

/// Appends `n` segment links, the cameras taking turns, 4,096 in flight.
async fn links(log: &Arc<Log>, cams: &mut [TestCamera], t: &mut [i64], n: u64) {
    let mut made = 0u64;
    while made < n {
        let batch = (n - made).min(4096);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch {
            let i = (made % CAMERAS as u64) as usize;
            let link = cams[i].segment(t[i], t[i] + SEG);
            t[i] += SEG;
            made += 1;
            let log = log.clone();
            set.spawn(async move { log.append(link.bytes().to_vec()).await.expect("append") });
        }
        set.join_all().await;
    }
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// Reads every file under `dir` once: the floor of any audit of it.
fn read_all(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => read_all(&e.path()),
            _ => std::fs::read(e.path()).map_or(0, |b| b.len() as u64),
        })
        .sum()
}

fn main() {
    let total: u64 = std::env::var("KORDON_BENCH_AUDIT_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tmp");
    let signer = SignerKey::ed25519_from_seed("bench.kordon/log", [7; 32]).expect("key");
    let verifier = signer.verifier();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut cams: Vec<TestCamera> = (0..CAMERAS)
        .map(|i| TestCamera::new(&format!("cam-{i:02}")))
        .collect();
    let mut t = vec![kordon_store::now_ms() - 400 * 86_400_000; CAMERAS];
    let log = rt.block_on(async {
        let log = Arc::new(
            Log::open(LogOptions {
                dir: dir.path().join("log"),
                signer: signer.clone(),
                max_batch: 4096,
                partial_grace: Duration::ZERO,
            })
            .await
            .expect("log"),
        );
        for c in &cams {
            log.append(enrollment(&signer, c)).await.expect("enroll");
        }
        links(&log, &mut cams, &mut t, total * 99 / 100 - CAMERAS as u64).await;
        log
    });
    let size = log.published().size;
    let s = Instant::now();
    let read = read_all(dir.path());
    let floor = s.elapsed().as_secs_f64();

    // An audit of the folder from `from`, that must hold, and its seconds.
    let audit = |from| {
        let s = Instant::now();
        let a = audit_from(
            &DirSource(dir.path().to_path_buf()),
            verifier,
            from,
            true,
            &mut |_, _, _| {},
        )
        .expect("audit");
        let secs = s.elapsed().as_secs_f64();
        assert!(
            a.problems.is_empty(),
            "{:?}",
            &a.problems[..a.problems.len().min(5)]
        );
        (a, secs)
    };
    let (whole, whole_s) = audit(None);
    let state = whole.state.expect("state");
    let state_bytes = state.to_text().len();

    rt.block_on(links(&log, &mut cams, &mut t, total - size));
    let grown = log.published().size;
    let (more, more_s) = audit(Some(state));
    assert_eq!(more.entries.len() as u64, grown - size);

    let mb = dir_bytes(&dir.path().join("log")) as f64 / 1e6;
    println!(
        "log of {size} entries ({mb:.0} MB of tiles, {CAMERAS} cameras); {read} bytes read back in {floor:.2} s"
    );
    println!("| audit | entries read | time | entries/s | vs whole |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "| whole log | {size} | {whole_s:.2} s | {:.0} | 1.00 |",
        size as f64 / whole_s
    );
    println!(
        "| from the saved state ({state_bytes} bytes), {} more entries ({:.1} %) | {} | {more_s:.3} s | {:.0} | **{:.4}** (target ≤ 0.02) |",
        grown - size,
        (grown - size) as f64 * 100.0 / size as f64,
        more.entries.len(),
        more.entries.len() as f64 / more_s,
        more_s / whole_s
    );
}
