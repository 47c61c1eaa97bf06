//! The log over HTTP: C2SP tlog-tiles under `/log/`, proofs under `/v1/log/`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kordon_core::merkle;
use kordon_core::tiles::{TILE_WIDTH, TileId};
use kordon_core::tlog_proof::TlogProof;
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::error::{ApiError, Params};

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

/// `GET /log/checkpoint`: the latest checkpoint, with the witnesses' cosignatures once
/// they have cosigned this size.
pub(crate) async fn checkpoint(State(app): State<Arc<App>>) -> Response {
    let published = app.log.published();
    if let Ok(w) = app.witnessed.read()
        && let Some((size, note)) = w.as_ref()
        && *size == published.size
    {
        return text(note.clone(), "no-store");
    }
    text(published.checkpoint.to_vec(), "no-store")
}

/// `GET /v1/log/witnessed-checkpoint`: the latest checkpoint that carries cosignatures.
pub(crate) async fn witnessed_checkpoint(
    State(app): State<Arc<App>>,
) -> Result<Response, ApiError> {
    let w = app
        .witnessed
        .read()
        .map_err(|_| ApiError::Internal("lock poisoned".into()))?;
    match w.as_ref() {
        Some((_, note)) => Ok(text(note.clone(), "no-store")),
        None => Err(ApiError::NotFound(
            "no checkpoint has been cosigned yet (are witnesses configured and up?)".into(),
        )),
    }
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
    let full_path = format!("tile/{path}");
    let id = TileId::parse_path(&full_path).map_err(|e| ApiError::NotFound(e.to_string()))?;
    let size = app.log.published().size;
    let count = match id.level {
        None => size,
        Some(l) => size >> (8 * u32::from(l)),
    };
    let full = u64::from(id.width) == TILE_WIDTH;
    let published = if full {
        (id.index + 1) * TILE_WIDTH <= count
    } else {
        id.index == count / TILE_WIDTH && u64::from(id.width) == count % TILE_WIDTH
    };
    if !published {
        return Err(ApiError::NotFound(format!(
            "{full_path} is not part of the tree of size {size}"
        )));
    }
    let data = tokio::fs::read(app.log.dir().join(&full_path))
        .await
        .map_err(|e| ApiError::Internal(format!("{full_path}: {e}")))?;
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

/// Query of `GET /v1/log/inclusion`.
#[derive(Debug, Deserialize)]
pub(crate) struct InclusionQuery {
    index: Option<u64>,
    /// Link or custody event hash (hex) instead of an index.
    hash: Option<String>,
}

/// `GET /v1/log/inclusion?index=N` or `?hash=<hex>`: proof to the latest checkpoint.
pub(crate) async fn inclusion(
    State(app): State<Arc<App>>,
    Params(q): Params<InclusionQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let index = match (q.index, q.hash) {
        (Some(i), None) => i,
        (None, Some(h)) => app
            .meta
            .log_index_of(&h)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no logged entry with hash {h}")))?,
        _ => {
            return Err(ApiError::BadRequest(
                "bad_query",
                "give exactly one of index or hash".into(),
            ));
        }
    };
    let published = app.log.published();
    let reader = app.log.reader();
    let proof =
        tokio::task::spawn_blocking(move || merkle::inclusion_proof(&reader, index, reader.size()))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| ApiError::NotFound(e.to_string()))?;
    Ok(Json(json!({
        "index": index,
        "size": published.size,
        "root": published.root.to_base64(),
        "proof": proof.iter().map(|h| h.to_base64()).collect::<Vec<_>>(),
        "checkpoint": String::from_utf8_lossy(&published.checkpoint),
    })))
}

/// Query of `GET /v1/log/consistency`.
#[derive(Debug, Deserialize)]
pub(crate) struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

/// `GET /v1/log/consistency?old=M[&new=N]`.
pub(crate) async fn consistency(
    State(app): State<Arc<App>>,
    Params(q): Params<ConsistencyQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let reader = app.log.reader();
    let new = q.new.unwrap_or(reader.size());
    if new > reader.size() {
        return Err(ApiError::NotFound(format!(
            "the log has {} entries",
            reader.size()
        )));
    }
    let old = q.old;
    let proof = tokio::task::spawn_blocking(move || merkle::consistency_proof(&reader, old, new))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::BadRequest("bad_query", e.to_string()))?;
    Ok(Json(
        json!({ "old": old, "new": new, "proof": proof.iter().map(|h| h.to_base64()).collect::<Vec<_>>() }),
    ))
}

/// `GET /v1/log/proof/{index}`: a C2SP tlog-proof of entry `index` to the latest checkpoint.
pub(crate) async fn tlog_proof(
    State(app): State<Arc<App>>,
    Path(index): Path<u64>,
) -> Result<Response, ApiError> {
    let published = app.log.published();
    let reader = app.log.reader();
    let path =
        tokio::task::spawn_blocking(move || merkle::inclusion_proof(&reader, index, reader.size()))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| ApiError::NotFound(e.to_string()))?;
    let p = TlogProof {
        extra: None,
        index,
        path,
        checkpoint: published.checkpoint.to_vec(),
    };
    Ok(text(p.to_bytes(), "no-store"))
}
