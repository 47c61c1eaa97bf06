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
use kordon_api::edges::{
    Edge, EdgeList, EdgeProgress, EdgesReloaded, EntriesIn, Forwarding, Hole, Holes, HolesQuery,
    RecordsApplied, RecordsIn,
};
use kordon_core::checkpoint::Checkpoint;
use kordon_core::link::Link;
use kordon_core::merkle::{Frontier, leaf_hash};
use kordon_core::note::{Note, VerifierKey};
use kordon_core::time::Timestamp;
use kordon_store::meta::{EdgeHole, EdgeState, Record};

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
        updated_at: Timestamp(s.updated_at).to_string(),
        records: s.records,
    }
}

/// Every crossing point forwarding here.
pub(crate) async fn list(app: &App, who: &Principal) -> Result<EdgeList, ApiError> {
    who.require_national(Op::ManageDevices)?;
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
    who.require_national(Op::ManageDevices)?;
    edge_key(app, origin)?;
    let held = app.meta.edge(origin).await?.map(|s| edge(&s));
    Ok(EdgeProgress {
        origin: origin.to_owned(),
        size: held.as_ref().map_or(0, |e| e.size),
        records: held.as_ref().map_or(0, |e| e.records),
        checkpoint: held.as_ref().map(|e| e.checkpoint.clone()),
        updated_at: held.map(|e| e.updated_at),
        ..progress(origin, 0)
    })
}

fn progress(origin: &str, size: u64) -> EdgeProgress {
    EdgeProgress {
        origin: origin.to_owned(),
        size,
        checkpoint: None,
        updated_at: None,
        log_index: None,
        receipt: None,
        event: None,
        records: 0,
    }
}

fn edge_key(app: &App, origin: &str) -> Result<VerifierKey, ApiError> {
    app.edges
        .read()
        .map_err(|_| ApiError::Internal("edges lock".into()))?
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
    who.require_national(Op::ManageDevices)?;
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
        return Err(ApiError::EdgeRewritten(format!(
            "entry {index} of {} differs from the one the centre holds: the edge's log was rewritten",
            cp.origin
        )));
    }
    if cp.size <= size {
        return Ok(progress(&cp.origin, size));
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
        // The edge signed a tree that does not extend the one the centre holds: its log
        // was rewritten below what it forwarded before (or it sent other entries than it
        // signed). Either way nothing is stored, and operators are told.
        metrics::counter!("kordon_edge_rewrites_total").increment(1);
        tracing::error!(origin = %cp.origin, size = cp.size, held = size, "an edge's checkpoint does not extend what the centre holds");
        return Err(ApiError::EdgeRewritten(format!(
            "the checkpoint of {} at size {} (root {}) does not extend the {size} entries the centre holds (the entries give root {}): the edge's log was rewritten",
            cp.origin,
            cp.size,
            cp.root,
            frontier.root()
        )));
    }
    let state = EdgeState {
        origin: cp.origin.clone(),
        size: cp.size,
        frontier: frontier.to_text(),
        checkpoint: note.to_bytes(),
        updated_at: kordon_store::now_ms(),
        records: held.as_ref().map_or(0, |s| s.records),
    };
    let holes = skipped_holes(&req, &entries)?;
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
    if !holes.is_empty() {
        app.meta.add_edge_holes(&cp.origin, &holes).await?;
    }
    metrics::gauge!("kordon_edge_size", "origin" => cp.origin.clone()).set(cp.size as f64);
    // The receipt: the event and its proof to the checkpoint that logged it.
    let b64 = base64::engine::general_purpose::STANDARD;
    let reader = app.log.reader();
    let event = tokio::task::spawn_blocking(move || reader.entries(index, index + 1))
        .await
        .ok()
        .and_then(Result::ok)
        .and_then(|mut e| e.pop());
    let receipt = crate::ops::log::tlog_proof(app, index).await.ok();
    Ok(EdgeProgress {
        log_index: Some(index),
        receipt: receipt.map(|r| b64.encode(r)),
        event: event.map(|e| b64.encode(e)),
        ..progress(&cp.origin, cp.size)
    })
}

/// The holes a batch reports, each with its link's hash (so the centre sees when it
/// arrives after all).
fn skipped_holes(req: &EntriesIn, entries: &[Vec<u8>]) -> Result<Vec<EdgeHole>, ApiError> {
    let now = kordon_store::now_ms();
    req.skipped
        .iter()
        .map(|s| {
            let i = s
                .index
                .checked_sub(req.from)
                .filter(|i| (*i as usize) < entries.len())
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "bad_batch",
                        format!("skipped entry {} is not in the batch", s.index),
                    )
                })?;
            let link_hash = Link::parse(&entries[i as usize])
                .map(|l| l.hash().to_hex())
                .unwrap_or_else(|_| kordon_core::sha256(&entries[i as usize]).to_hex());
            Ok(EdgeHole {
                idx: s.index,
                link_hash,
                reason: s.reason.chars().take(500).collect(),
                reported_at: now,
            })
        })
        .collect()
}

/// Most records in one request.
pub(crate) const MAX_RECORDS: usize = 1000;

/// Applies a crossing point's changed records (its change feed up to `through`).
pub(crate) async fn records(
    app: &App,
    who: &Principal,
    req: RecordsIn,
) -> Result<RecordsApplied, ApiError> {
    who.require_national(Op::ManageDevices)?;
    edge_key(app, &req.origin)?;
    if req.records.len() > MAX_RECORDS {
        return Err(ApiError::BadRequest(
            "bad_records",
            format!("at most {MAX_RECORDS} records in one request"),
        ));
    }
    // The values' types are the store's (integer, text or null): anything else is refused.
    let records = req
        .records
        .into_iter()
        .map(|r| {
            let tables = serde_json::to_value(r.tables)
                .and_then(serde_json::from_value)
                .map_err(|_| {
                    ApiError::BadRequest(
                        "bad_records",
                        format!(
                            "record {} {}: a value is not an integer, text or null",
                            r.kind, r.id
                        ),
                    )
                })?;
            Ok(Record {
                kind: r.kind,
                id: r.id,
                tables,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let applied = app
        .meta
        .apply_records(&req.origin, req.through, &records)
        .await
        .map_err(|e| match e {
            kordon_store::meta::MetaError::Invalid(m) => ApiError::BadRequest("bad_records", m),
            e => e.into(),
        })?;
    if !applied {
        return Err(ApiError::Conflict(format!(
            "the centre holds no log of {}: forward its entries first",
            req.origin
        )));
    }
    let held = app.meta.edge(&req.origin).await?;
    Ok(RecordsApplied {
        records: held.map_or(req.through, |s| s.records),
    })
}

/// Page size of the hole lists.
const HOLES_PAGE: u32 = 500;

/// The items `origin` reported it could not send and that have not arrived since.
pub(crate) async fn holes(
    app: &App,
    who: &Principal,
    origin: &str,
    q: HolesQuery,
) -> Result<Holes, ApiError> {
    who.require_national(Op::ManageDevices)?;
    edge_key(app, origin)?;
    let limit = q.limit.unwrap_or(HOLES_PAGE).clamp(1, HOLES_PAGE);
    let rows = app.meta.edge_holes(origin, q.after, limit + 1).await?;
    let page: Vec<Hole> = rows
        .iter()
        .map(|h| Hole {
            index: h.idx,
            item: format!("link {}", h.link_hash),
            reason: h.reason.clone(),
            since: Timestamp(h.reported_at).to_string(),
            attempts: None,
            next: None,
        })
        .collect();
    Ok(paged(page, limit))
}

fn paged(mut holes: Vec<Hole>, limit: u32) -> Holes {
    let next = (holes.len() > limit as usize).then(|| {
        holes.truncate(limit as usize);
        holes.last().map_or(0, |h| h.index)
    });
    Holes { holes, next }
}

/// At a crossing point: the items not sent yet.
pub(crate) async fn forwarding_holes(
    app: &App,
    who: &Principal,
    q: HolesQuery,
) -> Result<Holes, ApiError> {
    who.require_national(Op::ViewDashboard)?;
    let limit = q.limit.unwrap_or(HOLES_PAGE).clamp(1, HOLES_PAGE);
    let rows = app.meta.forward_holes(q.after, limit + 1).await?;
    let page = rows
        .iter()
        .map(|h| Hole {
            index: h.idx,
            item: format!("device {} link {}", h.device_id, h.seq),
            reason: h.reason.clone(),
            since: Timestamp(h.found_at).to_string(),
            attempts: Some(h.attempts),
            next: Some(Timestamp(h.next_at).to_string()),
        })
        .collect();
    Ok(paged(page, limit))
}

/// Custody action: the centre read again which crossing points may forward to it.
pub(crate) const RELOAD_ACTION: &str = "edges-reload";

/// Reads `edges` again from the configuration the server started with (its file and the
/// environment) and records the new set as a custody event; `actor` is who asked
/// (a person, or `SIGHUP`).
///
/// # Errors
/// The configuration no longer loads (nothing changes).
pub(crate) async fn reload(app: &App, actor: &str) -> Result<EdgesReloaded, ApiError> {
    let cfg = crate::config::Config::load(app.config.source.as_deref())
        .map_err(|e| ApiError::BadRequest("bad_config", e.to_string()))?;
    let mut origins: Vec<String> = cfg
        .edges
        .iter()
        .filter_map(|k| VerifierKey::parse(k).ok())
        .map(|k| k.name().to_owned())
        .collect();
    origins.sort();
    *app.edges
        .write()
        .map_err(|_| ApiError::Internal("edges lock".into()))? = cfg.edges;
    let log_index = app
        .custody(actor, RELOAD_ACTION, "edges", &origins.join(" "))
        .await?;
    tracing::info!(edges = ?origins, "crossing points allowed to forward here reloaded");
    Ok(EdgesReloaded { origins, log_index })
}

/// `POST /v1/edges/reload`.
pub(crate) async fn reload_by(app: &App, who: &Principal) -> Result<EdgesReloaded, ApiError> {
    who.require_national(Op::ManageDevices)?;
    reload(app, &who.name).await
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
        confirmed: s.confirmed,
        holes: s.holes,
        connected: s.connected,
        last_error: s.last_error,
        last_ok: s
            .last_ok_ms
            .map(|t| kordon_core::time::Timestamp(t).to_string()),
    })
}
