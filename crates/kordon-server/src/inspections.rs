//! Customs inspection records and their coverage by recordings.
//!
//! `POST /v1/inspections` (administrator or the customs IT integration) takes one record
//! or an array; each is validated on its own, so one bad record neither stops nor
//! corrupts the others. A record with a known id is a retry when identical and a
//! correction (a new version) when not. `GET /v1/inspections/{id}/coverage` and
//! `GET /v1/reports/coverage?from=&to=` compute coverage from the verified chains.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use kordon_analytics::coverage::{Assignment, CameraTimeline, Coverage, coverage};
use kordon_analytics::search::normalize_plate;
use kordon_analytics::span::Span;
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::note::VerifierKey;
use kordon_core::time::Timestamp;
use kordon_store::meta::{InspectionOutcome, InspectionRow};
use kordon_store::now_ms;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::error::ApiError;

/// An inspection as the customs IT system sends it (the CSV columns by name).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InspectionIn {
    inspection_id: String,
    checkpoint: String,
    lane: String,
    /// Service numbers, `;`-separated (CSV) or a list (JSON).
    officers: Officers,
    start: String,
    end: String,
    vehicle_plate: String,
    declaration_no: String,
    kind: String,
    outcome: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Officers {
    List(Vec<String>),
    Joined(String),
}

fn rfc3339(field: &str, v: &str) -> Result<i64, String> {
    let t = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{field} {v:?} is not RFC 3339 with an offset: {e}"))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn word(field: &str, v: &str, max: usize) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(format!("{field} must be 1-{max} characters"));
    }
    Ok(v.to_owned())
}

impl InspectionIn {
    fn validate(self) -> Result<InspectionRow, String> {
        let officers: Vec<String> = match self.officers {
            Officers::List(v) => v,
            Officers::Joined(s) => s.split(';').map(str::to_owned).collect(),
        }
        .into_iter()
        .map(|o| o.trim().to_owned())
        .filter(|o| !o.is_empty())
        .collect();
        if officers.is_empty() {
            return Err("officers is empty".into());
        }
        let start_ms = rfc3339("start", &self.start)?;
        let end_ms = rfc3339("end", &self.end)?;
        if end_ms <= start_ms {
            return Err("end is not after start".into());
        }
        if !matches!(self.kind.as_str(), "documents" | "vehicle" | "goods") {
            return Err(format!(
                "kind {:?} is not documents, vehicle or goods",
                self.kind
            ));
        }
        if !matches!(self.outcome.as_str(), "cleared" | "violation" | "refused") {
            return Err(format!(
                "outcome {:?} is not cleared, violation or refused",
                self.outcome
            ));
        }
        Ok(InspectionRow {
            id: word("inspection_id", &self.inspection_id, 64)?,
            checkpoint: word("checkpoint", &self.checkpoint, 64)?,
            lane: word("lane", &self.lane, 32)?,
            officers,
            start_ms,
            end_ms,
            plate_norm: normalize_plate(&self.vehicle_plate),
            plate: self.vehicle_plate.trim().to_owned(),
            declaration: self.declaration_no.trim().to_owned(),
            kind: self.kind,
            outcome: self.outcome,
        })
    }
}

/// `POST /v1/inspections`: one record or an array; answers one result per record.
pub(crate) async fn put(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    app.require_admin(&headers)?;
    let items = match body {
        Value::Array(v) => v,
        other => vec![other],
    };
    let mut results = Vec::with_capacity(items.len());
    let now = now_ms();
    for (index, item) in items.into_iter().enumerate() {
        let parsed = serde_json::from_value::<InspectionIn>(item)
            .map_err(|e| e.to_string())
            .and_then(InspectionIn::validate);
        results.push(match parsed {
            Err(error) => json!({"index": index, "status": "error", "error": error}),
            Ok(row) => match app.meta.put_inspection(&row, now).await? {
                InspectionOutcome::New => json!({"index": index, "id": row.id, "status": "new"}),
                InspectionOutcome::Unchanged => {
                    json!({"index": index, "id": row.id, "status": "unchanged"})
                }
                InspectionOutcome::Corrected(v) => {
                    json!({"index": index, "id": row.id, "status": "corrected", "version": v})
                }
            },
        });
    }
    Ok(Json(json!({ "results": results })))
}

/// Builds timelines and assignments lazily and computes coverage.
struct Calculator<'a> {
    app: &'a App,
    timelines: HashMap<String, CameraTimeline>,
}

impl Calculator<'_> {
    async fn coverage(&mut self, i: &InspectionRow) -> Result<Coverage, ApiError> {
        let mut assignments = Vec::new();
        for o in &i.officers {
            for a in self
                .app
                .meta
                .assignments_of(o, i.start_ms, i.end_ms)
                .await?
            {
                assignments.push(Assignment {
                    camera: a.device_id.clone(),
                    officer: a.officer,
                    span: Span::new(a.start_ms, a.end_ms.unwrap_or(i64::MAX)),
                });
            }
        }
        for a in &assignments {
            if !self.timelines.contains_key(&a.camera) {
                let t = match self.app.meta.device(&a.camera).await? {
                    Some(d) => {
                        let key = VerifierKey::parse(&d.vkey)
                            .map_err(|e| ApiError::Internal(e.to_string()))?;
                        let raw = self.app.meta.device_links(&a.camera).await?;
                        let (cam, gap) = (a.camera.clone(), self.app.config.max_gap_ms);
                        tokio::task::spawn_blocking(move || {
                            CameraTimeline::from_chain(&verify_chain(
                                &cam,
                                &key,
                                &raw,
                                &ChainOptions { max_gap_ms: gap },
                            ))
                        })
                        .await
                        .map_err(|e| ApiError::Internal(e.to_string()))?
                    }
                    None => CameraTimeline::default(),
                };
                self.timelines.insert(a.camera.clone(), t);
            }
        }
        Ok(coverage(
            Span::new(i.start_ms, i.end_ms),
            &i.officers,
            &assignments,
            &self.timelines,
        ))
    }
}

fn coverage_json(
    i: &InspectionRow,
    version: i64,
    c: &Coverage,
    reasons: &[kordon_store::meta::GapReason],
) -> Value {
    // The latest non-rejected reason whose interval overlaps the gap explains it.
    let reason_for = |s: &Span| {
        reasons
            .iter()
            .rev()
            .find(|g| g.status != "rejected" && g.from_ms < s.end && s.start < g.to_ms)
            .map(|g| json!({"id": g.id, "reason": g.reason, "text": g.text, "status": g.status}))
    };
    let unexplained = unexplained(c, reasons);
    json!({
        "inspection_id": i.id, "version": version, "checkpoint": i.checkpoint, "lane": i.lane,
        "officers": i.officers, "start": Timestamp(i.start_ms).to_string(), "end": Timestamp(i.end_ms).to_string(),
        "vehicle_plate": i.plate, "declaration_no": i.declaration, "kind": i.kind, "outcome": i.outcome,
        "duration_seconds": c.duration_ms as f64 / 1000.0,
        "covered_seconds": c.covered_ms as f64 / 1000.0,
        "night_seconds": c.night_ms as f64 / 1000.0,
        "coverage": c.ratio(),
        "uncovered": c.uncovered.iter().map(|(s, g)| json!({"from": Timestamp(s.start).to_string(), "to": Timestamp(s.end).to_string(), "seconds": s.len() as f64 / 1000.0, "class": g.as_str(), "reason": reason_for(s)})).collect::<Vec<_>>(),
        "unexplained_gaps": unexplained,
    })
}

/// Query of the coverage report.
#[derive(Debug, Deserialize)]
pub(crate) struct Range {
    from: String,
    to: String,
}

/// `GET /v1/reports/coverage?from=<RFC 3339>&to=<RFC 3339>`: every inspection starting in the range.
pub(crate) async fn report(
    State(app): State<Arc<App>>,
    Query(r): Query<Range>,
) -> Result<Json<Value>, ApiError> {
    let rows = computed(&app, &r).await?;
    let out: Vec<Value> = rows
        .iter()
        .map(|x| coverage_json(&x.row, x.version, &x.coverage, &x.reasons))
        .collect();
    Ok(Json(json!({ "inspections": out })))
}

/// One inspection with its coverage and reasons.
struct Computed {
    row: InspectionRow,
    version: i64,
    coverage: Coverage,
    reasons: Vec<kordon_store::meta::GapReason>,
}

impl Computed {
    fn unexplained(&self) -> usize {
        unexplained(&self.coverage, &self.reasons)
    }
}

/// Gaps that no approved reason overlaps: they stay flagged.
fn unexplained(c: &Coverage, reasons: &[kordon_store::meta::GapReason]) -> usize {
    c.uncovered
        .iter()
        .filter(|(s, _)| {
            !reasons
                .iter()
                .any(|g| g.status == "approved" && g.from_ms < s.end && s.start < g.to_ms)
        })
        .count()
}

async fn computed(app: &App, r: &Range) -> Result<Vec<Computed>, ApiError> {
    let from = rfc3339("from", &r.from).map_err(|e| ApiError::BadRequest("bad_query", e))?;
    let to = rfc3339("to", &r.to).map_err(|e| ApiError::BadRequest("bad_query", e))?;
    let mut calc = Calculator {
        app,
        timelines: HashMap::new(),
    };
    let mut out = Vec::new();
    for (row, version) in app.meta.inspections(from, to).await? {
        let coverage = calc.coverage(&row).await?;
        let reasons = app.meta.gap_reasons(&row.id).await?;
        out.push(Computed {
            row,
            version,
            coverage,
            reasons,
        });
    }
    Ok(out)
}

/// The crossing points' time zones (UTC for a crossing point not in the reference data).
async fn zones(app: &App) -> Result<HashMap<String, jiff::tz::TimeZone>, ApiError> {
    let mut out = HashMap::new();
    for c in app.meta.checkpoints().await? {
        if let Ok(tz) = jiff::tz::TimeZone::get(&c.tz) {
            out.insert(c.code, tz);
        }
    }
    Ok(out)
}

/// The aggregates' view of computed inspections, each in its crossing point's zone.
fn facts<'a>(
    rows: &'a [Computed],
    zones: &'a HashMap<String, jiff::tz::TimeZone>,
    utc: &'a jiff::tz::TimeZone,
) -> Vec<kordon_analytics::aggregate::Fact<'a>> {
    rows.iter()
        .map(|x| kordon_analytics::aggregate::Fact {
            checkpoint: &x.row.checkpoint,
            tz: zones.get(&x.row.checkpoint).unwrap_or(utc),
            lane: &x.row.lane,
            officers: &x.row.officers,
            start_ms: x.row.start_ms,
            coverage: &x.coverage,
            unexplained: x.unexplained(),
        })
        .collect()
}

/// `GET /v1/reports/daily?from=&to=`: coverage per crossing point, local day and officer.
pub(crate) async fn daily(
    State(app): State<Arc<App>>,
    Query(r): Query<Range>,
) -> Result<Json<Value>, ApiError> {
    use kordon_analytics::aggregate::daily;
    let rows = computed(&app, &r).await?;
    let zones = zones(&app).await?;
    let utc = jiff::tz::TimeZone::UTC;
    let facts = facts(&rows, &zones, &utc);
    let out: Vec<Value> = daily(&facts)
        .into_iter()
        .map(|((cp, day, officer), d)| {
            json!({
                "checkpoint": cp, "day": day, "time_zone": zones.get(&cp).and_then(|z| z.iana_name()).unwrap_or("UTC"), "officer": officer,
                "inspections": d.inspections, "duration_seconds": d.duration_ms as f64 / 1000.0, "covered_seconds": d.covered_ms as f64 / 1000.0,
                "coverage": if d.duration_ms > 0 { d.covered_ms as f64 / d.duration_ms as f64 } else { 1.0 },
                "night_seconds": d.night_ms as f64 / 1000.0, "uncovered_inspections": d.uncovered_inspections, "unexplained_gaps": d.unexplained_gaps,
            })
        })
        .collect();
    Ok(Json(json!({ "days": out })))
}

/// `GET /v1/reports/clearance?from=&to=`: inspection durations per crossing point, lane and local day.
pub(crate) async fn clearance(
    State(app): State<Arc<App>>,
    Query(r): Query<Range>,
) -> Result<Json<Value>, ApiError> {
    use kordon_analytics::aggregate::clearance;
    let rows = computed(&app, &r).await?;
    let zones = zones(&app).await?;
    let utc = jiff::tz::TimeZone::UTC;
    let facts = facts(&rows, &zones, &utc);
    let out: Vec<Value> = clearance(&facts)
        .into_iter()
        .map(|((cp, lane, day), c)| json!({"checkpoint": cp, "lane": lane, "day": day, "inspections": c.count, "p50_seconds": c.p50_s, "p90_seconds": c.p90_s, "mean_seconds": c.mean_s}))
        .collect();
    Ok(Json(json!({ "clearance": out })))
}

/// `GET /v1/inspections/{id}/coverage`.
pub(crate) async fn one(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (i, v) = app
        .meta
        .inspection(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no inspection {id}")))?;
    let mut calc = Calculator {
        app: &app,
        timelines: HashMap::new(),
    };
    let c = calc.coverage(&i).await?;
    let reasons = app.meta.gap_reasons(&i.id).await?;
    Ok(Json(coverage_json(&i, v, &c, &reasons)))
}

/// Body of `POST /v1/inspections/{id}/gap-reasons`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GapReasonIn {
    from: String,
    to: String,
    reason: String,
    text: String,
}

/// `POST /v1/inspections/{id}/gap-reasons`: an officer or supervisor explains a gap.
pub(crate) async fn file_reason(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(b): Json<GapReasonIn>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    app.require_admin(&headers)?;
    let (i, _) = app
        .meta
        .inspection(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no inspection {id}")))?;
    let from = rfc3339("from", &b.from).map_err(|e| ApiError::BadRequest("bad_request", e))?;
    let to = rfc3339("to", &b.to).map_err(|e| ApiError::BadRequest("bad_request", e))?;
    if to <= from || from < i.start_ms || to > i.end_ms {
        return Err(ApiError::BadRequest(
            "bad_request",
            "the interval must lie within the inspection and end after it starts".into(),
        ));
    }
    if !matches!(
        b.reason.as_str(),
        "malfunction" | "exemption" | "restricted_area" | "other"
    ) {
        return Err(ApiError::BadRequest(
            "bad_request",
            "reason must be malfunction, exemption, restricted_area or other".into(),
        ));
    }
    let text = b.text.trim();
    if text.is_empty() || text.len() > 400 || text.contains('\n') {
        return Err(ApiError::BadRequest(
            "bad_request",
            "text must be 1-400 characters on one line".into(),
        ));
    }
    let gid = hex::encode(
        &kordon_store::random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?[..8],
    );
    let g = kordon_store::meta::GapReason {
        id: gid.clone(),
        inspection_id: id.clone(),
        from_ms: from,
        to_ms: to,
        reason: b.reason.clone(),
        text: text.to_owned(),
        status: "pending".into(),
    };
    app.meta.file_gap_reason(&g, "admin", now_ms()).await?;
    let detail = format!(
        "{} {}..{}: {}",
        b.reason,
        Timestamp(from),
        Timestamp(to),
        text
    );
    let index = app
        .custody(
            "admin",
            "gap-reason",
            &format!("inspection {id} reason {gid}"),
            &detail,
        )
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({"id": gid, "status": "pending", "log_index": index})),
    ))
}

/// `POST /v1/gap-reasons/{id}/approve` and `/reject` (supervisor).
pub(crate) async fn decide_reason(
    State(app): State<Arc<App>>,
    Path((id, decision)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    app.require_admin(&headers)?;
    let status = match decision.as_str() {
        "approve" => "approved",
        "reject" => "rejected",
        _ => return Err(ApiError::NotFound(format!("no action {decision}"))),
    };
    let g = app
        .meta
        .decide_gap_reason(&id, status, "admin", now_ms())
        .await?;
    let index = app
        .custody(
            "admin",
            &format!("gap-reason-{decision}"),
            &format!("inspection {} reason {id}", g.inspection_id),
            &g.text,
        )
        .await?;
    Ok(Json(
        json!({"id": id, "status": status, "log_index": index}),
    ))
}

/// Query of `GET /v1/search/inspections`.
#[derive(Debug, Deserialize)]
pub(crate) struct SearchQuery {
    from: Option<String>,
    to: Option<String>,
    checkpoint: Option<String>,
    lane: Option<String>,
    officer: Option<String>,
    inspection_id: Option<String>,
    declaration_no: Option<String>,
    /// Any spelling: Cyrillic or Latin look-alike letters, spaces, case.
    vehicle_plate: Option<String>,
    limit: Option<i64>,
}

/// `GET /v1/search/inspections?...`: inspections by time, place, lane, officer, id,
/// declaration or plate (normalised), with their coverage.
pub(crate) async fn search(
    State(app): State<Arc<App>>,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let time = |f: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| rfc3339(f, s))
            .transpose()
            .map_err(|e| ApiError::BadRequest("bad_query", e))
    };
    let query = kordon_store::meta::InspectionQuery {
        from: time("from", &q.from)?,
        to: time("to", &q.to)?,
        checkpoint: q.checkpoint,
        lane: q.lane,
        officer: q.officer,
        id: q.inspection_id,
        declaration: q.declaration_no,
        plate_norm: q
            .vehicle_plate
            .as_deref()
            .map(normalize_plate)
            .filter(|p| !p.is_empty()),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let mut calc = Calculator {
        app: &app,
        timelines: HashMap::new(),
    };
    let mut out = Vec::new();
    for (row, version) in app.meta.search_inspections(&query, limit).await? {
        let c = calc.coverage(&row).await?;
        let reasons = app.meta.gap_reasons(&row.id).await?;
        out.push(coverage_json(&row, version, &c, &reasons));
    }
    Ok(Json(json!({ "inspections": out })))
}
