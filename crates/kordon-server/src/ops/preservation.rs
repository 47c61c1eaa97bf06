//! The officer's defence: he asks for his footage over a time range to be preserved; a
//! supervisor of his crossing point (never the one who asked) approves — a case of kind
//! `preservation` then holds every camera he wore in the range past retention — or
//! refuses with a comment. He sees who viewed his footage. Rules: `docs/api.md`
//! "Release".

use kordon_api::release::{
    OwnPackage, OwnPackages, PreservationDecision, PreservationIn, PreservationList,
    PreservationOut,
};
use kordon_core::time::Timestamp;
use kordon_store::meta::{Case, CaseItem, CustodyRow, Preservation};
use kordon_store::now_ms;

use super::new_id;
use super::one_line;
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::localtime::rfc3339;
use crate::state::App;

/// Longest range one request may preserve.
pub(crate) const MAX_RANGE_MS: i64 = 31 * 24 * 3_600_000;
/// A page of requests or views.
pub(crate) const PAGE: u32 = 50;

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::BadRequest("bad_request", m.into())
}

/// The officer a request is about: an officer asks for himself; a supervisor names one
/// of his crossing points'.
async fn officer_of(
    app: &App,
    who: &Principal,
    asked: Option<&str>,
) -> Result<(String, String), ApiError> {
    let no = match (&who.officer, asked) {
        (Some(own), Some(a)) if a != own => {
            return Err(ApiError::Forbidden(format!(
                "{} may ask only for his own footage",
                who.name
            )));
        }
        (Some(own), _) => own.clone(),
        (None, Some(a)) => a.to_owned(),
        (None, None) => return Err(bad("officer is required")),
    };
    let o = app
        .meta
        .officers()
        .await?
        .into_iter()
        .find(|o| o.service_no == no)
        .ok_or_else(|| ApiError::NotFound(format!("no officer {no}")))?;
    if !who.sees_crossing_point(&o.crossing_point) {
        return Err(ApiError::Forbidden(format!(
            "officer {no} is of crossing point {}, outside {}'s scope",
            o.crossing_point, who.name
        )));
    }
    Ok((o.service_no, o.crossing_point))
}

/// Files a request.
///
/// # Errors
/// `bad_request` (times, reason), forbidden (another officer's, outside the scope).
pub(crate) async fn request(
    app: &App,
    who: &Principal,
    b: PreservationIn,
) -> Result<PreservationOut, ApiError> {
    who.require(Op::RequestPreservation)?;
    let (officer, crossing_point) = officer_of(app, who, b.officer.as_deref()).await?;
    let from = rfc3339("from", &b.from).map_err(bad)?;
    let to = rfc3339("to", &b.to).map_err(bad)?;
    if to <= from || to - from > MAX_RANGE_MS {
        return Err(bad("to must be after from, at most 31 days later"));
    }
    let p = Preservation {
        id: new_id(8)?,
        officer,
        crossing_point,
        from_ms: from,
        to_ms: to,
        reason: one_line("reason", &b.reason, 300)?,
        requested_by: who.name.clone(),
        requested_at: now_ms(),
        state: "pending".into(),
        decided_by: None,
        decided_at: None,
        comment: None,
        case_id: None,
    };
    app.meta.put_preservation(&p).await?;
    app.custody(
        &who.name,
        "preservation-request",
        &format!("officer {}", p.officer),
        &format!(
            "request {}: {}..{}: {}",
            p.id,
            Timestamp(from),
            Timestamp(to),
            p.reason
        ),
    )
    .await?;
    Ok(out_of(p))
}

/// A page of requests: an officer's own, or those of `who`'s crossing points (pending
/// only with `pending`).
///
/// # Errors
/// Forbidden without either permission.
pub(crate) async fn list(
    app: &App,
    who: &Principal,
    pending: bool,
    before: Option<i64>,
) -> Result<PreservationList, ApiError> {
    if !who.may(Op::RequestPreservation) && !who.may(Op::DecidePreservation) {
        who.require(Op::DecidePreservation)?;
    }
    let rows = app
        .meta
        .preservations(
            who.officer.as_deref(),
            pending.then_some("pending"),
            before,
            PAGE,
        )
        .await?;
    let next = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|p| p.requested_at))
        .flatten();
    Ok(PreservationList {
        requests: rows
            .into_iter()
            .filter(|p| who.sees_crossing_point(&p.crossing_point))
            .map(out_of)
            .collect(),
        next,
    })
}

/// Decides a pending request. Approving opens a `preservation` case holding every camera
/// the officer wore in the range.
///
/// # Errors
/// Forbidden (own request, outside the scope), `comment_required` to refuse, conflict if
/// decided already.
pub(crate) async fn decide(
    app: &App,
    who: &Principal,
    id: &str,
    d: PreservationDecision,
) -> Result<PreservationOut, ApiError> {
    who.require(Op::DecidePreservation)?;
    let p = app
        .meta
        .preservation(id)
        .await?
        .filter(|p| who.sees_crossing_point(&p.crossing_point))
        .ok_or_else(|| ApiError::NotFound(format!("no preservation request {id} in your scope")))?;
    if p.requested_by == who.name || who.officer.as_deref() == Some(p.officer.as_str()) {
        return Err(ApiError::Forbidden(format!(
            "{} asked for this or is its officer: another supervisor decides",
            who.name
        )));
    }
    let comment = d.comment.trim();
    if !d.approve && comment.is_empty() {
        return Err(ApiError::BadRequest(
            "comment_required",
            "say why the request is refused (comment)".into(),
        ));
    }
    if comment.len() > 300 || comment.chars().any(char::is_control) {
        return Err(bad("comment must be at most 300 characters on one line"));
    }
    let case = d.approve.then(|| format!("preservation-{}", p.id));
    let state = if d.approve { "approved" } else { "refused" };
    if !app
        .meta
        .decide_preservation(id, state, &who.name, comment, case.as_deref(), now_ms())
        .await?
    {
        return Err(ApiError::Conflict(format!(
            "request {id} is decided already"
        )));
    }
    if let Some(case) = &case {
        hold(app, who, &p, case).await?;
    }
    app.custody(
        &who.name,
        "preservation-decide",
        &format!("officer {}", p.officer),
        &format!("request {id} {state}: {comment}"),
    )
    .await?;
    app.meta
        .preservation(id)
        .await?
        .map(out_of)
        .ok_or_else(|| ApiError::Internal(format!("request {id} vanished")))
}

/// Opens the case that holds the officer's cameras over the request's range.
async fn hold(app: &App, who: &Principal, p: &Preservation, case: &str) -> Result<(), ApiError> {
    let c = Case {
        id: case.to_owned(),
        reference: format!("preservation request {}", p.id),
        kind: "preservation".into(),
        description: format!("footage of officer {} preserved at his request", p.officer),
        opened_by: who.name.clone(),
        opened_at: now_ms(),
        closed_at: None,
        crossing_point: Some(p.crossing_point.clone()),
    };
    app.meta.open_case(&c).await?;
    let items: Vec<CaseItem> = app
        .meta
        .worn_by(&p.officer, p.from_ms, p.to_ms)
        .await?
        .into_iter()
        .map(|a| CaseItem {
            item: 0,
            kind: "range".into(),
            inspection_id: None,
            from_ms: Some(a.start_ms.max(p.from_ms)),
            to_ms: Some(a.end_ms.unwrap_or(p.to_ms).min(p.to_ms)),
            device_id: Some(a.device_id),
            text: format!("worn by {}", p.officer),
            added_by: who.name.clone(),
        })
        .collect();
    app.custody(
        &who.name,
        "case-open",
        &format!("case {case}"),
        &format!("preservation {}: {}", c.reference, c.description),
    )
    .await?;
    if !items.is_empty() {
        let numbers = app.meta.add_case_items(case, &items, now_ms()).await?;
        for (n, i) in numbers.iter().zip(&items) {
            app.custody(
                &who.name,
                "case-add",
                &format!("case {case}"),
                &format!(
                    "item {n} range: legal hold on {} {}..{}",
                    i.device_id.as_deref().unwrap_or(""),
                    Timestamp(i.from_ms.unwrap_or(0)),
                    Timestamp(i.to_ms.unwrap_or(0))
                ),
            )
            .await?;
        }
        super::cases::set_bucket_holds(app, &items, true).await?;
    }
    Ok(())
}

fn out_of(p: Preservation) -> PreservationOut {
    PreservationOut {
        id: p.id,
        officer: p.officer,
        crossing_point: p.crossing_point,
        from: Timestamp(p.from_ms).to_string(),
        to: Timestamp(p.to_ms).to_string(),
        reason: p.reason,
        requested_by: p.requested_by,
        requested_at: Timestamp(p.requested_at).to_string(),
        state: p.state,
        decided_by: p.decided_by,
        comment: p.comment,
        case: p.case_id,
    }
}

/// Who viewed footage of an officer's cameras: the `view` events about the cameras he
/// wore, newest first, a page at a time (`before` a log index). An officer sees his own.
///
/// # Errors
/// Forbidden (another officer's, outside the scope).
pub(crate) async fn viewers(
    app: &App,
    who: &Principal,
    officer: Option<&str>,
    before: Option<i64>,
) -> Result<Viewers, ApiError> {
    who.require(Op::SeeViewers)?;
    let (officer, _) = officer_of(app, who, officer).await?;
    let worn = app.meta.worn_by(&officer, 0, i64::MAX).await?;
    let mut devices: Vec<&str> = worn.iter().map(|a| a.device_id.as_str()).collect();
    devices.sort_unstable();
    devices.dedup();
    // A page of each camera's trail, merged: the newest PAGE entries of them all.
    let mut rows = Vec::new();
    let mut more = false;
    for d in &devices {
        let page = app
            .meta
            .custody_trail(&format!("device {d}"), before, PAGE)
            .await?;
        more |= page.len() == PAGE as usize;
        rows.extend(page);
    }
    rows.sort_by_key(|c| std::cmp::Reverse(c.log_index));
    more |= rows.len() > PAGE as usize;
    rows.truncate(PAGE as usize);
    let next = more
        .then(|| rows.last().and_then(|c| c.log_index))
        .flatten();
    rows.retain(|c| c.action == "view");
    // Only what was recorded while he wore the camera: others wore it on other shifts.
    let mut his = Vec::new();
    for c in rows {
        let mut w = c.subject.split(' ');
        let (Some("device"), Some(d), Some("seq"), Some(seq)) =
            (w.next(), w.next(), w.next(), w.next())
        else {
            continue;
        };
        let Some(link) = app.meta.link(d, seq.parse().unwrap_or(u64::MAX)).await? else {
            continue;
        };
        let start = kordon_core::link::Link::parse(&link.body)
            .ok()
            .map(|l| match l.body() {
                kordon_core::link::LinkBody::Segment(s) => s.start.0,
                kordon_core::link::LinkBody::Event(e) => e.time.0,
            });
        if start.is_some_and(|t| {
            worn.iter()
                .any(|a| a.device_id == d && a.start_ms <= t && a.end_ms.is_none_or(|e| t < e))
        }) {
            his.push(c);
        }
    }
    Ok(Viewers {
        officer,
        rows: his,
        next,
    })
}

/// Who viewed an officer's footage: a page, and the cursor of the next.
pub(crate) struct Viewers {
    /// The officer.
    pub officer: String,
    /// The `view` events, newest first.
    pub rows: Vec<CustodyRow>,
    /// `before` for the next page.
    pub next: Option<i64>,
}

/// The latest evidence package of each case that holds an inspection `who` (an officer)
/// worked: what he may take for his defence.
///
/// # Errors
/// Forbidden to anyone but an officer.
pub(crate) async fn own_packages(app: &App, who: &Principal) -> Result<OwnPackages, ApiError> {
    who.require(Op::TakeOwnPackage)?;
    let Some(officer) = &who.officer else {
        return Ok(OwnPackages {
            packages: Vec::new(),
        });
    };
    let cases = app.meta.cases_naming(officer).await?;
    let mut latest: std::collections::HashMap<String, (String, u64)> = Default::default();
    if let Ok(dir) = std::fs::read_dir(app.config.data.join("exports")) {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some((case, stamp)) = name
                .strip_suffix(".zip")
                .and_then(|n| n.rsplit_once('-'))
                .filter(|(c, s)| {
                    cases.iter().any(|x| x == c) && s.bytes().all(|b| b.is_ascii_digit())
                })
            else {
                continue;
            };
            let size = e.metadata().map_or(0, |m| m.len());
            let newer = latest
                .get(case)
                .is_none_or(|(n, _)| n.as_str() < name.as_str());
            if newer && !stamp.is_empty() {
                latest.insert(case.to_owned(), (name.clone(), size));
            }
        }
    }
    Ok(OwnPackages {
        packages: cases
            .into_iter()
            .filter_map(|case| {
                let (file, size) = latest.remove(&case)?;
                Some(OwnPackage { case, file, size })
            })
            .collect(),
    })
}

/// One of [`own_packages`], to download: a `download` custody event each time.
///
/// # Errors
/// Not found unless it is one of his.
pub(crate) async fn own_package(
    app: &App,
    who: &Principal,
    file: &str,
) -> Result<std::path::PathBuf, ApiError> {
    let mine = own_packages(app, who).await?;
    let p = mine
        .packages
        .iter()
        .find(|p| p.file == file)
        .ok_or_else(|| ApiError::NotFound(format!("no package {file} of a case naming you")))?;
    app.custody(
        &who.name,
        "download",
        &format!("case {}", p.case),
        &format!("package {file} taken by the officer it names"),
    )
    .await?;
    Ok(app.config.data.join("exports").join(file))
}
