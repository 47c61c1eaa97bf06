//! The log for readers: checkpoints, tiles of the published tree, proofs. No login:
//! anyone may audit the log, and nothing in it names a person.

use kordon_api::log::{
    Consistency, ConsistencyQuery, Inclusion, InclusionQuery, TimestampToken, Timestamps,
    TimestampsQuery,
};
use kordon_core::merkle;
use kordon_core::tiles::{TILE_WIDTH, TileId};
use kordon_core::tlog_proof::TlogProof;

use crate::error::ApiError;
use crate::state::App;

/// The latest checkpoint, with the witnesses' cosignatures once they have cosigned this
/// size.
pub(crate) fn checkpoint(app: &App) -> Vec<u8> {
    let published = app.log.published();
    if let Ok(w) = app.witnessed.read()
        && let Some((size, note)) = w.as_ref()
        && *size == published.size
    {
        return note.clone();
    }
    published.checkpoint.to_vec()
}

/// The latest checkpoint that carries cosignatures.
pub(crate) fn witnessed_checkpoint(app: &App) -> Result<Vec<u8>, ApiError> {
    let w = app
        .witnessed
        .read()
        .map_err(|_| ApiError::Internal("lock poisoned".into()))?;
    match w.as_ref() {
        Some((_, note)) => Ok(note.clone()),
        None => Err(ApiError::NotFound(
            "no checkpoint has been cosigned yet (are witnesses configured and up?)".into(),
        )),
    }
}

/// A tile of the published tree (`tile/...`), and whether it is full (never changes).
pub(crate) async fn tile(app: &App, path: &str) -> Result<(Vec<u8>, bool), ApiError> {
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
    Ok((data, full))
}

async fn audit_path(app: &App, index: u64) -> Result<Vec<kordon_core::Hash>, ApiError> {
    let reader = app.log.reader();
    tokio::task::spawn_blocking(move || merkle::inclusion_proof(&reader, index, reader.size()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::NotFound(e.to_string()))
}

/// An inclusion proof to the latest checkpoint, by index or by an entry's hash.
pub(crate) async fn inclusion(app: &App, q: InclusionQuery) -> Result<Inclusion, ApiError> {
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
    let proof = audit_path(app, index).await?;
    Ok(Inclusion {
        index,
        size: published.size,
        root: published.root.to_base64(),
        proof: proof.iter().map(|h| h.to_base64()).collect(),
        checkpoint: String::from_utf8_lossy(&published.checkpoint).into_owned(),
    })
}

/// A consistency proof between two sizes (the newer default: the latest).
pub(crate) async fn consistency(app: &App, q: ConsistencyQuery) -> Result<Consistency, ApiError> {
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
    Ok(Consistency {
        old,
        new,
        proof: proof.iter().map(|h| h.to_base64()).collect(),
    })
}

/// Tokens per page of `GET /v1/log/timestamps`.
const TIMESTAMPS_PAGE: u32 = 100;

/// A page of the RFC 3161 tokens over the log's checkpoints.
pub(crate) async fn timestamps(app: &App, q: TimestampsQuery) -> Result<Timestamps, ApiError> {
    // A page holds whole sizes (all TSAs' tokens of a checkpoint), so `after` splits none.
    let least = u32::try_from(app.tsas.len()).unwrap_or(u32::MAX).max(1);
    let limit = q
        .limit
        .unwrap_or(TIMESTAMPS_PAGE)
        .clamp(least, TIMESTAMPS_PAGE.max(least));
    let mut rows = app.meta.timestamps(q.after, limit + 1).await?;
    let next = if rows.len() > limit as usize {
        let beyond = rows[limit as usize].size;
        rows.retain(|r| r.size < beyond);
        rows.last().map(|r| r.size)
    } else {
        None
    };
    use base64::Engine as _;
    Ok(Timestamps {
        tokens: rows
            .into_iter()
            .map(|r| TimestampToken {
                tsa: r.tsa,
                size: r.size,
                time: kordon_core::time::Timestamp(r.stamped_at).to_string(),
                checkpoint: String::from_utf8_lossy(&r.checkpoint).into_owned(),
                token: base64::engine::general_purpose::STANDARD.encode(&r.token),
            })
            .collect(),
        next,
    })
}

/// A C2SP tlog-proof of entry `index` to the latest checkpoint.
pub(crate) async fn tlog_proof(app: &App, index: u64) -> Result<Vec<u8>, ApiError> {
    let published = app.log.published();
    let path = audit_path(app, index).await?;
    Ok(TlogProof {
        extra: None,
        index,
        path,
        checkpoint: published.checkpoint.to_vec(),
    }
    .to_bytes())
}
