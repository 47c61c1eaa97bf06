//! The custody trail of a camera or a case, each entry's inclusion proof checked in the
//! browser.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use maud::html;

use super::frame::{Page, fail, page, show, who, zone_of};
use super::i18n::t;
use crate::auth::Op;
use crate::state::App;

#[derive(serde::Deserialize)]
pub(super) struct CustodyQuery {
    subject: String,
    /// Show the entries logged before this index (the next page, older).
    before: Option<i64>,
}

/// Entries on one page of a trail.
const PAGE: u32 = 200;

pub(super) async fn custody(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<CustodyQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::ViewCustody).await?;
    let f = fail(lang, &p);
    if !crate::ops::cases::subject_in_scope(&app, &p, &q.subject)
        .await
        .map_err(&f)?
    {
        return Err(f(crate::error::ApiError::Forbidden(format!(
            "the trail of {} is outside your scope",
            q.subject
        ))));
    }
    // Newest first, a page at a time (a camera's trail holds an entry per purged segment).
    let page_rows = app
        .meta
        .custody_trail(&q.subject, q.before, PAGE)
        .await
        .map_err(|e| f(e.into()))?;
    let older = (page_rows.len() == PAGE as usize)
        .then(|| page_rows.last().and_then(|r| r.log_index))
        .flatten();
    let prefix = format!("{} ", q.subject);
    let rows: Vec<_> = page_rows
        .into_iter()
        .filter(|r| r.subject == q.subject || r.subject.starts_with(&prefix))
        .collect();
    // Times in the zone of the crossing point the camera last served at.
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let mut tz = jiff::tz::TimeZone::UTC;
    if let Some(device) = q
        .subject
        .strip_prefix("device ")
        .and_then(|d| d.split(' ').next())
        && let Some(a) = app
            .meta
            .assignments(device)
            .await
            .map_err(|e| f(e.into()))?
            .last()
    {
        tz = zone_of(&zones, &a.crossing_point);
    }
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = html! {
        p { (t(lang, "subject")) ": " strong { (q.subject) } }
        table #custody {
            thead { tr { th { (t(lang, "time")) } th { (t(lang, "who")) } th { (t(lang, "action")) } th { (t(lang, "subject")) } th { (t(lang, "detail")) } th {} } }
            tbody {
                @for r in &rows {
                    @let c = r.event().ok();
                    @if let Some(c) = c {
                        tr {
                            td { (show(c.time.0, &tz)) } td { (c.actor) } td { (c.action) } td { (c.subject) } td { (c.detail) }
                            td {
                                @if let Some(i) = r.log_index {
                                    button type="button" .check-proof data-index=(i) data-entry=(b64.encode(&r.body)) { (t(lang, "check_proof")) }
                                    output .proof-result aria-live="polite" {}
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(before) = older {
            form #older method="get" action="/ui/custody" {
                input type="hidden" name="subject" value=(q.subject);
                input type="hidden" name="before" value=(before);
                button type="submit" { (t(lang, "older")) " →" }
            }
        }
    };
    Ok(page(lang, Some(&p), t(lang, "custody"), body).into_response())
}
