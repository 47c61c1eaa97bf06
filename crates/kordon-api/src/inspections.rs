//! Customs inspections, their coverage by footage, gap reasons, search and bookmarks.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An inspection as the customs IT system sends it (the CSV columns by name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionIn {
    /// The customs system's id.
    pub inspection_id: String,
    /// The crossing point's code.
    pub crossing_point: String,
    /// The lane.
    pub lane: String,
    /// Service numbers, `;`-separated (CSV) or a list (JSON).
    pub officers: Officers,
    /// Start (RFC 3339 with an offset).
    pub start: String,
    /// End.
    pub end: String,
    /// Vehicle plate as written.
    pub vehicle_plate: String,
    /// Declaration number.
    pub declaration_no: String,
    /// `documents`, `vehicle` or `goods`.
    pub kind: String,
    /// `cleared`, `violation` or `refused`.
    pub outcome: String,
    /// Who declared (a company or person), if known.
    #[serde(default)]
    pub declarant: Option<String>,
}

/// Officers of an inspection: a list, or one `;`-separated string (as in CSV).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Officers {
    /// `["UA-1", "UA-2"]`.
    List(Vec<String>),
    /// `"UA-1;UA-2"`.
    Joined(String),
}

/// Body of `POST /v1/inspections`: one record or an array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum InspectionsIn {
    /// Many.
    Many(Vec<serde_json::Value>),
    /// One.
    One(serde_json::Value),
}

/// What happened to one record of `POST /v1/inspections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportResult {
    /// Position of the record in the request.
    pub index: usize,
    /// The inspection id, when the record was valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What was done.
    pub status: ImportStatus,
    /// The version stored, when a correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// Why a record was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Outcome of one imported record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Stored for the first time.
    New,
    /// The same as stored.
    Unchanged,
    /// A new version of a stored inspection.
    Corrected,
    /// Refused (see `error`).
    Error,
}

/// `POST /v1/inspections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportResults {
    /// One per record, in order.
    pub results: Vec<ImportResult>,
}

/// The reason filed for a gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GapReasonRef {
    /// The reason's id.
    pub id: String,
    /// `malfunction`, `exemption`, `restricted_area` or `other`.
    pub reason: String,
    /// The explanation.
    pub text: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
}

/// A part of an inspection no camera recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Uncovered {
    /// Start (UTC).
    pub from: String,
    /// End (UTC).
    pub to: String,
    /// Start in the crossing point's zone.
    pub from_local: String,
    /// End in the crossing point's zone.
    pub to_local: String,
    /// Length.
    pub seconds: f64,
    /// Gap class (`no_camera`, `not_recording`, `missing_segments`, ...).
    pub class: String,
    /// The latest reason not rejected, if one was filed.
    pub reason: Option<GapReasonRef>,
}

/// A recording stop inside an inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InspectionStop {
    /// When.
    pub at: String,
    /// The camera.
    pub camera: String,
    /// The event kind.
    pub kind: String,
}

/// An inspection with its coverage: `GET /v1/inspections/{id}/coverage`, and the rows of
/// search and the coverage report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InspectionCoverage {
    /// The inspection's id.
    pub inspection_id: String,
    /// The version (corrections count up).
    pub version: i64,
    /// The crossing point.
    pub crossing_point: String,
    /// The lane.
    pub lane: String,
    /// Service numbers.
    pub officers: Vec<String>,
    /// Start (UTC).
    pub start: String,
    /// End (UTC).
    pub end: String,
    /// Start in the crossing point's zone.
    pub start_local: String,
    /// End in the crossing point's zone.
    pub end_local: String,
    /// Vehicle plate as written.
    pub vehicle_plate: String,
    /// Declaration number.
    pub declaration_no: String,
    /// Declarant.
    pub declarant: String,
    /// Kind.
    pub kind: String,
    /// Outcome.
    pub outcome: String,
    /// Length.
    pub duration_seconds: f64,
    /// Seconds some assigned camera recorded.
    pub covered_seconds: f64,
    /// Of which in night mode.
    pub night_seconds: f64,
    /// Share covered, 0..1.
    pub coverage: f64,
    /// Every gap.
    pub uncovered: Vec<Uncovered>,
    /// Recording stops inside.
    pub stops: Vec<InspectionStop>,
    /// Gaps without an approved reason.
    pub unexplained_gaps: usize,
}

/// A list of inspections with their coverage (search, coverage report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InspectionList {
    /// The inspections of this page (those the caller may see), by start.
    pub inspections: Vec<InspectionCoverage>,
    /// The cursor of the next page (`?after=`), if there may be one.
    pub next: Option<String>,
}

/// Body of `POST /v1/inspections/{id}/gap-reasons`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GapReasonIn {
    /// Start of the explained interval (within the inspection).
    pub from: String,
    /// Its end.
    pub to: String,
    /// `malfunction`, `exemption`, `restricted_area` or `other`.
    pub reason: String,
    /// 1-400 characters on one line.
    pub text: String,
}

/// Body of `POST /v1/gap-reasons/{id}/{decision}` (may be empty on an approval).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// Why: required on a rejection (the officer reads it and may explain again),
    /// 1-400 characters on one line.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Body of `POST /v1/inspections/{id}/reviews`: a supervisor's quality review of an
/// inspection he watched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    /// `meets`, `concerns` or `breach`.
    pub outcome: String,
    /// The checklist's items found to hold: `filmed_throughout`, `sound_clear`,
    /// `announced_recording`, `procedure_followed`, `conduct_proper`.
    #[serde(default)]
    pub checklist: Vec<String>,
    /// What the reviewer noted: one line, at most 400 characters; required unless the
    /// outcome is `meets`.
    #[serde(default)]
    pub note: String,
}

/// `POST /v1/inspections/{id}/reviews` → 201.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewLogged {
    /// The review's id.
    pub id: String,
    /// The custody event `review`.
    pub log_index: u64,
}

/// A gap reason's state after filing (201) or a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GapReasonState {
    /// The reason's id.
    pub id: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// The custody event's index.
    pub log_index: u64,
}

/// Query of `GET /v1/search/inspections`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Started at or after (RFC 3339).
    pub from: Option<String>,
    /// Started before.
    pub to: Option<String>,
    /// Crossing point code.
    pub crossing_point: Option<String>,
    /// Lane.
    pub lane: Option<String>,
    /// Officer's service number.
    pub officer: Option<String>,
    /// A camera assigned to one of the officers during the inspection.
    pub device: Option<String>,
    /// Inspection id.
    pub inspection_id: Option<String>,
    /// Declaration number.
    pub declaration_no: Option<String>,
    /// Any spelling: Cyrillic or Latin look-alike letters, spaces, case.
    pub vehicle_plate: Option<String>,
    /// Text in a bookmark's label.
    pub bookmark: Option<String>,
    /// At most this many (1-1000, default 100).
    pub limit: Option<i64>,
    /// The `next` of the previous page.
    pub after: Option<String>,
}

/// Body of `POST /v1/bookmarks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookmarkIn {
    /// The inspection marked (this or `device`, or both).
    #[serde(default)]
    pub inspection_id: Option<String>,
    /// The camera whose footage is marked.
    #[serde(default)]
    pub device: Option<String>,
    /// The moment.
    pub at: String,
    /// 1-200 characters on one line.
    pub label: String,
}

/// Query of `GET /v1/bookmarks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BookmarkQuery {
    /// Text the label contains.
    pub q: Option<String>,
    /// Only this camera's.
    pub device: Option<String>,
}

/// A bookmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Bookmark {
    /// Its id.
    pub id: String,
    /// The inspection marked.
    pub inspection_id: Option<String>,
    /// The camera marked.
    pub device: Option<String>,
    /// The moment.
    pub at: String,
    /// The label.
    pub label: String,
    /// Who made it.
    pub by: String,
}

/// `GET /v1/bookmarks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BookmarkList {
    /// The bookmarks.
    pub bookmarks: Vec<Bookmark>,
}
