//! Administration over HTTP: people and tokens, jobs, crossing points forwarding here,
//! forwarding from here.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kordon_api::devices::Page;
use kordon_api::edges::{
    EdgeList, EdgeProgress, EdgesReloaded, EntriesIn, Forwarding, Holes, HolesQuery,
    RecordsApplied, RecordsIn,
};
use kordon_api::jobs::{RetentionRun, ScrubStatus};
use kordon_api::users::{Token, TokenIn, UserCreated, UserIn, UserList};

use super::extract::{Body, Caller, Params};
use crate::error::ApiError;
use crate::ops::{edges, jobs, users};
use crate::state::App;

/// One page of users, by name (administrator).
#[utoipa::path(get, path = "/v1/users", tag = "admin", params(Page),
    responses((status = 200, body = UserList), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn users(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(page): Params<Page>,
) -> Result<Json<UserList>, ApiError> {
    Ok(Json(users::list(&app, &who, &page).await?))
}

/// Disables an account: sessions end, tokens are revoked, it cannot sign in
/// (administrator).
#[utoipa::path(post, path = "/v1/users/{name}/disable", tag = "admin",
    params(("name" = String, Path)),
    responses((status = 200, body = Token), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn disable_user(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Result<Json<Token>, ApiError> {
    Ok(Json(users::set_disabled(&app, &who, &name, true).await?))
}

/// Enables a disabled account again (administrator).
#[utoipa::path(post, path = "/v1/users/{name}/enable", tag = "admin",
    params(("name" = String, Path)),
    responses((status = 200, body = Token), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn enable_user(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(name): Path<String>,
) -> Result<Json<Token>, ApiError> {
    Ok(Json(users::set_disabled(&app, &who, &name, false).await?))
}

/// Creates or replaces a user (administrator).
#[utoipa::path(post, path = "/v1/users", tag = "admin", request_body = UserIn,
    responses((status = 201, body = UserCreated), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn put_user(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(b): Body<UserIn>,
) -> Result<(StatusCode, Json<UserCreated>), ApiError> {
    Ok((StatusCode::CREATED, Json(users::put(&app, &who, b).await?)))
}

/// An API token for a user, shown once (administrator).
#[utoipa::path(post, path = "/v1/users/{name}/tokens", tag = "admin",
    params(("name" = String, Path)), request_body = TokenIn,
    responses((status = 201, body = Token), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn token(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(name): Path<String>,
    Body(b): Body<TokenIn>,
) -> Result<(StatusCode, Json<Token>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(users::token(&app, &who, &name, b).await?),
    ))
}

/// Revokes an API token (administrator).
#[utoipa::path(post, path = "/v1/users/{name}/tokens/{id}/revoke", tag = "admin",
    params(("name" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = Token), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn revoke_token(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Token>, ApiError> {
    Ok(Json(users::revoke_token(&app, &who, &name, &id).await?))
}

/// Applies the retention rules now (administrator).
#[utoipa::path(post, path = "/v1/retention/run", tag = "admin",
    responses((status = 200, body = RetentionRun), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn run_retention(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
) -> Result<Json<RetentionRun>, ApiError> {
    Ok(Json(jobs::run_retention(&app, &who).await?))
}

/// Starts a scrubbing pass (administrator).
#[utoipa::path(post, path = "/v1/scrub", tag = "admin",
    responses((status = 200, body = ScrubStatus), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn start_scrub(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
) -> Result<Json<ScrubStatus>, ApiError> {
    Ok(Json(jobs::start_scrub(&app, &who).await?))
}

/// Progress of the scrubber.
#[utoipa::path(get, path = "/v1/scrub", tag = "admin",
    responses((status = 200, body = ScrubStatus)))]
pub(crate) async fn scrub_status(
    State(app): State<Arc<App>>,
) -> Result<Json<ScrubStatus>, ApiError> {
    Ok(Json(jobs::scrub_status(&app)?))
}

/// Every crossing point forwarding here (administrator).
#[utoipa::path(get, path = "/v1/edges", tag = "admin",
    responses((status = 200, body = EdgeList), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn edges(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
) -> Result<Json<EdgeList>, ApiError> {
    Ok(Json(edges::list(&app, &who).await?))
}

/// How far one edge has come (administrator).
#[utoipa::path(get, path = "/v1/edges/{origin}", tag = "admin", params(("origin" = String, Path)),
    responses((status = 200, body = EdgeProgress), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn edge(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(origin): Path<String>,
) -> Result<Json<EdgeProgress>, ApiError> {
    Ok(Json(edges::one(&app, &who, &origin).await?))
}

/// Appends a batch of an edge's log (the edge's forwarder, with an administrator token).
#[utoipa::path(post, path = "/v1/edges/entries", tag = "admin", request_body = EntriesIn,
    responses((status = 200, body = EdgeProgress), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn edge_entries(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(b): Body<EntriesIn>,
) -> Result<Json<EdgeProgress>, ApiError> {
    Ok(Json(edges::append(&app, &who, b).await?))
}

/// Where this server forwards and how far.
#[utoipa::path(get, path = "/v1/forwarding", tag = "admin",
    responses((status = 200, body = Forwarding), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn forwarding(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
) -> Result<Json<Forwarding>, ApiError> {
    Ok(Json(edges::forwarding(&app, &who)?))
}

/// The items a crossing point reported it could not send that have not arrived since
/// (administrator, at the centre).
#[utoipa::path(get, path = "/v1/edges/{origin}/holes", tag = "admin",
    params(("origin" = String, Path), HolesQuery),
    responses((status = 200, body = Holes), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn edge_holes(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(origin): Path<String>,
    Params(q): Params<HolesQuery>,
) -> Result<Json<Holes>, ApiError> {
    Ok(Json(edges::holes(&app, &who, &origin, q).await?))
}

/// Applies a crossing point's changed records (the edge's forwarder, with an
/// administrator token).
#[utoipa::path(post, path = "/v1/edges/records", tag = "admin", request_body = RecordsIn,
    responses((status = 200, body = RecordsApplied), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn edge_records(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(b): Body<RecordsIn>,
) -> Result<Json<RecordsApplied>, ApiError> {
    Ok(Json(edges::records(&app, &who, b).await?))
}

/// Reads again which crossing points may forward here (`edges` in the configuration the
/// server started with); a custody event records the new set (administrator).
#[utoipa::path(post, path = "/v1/edges/reload", tag = "admin",
    responses((status = 200, body = EdgesReloaded), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn reload_edges(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
) -> Result<Json<EdgesReloaded>, ApiError> {
    Ok(Json(edges::reload_by(&app, &who).await?))
}

/// The items this crossing point could not send to the centre yet.
#[utoipa::path(get, path = "/v1/forwarding/holes", tag = "admin", params(HolesQuery),
    responses((status = 200, body = Holes), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn forwarding_holes(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Params(q): Params<HolesQuery>,
) -> Result<Json<Holes>, ApiError> {
    Ok(Json(edges::forwarding_holes(&app, &who, q).await?))
}
