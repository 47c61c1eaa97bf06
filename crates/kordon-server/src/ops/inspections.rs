//! Customs inspection records, their coverage, and the reasons filed for their gaps.
//!
//! An import takes one record or an array; each is validated on its own, so one bad
//! record neither stops nor corrupts the others. A record with a known id is a retry
//! when identical and a correction (a new version) when not.

use kordon_analytics::search::normalize_plate;
use kordon_api::inspections::{
    DecisionIn, GapReasonIn, GapReasonState, ImportResult, ImportResults, ImportStatus,
    InspectionCoverage, InspectionIn, InspectionsIn, Officers,
};
use kordon_core::time::Timestamp;
use kordon_store::meta::{GapReason, InspectionOutcome, InspectionRow};
use kordon_store::now_ms;

use super::coverage::{Calculator, inspection_coverage};
use super::new_id;
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::localtime::{rfc3339, zones};
use crate::state::App;

fn word(field: &str, v: &str, max: usize) -> Result<String, String> {
    let v = v.trim();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(format!("{field} must be 1-{max} characters"));
    }
    Ok(v.to_owned())
}

/// A record checked and in the store's terms.
fn validate(i: InspectionIn) -> Result<InspectionRow, String> {
    let officers: Vec<String> = match i.officers {
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
    let start_ms = rfc3339("start", &i.start)?;
    let end_ms = rfc3339("end", &i.end)?;
    if end_ms <= start_ms {
        return Err("end is not after start".into());
    }
    if !matches!(i.kind.as_str(), "documents" | "vehicle" | "goods") {
        return Err(format!(
            "kind {:?} is not documents, vehicle or goods",
            i.kind
        ));
    }
    if !matches!(i.outcome.as_str(), "cleared" | "violation" | "refused") {
        return Err(format!(
            "outcome {:?} is not cleared, violation or refused",
            i.outcome
        ));
    }
    Ok(InspectionRow {
        id: word("inspection_id", &i.inspection_id, 64)?,
        crossing_point: word("crossing_point", &i.crossing_point, 64)?,
        lane: word("lane", &i.lane, 32)?,
        officers,
        start_ms,
        end_ms,
        plate_norm: normalize_plate(&i.vehicle_plate),
        plate: i.vehicle_plate.trim().to_owned(),
        declaration: i.declaration_no.trim().to_owned(),
        declarant: i.declarant.unwrap_or_default().trim().to_owned(),
        kind: i.kind,
        outcome: i.outcome,
    })
}

/// Imports one record or many; one result per record.
pub(crate) async fn import(
    app: &App,
    who: &Principal,
    body: InspectionsIn,
) -> Result<ImportResults, ApiError> {
    who.require(Op::ImportInspections)?;
    let items = match body {
        InspectionsIn::Many(v) => v,
        InspectionsIn::One(v) => vec![v],
    };
    let parsed: Vec<Result<InspectionRow, String>> = items
        .into_iter()
        .map(|item| {
            serde_json::from_value::<InspectionIn>(item)
                .map_err(|e| e.to_string())
                .and_then(validate)
        })
        .collect();
    let valid: Vec<InspectionRow> = parsed.iter().filter_map(|p| p.clone().ok()).collect();
    let mut stored = app
        .meta
        .put_inspections(&valid, now_ms())
        .await?
        .into_iter();
    let result = |index, id: Option<&str>, status, version, error: Option<String>| ImportResult {
        index,
        id: id.map(str::to_owned),
        status,
        version,
        error,
    };
    let results = parsed
        .iter()
        .enumerate()
        .map(|(index, p)| match p {
            Err(error) => result(index, None, ImportStatus::Error, None, Some(error.clone())),
            Ok(row) => match stored.next() {
                Some(InspectionOutcome::New) => {
                    result(index, Some(&row.id), ImportStatus::New, None, None)
                }
                Some(InspectionOutcome::Unchanged) => {
                    result(index, Some(&row.id), ImportStatus::Unchanged, None, None)
                }
                Some(InspectionOutcome::Corrected(v)) => {
                    result(index, Some(&row.id), ImportStatus::Corrected, Some(v), None)
                }
                None => result(
                    index,
                    None,
                    ImportStatus::Error,
                    None,
                    Some("not stored".into()),
                ),
            },
        })
        .collect();
    Ok(ImportResults { results })
}

/// One inspection with its coverage, if `who` may see it.
pub(crate) async fn coverage_of(
    app: &App,
    who: &Principal,
    id: &str,
) -> Result<InspectionCoverage, ApiError> {
    who.require(Op::ViewReports)?;
    let li = app
        .meta
        .inspection(id)
        .await?
        .filter(|li| who.sees_inspection(&li.row.crossing_point, &li.row.officers))
        .ok_or_else(|| ApiError::NotFound(format!("no inspection {id}")))?;
    let c = Calculator::new(app).coverage(&li).await?;
    let reasons = app.meta.gap_reasons(id).await?;
    let zones = zones(app).await?;
    let tz = zones
        .get(&li.row.crossing_point)
        .cloned()
        .unwrap_or(jiff::tz::TimeZone::UTC);
    Ok(inspection_coverage(&li, &c, &reasons, &tz))
}

/// An officer or supervisor explains a gap of an inspection.
pub(crate) async fn file_reason(
    app: &App,
    who: &Principal,
    id: &str,
    b: GapReasonIn,
) -> Result<GapReasonState, ApiError> {
    who.require(Op::FileGapReason)?;
    let i = app
        .meta
        .inspection(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no inspection {id}")))?
        .row;
    if !who.sees_inspection(&i.crossing_point, &i.officers) {
        return Err(ApiError::Forbidden(format!(
            "inspection {id} is not yours to explain (another officer's, or another crossing point's)"
        )));
    }
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
    // A gap is explained once at a time: again only after a rejection.
    if let Some(g) = app.meta.gap_reasons(id).await?.iter().find(|g| {
        g.from_ms < to && from < g.to_ms && matches!(g.status.as_str(), "pending" | "approved")
    }) {
        return Err(ApiError::Conflict(format!(
            "reason {} ({}) already explains this time; explain again only after a rejection",
            g.id, g.status
        )));
    }
    let gid = new_id(8)?;
    let g = GapReason {
        id: gid.clone(),
        inspection_id: id.to_owned(),
        from_ms: from,
        to_ms: to,
        reason: b.reason.clone(),
        text: text.to_owned(),
        status: "pending".into(),
        filed_by: who.name.clone(),
        filed_at: now_ms(),
        decided_by: None,
        decided_at: None,
        comment: None,
    };
    app.meta.file_gap_reason(&g).await?;
    let detail = format!(
        "{} {}..{}: {}",
        b.reason,
        Timestamp(from),
        Timestamp(to),
        text
    );
    let log_index = app
        .custody(
            &who.name,
            "gap-reason",
            &format!("inspection {id} reason {gid}"),
            &detail,
        )
        .await?;
    Ok(GapReasonState {
        id: gid,
        status: "pending".into(),
        log_index,
    })
}

/// A supervisor approves or rejects a filed reason (`decision`: `approve`, `reject`).
pub(crate) async fn decide_reason(
    app: &App,
    who: &Principal,
    id: &str,
    decision: &str,
    b: DecisionIn,
) -> Result<GapReasonState, ApiError> {
    who.require(Op::DecideGapReason)?;
    let status = match decision {
        "approve" => "approved",
        "reject" => "rejected",
        _ => return Err(ApiError::NotFound(format!("no action {decision}"))),
    };
    let comment = b
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 400 || c.contains('\n')) {
        return Err(ApiError::BadRequest(
            "bad_comment",
            "the comment must be 1-400 characters on one line".into(),
        ));
    }
    if status == "rejected" && comment.is_none() {
        return Err(ApiError::BadRequest(
            "comment_required",
            "a rejection needs a comment: the officer reads it and may explain again".into(),
        ));
    }
    let filed = app
        .meta
        .gap_reason(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no gap reason {id}")))?;
    let i = app
        .meta
        .inspection(&filed.inspection_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no inspection {}", filed.inspection_id)))?
        .row;
    if !who.sees_crossing_point(&i.crossing_point) {
        return Err(ApiError::Forbidden(format!(
            "inspection {} is at {}, outside your scope",
            i.id, i.crossing_point
        )));
    }
    if filed.filed_by == who.name || who.officer.as_ref().is_some_and(|o| i.officers.contains(o)) {
        return Err(ApiError::Forbidden(
            "you filed this reason or worked this inspection: another supervisor decides it".into(),
        ));
    }
    let g = app
        .meta
        .decide_gap_reason(id, status, &who.name, now_ms(), comment)
        .await?;
    let log_index = app
        .custody(
            &who.name,
            &format!("gap-reason-{decision}"),
            &format!("inspection {} reason {id}", g.inspection_id),
            comment.unwrap_or(&g.text),
        )
        .await?;
    Ok(GapReasonState {
        id: id.to_owned(),
        status: status.into(),
        log_index,
    })
}
