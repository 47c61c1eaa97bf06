//! Proofs from the transparency log (the log itself is served as C2SP tiles under
//! `/log/`, outside `/v1`).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query of `GET /v1/log/inclusion`: an index, or the hash of a link or custody event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InclusionQuery {
    /// The entry's index.
    pub index: Option<u64>,
    /// Link or custody event hash (hex) instead of an index.
    pub hash: Option<String>,
}

/// `GET /v1/log/inclusion`: a proof to the latest checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Inclusion {
    /// The entry's index.
    pub index: u64,
    /// The tree size proven to.
    pub size: u64,
    /// Its root (base64).
    pub root: String,
    /// The audit path (base64 hashes).
    pub proof: Vec<String>,
    /// The signed checkpoint of that size.
    pub checkpoint: String,
}

/// Query of `GET /v1/log/consistency`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyQuery {
    /// The older size.
    pub old: u64,
    /// The newer size (default: the latest).
    pub new: Option<u64>,
}

/// `GET /v1/log/consistency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Consistency {
    /// The older size.
    pub old: u64,
    /// The newer size.
    pub new: u64,
    /// The proof (base64 hashes).
    pub proof: Vec<String>,
}

/// Query of `GET /v1/log/timestamps`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimestampsQuery {
    /// Tokens over checkpoints larger than this size.
    pub after: Option<u64>,
    /// Page size (default and most 100).
    pub limit: Option<u32>,
}

/// One RFC 3161 token over a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimestampToken {
    /// The time-stamping authority's configured name.
    pub tsa: String,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The time the TSA states (UTC).
    pub time: String,
    /// The signed checkpoint the token is over (its text is the stamped message).
    pub checkpoint: String,
    /// The DER `TimeStampResp` (base64).
    pub token: String,
}

/// `GET /v1/log/timestamps`: tokens by checkpoint size. A stretch of the log without a
/// token (a TSA down) shows as a jump in `size` and `time`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Timestamps {
    /// The page.
    pub tokens: Vec<TimestampToken>,
    /// `after` for the next page, if any.
    pub next: Option<u64>,
}
