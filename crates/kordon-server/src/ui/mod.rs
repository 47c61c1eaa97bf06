//! The web interface: server-rendered HTML (maud), one small script of our own for the
//! timeline player and the in-browser proof check, no external resources (works offline
//! at a crossing point). Ukrainian by default, English on request; every time shown in
//! the crossing point's zone, named.
//!
//! Pages call the same permission checks as the API; forms carry the session's CSRF
//! token and post to handlers that call the API's own handlers, so there is one
//! implementation of every action.

mod i18n;
mod pages;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use crate::app::App;
use crate::auth::{self, Op, Principal};
use crate::error::ApiError;
pub(crate) use i18n::{Lang, t};

/// The interface's routes.
pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/lang", get(set_lang))
        .route(
            "/ui/app.js",
            get(|| async { asset(include_str!("app.js"), "text/javascript") }),
        )
        .route(
            "/ui/app.css",
            get(|| async { asset(include_str!("app.css"), "text/css") }),
        )
        .merge(pages::routes())
}

fn asset(body: &'static str, mime: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
        .into_response()
}

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
                p { a href="javascript:history.back()" { (t(lang, "back")) } }
            },
        ),
    )
        .into_response()
}

async fn login_page(headers: HeaderMap) -> Markup {
    login_form(lang_of(&headers), None)
}

fn login_form(lang: Lang, message: Option<&str>) -> Markup {
    page(
        lang,
        None,
        t(lang, "login"),
        html! {
            @if let Some(m) = message { p.error role="alert" { (m) } }
            form method="post" action="/ui/login" {
                label for="name" { (t(lang, "name")) }
                input id="name" name="name" autocomplete="username" required autofocus;
                label for="password" { (t(lang, "password")) }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                label for="code" { (t(lang, "code")) }
                input id="code" name="code" inputmode="numeric" autocomplete="one-time-code";
                button type="submit" { (t(lang, "login")) }
            }
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    code: String,
}

fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None => true,
        Some(origin) => host.is_some_and(|h| origin.ends_with(&format!("//{h}"))),
    }
}

async fn login(
    State(app): State<Arc<App>>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let client = auth::client_addr(peer.map(|c| c.0.0), &headers);
    let now = kordon_store::now_ms();
    if !app.login_failures.allows(client, now) {
        let e = ApiError::TooManyRequests(
            "too many failed logins from this address; wait a minute".into(),
        );
        return (
            StatusCode::TOO_MANY_REQUESTS,
            login_form(lang, Some(&e.to_string())),
        )
            .into_response();
    }
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            login_form(lang, Some("cross-site login refused")),
        )
            .into_response();
    }
    match crate::users::login(&app, f.name.trim(), &f.password, &f.code).await {
        Ok((id, _)) => {
            let secure = if app.config.cookie_insecure {
                ""
            } else {
                "; Secure"
            };
            let cookie = format!(
                "{}={id}; Path=/; HttpOnly; SameSite=Strict{secure}",
                auth::SESSION_COOKIE
            );
            let mut res = Redirect::to("/ui/").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            app.login_failures.failed(client, now);
            (
                StatusCode::FORBIDDEN,
                login_form(lang, Some(&e.to_string())),
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Ok(Some(p)) = app.principal(&headers).await
        && p.csrf.as_deref() == Some(f.csrf.as_str())
        && let Some(id) = auth::cookie(&headers, auth::SESSION_COOKIE)
    {
        let _ = app.meta.delete_session(&auth::secret_hash(id)).await;
    }
    let mut res = Redirect::to("/ui/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("kordon_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    res
}

#[derive(Deserialize)]
struct LangQuery {
    to: String,
}

async fn set_lang(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::parse(&q.to).unwrap_or(Lang::Uk);
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.find("/ui/").map(|i| r[i..].to_owned()))
        .unwrap_or_else(|| "/ui/".into());
    let mut res = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
        lang.code()
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Raw HTML of a JSON value for a `<script type="application/json">` block.
pub(crate) fn json_block(v: &serde_json::Value) -> PreEscaped<String> {
    PreEscaped(v.to_string().replace("</", "<\\/"))
}
