//! Inspections over HTTP: import, coverage, gap reasons, search, bookmarks.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kordon_api::Created;
use kordon_api::inspections::{
    BookmarkIn, BookmarkList, BookmarkQuery, DecisionIn, GapReasonIn, GapReasonState,
    ImportResults, InspectionCoverage, InspectionList, InspectionsIn, ReviewIn, ReviewLogged,
    SearchQuery,
};

use super::extract::{Body, Caller, Params};
use crate::error::ApiError;
use crate::ops::{inspections, search};
use crate::state::App;

/// Imports one inspection record or an array (administrator or integration).
#[utoipa::path(post, path = "/v1/inspections", tag = "inspections", request_body = InspectionsIn,
    responses((status = 200, body = ImportResults), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn import(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(b): Body<InspectionsIn>,
) -> Result<Json<ImportResults>, ApiError> {
    Ok(Json(inspections::import(&app, &who, b).await?))
}

/// One inspection with its coverage.
#[utoipa::path(get, path = "/v1/inspections/{id}/coverage", tag = "inspections",
    params(("id" = String, Path)),
    responses((status = 200, body = InspectionCoverage), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn coverage(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<InspectionCoverage>, ApiError> {
    Ok(Json(inspections::coverage_of(&app, &who, &id).await?))
}

/// Files a reason for a gap of an inspection.
#[utoipa::path(post, path = "/v1/inspections/{id}/gap-reasons", tag = "inspections",
    params(("id" = String, Path)), request_body = GapReasonIn,
    responses((status = 201, body = GapReasonState), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn file_reason(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Body(b): Body<GapReasonIn>,
) -> Result<(StatusCode, Json<GapReasonState>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(inspections::file_reason(&app, &who, &id, b).await?),
    ))
}

/// Approves or rejects a filed reason (supervisor); `decision` is `approve` or `reject`.
#[utoipa::path(post, path = "/v1/gap-reasons/{id}/{decision}", tag = "inspections",
    params(("id" = String, Path), ("decision" = String, Path)), request_body = DecisionIn,
    responses((status = 200, body = GapReasonState), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn decide_reason(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path((id, decision)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<GapReasonState>, ApiError> {
    // An approval may come without a body.
    let b: DecisionIn = if body.iter().all(u8::is_ascii_whitespace) {
        DecisionIn::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest("bad_json", e.to_string()))?
    };
    Ok(Json(
        inspections::decide_reason(&app, &who, &id, &decision, b).await?,
    ))
}

/// Records a supervisor's quality review of an inspection he watched (checklist, outcome,
/// note); a custody event `review`.
#[utoipa::path(post, path = "/v1/inspections/{id}/reviews", tag = "inspections",
    params(("id" = String, Path)), request_body = ReviewIn,
    responses((status = 201, body = ReviewLogged), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn review(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Body(b): Body<ReviewIn>,
) -> Result<(StatusCode, Json<ReviewLogged>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(crate::ops::review::record(&app, &who, &id, b).await?),
    ))
}

/// Finds inspections; a custody event.
#[utoipa::path(get, path = "/v1/search/inspections", tag = "inspections", params(SearchQuery),
    responses((status = 200, body = InspectionList), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn search(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(q): Params<SearchQuery>,
) -> Result<Json<InspectionList>, ApiError> {
    Ok(Json(search::inspections(&app, &who, q).await?))
}

/// Bookmarks whose label contains `q`.
#[utoipa::path(get, path = "/v1/bookmarks", tag = "inspections", params(BookmarkQuery),
    responses((status = 200, body = BookmarkList), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn bookmarks(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(q): Params<BookmarkQuery>,
) -> Result<Json<BookmarkList>, ApiError> {
    Ok(Json(search::bookmarks(&app, &who, q).await?))
}

/// Marks a moment of an inspection or a camera's footage.
#[utoipa::path(post, path = "/v1/bookmarks", tag = "inspections", request_body = BookmarkIn,
    responses((status = 201, body = Created), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn add_bookmark(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(b): Body<BookmarkIn>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(search::add_bookmark(&app, &who, b).await?),
    ))
}
