//! Customs inspection records and their coverage by recordings.
//!
//! `POST /v1/inspections` (administrator or the customs IT integration) takes one record
//! or an array; each is validated on its own, so one bad record neither stops nor
//! corrupts the others. A record with a known id is a retry when identical and a
//! correction (a new version) when not. `GET /v1/inspections/{id}/coverage` answers the
//! coverage computed from the verified chains, stored and recomputed only when something
//! it depends on changed (see `kordon_store::meta` on stored coverage).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use kordon_analytics::coverage::{Assignment, CameraTimeline, Coverage, coverage};
use kordon_analytics::search::normalize_plate;
use kordon_analytics::span::Span;
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::note::VerifierKey;
use kordon_core::time::Timestamp;
use kordon_store::meta::{GapReason, InspectionOutcome, InspectionRow, LatestInspection};
use kordon_store::now_ms;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::error::{ApiError, Body, Params};

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
    /// Optional: the declarant, when the customs system sends it.
    #[serde(default)]
    declarant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Officers {
    List(Vec<String>),
    Joined(String),
}

pub(crate) fn rfc3339(field: &str, v: &str) -> Result<i64, String> {
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
            declarant: self.declarant.unwrap_or_default().trim().to_owned(),
            kind: self.kind,
            outcome: self.outcome,
        })
    }
}

/// `POST /v1/inspections`: one record or an array; answers one result per record.
pub(crate) async fn put(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Body(body): Body<Value>,
) -> Result<Json<Value>, ApiError> {
    app.require(&headers, crate::auth::Op::ImportInspections, true)
        .await?;
    let items = match body {
        Value::Array(v) => v,
        other => vec![other],
    };
    let parsed: Vec<Result<InspectionRow, String>> = items
        .into_iter()
        .map(|item| {
            serde_json::from_value::<InspectionIn>(item)
                .map_err(|e| e.to_string())
                .and_then(InspectionIn::validate)
        })
        .collect();
    let valid: Vec<InspectionRow> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
    let mut stored = app
        .meta
        .put_inspections(&valid, now_ms())
        .await?
        .into_iter();
    let results: Vec<Value> = parsed
        .iter()
        .enumerate()
        .map(|(index, p)| match p {
            Err(error) => json!({"index": index, "status": "error", "error": error}),
            Ok(row) => match stored.next() {
                Some(InspectionOutcome::New) => {
                    json!({"index": index, "id": row.id, "status": "new"})
                }
                Some(InspectionOutcome::Unchanged) => {
                    json!({"index": index, "id": row.id, "status": "unchanged"})
                }
                Some(InspectionOutcome::Corrected(v)) => {
                    json!({"index": index, "id": row.id, "status": "corrected", "version": v})
                }
                None => json!({"index": index, "status": "error", "error": "not stored"}),
            },
        })
        .collect();
    Ok(Json(json!({ "results": results })))
}

/// Builds camera timelines lazily (once per camera and request) and computes coverage,
/// or takes the stored result when it is current.
pub(crate) struct Calculator<'a> {
    app: &'a App,
    timelines: HashMap<String, CameraTimeline>,
    /// Inspections whose coverage was recomputed (not taken from the store).
    pub(crate) recomputed: usize,
}

impl<'a> Calculator<'a> {
    pub(crate) fn new(app: &'a App) -> Self {
        Calculator {
            app,
            timelines: HashMap::new(),
            recomputed: 0,
        }
    }

    async fn timeline(&mut self, camera: &str) -> Result<(), ApiError> {
        if self.timelines.contains_key(camera) {
            return Ok(());
        }
        let t = match self.app.meta.device(camera).await? {
            Some(d) => {
                let key =
                    VerifierKey::parse(&d.vkey).map_err(|e| ApiError::Internal(e.to_string()))?;
                let raw = self.app.meta.device_links(camera).await?;
                let (cam, gap) = (camera.to_owned(), self.app.config.max_gap_ms);
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
        self.timelines.insert(camera.to_owned(), t);
        Ok(())
    }

    /// The coverage of the latest version of an inspection.
    pub(crate) async fn coverage(&mut self, li: &LatestInspection) -> Result<Coverage, ApiError> {
        if let Some(c) = li
            .coverage
            .as_deref()
            .and_then(|s| serde_json::from_str::<Coverage>(s).ok())
        {
            return Ok(c);
        }
        let i = &li.row;
        let mut assignments = Vec::new();
        for o in &i.officers {
            for a in self
                .app
                .meta
                .assignments_of(o, i.start_ms, i.end_ms)
                .await?
            {
                self.timeline(&a.device_id).await?;
                assignments.push(Assignment {
                    camera: a.device_id,
                    officer: a.officer,
                    span: Span::new(a.start_ms, a.end_ms.unwrap_or(i64::MAX)),
                });
            }
        }
        let c = coverage(
            Span::new(i.start_ms, i.end_ms),
            &i.officers,
            &assignments,
            &self.timelines,
        );
        self.recomputed += 1;
        let stored = serde_json::to_string(&c).map_err(|e| ApiError::Internal(e.to_string()))?;
        // Not stored if something changed meanwhile: the next request recomputes.
        self.app
            .meta
            .store_coverage(&i.id, li.generation, &stored)
            .await?;
        Ok(c)
    }
}

/// An instant in a zone, e.g. `2026-11-28T10:00:00+02:00[Europe/Kyiv]`.
pub(crate) fn local(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| Timestamp(ms).to_string(),
        |t| {
            t.to_zoned_datetime(tz.clone())
                .round(jiff::Unit::Second)
                .map_or_else(|_| Timestamp(ms).to_string(), |z| z.to_string())
        },
    )
}

/// For each gap: whether an approved reason overlaps it.
pub(crate) fn explained(c: &Coverage, reasons: &[GapReason]) -> Vec<bool> {
    c.uncovered
        .iter()
        .map(|(s, _)| {
            reasons
                .iter()
                .any(|g| g.status == "approved" && g.from_ms < s.end && s.start < g.to_ms)
        })
        .collect()
}

/// The latest non-rejected reason whose interval overlaps a gap.
pub(crate) fn reason_for(reasons: &[GapReason], s: &Span) -> Option<Value> {
    reasons
        .iter()
        .rev()
        .find(|g| g.status != "rejected" && g.from_ms < s.end && s.start < g.to_ms)
        .map(|g| json!({"id": g.id, "reason": g.reason, "text": g.text, "status": g.status}))
}

/// The JSON of one inspection with its coverage; times in UTC and in the crossing point's
/// zone.
pub(crate) fn coverage_json(
    li: &LatestInspection,
    c: &Coverage,
    reasons: &[GapReason],
    tz: &jiff::tz::TimeZone,
) -> Value {
    let i = &li.row;
    let unexplained = explained(c, reasons).iter().filter(|e| !**e).count();
    json!({
        "inspection_id": i.id, "version": li.version, "checkpoint": i.checkpoint, "lane": i.lane,
        "officers": i.officers, "start": Timestamp(i.start_ms).to_string(), "end": Timestamp(i.end_ms).to_string(),
        "start_local": local(i.start_ms, tz), "end_local": local(i.end_ms, tz),
        "vehicle_plate": i.plate, "declaration_no": i.declaration, "declarant": i.declarant, "kind": i.kind, "outcome": i.outcome,
        "duration_seconds": c.duration_ms as f64 / 1000.0,
        "covered_seconds": c.covered_ms as f64 / 1000.0,
        "night_seconds": c.night_ms as f64 / 1000.0,
        "coverage": c.ratio(),
        "uncovered": c.uncovered.iter().map(|(s, g)| json!({"from": Timestamp(s.start).to_string(), "to": Timestamp(s.end).to_string(), "from_local": local(s.start, tz), "to_local": local(s.end, tz), "seconds": s.len() as f64 / 1000.0, "class": g.as_str(), "reason": reason_for(reasons, s)})).collect::<Vec<_>>(),
        "stops": c.stops.iter().map(|s| json!({"at": Timestamp(s.at_ms).to_string(), "camera": s.camera, "kind": s.kind})).collect::<Vec<_>>(),
        "unexplained_gaps": unexplained,
    })
}

/// The crossing points' time zones (UTC for a crossing point not in the reference data).
pub(crate) async fn zones(app: &App) -> Result<HashMap<String, jiff::tz::TimeZone>, ApiError> {
    let mut out = HashMap::new();
    for c in app.meta.checkpoints().await? {
        if let Ok(tz) = jiff::tz::TimeZone::get(&c.tz) {
            out.insert(c.code, tz);
        }
    }
    Ok(out)
}

/// `GET /v1/inspections/{id}/coverage`.
pub(crate) async fn one(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ViewReports, false)
        .await?;
    let li = app
        .meta
        .inspection(&id)
        .await?
        .filter(|li| who.sees_inspection(&li.row.checkpoint, &li.row.officers))
        .ok_or_else(|| ApiError::NotFound(format!("no inspection {id}")))?;
    let c = Calculator::new(&app).coverage(&li).await?;
    let reasons = app.meta.gap_reasons(&id).await?;
    let zones = zones(&app).await?;
    let tz = zones
        .get(&li.row.checkpoint)
        .cloned()
        .unwrap_or(jiff::tz::TimeZone::UTC);
    Ok(Json(coverage_json(&li, &c, &reasons, &tz)))
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
    Body(b): Body<GapReasonIn>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::FileGapReason, true)
        .await?;
    let i = app
        .meta
        .inspection(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no inspection {id}")))?
        .row;
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
    let g = GapReason {
        id: gid.clone(),
        inspection_id: id.clone(),
        from_ms: from,
        to_ms: to,
        reason: b.reason.clone(),
        text: text.to_owned(),
        status: "pending".into(),
    };
    app.meta.file_gap_reason(&g, &who.name, now_ms()).await?;
    let detail = format!(
        "{} {}..{}: {}",
        b.reason,
        Timestamp(from),
        Timestamp(to),
        text
    );
    let index = app
        .custody(
            &who.name,
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
    let who = app
        .require(&headers, crate::auth::Op::DecideGapReason, true)
        .await?;
    let status = match decision.as_str() {
        "approve" => "approved",
        "reject" => "rejected",
        _ => return Err(ApiError::NotFound(format!("no action {decision}"))),
    };
    let g = app
        .meta
        .decide_gap_reason(&id, status, &who.name, now_ms())
        .await?;
    let index = app
        .custody(
            &who.name,
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
#[serde(deny_unknown_fields)]
pub(crate) struct SearchQuery {
    from: Option<String>,
    to: Option<String>,
    checkpoint: Option<String>,
    lane: Option<String>,
    officer: Option<String>,
    /// A camera assigned to one of the officers during the inspection.
    device: Option<String>,
    inspection_id: Option<String>,
    declaration_no: Option<String>,
    /// Any spelling: Cyrillic or Latin look-alike letters, spaces, case.
    vehicle_plate: Option<String>,
    /// Text in a bookmark's label.
    bookmark: Option<String>,
    limit: Option<i64>,
}

/// `GET /v1/search/inspections?...`: inspections by time, place, lane, officer, camera,
/// id, declaration, plate (normalised) or bookmark, with their coverage.
pub(crate) async fn search(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Params(q): Params<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::Search, false)
        .await?;
    let time = |f: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| rfc3339(f, s))
            .transpose()
            .map_err(|e| ApiError::BadRequest("bad_query", e))
    };
    // An officer searches only their own inspections.
    let officer = who.officer.clone().or(q.officer);
    let query = kordon_store::meta::InspectionQuery {
        from: time("from", &q.from)?,
        to: time("to", &q.to)?,
        checkpoint: q.checkpoint,
        lane: q.lane,
        officer,
        device: q.device,
        id: q.inspection_id,
        declaration: q.declaration_no,
        plate_norm: q
            .vehicle_plate
            .as_deref()
            .map(normalize_plate)
            .filter(|p| !p.is_empty()),
        bookmark: q.bookmark.filter(|b| !b.trim().is_empty()),
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    // Every search is a custody event: who looked for what.
    let summary: String = format!("{query:?}").chars().take(400).collect();
    app.custody(&who.name, "search", "inspections", &summary)
        .await?;
    let zones = zones(&app).await?;
    let mut calc = Calculator::new(&app);
    let mut out = Vec::new();
    for li in app.meta.search_inspections(&query, limit).await? {
        if !who.sees_inspection(&li.row.checkpoint, &li.row.officers) {
            continue;
        }
        let c = calc.coverage(&li).await?;
        let reasons = app.meta.gap_reasons(&li.row.id).await?;
        let tz = zones
            .get(&li.row.checkpoint)
            .cloned()
            .unwrap_or(jiff::tz::TimeZone::UTC);
        out.push(coverage_json(&li, &c, &reasons, &tz));
    }
    Ok(Json(json!({ "inspections": out })))
}

/// Body of `POST /v1/bookmarks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BookmarkIn {
    inspection_id: Option<String>,
    device: Option<String>,
    at: String,
    label: String,
}

/// `POST /v1/bookmarks`: marks a moment of an inspection or of a camera's footage; a
/// custody event.
pub(crate) async fn add_bookmark(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Body(b): Body<BookmarkIn>,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::Bookmark, true)
        .await?;
    let bad = |m: &str| ApiError::BadRequest("bad_request", m.to_owned());
    let at = rfc3339("at", &b.at).map_err(|e| ApiError::BadRequest("bad_request", e))?;
    let label = b.label.trim();
    if label.is_empty() || label.len() > 200 || label.chars().any(char::is_control) {
        return Err(bad("label must be 1-200 characters on one line"));
    }
    if b.inspection_id.is_none() && b.device.is_none() {
        return Err(bad("a bookmark needs an inspection_id or a device"));
    }
    if let Some(id) = &b.inspection_id
        && app.meta.inspection(id).await?.is_none()
    {
        return Err(ApiError::NotFound(format!("no inspection {id}")));
    }
    if let Some(d) = &b.device
        && app.meta.device(d).await?.is_none()
    {
        return Err(ApiError::UnknownDevice(d.clone()));
    }
    let id = hex::encode(
        &kordon_store::random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?[..8],
    );
    let bm = kordon_store::meta::Bookmark {
        id: id.clone(),
        inspection_id: b.inspection_id.clone(),
        device_id: b.device.clone(),
        at_ms: at,
        label: label.to_owned(),
        created_by: who.name.clone(),
    };
    app.meta.add_bookmark(&bm, now_ms()).await?;
    let subject = match (&b.inspection_id, &b.device) {
        (Some(i), Some(d)) => format!("inspection {i} device {d}"),
        (Some(i), None) => format!("inspection {i}"),
        (None, Some(d)) => format!("device {d}"),
        (None, None) => String::new(),
    };
    let index = app
        .custody(
            &who.name,
            "bookmark",
            &subject,
            &format!("{} {label}", Timestamp(at)),
        )
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(json!({"id": id, "log_index": index})),
    ))
}

/// Query of `GET /v1/bookmarks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BookmarkQuery {
    q: Option<String>,
    device: Option<String>,
}

/// `GET /v1/bookmarks?q=&device=`: bookmarks whose label contains `q`.
pub(crate) async fn bookmarks(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Params(q): Params<BookmarkQuery>,
) -> Result<Json<Value>, ApiError> {
    app.require(&headers, crate::auth::Op::Search, false)
        .await?;
    let rows = app
        .meta
        .bookmarks(q.q.as_deref().unwrap_or(""), q.device.as_deref())
        .await?;
    let out: Vec<Value> = rows
        .iter()
        .map(|b| json!({"id": b.id, "inspection_id": b.inspection_id, "device": b.device_id, "at": Timestamp(b.at_ms).to_string(), "label": b.label, "by": b.created_by}))
        .collect();
    Ok(Json(json!({ "bookmarks": out })))
}
