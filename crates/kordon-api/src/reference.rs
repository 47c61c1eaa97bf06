//! Reference data: crossing points and officers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `PUT /v1/crossing-points/{code}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrossingPointIn {
    /// Name in Ukrainian.
    pub name_uk: String,
    /// Name in Latin letters.
    pub name_latin: String,
    /// IANA time zone, e.g. `Europe/Kyiv`.
    pub tz: String,
    /// Lane names.
    pub lanes: Vec<String>,
}

/// A crossing point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CrossingPoint {
    /// Its code, e.g. `UA-YAH-01`.
    pub code: String,
    /// Name in Ukrainian.
    pub name_uk: String,
    /// Name in Latin letters.
    pub name_latin: String,
    /// IANA time zone.
    pub tz: String,
    /// Lane names.
    pub lanes: Vec<String>,
}

/// `GET /v1/crossing-points`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CrossingPointList {
    /// Every crossing point.
    pub crossing_points: Vec<CrossingPoint>,
}

/// `PUT /v1/crossing-points/{code}`: whether it changed, and the custody event if it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CrossingPointChanged {
    /// The code.
    pub code: String,
    /// False when the same data was already stored (nothing logged).
    pub changed: bool,
    /// The `crossing-point-set` custody event, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
}

/// `PUT /v1/officers/{service_no}`: whether it changed, and the custody event if it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OfficerChanged {
    /// The service number.
    pub service_no: String,
    /// False when the same data was already stored (nothing logged).
    pub changed: bool,
    /// The `officer-set` custody event, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
}

/// Body of `PUT /v1/officers/{service_no}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfficerIn {
    /// Full name.
    pub name: String,
    /// The crossing point they serve at.
    pub crossing_point: String,
}

/// An officer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Officer {
    /// Service number.
    pub service_no: String,
    /// Full name.
    pub name: String,
    /// The crossing point they serve at.
    pub crossing_point: String,
}

/// `GET /v1/officers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OfficerList {
    /// Every officer.
    pub officers: Vec<Officer>,
}
