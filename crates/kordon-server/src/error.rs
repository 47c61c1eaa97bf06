//! API errors: one enum, one exhaustive mapping to HTTP status and a stable error code.
//! The body is always JSON `{"error": "<code>", "message": "<what is wrong>"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kordon_log::LogError;
use kordon_store::blob::BlobError;
use kordon_store::meta::MetaError;

/// Everything an API call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (bad manifest, bad header, wrong path).
    #[error("{1}")]
    BadRequest(&'static str, String),
    /// No or wrong administrator token.
    #[error("not signed in, or the token is wrong")]
    Unauthorized,
    /// Signed in, but not allowed (role, scope or CSRF).
    #[error("{0}")]
    Forbidden(String),
    /// The link's signature does not verify with the device's key.
    #[error("{0}")]
    BadSignature(String),
    /// The device was revoked.
    #[error("device {0} is revoked")]
    DeviceRevoked(String),
    /// The device is not enrolled.
    #[error("device {0} is not enrolled")]
    UnknownDevice(String),
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// A different link already holds this sequence number.
    #[error(
        "device {device} already has a different link {existing} under sequence number {seq}; the new one is kept as evidence"
    )]
    Equivocation {
        /// Device.
        device: String,
        /// Sequence number.
        seq: u64,
        /// Hash of the link that holds it.
        existing: String,
    },
    /// It was there and is no more (a share expired or revoked): the stable code names why.
    #[error("{1}")]
    Gone(&'static str, String),
    /// A state conflict (assignment open, device enrolled).
    #[error("{0}")]
    Conflict(String),
    /// A crossing point sent a history that does not extend what the centre holds.
    #[error("{0}")]
    EdgeRewritten(String),
    /// Body larger than allowed.
    #[error("body of {0} bytes is larger than the limit of {1}")]
    TooLarge(u64, u64),
    /// A request body over the framework's limit.
    #[error("{0}")]
    BodyTooLarge(String),
    /// The body's size differs from the manifest's.
    #[error("{0}")]
    SizeMismatch(String),
    /// The body's hash differs from the manifest's.
    #[error("{0}")]
    HashMismatch(String),
    /// The client stopped sending.
    #[error("{0}")]
    Interrupted(String),
    /// No space left.
    #[error("storage is full")]
    StorageFull,
    /// Too many attempts from one client; try again later.
    #[error("{0}")]
    TooManyRequests(String),
    /// The log refuses entries (fatal storage error) or is shutting down.
    #[error("{0}")]
    Unavailable(String),
    /// Anything else on the server side.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// Status and stable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(code, _) => (StatusCode::BAD_REQUEST, code),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::BadSignature(_) => (StatusCode::FORBIDDEN, "bad_signature"),
            ApiError::DeviceRevoked(_) => (StatusCode::FORBIDDEN, "device_revoked"),
            ApiError::UnknownDevice(_) => (StatusCode::NOT_FOUND, "unknown_device"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Equivocation { .. } => (StatusCode::CONFLICT, "equivocation"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Gone(code, _) => (StatusCode::GONE, code),
            ApiError::EdgeRewritten(_) => (StatusCode::CONFLICT, "edge_rewritten"),
            ApiError::TooLarge(..) | ApiError::BodyTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
            }
            ApiError::SizeMismatch(_) => (StatusCode::BAD_REQUEST, "size_mismatch"),
            ApiError::HashMismatch(_) => (StatusCode::BAD_REQUEST, "hash_mismatch"),
            ApiError::Interrupted(_) => (StatusCode::BAD_REQUEST, "upload_interrupted"),
            ApiError::StorageFull => (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(code, error = %self, "request failed");
        } else {
            tracing::info!(code, error = %self, "request refused");
        }
        metrics::counter!("kordon_api_errors_total", "code" => code).increment(1);
        let body = kordon_api::Error {
            error: code.to_owned(),
            message: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}

impl From<MetaError> for ApiError {
    fn from(e: MetaError) -> Self {
        match e {
            MetaError::TokenInvalid => ApiError::BadRequest("token_invalid", e.to_string()),
            MetaError::DeviceExists(_) | MetaError::Assignment(_) => {
                ApiError::Conflict(e.to_string())
            }
            MetaError::UnknownDevice(d) => ApiError::UnknownDevice(d),
            _ if e.is_unavailable() => {
                ApiError::Unavailable("metadata database unavailable; try again".into())
            }
            MetaError::Db(_) | MetaError::Migrate(_) | MetaError::Invalid(_) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::SizeMismatch { .. } => ApiError::SizeMismatch(e.to_string()),
            BlobError::HashMismatch { .. } => ApiError::HashMismatch(e.to_string()),
            BlobError::Interrupted(_) => ApiError::Interrupted(e.to_string()),
            BlobError::DiskFull => ApiError::StorageFull,
            BlobError::Io(_) => ApiError::Internal(e.to_string()),
            BlobError::Store(_) => ApiError::Unavailable(format!("{e}; try again")),
            BlobError::Locked(_) => ApiError::Conflict(e.to_string()),
        }
    }
}

impl From<LogError> for ApiError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::EntryTooLarge(n) => ApiError::TooLarge(n as u64, 65_535),
            LogError::Poisoned(_) | LogError::Retry(_) | LogError::Closed => {
                ApiError::Unavailable(e.to_string())
            }
            LogError::Corrupt(_) | LogError::Io(_) => ApiError::Internal(e.to_string()),
        }
    }
}
