//! Quality review for people: the week's queue per crossing point and officer (drawn at
//! random, or flagged by the anomaly reports), each officer's coverage and reviews as
//! charts, and the review form on the inspection page.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kordon_api::inspections::ReviewIn;
use kordon_store::meta::Review;
use maud::{Markup, html};

use super::frame::{
    Page, Places, bars, error_page, fail, local_midnight, page, pct, poster, show, who, zone_note,
    zone_of,
};
use super::i18n::{Lang, t};
use crate::auth::{Op, Principal};
use crate::ops::review::{CHECKLIST, OUTCOMES, OfficerWeek, Why};
use crate::state::App;

#[derive(serde::Deserialize)]
pub(super) struct WeekQuery {
    /// A day of the week shown (`YYYY-MM-DD`); this week by default.
    week: Option<String>,
}

/// The Monday starting the week of `day`, and the next Monday.
pub(super) fn week_of(day: jiff::civil::Date) -> (jiff::civil::Date, jiff::civil::Date) {
    let back = i64::from(day.weekday().to_monday_zero_offset());
    let monday = day.checked_sub(jiff::Span::new().days(back)).unwrap_or(day);
    let next = monday
        .checked_add(jiff::Span::new().days(7))
        .unwrap_or(monday);
    (monday, next)
}

/// This week's queue at `cp` in `tz`, as of `day` (the dashboard counts it too).
pub(super) async fn week_queue(
    app: &App,
    p: &Principal,
    cp: &str,
    tz: &jiff::tz::TimeZone,
    day: jiff::civil::Date,
) -> Result<Vec<OfficerWeek>, crate::error::ApiError> {
    let (monday, next) = week_of(day);
    crate::ops::review::queue(
        app,
        p,
        cp,
        local_midnight(tz, monday),
        local_midnight(tz, next),
    )
    .await
}

/// Inspections of a queue not reviewed yet.
pub(super) fn waiting(q: &[OfficerWeek]) -> usize {
    let mut ids: Vec<&str> = q
        .iter()
        .flat_map(|w| w.items.iter())
        .filter(|i| i.reviews.is_empty())
        .map(|i| i.id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// `/ui/review`: the week's review queue at each crossing point in scope.
pub(super) async fn review_page(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<WeekQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::ReviewInspections).await?;
    let f = fail(lang, &p);
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let places = Places::load(&app).await.map_err(&f)?;
    let cps = places.seen_by(&p);
    let mut sections = Vec::new();
    for cp in &cps {
        let tz = zone_of(&zones, cp);
        let day = q
            .week
            .as_deref()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .unwrap_or_else(|| jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date());
        let (monday, next) = week_of(day);
        let weeks = week_queue(&app, &p, cp, &tz, day).await.map_err(&f)?;
        let coverage: Vec<(String, f64)> = weeks
            .iter()
            .map(|w| (w.officer.clone(), 100.0 * w.coverage))
            .collect();
        let reviewed: Vec<(String, f64)> = weeks
            .iter()
            .map(|w| {
                let done = w.items.iter().filter(|i| !i.reviews.is_empty()).count();
                (w.officer.clone(), done as f64)
            })
            .collect();
        let max = weeks
            .iter()
            .map(|w| w.items.len() as f64)
            .fold(1.0, f64::max);
        let prev = monday.checked_sub(jiff::Span::new().days(7)).ok();
        sections.push(html! {
            section.card data-cp=(cp) {
                h2 { (places.name(lang, cp)) ": " (t(lang, "week_of")) " " (monday) " – " (next.yesterday().unwrap_or(next)) }
                (zone_note(lang, &tz))
                p.daynav {
                    @if let Some(d) = prev { a href=(format!("/ui/review?week={d}")) { "← " (t(lang, "week_before")) } " " }
                    a href=(format!("/ui/review?week={next}")) { (t(lang, "week_after")) " →" }
                }
                p.small { (t(lang, "review_rule")) " " (app.config.review_percent) " %." }
                @if weeks.is_empty() { p { (t(lang, "no_inspections_week")) } }
                div.scroll {
                    table.review {
                        thead { tr { th { (t(lang, "officer")) } th { (t(lang, "inspections")) } th { (t(lang, "coverage")) } th { (t(lang, "to_review")) } } }
                        tbody {
                            @for w in &weeks {
                                tr data-officer=(w.officer) {
                                    td { (w.officer) }
                                    td { (w.inspections) }
                                    td { (pct(lang, w.coverage)) }
                                    td {
                                        ul {
                                            @for i in &w.items {
                                                li data-inspection=(i.id) data-why=(if i.why == Why::Flagged { "flagged" } else { "drawn" }) data-reviewed=(!i.reviews.is_empty()) {
                                                    a href=(format!("/ui/inspections/{}#review", i.id)) { (i.id) } ", " (show(i.start_ms, &tz)) " — "
                                                    (t(lang, if i.why == Why::Flagged { "why_flagged" } else { "why_drawn" }))
                                                    @if let Some(r) = i.reviews.last() { "; " strong { (t(lang, &format!("outcome_{}", r.outcome))) } " (" (r.reviewer) ")" }
                                                    @else { "; " (t(lang, "not_reviewed")) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                (bars(lang, t(lang, "coverage_by_officer"), &coverage, 100.0, " %"))
                (bars(lang, t(lang, "reviews_by_officer"), &reviewed, max, ""))
            }
        });
    }
    let body = html! { @for s in sections { (s) } };
    Ok(page(lang, Some(&p), t(lang, "review"), body).into_response())
}

/// The inspection page's part: its reviews, and the form for a supervisor who did not
/// work it.
pub(super) fn section(
    lang: Lang,
    tz: &jiff::tz::TimeZone,
    p: &Principal,
    id: &str,
    officers: &[String],
    reviews: &[Review],
) -> Markup {
    let own = p.officer.as_ref().is_some_and(|o| officers.contains(o));
    html! {
        section #review aria-labelledby="review-heading" {
            h2 #review-heading { (t(lang, "review")) }
            ul #reviews {
                @for r in reviews {
                    li data-outcome=(r.outcome) {
                        strong { (t(lang, &format!("outcome_{}", r.outcome))) } ", " (r.reviewer) ", " (show(r.reviewed_at, tz))
                        @if !r.checklist.is_empty() {
                            ". " (t(lang, "holds")) ": "
                            @for (k, c) in r.checklist.split(';').enumerate() { @if k > 0 { ", " } (t(lang, &format!("check_{c}"))) }
                        }
                        @if !r.note.is_empty() { ". " q { (r.note) } }
                    }
                }
            }
            @if own {
                p.small { (t(lang, "not_own_review")) }
            } @else {
                form #review-form method="post" action=(format!("/ui/inspections/{id}/review")) {
                    input type="hidden" name="csrf" value=(p.csrf.clone().unwrap_or_default());
                    fieldset {
                        legend { (t(lang, "checklist")) }
                        @for c in CHECKLIST {
                            label { input type="checkbox" name=(format!("check_{c}")) value="1"; " " (t(lang, &format!("check_{c}"))) } br;
                        }
                    }
                    fieldset {
                        legend { (t(lang, "outcome")) }
                        @for o in OUTCOMES {
                            label { input type="radio" name="outcome" value=(o) required checked[o == "meets"]; " " (t(lang, &format!("outcome_{o}"))) } " "
                        }
                    }
                    label { (t(lang, "review_note")) " " input name="note" maxlength="400" size="60"; }
                    button type="submit" { (t(lang, "record_review")) }
                }
            }
        }
    }
}

/// `POST /ui/inspections/{id}/review`.
pub(super) async fn record(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let b = ReviewIn {
        outcome: form.get("outcome").cloned().unwrap_or_default(),
        checklist: CHECKLIST
            .iter()
            .filter(|c| form.contains_key(&format!("check_{c}")))
            .map(|c| (*c).to_owned())
            .collect(),
        note: form.get("note").cloned().unwrap_or_default(),
    };
    match crate::ops::review::record(&app, &p, &id, b).await {
        Ok(_) => Redirect::to(&format!("/ui/inspections/{id}#review")).into_response(),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}
