//! Preserving footage: an officer asks for his recordings over a time range to be kept and
//! sees his requests decided and who viewed his footage; a supervisor decides the pending
//! requests of his crossing points (never his own).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kordon_api::release::{PreservationDecision, PreservationIn};
use maud::html;

use super::frame::{
    Page, back_to_referer, error_page, fail, instant, page, poster, show, who, zone_note, zone_of,
};
use super::i18n::t;
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::ops::preservation;
use crate::state::App;

#[derive(serde::Deserialize)]
pub(super) struct ViewQuery {
    /// Whose viewers (a supervisor's choice; an officer sees his own).
    officer: Option<String>,
    /// Older views: before this log index.
    before: Option<i64>,
}

pub(super) async fn preservation_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<ViewQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::SeeViewers).await?;
    let f = fail(lang, &p);
    let tz = zone(&app, &p).await.map_err(&f)?;
    let csrf = p.csrf.clone().unwrap_or_default();
    let requests = if p.may(Op::RequestPreservation) || p.may(Op::DecidePreservation) {
        preservation::list(&app, &p, false, None)
            .await
            .map_err(&f)?
            .requests
    } else {
        Vec::new()
    };
    let packages = if p.may(Op::TakeOwnPackage) {
        preservation::own_packages(&app, &p)
            .await
            .map_err(&f)?
            .packages
    } else {
        Vec::new()
    };
    let viewers = match (&p.officer, &q.officer) {
        (None, None) => None,
        (_, o) => Some(
            preservation::viewers(&app, &p, o.as_deref(), q.before)
                .await
                .map_err(&f)?,
        ),
    };
    let body = html! {
        (zone_note(lang, &tz))
        @if p.may(Op::RequestPreservation) {
            h2 { (t(lang, "ask_preserve")) }
            form #preserve-form method="post" action="/ui/preservation" {
                input type="hidden" name="csrf" value=(csrf);
                @if p.officer.is_none() {
                    label { (t(lang, "officer")) " " input name="officer" required; }
                }
                label { (t(lang, "from")) " " input name="from" type="datetime-local" required; }
                label { (t(lang, "to")) " " input name="to" type="datetime-local" required; }
                label { (t(lang, "reason")) " " input name="reason" required maxlength="300"; }
                button type="submit" { (t(lang, "ask_preserve")) }
            }
            p.note { (tz.iana_name().unwrap_or("UTC")) }
        }
        h2 { (t(lang, "requests")) }
        table #requests {
            thead { tr { th { (t(lang, "officer")) } th { (t(lang, "from")) } th { (t(lang, "to")) } th { (t(lang, "reason")) } th { (t(lang, "status")) } th { (t(lang, "comment")) } th {} } }
            tbody {
                @for r in &requests {
                    @let from = crate::localtime::rfc3339("from", &r.from).unwrap_or(0);
                    @let to = crate::localtime::rfc3339("to", &r.to).unwrap_or(0);
                    tr {
                        td { (r.officer) } td { (show(from, &tz)) } td { (show(to, &tz)) } td { (r.reason) }
                        td.request-state { (t(lang, &format!("state_{}", r.state))) @if let Some(d) = &r.decided_by { " (" (d) ")" } }
                        td { (r.comment.clone().unwrap_or_default()) @if let Some(c) = &r.case { " " (t(lang, "case")) " " (c) } }
                        td { @if r.state == "pending" && p.may(Op::DecidePreservation) && r.requested_by != p.name {
                            form method="post" action=(format!("/ui/preservation/{}", r.id)) .inline {
                                input type="hidden" name="csrf" value=(csrf);
                                label { (t(lang, "comment")) " " input name="comment" maxlength="300"; }
                                button type="submit" name="decision" value="approve" aria-label=(format!("{} {}", t(lang, "approve"), r.officer)) { (t(lang, "approve")) }
                                button type="submit" name="decision" value="refuse" aria-label=(format!("{} {}", t(lang, "reject"), r.officer)) { (t(lang, "reject")) }
                            }
                        } }
                    }
                }
            }
        }
        @if p.may(Op::TakeOwnPackage) {
            h2 { (t(lang, "my_packages")) }
            ul #my-packages {
                @for k in &packages {
                    li { a href=(format!("/v1/me/packages/{}", k.file)) download=(k.file) { (t(lang, "case")) " " (k.case) ": " (k.file) } " (" (k.size) " B)" }
                }
            }
        }
        @if let Some(v) = &viewers {
            h2 { (t(lang, "viewers")) ": " (v.officer) }
            @if v.rows.is_empty() { p #no-views { (t(lang, "nobody_viewed")) } }
            @else {
                table #viewers {
                    thead { tr { th { (t(lang, "time")) } th { (t(lang, "who")) } th { (t(lang, "subject")) } th { (t(lang, "reason")) } } }
                    tbody {
                        @for c in v.rows.iter().filter_map(|r| r.event().ok()) {
                            tr { td { (show(c.time.0, &tz)) } td { (c.actor) } td { (c.subject) } td { (c.detail) } }
                        }
                    }
                }
            }
            @if let Some(i) = v.next {
                p { a href=(format!("/ui/preservation?officer={}&before={i}", v.officer)) { (t(lang, "older")) " →" } }
            }
        }
    };
    Ok(page(lang, Some(&p), t(lang, "preservation"), body).into_response())
}

/// The zone times are entered and shown in: an officer's crossing point's, else the first
/// crossing point in scope's, else UTC.
async fn zone(app: &App, p: &Principal) -> Result<jiff::tz::TimeZone, ApiError> {
    let zones = crate::localtime::zones(app).await?;
    let mut cp = p.crossing_points.first().cloned().unwrap_or_default();
    if let Some(no) = &p.officer
        && let Some(o) = app
            .meta
            .officers()
            .await?
            .into_iter()
            .find(|o| &o.service_no == no)
    {
        cp = o.crossing_point;
    }
    Ok(zone_of(&zones, &cp))
}

pub(super) async fn request(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    match file(&app, &p, &form).await {
        Ok(()) => back_to_referer(&headers),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}

async fn file(app: &App, p: &Principal, form: &HashMap<String, String>) -> Result<(), ApiError> {
    p.require(Op::RequestPreservation)?;
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let tz = zone(app, p).await?;
    let b = PreservationIn {
        officer: Some(get("officer")).filter(|o| !o.is_empty()),
        from: instant(&get("from"), &tz)?,
        to: instant(&get("to"), &tz)?,
        reason: get("reason"),
    };
    preservation::request(app, p, b).await.map(|_| ())
}

pub(super) async fn decide(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let d = PreservationDecision {
        approve: form.get("decision").is_some_and(|d| d == "approve"),
        comment: form.get("comment").cloned().unwrap_or_default(),
    };
    match preservation::decide(&app, &p, &id, d).await {
        Ok(_) => back_to_referer(&headers),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}
