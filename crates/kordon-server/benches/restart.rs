//! Start → ready of a server whose log holds many entries, with and without rows the
//! database stored but a crash kept from being logged (what `startup::reconcile` finds
//! after a kill -9), against the same start with an empty log in the same run.
//! The log is grown through `kordon_log` directly with the server's own key (the
//! sequencer's production write path, 4,096 appends in flight); the database holds the
//! server's own rows only. Run: `cargo bench -p kordon-server --bench restart`
//! (`KORDON_BENCH_SIZES=100000,1000000,10000000` to choose the sizes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use kordon_core::note::SignerKey;
use kordon_log::{Log, LogOptions};

async fn grow(data: &std::path::Path, entries: u64) {
    let key = std::fs::read_to_string(data.join("keys/log.key")).expect("log key");
    let log = Arc::new(
        Log::open(LogOptions {
            dir: data.join("log"),
            signer: SignerKey::parse(key.trim()).expect("key"),
            max_batch: 4096,
            partial_grace: Duration::ZERO,
        })
        .await
        .expect("log"),
    );
    let inflight = 4096u64;
    let tasks: Vec<_> = (0..inflight)
        .map(|t| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut i = t;
                while i < entries {
                    log.append(format!("bench entry {i:012} {}", "x".repeat(80)).into_bytes())
                        .await
                        .expect("append");
                    i += inflight;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
}

/// Stores `n` custody rows the log never got (a crash between the insert and the append).
async fn unlogged_rows(data: &std::path::Path, n: usize, floor: u64) {
    let meta = kordon_store::meta::Meta::open_sqlite(&data.join("kordon.db"))
        .await
        .expect("db");
    for i in 0..n {
        let body = format!(
            "kordon.custody/v1\nunlogged {i} {}\n",
            kordon_store::now_ms()
        );
        let hash = kordon_core::sha256(body.as_bytes()).to_hex();
        meta.insert_custody(&kordon_store::meta::NewCustody {
            hash: &hash,
            action: "bench",
            subject: "bench",
            body: body.as_bytes(),
            private: None,
            created_at: 0,
            log_floor: floor,
        })
        .await
        .expect("row");
    }
}

async fn start(data: &std::path::Path) -> Duration {
    let config = kordon_server::config::Config {
        data: data.to_path_buf(),
        ..Default::default()
    };
    let t = Instant::now();
    let app = kordon_server::open(config).await.expect("open");
    let took = t.elapsed();
    drop(app);
    took
}

/// Bytes and files under `dir`.
fn disk(dir: &std::path::Path) -> (u64, u64) {
    let mut total = (0, 0);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let (b, f) = match e.file_type() {
            Ok(t) if t.is_dir() => disk(&e.path()),
            _ => (e.metadata().map_or(0, |m| m.len()), 1),
        };
        total = (total.0 + b, total.1 + f);
    }
    total
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sizes: Vec<u64> = std::env::var("KORDON_BENCH_SIZES")
        .unwrap_or_else(|_| "0,100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    rt.block_on(async {
        for size in sizes {
            let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tmp");
            let data = dir.path().join("data");
            start(&data).await; // keys, database, an empty log
            let t = Instant::now();
            grow(&data, size).await;
            let grown = t.elapsed();
            let clean = start(&data).await;
            let (bytes, files) = disk(&data.join("log"));
            // Stored just before the crash: the log had all its entries then.
            unlogged_rows(&data, 10, size).await;
            let after_crash = start(&data).await;
            let again = start(&data).await;
            println!(
                "restart with {size:>9} log entries (grown in {:.1} s; log folder {:.0} bytes per entry, {files} files): clean {:>8.1} ms, with 10 unlogged rows {:>8.1} ms, then {:>8.1} ms",
                grown.as_secs_f64(),
                bytes as f64 / size.max(1) as f64,
                clean.as_secs_f64() * 1e3,
                after_crash.as_secs_f64() * 1e3,
                again.as_secs_f64() * 1e3
            );
        }
    });
}
