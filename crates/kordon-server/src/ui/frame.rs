//! What every screen shares: the page frame and error page, who is signed in, the
//! language, times in a crossing point's zone, a bar chart.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::i18n::{Lang, t};
use crate::auth::{self, Op, Principal};
use crate::error::ApiError;
use crate::state::App;

/// The language of a request: `?lang=` wins, then the `lang` cookie, then Ukrainian.
pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    auth::cookie(headers, "lang")
        .and_then(Lang::parse)
        .unwrap_or(Lang::Uk)
}

/// A time in a zone, e.g. `2026-11-28 10:00:00 +02:00 Europe/Kyiv`.
pub(crate) fn show(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| ms.to_string(),
        |ts| {
            let z = ts.to_zoned_datetime(tz.clone());
            format!(
                "{} {}",
                z.strftime("%Y-%m-%d %H:%M:%S %:z"),
                tz.iana_name().unwrap_or("UTC")
            )
        },
    )
}

/// The page frame.
pub(crate) fn page(lang: Lang, who: Option<&Principal>, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — kordon" }
                link rel="stylesheet" href="/ui/app.css";
                script src="/ui/app.js" defer {}
            }
            body {
                header {
                    nav aria-label="main" {
                        strong { "kordon" }
                        @if let Some(p) = who {
                            @if p.may(Op::ViewDashboard) { a href="/ui/" { (t(lang, "dashboard")) } }
                            @if p.may(Op::Search) { a href="/ui/search" { (t(lang, "search")) } }
                            @if p.may(Op::ViewFootage) { a href="/ui/timeline" { (t(lang, "timeline")) } }
                            @if p.may(Op::AssignDevices) { a href="/ui/cameras" { (t(lang, "cameras")) } }
                            @if p.may(Op::RequestPreservation) || p.may(Op::DecidePreservation) { a href="/ui/preservation" { (t(lang, "preservation")) } }
                            @if p.may(Op::ManageUsers) || p.may(Op::AssignDevices) { a href="/ui/admin" { (t(lang, "admin")) } }
                        }
                        span.spacer {}
                        a href="/ui/lang?to=uk" lang="uk" aria-current=[(lang == Lang::Uk).then_some("true")] { "Українська" }
                        a href="/ui/lang?to=en" lang="en" aria-current=[(lang == Lang::En).then_some("true")] { "English" }
                        @if let Some(p) = who {
                            span.who { (t(lang, "signed_in_as")) " " strong { (p.name) } " (" (p.role.map_or("admin", |r| r.as_str())) ")" }
                            form method="post" action="/ui/logout" {
                                input type="hidden" name="csrf" value=(p.csrf.clone().unwrap_or_default());
                                button type="submit" { (t(lang, "logout")) }
                            }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// An error as a page (the API answers JSON; people get a page).
pub(crate) fn error_page(lang: Lang, who: Option<&Principal>, e: &ApiError) -> Response {
    let (status, code) = e.status_and_code();
    if status == StatusCode::UNAUTHORIZED {
        return Redirect::to("/ui/login").into_response();
    }
    let title = if status == StatusCode::FORBIDDEN {
        t(lang, "forbidden")
    } else {
        code
    };
    (
        status,
        page(
            lang,
            who,
            title,
            html! {
                p.error role="alert" { (e.to_string()) }
                p { a href="/ui/" { (t(lang, "back")) } }
            },
        ),
    )
        .into_response()
}

/// Raw HTML of a JSON value for a `<script type="application/json">` block.
pub(crate) fn json_block(v: &serde_json::Value) -> PreEscaped<String> {
    PreEscaped(v.to_string().replace("</", "<\\/"))
}

/// A page, or the page that says why not.
pub(crate) type Page = Result<Response, Response>;

/// Signs in and checks `op`, or answers the page that says why not.
pub(crate) async fn who(
    app: &App,
    headers: &HeaderMap,
    op: Op,
) -> Result<(Principal, Lang), Response> {
    let lang = lang_of(headers);
    let p = auth::signed_in(app, headers, false, None)
        .await
        .map_err(|e| error_page(lang, None, &e))?;
    p.require(op).map_err(|e| error_page(lang, Some(&p), &e))?;
    Ok((p, lang))
}

/// The signed-in principal of a form post (its CSRF token in the form), or the page that
/// says why not.
pub(crate) async fn poster(
    app: &App,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<(Principal, Lang), Response> {
    let lang = lang_of(headers);
    let csrf = form.get("csrf").map(String::as_str);
    match auth::signed_in(app, headers, true, csrf).await {
        Ok(p) => Ok((p, lang)),
        Err(e) => Err(error_page(lang, None, &e)),
    }
}

/// Back where the form was (the referring page under `/ui/`), or the dashboard.
pub(crate) fn back_to_referer(headers: &HeaderMap) -> Response {
    let to = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.find("/ui/").map(|i| r[i..].to_owned()))
        .unwrap_or_else(|| "/ui/".into());
    Redirect::to(&to).into_response()
}

pub(crate) fn fail(lang: Lang, p: &Principal) -> impl Fn(ApiError) -> Response + '_ {
    move |e| error_page(lang, Some(p), &e)
}

pub(crate) fn zone_of(zones: &HashMap<String, jiff::tz::TimeZone>, cp: &str) -> jiff::tz::TimeZone {
    zones.get(cp).cloned().unwrap_or(jiff::tz::TimeZone::UTC)
}

pub(crate) fn local_midnight(tz: &jiff::tz::TimeZone, date: jiff::civil::Date) -> i64 {
    date.to_zoned_datetime(tz.clone())
        .map_or(0, |z| z.timestamp().as_millisecond())
}

pub(crate) fn class_color(class: &str) -> &'static str {
    match class {
        "no_audio" => "#00695c",
        "not_assigned" => "#9e9e9e",
        "not_yet_uploaded" => "#1565c0",
        "missing_segments" => "#c62828",
        "device_fault" => "#ef6c00",
        "stopped_by_wearer" => "#6a1b9a",
        _ => "#5d4037",
    }
}

/// A bar chart of `(label, value)` with values in `[0, max]`.
pub(crate) fn bars(title: &str, rows: &[(String, f64)], max: f64, unit: &str) -> Markup {
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
