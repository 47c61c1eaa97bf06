//! Cameras on shift that have gone quiet: every minute, the cameras handed out and not
//! returned from which nothing arrived for `camera_silence_s` are counted in
//! `kordon_cameras_silent_on_shift` (alert `CameraSilentOnShift`, `docs/deploy.md`). The
//! query reads the open assignments and their chain states, never any history.

use std::time::Duration;

use crate::state::App;

/// At most this many silent cameras are listed.
pub(crate) const LIST_LIMIT: i64 = 1000;

/// The silent cameras now.
pub(crate) async fn silent(
    app: &App,
) -> Result<Vec<kordon_store::meta::SilentCamera>, crate::error::ApiError> {
    let since = kordon_store::now_ms() - app.config.camera_silence_s.saturating_mul(1000);
    Ok(app.meta.silent_on_shift(since, LIST_LIMIT).await?)
}

pub(crate) fn spawn(app: std::sync::Arc<App>) {
    tokio::spawn(async move {
        let every = Duration::from_secs(60.min(app.config.camera_silence_s.max(1) as u64));
        loop {
            match silent(&app).await {
                Ok(list) => {
                    metrics::gauge!("kordon_cameras_silent_on_shift").set(list.len() as f64);
                }
                Err(e) => tracing::warn!(error = %e, "silent cameras not counted"),
            }
            tokio::time::sleep(every).await;
        }
    });
}
