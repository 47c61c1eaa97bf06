//! What a handler takes from a request: the caller, a JSON body, query parameters —
//! each failing with the API's JSON error, never axum's plain text.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;

use crate::auth::{Principal, signed_in};
use crate::error::ApiError;
use crate::ops::ingest::BodyStream;
use crate::state::App;

/// The signed-in caller (bearer token or session cookie; unsafe methods with a session
/// need its CSRF token). Nobody signed in: `401 unauthorized`.
#[derive(Debug)]
pub(crate) struct Caller(pub Principal);

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let unsafe_request = !matches!(parts.method, Method::GET | Method::HEAD);
        Ok(Caller(
            signed_in(app, &parts.headers, unsafe_request, None).await?,
        ))
    }
}

/// A JSON request body; a body that does not parse is answered `400 bad_json`, one over
/// the limit (2 MiB) `413 too_large`.
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub(crate) struct Body<T>(pub T);

/// Query parameters; bad or unknown ones are answered `400 bad_query`.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub(crate) struct Params<T>(pub T);

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        if r.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::BodyTooLarge(r.body_text());
        }
        ApiError::BadRequest("bad_json", r.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::BadRequest("bad_query", r.body_text())
    }
}

/// How much of an upload's unread body (a refusal, or a retry of a stored segment) is read
/// and discarded so that the client sees the answer instead of a reset connection.
/// Within this time at most: a body that trickles in is cut off and answered (the
/// connection is then closed instead of kept alive).
const DRAIN_LIMIT: u64 = 64 << 20;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// An upload's body as a stream that fails when it stalls for the idle timeout, or
/// trickles slower than the minimum rate once it has run that long (a connection held
/// open a byte at a time).
pub(crate) fn upload_stream(app: &App, body: axum::body::Body) -> BodyStream {
    use futures_util::StreamExt as _;
    let idle = std::time::Duration::from_secs(app.config.upload_idle_timeout_s);
    let min_rate = app.config.upload_min_bytes_per_s;
    let started = std::time::Instant::now();
    Box::pin(
        futures_util::stream::unfold(
            (body.into_data_stream(), 0u64),
            move |(mut s, got)| async move {
                match tokio::time::timeout(idle, s.next()).await {
                    Ok(Some(Ok(chunk))) => {
                        let got = got + chunk.len() as u64;
                        let secs = started.elapsed().as_secs();
                        if secs >= idle.as_secs() && got < min_rate.saturating_mul(secs) {
                            let e = format!(
                                "upload slower than {min_rate} bytes/s ({got} bytes in {secs} s)"
                            );
                            return Some((Err(e), (s, got)));
                        }
                        Some((Ok(chunk), (s, got)))
                    }
                    Ok(Some(Err(e))) => Some((Err(e.to_string()), (s, got))),
                    Ok(None) => None,
                    Err(_) => Some((Err(format!("no data for {} s", idle.as_secs())), (s, got))),
                }
            },
        )
        .fuse(),
    )
}

/// Reads and discards what is left of an upload (see [`DRAIN_LIMIT`]).
pub(crate) async fn drain(stream: &mut BodyStream) {
    use futures_util::StreamExt as _;
    let deadline = tokio::time::Instant::now() + DRAIN_TIME;
    let mut drained = 0u64;
    while drained < DRAIN_LIMIT {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(Ok(chunk))) => drained += chunk.len() as u64,
            _ => break,
        }
    }
}
