//! Coverage kept fresh: an upload, an assignment or a new version of an inspection marks
//! the coverage of the inspections it touches stale (`coverage.generation`); this job
//! recomputes them every `coverage_refresh_ms`, so that the dashboard and reports read
//! stored results instead of computing a fortnight's worth on the first request after a
//! shift's uploads. A read that finds a result stale still computes it itself (the same
//! [`Calculator`]); a result is stored only if nothing changed meanwhile, so the job and
//! a request never overwrite each other's newer answer.

use std::sync::Arc;
use std::time::Duration;

use crate::error::ApiError;
use crate::ops::coverage::Calculator;
use crate::state::App;

/// Inspections recomputed per batch (one calculator, one cache of camera timelines).
const BATCH: u32 = 100;

pub(crate) fn spawn(app: Arc<App>) {
    let every = app.config.coverage_refresh_ms;
    if every == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let job = app.clone();
            let done = crate::state::off_workers(async move { refresh(&job).await }).await;
            match done.and_then(|r| r) {
                Ok(0) => {}
                Ok(n) => tracing::debug!(recomputed = n, "coverage refreshed"),
                Err(e) => tracing::warn!(error = %e, "coverage refresh failed"),
            }
        }
    });
}

/// Recomputes every stale coverage once, in id order; answers how many.
pub(crate) async fn refresh(app: &App) -> Result<usize, ApiError> {
    let mut after = String::new();
    let mut n = 0;
    loop {
        let ids = app.meta.stale_coverage(&after, BATCH).await?;
        let Some(last) = ids.last() else {
            return Ok(n);
        };
        after.clone_from(last);
        let mut calc = Calculator::new(app);
        for id in &ids {
            // One inspection per analytics permit: the job takes its turn with the
            // people reading, and never the core left to uploads.
            let _turn = app
                .readers
                .acquire()
                .await
                .map_err(|_| ApiError::Unavailable("the analytics limit is closed".into()))?;
            if let Some(li) = app.meta.inspection(id).await? {
                calc.coverage(&li).await?;
                n += 1;
            }
        }
    }
}
