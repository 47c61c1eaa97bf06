//! The log over HTTP: C2SP tlog-tiles under `/log/`, proofs under `/v1/log/`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kordon_api::log::{
    Consistency, ConsistencyQuery, Inclusion, InclusionQuery, Timestamps, TimestampsQuery,
};

use super::extract::Params;
use crate::error::ApiError;
use crate::ops::log;
use crate::state::App;

fn text(body: Vec<u8>, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

/// `GET /log/checkpoint`: the latest checkpoint (cosigned once the witnesses have).
pub(crate) async fn checkpoint(State(app): State<Arc<App>>) -> Response {
    text(log::checkpoint(&app), "no-store")
}

/// `GET /log/verifier-key`.
pub(crate) async fn verifier_key(State(app): State<Arc<App>>) -> Response {
    text(
        format!("{}\n", app.log.verifier()).into_bytes(),
        "max-age=3600",
    )
}

/// `GET /log/tile/...`: only tiles of the published tree; full tiles are immutable.
pub(crate) async fn tile(
    State(app): State<Arc<App>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let (data, full) = log::tile(&app, &path).await?;
    let cache = if full {
        "public, max-age=31536000, immutable"
    } else {
        "no-store"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        data,
    )
        .into_response())
}

/// The latest checkpoint that carries cosignatures (a signed note).
#[utoipa::path(get, path = "/v1/log/witnessed-checkpoint", tag = "log",
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 404, body = kordon_api::Error)))]
pub(crate) async fn witnessed_checkpoint(
    State(app): State<Arc<App>>,
) -> Result<Response, ApiError> {
    Ok(text(log::witnessed_checkpoint(&app)?, "no-store"))
}

/// An inclusion proof to the latest checkpoint.
#[utoipa::path(get, path = "/v1/log/inclusion", tag = "log", params(InclusionQuery),
    responses((status = 200, body = Inclusion), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn inclusion(
    State(app): State<Arc<App>>,
    Params(q): Params<InclusionQuery>,
) -> Result<Json<Inclusion>, ApiError> {
    Ok(Json(log::inclusion(&app, q).await?))
}

/// A consistency proof.
#[utoipa::path(get, path = "/v1/log/consistency", tag = "log", params(ConsistencyQuery),
    responses((status = 200, body = Consistency), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn consistency(
    State(app): State<Arc<App>>,
    Params(q): Params<ConsistencyQuery>,
) -> Result<Json<Consistency>, ApiError> {
    Ok(Json(log::consistency(&app, q).await?))
}

/// RFC 3161 time-stamp tokens over the log's checkpoints, by size (public, like the log).
#[utoipa::path(get, path = "/v1/log/timestamps", tag = "log", params(TimestampsQuery),
    responses((status = 200, body = Timestamps), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn timestamps(
    State(app): State<Arc<App>>,
    Params(q): Params<TimestampsQuery>,
) -> Result<Json<Timestamps>, ApiError> {
    Ok(Json(log::timestamps(&app, q).await?))
}

/// A C2SP tlog-proof of one entry to the latest checkpoint.
#[utoipa::path(get, path = "/v1/log/proof/{index}", tag = "log", params(("index" = u64, Path)),
    responses((status = 200, content_type = "text/plain", body = String),
        (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn proof(
    State(app): State<Arc<App>>,
    Path(index): Path<u64>,
) -> Result<Response, ApiError> {
    Ok(text(log::tlog_proof(&app, index).await?, "no-store"))
}
