//! The explanation flow for people: what waits for a supervisor's decision, what an
//! officer filed and what became of it, each explanation's history in words.
//!
//! Filing and deciding are the API's operations (`ops::inspections::file_reason`,
//! `decide_reason`): a gap is explained once at a time (again after a rejection), a
//! rejection needs a comment, and no one decides on his own filing or inspection.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use kordon_store::meta::GapReason;
use kordon_store::now_ms;
use maud::{Markup, html};

use super::frame::{Page, Places, clock, cursor, fail, page, show, who, zone_note, zone_of};
use super::i18n::{Lang, t};
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::state::App;

/// The reason codes an explanation may give.
pub(super) const REASONS: [&str; 4] = ["malfunction", "exemption", "restricted_area", "other"];

/// Rows of the queue on one page.
const PAGE: u32 = 50;

/// How long an officer is told of a decision on his explanation.
const TOLD_FOR_MS: i64 = 7 * 86_400_000;

/// One explanation's history in words: filed (who, when, why), decided (who, when,
/// comment).
pub(super) fn history(lang: Lang, tz: &jiff::tz::TimeZone, rs: &[&GapReason]) -> Markup {
    html! {
        ul.history {
            @for g in rs {
                li data-reason=(g.id) {
                    (t(lang, "filed_by")) " " strong { (g.filed_by) } ", " (show(g.filed_at, tz)) ": "
                    em { (t(lang, &format!("reason_{}", g.reason))) } " — " (g.text) ". "
                    span.status class=(format!("st-{}", g.status)) data-status=(g.status) { (t(lang, &format!("state_{}", g.status))) }
                    @if let (Some(by), Some(at)) = (&g.decided_by, g.decided_at) {
                        " (" (by) ", " (show(at, tz)) ")"
                    }
                    @if let Some(c) = &g.comment { ": " q { (c) } }
                }
            }
        }
    }
}

/// The supervisor's form for a pending explanation: a comment (required to reject) and
/// the two decisions; `when` names the gap in the controls' names.
pub(super) fn decide_form(lang: Lang, csrf: &str, id: &str, when: &str) -> Markup {
    html! {
        form.decide method="post" action=(format!("/ui/reasons/{id}/approve")) {
            input type="hidden" name="csrf" value=(csrf);
            label { (t(lang, "decision_comment")) " " input name="comment" maxlength="400" aria-label=(format!("{} {when}", t(lang, "decision_comment"))); }
            button type="submit" aria-label=(format!("{} {when}", t(lang, "approve"))) { (t(lang, "approve")) }
            button.reject type="submit" formaction=(format!("/ui/reasons/{id}/reject")) aria-label=(format!("{} {when}", t(lang, "reject"))) { (t(lang, "reject")) }
        }
    }
}

#[derive(serde::Deserialize)]
pub(super) struct QueueQuery {
    /// The page after this reason (`<filed_at>.<id>`).
    after: Option<String>,
}

/// `/ui/explanations`: the queue of explanations waiting for a decision (supervisors, at
/// their crossing points) and one's own explanations with their decisions (officers).
pub(super) async fn explanations(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::ViewReports).await?;
    let f = fail(lang, &p);
    if !p.may(Op::DecideGapReason) && !p.may(Op::FileGapReason) {
        return Err(f(ApiError::Forbidden(
            "explanations are for officers and supervisors".into(),
        )));
    }
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let places = Places::load(&app).await.map_err(&f)?;
    let tz = p
        .crossing_points
        .first()
        .map_or(jiff::tz::TimeZone::UTC, |c| zone_of(&zones, c));
    let csrf = p.csrf.clone().unwrap_or_default();
    let after = cursor(q.after.as_deref());
    let queue = if p.may(Op::DecideGapReason) {
        app.meta
            .pending_gap_reasons(&p.crossing_points, after, PAGE)
            .await
            .map_err(|e| f(e.into()))?
    } else {
        Vec::new()
    };
    let next = (queue.len() == PAGE as usize)
        .then(|| queue.last())
        .flatten()
        .map(|x| format!("{}.{}", x.reason.filed_at, x.reason.id));
    let mine = app
        .meta
        .gap_reasons_filed_by(&p.name, PAGE)
        .await
        .map_err(|e| f(e.into()))?;
    let body = html! {
        (zone_note(lang, &tz))
        @if p.may(Op::DecideGapReason) {
            h2 #queue { (t(lang, "waiting_decision")) " (" (queue.len()) @if next.is_some() { "+" } ")" }
            @if queue.is_empty() { p { (t(lang, "queue_empty")) } }
            ol.queue {
                @for x in &queue {
                    @let g = &x.reason;
                    @let when = format!("{}–{}", clock(g.from_ms, &tz), clock(g.to_ms, &tz));
                    li data-reason=(g.id) {
                        p {
                            a href=(format!("/ui/inspections/{}", g.inspection_id)) { (t(lang, "inspection")) " " (g.inspection_id) }
                            ", " (places.name(lang, &x.crossing_point)) ", " (x.officers.join(", "))
                            ", " (t(lang, "gap")) " " (show(g.from_ms, &tz)) "–" (clock(g.to_ms, &tz))
                        }
                        (history(lang, &tz, &[g]))
                        @if g.filed_by == p.name || p.officer.as_ref().is_some_and(|o| x.officers.contains(o)) {
                            p.small { (t(lang, "not_own_decision")) }
                        } @else {
                            (decide_form(lang, &csrf, &g.id, &when))
                        }
                    }
                }
            }
            @if let Some(n) = next { p { a href=(format!("/ui/explanations?after={n}")) { (t(lang, "next_page")) " →" } } }
        }
        @if p.may(Op::FileGapReason) {
            h2 #mine { (t(lang, "my_explanations")) }
            @if mine.is_empty() { p { (t(lang, "none_filed")) } }
            ol.mine {
                @for g in &mine {
                    li {
                        a href=(format!("/ui/inspections/{}", g.inspection_id)) { (t(lang, "inspection")) " " (g.inspection_id) }
                        (history(lang, &tz, &[g]))
                    }
                }
            }
        }
    };
    Ok(page(lang, Some(&p), t(lang, "explanations"), body).into_response())
}

/// What an officer is told on his pages: his explanations decided in the last week.
pub(super) async fn decisions_told(
    app: &App,
    p: &Principal,
    lang: Lang,
    tz: &jiff::tz::TimeZone,
) -> Result<Markup, ApiError> {
    if p.officer.is_none() {
        return Ok(html! {});
    }
    let since = now_ms() - TOLD_FOR_MS;
    let decided: Vec<_> = app
        .meta
        .gap_reasons_filed_by(&p.name, 20)
        .await?
        .into_iter()
        .filter(|g| g.decided_at.is_some_and(|at| at >= since))
        .collect();
    Ok(html! {
        @if !decided.is_empty() {
            section.notice role="status" aria-labelledby="told" {
                h2 #told { (t(lang, "your_decided")) }
                ul {
                    @for g in &decided {
                        li {
                            a href=(format!("/ui/inspections/{}", g.inspection_id)) { (t(lang, "inspection")) " " (g.inspection_id) } ": "
                            span.status class=(format!("st-{}", g.status)) { (t(lang, &format!("state_{}", g.status))) }
                            @if let (Some(by), Some(at)) = (&g.decided_by, g.decided_at) { " (" (by) ", " (show(at, tz)) ")" }
                            @if let Some(c) = &g.comment { " — " q { (c) } }
                        }
                    }
                }
            }
        }
    })
}
