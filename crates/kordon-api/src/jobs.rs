//! Background jobs an administrator can start: retention and scrubbing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/retention/run`: what one retention run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RetentionRun {
    /// Segments purged (a tombstone each in the log).
    pub purged: u64,
    /// Segments past retention kept by a case, a legal hold or a violation.
    pub held: u64,
    /// Segments not yet past retention.
    pub kept: u64,
    /// Segments past retention kept because the centre has not confirmed them yet (a
    /// crossing point that forwards).
    #[serde(default)]
    pub waiting: u64,
}

/// `GET /v1/scrub`, `POST /v1/scrub` (202): re-hashing every stored segment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScrubStatus {
    /// Whether a pass is running.
    pub running: bool,
    /// Segments checked in this (or the last) pass.
    pub checked: u64,
    /// Segments to check.
    pub total: u64,
    /// Segments whose bytes did not match (quarantined).
    pub bad: u64,
    /// When the last pass ended.
    pub finished_at: Option<String>,
}

/// `POST /v1/audits` → 201: an audit run, one custody event for every segment it reads
/// (`GET /v1/blobs/{sha256}?audit=<id>`, by the same person, within a day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditRun {
    /// The run's id.
    pub id: String,
    /// The `audit` custody event.
    pub log_index: u64,
}
