//! The dashboard: per crossing point, what records, what is missing, what waits.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use kordon_store::now_ms;
use maud::{Markup, html};

use super::frame::{Page, bars, fail, local_midnight, page, show, who, zone_of};
use super::i18n::{Lang, t};
use crate::auth::{self, Op};
use crate::error::ApiError;
use crate::ops;
use crate::state::App;

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
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let now = now_ms();
    let crossing_points: Vec<String> = app
        .meta
        .crossing_points()
        .await
        .map_err(|e| f(e.into()))?
        .into_iter()
        .map(|c| c.code)
        .filter(|c| p.sees_crossing_point(c))
        .collect();
    let open = app
        .meta
        .assignments_between(now, now + 1)
        .await
        .map_err(|e| f(e.into()))?;
    let mut cards = Vec::new();
    for cp in &crossing_points {
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
            .filter(|a| &a.crossing_point == cp && a.end_ms.is_none())
            .collect();
        let (mut recording, mut problems, mut last) = (0, 0, None::<i64>);
        for a in &assigned {
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
                problems += state.problems;
                last = last.max(Some(state.last_received_ms));
            }
        }
        let data = ops::reports::load_for(&app, &p, fortnight, now + 1, Some(cp), None)
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
                h2 id=(format!("cp-{cp}")) { (t(lang, "crossing_point")) " " (cp) }
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
    let tz = crossing_points
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
                (bars(t(lang, "edge_entries"), &rows, max, ""))
            }
        });
    }
    Ok(cards)
}
