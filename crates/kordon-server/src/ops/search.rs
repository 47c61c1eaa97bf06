//! Finding inspections (by time, place, lane, officer, camera, id, declaration, plate in
//! any spelling, bookmark) and bookmarks. Every search is a custody event: who looked
//! for what.

use kordon_analytics::search::normalize_plate;
use kordon_api::Created;
use kordon_api::inspections::{
    Bookmark, BookmarkIn, BookmarkList, BookmarkQuery, InspectionList, SearchQuery,
};
use kordon_core::time::Timestamp;
use kordon_store::now_ms;

use super::coverage::{Calculator, inspection_coverage};
use super::new_id;
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::localtime::{rfc3339, zones};
use crate::state::App;

/// Inspections matching `q` that `who` may see, with their coverage.
pub(crate) async fn inspections(
    app: &App,
    who: &Principal,
    q: SearchQuery,
) -> Result<InspectionList, ApiError> {
    who.require(Op::Search)?;
    // What was asked, as the custody event says it: the criteria given, `name=value`.
    let summary: String = serde_json::to_value(&q)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .map(|o| {
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
        .chars()
        .take(400)
        .collect();
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
        crossing_point: q.crossing_point,
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
        after: q
            .after
            .as_deref()
            .map(|a| {
                a.split_once(':')
                    .and_then(|(t, id)| Some((t.parse().ok()?, id.to_owned())))
                    .ok_or_else(|| {
                        ApiError::BadRequest("bad_query", format!("after={a:?} is not a cursor"))
                    })
            })
            .transpose()?,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    app.custody(&who.name, "search", "inspections", &summary)
        .await?;
    let zones = zones(app).await?;
    let mut calc = Calculator::new(app);
    let mut out = Vec::new();
    let found = app.meta.search_inspections(&query, limit).await?;
    // A full page may have more after it (scope is applied after the page is read).
    let next = (found.len() as i64 == limit)
        .then(|| {
            found
                .last()
                .map(|l| format!("{}:{}", l.row.start_ms, l.row.id))
        })
        .flatten();
    for li in found {
        if !who.sees_inspection(&li.row.crossing_point, &li.row.officers) {
            continue;
        }
        let c = calc.coverage(&li).await?;
        let reasons = app.meta.gap_reasons(&li.row.id).await?;
        let tz = zones
            .get(&li.row.crossing_point)
            .cloned()
            .unwrap_or(jiff::tz::TimeZone::UTC);
        out.push(inspection_coverage(&li, &c, &reasons, &tz));
    }
    Ok(InspectionList {
        inspections: out,
        next,
    })
}

/// Marks a moment of an inspection or of a camera's footage; a custody event.
pub(crate) async fn add_bookmark(
    app: &App,
    who: &Principal,
    b: BookmarkIn,
) -> Result<Created, ApiError> {
    who.require(Op::Bookmark)?;
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
    let id = new_id(8)?;
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
    let log_index = app
        .custody(
            &who.name,
            "bookmark",
            &subject,
            &format!("{} {label}", Timestamp(at)),
        )
        .await?;
    Ok(Created { id, log_index })
}

/// Bookmarks whose label contains `q.q` (of one camera with `q.device`).
/// Whether a bookmark is in `who`'s scope: that of its inspection, or of the footage its
/// camera recorded at its time; one on neither only for users without a scope.
async fn bookmark_in_scope(
    app: &App,
    who: &Principal,
    b: &kordon_store::meta::Bookmark,
) -> Result<bool, ApiError> {
    if let Some(iid) = &b.inspection_id {
        return Ok(app
            .meta
            .inspection(iid)
            .await?
            .is_some_and(|li| who.sees_inspection(&li.row.crossing_point, &li.row.officers)));
    }
    if let Some(device) = &b.device_id {
        let assignments = app.meta.assignments(device).await?;
        let during = assignments
            .iter()
            .filter(|a| a.start_ms <= b.at_ms && a.end_ms.is_none_or(|e| e > b.at_ms))
            .map(|a| (a.crossing_point.as_str(), a.officer.as_str()));
        return Ok(who.sees_footage(during));
    }
    Ok(who.crossing_points.is_empty() && who.officer.is_none())
}

pub(crate) async fn bookmarks(
    app: &App,
    who: &Principal,
    q: BookmarkQuery,
) -> Result<BookmarkList, ApiError> {
    who.require(Op::Search)?;
    let rows = app
        .meta
        .bookmarks(q.q.as_deref().unwrap_or(""), q.device.as_deref())
        .await?;
    let mut seen = Vec::with_capacity(rows.len());
    for b in rows {
        if bookmark_in_scope(app, who, &b).await? {
            seen.push(b);
        }
    }
    Ok(BookmarkList {
        bookmarks: seen
            .into_iter()
            .map(|b| Bookmark {
                id: b.id,
                inspection_id: b.inspection_id,
                device: b.device_id,
                at: Timestamp(b.at_ms).to_string(),
                label: b.label,
                by: b.created_by,
            })
            .collect(),
    })
}
