//! Typed operations: `ops::<area>::<verb>(&App, &Principal, input) -> Result<output,
//! ApiError>`, the one implementation of everything kordon does. The HTTP handlers
//! (`routes`), the web interface (`ui`) and the background jobs call these; each checks
//! its permission first ([`Principal::require`](crate::auth::Principal::require)) and its
//! scope where it reads or changes something of a crossing point or an officer. Inputs
//! and outputs are `kordon_api` types where they cross HTTP.
//!
//! Nothing here knows HTTP: no headers, no status codes, no extractors.

pub(crate) mod assignments;
pub(crate) mod axis;
pub(crate) mod cases;
pub(crate) mod coverage;
pub(crate) mod devices;
pub(crate) mod edges;
pub(crate) mod footage;
pub(crate) mod ingest;
pub(crate) mod inspections;
pub(crate) mod jobs;
pub(crate) mod log;
pub(crate) mod preservation;
pub(crate) mod redactions;
pub(crate) mod reference;
pub(crate) mod reports;
pub(crate) mod review;
pub(crate) mod search;
pub(crate) mod shares;
pub(crate) mod users;

use crate::error::ApiError;

/// A new random id of `bytes` bytes, hex.
pub(crate) fn new_id(bytes: usize) -> Result<String, ApiError> {
    let r = kordon_store::random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(hex::encode(&r[..bytes.min(r.len())]))
}

/// A field of one line, 1 to `max` bytes, trimmed.
pub(crate) fn one_line(field: &str, v: &str, max: usize) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "bad_request",
            format!("{field} must be 1-{max} characters on one line"),
        ));
    }
    Ok(v.to_owned())
}
