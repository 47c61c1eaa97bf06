//! Retention and scrubbing, the two background jobs that touch stored bytes.
//!
//! Retention: footage that is not evidence is kept `retention_days` after upload
//! (`retention_inspection_days` when it overlaps a customs inspection of its wearer);
//! footage held by a case or overlapping an inspection that found a violation is never
//! purged. A purge appends a signed tombstone to the log first (naming the segment, its
//! hash, the rule and when), then marks the link purged, then deletes the bytes; the
//! signed manifest stays. At a crossing point that forwards, only footage the centre has
//! confirmed (a receipt verified against its log key covers the link's entry, and the
//! segment was not a hole) is purged; the rest waits, counted in
//! `kordon_retention_waiting_for_centre`. A server that does not forward drops its change
//! feed, which only forwarding reads. There is no API to delete footage by hand; `POST
//! /v1/retention/run` only runs the same rules now.
//!
//! Scrubbing: every stored blob is re-read and hashed on a schedule (or `kordon scrub
//! --now`); a blob whose bytes no longer match is moved to `blobs/quarantine/`, recorded,
//! counted (`kordon_scrub_failures_total`), logged as a warning and written as a custody
//! event. The folder store has no replica to restore from (a second copy is the object
//! store's job, issue 8); the custody event says so.

use std::sync::Arc;
use std::time::Duration;

use kordon_api::jobs::RetentionRun;
use kordon_core::hash::Hash;
use kordon_core::package;
use kordon_core::time::Timestamp;
use kordon_store::now_ms;

use crate::error::ApiError;
use crate::state::{App, ScrubProgress};

const DAY_MS: i64 = 86_400_000;

/// Applies the retention rules now (the job's schedule, or `POST /v1/retention/run`).
pub(crate) async fn retention(app: &App) -> Result<RetentionRun, ApiError> {
    let now = now_ms();
    let short = now - app.config.retention_days as i64 * DAY_MS;
    let long = now - app.config.retention_inspection_days as i64 * DAY_MS;
    let mut run = RetentionRun {
        purged: 0,
        held: 0,
        kept: 0,
        waiting: 0,
    };
    let forwards = app.config.forward.is_some();
    let confirmed = app.meta.forward_confirmed().await?;
    if !forwards {
        app.meta.prune_outbox(u64::MAX >> 1).await?;
    }
    for l in app.meta.purge_candidates(short, 100_000).await? {
        if app.meta.is_held(&l.device_id, l.start_ms, l.end_ms).await? {
            run.held += 1;
            continue;
        }
        let (rule, cutoff) = if app
            .meta
            .overlaps_inspection(&l.device_id, l.start_ms, l.end_ms)
            .await?
        {
            (
                format!("inspection-{}d", app.config.retention_inspection_days),
                long,
            )
        } else {
            (format!("default-{}d", app.config.retention_days), short)
        };
        if l.received_at >= cutoff {
            run.kept += 1;
            continue;
        }
        if forwards {
            let at_centre = match l.log_index {
                Some(i) => (i as u64) < confirmed && !app.meta.is_forward_hole(i as u64).await?,
                None => false,
            };
            if !at_centre {
                run.waiting += 1;
                continue;
            }
        }
        let Some(sha) = &l.blob_sha256 else { continue };
        let (_, tombstone) = app
            .custody_entry(
                "retention",
                package::TOMBSTONE_ACTION,
                &package::tombstone_subject(&l.device_id, l.seq),
                &format!(
                    "sha256 {sha} size {} rule {rule} received {} expired {}",
                    l.size.unwrap_or(0),
                    Timestamp(l.received_at),
                    Timestamp(now)
                ),
            )
            .await?;
        app.meta
            .mark_purged(&l.device_id, l.seq, &tombstone, now)
            .await?;
        if !app.meta.blob_in_use(sha).await? {
            let h = Hash::from_hex(sha).map_err(|e| ApiError::Internal(e.to_string()))?;
            match app.blobs.purge(&h).await {
                Ok(()) => {}
                // The bucket's own lock outlasts kordon's rule (clocks, a changed
                // configuration): the bytes stay until it ends; nothing is lost.
                Err(kordon_store::blob::BlobError::Locked(why)) => {
                    tracing::warn!(%sha, %why, "purge deferred by the object store's lock");
                }
                Err(e) => return Err(e.into()),
            }
        }
        run.purged += 1;
    }
    if run.purged > 0 {
        tracing::info!(
            purged = run.purged,
            held = run.held,
            "retention purged expired footage"
        );
    }
    metrics::counter!("kordon_retention_purged_total").increment(run.purged);
    metrics::gauge!("kordon_retention_waiting_for_centre").set(run.waiting as f64);
    if run.waiting > 0 {
        tracing::warn!(
            waiting = run.waiting,
            confirmed,
            "footage past retention waits for the centre's receipt"
        );
    }
    Ok(run)
}

/// One scrubbing pass, unless one runs already.
pub(crate) async fn scrub(app: &App) -> Result<(), ApiError> {
    {
        let mut s = app
            .scrub
            .lock()
            .map_err(|_| ApiError::Internal("lock".into()))?;
        if s.running {
            return Ok(());
        }
        *s = ScrubProgress {
            running: true,
            ..ScrubProgress::default()
        };
    }
    let result = scrub_pass(app).await;
    if let Ok(mut s) = app.scrub.lock() {
        s.running = false;
        s.finished_at = Some(now_ms());
    }
    result
}

async fn scrub_pass(app: &App) -> Result<(), ApiError> {
    let blobs = app.meta.stored_blobs().await?;
    if let Ok(mut s) = app.scrub.lock() {
        s.total = blobs.len() as u64;
    }
    for (sha, _) in blobs {
        let h = Hash::from_hex(&sha).map_err(|e| ApiError::Internal(e.to_string()))?;
        let ok = app.blobs.verify(&h).await?;
        if !ok {
            let what = if app.blobs.contains(&h).await {
                let done = app.blobs.quarantine(&h).await?;
                format!(
                    "bytes do not match sha256 {sha}; {done}; no replica configured to restore from"
                )
            } else {
                format!(
                    "bytes of sha256 {sha} are missing from the store; no replica configured to restore from"
                )
            };
            if app.meta.quarantine(&sha, &what, now_ms()).await? {
                tracing::warn!(sha256 = %sha, "scrub: {what}");
                metrics::counter!("kordon_scrub_failures_total").increment(1);
                let subject = match app.meta.link_by_blob(&sha).await? {
                    Some(l) => package::tombstone_subject(&l.device_id, l.seq),
                    None => format!("blob {sha}"),
                };
                app.custody("scrubber", "quarantine", &subject, &what)
                    .await?;
            }
        }
        if let Ok(mut s) = app.scrub.lock() {
            s.checked += 1;
            s.bad += u64::from(!ok);
        }
    }
    Ok(())
}

/// Runs both jobs on their schedules until the process ends.
pub(crate) fn spawn(app: Arc<App>) {
    let a = app.clone();
    tokio::spawn(async move {
        let every = Duration::from_secs(a.config.retention_interval_s.max(1));
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = a.meta.ensure_partitions(kordon_store::now_ms()).await {
                tracing::error!("creating the next time partitions failed: {e}");
            }
            if let Err(e) = retention(&a).await {
                tracing::error!("retention run failed: {e}");
            }
        }
    });
    tokio::spawn(async move {
        let every = Duration::from_secs(app.config.scrub_interval_s.max(1));
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = scrub(&app).await {
                tracing::error!("scrub pass failed: {e}");
            }
        }
    });
}
