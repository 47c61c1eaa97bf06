//! Administration: people, crossing points, cameras, hand-out and hand-back.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use kordon_api::devices::{AssignRequest, ReturnRequest};
use kordon_api::reference::CrossingPointIn;
use kordon_api::users::UserIn;
use maud::html;

use super::frame::{Page, error_page, fail, lang_of, page, poster};
use super::i18n::t;
use crate::auth::{self, Op};
use crate::error::ApiError;
use crate::ops;
use crate::state::App;

/// `/ui/admin?after=<name>`: the page of users after that name.
#[derive(Debug, serde::Deserialize)]
pub(super) struct AdminQuery {
    #[serde(default)]
    after: Option<String>,
}

/// Users shown a page at a time.
const USERS_PAGE: u32 = 100;

pub(super) async fn admin(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<AdminQuery>,
) -> Page {
    let lang = lang_of(&headers);
    let p = match auth::authenticate(&app, &headers).await {
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
        app.meta
            .users(q.after.as_deref().unwrap_or(""), USERS_PAGE)
            .await
            .map_err(|e| f(e.into()))?
    } else {
        Vec::new()
    };
    let more = (users.len() == USERS_PAGE as usize)
        .then(|| users.last().map(|u| u.name.clone()))
        .flatten();
    let devices = app.meta.device_ids().await.map_err(|e| f(e.into()))?;
    let crossing_points = app.meta.crossing_points().await.map_err(|e| f(e.into()))?;
    // A body-worn system's users, for those who may map them (its crossing point in scope).
    let axis_users =
        match ops::axis::users::list(&app, &p, &kordon_api::devices::Page::default()).await {
            Ok(u) => Some(u),
            Err(ApiError::Forbidden(_) | ApiError::NotFound(_)) => None,
            Err(e) => return Err(f(e)),
        };
    let hidden = html! { input type="hidden" name="csrf" value=(csrf); };
    let body = html! {
        @if p.may(Op::ManageUsers) {
            h2 { (t(lang, "users")) }
            table #users { thead { tr { th { (t(lang, "name")) } th { (t(lang, "role")) } th { (t(lang, "scope")) } th { (t(lang, "officer")) } } }
                tbody { @for u in &users { tr { td { (u.name) } td { (t(lang, &format!("role_{}", u.role))) } td { (if u.crossing_points.is_empty() { "*".to_owned() } else { u.crossing_points.join(",") }) } td { (u.officer.clone().unwrap_or_default()) } } } } }
            @if let Some(after) = &more {
                form #more-users method="get" action="/ui/admin" {
                    input type="hidden" name="after" value=(after);
                    button type="submit" { (t(lang, "more_users")) " →" }
                }
            }
            form method="post" action="/ui/admin/user" .grid {
                (hidden)
                label { (t(lang, "name")) " " input name="name" required; }
                label { (t(lang, "role")) " " select name="role" { @for r in auth::Role::ALL { option value=(r.as_str()) { (t(lang, &format!("role_{}", r.as_str()))) } } } }
                label { (t(lang, "scope")) " " input name="crossing_points"; }
                label { (t(lang, "officer")) " " input name="officer"; }
                label { (t(lang, "password")) " " input name="password" type="password" minlength="12" required autocomplete="new-password"; }
                button type="submit" { (t(lang, "create")) }
            }
        }
        h2 { (t(lang, "crossing_points")) }
        table #crossing-points { thead { tr { th { (t(lang, "cp_code")) } th { (t(lang, "name_uk")) } th { (t(lang, "name_latin")) } th { (t(lang, "zone")) } th { (t(lang, "lanes")) } } }
            tbody { @for c in &crossing_points { tr { td { (c.code) } td { (c.name_uk) } td { (c.name_latin) } td { (c.tz) } td { (c.lanes.join(", ")) } } } } }
        @if p.may(Op::ManageReference) {
            form method="post" action="/ui/admin/crossing-point" .grid {
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
                label { (t(lang, "crossing_point")) " " input name="crossing_point" required; }
                button type="submit" { (t(lang, "assign")) }
            }
            h2 { (t(lang, "return")) }
            form method="post" action="/ui/admin/return" .row { (hidden) label { (t(lang, "device")) " " input name="device" required; } button type="submit" { (t(lang, "return")) } }
        }
        @if let Some(list) = &axis_users {
            h2 { (t(lang, "axis_users")) }
            table #axis-users { thead { tr { th { "UUID" } th { (t(lang, "name")) } th { (t(lang, "axis_user_id")) } th { (t(lang, "officer")) } } }
                tbody { @for u in &list.users { tr { td { code { (u.uuid) } } td { (u.name) } td { (u.user_id) } td { (u.officer.clone().unwrap_or_else(|| "—".into())) } } } } }
            form method="post" action="/ui/admin/axis-map-user" .row {
                (hidden)
                label { "UUID " input name="uuid" required; }
                label { (t(lang, "officer")) " " input name="officer"; }
                button type="submit" { (t(lang, "save")) }
            }
        }
    };
    Ok(page(lang, Some(&p), t(lang, "admin"), body).into_response())
}

/// One administration form: the same operations as the API, in the signed-in person's
/// name.
pub(super) async fn admin_action(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(action): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let get = |k: &str| form.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let list = |k: &str| -> Vec<String> {
        get(k)
            .split(',')
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty())
            .collect()
    };
    let r: Result<String, ApiError> = async {
        Ok(match action.as_str() {
            "user" => {
                let b = UserIn {
                    name: get("name"),
                    role: get("role"),
                    crossing_points: list("crossing_points"),
                    officer: Some(get("officer")).filter(|o| !o.is_empty()),
                    password: form.get("password").cloned().unwrap_or_default(),
                    totp: false,
                };
                ops::users::put(&app, &p, b).await?;
                format!("{}: {}", t(lang, "msg_user_saved"), get("name"))
            }
            "crossing-point" => {
                let b = CrossingPointIn {
                    name_uk: get("name_uk"),
                    name_latin: get("name_latin"),
                    tz: get("tz"),
                    lanes: list("lanes"),
                };
                ops::reference::put_crossing_point(&app, &p, &get("code"), b).await?;
                format!("{}: {}", t(lang, "msg_cp_saved"), get("code"))
            }
            "enroll-token" => {
                let tok = ops::devices::enroll_token(&app, &p, &get("device")).await?;
                format!("{} {}: {}", t(lang, "msg_token_for"), tok.device, tok.token)
            }
            "revoke" => {
                ops::devices::revoke(&app, &p, &get("device")).await?;
                format!("{}: {}", t(lang, "msg_revoked"), get("device"))
            }
            "assign" => {
                let b = AssignRequest {
                    device: get("device"),
                    officer: get("officer"),
                    crossing_point: get("crossing_point"),
                    at: None,
                };
                ops::assignments::assign(&app, &p, b).await?;
                format!(
                    "{}: {} → {}",
                    t(lang, "msg_assigned"),
                    get("device"),
                    get("officer")
                )
            }
            "return" => {
                let b = ReturnRequest {
                    device: get("device"),
                    at: None,
                };
                ops::assignments::give_back(&app, &p, b).await?;
                format!("{}: {}", t(lang, "msg_returned"), get("device"))
            }
            "axis-map-user" => {
                let officer = Some(get("officer")).filter(|o| !o.is_empty());
                let u = ops::axis::users::map(
                    &app,
                    &p,
                    &get("uuid"),
                    kordon_api::axis::MapUser { officer },
                )
                .await?;
                format!(
                    "{} ({}): {}",
                    u.uuid,
                    u.name,
                    u.officer.as_deref().unwrap_or("—")
                )
            }
            other => return Err(ApiError::NotFound(format!("no action {other}"))),
        })
    }
    .await;
    match r {
        // Shown here, not passed in a URL: an enrollment token is a secret.
        Ok(msg) => page(
            lang,
            Some(&p),
            t(lang, "admin"),
            html! {
                p.ok role="status" #message { (msg) }
                p { a href="/ui/admin" { (t(lang, "back")) } }
            },
        )
        .into_response(),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}
