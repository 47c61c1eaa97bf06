//! Release to others: redacted copies, shares with named recipients, officers' requests
//! that their footage be preserved (`docs/api.md` "Release").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One keyframe of a box: milliseconds from the start of the first source segment,
/// pixels of the source video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyIn {
    /// Time, ms from the start of the copy.
    pub t_ms: u64,
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// A box: `black` or `blur`, shown from its first keyframe to its last (one keyframe:
/// throughout), moving linearly between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoxIn {
    /// `black` or `blur`.
    pub style: String,
    /// Keyframes, in time order.
    pub keys: Vec<KeyIn>,
}

/// A time span, ms from the start of the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpanIn {
    /// Start.
    pub from_ms: u64,
    /// End.
    pub to_ms: u64,
}

/// The operations of a redaction, as the editor and `kordon redact --ops FILE` give them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpsIn {
    /// Boxes (numbered 1, 2, ... in this order).
    #[serde(default)]
    pub boxes: Vec<BoxIn>,
    /// Spans whose whole frame is blurred.
    #[serde(default)]
    pub blur: Vec<SpanIn>,
    /// Spans whose sound is muted.
    #[serde(default)]
    pub mute: Vec<SpanIn>,
    /// Spans whose sound is replaced by a tone.
    #[serde(default)]
    pub bleep: Vec<SpanIn>,
}

/// Body of `POST /v1/redactions`: a camera's footage over a time range (whole segments:
/// time 0 of the operations is the start of the first segment overlapping `from`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactionIn {
    /// The camera.
    pub device: String,
    /// Start, RFC 3339.
    pub from: String,
    /// End, RFC 3339.
    pub to: String,
    /// The inspection it is made for, if any (shown on its page).
    #[serde(default)]
    pub inspection: Option<String>,
    /// What to hide.
    pub ops: OpsIn,
    /// Why (kept in the custody trail).
    pub reason: String,
}

/// A redacted copy: `POST /v1/redactions` → 202 (rendering), `GET /v1/redactions/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RedactionOut {
    /// Id.
    pub id: String,
    /// The camera.
    pub device: String,
    /// The inspection, if any.
    pub inspection: Option<String>,
    /// First source segment.
    pub first_seq: u64,
    /// Last source segment.
    pub last_seq: u64,
    /// Start of the first source segment (time 0 of the operations), RFC 3339 UTC.
    pub from: String,
    /// End of the last, RFC 3339 UTC.
    pub to: String,
    /// The operations, `kordon.redaction/v1` text (`docs/spec/redaction.md`).
    pub ops: String,
    /// Their SHA-256.
    pub ops_sha256: String,
    /// `rendering` (in the background: ask again), `ready` or `failed`.
    pub state: String,
    /// While rendering: the share done, 0 to 1 (0 while waiting for its turn).
    pub progress: Option<f64>,
    /// Why it failed.
    pub error: Option<String>,
    /// SHA-256 of the rendered copy, once ready.
    pub sha256: Option<String>,
    /// Its size.
    pub size: Option<u64>,
    /// Why.
    pub reason: String,
    /// Who made it.
    pub created_by: String,
    /// When, RFC 3339 UTC.
    pub created_at: String,
    /// Where the rendered copy plays (`GET`, a custody event per viewer).
    pub video: String,
}

/// Body of `POST /v1/shares`: a redacted copy, or a case's whole evidence package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareIn {
    /// The redacted copy shared (supervisor, analyst), or
    #[serde(default)]
    pub redaction: Option<String>,
    /// the case whose evidence package is shared, originals included, its playable files
    /// watermarked (analyst).
    #[serde(default)]
    pub case: Option<String>,
    /// Who receives it (a person and their organisation).
    pub recipient: String,
    /// Why it is shared.
    pub purpose: String,
    /// Until when the link works, RFC 3339 (at most 90 days away).
    pub expires_at: String,
}

/// `POST /v1/shares` → 201: what the operator hands over. The code is shown once; the
/// package is prepared in the background (`GET /v1/shares/{id}` says when it is ready).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShareCreated {
    /// Id.
    pub id: String,
    /// The recipient's page (path on this server).
    pub link: String,
    /// The one-time code the recipient types on it (kept only hashed).
    pub code: String,
    /// Until when, RFC 3339 UTC.
    pub expires_at: String,
}

/// A share, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShareOut {
    /// Id.
    pub id: String,
    /// The redacted copy shared, or
    pub redaction: Option<String>,
    /// the case whose package is shared.
    pub case: Option<String>,
    /// Who receives it.
    pub recipient: String,
    /// Why.
    pub purpose: String,
    /// Who shared it.
    pub created_by: String,
    /// When, RFC 3339 UTC.
    pub created_at: String,
    /// Until when.
    pub expires_at: String,
    /// `preparing` (the package is being made), `failed`, `waiting` (code not used),
    /// `opened`, `expired`, `revoked` or `locked` (too many wrong codes).
    pub state: String,
    /// Downloads so far.
    pub downloads: u64,
    /// SHA-256 of the redacted package, once ready.
    pub sha256: Option<String>,
    /// Its size.
    pub size: Option<u64>,
    /// Why preparing it failed.
    pub error: Option<String>,
}

/// `GET /v1/shares`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ShareList {
    /// Newest first.
    pub shares: Vec<ShareOut>,
    /// Pass as `before` for the next page; absent on the last.
    pub next: Option<i64>,
}

/// Body of `POST /v1/preservations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreservationIn {
    /// The officer (service number); an officer asks for himself and may leave it out.
    #[serde(default)]
    pub officer: Option<String>,
    /// Start, RFC 3339.
    pub from: String,
    /// End, RFC 3339.
    pub to: String,
    /// Why.
    pub reason: String,
}

/// Body of `POST /v1/preservations/{id}/decision`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreservationDecision {
    /// Approve (hold the footage) or refuse.
    pub approve: bool,
    /// Why; required when refusing.
    #[serde(default)]
    pub comment: String,
}

/// A preservation request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PreservationOut {
    /// Id.
    pub id: String,
    /// The officer.
    pub officer: String,
    /// His crossing point.
    pub crossing_point: String,
    /// Start, RFC 3339 UTC.
    pub from: String,
    /// End.
    pub to: String,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: String,
    /// `pending`, `approved` or `refused`.
    pub state: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// The decider's comment.
    pub comment: Option<String>,
    /// The case holding the footage, once approved.
    pub case: Option<String>,
}

/// `GET /v1/preservations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PreservationList {
    /// Newest first.
    pub requests: Vec<PreservationOut>,
    /// Pass as `before` for the next page; absent on the last.
    pub next: Option<i64>,
}

/// An evidence package of a case that holds an inspection the officer worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnPackage {
    /// The case.
    pub case: String,
    /// The package (`GET /v1/me/packages/{file}`).
    pub file: String,
    /// Its size.
    pub size: u64,
}

/// `GET /v1/me/packages`: what an officer may take for his defence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnPackages {
    /// Newest case first; the latest package of each.
    pub packages: Vec<OwnPackage>,
}
