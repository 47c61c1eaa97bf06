//! The cameras and what they last said of themselves: battery, storage, upload backlog,
//! dock, firmware, sound, last contact, chain problems — and, first, the cameras on shift
//! that have gone quiet. For the people who hand cameras out; a page at a time.

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
pub(super) struct CamerasQuery {
    /// The page after this camera id.
    after: Option<String>,
}

const PAGE: u32 = 100;

fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| v.to_string())
}

pub(super) async fn cameras(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<CamerasQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::AssignDevices).await?;
    let f = fail(lang, &p);
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let silent: Vec<_> = crate::jobs::cameras::silent(&app)
        .await
        .map_err(&f)?
        .into_iter()
        .filter(|s| p.sees_crossing_point(&s.crossing_point))
        .collect();
    let list = crate::ops::devices::list(
        &app,
        &kordon_api::devices::Page {
            after: q.after.clone(),
            limit: Some(PAGE),
        },
    )
    .await
    .map_err(&f)?;
    // A camera is shown to those who see the crossing point it was last handed out at.
    let mut rows = Vec::new();
    for d in list.devices {
        let last = app
            .meta
            .latest_assignments(&d.device, 1)
            .await
            .map_err(|e| f(e.into()))?
            .pop();
        let cp = last.map(|a| a.crossing_point);
        if cp
            .as_deref()
            .map_or(p.crossing_points.is_empty(), |c| p.sees_crossing_point(c))
        {
            let tz = cp
                .as_deref()
                .map_or(jiff::tz::TimeZone::UTC, |c| zone_of(&zones, c));
            rows.push((d, tz));
        }
    }
    let local = |rfc: &Option<String>, tz: &jiff::tz::TimeZone| {
        rfc.as_deref()
            .and_then(|s| kordon_core::time::Timestamp::parse(s).ok())
            .map_or_else(|| "—".to_owned(), |ts| show(ts.0, tz))
    };
    let body = html! {
        h2 { (t(lang, "silent_on_shift")) " (" (silent.len()) ")" }
        @if silent.is_empty() {
            p { (t(lang, "none_silent")) }
        } @else {
            table #silent {
                thead { tr { th { (t(lang, "device")) } th { (t(lang, "officer")) } th { (t(lang, "shift_start")) } th { (t(lang, "last_contact")) } } }
                tbody {
                    @for s in &silent {
                        @let tz = zone_of(&zones, &s.crossing_point);
                        tr {
                            td { a href=(format!("/ui/timeline?device={}", s.device_id)) { (s.device_id) } }
                            td { (s.officer) }
                            td { (show(s.shift_start_ms, &tz)) }
                            td { (s.last_received_ms.map_or_else(|| "—".to_owned(), |t| show(t, &tz))) }
                        }
                    }
                }
            }
        }
        h2 { (t(lang, "cameras")) }
        table #cameras {
            thead { tr {
                th { (t(lang, "device")) } th { (t(lang, "officer")) } th { (t(lang, "last_contact")) }
                th { (t(lang, "battery")) } th { (t(lang, "free_storage")) } th { (t(lang, "backlog")) }
                th { (t(lang, "docked")) } th { (t(lang, "firmware")) } th { (t(lang, "sound")) } th { (t(lang, "problems")) }
            } }
            tbody {
                @for (d, tz) in &rows {
                    @let h = &d.health;
                    tr {
                        td { a href=(format!("/ui/timeline?device={}", d.device)) { (d.device) } }
                        td { (or_dash(d.assigned_to.as_deref())) }
                        td { (local(&h.last_contact, tz)) }
                        td { (h.battery.map_or_else(|| "—".to_owned(), |b| format!("{b} %"))) }
                        td { (h.free_mib.map_or_else(|| "—".to_owned(), |m| format!("{m} MiB"))) }
                        td { (match (h.backlog_links, h.backlog_bytes) {
                            (Some(l), Some(b)) => format!("{l} / {} MiB", b >> 20),
                            _ => "—".to_owned(),
                        }) }
                        td { (h.docked.map_or("—", |d| if d { t(lang, "yes") } else { t(lang, "no") })) }
                        td { (or_dash(h.firmware.as_deref())) }
                        td { (match h.audio.as_deref() {
                            Some("present") => t(lang, "audio_present"),
                            Some("silent") => t(lang, "audio_silent"),
                            Some("none") => t(lang, "audio_none"),
                            _ => "—",
                        }) }
                        td { (d.problems) }
                    }
                }
            }
        }
        @if let Some(next) = &list.next {
            p { a href=(format!("/ui/cameras?after={next}")) { (t(lang, "older")) " →" } }
        }
    };
    Ok(page(lang, Some(&p), t(lang, "cameras"), body).into_response())
}
