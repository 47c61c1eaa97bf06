//! The analytics limit covers what it says: while every permit is held, the reports of
//! the API and the pages that read analytics wait; uploads' routes and health checks do
//! not.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt as _;

/// Whether a GET of `path` answers within 300 ms.
async fn answers(router: &axum::Router, path: &str, token: &str) -> bool {
    let req = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .expect("request");
    tokio::time::timeout(Duration::from_millis(300), router.clone().oneshot(req))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_wait_for_a_permit_and_nothing_else_does() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = crate::config::Config {
        data: dir.path().join("data"),
        ..Default::default()
    };
    let app = crate::open(config).await.expect("open");
    let token = std::fs::read_to_string(dir.path().join("data/keys/admin-token")).expect("token");
    let token = token.trim();
    let router = super::router(app.clone());
    let range = "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";
    let limited = [
        format!("/v1/reports/coverage?{range}"),
        format!("/v1/reports/daily?{range}"),
        format!("/v1/reports/clearance?{range}"),
        "/v1/search/inspections?plate=AA1234BB".to_owned(),
        "/v1/inspections/I-1/coverage".to_owned(),
        "/ui/".to_owned(),
    ];
    let free = ["/healthz", "/v1/devices", "/log/checkpoint"];
    let permits = u32::try_from(app.readers.available_permits()).expect("permits");
    let held = app.readers.acquire_many(permits).await.expect("permits");
    for path in &limited {
        assert!(
            !answers(&router, path, token).await,
            "{path} ran past the limit"
        );
    }
    for path in free {
        assert!(
            answers(&router, path, token).await,
            "{path} waited for analytics"
        );
    }
    drop(held);
    for path in &limited {
        assert!(
            answers(&router, path, token).await,
            "{path} did not run once free"
        );
    }
}
