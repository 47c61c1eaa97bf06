//! A shift's timeline: every segment and gap of a camera or an officer over a day, and
//! the player across segment boundaries.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use kordon_analytics::coverage::{Assignment, coverage};
use kordon_analytics::span::Span;
use kordon_store::now_ms;
use maud::{Markup, html};
use serde_json::json;

use super::frame::{
    Page, class_fill, clock, fail, gap_legend, gap_patterns, json_block, local_midnight, num, page,
    show, who, zone_note, zone_of,
};
use super::i18n::{Lang, t};
use crate::auth::Op;
use crate::error::ApiError;
use crate::state::App;

#[derive(serde::Deserialize)]
pub(super) struct TimelineQuery {
    device: Option<String>,
    officer: Option<String>,
    date: Option<String>,
}

pub(super) async fn timeline(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<TimelineQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::ViewFootage).await?;
    let f = fail(lang, &p);
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let form = html! {
        form method="get" action="/ui/timeline" .row {
            label { (t(lang, "device")) " " input name="device" value=(q.device.clone().unwrap_or_default()); }
            label { (t(lang, "officer")) " " input name="officer" value=(q.officer.clone().unwrap_or_default()); }
            label { (t(lang, "date")) " " input name="date" type="date" value=(q.date.clone().unwrap_or_default()); }
            button type="submit" { (t(lang, "show")) }
        }
    };
    let now = now_ms();
    // The day asked for (today by default), in the zone of the user's crossing point.
    let home = p
        .crossing_points
        .first()
        .map(|c| zone_of(&zones, c))
        .or_else(|| zones.values().next().cloned())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let date = q
        .date
        .as_deref()
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .or_else(|| {
            jiff::Timestamp::from_millisecond(now)
                .ok()
                .map(|ts| ts.to_zoned_datetime(home.clone()).date())
        })
        .unwrap_or(jiff::civil::date(2026, 1, 1));
    // Which camera: given, or the one the officer wore that day (a night shift may have
    // begun the evening before).
    let mut device = q.device.clone().filter(|d| !d.is_empty());
    // An officer sees their own camera unless they ask for another (which scope refuses).
    let officer = q
        .officer
        .clone()
        .filter(|o| !o.is_empty())
        .or_else(|| p.officer.clone());
    if device.is_none()
        && let Some(o) = officer.as_deref()
    {
        let from = local_midnight(&home, date) - 12 * 3_600_000;
        let to = local_midnight(&home, date.tomorrow().unwrap_or(date));
        device = app
            .meta
            .assignments_of(o, from, to)
            .await
            .map_err(|e| f(e.into()))?
            .last()
            .map(|a| a.device_id.clone());
        if device.is_none() {
            let told = super::explain::decisions_told(&app, &p, lang, &home)
                .await
                .map_err(&f)?;
            let body = html! { (told) (form) (nothing_on(lang, &q, o, date)) };
            return Ok(page(lang, Some(&p), t(lang, "timeline"), body).into_response());
        }
    }
    let Some(device) = device else {
        // No one chosen: today's shifts at the user's crossing points to start from.
        let shifts = super::dashboard::shifts_today(&app, &p, lang)
            .await
            .map_err(&f)?;
        let body = html! { (form) (shifts) };
        return Ok(page(lang, Some(&p), t(lang, "timeline"), body).into_response());
    };
    let assignments = app
        .meta
        .assignments(&device)
        .await
        .map_err(|e| f(e.into()))?;
    let tz = assignments
        .last()
        .map(|a| zone_of(&zones, &a.crossing_point))
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let day = Span::new(
        local_midnight(&tz, date),
        local_midnight(&tz, date.tomorrow().unwrap_or(date)),
    );
    let mut during: Vec<_> = assignments
        .iter()
        .filter(|a| a.start_ms < day.end && a.end_ms.is_none_or(|e| e > day.start))
        .collect();
    let sees = |a: &&kordon_store::meta::Assignment| {
        p.sees_footage(std::iter::once((
            a.crossing_point.as_str(),
            a.officer.as_str(),
        )))
    };
    if app
        .meta
        .device(&device)
        .await
        .map_err(|e| f(e.into()))?
        .is_none()
    {
        return Err(f(ApiError::UnknownDevice(device)));
    }
    // Nothing that day: say so (there is nothing to refuse).
    if during.is_empty() {
        let body = html! { (form) (nothing_on(lang, &q, &device, date)) };
        return Ok(page(lang, Some(&p), t(lang, "timeline"), body).into_response());
    }
    if !p.sees_footage(
        during
            .iter()
            .map(|a| (a.crossing_point.as_str(), a.officer.as_str())),
    ) {
        return Err(f(ApiError::Forbidden(format!(
            "{device} on {date} is outside what {} may see",
            p.name
        ))));
    }
    // Only the shifts in scope: on a shared camera an officer sees his own, not the
    // segments another officer recorded on it that day.
    let scoped = p.officer.is_some() || !p.crossing_points.is_empty();
    if scoped {
        during.retain(sees);
    }
    let mine: Vec<Span> = during
        .iter()
        .map(|a| Span::new(a.start_ms, a.end_ms.unwrap_or(i64::MAX)))
        .collect();
    // What to draw: the shifts that overlap the day, whole (a night shift across midnight
    // is one view; an assignment never returned counts for a day at most), else the day.
    let shifts = during.iter().fold(None::<Span>, |acc, a| {
        let end = a.end_ms.unwrap_or(now).min(a.start_ms + 86_400_000);
        let s = Span::new(a.start_ms, end.max(a.start_ms));
        Some(acc.map_or(s, |acc| {
            Span::new(acc.start.min(s.start), acc.end.max(s.end))
        }))
    });
    let shown = shifts.unwrap_or(day);
    // Only the links of that view are read (the camera's history is not).
    let (cam, links) = crate::ops::coverage::camera_window(&app, &device, shown)
        .await
        .map_err(&f)?;
    // Narrowed to the recordings and shifts in it.
    let mut lo = i64::MAX;
    let mut hi = i64::MIN;
    let mut segments = Vec::new();
    for l in &links {
        let b = l.body();
        if b.end().0 <= shown.start || b.start().0 >= shown.end {
            continue;
        }
        if !mine
            .iter()
            .any(|m| b.start().0 < m.end && m.start < b.end().0.max(b.start().0 + 1))
        {
            continue;
        }
        lo = lo.min(b.start().0);
        hi = hi.max(b.end().0);
        segments.extend(super::player::segment(l, &tz));
    }
    if let Some(s) = shifts {
        (lo, hi) = (lo.min(s.start), hi.max(s.end));
    }
    let window = if lo < hi {
        Span::new(lo - 300_000, hi + 300_000)
    } else {
        shown
    };
    let x = |t: i64| 1000.0 * (t - window.start) as f64 / window.len().max(1) as f64;
    let plain: Vec<Assignment> = during
        .iter()
        .map(|a| Assignment {
            camera: a.device_id.clone(),
            officer: a.officer.clone(),
            span: Span::new(a.start_ms, a.end_ms.unwrap_or(i64::MAX)),
        })
        .collect();
    let mut cams = HashMap::new();
    cams.insert(device.clone(), cam.clone());
    let officers: Vec<String> = plain.iter().map(|a| a.officer.clone()).collect();
    let cov = coverage(window, &officers, &plain, &cams);
    let mut inspections = Vec::new();
    for o in officers.iter().collect::<std::collections::BTreeSet<_>>() {
        let q = kordon_store::meta::InspectionQuery {
            officer: Some(o.clone()),
            from: Some(window.start - 86_400_000),
            to: Some(window.end),
            ..Default::default()
        };
        for li in app
            .meta
            .search_inspections(&q, 200)
            .await
            .map_err(|e| f(e.into()))?
        {
            if li.row.end_ms > window.start
                && p.sees_inspection(&li.row.crossing_point, &li.row.officers)
            {
                inspections.push(li.row);
            }
        }
    }
    // Where the camera was (a body-worn system's GNSS trail), at most 200 points.
    let trail = app
        .meta
        .gnss(&device, window.start, window.end, 200)
        .await
        .map_err(|e| f(e.into()))?;
    let data = json!({"device": device, "window": [window.start, window.end], "segments": segments, "reason_needed": t(lang, "reason_needed"), "skipped": t(lang, "skipped_gap")});
    // What does not hold in this camera's chain, in words, above the axis.
    let troubles = app
        .meta
        .problem_kinds(&device)
        .await
        .map_err(|e| f(e.into()))?;
    let told = super::explain::decisions_told(&app, &p, lang, &tz)
        .await
        .map_err(&f)?;
    let day_link = |d: Result<jiff::civil::Date, jiff::Error>| {
        d.ok()
            .map(|d| format!("/ui/timeline?device={device}&date={d}"))
    };
    let body = html! {
        (told)
        (form)
        (zone_note(lang, &tz))
        p { (t(lang, "device")) " " strong { (device) } " — " (show(window.start, &tz)) " … " (show(window.end, &tz)) }
        p.daynav {
            @if let Some(l) = day_link(date.yesterday()) { a href=(l) { "← " (t(lang, "day_before")) } " " }
            @if let Some(l) = day_link(date.tomorrow()) { a href=(l) { (t(lang, "day_after")) " →" } }
        }
        @if !troubles.is_empty() {
            section.alert role="alert" #chain-problems {
                h2 { (t(lang, "chain_warning")) }
                ul { @for (kind, n) in &troubles { li data-kind=(kind) { (t(lang, &format!("problem_{kind}"))) ": " (n) } } }
            }
        }
        label for="reason" { (t(lang, "reason_to_view")) }
        input id="reason" name="reason" required size="60";
        p #reason-msg .error role="alert" hidden {}
        (gap_patterns())
        svg #timeline role="group" aria-label=(format!("{} {device}", t(lang, "timeline"))) width="1000" height="90" viewBox="0 0 1000 90" data-start=(window.start) data-end=(window.end) {
            @for i in &inspections {
                a href=(format!("/ui/inspections/{}", i.id)) aria-label=(format!("{} {} {}", t(lang, "inspection"), i.id, clock(i.start_ms, &tz))) {
                    rect x=(x(i.start_ms)) y="2" width=((x(i.end_ms) - x(i.start_ms)).max(1.0)) height="12" fill="#8a4f00" stroke="#fff" { title { (t(lang, "inspection")) " " (i.id) } }
                }
            }
            @for s in cam.recorded.clip(&window).spans() {
                rect.rec x=(x(s.start)) y="20" width=((x(s.end) - x(s.start)).max(0.5)) height="40" fill="#2e7d32" { title { (t(lang, "recorded")) } }
            }
            @for s in cam.night.clip(&window).spans() {
                rect x=(x(s.start)) y="20" width=((x(s.end) - x(s.start)).max(0.5)) height="8" fill="#0d47a1" { title { (t(lang, "night")) } }
            }
            @for (i, (s, c)) in cov.uncovered.iter().enumerate() {
                a href=(format!("#gap-{i}")) aria-label=(format!("{}: {}–{}", t(lang, c.as_str()), clock(s.start, &tz), clock(s.end, &tz))) {
                    rect x=(x(s.start)) y="62" width=((x(s.end) - x(s.start)).max(2.0)) height="14" fill=(class_fill(c.as_str())) data-class=(c.as_str()) { title { (t(lang, c.as_str())) ": " (clock(s.start, &tz)) "–" (clock(s.end, &tz)) } }
                }
            }
            line #playhead x1="0" y1="0" x2="0" y2="90" stroke="#000" stroke-width="2" visibility="hidden" {}
            @for (at, kind) in &cam.stops {
                @if window.start <= *at && *at < window.end {
                    line x1=(x(*at)) y1="18" x2=(x(*at)) y2="80" stroke="#000" stroke-dasharray="2 2" { title { (t(lang, &format!("stop_{}", kind.as_str()))) " " (clock(*at, &tz)) } }
                }
            }
        }
        ul.legend {
            li { span.sw style="background:#2e7d32" {} (t(lang, "recorded")) }
            li { span.sw style="background:#0d47a1" {} (t(lang, "night")) }
            li { span.sw style="background:#8a4f00" {} (t(lang, "inspections")) }
            (gap_legend(lang))
        }
        video #player controls preload="none" width="640" aria-label=(t(lang, "player")) {}
        p #now-playing aria-live="polite" {}
        h2 #gaps-heading { (t(lang, "gaps")) " (" (cov.uncovered.len()) ")" }
        @if cov.uncovered.is_empty() { p { (t(lang, "no_gaps")) } }
        ol #gap-list aria-labelledby="gaps-heading" {
            @for (i, (s, c)) in cov.uncovered.iter().enumerate() {
                li id=(format!("gap-{i}")) tabindex="-1" data-class=(c.as_str()) {
                    (clock(s.start, &tz)) "–" (clock(s.end, &tz)) ": " (t(lang, c.as_str()))
                    " (" (num(lang, s.len() as f64 / 60_000.0, 1)) " " (t(lang, "min")) ")"
                }
            }
        }
        h2 { (t(lang, "segments")) }
        ol #segment-list {
            @for s in &segments {
                @let at = s["start"].as_i64().map_or_else(String::new, |ms| clock(ms, &tz));
                li {
                    button type="button" .play data-seq=(s["seq"]) aria-label=(format!("{} {at}", t(lang, "play"))) { (t(lang, "play")) } " " (at)
                    @if s["muted"] == true { " — " (t(lang, "no_audio")) }
                }
            }
        }
        @if !trail.is_empty() {
            h2 { (t(lang, "location")) }
            table.trail {
                thead { tr { th { (t(lang, "time")) } th { (t(lang, "latitude")) } th { (t(lang, "longitude")) } } }
                tbody {
                    @for pt in &trail {
                        tr { td { (show(pt.at_ms, &tz)) } td { (num(lang, pt.lat_e7 as f64 / 1e7, 6)) } td { (num(lang, pt.lon_e7 as f64 / 1e7, 6)) } }
                    }
                }
            }
        }
        p { a href=(format!("/ui/custody?subject=device%20{device}")) { (t(lang, "custody")) } }
        script #timeline-data type="application/json" { (json_block(&data)) }
    };
    Ok(page(lang, Some(&p), t(lang, "timeline"), body).into_response())
}

/// The page's answer for a day with no recordings of whom or what was asked for, with
/// the days before and after.
fn nothing_on(lang: Lang, q: &TimelineQuery, what: &str, date: jiff::civil::Date) -> Markup {
    let link = |d: jiff::civil::Date| {
        format!(
            "/ui/timeline?device={}&officer={}&date={d}",
            q.device.as_deref().unwrap_or(""),
            q.officer.as_deref().unwrap_or("")
        )
    };
    html! {
        p.notice role="status" #nothing { (t(lang, "no_recordings_day")) " " strong { (date) } " (" (what) ")." }
        p {
            @if let Ok(d) = date.yesterday() { a href=(link(d)) { "← " (t(lang, "day_before")) } " " }
            @if let Ok(d) = date.tomorrow() { a href=(link(d)) { (t(lang, "day_after")) " →" } }
        }
    }
}
