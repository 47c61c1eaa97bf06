//! The HTTP routes: every `/v1` handler is a thin adapter (extract, call one operation in
//! [`crate::ops`], answer with a `kordon_api` type), registered with its OpenAPI
//! description so that the router and `/v1/openapi.json` cannot disagree. Health,
//! metrics and the C2SP log paths sit beside them; the web interface's routes come from
//! [`crate::ui`].

mod admin;
mod axis;
mod cases;
mod devices;
pub(crate) mod extract;
mod footage;
mod inspections;
mod log;
mod reference;
mod release;
mod reports;

use std::future::Future;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::App;

/// The document's header; the paths and schemas come from the handlers.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "kordon",
        description = "The HTTP API of kordon, the evidence system for customs officers' body-worn cameras. Errors are `{\"error\": code, \"message\": text}` (kordon_api::Error); see docs/api.md for who may call what.",
        license(name = "Apache-2.0")
    ),
    components(schemas(kordon_api::Error, kordon_api::ErrorCode)),
    tags(
        (name = "devices", description = "cameras: enrollment, uploads, assignment, continuity"),
        (name = "footage", description = "reading stored segments"),
        (name = "reference", description = "crossing points and officers"),
        (name = "inspections", description = "customs inspections, coverage, gap reasons, search, bookmarks"),
        (name = "reports", description = "coverage, gaps and clearance reports"),
        (name = "cases", description = "cases, evidence packages, releases"),
        (name = "release", description = "redacted copies, shares with named recipients, preservation requests"),
        (name = "admin", description = "people, tokens, jobs, forwarding"),
        (name = "log", description = "proofs from the transparency log")
    )
)]
struct ApiDoc;

/// The `/v1` API: router and OpenAPI document, built together. `readers` limits the
/// requests that compute analytics (shared with the web pages).
fn api(readers: &crate::state::Readers) -> OpenApiRouter<Arc<App>> {
    // Layers apply to the routes added before them.
    let analytics = OpenApiRouter::new()
        .routes(routes!(inspections::coverage))
        .routes(routes!(inspections::search))
        .routes(routes!(reports::coverage))
        .routes(routes!(reports::daily))
        .routes(routes!(reports::shifts))
        .routes(routes!(reports::gaps))
        .routes(routes!(reports::clearance))
        .layer(axum::middleware::from_fn(
            crate::state::analytics_off_workers,
        ))
        .layer(readers.clone());
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(devices::enroll))
        .routes(routes!(devices::list))
        .routes(routes!(devices::device))
        .routes(routes!(devices::enroll_token))
        .routes(routes!(devices::revoke))
        .routes(routes!(devices::continuity))
        .routes(routes!(devices::recheck))
        .routes(routes!(devices::put_segment))
        .routes(routes!(devices::put_event))
        .routes(routes!(devices::assign))
        .routes(routes!(devices::give_back))
        .routes(routes!(devices::axis_users))
        .routes(routes!(devices::axis_map_user))
        .routes(routes!(footage::get_blob))
        .routes(routes!(footage::start_audit))
        .routes(routes!(reference::crossing_points))
        .routes(routes!(reference::put_crossing_point))
        .routes(routes!(reference::officers))
        .routes(routes!(reference::put_officer))
        .routes(routes!(inspections::import))
        .routes(routes!(inspections::file_reason))
        .routes(routes!(inspections::decide_reason))
        .routes(routes!(inspections::review))
        .routes(routes!(inspections::bookmarks, inspections::add_bookmark))
        .routes(routes!(cases::open))
        .routes(routes!(cases::get))
        .routes(routes!(cases::add_item))
        .routes(routes!(cases::close))
        .routes(routes!(cases::export))
        .routes(routes!(cases::receipt))
        .routes(routes!(cases::download))
        .routes(routes!(cases::receipts))
        .routes(routes!(cases::segment_evidence))
        .routes(routes!(release::redact))
        .routes(routes!(release::redaction))
        .routes(routes!(release::redaction_video))
        .routes(routes!(release::share, release::list_shares))
        .routes(routes!(release::get_share))
        .routes(routes!(release::revoke_share))
        .routes(routes!(
            release::request_preservation,
            release::preservations
        ))
        .routes(routes!(release::decide_preservation))
        .routes(routes!(release::own_packages))
        .routes(routes!(release::own_package))
        .routes(routes!(admin::users, admin::put_user))
        .routes(routes!(admin::token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::disable_user))
        .routes(routes!(admin::enable_user))
        .routes(routes!(admin::run_retention))
        .routes(routes!(admin::scrub_status, admin::start_scrub))
        .routes(routes!(admin::edges))
        .routes(routes!(admin::edge))
        .routes(routes!(admin::edge_entries))
        .routes(routes!(admin::edge_holes))
        .routes(routes!(admin::edge_records))
        .routes(routes!(admin::reload_edges))
        .routes(routes!(admin::forwarding))
        .routes(routes!(admin::forwarding_holes))
        .routes(routes!(log::witnessed_checkpoint))
        .routes(routes!(log::inclusion))
        .routes(routes!(log::consistency))
        .routes(routes!(log::proof))
        .routes(routes!(log::timestamps))
        .merge(analytics)
}

/// The OpenAPI 3.1 document of the `/v1` API, as served at `/v1/openapi.json` and kept
/// in `docs/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, doc) = api(&crate::state::readers(&crate::state::reader_permits())).split_for_parts();
    doc
}

/// The process's metrics recorder, installed on first use (before anything is recorded:
/// [`crate::startup`] asks for it first, so what it sets while opening is kept).
pub(crate) fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (several servers in one test process).
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(app): State<Arc<App>>) -> impl IntoResponse {
    if !app.meta.ping().await {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "database not answering\n".to_owned(),
        );
    }
    match app.log.health() {
        kordon_log::Health::Ok => (StatusCode::OK, "ready\n".to_owned()),
        kordon_log::Health::Failing(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("log storage failing, the next write tries again: {why}\n"),
        ),
        kordon_log::Health::Stopped(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("log stopped until a restart: {why}\n"),
        ),
    }
}

async fn metrics_text() -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        metrics_handle().render(),
    )
}

/// The HTTP routes.
pub fn router(app: Arc<App>) -> Router {
    metrics_handle();
    let readers = crate::state::readers(&app.readers);
    let (api, doc) = api(&readers).split_for_parts();
    let doc = Arc::new(doc);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route(
            "/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/log/checkpoint", get(log::checkpoint))
        .route("/log/verifier-key", get(log::verifier_key))
        .route("/log/tile/{*path}", get(log::tile))
        .merge(axis::routes())
        .merge(api)
        .merge(crate::ui::routes(&readers))
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(axum::middleware::map_response(guarded))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(app)
}

/// What every answer carries, and what no answer is: security headers on all of them
/// (no sniffing, no framing, scripts and everything else from this origin only, nothing
/// stored by caches unless the route says otherwise), and an error that is not yet the
/// JSON of the API (a path or query the framework could not parse, a body over the
/// limit) turned into it, with a stable code by status.
async fn guarded(res: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let (mut parts, body) = res.into_parts();
    let json = parts.headers.get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
    });
    let body = if parts.status.is_client_error() && !json {
        let text = axum::body::to_bytes(body, 64 << 10)
            .await
            .unwrap_or_default();
        let code = match parts.status.as_u16() {
            404 => "not_found",
            405 => "method_not_allowed",
            413 => "too_large",
            415 => "unsupported_media_type",
            _ => "bad_request",
        };
        let message = String::from_utf8_lossy(&text).trim().to_owned();
        let e = kordon_api::Error {
            error: code.into(),
            message: if message.is_empty() {
                parts.status.to_string()
            } else {
                message
            },
        };
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        axum::body::Body::from(serde_json::to_vec(&e).unwrap_or_default())
    } else {
        body
    };
    let h = &mut parts.headers;
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    axum::response::Response::from_parts(parts, body)
}

/// Serves any router until `shutdown` completes.
///
/// # Errors
/// IO errors from the listener.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::serve::serve_with(listener, router, crate::serve::Limits::default(), shutdown).await
}

/// Serves until `shutdown` completes, within the connection limits of the app's
/// configuration.
///
/// # Errors
/// IO errors from the listener.
pub async fn run(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = crate::serve::Limits::from(&app.config);
    crate::serve::serve_with(listener, router(app), limits, shutdown).await
}

#[cfg(test)]
mod tests;
