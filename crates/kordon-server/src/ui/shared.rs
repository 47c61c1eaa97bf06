//! The recipient's page of a share (outside `/ui/`: the recipient has no account): the
//! one-time code opens it in his browser; then what was shared, the package's
//! verification, its download (a custody event each time) and how to check it himself.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use tower::ServiceExt as _;

use super::frame::{error_page, lang_of, page, show, zone_of};
use super::i18n::t;
use crate::auth;
use crate::error::ApiError;
use crate::ops::shares;
use crate::state::App;

/// The recipient's session cookie (one per share, its path the share's).
const COOKIE: &str = "kordon_share";

pub(super) async fn shared(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    let s = match shares::live(&app, &id).await {
        Ok(s) => s,
        Err(e) => return error_page(lang, None, &e),
    };
    if !shares::admitted(&s, auth::cookie(&headers, COOKIE)) {
        let body = html! {
            form #code-form method="post" action=(format!("/shared/{id}")) {
                label { (t(lang, "enter_code")) " " input name="code" required autocomplete="one-time-code" maxlength="20"; }
                button type="submit" { (t(lang, "open")) }
            }
        };
        return page(lang, None, t(lang, "shared_title"), body).into_response();
    }
    if s.state != "ready" {
        let body = html! {
            @if s.state == "failed" {
                p.error role="alert" { (t(lang, "render_failed")) }
            } @else {
                meta http-equiv="refresh" content="3";
                p #preparing role="status" { (t(lang, "preparing_note")) }
            }
        };
        return page(lang, None, t(lang, "shared_title"), body).into_response();
    }
    let copy = match &s.redaction_id {
        Some(r) => match app.meta.redaction(r).await {
            Ok(r) => r,
            Err(e) => return error_page(lang, None, &e.into()),
        },
        None => None,
    };
    let zones = crate::localtime::zones(&app).await.unwrap_or_default();
    let tz = zone_of(&zones, &s.crossing_point);
    // Checked once, when it was made: the package does not change.
    let verdict = s.verdict.clone().unwrap_or_default();
    let holds = verdict == "holds";
    let lines: Vec<&str> = if holds {
        Vec::new()
    } else {
        verdict.lines().collect()
    };
    let file = format!("share-{id}.zip");
    let body = html! {
        dl.record {
            dt { (t(lang, "recipient")) } dd #recipient { (s.recipient) }
            dt { (t(lang, "purpose")) } dd { (s.purpose) }
            @if let Some(r) = &copy {
                dt { (t(lang, "redaction")) } dd { (t(lang, "device")) " " (r.device_id) ", " (show(r.from_ms, &tz)) " – " (show(r.to_ms, &tz)) }
            }
            @if let Some(c) = &s.case_id {
                dt { (t(lang, "case")) } dd #case { (c) ": " (t(lang, "case_package")) }
            }
            dt { (t(lang, "expires")) } dd { (show(s.expires_at, &tz)) }
            dt { "SHA-256" } dd { code #package-sha256 { (s.file_sha256.clone().unwrap_or_default()) } " (" (s.size.unwrap_or(0)) " B)" }
        }
        h2 { (t(lang, "verification")) }
        @if holds {
            p #verdict .ok role="status" { "✔ " (t(lang, "package_holds")) }
        } @else {
            p #verdict .error role="alert" { "✘ " (t(lang, "package_fails")) }
            ul { @for l in &lines { li { (l) } } }
        }
        p { a #download href=(format!("/shared/{id}/package.zip")) download=(file) { (t(lang, "download")) } }
        h2 { (t(lang, "verify_yourself")) }
        pre #instructions { "kordon-verify --policy policy.txt " (file) }
        p { "policy.txt: the customs service's published log policy (a copy is inside the package; use one you obtained independently) / опублікована митницею політика журналу." }
    };
    page(lang, None, t(lang, "shared_title"), body).into_response()
}

/// The code typed: a session for this share in this browser.
pub(super) async fn enter_code(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let code = form.get("code").map_or("", String::as_str);
    match shares::enter_code(&app, &id, code).await {
        Ok(session) => {
            let mut res = Redirect::to(&format!("/shared/{id}")).into_response();
            let cookie = format!(
                "{COOKIE}={session}; Path=/shared/{id}; HttpOnly; SameSite=Strict; Max-Age={}",
                shares::MAX_LIFE_MS / 1000
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => error_page(lang, None, &e),
    }
}

/// The package, for the recipient's session.
pub(super) async fn download(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let lang = lang_of(&headers);
    let path = match shares::download(&app, &id, auth::cookie(&headers, COOKIE)).await {
        Ok(p) => p,
        Err(e) => return error_page(lang, None, &e),
    };
    match tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
    {
        Ok(mut res) => {
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"share-{id}.zip\""))
            {
                res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            res.into_response()
        }
        Err(e) => error_page(lang, None, &ApiError::Internal(e.to_string())),
    }
}
