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
    /// Segments sent.
    pub segments: u64,
    /// Whether the last attempt reached the centre.
    pub connected: bool,
    /// The last failure.
    pub last_error: Option<String>,
    /// When forwarding last succeeded.
    pub last_ok: Option<String>,
}
