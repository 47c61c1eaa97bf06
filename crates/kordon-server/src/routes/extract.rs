//! What a handler takes from a request: the caller, a JSON body, query parameters —
//! each failing with the API's JSON error, never axum's plain text.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;

use crate::auth::{Principal, signed_in};
use crate::error::ApiError;
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
