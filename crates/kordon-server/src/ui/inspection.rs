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
    Page, back_to_referer, class_color, error_page, fail, page, poster, show, who, zone_of,
};
use super::i18n::t;
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
    let (cameras, redacted) = if p.may(Op::Redact) {
        let mut cams = Vec::new();
        for o in &li.row.officers {
            for a in app
                .meta
                .worn_by(o, li.row.start_ms, li.row.end_ms)
                .await
                .map_err(|e| f(e.into()))?
            {
                cams.push((o.clone(), a.device_id));
            }
        }
        let done = app.meta.redactions_of(&id).await.map_err(|e| f(e.into()))?;
        (cams, done)
    } else {
        (Vec::new(), Vec::new())
    };
    let ts = |ms: i64| kordon_core::time::Timestamp(ms).to_string();
    let r = &li.row;
    let x = |t: i64| 1000.0 * (t - r.start_ms) as f64 / (r.end_ms - r.start_ms).max(1) as f64;
    let csrf = p.csrf.clone().unwrap_or_default();
    let body = html! {
        dl.record {
            dt { (t(lang, "crossing_point")) } dd { (r.crossing_point) " / " (t(lang, "lane")) " " (r.lane) }
            dt { (t(lang, "from")) } dd { (show(r.start_ms, &tz)) }
            dt { (t(lang, "to")) } dd { (show(r.end_ms, &tz)) }
            dt { (t(lang, "officers")) } dd { (r.officers.join(", ")) }
            dt { (t(lang, "plate")) } dd { (r.plate) }
            dt { (t(lang, "declaration")) } dd { (r.declaration) }
            dt { (t(lang, "coverage")) } dd #coverage { (format!("{:.1} %", c.ratio() * 100.0)) }
        }
        svg role="img" aria-label=(t(lang, "coverage")) width="1000" height="24" viewBox="0 0 1000 24" {
            rect x="0" y="0" width="1000" height="24" fill="#2e7d32" {}
            @for (s, cl) in &c.uncovered {
                rect x=(x(s.start)) y="0" width=((x(s.end) - x(s.start)).max(0.5)) height="24" fill=(class_color(cl.as_str())) { title { (t(lang, cl.as_str())) } }
            }
        }
        @for o in &r.officers {
            p { a href=(format!("/ui/timeline?officer={o}&date={}", kordon_analytics::aggregate::local_day(r.start_ms, &tz))) { (t(lang, "timeline")) ": " (o) } }
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
        h2 { (t(lang, "gaps")) }
        table #gaps {
            thead { tr { th { (t(lang, "from")) } th { (t(lang, "to")) } th { (t(lang, "class")) } th { (t(lang, "reason")) } th { (t(lang, "status")) } th {} } }
            tbody {
                @for (s, cl) in &c.uncovered {
                    @let rs: Vec<_> = reasons.iter().filter(|g| g.from_ms < s.end && s.start < g.to_ms).collect();
                    tr {
                        td { (show(s.start, &tz)) } td { (show(s.end, &tz)) } td { (t(lang, cl.as_str())) }
                        td { @for g in &rs { (g.reason) ": " (g.text) br; } }
                        td { @for g in &rs { span.status data-reason=(g.id) { (g.status) } br; } }
                        td {
                            @for g in rs.iter().filter(|g| g.status == "pending") {
                                @if p.may(Op::DecideGapReason) {
                                    form method="post" action=(format!("/ui/reasons/{}/approve", g.id)) .inline { input type="hidden" name="csrf" value=(csrf); button type="submit" { (t(lang, "approve")) } }
                                    form method="post" action=(format!("/ui/reasons/{}/reject", g.id)) .inline { input type="hidden" name="csrf" value=(csrf); button type="submit" { (t(lang, "reject")) } }
                                }
                            }
                            @if p.may(Op::FileGapReason) && rs.is_empty() {
                                form method="post" action=(format!("/ui/inspections/{id}/reasons")) .inline {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="from" value=(kordon_core::time::Timestamp(s.start).to_string());
                                    input type="hidden" name="to" value=(kordon_core::time::Timestamp(s.end).to_string());
                                    label { (t(lang, "reason")) " " select name="reason" { option value="malfunction" { "malfunction" } option value="exemption" { "exemption" } option value="restricted_area" { "restricted_area" } option value="other" { "other" } } }
                                    label { (t(lang, "text")) " " input name="text" required; }
                                    button type="submit" { (t(lang, "file_reason")) }
                                }
                            }
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
    match ops::inspections::decide_reason(&app, &p, &id, &decision).await {
        Ok(_) => back_to_referer(&headers),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}
