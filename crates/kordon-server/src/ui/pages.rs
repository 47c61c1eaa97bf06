//! The pages: dashboard, shift timeline, search, inspection, custody trail, administration.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kordon_analytics::coverage::{Assignment, CameraTimeline, coverage};
use kordon_analytics::span::Span;
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::link::LinkBody;
use kordon_core::note::VerifierKey;
use kordon_store::now_ms;
use maud::{Markup, html};
use serde_json::json;

use super::{Lang, error_page, json_block, lang_of, page, show, t};
use crate::app::App;
use crate::auth::{Op, Principal};
use crate::error::{ApiError, Body};

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/ui/", get(dashboard))
        .route("/ui/timeline", get(timeline))
        .route("/ui/search", get(search))
        .route("/ui/inspections/{id}", get(inspection))
        .route("/ui/inspections/{id}/reasons", post(file_reason))
        .route("/ui/reasons/{id}/{decision}", post(decide_reason))
        .route("/ui/custody", get(custody))
        .route("/ui/admin", get(admin))
        .route("/ui/admin/{action}", post(admin_action))
}

type Page = Result<Response, Response>;

/// Signs in and checks `op`, or answers the page that says why not.
async fn who(app: &App, headers: &HeaderMap, op: Op) -> Result<(Principal, Lang), Response> {
    let lang = lang_of(headers);
    match app.authorize(headers, op, false, None).await {
        Ok(p) => Ok((p, lang)),
        Err(e) => {
            let p = app.principal(headers).await.ok().flatten();
            Err(error_page(lang, p.as_ref(), &e))
        }
    }
}

fn fail(lang: Lang, p: &Principal) -> impl Fn(ApiError) -> Response + '_ {
    move |e| error_page(lang, Some(p), &e)
}

fn zone_of(zones: &HashMap<String, jiff::tz::TimeZone>, cp: &str) -> jiff::tz::TimeZone {
    zones.get(cp).cloned().unwrap_or(jiff::tz::TimeZone::UTC)
}

fn local_midnight(tz: &jiff::tz::TimeZone, date: jiff::civil::Date) -> i64 {
    date.to_zoned_datetime(tz.clone())
        .map_or(0, |z| z.timestamp().as_millisecond())
}

fn class_color(class: &str) -> &'static str {
    match class {
        "not_assigned" => "#9e9e9e",
        "not_yet_uploaded" => "#1565c0",
        "missing_segments" => "#c62828",
        "device_fault" => "#ef6c00",
        "stopped_by_wearer" => "#6a1b9a",
        _ => "#5d4037",
    }
}

/// A bar chart of `(label, value)` with values in `[0, max]`.
fn bars(title: &str, rows: &[(String, f64)], max: f64, unit: &str) -> Markup {
    let w = 40.0;
    let h = 120.0;
    let width = (rows.len().max(1) as f64) * w + 40.0;
    html! {
        figure {
            svg role="img" aria-label=(title) width=(width) height=(h + 40.0) viewBox=(format!("0 0 {width} {}", h + 40.0)) {
                @for (i, (label, v)) in rows.iter().enumerate() {
                    @let bh = if max > 0.0 { (v / max).clamp(0.0, 1.0) * h } else { 0.0 };
                    rect x=(i as f64 * w + 30.0) y=(h - bh + 5.0) width=(w - 8.0) height=(bh) fill="#2e7d32" {
                        title { (label) ": " (format!("{v:.1}")) (unit) }
                    }
                    text x=(i as f64 * w + 34.0) y=(h + 20.0) font-size="9" { (label.get(5..).unwrap_or(label)) }
                    text x=(i as f64 * w + 32.0) y=((h - bh).max(12.0)) font-size="9" { (format!("{v:.0}")) }
                }
                line x1="28" y1=(h + 5.0) x2=(width) y2=(h + 5.0) stroke="#333" {}
            }
            figcaption { (title) }
        }
    }
}

async fn dashboard(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    // An officer's home is their own timeline.
    if let Ok(Some(p)) = app.principal(&headers).await
        && !p.may(Op::ViewDashboard)
        && p.may(Op::ViewFootage)
    {
        return Ok(axum::response::Redirect::to("/ui/timeline").into_response());
    }
    let (p, lang) = who(&app, &headers, Op::ViewDashboard).await?;
    let f = fail(lang, &p);
    let zones = crate::inspections::zones(&app).await.map_err(&f)?;
    let now = now_ms();
    let checkpoints: Vec<String> = app
        .meta
        .checkpoints()
        .await
        .map_err(|e| f(e.into()))?
        .into_iter()
        .map(|c| c.code)
        .filter(|c| p.sees_checkpoint(c))
        .collect();
    let open = app
        .meta
        .assignments_between(now, now + 1)
        .await
        .map_err(|e| f(e.into()))?;
    let mut cards = Vec::new();
    for cp in &checkpoints {
        let tz = zone_of(&zones, cp);
        let today = jiff::Timestamp::from_millisecond(now)
            .map(|ts| ts.to_zoned_datetime(tz.clone()).date())
            .unwrap_or(jiff::civil::date(2026, 1, 1));
        let fortnight = local_midnight(
            &tz,
            today
                .checked_sub(jiff::Span::new().days(13))
                .unwrap_or(today),
        );
        let assigned: Vec<_> = open
            .iter()
            .filter(|a| &a.checkpoint == cp && a.end_ms.is_none())
            .collect();
        let (mut recording, mut problems, mut last) = (0, 0, None::<i64>);
        for a in &assigned {
            let links = app
                .meta
                .links_covering(&a.device_id, now - 120_000, now + 1)
                .await
                .map_err(|e| f(e.into()))?;
            recording += usize::from(!links.is_empty());
            if let Some(d) = app
                .meta
                .device(&a.device_id)
                .await
                .map_err(|e| f(e.into()))?
                && let Ok(key) = VerifierKey::parse(&d.vkey)
            {
                let raw = app
                    .meta
                    .device_links(&a.device_id)
                    .await
                    .map_err(|e| f(e.into()))?;
                let report = verify_chain(
                    &a.device_id,
                    &key,
                    &raw,
                    &ChainOptions {
                        max_gap_ms: app.config.max_gap_ms,
                    },
                );
                problems += report.problems.len();
            }
            if let Some(l) = app
                .meta
                .links_covering(&a.device_id, a.start_ms, now + 1)
                .await
                .map_err(|e| f(e.into()))?
                .last()
            {
                last = last.max(Some(l.received_at));
            }
        }
        let data = crate::reports::load_for(&app, &p, fortnight, now + 1, Some(cp), None)
            .await
            .map_err(&f)?;
        let mut by_day: BTreeMap<String, (i64, i64, Vec<i64>, usize)> = BTreeMap::new();
        for x in &data.rows {
            let day = kordon_analytics::aggregate::local_day(x.li.row.start_ms, &tz);
            let e = by_day.entry(day).or_default();
            e.0 += x.coverage.duration_ms;
            e.1 += x.coverage.covered_ms;
            e.2.push(x.coverage.duration_ms);
            e.3 += x.explained.iter().filter(|ok| !**ok).count();
        }
        let today_key = today.to_string();
        // Upload backlog: today's inspection time whose footage the cameras still hold.
        let awaited_ms: i64 = data
            .rows
            .iter()
            .filter(|x| kordon_analytics::aggregate::local_day(x.li.row.start_ms, &tz) == today_key)
            .flat_map(|x| x.coverage.uncovered.iter())
            .filter(|(_, c)| c.as_str() == "not_yet_uploaded")
            .map(|(s, _)| s.len())
            .sum();
        let (dur, cov, _, unexplained) = by_day.get(&today_key).cloned().unwrap_or_default();
        let coverage_rows: Vec<(String, f64)> = by_day
            .iter()
            .map(|(d, v)| {
                (
                    d.clone(),
                    if v.0 > 0 {
                        100.0 * v.1 as f64 / v.0 as f64
                    } else {
                        0.0
                    },
                )
            })
            .collect();
        let clearance_rows: Vec<(String, f64)> = by_day
            .iter()
            .map(|(d, v)| {
                let mut s = v.2.clone();
                s.sort_unstable();
                (
                    d.clone(),
                    s.get(s.len() / 2).copied().unwrap_or(0) as f64 / 60_000.0,
                )
            })
            .collect();
        let max_clear = clearance_rows.iter().map(|r| r.1).fold(1.0, f64::max);
        cards.push(html! {
            section.card aria-labelledby=(format!("cp-{cp}")) {
                h2 id=(format!("cp-{cp}")) { (t(lang, "checkpoint")) " " (cp) }
                p.small { (t(lang, "zone")) ": " (tz.iana_name().unwrap_or("UTC")) " — " (show(now, &tz)) }
                dl.stats {
                    dt { (t(lang, "cameras_assigned")) } dd data-stat="assigned" { (assigned.len()) }
                    dt { (t(lang, "recording_now")) } dd data-stat="recording" { (recording) }
                    dt { (t(lang, "chain_problems")) } dd data-stat="problems" { (problems) }
                    dt { (t(lang, "last_upload")) } dd { (last.map(|l| show(l, &tz)).unwrap_or_else(|| "—".into())) }
                    dt { (t(lang, "today_coverage")) } dd data-stat="coverage" { @if dur > 0 { (format!("{:.1} %", 100.0 * cov as f64 / dur as f64)) } @else { "—" } }
                    dt { (t(lang, "unexplained")) } dd data-stat="unexplained" { (unexplained) }
                    dt { (t(lang, "upload_backlog")) } dd data-stat="backlog" { (format!("{:.1} ", awaited_ms as f64 / 60_000.0)) (t(lang, "min")) }
                }
                (bars(t(lang, "coverage_by_day"), &coverage_rows, 100.0, " %"))
                (bars(t(lang, "clearance_by_day"), &clearance_rows, max_clear, " min"))
            }
        });
    }
    // Which zone times of the links are shown in: the first crossing point's, else UTC.
    let tz = checkpoints
        .first()
        .map_or(jiff::tz::TimeZone::UTC, |cp| zone_of(&zones, cp));
    cards.extend(links_cards(&app, lang, &tz).await.map_err(&f)?);
    Ok(page(
        lang,
        Some(&p),
        t(lang, "dashboard"),
        html! { @for c in cards { (c) } },
    )
    .into_response())
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
                    dt { (t(lang, "last_forward")) } dd { (s.last_ok_ms.map(|l| show(l, tz)).unwrap_or_else(|| "—".into())) }
                    @if let Some(e) = &s.last_error { dt { (t(lang, "last_error")) } dd { (e) } }
                }
            }
        });
    }
    if !app.config.edges.is_empty() {
        let edges = app.meta.edges().await?;
        let rows: Vec<(String, f64)> = edges
            .iter()
            .map(|e| (e.origin.clone(), e.size as f64))
            .collect();
        let max = rows.iter().map(|r| r.1).fold(1.0, f64::max);
        cards.push(html! {
            section.card aria-labelledby="edges" {
                h2 id="edges" { (t(lang, "edges")) }
                table {
                    thead { tr { th { (t(lang, "checkpoint")) } th { (t(lang, "forwarded_entries")) } th { (t(lang, "last_forward")) } } }
                    tbody {
                        @for e in &edges {
                            tr data-edge=(e.origin) { td { (e.origin) } td { (e.size) } td { (show(e.updated_at, tz)) } }
                        }
                    }
                }
                (bars(t(lang, "edge_entries"), &rows, max, ""))
            }
        });
    }
    Ok(cards)
}

#[derive(serde::Deserialize)]
struct TimelineQuery {
    device: Option<String>,
    officer: Option<String>,
    date: Option<String>,
}

async fn timeline(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<TimelineQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::ViewFootage).await?;
    let f = fail(lang, &p);
    let zones = crate::inspections::zones(&app).await.map_err(&f)?;
    let form = html! {
        form method="get" action="/ui/timeline" .row {
            label { (t(lang, "device")) " " input name="device" value=(q.device.clone().unwrap_or_default()); }
            label { (t(lang, "officer")) " " input name="officer" value=(q.officer.clone().unwrap_or_default()); }
            label { (t(lang, "date")) " " input name="date" type="date" value=(q.date.clone().unwrap_or_default()); }
            button type="submit" { (t(lang, "show")) }
        }
    };
    let now = now_ms();
    // Which camera: given, or the officer's on that day.
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
        device = app
            .meta
            .assignments_of(o, 0, i64::MAX)
            .await
            .map_err(|e| f(e.into()))?
            .last()
            .map(|a| a.device_id.clone());
    }
    let Some(device) = device else {
        return Ok(page(lang, Some(&p), t(lang, "timeline"), form).into_response());
    };
    let assignments = app
        .meta
        .assignments(&device)
        .await
        .map_err(|e| f(e.into()))?;
    let tz = assignments
        .last()
        .map(|a| zone_of(&zones, &a.checkpoint))
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let date = q
        .date
        .as_deref()
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .or_else(|| {
            jiff::Timestamp::from_millisecond(now)
                .ok()
                .map(|ts| ts.to_zoned_datetime(tz.clone()).date())
        })
        .unwrap_or(jiff::civil::date(2026, 1, 1));
    let day = Span::new(
        local_midnight(&tz, date),
        local_midnight(&tz, date.tomorrow().unwrap_or(date)),
    );
    let during: Vec<_> = assignments
        .iter()
        .filter(|a| a.start_ms < day.end && a.end_ms.is_none_or(|e| e > day.start))
        .collect();
    if !p.sees_footage(
        during
            .iter()
            .map(|a| (a.checkpoint.as_str(), a.officer.as_str())),
    ) {
        return Err(f(ApiError::Forbidden(format!(
            "{device} on {date} is outside what {} may see",
            p.name
        ))));
    }
    let Some(d) = app.meta.device(&device).await.map_err(|e| f(e.into()))? else {
        return Err(f(ApiError::UnknownDevice(device)));
    };
    let key = VerifierKey::parse(&d.vkey).map_err(|e| f(ApiError::Internal(e.to_string())))?;
    let raw = app
        .meta
        .device_links(&device)
        .await
        .map_err(|e| f(e.into()))?;
    let report = verify_chain(
        &device,
        &key,
        &raw,
        &ChainOptions {
            max_gap_ms: app.config.max_gap_ms,
        },
    );
    let cam = CameraTimeline::from_chain(&report);
    // What to draw: the day, narrowed to the shifts and recordings in it.
    let mut lo = i64::MAX;
    let mut hi = i64::MIN;
    let mut segments = Vec::new();
    for l in &report.links {
        let b = l.body();
        if b.end().0 <= day.start || b.start().0 >= day.end {
            continue;
        }
        lo = lo.min(b.start().0);
        hi = hi.max(b.end().0);
        if let LinkBody::Segment(s) = b {
            segments.push(json!({"seq": s.seq, "start": s.start.0, "end": s.end.0, "night": s.night, "src": format!("/v1/blobs/{}", s.sha256.to_hex()), "label": show(s.start.0, &tz)}));
        }
    }
    for a in &during {
        lo = lo.min(a.start_ms.max(day.start));
        hi = hi.max(a.end_ms.unwrap_or(now).min(day.end));
    }
    let window = if lo < hi {
        Span::new((lo - 300_000).max(day.start), (hi + 300_000).min(day.end))
    } else {
        day
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
                && p.sees_inspection(&li.row.checkpoint, &li.row.officers)
            {
                inspections.push(li.row);
            }
        }
    }
    let data = json!({"device": device, "window": [window.start, window.end], "segments": segments, "reason_needed": t(lang, "reason_needed")});
    let body = html! {
        (form)
        p { (t(lang, "device")) " " strong { (device) } " — " (show(window.start, &tz)) " … " (show(window.end, &tz)) }
        label for="reason" { (t(lang, "reason_to_view")) }
        input id="reason" name="reason" required size="60";
        p #reason-msg .error role="alert" hidden {}
        svg #timeline role="img" aria-label=(t(lang, "timeline")) width="1000" height="90" viewBox="0 0 1000 90" data-start=(window.start) data-end=(window.end) {
            @for i in &inspections {
                a href=(format!("/ui/inspections/{}", i.id)) {
                    rect x=(x(i.start_ms)) y="2" width=((x(i.end_ms) - x(i.start_ms)).max(1.0)) height="12" fill="#ffb300" { title { (t(lang, "inspection")) " " (i.id) } }
                }
            }
            @for s in cam.recorded.clip(&window).spans() {
                rect.rec x=(x(s.start)) y="20" width=((x(s.end) - x(s.start)).max(0.5)) height="40" fill="#2e7d32" { title { (t(lang, "recorded")) } }
            }
            @for s in cam.night.clip(&window).spans() {
                rect x=(x(s.start)) y="20" width=((x(s.end) - x(s.start)).max(0.5)) height="8" fill="#0d47a1" { title { (t(lang, "night")) } }
            }
            @for (s, c) in &cov.uncovered {
                rect x=(x(s.start)) y="62" width=((x(s.end) - x(s.start)).max(0.5)) height="14" fill=(class_color(c.as_str())) data-class=(c.as_str()) { title { (t(lang, c.as_str())) ": " (show(s.start, &tz)) " – " (show(s.end, &tz)) } }
            }
            @for (at, kind) in &cam.stops {
                @if window.start <= *at && *at < window.end {
                    line x1=(x(*at)) y1="18" x2=(x(*at)) y2="80" stroke="#000" stroke-dasharray="2 2" { title { (kind.as_str()) " " (show(*at, &tz)) } }
                }
            }
        }
        ul.legend {
            li { span.sw style="background:#2e7d32" {} (t(lang, "recorded")) }
            li { span.sw style="background:#0d47a1" {} (t(lang, "night")) }
            li { span.sw style="background:#ffb300" {} (t(lang, "inspections")) }
            @for c in ["not_assigned", "not_yet_uploaded", "missing_segments", "device_fault", "stopped_by_wearer", "no_recording"] {
                li { span.sw style=(format!("background:{}", class_color(c))) {} (t(lang, c)) }
            }
        }
        video #player controls preload="none" width="640" {}
        p #now-playing aria-live="polite" {}
        h2 { (t(lang, "segments")) }
        ol #segment-list {
            @for s in &segments {
                li { button type="button" .play data-seq=(s["seq"]) { (t(lang, "play")) } " " (s["label"].as_str().unwrap_or("")) }
            }
        }
        p { a href=(format!("/ui/custody?subject=device%20{device}")) { (t(lang, "custody")) } }
        script #timeline-data type="application/json" { (json_block(&data)) }
    };
    Ok(page(lang, Some(&p), t(lang, "timeline"), body).into_response())
}

#[derive(serde::Deserialize, Default)]
struct SearchForm {
    from: Option<String>,
    to: Option<String>,
    checkpoint: Option<String>,
    lane: Option<String>,
    officer: Option<String>,
    device: Option<String>,
    inspection_id: Option<String>,
    declaration_no: Option<String>,
    vehicle_plate: Option<String>,
    bookmark: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

async fn search(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<SearchForm>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::Search).await?;
    let f = fail(lang, &p);
    let zones = crate::inspections::zones(&app).await.map_err(&f)?;
    let field = |name: &'static str, key: &str, v: &Option<String>, kind: &'static str| {
        html! {
            label { (t(lang, key)) " " input name=(name) type=(kind) value=(v.clone().unwrap_or_default()); }
        }
    };
    let form = html! {
        form method="get" action="/ui/search" .grid {
            (field("from", "from", &q.from, "datetime-local"))
            (field("to", "to", &q.to, "datetime-local"))
            (field("checkpoint", "checkpoint", &q.checkpoint, "text"))
            (field("lane", "lane", &q.lane, "text"))
            (field("officer", "officer", &q.officer, "text"))
            (field("device", "device", &q.device, "text"))
            (field("inspection_id", "inspection", &q.inspection_id, "text"))
            (field("declaration_no", "declaration", &q.declaration_no, "text"))
            (field("vehicle_plate", "plate", &q.vehicle_plate, "text"))
            (field("bookmark", "bookmark", &q.bookmark, "text"))
            button type="submit" { (t(lang, "find")) }
        }
    };
    let any = [
        &q.from,
        &q.to,
        &q.checkpoint,
        &q.lane,
        &q.officer,
        &q.device,
        &q.inspection_id,
        &q.declaration_no,
        &q.vehicle_plate,
        &q.bookmark,
    ]
    .iter()
    .any(|v| nonempty(v).is_some());
    if !any {
        return Ok(page(lang, Some(&p), t(lang, "search"), form).into_response());
    }
    // `datetime-local` gives no zone: read it in the crossing point's zone (or Kyiv).
    let cp_tz = zone_of(&zones, nonempty(&q.checkpoint).as_deref().unwrap_or(""));
    let tz = if nonempty(&q.checkpoint).is_some() {
        cp_tz
    } else {
        jiff::tz::TimeZone::get("Europe/Kyiv").unwrap_or(jiff::tz::TimeZone::UTC)
    };
    let time = |v: &Option<String>| {
        nonempty(v)
            .and_then(|s| s.parse::<jiff::civil::DateTime>().ok())
            .and_then(|d| d.to_zoned_datetime(tz.clone()).ok())
            .map(|z| z.timestamp().as_millisecond())
    };
    let query = kordon_store::meta::InspectionQuery {
        from: time(&q.from),
        to: time(&q.to),
        checkpoint: nonempty(&q.checkpoint),
        lane: nonempty(&q.lane),
        officer: p.officer.clone().or(nonempty(&q.officer)),
        device: nonempty(&q.device),
        id: nonempty(&q.inspection_id),
        declaration: nonempty(&q.declaration_no),
        plate_norm: nonempty(&q.vehicle_plate)
            .map(|v| kordon_analytics::search::normalize_plate(&v)),
        bookmark: nonempty(&q.bookmark),
    };
    let summary = format!("{query:?}");
    app.custody(
        &p.name,
        "search",
        "inspections",
        &summary.chars().take(400).collect::<String>(),
    )
    .await
    .map_err(&f)?;
    let mut calc = crate::inspections::Calculator::new(&app);
    let mut rows = Vec::new();
    for li in app
        .meta
        .search_inspections(&query, 200)
        .await
        .map_err(|e| f(e.into()))?
    {
        if !p.sees_inspection(&li.row.checkpoint, &li.row.officers) {
            continue;
        }
        let c = calc.coverage(&li).await.map_err(&f)?;
        rows.push((li.row, c.ratio()));
    }
    let body = html! {
        (form)
        @if rows.is_empty() { p #no-results { (t(lang, "no_results")) } }
        @else {
            table #results {
                thead { tr { th { (t(lang, "inspection")) } th { (t(lang, "start")) } th { (t(lang, "checkpoint")) } th { (t(lang, "lane")) } th { (t(lang, "officers")) } th { (t(lang, "plate")) } th { (t(lang, "coverage")) } th { (t(lang, "timeline")) } } }
                tbody {
                    @for (r, ratio) in &rows {
                        @let tz = zone_of(&zones, &r.checkpoint);
                        tr {
                            td { a href=(format!("/ui/inspections/{}", r.id)) { (r.id) } }
                            td { (show(r.start_ms, &tz)) }
                            td { (r.checkpoint) } td { (r.lane) } td { (r.officers.join(", ")) } td { (r.plate) }
                            td { (format!("{:.0} %", ratio * 100.0)) }
                            td { a href=(format!("/ui/timeline?officer={}&date={}", r.officers.first().map(String::as_str).unwrap_or(""), kordon_analytics::aggregate::local_day(r.start_ms, &tz))) { (t(lang, "timeline")) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page(lang, Some(&p), t(lang, "search"), body).into_response())
}

async fn inspection(
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
        .filter(|li| p.sees_inspection(&li.row.checkpoint, &li.row.officers))
        .ok_or_else(|| f(ApiError::NotFound(format!("no inspection {id}"))))?;
    let zones = crate::inspections::zones(&app).await.map_err(&f)?;
    let tz = zone_of(&zones, &li.row.checkpoint);
    let c = crate::inspections::Calculator::new(&app)
        .coverage(&li)
        .await
        .map_err(&f)?;
    let reasons = app.meta.gap_reasons(&id).await.map_err(|e| f(e.into()))?;
    let r = &li.row;
    let x = |t: i64| 1000.0 * (t - r.start_ms) as f64 / (r.end_ms - r.start_ms).max(1) as f64;
    let csrf = p.csrf.clone().unwrap_or_default();
    let body = html! {
        dl.record {
            dt { (t(lang, "checkpoint")) } dd { (r.checkpoint) " / " (t(lang, "lane")) " " (r.lane) }
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

/// The request's headers with the form's CSRF token as `X-CSRF-Token`, so that the API
/// handler checks it.
fn with_csrf(headers: &HeaderMap, form: &HashMap<String, String>) -> HeaderMap {
    let mut h = headers.clone();
    if let Some(v) = form.get("csrf").and_then(|c| HeaderValue::from_str(c).ok()) {
        h.insert("x-csrf-token", v);
    }
    h
}

fn back(to: &str) -> Response {
    Redirect::to(to).into_response()
}

async fn file_reason(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let body = json!({"from": form.get("from"), "to": form.get("to"), "reason": form.get("reason"), "text": form.get("text")});
    let r = match serde_json::from_value(body) {
        Ok(b) => crate::inspections::file_reason(
            State(app.clone()),
            Path(id.clone()),
            with_csrf(&headers, &form),
            Body(b),
        )
        .await
        .map(|_| ()),
        Err(e) => Err(ApiError::BadRequest("bad_request", e.to_string())),
    };
    match r {
        Ok(()) => back(&format!("/ui/inspections/{id}")),
        Err(e) => error_page(
            lang,
            app.principal(&headers).await.ok().flatten().as_ref(),
            &e,
        ),
    }
}

async fn decide_reason(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, decision)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    match crate::inspections::decide_reason(
        State(app.clone()),
        Path((id, decision)),
        with_csrf(&headers, &form),
    )
    .await
    {
        Ok(v) => {
            let to = headers
                .get(axum::http::header::REFERER)
                .and_then(|r| r.to_str().ok())
                .and_then(|r| r.find("/ui/").map(|i| r[i..].to_owned()))
                .unwrap_or_else(|| "/ui/".into());
            let _ = v;
            back(&to)
        }
        Err(e) => error_page(
            lang,
            app.principal(&headers).await.ok().flatten().as_ref(),
            &e,
        ),
    }
}

#[derive(serde::Deserialize)]
struct CustodyQuery {
    subject: String,
}

async fn custody(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<CustodyQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::ViewCustody).await?;
    let f = fail(lang, &p);
    let rows = app
        .meta
        .custody_about(
            std::slice::from_ref(&q.subject),
            &[format!("{} ", q.subject)],
        )
        .await
        .map_err(|e| f(e.into()))?;
    // Times in the zone of the crossing point the camera last served at.
    let zones = crate::inspections::zones(&app).await.map_err(&f)?;
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
        tz = zone_of(&zones, &a.checkpoint);
    }
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = html! {
        p { (t(lang, "subject")) ": " strong { (q.subject) } }
        table #custody {
            thead { tr { th { (t(lang, "time")) } th { (t(lang, "who")) } th { (t(lang, "action")) } th { (t(lang, "subject")) } th { (t(lang, "detail")) } th {} } }
            tbody {
                @for r in &rows {
                    @let c = kordon_core::note::Note::parse(&r.body).ok().and_then(|n| kordon_core::custody::Custody::parse(n.text()).ok());
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
    };
    Ok(page(lang, Some(&p), t(lang, "custody"), body).into_response())
}

async fn admin(State(app): State<Arc<App>>, headers: HeaderMap) -> Page {
    let lang = lang_of(&headers);
    let p = match app.principal(&headers).await {
        Ok(Some(p)) if p.may(Op::ManageUsers) || p.may(Op::AssignDevices) => p,
        Ok(Some(p)) => {
            return Err(error_page(
                lang,
                Some(&p),
                &ApiError::Forbidden(format!(
                    "role {} may not administer",
                    p.role.map_or("admin", |r| r.as_str())
                )),
            ));
        }
        _ => return Err(error_page(lang, None, &ApiError::Unauthorized)),
    };
    let f = fail(lang, &p);
    let csrf = p.csrf.clone().unwrap_or_default();
    let users = if p.may(Op::ManageUsers) {
        app.meta.users().await.map_err(|e| f(e.into()))?
    } else {
        Vec::new()
    };
    let devices = app.meta.device_ids().await.map_err(|e| f(e.into()))?;
    let checkpoints = app.meta.checkpoints().await.map_err(|e| f(e.into()))?;
    let hidden = html! { input type="hidden" name="csrf" value=(csrf); };
    let body = html! {
        @if p.may(Op::ManageUsers) {
            h2 { (t(lang, "users")) }
            table #users { thead { tr { th { (t(lang, "name")) } th { (t(lang, "role")) } th { (t(lang, "scope")) } th { (t(lang, "officer")) } } }
                tbody { @for u in &users { tr { td { (u.name) } td { (u.role) } td { (if u.checkpoints.is_empty() { "*".to_owned() } else { u.checkpoints.join(",") }) } td { (u.officer.clone().unwrap_or_default()) } } } } }
            form method="post" action="/ui/admin/user" .grid {
                (hidden)
                label { (t(lang, "name")) " " input name="name" required; }
                label { (t(lang, "role")) " " select name="role" { @for r in crate::auth::Role::ALL { option value=(r.as_str()) { (r.as_str()) } } } }
                label { (t(lang, "scope")) " " input name="checkpoints"; }
                label { (t(lang, "officer")) " " input name="officer"; }
                label { (t(lang, "password")) " " input name="password" type="password" minlength="12" required autocomplete="new-password"; }
                button type="submit" { (t(lang, "create")) }
            }
        }
        h2 { (t(lang, "checkpoints")) }
        table #checkpoints { thead { tr { th { (t(lang, "cp_code")) } th { (t(lang, "name_uk")) } th { (t(lang, "name_latin")) } th { (t(lang, "zone")) } th { (t(lang, "lanes")) } } }
            tbody { @for c in &checkpoints { tr { td { (c.code) } td { (c.name_uk) } td { (c.name_latin) } td { (c.tz) } td { (c.lanes.join(", ")) } } } } }
        @if p.may(Op::ManageReference) {
            form method="post" action="/ui/admin/checkpoint" .grid {
                (hidden)
                label { (t(lang, "cp_code")) " " input name="code" required; }
                label { (t(lang, "name_uk")) " " input name="name_uk" required lang="uk"; }
                label { (t(lang, "name_latin")) " " input name="name_latin" required; }
                label { (t(lang, "zone")) " " input name="tz" required value="Europe/Kyiv"; }
                label { (t(lang, "lanes")) " " input name="lanes"; }
                button type="submit" { (t(lang, "save")) }
            }
        }
        h2 { (t(lang, "devices")) }
        ul #devices { @for d in &devices { li { (d) } } }
        @if p.may(Op::ManageDevices) {
            form method="post" action="/ui/admin/enroll-token" .row { (hidden) label { (t(lang, "device")) " " input name="device" required; } button type="submit" { (t(lang, "enroll_token")) } }
            form method="post" action="/ui/admin/revoke" .row { (hidden) label { (t(lang, "device")) " " input name="device" required; } button type="submit" { (t(lang, "revoke")) } }
        }
        @if p.may(Op::AssignDevices) {
            h2 { (t(lang, "assign")) }
            form method="post" action="/ui/admin/assign" .row {
                (hidden)
                label { (t(lang, "device")) " " input name="device" required; }
                label { (t(lang, "officer")) " " input name="officer" required; }
                label { (t(lang, "checkpoint")) " " input name="checkpoint" required; }
                button type="submit" { (t(lang, "assign")) }
            }
            h2 { (t(lang, "return")) }
            form method="post" action="/ui/admin/return" .row { (hidden) label { (t(lang, "device")) " " input name="device" required; } button type="submit" { (t(lang, "return")) } }
        }
    };
    Ok(page(lang, Some(&p), t(lang, "admin"), body).into_response())
}

async fn admin_action(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(action): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let h = with_csrf(&headers, &form);
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let state = || State(app.clone());
    let r: Result<String, ApiError> = async {
        Ok(match action.as_str() {
            "user" => {
                let cps: Vec<String> = get("checkpoints").split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
                let officer = Some(get("officer")).filter(|o| !o.is_empty());
                let b = parse_body(json!({"name": get("name"), "role": get("role"), "checkpoints": cps, "officer": officer, "password": form.get("password").cloned().unwrap_or_default()}))?;
                let _ = crate::users::put(state(), h.clone(), Body(b)).await?;
                format!("user {} saved", get("name"))
            }
            "checkpoint" => {
                let lanes: Vec<String> = get("lanes").split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
                let b = parse_body(json!({"name_uk": get("name_uk"), "name_latin": get("name_latin"), "tz": get("tz"), "lanes": lanes}))?;
                let _ = crate::reference::put_checkpoint(state(), Path(get("code")), h.clone(), Body(b)).await?;
                format!("crossing point {} saved", get("code"))
            }
            "enroll-token" => {
                let (_, v) = crate::devices::enroll_token(state(), Path(get("device")), h.clone()).await?;
                format!("enrollment token for {}: {}", get("device"), v.0["token"].as_str().unwrap_or(""))
            }
            "revoke" => {
                let _ = crate::devices::revoke(state(), Path(get("device")), h.clone()).await?;
                format!("{} revoked", get("device"))
            }
            "assign" => {
                let b = parse_body(json!({"device": get("device"), "officer": get("officer"), "checkpoint": get("checkpoint")}))?;
                let _ = crate::devices::assign(state(), h.clone(), Body(b)).await?;
                format!("{} assigned to {}", get("device"), get("officer"))
            }
            "return" => {
                let b = parse_body(json!({"device": get("device")}))?;
                let _ = crate::devices::return_device(state(), h.clone(), Body(b)).await?;
                format!("{} returned", get("device"))
            }
            other => return Err(ApiError::NotFound(format!("no action {other}"))),
        })
    }
    .await;
    match r {
        // Shown here, not passed in a URL: an enrollment token is a secret.
        Ok(msg) => page(
            lang,
            app.principal(&headers).await.ok().flatten().as_ref(),
            t(lang, "admin"),
            html! {
                p.ok role="status" #message { (msg) }
                p { a href="/ui/admin" { (t(lang, "back")) } }
            },
        )
        .into_response(),
        Err(e) => error_page(
            lang,
            app.principal(&headers).await.ok().flatten().as_ref(),
            &e,
        ),
    }
}

fn parse_body<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::BadRequest("bad_request", e.to_string()))
}
