//! One inspection: its coverage, its gaps and the reasons filed for them, the
//! approve/reject flow.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kordon_api::inspections::GapReasonIn;
use maud::html;

use super::frame::{
    Page, Places, back_to_referer, class_fill, clock, error_page, fail, gap_legend, gap_patterns,
    page, pct, poster, show, who, zone_note, zone_of,
};
use super::i18n::t;
use super::player::Camera;
use crate::auth::Op;
use crate::error::ApiError;
use crate::ops;
use crate::state::App;

pub(super) async fn inspection(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::ViewReports).await?;
    let f = fail(lang, &p);
    let li = app
        .meta
        .inspection(&id)
        .await
        .map_err(|e| f(e.into()))?
        .filter(|li| p.sees_inspection(&li.row.crossing_point, &li.row.officers))
        .ok_or_else(|| f(ApiError::NotFound(format!("no inspection {id}"))))?;
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let tz = zone_of(&zones, &li.row.crossing_point);
    let c = ops::coverage::Calculator::new(&app)
        .coverage(&li)
        .await
        .map_err(&f)?;
    let reasons = app.meta.gap_reasons(&id).await.map_err(|e| f(e.into()))?;
    // The cameras the officers wore, those whose footage the user may see.
    let mut worn = Vec::new();
    if p.may(Op::ViewFootage) {
        for o in &li.row.officers {
            if !p.sees_footage(std::iter::once((
                li.row.crossing_point.as_str(),
                o.as_str(),
            ))) {
                continue;
            }
            for a in app
                .meta
                .worn_by(o, li.row.start_ms, li.row.end_ms)
                .await
                .map_err(|e| f(e.into()))?
            {
                worn.push(Camera {
                    device: a.device_id,
                    officer: o.clone(),
                });
            }
        }
    }
    let (cameras, redacted) = if p.may(Op::Redact) {
        let cams: Vec<_> = worn
            .iter()
            .map(|c| (c.officer.clone(), c.device.clone()))
            .collect();
        let done = app.meta.redactions_of(&id).await.map_err(|e| f(e.into()))?;
        (cams, done)
    } else {
        (Vec::new(), Vec::new())
    };
    let reviews = if p.may(Op::ReviewInspections) {
        Some(
            app.meta
                .reviews_of(&[id.as_str()])
                .await
                .map_err(|e| f(e.into()))?
                .remove(&id)
                .unwrap_or_default(),
        )
    } else {
        None
    };
    let gaps: Vec<(kordon_analytics::span::Span, String)> = c
        .uncovered
        .iter()
        .map(|(s, cl)| (*s, cl.as_str().to_owned()))
        .collect();
    let player = if worn.is_empty() {
        None
    } else {
        Some(
            super::player::player(
                &app,
                lang,
                &tz,
                &li.row,
                &worn,
                &gaps,
                p.csrf.as_deref().unwrap_or_default(),
            )
            .await
            .map_err(&f)?,
        )
    };
    let ts = |ms: i64| kordon_core::time::Timestamp(ms).to_string();
    let places = Places::load(&app).await.map_err(&f)?;
    let r = &li.row;
    let x = |t: i64| 1000.0 * (t - r.start_ms) as f64 / (r.end_ms - r.start_ms).max(1) as f64;
    let csrf = p.csrf.clone().unwrap_or_default();
    let body = html! {
        (zone_note(lang, &tz))
        dl.record {
            dt { (t(lang, "crossing_point")) } dd { (places.name(lang, &r.crossing_point)) ", " (t(lang, "lane")) " " (r.lane) }
            dt { (t(lang, "from")) } dd { (show(r.start_ms, &tz)) }
            dt { (t(lang, "to")) } dd { (show(r.end_ms, &tz)) }
            dt { (t(lang, "officers")) } dd { (r.officers.join(", ")) }
            dt { (t(lang, "plate")) } dd { (r.plate) }
            dt { (t(lang, "declaration")) } dd { (r.declaration) }
            dt { (t(lang, "coverage")) } dd #coverage { (pct(lang, c.ratio())) }
        }
        (gap_patterns())
        svg role="img" aria-label=(format!("{}: {}", t(lang, "coverage"), pct(lang, c.ratio()))) width="1000" height="24" viewBox="0 0 1000 24" {
            rect x="0" y="0" width="1000" height="24" fill="#2e7d32" {}
            @for (s, cl) in &c.uncovered {
                rect x=(x(s.start)) y="0" width=((x(s.end) - x(s.start)).max(0.5)) height="24" fill=(class_fill(cl.as_str())) { title { (t(lang, cl.as_str())) } }
            }
        }
        ul.legend { li { span.sw style="background:#2e7d32" {} (t(lang, "recorded")) } (gap_legend(lang)) }
        @if let Some(pl) = player { (pl) }
        @for o in &r.officers {
            p { a href=(format!("/ui/timeline?officer={o}&date={}", kordon_analytics::aggregate::local_day(r.start_ms, &tz))) { (t(lang, "timeline")) ": " (o) } }
        }
        @if p.may(Op::ManageCases) {
            p { a #open-complaint href=(format!("/ui/cases?inspection={id}")) { (t(lang, "open_complaint")) } }
        }
        @if !cameras.is_empty() {
            h2 { (t(lang, "redactions")) }
            ul #redactions {
                @for (o, d) in &cameras {
                    li { a href=(format!("/ui/redact?inspection={id}&device={d}&from={}&to={}", ts(r.start_ms).replace(':', "%3A"), ts(r.end_ms).replace(':', "%3A"))) { (t(lang, "redact")) ": " (d) " (" (o) ")" } }
                }
                @for x in &redacted {
                    li { a href=(format!("/ui/redactions/{}", x.id)) { (t(lang, "redaction")) " " (x.device_id) ", " (show(x.created_at, &tz)) ", " (x.created_by) } }
                }
            }
        }
        @if let Some(rv) = &reviews { (super::review::section(lang, &tz, &p, &id, &r.officers, rv)) }
        h2 #gaps-heading { (t(lang, "gaps")) " (" (c.uncovered.len()) ")" }
        @if c.uncovered.is_empty() { p { (t(lang, "no_gaps")) } }
        ol #gaps aria-labelledby="gaps-heading" {
            @for (s, cl) in &c.uncovered {
                @let rs: Vec<_> = reasons.iter().filter(|g| g.from_ms < s.end && s.start < g.to_ms).collect();
                @let when = format!("{}–{}", clock(s.start, &tz), clock(s.end, &tz));
                @let open = rs.iter().any(|g| g.status != "rejected");
                li.gap data-class=(cl.as_str()) {
                    p { strong { (when) } " — " (t(lang, cl.as_str())) }
                    @if !rs.is_empty() { (super::explain::history(lang, &tz, &rs)) }
                    @for g in rs.iter().filter(|g| g.status == "pending") {
                        @if p.may(Op::DecideGapReason) {
                            @if g.filed_by == p.name || p.officer.as_ref().is_some_and(|o| r.officers.contains(o)) {
                                p.small { (t(lang, "not_own_decision")) }
                            } @else {
                                (super::explain::decide_form(lang, &csrf, &g.id, &when))
                            }
                        }
                    }
                    @if p.may(Op::FileGapReason) && !open {
                        form.explain method="post" action=(format!("/ui/inspections/{id}/reasons")) {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="from" value=(kordon_core::time::Timestamp(s.start).to_string());
                            input type="hidden" name="to" value=(kordon_core::time::Timestamp(s.end).to_string());
                            label { (t(lang, "reason")) " " select name="reason" aria-label=(format!("{} {when}", t(lang, "reason"))) {
                                @for code in super::explain::REASONS { option value=(code) { (t(lang, &format!("reason_{code}"))) } }
                            } }
                            label { (t(lang, "what_happened")) " " input name="text" required maxlength="400" aria-label=(format!("{} {when}", t(lang, "what_happened"))); }
                            button type="submit" aria-label=(format!("{} {when}", t(lang, if rs.is_empty() { "file_reason" } else { "file_again" }))) { (t(lang, if rs.is_empty() { "file_reason" } else { "file_again" })) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        lang,
        Some(&p),
        &format!("{} {id}", t(lang, "inspection")),
        body,
    )
    .into_response())
}

/// Files a gap reason from the inspection page.
pub(super) async fn file_reason(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let b = GapReasonIn {
        from: get("from"),
        to: get("to"),
        reason: get("reason"),
        text: get("text"),
    };
    match ops::inspections::file_reason(&app, &p, &id, b).await {
        Ok(_) => Redirect::to(&format!("/ui/inspections/{id}")).into_response(),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}

/// Approves or rejects a reason, then goes back to the page it was decided on.
pub(super) async fn decide_reason(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, decision)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let b = kordon_api::inspections::DecisionIn {
        comment: form.get("comment").cloned(),
    };
    match ops::inspections::decide_reason(&app, &p, &id, &decision, b).await {
        Ok(_) => back_to_referer(&headers),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}
