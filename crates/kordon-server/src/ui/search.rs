//! Search: inspections by any field, a plate in any spelling.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use maud::html;

use super::frame::{Page, Places, fail, page, pct, show, who, zone_note, zone_of};
use super::i18n::t;
use crate::auth::Op;
use crate::ops;
use crate::state::App;

#[derive(serde::Deserialize, Default)]
pub(super) struct SearchForm {
    from: Option<String>,
    to: Option<String>,
    crossing_point: Option<String>,
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

pub(super) async fn search(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<SearchForm>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::Search).await?;
    let f = fail(lang, &p);
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let field = |name: &'static str, key: &str, v: &Option<String>, kind: &'static str| {
        html! {
            label { (t(lang, key)) " " input name=(name) type=(kind) value=(v.clone().unwrap_or_default()); }
        }
    };
    let places = Places::load(&app).await.map_err(&f)?;
    let cps = places.seen_by(&p);
    let form = html! {
        form method="get" action="/ui/search" .grid {
            (field("from", "from", &q.from, "datetime-local"))
            (field("to", "to", &q.to, "datetime-local"))
            label { (t(lang, "crossing_point")) " " select name="crossing_point" {
                option value="" { (t(lang, "all_crossing_points")) }
                @for c in &cps { option value=(c) selected[q.crossing_point.as_deref() == Some(c.as_str())] { (places.name(lang, c)) } }
            } }
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
        &q.crossing_point,
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
    let cp_tz = zone_of(&zones, nonempty(&q.crossing_point).as_deref().unwrap_or(""));
    let tz = if nonempty(&q.crossing_point).is_some() {
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
        crossing_point: nonempty(&q.crossing_point),
        lane: nonempty(&q.lane),
        officer: p.officer.clone().or(nonempty(&q.officer)),
        device: nonempty(&q.device),
        id: nonempty(&q.inspection_id),
        declaration: nonempty(&q.declaration_no),
        plate_norm: nonempty(&q.vehicle_plate)
            .map(|v| kordon_analytics::search::normalize_plate(&v)),
        bookmark: nonempty(&q.bookmark),
        after: None,
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
    let mut calc = ops::coverage::Calculator::new(&app);
    let mut rows = Vec::new();
    for li in app
        .meta
        .search_inspections(&query, 200)
        .await
        .map_err(|e| f(e.into()))?
    {
        if !p.sees_inspection(&li.row.crossing_point, &li.row.officers) {
            continue;
        }
        let c = calc.coverage(&li).await.map_err(&f)?;
        rows.push((li.row, c.ratio()));
    }
    let body = html! {
        (form)
        (zone_note(lang, &tz))
        @if rows.is_empty() { p #no-results { (t(lang, "no_results")) } }
        @else {
            table #results {
                thead { tr { th { (t(lang, "inspection")) } th { (t(lang, "start")) } th { (t(lang, "crossing_point")) } th { (t(lang, "lane")) } th { (t(lang, "officers")) } th { (t(lang, "plate")) } th { (t(lang, "coverage")) } th { (t(lang, "timeline")) } } }
                tbody {
                    @for (r, ratio) in &rows {
                        @let tz = zone_of(&zones, &r.crossing_point);
                        tr {
                            td { a href=(format!("/ui/inspections/{}", r.id)) { (r.id) } }
                            td { (show(r.start_ms, &tz)) }
                            td { (places.name(lang, &r.crossing_point)) } td { (r.lane) } td { (r.officers.join(", ")) } td { (r.plate) }
                            td { (pct(lang, *ratio)) }
                            td { a href=(format!("/ui/timeline?officer={}&date={}", r.officers.first().map(String::as_str).unwrap_or(""), kordon_analytics::aggregate::local_day(r.start_ms, &tz))) { (t(lang, "timeline")) } }
                        }
                    }
                }
            }
        }
    };
    Ok(page(lang, Some(&p), t(lang, "search"), body).into_response())
}
