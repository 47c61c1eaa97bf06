//! Reports over HTTP.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use kordon_api::inspections::InspectionList;
use kordon_api::reports::{ClearanceReport, DailyReport, GapsReport, Range, ShiftsReport};

use super::extract::{Caller, Params};
use crate::error::ApiError;
use crate::ops::reports;
use crate::state::App;

/// Every inspection in the range with its coverage.
#[utoipa::path(get, path = "/v1/reports/coverage", tag = "reports", params(Range),
    responses((status = 200, body = InspectionList), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn coverage(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(r): Params<Range>,
) -> Result<Json<InspectionList>, ApiError> {
    Ok(Json(reports::coverage(&app, &who, &r).await?))
}

/// Coverage per crossing point, local day and officer.
#[utoipa::path(get, path = "/v1/reports/daily", tag = "reports", params(Range),
    responses((status = 200, body = DailyReport), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn daily(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(r): Params<Range>,
) -> Result<Json<DailyReport>, ApiError> {
    Ok(Json(reports::daily(&app, &who, &r).await?))
}

/// Coverage per shift.
#[utoipa::path(get, path = "/v1/reports/shifts", tag = "reports", params(Range),
    responses((status = 200, body = ShiftsReport), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn shifts(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(r): Params<Range>,
) -> Result<Json<ShiftsReport>, ApiError> {
    Ok(Json(reports::shifts(&app, &who, &r).await?))
}

/// Every gap, repeated unexplained gaps, stops, anomalies.
#[utoipa::path(get, path = "/v1/reports/gaps", tag = "reports", params(Range),
    responses((status = 200, body = GapsReport), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn gaps(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(r): Params<Range>,
) -> Result<Json<GapsReport>, ApiError> {
    Ok(Json(reports::gaps(&app, &who, &r).await?))
}

/// Clearance times.
#[utoipa::path(get, path = "/v1/reports/clearance", tag = "reports", params(Range),
    responses((status = 200, body = ClearanceReport), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn clearance(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(r): Params<Range>,
) -> Result<Json<ClearanceReport>, ApiError> {
    Ok(Json(reports::clearance(&app, &who, &r).await?))
}
