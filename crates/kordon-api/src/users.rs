//! People, roles and API tokens.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Body of `POST /v1/users`: adds a person or changes one (same name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    /// Sign-in name.
    pub name: String,
    /// `officer`, `supervisor`, `analyst`, `auditor`, `administrator` or `integration`.
    pub role: String,
    /// Crossing point codes in scope; empty = all.
    #[serde(default)]
    pub crossing_points: Vec<String>,
    /// An officer's own service number.
    #[serde(default)]
    pub officer: Option<String>,
    /// The password (at least 12 characters).
    pub password: String,
    /// Set up a TOTP second factor (answered once).
    #[serde(default)]
    pub totp: bool,
}

/// `POST /v1/users` → 201.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserCreated {
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: String,
    /// The `user-set` custody event.
    pub log_index: u64,
    /// The TOTP secret (base32), shown once.
    pub totp_secret: Option<String>,
    /// The same as an `otpauth://` URL.
    pub totp_url: Option<String>,
}

/// Body of `POST /v1/users/{name}/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    /// What it is for, e.g. `customs-it`.
    pub label: String,
}

/// `POST /v1/users/{name}/tokens` → 201 (the token is shown once) and
/// `POST /v1/users/{name}/tokens/{id}/revoke` (no token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Token {
    /// Whose token.
    pub user: String,
    /// Its id.
    pub id: String,
    /// The bearer token, once, when made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The custody event.
    pub log_index: u64,
}

/// A person in `GET /v1/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    /// Sign-in name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Crossing points in scope; empty = all.
    pub crossing_points: Vec<String>,
    /// An officer's service number.
    pub officer: Option<String>,
    /// Whether a second factor is set up.
    pub totp: bool,
    /// Whether failed logins locked the account now.
    pub locked: bool,
}

/// `GET /v1/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    /// One page of users, by name (`?after=<next>&limit=`, default 100, at most 1000).
    pub users: Vec<User>,
    /// The cursor of the next page, if there is one.
    #[serde(default)]
    pub next: Option<String>,
}
