//! The dashboard: per crossing point, what records, what is missing, what waits.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use kordon_store::now_ms;
use maud::{Markup, html};

use kordon_store::meta::Assignment;

use super::frame::{
    Page, Places, bars, clock, fail, local_midnight, num, page, pct, show, who, zone_note, zone_of,
};
use super::i18n::{Lang, t};
use crate::auth::{self, Op, Principal};
use crate::error::ApiError;
use crate::ops;
use crate::state::App;

/// Battery or free storage under which a camera on shift needs attention.
const LOW_BATTERY: i64 = 20;
const LOW_STORAGE_MIB: i64 = 2048;

/// Rows a queue shows on the dashboard (the rest behind its link).
const QUEUE_ROWS: u32 = 100;

pub(super) async fn dashboard(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    // An officer's home is their own timeline.
    if let Ok(Some(p)) = auth::authenticate(&app, &headers).await
        && !p.may(Op::ViewDashboard)
        && p.may(Op::ViewFootage)
    {
        return Ok(axum::response::Redirect::to("/ui/timeline").into_response());
    }
    let (p, lang) = who(&app, &headers, Op::ViewDashboard).await?;
    let f = fail(lang, &p);
    let desk = Desk::load(&app, &p).await.map_err(&f)?;
    let now = now_ms();
    // Chain problems of any camera, issued or not, by where it was last handed out.
    let mut troubled: BTreeMap<Option<String>, Vec<Troubled>> = BTreeMap::new();
    for (device, kinds) in app
        .meta
        .troubled_devices(QUEUE_ROWS)
        .await
        .map_err(|e| f(e.into()))?
    {
        let last = app
            .meta
            .latest_assignments(&device, 1)
            .await
            .map_err(|e| f(e.into()))?
            .pop();
        let issued = last.as_ref().is_some_and(|a| a.end_ms.is_none());
        troubled
            .entry(last.map(|a| a.crossing_point))
            .or_default()
            .push(Troubled {
                device,
                kinds,
                issued,
            });
    }
    let silent = crate::jobs::cameras::silent(&app).await.map_err(&f)?;
    let mut cards = Vec::new();
    for (cp, tz) in &desk.places {
        let today = jiff::Timestamp::from_millisecond(now)
            .map(|ts| ts.to_zoned_datetime(tz.clone()).date())
            .unwrap_or(jiff::civil::date(2026, 1, 1));
        let fortnight = local_midnight(
            tz,
            today
                .checked_sub(jiff::Span::new().days(13))
                .unwrap_or(today),
        );
        let data = ops::reports::load_for(&app, &p, fortnight, now + 1, Some(cp), None)
            .await
            .map_err(&f)?;
        let today_key = today.to_string();
        let todays: Vec<&ops::reports::Computed> = data
            .rows
            .iter()
            .filter(|x| kordon_analytics::aggregate::local_day(x.li.row.start_ms, tz) == today_key)
            .collect();
        let shifts = desk.shifts(&app, cp, tz, now).await.map_err(&f)?;
        // Camera health: on shift and silent, low battery or storage, docked.
        let on_shift: Vec<&str> = shifts.iter().map(|a| a.device_id.as_str()).collect();
        let health = app
            .meta
            .health_of(&on_shift)
            .await
            .map_err(|e| f(e.into()))?;
        let mut attention: Vec<(String, String)> = silent
            .iter()
            .filter(|s| &s.crossing_point == cp)
            .map(|s| (s.device_id.clone(), t(lang, "health_silent").to_owned()))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for a in shifts.iter().rev().filter(|a| seen.insert(&a.device_id)) {
            if let Some(h) = health.get(&a.device_id) {
                let mut why = Vec::new();
                if h.battery.is_some_and(|b| b < LOW_BATTERY) {
                    why.push(format!(
                        "{} {} %",
                        t(lang, "battery"),
                        h.battery.unwrap_or(0)
                    ));
                }
                if h.free_mib.is_some_and(|m| m < LOW_STORAGE_MIB) {
                    why.push(format!(
                        "{} {} MiB",
                        t(lang, "free_storage"),
                        h.free_mib.unwrap_or(0)
                    ));
                }
                if h.backlog_links.is_some_and(|l| l > 0) {
                    why.push(format!(
                        "{} {}",
                        t(lang, "backlog"),
                        h.backlog_links.unwrap_or(0)
                    ));
                }
                if h.docked == Some(1) && a.end_ms.is_none() {
                    why.push(t(lang, "health_docked").to_owned());
                }
                if !why.is_empty() {
                    attention.push((a.device_id.clone(), why.join(", ")));
                }
            }
        }
        let pending = app
            .meta
            .pending_gap_reasons(std::slice::from_ref(cp), None, QUEUE_ROWS)
            .await
            .map_err(|e| f(e.into()))?;
        let unexplained: Vec<(&ops::reports::Computed, usize)> = todays
            .iter()
            .map(|x| (*x, x.explained.iter().filter(|ok| !**ok).count()))
            .filter(|(_, n)| *n > 0)
            .collect();
        let gaps_open: usize = unexplained.iter().map(|(_, n)| n).sum();
        let problems = troubled
            .get(&Some(cp.clone()))
            .map_or(&[][..], Vec::as_slice);
        let (dur, cov) = todays.iter().fold((0i64, 0i64), |(d, c), x| {
            (d + x.coverage.duration_ms, c + x.coverage.covered_ms)
        });
        let awaited_ms: i64 = todays
            .iter()
            .flat_map(|x| x.coverage.uncovered.iter())
            .filter(|(_, c)| c.as_str() == "not_yet_uploaded")
            .map(|(s, _)| s.len())
            .sum();
        let (mut recording, mut last) = (0, None::<i64>);
        for a in shifts.iter().filter(|a| a.end_ms.is_none()) {
            let links = app
                .meta
                .links_covering(&a.device_id, now - 120_000, now + 1)
                .await
                .map_err(|e| f(e.into()))?;
            recording += usize::from(!links.is_empty());
            if let Some(state) = app
                .meta
                .chain_state(&a.device_id)
                .await
                .map_err(|e| f(e.into()))?
            {
                last = last.max(Some(state.last_received_ms));
            }
        }
        let to_review = if p.may(Op::ReviewInspections) {
            let q = super::review::week_queue(&app, &p, cp, tz, today)
                .await
                .map_err(&f)?;
            Some(super::review::waiting(&q))
        } else {
            None
        };
        let plus = |n: usize| {
            if n >= QUEUE_ROWS as usize {
                format!("{n}+")
            } else {
                n.to_string()
            }
        };
        let id = cp.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
        cards.push(html! {
            section.card aria-labelledby=(format!("cp-{id}")) data-cp=(cp) {
                h2 id=(format!("cp-{id}")) { (desk.names.name(lang, cp)) }
                (zone_note(lang, tz))
                h3 { (t(lang, "queues")) }
                ul.queues {
                    li { a href="/ui/explanations#queue" data-queue="decisions" { span.count { (plus(pending.len())) } span.label { (t(lang, "q_decisions")) } } }
                    li { a href=(format!("#unexplained-{id}")) data-queue="unexplained" { span.count data-stat="unexplained" { (gaps_open) } span.label { (t(lang, "q_unexplained")) } } }
                    li { a href=(format!("#chain-{id}")) data-queue="chain" { span.count data-stat="problems" { (problems.len()) } span.label { (t(lang, "q_chain")) } } }
                    @if let Some(n) = to_review { li { a href="/ui/review" data-queue="review" { span.count { (n) } span.label { (t(lang, "q_review")) } } } }
                    li { a href=(format!("#health-{id}")) data-queue="health" { span.count { (attention.len()) } span.label { (t(lang, "q_health")) } } }
                }
                dl.stats {
                    dt { (t(lang, "cameras_assigned")) } dd data-stat="assigned" { (shifts.iter().filter(|a| a.end_ms.is_none()).count()) }
                    dt { (t(lang, "recording_now")) } dd data-stat="recording" { (recording) }
                    dt { (t(lang, "last_upload")) } dd { (last.map(|l| show(l, tz)).unwrap_or_else(|| "—".into())) }
                    dt { (t(lang, "today_coverage")) } dd data-stat="coverage" { @if dur > 0 { (pct(lang, cov as f64 / dur as f64)) } @else { "—" } }
                    dt { (t(lang, "upload_backlog")) } dd data-stat="backlog" { (num(lang, awaited_ms as f64 / 60_000.0, 1)) " " (t(lang, "min")) }
                }
                h3 { (t(lang, "shifts_today")) }
                (shifts_table(lang, tz, &shifts, &todays))
                h3 id=(format!("unexplained-{id}")) tabindex="-1" { (t(lang, "q_unexplained")) }
                @if unexplained.is_empty() { p { (t(lang, "queue_empty")) } }
                ul {
                    @for (x, n) in &unexplained {
                        li { a href=(format!("/ui/inspections/{}", x.li.row.id)) { (t(lang, "inspection")) " " (x.li.row.id) } ", " (clock(x.li.row.start_ms, tz)) ", " (x.li.row.officers.join(", ")) ": " (t(lang, "gaps")) " " (n) }
                    }
                }
                h3 id=(format!("chain-{id}")) tabindex="-1" { (t(lang, "q_chain")) }
                (troubled_list(lang, problems))
                h3 id=(format!("health-{id}")) tabindex="-1" { (t(lang, "q_health")) }
                @if attention.is_empty() { p { (t(lang, "queue_empty")) } }
                ul {
                    @for (d, why) in &attention {
                        li { a href=(format!("/ui/timeline?device={d}")) { (d) } ": " (why) }
                    }
                }
                p { a href="/ui/cameras" { (t(lang, "all_cameras")) " →" } }
                (charts(lang, tz, &data.rows))
            }
        });
    }
    // Cameras never handed out anywhere: only those who see every crossing point.
    if p.crossing_points.is_empty()
        && let Some(rows) = troubled.get(&None)
    {
        cards.push(html! {
            section.card aria-labelledby="unplaced" {
                h2 #unplaced { (t(lang, "q_chain")) ": " (t(lang, "never_issued")) }
                (troubled_list(lang, rows))
            }
        });
    }
    // Which zone times of the links are shown in: the first crossing point's, else UTC.
    let tz = desk
        .places
        .first()
        .map_or(jiff::tz::TimeZone::UTC, |(_, tz)| tz.clone());
    cards.extend(links_cards(&app, lang, &tz).await.map_err(&f)?);
    Ok(page(
        lang,
        Some(&p),
        t(lang, "dashboard"),
        html! { @for c in cards { (c) } },
    )
    .into_response())
}

/// The crossing points a user sees, with their zones and names.
struct Desk {
    places: Vec<(String, jiff::tz::TimeZone)>,
    names: Places,
}

impl Desk {
    async fn load(app: &App, p: &Principal) -> Result<Desk, ApiError> {
        let zones = crate::localtime::zones(app).await?;
        let names = Places::load(app).await?;
        let places = names
            .seen_by(p)
            .into_iter()
            .map(|c| {
                let tz = zone_of(&zones, &c);
                (c, tz)
            })
            .collect();
        Ok(Desk { places, names })
    }

    /// Today's shifts at `cp`: the cameras handed out there since the evening before
    /// (a night shift) or still out.
    async fn shifts(
        &self,
        app: &App,
        cp: &str,
        tz: &jiff::tz::TimeZone,
        now: i64,
    ) -> Result<Vec<Assignment>, ApiError> {
        let today = jiff::Timestamp::from_millisecond(now)
            .map(|ts| ts.to_zoned_datetime(tz.clone()).date())
            .unwrap_or(jiff::civil::date(2026, 1, 1));
        let from = local_midnight(tz, today) - 12 * 3_600_000;
        Ok(app
            .meta
            .assignments_between(from, now + 1)
            .await?
            .into_iter()
            .filter(|a| a.crossing_point == cp)
            .collect())
    }
}

/// Today's shifts as a table: officer, camera, since, coverage of his inspections so far,
/// gaps still unexplained; each leads to the shift's timeline.
fn shifts_table(
    lang: Lang,
    tz: &jiff::tz::TimeZone,
    shifts: &[Assignment],
    todays: &[&ops::reports::Computed],
) -> Markup {
    html! {
        @if shifts.is_empty() { p { (t(lang, "no_shifts")) } }
        @else {
            div.scroll {
                table.shifts {
                    thead { tr { th { (t(lang, "officer")) } th { (t(lang, "device")) } th { (t(lang, "since")) } th { (t(lang, "coverage")) } th { (t(lang, "open_gaps")) } } }
                    tbody {
                        @for a in shifts {
                            @let mine: Vec<_> = todays.iter().filter(|x| x.li.row.officers.contains(&a.officer) && x.li.row.start_ms >= a.start_ms && a.end_ms.is_none_or(|e| x.li.row.start_ms < e)).collect();
                            @let (d, c) = mine.iter().fold((0i64, 0i64), |(d, c), x| (d + x.coverage.duration_ms, c + x.coverage.covered_ms));
                            @let open: usize = mine.iter().map(|x| x.explained.iter().filter(|ok| !**ok).count()).sum();
                            tr data-officer=(a.officer) {
                                td { a href=(format!("/ui/timeline?officer={}&date={}", a.officer, kordon_analytics::aggregate::local_day(a.start_ms, tz))) { (a.officer) } }
                                td { a href=(format!("/ui/timeline?device={}&date={}", a.device_id, kordon_analytics::aggregate::local_day(a.start_ms, tz))) { (a.device_id) } }
                                td { (clock(a.start_ms, tz)) @if let Some(e) = a.end_ms { "–" (clock(e, tz)) } }
                                td { @if d > 0 { (pct(lang, c as f64 / d as f64)) } @else { "—" } }
                                td { (open) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The cameras whose chains have problems, the kinds in words.
/// A camera whose chain has problems: their kinds and counts, and whether it is out now.
struct Troubled {
    device: String,
    kinds: Vec<(String, u64)>,
    issued: bool,
}

fn troubled_list(lang: Lang, rows: &[Troubled]) -> Markup {
    html! {
        @if rows.is_empty() { p { (t(lang, "queue_empty")) } }
        ul.troubled {
            @for r in rows {
                li data-device=(r.device) {
                    a href=(format!("/ui/timeline?device={}", r.device)) { (r.device) }
                    @if !r.issued { " (" (t(lang, "not_issued")) ")" }
                    ": "
                    @for (i, (k, n)) in r.kinds.iter().enumerate() {
                        @if i > 0 { "; " }
                        (t(lang, &format!("problem_{k}"))) " — " (n)
                    }
                }
            }
        }
    }
}

/// `MM-DD` of `YYYY-MM-DD`: a chart's label (the year is the page's).
fn month_day(d: &str) -> String {
    d.get(5..).unwrap_or(d).to_owned()
}

/// The fortnight's charts: coverage and median clearance per day.
fn charts(lang: Lang, tz: &jiff::tz::TimeZone, rows: &[ops::reports::Computed]) -> Markup {
    let mut by_day: BTreeMap<String, (i64, i64, Vec<i64>)> = BTreeMap::new();
    for x in rows {
        let day = kordon_analytics::aggregate::local_day(x.li.row.start_ms, tz);
        let e = by_day.entry(day).or_default();
        e.0 += x.coverage.duration_ms;
        e.1 += x.coverage.covered_ms;
        e.2.push(x.coverage.duration_ms);
    }
    let coverage_rows: Vec<(String, f64)> = by_day
        .iter()
        .map(|(d, v)| {
            let r = if v.0 > 0 {
                100.0 * v.1 as f64 / v.0 as f64
            } else {
                0.0
            };
            (month_day(d), r)
        })
        .collect();
    let clearance_rows: Vec<(String, f64)> = by_day
        .iter()
        .map(|(d, v)| {
            let mut s = v.2.clone();
            s.sort_unstable();
            (
                month_day(d),
                s.get(s.len() / 2).copied().unwrap_or(0) as f64 / 60_000.0,
            )
        })
        .collect();
    let max_clear = clearance_rows.iter().map(|r| r.1).fold(1.0, f64::max);
    html! {
        (bars(lang, t(lang, "coverage_by_day"), &coverage_rows, 100.0, " %"))
        (bars(lang, t(lang, "clearance_by_day"), &clearance_rows, max_clear, &format!(" {}", t(lang, "min"))))
    }
}

/// Today's shifts at every crossing point the user sees (the timeline's starting point).
pub(super) async fn shifts_today(app: &App, p: &Principal, lang: Lang) -> Result<Markup, ApiError> {
    if !p.may(Op::ViewDashboard) {
        return Ok(html! {});
    }
    let desk = Desk::load(app, p).await?;
    let now = now_ms();
    let mut out = Vec::new();
    for (cp, tz) in &desk.places {
        let shifts = desk.shifts(app, cp, tz, now).await?;
        if shifts.is_empty() {
            continue;
        }
        out.push(html! {
            h2 { (t(lang, "shifts_today")) ": " (desk.names.name(lang, cp)) }
            (zone_note(lang, tz))
            (shifts_table(lang, tz, &shifts, &[]))
        });
    }
    Ok(html! { @for m in out { (m) } })
}

/// The dashboard's cards about links between servers: this crossing point's forwarding
/// to the centre, and at the centre the crossing points forwarding here.
async fn links_cards(
    app: &App,
    lang: Lang,
    tz: &jiff::tz::TimeZone,
) -> Result<Vec<Markup>, ApiError> {
    let mut cards = Vec::new();
    if app.config.forward.is_some() {
        let s = app.forwarding.lock().map(|s| s.clone()).unwrap_or_default();
        cards.push(html! {
            section.card aria-labelledby="forwarding" {
                h2 id="forwarding" { (t(lang, "forwarding")) }
                p.small { (s.url) }
                dl.stats {
                    dt { (t(lang, "link_up")) } dd data-stat="link" { (t(lang, if s.connected { "up" } else { "down" })) }
                    dt { (t(lang, "forwarded_entries")) } dd data-stat="forwarded" { (s.forwarded) " / " (s.size) }
                    dt { (t(lang, "forward_backlog")) } dd data-stat="forward-backlog" { (s.size.saturating_sub(s.forwarded)) }
                    dt { (t(lang, "segments_forwarded")) } dd { (s.segments) }
                    dt { (t(lang, "forward_confirmed")) } dd data-stat="forward-confirmed" { (s.confirmed) }
                    dt { (t(lang, "forward_holes")) } dd data-stat="forward-holes" { (s.holes) }
                    dt { (t(lang, "last_forward")) } dd { (s.last_ok_ms.map(|l| show(l, tz)).unwrap_or_else(|| "—".into())) }
                    @if let Some(e) = &s.last_error { dt { (t(lang, "last_error")) } dd { (e) } }
                }
            }
        });
    }
    if !app.edges.read().map(|e| e.is_empty()).unwrap_or(true) {
        let edges = app.meta.edges().await?;
        let mut holes = Vec::with_capacity(edges.len());
        for e in &edges {
            holes.push(app.meta.edge_holes(&e.origin, None, 100).await?.len());
        }
        let rows: Vec<(String, f64)> = edges
            .iter()
            .map(|e| (e.origin.clone(), e.size as f64))
            .collect();
        let max = rows.iter().map(|r| r.1).fold(1.0, f64::max);
        cards.push(html! {
            section.card aria-labelledby="edges" {
                h2 id="edges" { (t(lang, "edges")) }
                table {
                    thead { tr { th { (t(lang, "crossing_point")) } th { (t(lang, "forwarded_entries")) } th { (t(lang, "forward_holes")) } th { (t(lang, "last_forward")) } } }
                    tbody {
                        @for (e, h) in edges.iter().zip(&holes) {
                            tr data-edge=(e.origin) {
                                td { (e.origin) } td { (e.size) }
                                td data-holes=(h) { @if *h >= 100 { "100+" } @else { (h) } }
                                td { (show(e.updated_at, tz)) }
                            }
                        }
                    }
                }
                (bars(lang, t(lang, "edge_entries"), &rows, max, ""))
            }
        });
    }
    Ok(cards)
}
