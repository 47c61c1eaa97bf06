//! The error body every failed `/v1` call answers, and its stable codes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"error": "<code>", "message": "<what is wrong>"}` with the HTTP status of the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Error {
    /// Stable machine-readable code (see [`ErrorCode`]; a few bad-request codes name the
    /// field, e.g. `bad_device_id`).
    pub error: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// The codes and their HTTP status. Clients decide on the code, never on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request is malformed (`bad_request`, `bad_query` and the field-named
    /// codes are this class too).
    BadRequest,
    /// 401: not signed in, or the token is wrong.
    Unauthorized,
    /// 403: signed in, but the role, the scope or the CSRF token does not allow it.
    Forbidden,
    /// 403: the link's signature does not verify with the device's key.
    BadSignature,
    /// 403: the device was revoked.
    DeviceRevoked,
    /// 404: the device is not enrolled.
    UnknownDevice,
    /// 404: nothing there.
    NotFound,
    /// 409: a different link already holds this sequence number (kept as evidence).
    Equivocation,
    /// 409: a state conflict.
    Conflict,
    /// 409: a crossing point sent a history that does not extend what the centre holds.
    EdgeRewritten,
    /// 410: it was there and is no more (`share_expired`, `share_revoked`).
    Gone,
    /// 413: the body is larger than allowed.
    TooLarge,
    /// 400: the body's size differs from the manifest's.
    SizeMismatch,
    /// 400: the body's SHA-256 differs from the manifest's.
    HashMismatch,
    /// 400: the client stopped sending.
    UploadInterrupted,
    /// 507: no space left.
    StorageFull,
    /// 429: too many attempts; try later.
    TooManyAttempts,
    /// 503: retryable: the log or the database cannot take it now.
    Unavailable,
    /// 500: anything else.
    Internal,
}

impl ErrorCode {
    /// The code as it appears in [`Error::error`].
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::DeviceRevoked => "device_revoked",
            ErrorCode::UnknownDevice => "unknown_device",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Equivocation => "equivocation",
            ErrorCode::Conflict => "conflict",
            ErrorCode::EdgeRewritten => "edge_rewritten",
            ErrorCode::Gone => "gone",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::SizeMismatch => "size_mismatch",
            ErrorCode::HashMismatch => "hash_mismatch",
            ErrorCode::UploadInterrupted => "upload_interrupted",
            ErrorCode::StorageFull => "storage_full",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// The HTTP status it is answered with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::SizeMismatch
            | ErrorCode::HashMismatch
            | ErrorCode::UploadInterrupted => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden | ErrorCode::BadSignature | ErrorCode::DeviceRevoked => 403,
            ErrorCode::UnknownDevice | ErrorCode::NotFound => 404,
            ErrorCode::Equivocation | ErrorCode::Conflict | ErrorCode::EdgeRewritten => 409,
            ErrorCode::Gone => 410,
            ErrorCode::TooLarge => 413,
            ErrorCode::TooManyAttempts => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
            ErrorCode::StorageFull => 507,
        }
    }

    /// Whether the same request may succeed later unchanged.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::Unavailable | ErrorCode::TooManyAttempts | ErrorCode::Internal
        )
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl std::error::Error for Error {}
