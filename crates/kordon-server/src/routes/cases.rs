//! Cases and evidence packages over HTTP.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use kordon_api::Created;
use kordon_api::cases::{
    Case, CaseIn, Closed, Exported, ItemIn, ItemsAdded, ReceiptIn, ReceiptLogged, Receipts,
    SegmentEvidence,
};
use tower::ServiceExt as _;

use super::extract::{Body, Caller};
use crate::error::ApiError;
use crate::ops::cases;
use crate::state::App;

/// Opens a case (analyst).
#[utoipa::path(post, path = "/v1/cases", tag = "cases", request_body = CaseIn,
    responses((status = 201, body = Created), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn open(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(b): Body<CaseIn>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    Ok((StatusCode::CREATED, Json(cases::open(&app, &who, b).await?)))
}

/// A case with its items.
#[utoipa::path(get, path = "/v1/cases/{id}", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = Case), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Case>, ApiError> {
    Ok(Json(cases::get(&app, &who, &id).await?))
}

/// Adds footage (held from now on) or a note.
#[utoipa::path(post, path = "/v1/cases/{id}/items", tag = "cases", params(("id" = String, Path)),
    request_body = ItemIn,
    responses((status = 201, body = ItemsAdded), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn add_item(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Body(b): Body<ItemIn>,
) -> Result<(StatusCode, Json<ItemsAdded>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(cases::add_item(&app, &who, &id, b).await?),
    ))
}

/// Closes a case: its legal holds are released.
#[utoipa::path(post, path = "/v1/cases/{id}/close", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = Closed), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn close(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Closed>, ApiError> {
    Ok(Json(cases::close(&app, &who, &id).await?))
}

/// Writes the evidence package.
#[utoipa::path(post, path = "/v1/cases/{id}/export", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = Exported), (status = "4XX", body = kordon_api::Error),
        (status = "5XX", body = kordon_api::Error)))]
pub(crate) async fn export(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<Exported>, ApiError> {
    Ok(Json(cases::export(&app, &who, &id).await?))
}

/// Records that a package was released to a recipient.
#[utoipa::path(post, path = "/v1/cases/{id}/receipts", tag = "cases", params(("id" = String, Path)),
    request_body = ReceiptIn,
    responses((status = 201, body = ReceiptLogged), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn receipt(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(id): Path<String>,
    Body(b): Body<ReceiptIn>,
) -> Result<(StatusCode, Json<ReceiptLogged>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(cases::receipt(&app, &who, &id, b).await?),
    ))
}

/// Downloads a package (ranges supported).
#[utoipa::path(get, path = "/v1/exports/{file}", tag = "cases", params(("file" = String, Path)),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>),
        (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn download(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let path = cases::download(&app, &who, &name).await?;
    let res = tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(res.into_response())
}

/// A package's releases with proofs.
#[utoipa::path(get, path = "/v1/receipts/{sha256}", tag = "cases", params(("sha256" = String, Path)),
    responses((status = 200, body = Receipts), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn receipts(
    State(app): State<Arc<App>>,
    Path(sha): Path<String>,
) -> Result<Json<Receipts>, ApiError> {
    Ok(Json(cases::receipts(&app, &sha).await?))
}

/// What an outsider needs to check one segment file against the log.
#[utoipa::path(get, path = "/v1/segments/{sha256}/evidence", tag = "cases",
    params(("sha256" = String, Path)),
    responses((status = 200, body = SegmentEvidence), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn segment_evidence(
    State(app): State<Arc<App>>,
    Path(sha): Path<String>,
) -> Result<Json<SegmentEvidence>, ApiError> {
    Ok(Json(cases::segment_evidence(&app, &sha).await?))
}
