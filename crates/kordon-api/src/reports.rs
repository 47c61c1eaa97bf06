//! Reports over the inspections that started in a time range.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of every report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Range {
    /// Inspections starting at or after (RFC 3339).
    pub from: String,
    /// ... and before.
    pub to: String,
    /// Only this crossing point.
    pub crossing_point: Option<String>,
    /// Only this officer.
    pub officer: Option<String>,
}

/// Coverage of one crossing point, local day and officer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Day {
    /// Crossing point.
    pub crossing_point: String,
    /// Local day, `YYYY-MM-DD`.
    pub day: String,
    /// The zone the day is in.
    pub time_zone: String,
    /// Officer.
    pub officer: String,
    /// Inspections.
    pub inspections: usize,
    /// Their length.
    pub duration_seconds: f64,
    /// Of which recorded.
    pub covered_seconds: f64,
    /// Share recorded.
    pub coverage: f64,
    /// Recorded in night mode.
    pub night_seconds: f64,
    /// Inspections not fully recorded.
    pub uncovered_inspections: usize,
    /// Gaps without an approved reason.
    pub unexplained_gaps: usize,
}

/// `GET /v1/reports/daily`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DailyReport {
    /// One row per crossing point, day and officer.
    pub days: Vec<Day>,
}

/// Coverage of one shift: a camera from hand-out to return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Shift {
    /// Crossing point.
    pub crossing_point: String,
    /// Officer.
    pub officer: String,
    /// Camera.
    pub camera: String,
    /// Handed out (UTC).
    pub start: String,
    /// Handed out, local.
    pub start_local: String,
    /// Handed back (UTC), none while worn.
    pub end: Option<String>,
    /// Handed back, local.
    pub end_local: Option<String>,
    /// Inspections during the shift.
    pub inspections: usize,
    /// Their length.
    pub duration_seconds: f64,
    /// Of which recorded.
    pub covered_seconds: f64,
    /// Share recorded.
    pub coverage: f64,
    /// Gaps without an approved reason.
    pub unexplained_gaps: usize,
    /// Recording stops inside inspections.
    pub stops_in_inspections: usize,
}

/// `GET /v1/reports/shifts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShiftsReport {
    /// The shifts.
    pub shifts: Vec<Shift>,
}

/// Clearance times of one crossing point, lane and local day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClearanceDay {
    /// Crossing point.
    pub crossing_point: String,
    /// Lane.
    pub lane: String,
    /// Local day.
    pub day: String,
    /// The zone.
    pub time_zone: String,
    /// Inspections.
    pub inspections: usize,
    /// Median duration.
    pub p50_seconds: f64,
    /// 90th percentile.
    pub p90_seconds: f64,
    /// Mean.
    pub mean_seconds: f64,
}

/// One bucket of a duration histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Bucket {
    /// `lower-upper` seconds (`lower-` for the last).
    pub seconds: String,
    /// Inspections in it.
    pub inspections: usize,
}

/// The distribution of durations of one crossing point and lane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Distribution {
    /// Crossing point.
    pub crossing_point: String,
    /// Lane.
    pub lane: String,
    /// Trend of the daily median, seconds per day (none with fewer than two days).
    pub p50_seconds_per_day_trend: Option<f64>,
    /// The histogram.
    pub buckets: Vec<Bucket>,
}

/// `GET /v1/reports/clearance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClearanceReport {
    /// Per crossing point, lane and local day.
    pub clearance: Vec<ClearanceDay>,
    /// Per crossing point and lane.
    pub distribution: Vec<Distribution>,
}

/// A gap in the gaps report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Gap {
    /// The inspection.
    pub inspection_id: String,
    /// Crossing point.
    pub crossing_point: String,
    /// Officers, `;`-separated.
    pub officers: String,
    /// Start (UTC).
    pub from: String,
    /// Start, local.
    pub from_local: String,
    /// End (UTC).
    pub to: String,
    /// Length.
    pub seconds: f64,
    /// Gap class.
    pub class: String,
    /// The reason code filed, if any.
    pub reason: Option<String>,
    /// Whether an approved reason covers it.
    pub explained: bool,
}

/// An officer with repeated unexplained gaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Repeated {
    /// Service number.
    pub officer: String,
    /// How many.
    pub unexplained_gaps: usize,
    /// In which inspections.
    pub inspections: Vec<String>,
}

/// A recording stop inside an inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StopInInspection {
    /// The inspection.
    pub inspection_id: String,
    /// When (UTC).
    pub at: String,
    /// When, local.
    pub at_local: String,
    /// The camera.
    pub camera: String,
    /// The event kind.
    pub kind: String,
}

/// Unexplained gaps clustering on one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Cluster {
    /// The plate (normalised) or declarant.
    pub key: String,
    /// The inspections.
    pub inspections: Vec<String>,
}

/// A gap starting within a minute of an inspection's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EarlyGap {
    /// The inspection.
    pub inspection_id: String,
    /// Start (UTC).
    pub from: String,
    /// Start, local.
    pub from_local: String,
    /// Length.
    pub seconds: f64,
    /// Gap class.
    pub class: String,
}

/// Patterns worth a look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Anomalies {
    /// By vehicle plate.
    pub plates: Vec<Cluster>,
    /// By declarant.
    pub declarants: Vec<Cluster>,
    /// Gaps at an inspection's start.
    pub early_gaps: Vec<EarlyGap>,
}

/// `GET /v1/reports/gaps`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GapsReport {
    /// Every gap.
    pub gaps: Vec<Gap>,
    /// Officers with two or more unexplained gaps.
    pub repeated_unexplained: Vec<Repeated>,
    /// Recording stops inside inspections.
    pub stops_in_inspections: Vec<StopInInspection>,
    /// Patterns.
    pub anomalies: Anomalies,
}
