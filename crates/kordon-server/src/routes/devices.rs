//! Cameras over HTTP: enrollment, uploads, revocation, assignment, continuity.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use kordon_api::axis::{AxisUser, AxisUsers, MapUser};
use kordon_api::devices::{
    Accepted, AssignRequest, AssignmentLogged, Continuity, Device, DeviceList, EnrollRequest,
    EnrollToken, Enrolled, Page, Recheck, RecheckRequest, ReturnRequest, Revoked, Stored,
};

use super::extract::{Body, Caller, Params};
use crate::error::ApiError;
use crate::ops::{assignments, axis, devices, ingest};
use crate::state::App;

/// A one-time enrollment token (administrator).
#[utoipa::path(post, path = "/v1/devices/{device}/enroll-token", tag = "devices",
    params(("device" = String, Path)),
    responses((status = 201, body = EnrollToken), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn enroll_token(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(device): Path<String>,
) -> Result<(StatusCode, Json<EnrollToken>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(devices::enroll_token(&app, &who, &device).await?),
    ))
}

/// A camera presents its token and public key.
#[utoipa::path(post, path = "/v1/enroll", tag = "devices", request_body = EnrollRequest,
    responses((status = 201, body = Enrolled), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn enroll(
    State(app): State<Arc<App>>,
    Body(req): Body<EnrollRequest>,
) -> Result<(StatusCode, Json<Enrolled>), ApiError> {
    Ok((StatusCode::CREATED, Json(devices::enroll(&app, req).await?)))
}

/// Revokes a camera (administrator).
#[utoipa::path(post, path = "/v1/devices/{device}/revoke", tag = "devices",
    params(("device" = String, Path)),
    responses((status = 200, body = Revoked), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn revoke(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(device): Path<String>,
) -> Result<Json<Revoked>, ApiError> {
    Ok(Json(devices::revoke(&app, &who, &device).await?))
}

/// A camera's key and state.
#[utoipa::path(get, path = "/v1/devices/{device}", tag = "devices",
    params(("device" = String, Path)),
    responses((status = 200, body = Device), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn device(
    State(app): State<Arc<App>>,
    Caller(_): Caller,
    Path(device): Path<String>,
) -> Result<Json<Device>, ApiError> {
    Ok(Json(devices::device(&app, &device).await?))
}

/// One page of cameras, by id, with their continuity summary.
#[utoipa::path(get, path = "/v1/devices", tag = "devices", params(Page),
    responses((status = 200, body = DeviceList), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Caller(_): Caller,
    Params(page): Params<Page>,
) -> Result<Json<DeviceList>, ApiError> {
    Ok(Json(devices::list(&app, &page).await?))
}

/// A camera's continuity: its chain state and a page of its problems.
#[utoipa::path(get, path = "/v1/devices/{device}/continuity", tag = "devices",
    params(("device" = String, Path), Page),
    responses((status = 200, body = Continuity), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn continuity(
    State(app): State<Arc<App>>,
    Caller(_): Caller,
    Path(device): Path<String>,
    Params(page): Params<Page>,
) -> Result<Json<Continuity>, ApiError> {
    Ok(Json(devices::continuity(&app, &device, &page).await?))
}

/// Recomputes a camera's chain from its stored links and compares it with the state
/// kept as they arrived (`repair` replaces a state that differs).
#[utoipa::path(post, path = "/v1/devices/{device}/recheck", tag = "devices",
    params(("device" = String, Path)), request_body = RecheckRequest,
    responses((status = 200, body = Recheck), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn recheck(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(device): Path<String>,
    Body(req): Body<RecheckRequest>,
) -> Result<Json<Recheck>, ApiError> {
    Ok(Json(
        devices::recheck(&app, &who, &device, req.repair).await?,
    ))
}

/// Hands a camera to an officer.
#[utoipa::path(post, path = "/v1/assignments", tag = "devices", request_body = AssignRequest,
    responses((status = 201, body = AssignmentLogged), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn assign(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(req): Body<AssignRequest>,
) -> Result<(StatusCode, Json<AssignmentLogged>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(assignments::assign(&app, &who, req).await?),
    ))
}

/// Takes a camera back.
#[utoipa::path(post, path = "/v1/assignments/return", tag = "devices", request_body = ReturnRequest,
    responses((status = 200, body = AssignmentLogged), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn give_back(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(req): Body<ReturnRequest>,
) -> Result<Json<AssignmentLogged>, ApiError> {
    Ok(Json(assignments::give_back(&app, &who, req).await?))
}

fn answer(a: Accepted) -> (StatusCode, Json<Accepted>) {
    let status = match a.stored {
        Stored::New => StatusCode::CREATED,
        Stored::Existing => StatusCode::OK,
    };
    (status, Json(a))
}

/// A segment: the signed manifest in `Kordon-Manifest` (standard base64), the bytes as
/// the body. 201 new, 200 a retry.
#[utoipa::path(put, path = "/v1/devices/{device}/segments/{seq}", tag = "devices",
    params(("device" = String, Path), ("seq" = u64, Path),
        ("Kordon-Manifest" = String, Header, description = "the signed kordon.segment/v1 or v2 note, standard base64")),
    request_body(content = Vec<u8>, content_type = "video/mp4"),
    responses((status = 201, body = Accepted), (status = 200, body = Accepted),
        (status = "4XX", body = kordon_api::Error), (status = "5XX", body = kordon_api::Error)))]
pub(crate) async fn put_segment(
    State(app): State<Arc<App>>,
    Path((device, seq)): Path<(String, u64)>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let mut stream = super::extract::upload_stream(&app, body);
    let manifest = headers.get("kordon-manifest").and_then(|v| v.to_str().ok());
    let health = headers
        .get(kordon_api::devices::HEALTH_HEADER)
        .and_then(|v| v.to_str().ok());
    let result = ingest::put_segment(&app, &device, seq, manifest, health, &mut stream).await;
    // Whatever the answer — a refusal, or a retry of a segment already stored that was
    // answered without reading it — read what is left of the body, so that the
    // connection stays usable for the camera's next upload.
    super::extract::drain(&mut stream).await;
    result.map(answer)
}

/// An event: the signed `kordon.event/v1` note as the body. 201 new, 200 a retry.
#[utoipa::path(put, path = "/v1/devices/{device}/events/{seq}", tag = "devices",
    params(("device" = String, Path), ("seq" = u64, Path)),
    request_body(content = String, content_type = "text/plain"),
    responses((status = 201, body = Accepted), (status = 200, body = Accepted),
        (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn put_event(
    State(app): State<Arc<App>>,
    Path((device, seq)): Path<(String, u64)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let health = headers
        .get(kordon_api::devices::HEALTH_HEADER)
        .and_then(|v| v.to_str().ok());
    ingest::put_event(&app, &device, seq, &body, health)
        .await
        .map(answer)
}

/// The body-worn system's users and the officers they are mapped to (who hands cameras
/// out at its crossing point).
#[utoipa::path(get, path = "/v1/axis/users", tag = "devices", params(Page),
    responses((status = 200, body = AxisUsers), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn axis_users(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(page): Params<Page>,
) -> Result<Json<AxisUsers>, ApiError> {
    Ok(Json(axis::users::list(&app, &who, &page).await?))
}

/// Maps a body-worn system's user to an officer (`null`: unmaps); a custody event.
#[utoipa::path(put, path = "/v1/axis/users/{uuid}", tag = "devices",
    params(("uuid" = String, Path)), request_body = MapUser,
    responses((status = 200, body = AxisUser), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn axis_map_user(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(uuid): Path<String>,
    Body(req): Body<MapUser>,
) -> Result<Json<AxisUser>, ApiError> {
    Ok(Json(axis::users::map(&app, &who, &uuid, req).await?))
}
