//! With segments in a bucket, the log goes there too: every tile of every published
//! tree, create-only and locked like the footage (tiles never change once written), and
//! the latest signed checkpoint, under `log/` in the same layout as `/log/` over HTTP.
//! An auditor can then check the whole log from the bucket alone (`kordon log verify
//! --bucket`), and nobody with the server's disk can rewrite history there.
//!
//! The mirror follows the published checkpoints, oldest first; a failed upload is
//! retried with the next checkpoint (the tiles already there are left as they are).

use std::collections::HashSet;

use kordon_core::tiles::tiles_for_size;
use kordon_log::Log;
use kordon_store::blob::{BlobStore, S3BlobStore};

/// Starts mirroring `log` into the bucket of `blobs` (nothing for a folder store).
pub(crate) fn spawn(log: Log, blobs: &BlobStore) {
    let BlobStore::S3(bucket) = blobs.clone() else {
        return;
    };
    tokio::spawn(async move {
        let mut rx = log.subscribe();
        let mut done: HashSet<String> = HashSet::new();
        loop {
            let published = rx.borrow_and_update().clone();
            if published.size > 0
                && let Err(e) = mirror(
                    &log,
                    &bucket,
                    &mut done,
                    published.size,
                    &published.checkpoint,
                )
                .await
            {
                tracing::warn!(error = %e, size = published.size, "mirroring the log to the bucket failed; retrying with the next checkpoint");
                metrics::counter!("kordon_log_mirror_failures_total").increment(1);
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
}

async fn mirror(
    log: &Log,
    bucket: &S3BlobStore,
    done: &mut HashSet<String>,
    size: u64,
    checkpoint: &[u8],
) -> Result<(), kordon_store::blob::BlobError> {
    for t in tiles_for_size(size) {
        let path = t.path();
        if done.contains(&path) {
            continue;
        }
        let bytes = tokio::fs::read(log.dir().join(&path)).await?;
        bucket.put_immutable(&format!("log/{path}"), bytes).await?;
        done.insert(path);
    }
    bucket
        .put_latest("log/checkpoint", checkpoint.to_vec())
        .await?;
    metrics::gauge!("kordon_log_mirrored_size").set(size as f64);
    Ok(())
}
