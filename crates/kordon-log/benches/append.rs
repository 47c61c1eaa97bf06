//! Log throughput: durably appended leaves per second, with the write path of production
//! (tiles and checkpoint fsynced per batch), against the disk's own fsync rate measured in
//! the same run; and the log folder's size against the bytes of the tiles its tree needs,
//! with superseded partial tiles removed (as after their grace) and, as the same run's
//! baseline, kept (kordon before the clean-up). Run:
//! `cargo bench -p kordon-log --bench append`.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kordon_core::note::SignerKey;
use kordon_core::tiles::tiles_for_size;
use kordon_log::{Log, LogOptions};

fn fsyncs_per_second(dir: &std::path::Path) -> f64 {
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).expect("probe");
    let start = Instant::now();
    let n = 200;
    for i in 0..n {
        f.write_all(&[i as u8; 512]).expect("write");
        f.sync_all().expect("fsync");
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tmp");
    let fsyncs = fsyncs_per_second(dir.path());
    println!("baseline: {fsyncs:.0} fsyncs/s on this disk");
    // Each load with superseded partials removed (as after the grace) and kept (the
    // same-run baseline: kordon before the clean-up); 4 in flight is a few cameras
    // uploading one link at a time, where every batch rewrote a partial bundle.
    let kept = Duration::from_secs(86_400);
    let runs = [
        (4usize, 20_000u64, Duration::ZERO),
        (4, 20_000, kept),
        (64, 50_000, Duration::ZERO),
        (64, 50_000, kept),
        (1024, 200_000, Duration::ZERO),
        (1024, 200_000, kept),
        (4096, 400_000, Duration::ZERO),
    ];
    for (inflight, total, grace) in runs {
        let sub = dir
            .path()
            .join(format!("log-{inflight}-{}", grace.as_secs()));
        let opts = LogOptions {
            dir: sub.clone(),
            signer: SignerKey::ed25519_from_seed("bench.example/log", [1; 32]).expect("key"),
            max_batch: 4096,
            partial_grace: grace,
        };
        let (rate, batches) = rt.block_on(async move {
            let log = Arc::new(Log::open(opts).await.expect("open"));
            let before = log.published().size;
            let start = Instant::now();
            let mut checkpoints = log.subscribe();
            let counter = tokio::spawn(async move {
                let mut n = 0u64;
                while checkpoints.changed().await.is_ok() {
                    n += 1;
                }
                n
            });
            let per_task = total / inflight as u64;
            let tasks: Vec<_> = (0..inflight)
                .map(|t| {
                    let log = log.clone();
                    tokio::spawn(async move {
                        for i in 0..per_task {
                            // A typical entry: a signed link of ~560 bytes.
                            let entry = format!("{t:08} {i:012} {}", "x".repeat(540)).into_bytes();
                            log.append(entry).await.expect("append");
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.expect("task");
            }
            let elapsed = start.elapsed().as_secs_f64();
            let appended = log.published().size - before;
            drop(log);
            let batches = counter.await.unwrap_or(0);
            (appended as f64 / elapsed, batches)
        });
        let (disk, files) = folder(&sub);
        let needed: u64 = tiles_for_size(total)
            .iter()
            .map(|t| std::fs::metadata(sub.join(t.path())).map_or(0, |m| m.len()))
            .sum();
        println!(
            "log append, {inflight:>4} in flight, partials {}: {rate:>9.0} durable leaves/s  ({batches} checkpoints; target 20000/s: {:.2}x); folder {disk} bytes in {files} files for {needed} bytes of tiles ({:.2}x, {:.0} bytes per entry)",
            if grace.is_zero() {
                "removed"
            } else {
                "kept   "
            },
            rate / 20_000.0,
            disk as f64 / needed as f64,
            disk as f64 / total as f64
        );
    }
}

/// Bytes and files under `dir`.
fn folder(dir: &std::path::Path) -> (u64, u64) {
    let (mut bytes, mut files) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                bytes += e.metadata().map_or(0, |m| m.len());
                files += 1;
            }
        }
    }
    (bytes, files)
}
