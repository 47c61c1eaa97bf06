//! The web interface: server-rendered HTML (maud), one small script of our own for the
//! timeline player and the in-browser proof check, no external resources (works offline
//! at a crossing point). Ukrainian by default, English on request; every time shown in
//! the crossing point's zone, named.
//!
//! One module per screen; [`frame`] is what they share (the page frame, sign-in checks,
//! times, charts). Pages call the same typed operations as the API
//! (`crate::ops`), which check permission and scope; forms carry the session's CSRF
//! token, checked before the operation runs, so there is one implementation of every
//! action.

mod admin;
mod cameras;
mod cases;
mod custody;
mod dashboard;
mod explain;
mod frame;
mod i18n;
mod inspection;
mod player;
mod preserve;
mod release;
mod review;
mod search;
mod session;
mod shared;
mod timeline;

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::App;

/// The interface's routes.
pub(crate) fn routes(readers: &crate::state::Readers) -> Router<Arc<App>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/login", get(session::login_page).post(session::login))
        .route("/ui/logout", post(session::logout))
        .route("/ui/lang", get(session::set_lang))
        .route(
            "/ui/app.js",
            get(|| async { asset(include_str!("app.js"), "text/javascript") }),
        )
        .route(
            "/ui/app.css",
            get(|| async { asset(include_str!("app.css"), "text/css") }),
        )
        .route(
            "/ui/redact.js",
            get(|| async { asset(include_str!("redact.js"), "text/javascript") }),
        )
        .merge(pages(readers))
        .route("/ui/redact", get(release::editor).post(release::create))
        .route("/ui/redact/source.mp4", get(release::source))
        .route("/ui/redactions/{id}", get(release::redaction))
        .route("/ui/redactions/{id}/share", post(release::share))
        .route("/ui/shares/{id}/revoke", post(release::revoke))
        .route(
            "/ui/preservation",
            get(preserve::preservation_page).post(preserve::request),
        )
        .route("/ui/preservation/{id}", post(preserve::decide))
        .route("/shared/{id}", get(shared::shared).post(shared::enter_code))
        .route("/shared/{id}/package.zip", get(shared::download))
        .route(
            "/ui/inspections/{id}/reasons",
            post(inspection::file_reason),
        )
        .route("/ui/inspections/{id}/review", post(review::record))
        .route(
            "/ui/reasons/{id}/{decision}",
            post(inspection::decide_reason),
        )
        .route("/ui/admin/{action}", post(admin::admin_action))
        .route("/ui/cases", get(cases::cases).post(cases::open))
        .route("/ui/cases/{id}", get(cases::case))
        .route("/ui/cases/{id}/{action}", post(cases::act))
}

/// The pages that read analytics, under the same limit as the API's reports.
fn pages(readers: &crate::state::Readers) -> Router<Arc<App>> {
    Router::new()
        .route("/ui/", get(dashboard::dashboard))
        .route("/ui/timeline", get(timeline::timeline))
        .route("/ui/search", get(search::search))
        .route("/ui/inspections/{id}", get(inspection::inspection))
        .route("/ui/custody", get(custody::custody))
        .route("/ui/explanations", get(explain::explanations))
        .route("/ui/review", get(review::review_page))
        .route("/ui/cameras", get(cameras::cameras))
        .route("/ui/admin", get(admin::admin))
        .layer(axum::middleware::from_fn(
            crate::state::analytics_off_workers,
        ))
        .layer(readers.clone())
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
