//! Crossing-point servers ("edges") forwarding their log to the centre.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `POST /v1/edges/entries`: a batch of an edge's log entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntriesIn {
    /// The edge's signed checkpoint at `from + entries.len()`.
    pub checkpoint: String,
    /// Index of the first entry.
    pub from: u64,
    /// The entries, standard base64.
    pub entries: Vec<String>,
    /// Entries of the batch whose item (a segment with its bytes, an event) the edge could
    /// not send: the centre keeps the entry and lists the hole until the item arrives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

/// An item a crossing point could not send (yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Skipped {
    /// The entry's index in the edge's log.
    pub index: u64,
    /// Why.
    pub reason: String,
}

/// A hole in what a crossing point forwarded (`GET /v1/edges/{origin}/holes` at the
/// centre, `GET /v1/forwarding/holes` at the crossing point).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Hole {
    /// The entry's index in the crossing point's log.
    pub index: u64,
    /// The camera and link number (at the crossing point), or the link's SHA-256 (at
    /// the centre).
    pub item: String,
    /// Why it was not sent.
    pub reason: String,
    /// When it was found (RFC 3339).
    pub since: String,
    /// Attempts so far (at the crossing point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// The next attempt (at the crossing point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A page of holes, in index order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Holes {
    /// This page.
    pub holes: Vec<Hole>,
    /// `after` for the next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// Query of the hole lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolesQuery {
    /// Holes after this index.
    pub after: Option<u64>,
    /// Page size (default and most 500).
    pub limit: Option<u32>,
}

/// Body of `POST /v1/edges/records`: the records a crossing point changed (its change
/// feed `(after, through]`), each as every row it holds under the record's key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordsIn {
    /// The edge log's origin.
    pub origin: String,
    /// The change feed position these records bring the centre to.
    pub through: u64,
    /// The records.
    pub records: Vec<RecordIn>,
}

/// One record: `crossing_point`, `officer`, `assignment`, `inspection`, `gap_reason` or
/// `case`, with its rows per table (column → value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordIn {
    /// The kind.
    pub kind: String,
    /// Its key.
    pub id: String,
    /// Table → rows, each column → integer, text or null.
    #[schema(value_type = Object)]
    pub tables: std::collections::BTreeMap<String, Vec<serde_json::Map<String, serde_json::Value>>>,
}

/// Answer of `POST /v1/edges/records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordsApplied {
    /// The edge's change-feed position the centre holds.
    pub records: u64,
}

/// Answer of `POST /v1/edges/reload`: the crossing points now allowed to forward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EdgesReloaded {
    /// Their log origins.
    pub origins: Vec<String>,
    /// The `edges-reload` custody event.
    pub log_index: u64,
}

/// How far an edge has come at the centre (`GET /v1/edges/{origin}`, size 0 if never;
/// `POST /v1/edges/entries`, with the custody event recording its checkpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EdgeProgress {
    /// The edge log's origin.
    pub origin: String,
    /// Entries held.
    pub size: u64,
    /// The edge's latest signed checkpoint the centre holds (`GET`, once it holds one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// When it last forwarded (`GET`, once it has).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The `edge-checkpoint` custody event, when this call recorded one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// The centre's receipt for that event: a C2SP tlog-proof (standard base64) of its
    /// inclusion in the centre's log, which the edge checks with the centre's log key
    /// before it purges anything the checkpoint covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    /// The event itself (standard base64 of the signed note).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// How far the edge's records (change feed) have come.
    #[serde(default)]
    pub records: u64,
}

/// An edge in `GET /v1/edges`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Edge {
    /// The edge log's origin.
    pub origin: String,
    /// Entries held.
    pub size: u64,
    /// Its latest signed checkpoint.
    pub checkpoint: String,
    /// When it last forwarded.
    pub updated_at: String,
    /// How far its records (change feed) have come.
    pub records: u64,
}

/// `GET /v1/edges`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EdgeList {
    /// Every edge that forwarded here.
    pub edges: Vec<Edge>,
}

/// `GET /v1/forwarding`: where this server forwards and how far (`url` empty when it
/// does not).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Forwarding {
    /// The centre.
    pub url: String,
    /// Entries the centre holds.
    pub forwarded: u64,
    /// This log's size.
    pub size: u64,
    /// Entries waiting.
    pub backlog: u64,
    /// Segments the centre stored for the first time from this server.
    pub segments: u64,
    /// Entries the centre has confirmed with a receipt this server verified (footage
    /// below it may be purged here).
    pub confirmed: u64,
    /// Items that could not be sent yet (`GET /v1/forwarding/holes`).
    pub holes: u64,
    /// Whether the last attempt reached the centre.
    pub connected: bool,
    /// The last failure.
    pub last_error: Option<String>,
    /// When forwarding last succeeded.
    pub last_ok: Option<String>,
}
