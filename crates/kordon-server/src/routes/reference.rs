//! Reference data over HTTP: crossing points and officers.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use kordon_api::reference::{
    CrossingPointChanged, CrossingPointIn, CrossingPointList, OfficerChanged, OfficerIn,
    OfficerList,
};

use super::extract::{Body, Caller};
use crate::error::ApiError;
use crate::ops::reference;
use crate::state::App;

/// Every crossing point.
#[utoipa::path(get, path = "/v1/crossing-points", tag = "reference",
    responses((status = 200, body = CrossingPointList)))]
pub(crate) async fn crossing_points(
    State(app): State<Arc<App>>,
) -> Result<Json<CrossingPointList>, ApiError> {
    Ok(Json(reference::crossing_points(&app).await?))
}

/// Adds or changes a crossing point (administrator).
#[utoipa::path(put, path = "/v1/crossing-points/{code}", tag = "reference",
    params(("code" = String, Path)), request_body = CrossingPointIn,
    responses((status = 200, body = CrossingPointChanged), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn put_crossing_point(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(code): Path<String>,
    Body(b): Body<CrossingPointIn>,
) -> Result<Json<CrossingPointChanged>, ApiError> {
    Ok(Json(
        reference::put_crossing_point(&app, &who, &code, b).await?,
    ))
}

/// Every officer (names are personal data: signed in only).
#[utoipa::path(get, path = "/v1/officers", tag = "reference",
    responses((status = 200, body = OfficerList), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn officers(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
) -> Result<Json<OfficerList>, ApiError> {
    Ok(Json(reference::officers(&app, &who).await?))
}

/// Adds or changes an officer (administrator).
#[utoipa::path(put, path = "/v1/officers/{service_no}", tag = "reference",
    params(("service_no" = String, Path)), request_body = OfficerIn,
    responses((status = 200, body = OfficerChanged), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn put_officer(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(n): Path<String>,
    Body(b): Body<OfficerIn>,
) -> Result<Json<OfficerChanged>, ApiError> {
    Ok(Json(reference::put_officer(&app, &who, &n, b).await?))
}
