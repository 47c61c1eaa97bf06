//! Cameras handed to officers and taken back.

use kordon_api::devices::{AssignRequest, AssignmentLogged, ReturnRequest};
use kordon_core::time::Timestamp;
use kordon_store::meta::Assignment as Row;
use kordon_store::{now_ms, random_bytes};

use super::devices::{assignment, check_device_id};
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::localtime::rfc3339;
use crate::state::App;

/// The time an assignment or return took effect: `at` if given (not in the future),
/// otherwise now.
fn effective_time(at: Option<&str>) -> Result<i64, ApiError> {
    let now = now_ms();
    let Some(at) = at else { return Ok(now) };
    let t = rfc3339("at", at).map_err(|e| ApiError::BadRequest("bad_request", e))?;
    if t > now + 60_000 {
        return Err(ApiError::BadRequest(
            "bad_request",
            format!("at {at} is in the future"),
        ));
    }
    Ok(t)
}

fn check_word(what: &'static str, v: &str) -> Result<(), ApiError> {
    if v.is_empty() || v.len() > 64 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::BadRequest(
            "bad_request",
            format!("{what} must be 1-64 characters without spaces"),
        ));
    }
    Ok(())
}

/// Hands a camera to an officer.
pub(crate) async fn assign(
    app: &App,
    who: &Principal,
    req: AssignRequest,
) -> Result<AssignmentLogged, ApiError> {
    who.require(Op::AssignDevices)?;
    check_device_id(&req.device)?;
    check_word("officer", &req.officer)?;
    check_word("crossing_point", &req.crossing_point)?;
    let a = Row {
        id: hex::encode(&random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?[..12]),
        device_id: req.device,
        officer: req.officer,
        crossing_point: req.crossing_point,
        start_ms: effective_time(req.at.as_deref())?,
        end_ms: None,
    };
    app.meta.assign(&a, &who.name).await?;
    logged(app, &who.name, "assign", &a).await
}

/// The longest pause between two recordings of one wearer with one camera that still
/// counts as one assignment (a body-worn system says who wore the camera only while it
/// recorded).
const SAME_WEARER_MS: i64 = 12 * 3_600_000;

/// A body-worn system says who wore a camera from `start` to `end`: the camera is
/// assigned then and returned then — or, when the same officer's assignment of that
/// camera ended less than 12 h before, that assignment is extended — logged as by `by`.
pub(crate) async fn worn(app: &App, by: &str, a: &Row) -> Result<(), ApiError> {
    let end = a.end_ms.unwrap_or(a.start_ms);
    let last = app.meta.latest_assignments(&a.device_id, 1).await?.pop();
    if let Some(prev) = last
        && prev.officer == a.officer
        && prev
            .end_ms
            .is_some_and(|e| e <= a.start_ms && a.start_ms - e <= SAME_WEARER_MS)
    {
        let longer = app.meta.extend_assignment(&prev.id, end, by).await?;
        logged(app, by, "return", &longer).await?;
        return Ok(());
    }
    app.meta.assign(a, by).await?;
    logged(app, by, "assign", a).await?;
    let back = app.meta.return_device(&a.device_id, end, by).await?;
    logged(app, by, "return", &back).await?;
    Ok(())
}

/// Takes a camera back.
pub(crate) async fn give_back(
    app: &App,
    who: &Principal,
    req: ReturnRequest,
) -> Result<AssignmentLogged, ApiError> {
    who.require(Op::AssignDevices)?;
    let a = app
        .meta
        .return_device(&req.device, effective_time(req.at.as_deref())?, &who.name)
        .await?;
    logged(app, &who.name, "return", &a).await
}

/// Logs a hand-out or hand-back as a custody event.
async fn logged(app: &App, by: &str, action: &str, a: &Row) -> Result<AssignmentLogged, ApiError> {
    let at = if action == "return" {
        a.end_ms.unwrap_or(a.start_ms)
    } else {
        a.start_ms
    };
    let detail = format!(
        "officer {} at {} assignment {} effective {}",
        a.officer,
        a.crossing_point,
        a.id,
        Timestamp(at)
    );
    let log_index = app
        .custody(by, action, &format!("device {}", a.device_id), &detail)
        .await?;
    Ok(AssignmentLogged {
        assignment: assignment(a),
        log_index,
    })
}
