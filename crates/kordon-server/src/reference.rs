//! Reference data: crossing points (names in Ukrainian and Latin script, IANA time zone,
//! lanes) and officers (service number, name, crossing point). Every change is a signed
//! custody event in the log.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use kordon_store::meta::{CheckpointRow, OfficerRow};
use kordon_store::now_ms;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::error::{ApiError, Body};

fn text(field: &'static str, v: &str, max: usize) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "bad_request",
            format!("{field} must be 1-{max} characters"),
        ));
    }
    Ok(v.to_owned())
}

fn code(field: &'static str, v: &str) -> Result<String, ApiError> {
    let v = text(field, v, 64)?;
    if v.chars().any(char::is_whitespace) || v.contains(';') {
        return Err(ApiError::BadRequest(
            "bad_request",
            format!("{field} must not contain spaces or ';'"),
        ));
    }
    Ok(v)
}

/// Body of `PUT /v1/checkpoints/{code}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckpointIn {
    name_uk: String,
    name_latin: String,
    tz: String,
    lanes: Vec<String>,
}

/// `PUT /v1/checkpoints/{code}` (administrator).
pub(crate) async fn put_checkpoint(
    State(app): State<Arc<App>>,
    Path(c): Path<String>,
    headers: HeaderMap,
    Body(b): Body<CheckpointIn>,
) -> Result<Json<Value>, ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ManageReference, true)
        .await?;
    if jiff::tz::TimeZone::get(&b.tz).is_err() {
        return Err(ApiError::BadRequest(
            "bad_tz",
            format!("{:?} is not an IANA time zone (e.g. Europe/Kyiv)", b.tz),
        ));
    }
    let row = CheckpointRow {
        code: code("code", &c)?,
        name_uk: text("name_uk", &b.name_uk, 200)?,
        name_latin: text("name_latin", &b.name_latin, 200)?,
        tz: b.tz,
        lanes: b
            .lanes
            .iter()
            .map(|l| code("lane", l))
            .collect::<Result<_, _>>()?,
    };
    let changed = app.meta.put_checkpoint(&row, now_ms()).await?;
    let mut out = json!({"code": row.code, "changed": changed});
    if changed {
        let detail = format!(
            "{} / {} ({}), lanes {}",
            row.name_uk,
            row.name_latin,
            row.tz,
            row.lanes.join(",")
        );
        out["log_index"] = json!(
            app.custody(
                &who.name,
                "checkpoint-set",
                &format!("checkpoint {}", row.code),
                &detail
            )
            .await?
        );
    }
    Ok(Json(out))
}

/// `GET /v1/checkpoints`.
pub(crate) async fn list_checkpoints(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    let rows = app.meta.checkpoints().await?;
    Ok(Json(
        json!({"checkpoints": rows.iter().map(|c| json!({"code": c.code, "name_uk": c.name_uk, "name_latin": c.name_latin, "tz": c.tz, "lanes": c.lanes})).collect::<Vec<_>>()}),
    ))
}

/// Body of `PUT /v1/officers/{service_no}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfficerIn {
    name: String,
    checkpoint: String,
}

/// `PUT /v1/officers/{service_no}` (administrator).
pub(crate) async fn put_officer(
    State(app): State<Arc<App>>,
    Path(n): Path<String>,
    headers: HeaderMap,
    Body(b): Body<OfficerIn>,
) -> Result<Json<Value>, ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ManageReference, true)
        .await?;
    if !app
        .meta
        .checkpoints()
        .await?
        .iter()
        .any(|c| c.code == b.checkpoint)
    {
        return Err(ApiError::BadRequest(
            "unknown_checkpoint",
            format!("no crossing point {:?}", b.checkpoint),
        ));
    }
    let row = OfficerRow {
        service_no: code("service_no", &n)?,
        name: text("name", &b.name, 200)?,
        checkpoint: b.checkpoint,
    };
    let changed = app.meta.put_officer(&row, now_ms()).await?;
    let mut out = json!({"service_no": row.service_no, "changed": changed});
    if changed {
        let detail = format!("{} at {}", row.name, row.checkpoint);
        out["log_index"] = json!(
            app.custody(
                &who.name,
                "officer-set",
                &format!("officer {}", row.service_no),
                &detail
            )
            .await?
        );
    }
    Ok(Json(out))
}

/// `GET /v1/officers`.
pub(crate) async fn list_officers(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    let rows = app.meta.officers().await?;
    Ok(Json(
        json!({"officers": rows.iter().map(|o| json!({"service_no": o.service_no, "name": o.name, "checkpoint": o.checkpoint})).collect::<Vec<_>>()}),
    ))
}
