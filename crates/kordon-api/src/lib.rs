//! # kordon-api
//!
//! The contract of kordon's HTTP API: the request and response bodies and query
//! parameters of every `/v1` route, and the error body with its stable codes. The server
//! answers with these types and its clients (the `kordon` command, the camera agent, the
//! forwarder between servers, `kordon-verify --server`) read them, so a field renamed on
//! one side fails to compile on the other. The OpenAPI 3.1 document
//! (`docs/openapi.json`, served at `/v1/openapi.json`) is generated from them.
//!
//! Conventions: times are RFC 3339 strings in UTC (`start`), with the crossing point's
//! local time beside them where people read them (`start_local`, e.g.
//! `2026-11-28T10:00:00+02:00[Europe/Kyiv]`); hashes are lowercase hex; log entries,
//! links and proofs are standard base64; `log_index` is the index of the custody event a
//! change wrote to the transparency log. A crossing point is a border crossing point
//! (`crossing_point`); a checkpoint is always a signed log checkpoint.
//!
//! What it does not do: IO of any kind, validation beyond the shape (the server checks
//! the values and answers [`Error`] with a code).

pub mod axis;
pub mod cases;
pub mod devices;
pub mod edges;
pub mod error;
pub mod inspections;
pub mod jobs;
pub mod log;
pub mod reference;
pub mod release;
pub mod reports;
pub mod users;

pub use error::{Error, ErrorCode};

/// The answer of a change that wrote one custody event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Logged {
    /// The custody event's index in the log.
    pub log_index: u64,
}

/// A thing created with one custody event (`POST /v1/bookmarks`, `POST /v1/cases`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Created {
    /// The new thing's id.
    pub id: String,
    /// The custody event's index.
    pub log_index: u64,
}
