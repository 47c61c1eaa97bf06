//! At the central server: crossing-point servers forward their log entries here
//! (`POST /v1/edges/entries`). Each batch ends at a checkpoint the edge signed with its
//! log key, which must be one of `edges` in the configuration; the centre keeps every
//! entry by index, refuses any that differs from one it already holds (an edge cannot
//! rewrite its past), recomputes the edge's root from its stored frontier plus the new
//! entries, and records the checkpoint in its own log as a custody event
//! (`edge-checkpoint`) — so the edge's history is fixed by the centre's witnessed log.
//! The segments and links themselves come through the cameras' own endpoints, verified
//! like any upload.

use base64::Engine as _;
use kordon_api::edges::{Edge, EdgeList, EdgeProgress, EntriesIn, Forwarding};
use kordon_core::checkpoint::Checkpoint;
use kordon_core::merkle::{Frontier, leaf_hash};
use kordon_core::note::{Note, VerifierKey};
use kordon_store::meta::EdgeState;

use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::state::App;

/// Custody action recording an edge's checkpoint in the central log.
pub(crate) const EDGE_CHECKPOINT: &str = "edge-checkpoint";

/// Most entries in one batch.
pub(crate) const MAX_BATCH: usize = 1024;

fn edge(s: &EdgeState) -> Edge {
    Edge {
        origin: s.origin.clone(),
        size: s.size,
        checkpoint: String::from_utf8_lossy(&s.checkpoint).into_owned(),
        updated_at: kordon_core::time::Timestamp(s.updated_at).to_string(),
    }
}

/// Every crossing point forwarding here.
pub(crate) async fn list(app: &App, who: &Principal) -> Result<EdgeList, ApiError> {
    who.require(Op::ManageDevices)?;
    Ok(EdgeList {
        edges: app.meta.edges().await?.iter().map(edge).collect(),
    })
}

/// How far one edge has come (size 0 if never).
pub(crate) async fn one(
    app: &App,
    who: &Principal,
    origin: &str,
) -> Result<EdgeProgress, ApiError> {
    who.require(Op::ManageDevices)?;
    edge_key(app, origin)?;
    let held = app.meta.edge(origin).await?.map(|s| edge(&s));
    Ok(EdgeProgress {
        origin: origin.to_owned(),
        size: held.as_ref().map_or(0, |e| e.size),
        checkpoint: held.as_ref().map(|e| e.checkpoint.clone()),
        updated_at: held.map(|e| e.updated_at),
        log_index: None,
    })
}

fn edge_key(app: &App, origin: &str) -> Result<VerifierKey, ApiError> {
    app.config
        .edges
        .iter()
        .filter_map(|k| VerifierKey::parse(k).ok())
        .find(|k| k.name() == origin)
        .ok_or_else(|| {
            ApiError::Forbidden(format!(
                "{origin} is not a crossing point allowed to forward here (edges in the configuration)"
            ))
        })
}

/// Appends a batch of an edge's log.
pub(crate) async fn append(
    app: &App,
    who: &Principal,
    req: EntriesIn,
) -> Result<EdgeProgress, ApiError> {
    who.require(Op::ManageDevices)?;
    if req.entries.len() > MAX_BATCH {
        return Err(ApiError::BadRequest(
            "bad_batch",
            format!("at most {MAX_BATCH} entries in one batch"),
        ));
    }
    let note = Note::parse(req.checkpoint.as_bytes())
        .map_err(|e| ApiError::BadRequest("bad_checkpoint", e.to_string()))?;
    let cp = Checkpoint::parse(note.text())
        .map_err(|e| ApiError::BadRequest("bad_checkpoint", e.to_string()))?;
    let key = edge_key(app, &cp.origin)?;
    note.verify(std::slice::from_ref(&key))
        .map_err(|e| ApiError::BadSignature(format!("checkpoint of {}: {e}", cp.origin)))?;
    if req.from + req.entries.len() as u64 != cp.size {
        return Err(ApiError::BadRequest(
            "bad_batch",
            format!(
                "{} entries from index {} do not end at the checkpoint's size {}",
                req.entries.len(),
                req.from,
                cp.size
            ),
        ));
    }
    let entries: Vec<Vec<u8>> = req
        .entries
        .iter()
        .map(|e| base64::engine::general_purpose::STANDARD.decode(e))
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::BadRequest("bad_batch", format!("entry not base64: {e}")))?;

    let held = app.meta.edge(&cp.origin).await?;
    let size = held.as_ref().map_or(0, |s| s.size);
    if req.from > size {
        return Err(ApiError::Conflict(format!(
            "the centre holds {size} entries of {}; send from index {size}",
            cp.origin
        )));
    }
    // What overlaps what is held must be exactly that.
    let overlap_end = size.min(cp.size);
    let stored = app
        .meta
        .edge_entries(&cp.origin, req.from, overlap_end)
        .await?;
    if let Some(i) = stored
        .iter()
        .zip(&entries)
        .position(|(held, sent)| held != sent)
    {
        let index = req.from + i as u64;
        metrics::counter!("kordon_edge_rewrites_total").increment(1);
        tracing::error!(origin = %cp.origin, index, "an edge sent a different entry at an index the centre holds");
        return Err(ApiError::Conflict(format!(
            "entry {index} of {} differs from the one the centre holds: the edge's log was rewritten",
            cp.origin
        )));
    }
    if cp.size <= size {
        return Ok(EdgeProgress {
            origin: cp.origin,
            size,
            checkpoint: None,
            updated_at: None,
            log_index: None,
        });
    }
    let mut frontier = match &held {
        Some(s) => Frontier::from_text(&s.frontier)
            .ok_or_else(|| ApiError::Internal(format!("stored frontier of {}", cp.origin)))?,
        None => Frontier::default(),
    };
    let new = &entries[(size - req.from) as usize..];
    for e in new {
        frontier.push_leaf_hash(leaf_hash(e));
    }
    if frontier.root() != cp.root {
        return Err(ApiError::BadRequest(
            "root_mismatch",
            format!(
                "the entries give root {}, the checkpoint of {} at size {} says {}",
                frontier.root(),
                cp.origin,
                cp.size,
                cp.root
            ),
        ));
    }
    let state = EdgeState {
        origin: cp.origin.clone(),
        size: cp.size,
        frontier: frontier.to_text(),
        checkpoint: note.to_bytes(),
        updated_at: kordon_store::now_ms(),
    };
    if !app.meta.extend_edge(size, new, &state).await? {
        return Err(ApiError::Conflict(format!(
            "another batch of {} arrived at the same time; ask again how far the centre is",
            cp.origin
        )));
    }
    let index = app
        .custody(
            &cp.origin,
            EDGE_CHECKPOINT,
            &format!("edge {}", cp.origin),
            &base64::engine::general_purpose::STANDARD.encode(note.to_bytes()),
        )
        .await?;
    metrics::gauge!("kordon_edge_size", "origin" => cp.origin.clone()).set(cp.size as f64);
    Ok(EdgeProgress {
        origin: cp.origin,
        size: cp.size,
        checkpoint: None,
        updated_at: None,
        log_index: Some(index),
    })
}

/// Where this server forwards and how far (`url` empty when it does not).
pub(crate) fn forwarding(app: &App, who: &Principal) -> Result<Forwarding, ApiError> {
    who.require(Op::ViewDashboard)?;
    let s = app.forwarding.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(Forwarding {
        url: s.url,
        forwarded: s.forwarded,
        size: s.size,
        backlog: s.size.saturating_sub(s.forwarded),
        segments: s.segments,
        connected: s.connected,
        last_error: s.last_error,
        last_ok: s
            .last_ok_ms
            .map(|t| kordon_core::time::Timestamp(t).to_string()),
    })
}
