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

/// A time in a zone, short: `2026-11-28 10:00:00` (the page names the zone once, with
/// [`zone_note`]).
pub(crate) fn show(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    local_fmt(ms, tz, "%Y-%m-%d %H:%M:%S")
}

/// A time of day in a zone: `10:00:00`.
pub(crate) fn clock(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    local_fmt(ms, tz, "%H:%M:%S")
}

fn local_fmt(ms: i64, tz: &jiff::tz::TimeZone, f: &str) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| ms.to_string(),
        |ts| ts.to_zoned_datetime(tz.clone()).strftime(f).to_string(),
    )
}

/// The line naming the zone a page's times are in: `Час місцевий: Europe/Kyiv (UTC+02:00)`.
pub(crate) fn zone_note(lang: Lang, tz: &jiff::tz::TimeZone) -> Markup {
    let offset = jiff::Timestamp::now()
        .to_zoned_datetime(tz.clone())
        .strftime("%:z")
        .to_string();
    html! {
        p.zone.small { (t(lang, "times_in")) ": " strong { (tz.iana_name().unwrap_or("UTC")) } " (UTC" (offset) ")" }
    }
}

/// The language of a text the server wrote into a record (a custody event's detail, a
/// case item's description): English, unless a person wrote it in Ukrainian — for the
/// element's `lang`, so that it is read out right and not taken for the interface's.
pub(crate) fn logged_lang(text: &str) -> Option<&'static str> {
    (!text.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c))).then_some("en")
}

/// A page cursor `<unix ms>.<id>` as `(ms, id)`.
pub(crate) fn cursor(s: Option<&str>) -> Option<(i64, &str)> {
    let (at, id) = s?.split_once('.')?;
    Some((at.parse().ok()?, id))
}

/// A number with `decimals` places, with a decimal comma in Ukrainian.
pub(crate) fn num(lang: Lang, v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    match lang {
        Lang::Uk => s.replace('.', ","),
        Lang::En => s,
    }
}

/// A ratio as a percentage with one decimal: `91,5 %`.
pub(crate) fn pct(lang: Lang, ratio: f64) -> String {
    format!("{} %", num(lang, 100.0 * ratio, 1))
}

/// The crossing points' names by code.
pub(crate) struct Places(HashMap<String, kordon_store::meta::CrossingPointRow>);

impl Places {
    pub(crate) async fn load(app: &App) -> Result<Places, ApiError> {
        Ok(Places(
            app.meta
                .crossing_points()
                .await?
                .into_iter()
                .map(|c| (c.code.clone(), c))
                .collect(),
        ))
    }

    /// The codes of the crossing points `p` sees, in code order.
    pub(crate) fn seen_by(&self, p: &Principal) -> Vec<String> {
        let mut cps: Vec<String> = self
            .0
            .keys()
            .filter(|c| p.sees_crossing_point(c))
            .cloned()
            .collect();
        cps.sort_unstable();
        cps
    }

    /// A crossing point by name in `lang` (its code when it has none).
    pub(crate) fn name<'a>(&'a self, lang: Lang, code: &'a str) -> &'a str {
        self.0.get(code).map_or(code, |c| match lang {
            Lang::Uk => &c.name_uk,
            Lang::En => &c.name_latin,
        })
    }
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
                link rel="icon" href="data:,";
                script src="/ui/app.js" defer {}
            }
            body {
                a.skip href="#main" { (t(lang, "skip_to_content")) }
                header {
                    nav aria-label=(t(lang, "menu")) {
                        strong { "kordon" }
                        @if let Some(p) = who {
                            @if p.may(Op::ViewDashboard) { a href="/ui/" { (t(lang, "dashboard")) } }
                            @if p.may(Op::Search) { a href="/ui/search" { (t(lang, "search")) } }
                            @if p.may(Op::ViewFootage) { a href="/ui/timeline" { (t(lang, "timeline")) } }
                            @if p.may(Op::FileGapReason) || p.may(Op::DecideGapReason) { a href="/ui/explanations" { (t(lang, "explanations")) } }
                            @if p.may(Op::ReviewInspections) { a href="/ui/review" { (t(lang, "review")) } }
                            @if p.may(Op::ViewCustody) { a href="/ui/cases" { (t(lang, "cases")) } }
                            @if p.may(Op::AssignDevices) { a href="/ui/cameras" { (t(lang, "cameras")) } }
                            @if p.may(Op::RequestPreservation) || p.may(Op::DecidePreservation) { a href="/ui/preservation" { (t(lang, "preservation")) } }
                            @if p.may(Op::ManageUsers) || p.may(Op::AssignDevices) { a href="/ui/admin" { (t(lang, "admin")) } }
                        }
                    }
                    div.userbar {
                        a href="/ui/lang?to=uk" lang="uk" aria-current=[(lang == Lang::Uk).then_some("true")] { "Українська" }
                        a href="/ui/lang?to=en" lang="en" aria-current=[(lang == Lang::En).then_some("true")] { "English" }
                        @if let Some(p) = who {
                            span.who { strong { (p.name) } " (" (t(lang, &format!("role_{}", p.role.map_or("administrator", |r| r.as_str())))) ")" }
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
    } else if status == StatusCode::NOT_FOUND {
        t(lang, "not_found")
    } else {
        t(lang, "refused")
    };
    (
        status,
        page(
            lang,
            who,
            title,
            html! {
                (refusal(lang, code, &e.to_string()))
                p { a href="/ui/" { (t(lang, "back")) } }
            },
        ),
    )
        .into_response()
}

/// Why something was refused, in the page's language: in Ukrainian the sentence for
/// the stable `code`, with the API's English `detail` folded away under it.
pub(crate) fn refusal(lang: Lang, code: &str, detail: &str) -> Markup {
    let key = format!("err_{code}");
    let said = if super::i18n::has(&key) {
        t(lang, &key)
    } else {
        t(lang, "err_other")
    };
    html! {
        @if lang == Lang::Uk {
            p.error role="alert" { (said) }
            details { summary { (t(lang, "technical_detail")) } p lang="en" { code { (code) } ": " (detail) } }
        } @else {
            p.error role="alert" { (detail) }
        }
    }
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

/// A `datetime-local` value in the zone named, as RFC 3339.
pub(crate) fn instant(v: &str, tz: &jiff::tz::TimeZone) -> Result<String, ApiError> {
    let dt: jiff::civil::DateTime = v.parse().map_err(|e| {
        ApiError::BadRequest("bad_request", format!("{v:?} is not a date and time: {e}"))
    })?;
    let z = dt
        .to_zoned_datetime(tz.clone())
        .map_err(|e| ApiError::BadRequest("bad_request", e.to_string()))?;
    Ok(kordon_core::time::Timestamp(z.timestamp().as_millisecond()).to_string())
}

pub(crate) fn local_midnight(tz: &jiff::tz::TimeZone, date: jiff::civil::Date) -> i64 {
    date.to_zoned_datetime(tz.clone())
        .map_or(0, |z| z.timestamp().as_millisecond())
}

pub(crate) fn class_color(class: &str) -> &'static str {
    // Each at least 4.5:1 against white; told apart by pattern too (`gap_patterns`).
    match class {
        "no_audio" => "#00695c",
        "not_assigned" => "#616161",
        "not_yet_uploaded" => "#1565c0",
        "missing_segments" => "#c62828",
        "device_fault" => "#a33a00",
        "stopped_by_wearer" => "#6a1b9a",
        _ => "#4e342e",
    }
}

/// The gap classes, in the order legends show them.
pub(crate) const GAP_CLASSES: [&str; 7] = [
    "missing_segments",
    "stopped_by_wearer",
    "device_fault",
    "not_yet_uploaded",
    "not_assigned",
    "no_audio",
    "no_recording",
];

/// The fill of a gap of `class`: its colour with its own pattern (a second cue besides
/// colour), defined once per page by [`gap_patterns`].
pub(crate) fn class_fill(class: &str) -> String {
    format!("url(#gap-{class})")
}

/// The patterns [`class_fill`] refers to, in a hidden SVG.
pub(crate) fn gap_patterns() -> Markup {
    // White marks over the class colour: dots, stripes of four directions, cross-hatch.
    let marks = |class: &str| -> Markup {
        match class {
            "no_audio" => html! { circle cx="3" cy="3" r="1.4" fill="#fff" {} },
            "not_assigned" => html! { path d="M0 8L8 0" stroke="#fff" stroke-width="1.5" {} },
            "not_yet_uploaded" => html! { path d="M0 4H8" stroke="#fff" stroke-width="1.5" {} },
            "missing_segments" => {
                html! { path d="M0 0L8 8M8 0L0 8" stroke="#fff" stroke-width="1.2" {} }
            }
            "device_fault" => html! { path d="M4 0V8" stroke="#fff" stroke-width="1.5" {} },
            "stopped_by_wearer" => html! { path d="M0 0L8 8" stroke="#fff" stroke-width="1.5" {} },
            _ => html! {},
        }
    };
    html! {
        svg.defs aria-hidden="true" width="0" height="0" focusable="false" {
            defs {
                @for c in GAP_CLASSES {
                    pattern id=(format!("gap-{c}")) width="8" height="8" patternUnits="userSpaceOnUse" {
                        rect width="8" height="8" fill=(class_color(c)) {}
                        (marks(c))
                    }
                }
            }
        }
    }
}

/// The legend of the gap classes: a swatch with the pattern and the class in words.
pub(crate) fn gap_legend(lang: Lang) -> Markup {
    html! {
        @for c in GAP_CLASSES {
            li { svg.sw aria-hidden="true" width="16" height="16" { rect width="16" height="16" fill=(class_fill(c)) {} } (t(lang, c)) }
        }
    }
}

/// A bar chart of `(label, value)` with values in `[0, max]`.
pub(crate) fn bars(
    lang: Lang,
    title: &str,
    rows: &[(String, f64)],
    max: f64,
    unit: &str,
) -> Markup {
    let w = 40.0;
    let h = 120.0;
    let width = (rows.len().max(1) as f64) * w + 40.0;
    html! {
        figure {
            svg role="img" aria-label=(title) width=(width) height=(h + 40.0) viewBox=(format!("0 0 {width} {}", h + 40.0)) {
                @for (i, (label, v)) in rows.iter().enumerate() {
                    @let bh = if max > 0.0 { (v / max).clamp(0.0, 1.0) * h } else { 0.0 };
                    rect x=(i as f64 * w + 30.0) y=(h - bh + 5.0) width=(w - 8.0) height=(bh) fill="#2e7d32" {
                        title { (label) ": " (num(lang, *v, 1)) (unit) }
                    }
                    text x=(i as f64 * w + 34.0) y=(h + 20.0) font-size="9" { (label) }
                    text x=(i as f64 * w + 32.0) y=((h - bh).max(12.0)) font-size="9" { (format!("{v:.0}")) }
                }
                line x1="28" y1=(h + 5.0) x2=(width) y2=(h + 5.0) stroke="#333" {}
            }
            figcaption { (title) }
        }
    }
}
