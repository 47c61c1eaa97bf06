//! Cases in the browser: the list (a page at a time, in scope), opening one — from a
//! complaint about an inspection, which it then holds —, adding inspections, footage or
//! notes, the holds, the evidence package and its release to a named recipient with the
//! receipt, closing. Every action is the API's operation (`ops::cases`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kordon_api::cases::{CaseIn, ItemIn, ReceiptIn};
use maud::html;

use super::frame::{
    Page, Places, cursor, error_page, fail, instant, logged_lang, page, poster, show, who,
    zone_note, zone_of,
};
use super::i18n::t;
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::ops;
use crate::state::App;

/// Cases on one page of the list.
const PAGE: u32 = 50;

/// The kinds of case, as `ops::cases` accepts them.
const KINDS: [&str; 4] = [
    "complaint",
    "lawyer_request",
    "law_enforcement_request",
    "internal_review",
];

#[derive(serde::Deserialize)]
pub(super) struct ListQuery {
    /// The page after this case (`<opened_at>.<id>`).
    before: Option<String>,
    /// Open a case about this inspection (a complaint about it).
    inspection: Option<String>,
}

/// `/ui/cases`: the cases in scope, newest first, and the form that opens one.
pub(super) async fn cases(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::ViewCustody).await?;
    let f = fail(lang, &p);
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let places = Places::load(&app).await.map_err(&f)?;
    let tz = p
        .crossing_points
        .first()
        .map_or(jiff::tz::TimeZone::UTC, |c| zone_of(&zones, c));
    let before = cursor(q.before.as_deref());
    let list = app
        .meta
        .cases_page(&p.crossing_points, before, PAGE)
        .await
        .map_err(|e| f(e.into()))?;
    let next = (list.len() == PAGE as usize)
        .then(|| list.last())
        .flatten()
        .map(|c| format!("{}.{}", c.opened_at, c.id));
    // Opened from a complaint about an inspection: its crossing point, its id in the text.
    let about = match q.inspection.as_deref().filter(|i| !i.is_empty()) {
        Some(i) => app
            .meta
            .inspection(i)
            .await
            .map_err(|e| f(e.into()))?
            .filter(|li| p.sees_inspection(&li.row.crossing_point, &li.row.officers))
            .map(|li| li.row),
        None => None,
    };
    let csrf = p.csrf.clone().unwrap_or_default();
    let at_places = places.seen_by(&p);
    let suggested = format!(
        "C-{}-{}",
        jiff::Timestamp::now()
            .to_zoned_datetime(tz.clone())
            .strftime("%Y%m%d"),
        ops::new_id(2).map_err(&f)?
    );
    let body = html! {
        (zone_note(lang, &tz))
        @if p.may(Op::ManageCases) {
            section.card aria-labelledby="open-case" {
                h2 #open-case { (t(lang, "open_case")) }
                @if let Some(i) = &about { p.notice { (t(lang, "complaint_about")) " " a href=(format!("/ui/inspections/{}", i.id)) { (t(lang, "inspection")) " " (i.id) } } }
                form.grid #case-form method="post" action="/ui/cases" {
                    input type="hidden" name="csrf" value=(csrf);
                    @if let Some(i) = &about { input type="hidden" name="inspection" value=(i.id); }
                    label { (t(lang, "case_id")) " " input name="id" value=(suggested) required pattern="[A-Za-z0-9._-]{1,64}"; }
                    label { (t(lang, "case_kind")) " " select name="kind" {
                        @for k in KINDS { option value=(k) selected[k == "complaint"] { (t(lang, &format!("kind_{k}"))) } }
                    } }
                    label { (t(lang, "case_reference")) " " input name="reference" required maxlength="128"; }
                    label { (t(lang, "crossing_point")) " " select name="crossing_point" {
                        @if p.crossing_points.is_empty() { option value="" { (t(lang, "national")) } }
                        @for c in &at_places {
                            option value=(c) selected[about.as_ref().is_some_and(|i| &i.crossing_point == c)] { (places.name(lang, c)) }
                        }
                    } }
                    label { (t(lang, "case_description")) " " input name="description" required maxlength="400" value=[about.as_ref().map(|i| format!("{} {}", t(lang, "complaint_about"), i.id))]; }
                    button type="submit" { (t(lang, "open_case")) }
                }
            }
        }
        h2 { (t(lang, "cases")) }
        @if list.is_empty() { p { (t(lang, "no_cases")) } }
        div.scroll {
            table #cases {
                thead { tr { th { (t(lang, "case")) } th { (t(lang, "case_kind")) } th { (t(lang, "case_reference")) } th { (t(lang, "crossing_point")) } th { (t(lang, "opened")) } th { (t(lang, "status")) } } }
                tbody {
                    @for c in &list {
                        tr data-case=(c.id) {
                            td { a href=(format!("/ui/cases/{}", c.id)) { (c.id) } }
                            td { (t(lang, &format!("kind_{}", c.kind))) }
                            td { (c.reference) }
                            td { (c.crossing_point.as_deref().map_or_else(|| t(lang, "national"), |cp| places.name(lang, cp))) }
                            td { (show(c.opened_at, &tz)) ", " (c.opened_by) }
                            td { (t(lang, if c.closed_at.is_some() { "case_closed" } else { "case_open" })) }
                        }
                    }
                }
            }
        }
        @if let Some(n) = next { p { a href=(format!("/ui/cases?before={n}")) { (t(lang, "next_page")) " →" } } }
    };
    Ok(page(lang, Some(&p), t(lang, "cases"), body).into_response())
}

/// `POST /ui/cases`: opens a case; opened from a complaint, it holds the inspection.
pub(super) async fn open(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let b = CaseIn {
        id: get("id"),
        reference: get("reference"),
        kind: get("kind"),
        description: get("description"),
        crossing_point: Some(get("crossing_point")).filter(|c| !c.is_empty()),
    };
    let r = async {
        let c = ops::cases::open(&app, &p, b).await?;
        if let Some(i) = Some(get("inspection")).filter(|i| !i.is_empty()) {
            let item = ItemIn {
                kind: "inspection".into(),
                inspection_id: Some(i),
                ..ItemIn::default()
            };
            ops::cases::add_item(&app, &p, &c.id, item).await?;
        }
        Ok::<_, ApiError>(c.id)
    }
    .await;
    match r {
        Ok(id) => Redirect::to(&format!("/ui/cases/{id}")).into_response(),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}

/// `/ui/cases/{id}`: a case, what it holds, its packages and their release, and what may
/// be done with it.
pub(super) async fn case(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::ViewCustody).await?;
    let f = fail(lang, &p);
    let c = ops::cases::get(&app, &p, &id).await.map_err(&f)?;
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let places = Places::load(&app).await.map_err(&f)?;
    let tz = c
        .crossing_point
        .as_deref()
        .map_or(jiff::tz::TimeZone::UTC, |cp| zone_of(&zones, cp));
    let at = |rfc: &Option<String>| {
        rfc.as_deref()
            .and_then(|s| kordon_core::time::Timestamp::parse(s).ok())
            .map_or_else(|| "—".to_owned(), |ts| show(ts.0, &tz))
    };
    let packages = if p.may(Op::ExportCase) {
        crate::package::exports_of(&app, &id)
    } else {
        Vec::new()
    };
    let releases = app
        .meta
        .custody_trail_of(&format!("case {id}"), Some("case-release"), None, 50)
        .await
        .map_err(|e| f(e.into()))?;
    let open = c.closed_at.is_none();
    let csrf = p.csrf.clone().unwrap_or_default();
    let hidden = html! { input type="hidden" name="csrf" value=(csrf); };
    let body = html! {
        (zone_note(lang, &tz))
        dl.record {
            dt { (t(lang, "case_kind")) } dd { (t(lang, &format!("kind_{}", c.kind))) }
            dt { (t(lang, "case_reference")) } dd { (c.reference) }
            dt { (t(lang, "case_description")) } dd { (c.description) }
            dt { (t(lang, "crossing_point")) } dd { (c.crossing_point.as_deref().map_or_else(|| t(lang, "national"), |cp| places.name(lang, cp))) }
            dt { (t(lang, "opened")) } dd { (at(&Some(c.opened_at.clone()))) }
            dt { (t(lang, "status")) } dd #case-state data-open=(open) { @if open { (t(lang, "case_open")) } @else { (t(lang, "case_closed")) ", " (at(&c.closed_at)) } }
        }
        h2 { (t(lang, "case_items")) " (" (c.items.len()) ")" }
        @if open && c.items.iter().any(|i| i.held) { p.notice { (t(lang, "holds_note")) } }
        div.scroll {
            table #items {
                thead { tr { th { "№" } th { (t(lang, "item_kind")) } th { (t(lang, "what")) } th { (t(lang, "from")) } th { (t(lang, "to")) } th { (t(lang, "hold")) } } }
                tbody {
                    @for i in &c.items {
                        tr data-kind=(i.kind) {
                            td { (i.item) }
                            td { (t(lang, &format!("item_{}", i.kind))) }
                            td {
                                @if let Some(ins) = &i.inspection_id { a href=(format!("/ui/inspections/{ins}")) { (t(lang, "inspection")) " " (ins) } " " }
                                @if let Some(d) = &i.device { a href=(format!("/ui/timeline?device={d}")) { (d) } " " }
                                span lang=[logged_lang(&i.text)] translate="no" { (i.text) }
                            }
                            td { (at(&i.from)) } td { (at(&i.to)) }
                            td.hold { @if i.held && open { (t(lang, "held")) } @else { "—" } }
                        }
                    }
                }
            }
        }
        @if open && p.may(Op::ManageCases) {
            h3 { (t(lang, "add_to_case")) }
            form.grid #add-inspection method="post" action=(format!("/ui/cases/{id}/items")) {
                (hidden) input type="hidden" name="kind" value="inspection";
                label { (t(lang, "inspection")) " " input name="inspection_id" required; }
                button type="submit" { (t(lang, "add_inspection")) }
            }
            form.grid #add-range method="post" action=(format!("/ui/cases/{id}/items")) {
                (hidden) input type="hidden" name="kind" value="range";
                label { (t(lang, "device")) " " input name="device" required; }
                label { (t(lang, "from")) " " input name="from" type="datetime-local" step="1" required; }
                label { (t(lang, "to")) " " input name="to" type="datetime-local" step="1" required; }
                button type="submit" { (t(lang, "add_footage")) }
            }
            form.grid #add-note method="post" action=(format!("/ui/cases/{id}/items")) {
                (hidden) input type="hidden" name="kind" value="note";
                label { (t(lang, "note")) " " input name="text" required maxlength="400"; }
                button type="submit" { (t(lang, "add_note")) }
            }
        }
        @if p.may(Op::ExportCase) {
            h2 { (t(lang, "packages")) }
            @if packages.is_empty() { p { (t(lang, "no_packages")) } }
            ul #packages {
                @for e in &packages {
                    li data-sha=(e.sha256) {
                        a href=(format!("/v1/exports/{}", e.file)) { (e.file) } ", " (show(e.at_ms, &tz))
                        br; span.small { "SHA-256 " code translate="no" { (e.sha256) } }
                        " " a href=(format!("/v1/receipts/{}", e.sha256)) { (t(lang, "receipt")) }
                    }
                }
            }
            @if open { form #export-form method="post" action=(format!("/ui/cases/{id}/export")) { (hidden) button type="submit" { (t(lang, "export_package")) } } }
            @if !packages.is_empty() && p.may(Op::ReleasePackage) {
                form.grid #release-form method="post" action=(format!("/ui/cases/{id}/release")) {
                    (hidden)
                    label { (t(lang, "package")) " " select name="package_sha256" { @for e in &packages { option value=(e.sha256) { (e.file) } } } }
                    label { (t(lang, "recipient")) " " input name="recipient" required maxlength="200"; }
                    button type="submit" { (t(lang, "record_release")) }
                }
            }
        }
        h2 { (t(lang, "releases")) }
        @if releases.is_empty() { p { (t(lang, "no_releases")) } }
        ul #releases {
            @for r in &releases {
                @if let Ok(e) = r.event() {
                    li { (show(e.time.0, &tz)) ", " (e.actor) ": " span lang=[logged_lang(&e.detail)] translate="no" { (e.detail) } }
                }
            }
        }
        @if open && p.may(Op::ManageCases) {
            form #close-form method="post" action=(format!("/ui/cases/{id}/close")) {
                (hidden)
                p.small { (t(lang, "close_note")) }
                button.reject type="submit" { (t(lang, "close_case")) }
            }
        }
        p { a href=(format!("/ui/custody?subject=case%20{id}")) { (t(lang, "custody")) } }
    };
    Ok(page(lang, Some(&p), &format!("{} {id}", t(lang, "case")), body).into_response())
}

/// `POST /ui/cases/{id}/{action}`: `items`, `export`, `release`, `close`.
pub(super) async fn act(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let r = async {
        match action.as_str() {
            "items" => {
                p.require(Op::ManageCases)?;
                let tz = zone_of_case(&app, &p, &id).await?;
                let b = ItemIn {
                    kind: get("kind"),
                    inspection_id: Some(get("inspection_id")).filter(|v| !v.is_empty()),
                    device: Some(get("device")).filter(|v| !v.is_empty()),
                    seq: None,
                    from: given(&get("from"), &tz)?,
                    to: given(&get("to"), &tz)?,
                    text: get("text"),
                };
                ops::cases::add_item(&app, &p, &id, b).await?;
            }
            "export" => {
                ops::cases::export(&app, &p, &id).await?;
            }
            "release" => {
                let b = ReceiptIn {
                    recipient: get("recipient"),
                    package_sha256: get("package_sha256"),
                };
                ops::cases::receipt(&app, &p, &id, b).await?;
            }
            "close" => {
                ops::cases::close(&app, &p, &id).await?;
            }
            other => return Err(ApiError::NotFound(format!("no action {other}"))),
        }
        Ok(())
    }
    .await;
    match r {
        Ok(()) => Redirect::to(&format!("/ui/cases/{id}")).into_response(),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}

/// The zone of a case's crossing point (for times typed in its local time).
async fn zone_of_case(app: &App, p: &Principal, id: &str) -> Result<jiff::tz::TimeZone, ApiError> {
    let (c, _) = ops::cases::reachable(app, p, id).await?;
    let zones = crate::localtime::zones(app).await?;
    Ok(c.crossing_point
        .as_deref()
        .map_or(jiff::tz::TimeZone::UTC, |cp| zone_of(&zones, cp)))
}

/// A `datetime-local` value read in `tz`, as RFC 3339; `None` when empty (the operation
/// then names the missing field).
fn given(v: &str, tz: &jiff::tz::TimeZone) -> Result<Option<String>, ApiError> {
    (!v.is_empty()).then(|| instant(v, tz)).transpose()
}
