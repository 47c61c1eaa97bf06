//! The custody trail of a camera or a case, each entry's inclusion proof checked in the
//! browser.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use maud::html;

use super::frame::{Page, clock, fail, logged_lang, page, show, who, zone_note, zone_of};
use super::i18n::t;
use crate::auth::Op;
use crate::state::App;

#[derive(serde::Deserialize)]
pub(super) struct CustodyQuery {
    subject: String,
    /// Only this action (e.g. `view`).
    action: Option<String>,
    /// Only this person (on the page read).
    actor: Option<String>,
    /// Show the entries logged before this index (the next page, older).
    before: Option<i64>,
}

/// Entries read for one page of a trail.
const PAGE: u32 = 200;

/// Views by one person for one reason this close together are one viewing session.
const SESSION_GAP_MS: i64 = 30 * 60_000;

/// The actions the filter offers.
const ACTIONS: [&str; 12] = [
    "view",
    "assign",
    "return",
    "search",
    "case-add",
    "case-export",
    "redact",
    "share",
    "gap-reason",
    "quarantine",
    "equivocation",
    "enroll",
];

/// A row of the trail as people read it: one event, or one viewing session.
struct Row {
    first: kordon_core::custody::Custody,
    last_ms: i64,
    /// Segments watched in the session (1 for any other event).
    count: usize,
    /// The newest entry's log index and body, for the proof check.
    index: Option<i64>,
    body: Vec<u8>,
}

/// Folds the newest-first entries into rows: consecutive views by one person, with one
/// reason, of one camera, within [`SESSION_GAP_MS`] of each other become one row.
fn sessions(rows: Vec<kordon_store::meta::CustodyRow>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for r in rows {
        let Ok(c) = r.event() else { continue };
        if let Some(prev) = out.last_mut()
            && c.action == "view"
            && prev.first.action == "view"
            && prev.first.actor == c.actor
            && prev.first.detail == c.detail
            && camera_of(&prev.first.subject) == camera_of(&c.subject)
            && prev.first.time.0 - c.time.0 <= SESSION_GAP_MS
        {
            prev.first = c;
            prev.count += 1;
            continue;
        }
        out.push(Row {
            last_ms: c.time.0,
            first: c,
            count: 1,
            index: r.log_index,
            body: r.body,
        });
    }
    out
}

/// `device cam-1` of `device cam-1 seq 5`.
fn camera_of(subject: &str) -> &str {
    subject
        .match_indices(' ')
        .nth(1)
        .map_or(subject, |(i, _)| &subject[..i])
}

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
    let action = q.action.as_deref().filter(|a| !a.is_empty());
    let actor = q.actor.as_deref().map(str::trim).filter(|a| !a.is_empty());
    // Newest first, a page at a time (a camera's trail holds an entry per purged segment).
    let page_rows = app
        .meta
        .custody_trail_of(&q.subject, action, q.before, PAGE)
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
    let mut rows = sessions(rows);
    if let Some(a) = actor {
        rows.retain(|r| r.first.actor == a);
    }
    // Times in the zone of the crossing point the camera last served at.
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let mut tz = jiff::tz::TimeZone::UTC;
    if let Some(device) = q
        .subject
        .strip_prefix("device ")
        .and_then(|d| d.split(' ').next())
        && let Some(a) = app
            .meta
            .latest_assignments(device, 1)
            .await
            .map_err(|e| f(e.into()))?
            .last()
    {
        tz = zone_of(&zones, &a.crossing_point);
    }
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let said = |action: &str| {
        let key = format!("act_{action}");
        if super::i18n::has(&key) {
            t(lang, &key).to_owned()
        } else {
            action.to_owned()
        }
    };
    let body = html! {
        p { (t(lang, "subject")) ": " strong { (q.subject) } }
        (zone_note(lang, &tz))
        form.row.noprint method="get" action="/ui/custody" {
            input type="hidden" name="subject" value=(q.subject);
            label { (t(lang, "action")) " " select name="action" {
                option value="" { (t(lang, "all_actions")) }
                @for a in ACTIONS { option value=(a) selected[action == Some(a)] { (said(a)) } }
            } }
            label { (t(lang, "who")) " " input name="actor" value=(actor.unwrap_or("")); }
            button type="submit" { (t(lang, "filter")) }
            button.print type="button" { (t(lang, "print")) }
        }
        @if rows.is_empty() { p { (t(lang, "no_entries")) } }
        div.scroll {
            table #custody {
                thead { tr { th { (t(lang, "time")) } th { (t(lang, "who")) } th { (t(lang, "what_done")) } th { (t(lang, "detail_logged")) } th.noprint { (t(lang, "in_log")) } } }
                tbody {
                    @for r in &rows {
                        @let c = &r.first;
                        tr data-action=(c.action) data-count=(r.count) {
                            td { (show(c.time.0, &tz)) @if r.count > 1 { "–" (clock(r.last_ms, &tz)) } }
                            td { (c.actor) }
                            td {
                                @if r.count > 1 {
                                    (said(&c.action)) ": " (r.count) " " (t(lang, "segments_of")) " " (camera_of(&c.subject).trim_start_matches("device "))
                                } @else {
                                    (said(&c.action)) ": " (c.subject)
                                }
                            }
                            @if let Some(r) = c.detail.strip_prefix("reason: ") {
                                td { (t(lang, "basis")) ": " (r) }
                            } @else {
                                // The event's own words, as logged (English unless a person
                                // wrote them in Ukrainian).
                                td lang=[logged_lang(&c.detail)] translate="no" { (c.detail) }
                            }
                            td.noprint {
                                @if let Some(i) = r.index {
                                    button type="button" .check-proof data-index=(i) data-entry=(b64.encode(&r.body)) aria-label=(format!("{} №{i}", t(lang, "check_proof"))) { (t(lang, "check_proof")) }
                                    output .proof-result aria-live="polite" {}
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(before) = older {
            form #older.noprint method="get" action="/ui/custody" {
                input type="hidden" name="subject" value=(q.subject);
                @if let Some(a) = action { input type="hidden" name="action" value=(a); }
                @if let Some(a) = actor { input type="hidden" name="actor" value=(a); }
                input type="hidden" name="before" value=(before);
                button type="submit" { (t(lang, "older")) " →" }
            }
        }
    };
    Ok(page(lang, Some(&p), t(lang, "custody"), body).into_response())
}
