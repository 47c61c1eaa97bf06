//! Cases, evidence packages and their release.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `POST /v1/cases`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseIn {
    /// The case's id.
    pub id: String,
    /// The complaint's or proceeding's reference.
    pub reference: String,
    /// `complaint`, `lawyer_request`, `law_enforcement_request` or `internal_review`.
    pub kind: String,
    /// What it is about.
    pub description: String,
    /// The crossing point it belongs to (required of a user scoped to several; a user
    /// scoped to one gets theirs; none: a national case, for users without a scope).
    #[serde(default)]
    pub crossing_point: Option<String>,
}

/// Body of `POST /v1/cases/{id}/items`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    /// `inspection`, `segment`, `range` or `note`.
    pub kind: String,
    /// With `inspection`.
    #[serde(default)]
    pub inspection_id: Option<String>,
    /// With `segment` and `range`.
    #[serde(default)]
    pub device: Option<String>,
    /// With `segment`.
    #[serde(default)]
    pub seq: Option<u64>,
    /// With `range`.
    #[serde(default)]
    pub from: Option<String>,
    /// With `range`.
    #[serde(default)]
    pub to: Option<String>,
    /// With `note`; optional otherwise.
    #[serde(default)]
    pub text: String,
}

/// `POST /v1/cases/{id}/items` → 201.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ItemsAdded {
    /// The items' numbers.
    pub items: Vec<i64>,
    /// Their custody events.
    pub log_indexes: Vec<u64>,
}

/// `POST /v1/cases/{id}/close`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Closed {
    /// The case.
    pub case: String,
    /// Always true.
    pub closed: bool,
    /// The `case-close` custody event.
    pub log_index: u64,
}

/// An item of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    /// Its number.
    pub item: i64,
    /// `inspection`, `segment`, `range` or `note`.
    pub kind: String,
    /// The inspection.
    pub inspection_id: Option<String>,
    /// The camera.
    pub device: Option<String>,
    /// Footage from.
    pub from: Option<String>,
    /// Footage to.
    pub to: Option<String>,
    /// The note or description.
    pub text: String,
    /// Whether it holds footage (legal hold while the case is open).
    pub held: bool,
}

/// `GET /v1/cases/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Case {
    /// The case's id.
    pub id: String,
    /// Its reference.
    pub reference: String,
    /// Its kind.
    pub kind: String,
    /// What it is about.
    pub description: String,
    /// Opened.
    pub opened_at: String,
    /// Closed, if it was.
    pub closed_at: Option<String>,
    /// The crossing point it belongs to; none for a national case.
    #[serde(default)]
    pub crossing_point: Option<String>,
    /// Its items.
    pub items: Vec<Item>,
}

/// `POST /v1/cases/{id}/export`: the package written, ready at `GET /v1/exports/{file}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Exported {
    /// The case.
    pub case: String,
    /// The file name.
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256 (hex).
    pub sha256: String,
    /// SHA-256 of its contents list (hex), as logged.
    pub contents_sha256: String,
    /// The `case-export` custody event.
    pub export_log_index: u64,
    /// The checkpoint the proofs are to.
    pub checkpoint_size: u64,
    /// Segments whose bytes were missing from storage: left out and marked missing.
    #[serde(default)]
    pub missing: u64,
    /// Playable files derived from the held ranges (`derived/` in the package).
    #[serde(default)]
    pub derived: u64,
    /// RFC 3161 time-stamp tokens in it (`timestamps/`).
    #[serde(default)]
    pub timestamps: u64,
}

/// Body of `POST /v1/cases/{id}/receipts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptIn {
    /// Who received the package.
    pub recipient: String,
    /// The package's SHA-256 (hex).
    pub package_sha256: String,
}

/// `POST /v1/cases/{id}/receipts` → 201.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReceiptLogged {
    /// The case.
    pub case: String,
    /// The `case-release` custody event.
    pub log_index: u64,
}

/// A release event with its proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    /// The signed custody event (base64).
    pub event: String,
    /// Its C2SP tlog-proof (base64).
    pub proof: String,
    /// The private part a version 2 event commits to (recipient and package hash):
    /// opened for whoever holds the package.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private: Option<String>,
}

/// `GET /v1/receipts/{sha256}`: a package's releases, each provable to the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Receipts {
    /// The package.
    pub package_sha256: String,
    /// Its releases.
    pub receipts: Vec<Receipt>,
    /// The C2SP tlog-policy the proofs are under.
    pub policy: String,
}

/// `GET /v1/segments/{sha256}/evidence`: what an outsider needs to check one segment
/// file against the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SegmentEvidence {
    /// The camera.
    pub device: String,
    /// The link's sequence number.
    pub seq: u64,
    /// The signed link (base64).
    pub link: String,
    /// Its tlog-proof (base64).
    pub link_proof: String,
    /// The camera's `enroll` custody event (base64).
    pub enroll_event: String,
    /// Its tlog-proof (base64).
    pub enroll_proof: String,
    /// Whether retention purged the bytes (the link stays).
    pub purged: bool,
    /// The C2SP tlog-policy the proofs are under.
    pub policy: String,
}
