//! People, roles and what each may do — checked in one place.
//!
//! A request is made by a [`Principal`]: a person signed in to the web interface (session
//! cookie; unsafe requests carry the session's CSRF token), a person or integration with an
//! API token (`Authorization: Bearer`), or the bootstrap administrator token created on
//! first start (`system`, every operation; for setting up and for break-glass use — every
//! use is in the custody trail as `admin`).
//!
//! [`allowed`] is the whole permission matrix, an exhaustive `match` over [`Op`]; no role
//! may delete or edit evidence because no operation does. Scope: a principal sees only
//! the crossing points it is scoped to, and an officer only their own recordings.

use argon2::{PasswordHasher as _, PasswordVerifier as _};
use axum::http::HeaderMap;
use kordon_store::meta::User;
use sha2::{Digest as _, Sha256};

use crate::error::ApiError;
use crate::state::App;

/// Session cookie name.
pub const SESSION_COOKIE: &str = "kordon_session";
pub use crate::state::{LOCK_MS, MAX_FAILURES};
/// Failed logins in a row, from any addresses, after which an account takes one attempt
/// per [`THROTTLE_MS`]: a guesser with many addresses gets a few thousand guesses a day,
/// the officer waits half a minute, not a quarter of an hour.
pub const ACCOUNT_FAILURES: i64 = 20;
/// The wait between attempts on a throttled account.
pub const THROTTLE_MS: i64 = 30_000;
/// The client's address: the peer, or — when the peer is one of the `trusted` reverse
/// proxies — the last address it put in `X-Forwarded-For` (from anyone else the header is
/// a client's own claim and ignored).
pub fn client_addr(
    peer: Option<std::net::SocketAddr>,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    let peer = peer.map_or(std::net::IpAddr::from([127, 0, 0, 1]), |p| p.ip());
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(peer)
}

/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Wears a camera; sees own recordings, explains own gaps.
    Officer,
    /// Runs a crossing point's shift: assignments, gap reviews, its footage and reports.
    Supervisor,
    /// Internal security: search, footage, cases, evidence packages in scope.
    Analyst,
    /// Reads everything in scope, changes nothing.
    Auditor,
    /// Users, devices, reference data; not footage.
    Administrator,
    /// A system (the customs IT) that imports inspection records.
    Integration,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 6] = [
        Role::Officer,
        Role::Supervisor,
        Role::Analyst,
        Role::Auditor,
        Role::Administrator,
        Role::Integration,
    ];

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Administrator => "administrator",
            Role::Integration => "integration",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An operation that needs permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// The dashboard.
    ViewDashboard,
    /// Quality review of inspections: the weekly sample, recording outcomes.
    ReviewInspections,
    /// Reports and analytics.
    ViewReports,
    /// Search inspections, list bookmarks.
    Search,
    /// Play or download footage (a custody event with a reason).
    ViewFootage,
    /// Read custody trails and cases.
    ViewCustody,
    /// Add a bookmark.
    Bookmark,
    /// Explain a gap.
    FileGapReason,
    /// Approve or reject a reason.
    DecideGapReason,
    /// Open cases, add to them (legal hold).
    ManageCases,
    /// Export an evidence package.
    ExportCase,
    /// Record the release of a package.
    ReleasePackage,
    /// Import inspection records.
    ImportInspections,
    /// Crossing points and officers.
    ManageReference,
    /// Enroll and revoke cameras.
    ManageDevices,
    /// Hand cameras out and take them back.
    AssignDevices,
    /// Users and API tokens.
    ManageUsers,
    /// Run retention or scrubbing now.
    RunJobs,
    /// Make a redacted copy of footage.
    Redact,
    /// Share a redacted copy with a named recipient, list and revoke shares.
    Share,
    /// Ask for footage to be preserved (an officer: his own).
    RequestPreservation,
    /// Approve or refuse a preservation request.
    DecidePreservation,
    /// See who viewed footage (an officer: his own).
    SeeViewers,
    /// Take the evidence package of a case that holds an inspection one worked.
    TakeOwnPackage,
}

impl Op {
    /// Every operation.
    pub const ALL: [Op; 24] = [
        Op::ViewDashboard,
        Op::ReviewInspections,
        Op::ViewReports,
        Op::Search,
        Op::ViewFootage,
        Op::ViewCustody,
        Op::Bookmark,
        Op::FileGapReason,
        Op::DecideGapReason,
        Op::ManageCases,
        Op::ExportCase,
        Op::ReleasePackage,
        Op::ImportInspections,
        Op::ManageReference,
        Op::ManageDevices,
        Op::AssignDevices,
        Op::ManageUsers,
        Op::RunJobs,
        Op::Redact,
        Op::Share,
        Op::RequestPreservation,
        Op::DecidePreservation,
        Op::SeeViewers,
        Op::TakeOwnPackage,
    ];
}

/// The permission matrix.
pub fn allowed(role: Role, op: Op) -> bool {
    use Role::*;
    match op {
        Op::ViewDashboard => matches!(role, Supervisor | Analyst | Auditor | Administrator),
        Op::ViewReports | Op::Search => matches!(role, Officer | Supervisor | Analyst | Auditor),
        Op::ViewFootage => matches!(role, Officer | Supervisor | Analyst | Auditor),
        Op::ViewCustody => matches!(role, Supervisor | Analyst | Auditor),
        Op::Bookmark => matches!(role, Supervisor | Analyst),
        Op::FileGapReason => matches!(role, Officer | Supervisor),
        Op::DecideGapReason | Op::ReviewInspections => matches!(role, Supervisor),
        // Complaints come to the crossing point: its supervisors open cases and fill them;
        // the evidence package and its release are the analysts' (docs/ui.md).
        Op::ManageCases => matches!(role, Supervisor | Analyst),
        Op::ExportCase | Op::ReleasePackage => matches!(role, Analyst),
        Op::ImportInspections => matches!(role, Integration | Administrator),
        Op::ManageReference | Op::ManageDevices | Op::ManageUsers | Op::RunJobs => {
            matches!(role, Administrator)
        }
        Op::AssignDevices => matches!(role, Supervisor | Administrator),
        Op::Redact | Op::Share => matches!(role, Supervisor | Analyst),
        Op::RequestPreservation => matches!(role, Officer | Supervisor),
        Op::DecidePreservation => matches!(role, Supervisor),
        Op::SeeViewers => matches!(role, Officer | Supervisor | Analyst | Auditor),
        Op::TakeOwnPackage => matches!(role, Officer),
    }
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User name (`admin` for the bootstrap token).
    pub name: String,
    /// Role; `None` for the bootstrap administrator token (every operation).
    pub role: Option<Role>,
    /// Crossing points in scope; empty = all.
    pub crossing_points: Vec<String>,
    /// The officer's own service number (officers see only their own recordings).
    pub officer: Option<String>,
    /// The session's CSRF token, for pages to put in their forms.
    pub csrf: Option<String>,
}

impl Principal {
    /// The bootstrap administrator token.
    pub fn system() -> Self {
        Principal {
            name: "admin".into(),
            role: None,
            crossing_points: Vec::new(),
            officer: None,
            csrf: None,
        }
    }

    fn of(u: &User, csrf: Option<String>) -> Result<Self, ApiError> {
        Ok(Principal {
            name: u.name.clone(),
            role: Some(Role::parse(&u.role).ok_or(ApiError::Unauthorized)?),
            crossing_points: u.crossing_points.clone(),
            officer: u.officer.clone(),
            csrf,
        })
    }

    /// Whether it may do `op`.
    pub fn may(&self, op: Op) -> bool {
        self.role.is_none_or(|r| allowed(r, op))
    }

    /// `Ok` if it may do `op`, else `403 forbidden` naming the role and the operation.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn require(&self, op: Op) -> Result<(), ApiError> {
        if self.may(op) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "role {} may not do this ({op:?})",
            self.role.map_or("admin", Role::as_str)
        )))
    }

    /// [`Principal::require`], and a scope of every crossing point: for what concerns all
    /// of them at once (the crossing points forwarding to a centre, their records).
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn require_national(&self, op: Op) -> Result<(), ApiError> {
        self.require(op)?;
        if !self.crossing_points.is_empty() || self.officer.is_some() {
            return Err(ApiError::Forbidden(format!(
                "this concerns every crossing point; {} is scoped to {}",
                self.name,
                self.crossing_points.join(", ")
            )));
        }
        Ok(())
    }

    /// Whether a crossing point is in scope.
    pub fn sees_crossing_point(&self, crossing_point: &str) -> bool {
        self.crossing_points.is_empty() || self.crossing_points.iter().any(|c| c == crossing_point)
    }

    /// Whether an inspection (crossing point, officers) is in scope.
    pub fn sees_inspection(&self, crossing_point: &str, officers: &[String]) -> bool {
        self.sees_crossing_point(crossing_point)
            && self.officer.as_ref().is_none_or(|o| officers.contains(o))
    }

    /// Whether footage recorded under these assignments (crossing point, officer) is in
    /// scope.
    pub fn sees_footage<'a>(
        &self,
        mut assignments: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> bool {
        if self.role.is_none() {
            return true;
        }
        assignments.any(|(cp, officer)| {
            self.sees_crossing_point(cp) && self.officer.as_deref().is_none_or(|o| o == officer)
        })
    }
}

/// SHA-256 hex of a secret (session ids and tokens are stored only hashed).
pub fn secret_hash(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A new random secret, hex.
pub fn new_secret() -> Result<String, ApiError> {
    Ok(hex::encode(
        kordon_store::random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}

/// Argon2id hash of a password (PHC string).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        argon2::Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// A hash of a random password, made once per process with the same parameters as every
/// user's: what a login for a name that does not exist is checked against.
pub async fn decoy_hash() -> Result<String, ApiError> {
    static DECOY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DECOY
        .get_or_try_init(|| async { hash_password(new_secret()?).await })
        .await
        .cloned()
}

/// Whether `password` matches an Argon2id PHC string.
pub async fn check_password(password: String, phc: String) -> bool {
    metrics::counter!("kordon_password_checks_total").increment(1);
    tokio::task::spawn_blocking(move || {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// The time step of a 6-digit TOTP code valid now for a base32 secret (the caller takes
/// it once: `Meta::take_totp_step`).
pub fn check_totp(secret_b32: &str, code: &str) -> Option<u64> {
    let secret = totp_rs::Secret::try_from_base32(secret_b32).ok()?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .ok()?
        .check_current(code.trim())
}

/// The current TOTP code of a base32 secret (for tests and for setting up an app).
pub fn current_totp(secret_b32: &str) -> Option<String> {
    let secret = totp_rs::Secret::try_from_base32(secret_b32).ok()?;
    let t = totp_rs::Builder::new().with_secret(secret).build().ok()?;
    Some(t.generate_current().to_string())
}

/// A value of a cookie in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Who is asking, if anyone: bearer token (bootstrap or API token) or session cookie
/// (within its idle and absolute timeouts).
pub(crate) async fn authenticate(
    app: &App,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    if let Some(token) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        if app.is_admin_token(token) {
            return Ok(Some(Principal::system()));
        }
        return match app.meta.api_token_user(&secret_hash(token.trim())).await? {
            Some(u) if !u.disabled => Ok(Some(Principal::of(&u, None)?)),
            _ => Err(ApiError::Unauthorized),
        };
    }
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let now = kordon_store::now_ms();
    let hash = secret_hash(id);
    let Some(s) = app.meta.session(&hash, now).await? else {
        return Ok(None);
    };
    let idle = i64::try_from(app.config.session_idle_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let max = i64::try_from(app.config.session_max_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    if s.user.disabled || now - s.last_seen > idle || now - s.created_at > max {
        app.meta.delete_session(&hash).await?;
        return Ok(None);
    }
    Ok(Some(Principal::of(&s.user, Some(s.csrf))?))
}

/// The signed-in principal of a request. Requests authenticated by a session cookie must
/// carry its CSRF token (`X-CSRF-Token` header, or `csrf` given from a form) unless they
/// are safe (`unsafe_request` false: GET).
///
/// # Errors
/// 401 when nobody is signed in, 403 for a missing or wrong CSRF token.
pub(crate) async fn signed_in(
    app: &App,
    headers: &HeaderMap,
    unsafe_request: bool,
    form_csrf: Option<&str>,
) -> Result<Principal, ApiError> {
    let p = authenticate(app, headers)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if unsafe_request && let Some(want) = &p.csrf {
        let given = form_csrf.or_else(|| headers.get("x-csrf-token").and_then(|v| v.to_str().ok()));
        if given != Some(want.as_str()) {
            return Err(ApiError::Forbidden(
                "the form is stale or forged (CSRF token missing or wrong); reload the page".into(),
            ));
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix, written out once more by hand: every role × operation pair.
    #[test]
    fn every_role_and_operation_pair() {
        use Op::*;
        let table: [(Op, [bool; 6]); 24] = [
            //                  officer supervisor analyst auditor admin integration
            (ViewDashboard, [false, true, true, true, true, false]),
            (ViewReports, [true, true, true, true, false, false]),
            (Search, [true, true, true, true, false, false]),
            (ViewFootage, [true, true, true, true, false, false]),
            (ViewCustody, [false, true, true, true, false, false]),
            (Bookmark, [false, true, true, false, false, false]),
            (FileGapReason, [true, true, false, false, false, false]),
            (DecideGapReason, [false, true, false, false, false, false]),
            (ReviewInspections, [false, true, false, false, false, false]),
            (ManageCases, [false, true, true, false, false, false]),
            (ExportCase, [false, false, true, false, false, false]),
            (ReleasePackage, [false, false, true, false, false, false]),
            (ImportInspections, [false, false, false, false, true, true]),
            (ManageReference, [false, false, false, false, true, false]),
            (ManageDevices, [false, false, false, false, true, false]),
            (AssignDevices, [false, true, false, false, true, false]),
            (ManageUsers, [false, false, false, false, true, false]),
            (RunJobs, [false, false, false, false, true, false]),
            (Redact, [false, true, true, false, false, false]),
            (Share, [false, true, true, false, false, false]),
            (
                RequestPreservation,
                [true, true, false, false, false, false],
            ),
            (
                DecidePreservation,
                [false, true, false, false, false, false],
            ),
            (SeeViewers, [true, true, true, true, false, false]),
            (TakeOwnPackage, [true, false, false, false, false, false]),
        ];
        assert_eq!(table.len(), Op::ALL.len());
        for (op, row) in table {
            for (role, want) in Role::ALL.into_iter().zip(row) {
                assert_eq!(allowed(role, op), want, "{role:?} × {op:?}");
            }
        }
        assert!(Op::ALL.iter().all(|op| Principal::system().may(*op)));
    }

    #[test]
    fn scope_limits_what_is_seen() {
        let p = Principal {
            name: "o".into(),
            role: Some(Role::Officer),
            crossing_points: vec!["UA-1".into()],
            officer: Some("UA-7".into()),
            csrf: None,
        };
        assert!(p.sees_inspection("UA-1", &["UA-7".into(), "UA-8".into()]));
        assert!(!p.sees_inspection("UA-1", &["UA-8".into()]));
        assert!(!p.sees_inspection("UA-2", &["UA-7".into()]));
        assert!(p.sees_footage([("UA-1", "UA-7")].into_iter()));
        assert!(!p.sees_footage([("UA-1", "UA-8"), ("UA-2", "UA-7")].into_iter()));
    }

    #[test]
    fn totp_codes_check() {
        let secret = totp_rs::Secret::from([7u8; 20]).to_base32();
        let code = current_totp(&secret).expect("code");
        assert!(check_totp(&secret, &code).is_some());
        assert!(check_totp(&secret, "000000").is_none() || code == "000000");
    }
}
