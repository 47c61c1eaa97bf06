//! Footage over HTTP: a stored segment's bytes, whole or one range (as `<video>` asks).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use kordon_api::devices::BlobQuery;
use kordon_api::jobs::AuditRun;

use super::extract::{Caller, Params};
use crate::error::ApiError;
use crate::ops::footage;
use crate::state::App;

/// A stored segment, with range support; every view is a custody event with its reason.
#[utoipa::path(get, path = "/v1/blobs/{sha256}", tag = "footage",
    params(("sha256" = String, Path), BlobQuery),
    responses((status = 200, content_type = "video/mp4", body = Vec<u8>),
        (status = 206, content_type = "video/mp4", body = Vec<u8>),
        (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn get_blob(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Path(hash): Path<String>,
    headers: HeaderMap,
    Params(q): Params<BlobQuery>,
) -> Result<Response, ApiError> {
    let h = footage::open(&app, &who, &hash, q.reason.as_deref(), q.audit.as_deref()).await?;
    serve_range(&app, &h, &headers)
        .await?
        .ok_or_else(|| footage::not_stored(&hash))
}

/// Starts an audit run: one custody event for every segment it reads.
#[utoipa::path(post, path = "/v1/audits", tag = "footage",
    responses((status = 201, body = AuditRun), (status = "4XX", body = kordon_api::Error)))]
pub(crate) async fn start_audit(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
) -> Result<(StatusCode, axum::Json<AuditRun>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(footage::start_audit(&app, &who).await?),
    ))
}

/// Serves a blob from either store, whole or one byte range (`Range: bytes=a-b`, `a-` or
/// `-n`).
async fn serve_range(
    app: &App,
    h: &kordon_core::Hash,
    headers: &HeaderMap,
) -> Result<Option<Response>, ApiError> {
    let Some(size) = app.blobs.size(h).await? else {
        return Ok(None);
    };
    let wanted = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, size));
    if headers.contains_key(header::RANGE) && wanted.is_none() {
        return Ok(Some(
            (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{size}"))],
            )
                .into_response(),
        ));
    }
    let Some(r) = app.blobs.read(h, wanted.clone()).await? else {
        return Ok(None);
    };
    let status = if wanted.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut res = (status, axum::body::Body::from_stream(r.body)).into_response();
    let hs = res.headers_mut();
    let val = |s: String| HeaderValue::from_str(&s).map_err(|e| ApiError::Internal(e.to_string()));
    hs.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    hs.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    hs.insert(
        header::CONTENT_LENGTH,
        val((r.range.end - r.range.start).to_string())?,
    );
    if wanted.is_some() {
        hs.insert(
            header::CONTENT_RANGE,
            val(format!(
                "bytes {}-{}/{size}",
                r.range.start,
                r.range.end.saturating_sub(1)
            ))?,
        );
    }
    Ok(Some(res))
}

/// One range of `bytes=...` within `size`, as a half-open range; `None` if it is not one
/// satisfiable range.
fn parse_range(v: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let r = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            size.saturating_sub(n)..size
        }
        (a, "") => a.parse::<u64>().ok()?..size,
        (a, b) => a.parse::<u64>().ok()?..b.parse::<u64>().ok()?.saturating_add(1).min(size),
    };
    (r.start < r.end).then_some(r)
}

#[cfg(test)]
mod range_tests {
    use super::parse_range;

    #[test]
    fn ranges_as_browsers_ask() {
        assert_eq!(parse_range("bytes=0-", 100), Some(0..100));
        assert_eq!(parse_range("bytes=10-19", 100), Some(10..20));
        assert_eq!(parse_range("bytes=90-200", 100), Some(90..100));
        assert_eq!(parse_range("bytes=-10", 100), Some(90..100));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
