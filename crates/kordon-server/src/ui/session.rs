//! Signing in and out, and the language cookie.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::frame::{lang_of, page, refusal};
use super::i18n::{Lang, t};
use crate::auth;
use crate::error::ApiError;
use crate::state::App;

pub(super) async fn login_page(headers: HeaderMap) -> Markup {
    login_form(lang_of(&headers), None)
}

fn login_form(lang: Lang, message: Option<Markup>) -> Markup {
    page(
        lang,
        None,
        t(lang, "login"),
        html! {
            @if let Some(m) = message { (m) }
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
pub(super) struct LoginForm {
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

pub(super) async fn login(
    State(app): State<Arc<App>>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let client = auth::client_addr(peer.map(|c| c.0.0), &headers, &app.config.trusted_proxies);
    let now = kordon_store::now_ms();
    if !app.login_failures.allows(client, now) {
        let e = ApiError::TooManyRequests(
            "too many failed logins from this address; wait a minute".into(),
        );
        return (
            StatusCode::TOO_MANY_REQUESTS,
            login_form(
                lang,
                Some(refusal(lang, "too_many_attempts", &e.to_string())),
            ),
        )
            .into_response();
    }
    if !same_origin(&headers) {
        return (
            StatusCode::FORBIDDEN,
            login_form(
                lang,
                Some(refusal(lang, "cross_site", "cross-site login refused")),
            ),
        )
            .into_response();
    }
    match crate::ops::users::login(&app, client, f.name.trim(), &f.password, &f.code).await {
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
        Err(e) => (
            StatusCode::FORBIDDEN,
            login_form(lang, Some(refusal(lang, "login_failed", &e.to_string()))),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn logout(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Ok(Some(p)) = auth::authenticate(&app, &headers).await
        && let Some(id) = auth::cookie(&headers, auth::SESSION_COOKIE)
    {
        // A signed-out browser with a live session would be a lie: a forged or stale form
        // is refused and the session (and its cookie) stay.
        if p.csrf.as_deref() != Some(f.csrf.as_str()) {
            return ApiError::Forbidden(
                "the form is stale or forged (CSRF token missing or wrong); reload the page".into(),
            )
            .into_response();
        }
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
pub(super) struct LangQuery {
    to: String,
}

pub(super) async fn set_lang(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
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
