//! Release to others over HTTP: redacted copies, shares, preservation requests.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use kordon_api::Logged;
use kordon_api::release::{
    OwnPackages, PreservationDecision, PreservationIn, PreservationList, PreservationOut,
    RedactionIn, RedactionOut, ShareCreated, ShareIn, ShareList, ShareOut,
};
use tower::ServiceExt as _;

use super::extract::{Body, Caller, Params};
use crate::error::ApiError;
use crate::ops::{preservation, redactions, shares};
use crate::state::App;

/// A page cursor.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Page {
    /// From a previous page's `next`.
    before: Option<i64>,
    /// Pending requests only.
    #[serde(default)]
    pending: bool,
}

/// Serves a file, with ranges.
async fn file(path: std::path::PathBuf, request: Request) -> Result<Response, ApiError> {
    let res = tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(res.into_response())
}

/// Makes a redacted copy (supervisor, analyst): checked now, rendered in the background
/// (`state`, `progress`), logged as a `derive` event when done.
#[utoipa::path(post, path = "/v1/redactions", tag = "release", request_body = RedactionIn,
    responses((status = 202, body = RedactionOut), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn redact(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(b): Body<RedactionIn>,
) -> Result<(StatusCode, Json<RedactionOut>), ApiError> {
    Ok((
        StatusCode::ACCEPTED,
        Json(redactions::create(&app, &who, b).await?),
    ))
}

/// A redacted copy.
#[utoipa::path(get, path = "/v1/redactions/{id}", tag = "release", params(("id" = String, Path)),
    responses((status = 200, body = RedactionOut), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn redaction(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<RedactionOut>, ApiError> {
    Ok(Json(redactions::out_of(
        redactions::get(&app, &who, &id).await?,
    )))
}

/// The redacted copy's video (a `view` custody event per person).
#[utoipa::path(get, path = "/v1/redactions/{id}/video", tag = "release", params(("id" = String, Path)),
    responses((status = 200, content_type = "video/mp4", body = Vec<u8>),
        (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn redaction_video(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    file(redactions::video(&app, &who, &id).await?, request).await
}

/// Shares a redacted copy with a named recipient: answers the link and the one-time code.
#[utoipa::path(post, path = "/v1/shares", tag = "release", request_body = ShareIn,
    responses((status = 201, body = ShareCreated), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn share(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(b): Body<ShareIn>,
) -> Result<(StatusCode, Json<ShareCreated>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(shares::create(&app, &who, b).await?),
    ))
}

/// Shares in scope, newest first, paged.
#[utoipa::path(get, path = "/v1/shares", tag = "release", params(Page),
    responses((status = 200, body = ShareList), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn list_shares(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(p): Params<Page>,
) -> Result<Json<ShareList>, ApiError> {
    Ok(Json(shares::list(&app, &who, p.before).await?))
}

/// A share: its state (`preparing` until its package is made), downloads.
#[utoipa::path(get, path = "/v1/shares/{id}", tag = "release", params(("id" = String, Path)),
    responses((status = 200, body = ShareOut), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn get_share(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<ShareOut>, ApiError> {
    Ok(Json(shares::get(&app, &who, &id).await?))
}

/// Revokes a share: its link refuses from now on.
#[utoipa::path(post, path = "/v1/shares/{id}/revoke", tag = "release", params(("id" = String, Path)),
    responses((status = 200, body = Logged), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn revoke_share(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Logged>, ApiError> {
    Ok(Json(Logged {
        log_index: shares::revoke(&app, &who, &id).await?,
    }))
}

/// Asks for an officer's footage over a range to be preserved (an officer: his own).
#[utoipa::path(post, path = "/v1/preservations", tag = "release", request_body = PreservationIn,
    responses((status = 201, body = PreservationOut), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn request_preservation(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(b): Body<PreservationIn>,
) -> Result<(StatusCode, Json<PreservationOut>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(preservation::request(&app, &who, b).await?),
    ))
}

/// Preservation requests: an officer's own, a supervisor's crossing points'.
#[utoipa::path(get, path = "/v1/preservations", tag = "release", params(Page),
    responses((status = 200, body = PreservationList), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn preservations(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(p): Params<Page>,
) -> Result<Json<PreservationList>, ApiError> {
    Ok(Json(
        preservation::list(&app, &who, p.pending, p.before).await?,
    ))
}

/// Approves (a case then holds the footage) or refuses a request; never one's own.
#[utoipa::path(post, path = "/v1/preservations/{id}/decision", tag = "release",
    params(("id" = String, Path)), request_body = PreservationDecision,
    responses((status = 200, body = PreservationOut), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn decide_preservation(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Body(b): Body<PreservationDecision>,
) -> Result<Json<PreservationOut>, ApiError> {
    Ok(Json(preservation::decide(&app, &who, &id, b).await?))
}

/// The evidence packages of the cases that hold an inspection the officer worked.
#[utoipa::path(get, path = "/v1/me/packages", tag = "release",
    responses((status = 200, body = OwnPackages), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn own_packages(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
) -> Result<Json<OwnPackages>, ApiError> {
    Ok(Json(preservation::own_packages(&app, &who).await?))
}

/// One of them (a `download` custody event).
#[utoipa::path(get, path = "/v1/me/packages/{file}", tag = "release", params(("file" = String, Path)),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>),
        (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn own_package(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    file(preservation::own_package(&app, &who, &name).await?, request).await
}
