//! Rows stored but never logged: a crash between storing a change and logging it, or an
//! append the log refused (a storage error: full disk, no file descriptors left — the
//! request was answered 503). At start, and every second after an append failed, this
//! job looks such rows up in the log's tail and logs the ones it does not hold, holding
//! [`App::logging`] alone so that no request is between its row and its append. A
//! camera's retry of a stranded link logs it too (`ops::ingest`); both end with one entry.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::error::ApiError;
use crate::state::App;

pub(crate) fn spawn(app: Arc<App>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !app.stranded.swap(false, Ordering::SeqCst) {
                continue;
            }
            let alone = app.logging.write().await;
            if let Err(e) = reconcile(&app).await {
                tracing::warn!(error = %e, "stranded rows not logged yet; trying again");
                app.stranded.store(true, Ordering::SeqCst);
            }
            drop(alone);
        }
    });
}

/// Entries read at a time while reconciling.
const RECONCILE_CHUNK: u64 = 64 * 256;

/// After a crash or a failed append: rows the database holds but whose log index it never recorded are
/// looked for in the log and their index recorded; those the log does not have are
/// appended now. A row's entry can only be at or above the log's size when it was stored
/// (`log_floor`), so only the log's tail is read: the cost is the entries appended since,
/// not the log's history.
pub(crate) async fn reconcile(app: &App) -> Result<(), ApiError> {
    let unlogged = app.meta.unlogged().await?;
    if unlogged.is_empty() {
        return Ok(());
    }
    let reader = app.log.reader();
    let size = reader.size();
    let floor = unlogged
        .iter()
        .map(|u| u.log_floor)
        .min()
        .unwrap_or(0)
        .min(size);
    let wanted: std::collections::HashSet<String> =
        unlogged.iter().map(|u| u.hash.clone()).collect();
    let (index, scanned) = tokio::task::spawn_blocking(move || {
        let mut found = std::collections::HashMap::new();
        let mut from = floor - floor % 256;
        while from < size && found.len() < wanted.len() {
            let to = (from + RECONCILE_CHUNK).min(size);
            for (i, e) in reader.entries(from, to)?.iter().enumerate() {
                let h = kordon_core::sha256(e).to_hex();
                if wanted.contains(&h) {
                    found.insert(h, from + i as u64);
                }
            }
            from = to;
        }
        Ok::<_, std::io::Error>((found, from - (floor - floor % 256)))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(format!("reading the log's tail: {e}")))?;
    let (mut found, mut appended) = (0, 0);
    for u in unlogged {
        let i = match index.get(&u.hash) {
            Some(i) => {
                found += 1;
                *i
            }
            None => {
                appended += 1;
                app.log.append(u.body).await?
            }
        };
        app.meta.set_log_index(&u.hash, i).await?;
    }
    tracing::warn!(
        found,
        appended,
        scanned,
        "logged the rows a crash or a failed append left without a log index"
    );
    Ok(())
}
