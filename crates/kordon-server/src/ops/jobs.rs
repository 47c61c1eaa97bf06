//! Starting the background jobs by hand, and their progress.

use std::sync::Arc;
use std::time::Duration;

use kordon_api::jobs::{RetentionRun, ScrubStatus};
use kordon_core::time::Timestamp;

use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::jobs::retention;
use crate::state::App;

/// Applies the retention rules now (the same rules as the schedule; there is no way to
/// delete footage by hand).
pub(crate) async fn run_retention(app: &App, who: &Principal) -> Result<RetentionRun, ApiError> {
    who.require(Op::RunJobs)?;
    retention::retention(app).await
}

/// Starts a full scrubbing pass (unless one runs); answers its progress.
pub(crate) async fn start_scrub(app: &Arc<App>, who: &Principal) -> Result<ScrubStatus, ApiError> {
    who.require(Op::RunJobs)?;
    let running = app
        .scrub
        .lock()
        .map_err(|_| ApiError::Internal("lock".into()))?
        .running;
    if !running {
        let a = app.clone();
        tokio::spawn(async move {
            if let Err(e) = retention::scrub(&a).await {
                tracing::error!("scrub pass failed: {e}");
            }
        });
    }
    // Let the pass register itself so the first status shows it running.
    tokio::time::sleep(Duration::from_millis(20)).await;
    scrub_status(app)
}

/// Progress of the current or last scrubbing pass.
pub(crate) fn scrub_status(app: &App) -> Result<ScrubStatus, ApiError> {
    let s = app
        .scrub
        .lock()
        .map_err(|_| ApiError::Internal("lock".into()))?
        .clone();
    Ok(ScrubStatus {
        running: s.running,
        checked: s.checked,
        total: s.total,
        bad: s.bad,
        finished_at: s.finished_at.map(|t| Timestamp(t).to_string()),
    })
}
