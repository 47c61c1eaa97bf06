//! Reading footage: who may see a segment, and the custody event that every view is.

use kordon_core::Hash;

use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::state::App;

/// Opens a stored segment for `who`, who says why (`reason`, a case reference or a few
/// words): checks the scope (the crossing point and officer the camera was assigned to
/// while recording), writes a `view` custody event (once per person, segment and reason:
/// a player asks for many ranges), and answers the hash to serve.
///
/// # Errors
/// `reason_required`, `bad_hash`, not found (no such segment, or its bytes purged or
/// quarantined), forbidden outside the scope.
pub(crate) async fn open(
    app: &App,
    who: &Principal,
    sha256: &str,
    reason: Option<&str>,
) -> Result<Hash, ApiError> {
    who.require(Op::ViewFootage)?;
    let h = Hash::from_hex(sha256).map_err(|e| ApiError::BadRequest("bad_hash", e.to_string()))?;
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty() && r.len() <= 200 && !r.chars().any(char::is_control))
        .ok_or_else(|| {
            ApiError::BadRequest(
                "reason_required",
                "say why this footage is opened (?reason=…: a case reference or a few words, up to 200 characters)".into(),
            )
        })?;
    let link =
        app.meta.link_by_blob(&h.to_hex()).await?.ok_or_else(|| {
            ApiError::NotFound(format!("no stored segment with SHA-256 {sha256}"))
        })?;
    let assignments = app.meta.assignments(&link.device_id).await?;
    let during = assignments
        .iter()
        .filter(|a| a.start_ms < link.end_ms && a.end_ms.is_none_or(|e| e > link.start_ms))
        .map(|a| (a.crossing_point.as_str(), a.officer.as_str()));
    if !who.sees_footage(during) {
        return Err(ApiError::Forbidden(format!(
            "segment {} of {} is outside what {} may see",
            link.seq, link.device_id, who.name
        )));
    }
    if link.purged_at.is_some() || !app.blobs.contains(&h).await {
        return Err(not_stored(sha256));
    }
    let first = app
        .views
        .lock()
        .map(|mut v| {
            if v.len() > 100_000 {
                v.clear();
            }
            v.insert((who.name.clone(), link.hash.clone(), reason.to_owned()))
        })
        .unwrap_or(true);
    if first {
        app.custody(
            &who.name,
            "view",
            &kordon_core::package::tombstone_subject(&link.device_id, link.seq),
            &format!("reason: {reason}"),
        )
        .await?;
    }
    Ok(h)
}

/// The answer for a segment whose bytes are gone (its signed manifest remains).
pub(crate) fn not_stored(sha256: &str) -> ApiError {
    ApiError::NotFound(format!(
        "the bytes of SHA-256 {sha256} are not stored (purged by retention or quarantined; its signed manifest remains)"
    ))
}
