//! Reading footage: who may see a segment, and the custody event that every view is.

use kordon_api::jobs::AuditRun;
use kordon_core::Hash;
use kordon_store::now_ms;

use super::new_id;
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::state::App;

/// How long an audit run's id covers its reads.
const AUDIT_RUN_MS: i64 = 24 * 3_600_000;

/// Starts an audit run: one `audit` custody event stands for every segment the run reads
/// (an audit reads them all; one event per segment would grow the log with the audit).
pub(crate) async fn start_audit(app: &App, who: &Principal) -> Result<AuditRun, ApiError> {
    who.require(Op::ViewFootage)?;
    let id = new_id(12)?;
    let log_index = app
        .custody(
            &who.name,
            "audit",
            "log",
            &format!("audit run {id}: stored segments read to check their hashes"),
        )
        .await?;
    let now = now_ms();
    if let Ok(mut runs) = app.audits.lock() {
        runs.retain(|_, (_, started)| now - *started < AUDIT_RUN_MS);
        runs.insert(id.clone(), (who.name.clone(), now));
    }
    Ok(AuditRun { id, log_index })
}

/// Whether `audit` is a run `who` started within the last day.
fn in_audit_run(app: &App, who: &Principal, audit: &str) -> bool {
    let now = now_ms();
    app.audits.lock().is_ok_and(|runs| {
        runs.get(audit)
            .is_some_and(|(person, started)| *person == who.name && now - *started < AUDIT_RUN_MS)
    })
}

/// Opens a stored segment for `who`, who says why (`reason`, a case reference or a few
/// words) or reads it in an audit run of theirs (`audit`): checks the scope (the
/// crossing point and officer the camera was assigned to while recording), writes a
/// `view` custody event (once per person, segment and reason: a player asks for many
/// ranges; none within an audit run, whose own event covers it), and answers the hash
/// to serve.
///
/// # Errors
/// `reason_required`, `unknown_audit`, `bad_hash`, not found (no such segment, or its
/// bytes purged or quarantined), forbidden outside the scope.
pub(crate) async fn open(
    app: &App,
    who: &Principal,
    sha256: &str,
    reason: Option<&str>,
    audit: Option<&str>,
) -> Result<Hash, ApiError> {
    who.require(Op::ViewFootage)?;
    let h = Hash::from_hex(sha256).map_err(|e| ApiError::BadRequest("bad_hash", e.to_string()))?;
    let audited = match audit {
        Some(a) if in_audit_run(app, who, a) => true,
        Some(a) => {
            return Err(ApiError::BadRequest(
                "unknown_audit",
                format!(
                    "{a:?} is not an audit run of {} from the last day",
                    who.name
                ),
            ));
        }
        None => false,
    };
    let reason = reason
        .or(audited.then_some("audit"))
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
    let first = !audited
        && app
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
