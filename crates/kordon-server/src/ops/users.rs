//! Users and API tokens (administrator), and signing in and out of the web interface.
//!
//! Passwords are hashed with Argon2id; five failed logins in a row lock an account for
//! 15 minutes, and ten a minute from one client refuse that client for the minute;
//! sessions live in the database (only the SHA-256 of their id is stored) with
//! an idle and an absolute timeout (`session_idle_s`, `session_max_s`: 30 minutes and 12
//! hours by default); the cookie is `HttpOnly`,
//! `SameSite=Strict`, and `Secure` unless the server is told it is not behind TLS
//! (`KORDON_COOKIE_INSECURE`, for 127.0.0.1 only). Analysts and administrators may have a
//! TOTP second factor.

use kordon_api::devices::Page;
use kordon_api::users::{Token, TokenIn, User as UserOut, UserCreated, UserIn, UserList};
use kordon_store::meta::User;
use kordon_store::now_ms;

use crate::auth::{self, Op, Principal, Role};
use crate::error::ApiError;
use crate::state::App;

/// Creates or replaces a user.
/// The names kordon's own actors sign custody events with: the administrator token and
/// the background jobs. No user may take one.
const RESERVED: [&str; 5] = ["admin", "retention", "scrubber", "forwarder", "system"];

/// Longest password accepted (and hashed): a megabyte of Argon2id input per attempt
/// would be work an outsider could ask for.
pub(crate) const MAX_PASSWORD: usize = 1024;

pub(crate) async fn put(app: &App, who: &Principal, b: UserIn) -> Result<UserCreated, ApiError> {
    who.require(Op::ManageUsers)?;
    let bad = |m: &str| ApiError::BadRequest("bad_request", m.to_owned());
    if !kordon_core::link::is_valid_device_id(&b.name) {
        return Err(bad("name must be 1-64 letters, digits, '-', '_' or '.'"));
    }
    let role = Role::parse(&b.role).ok_or_else(|| {
        bad("role must be officer, supervisor, analyst, auditor, administrator or integration")
    })?;
    if RESERVED.contains(&b.name.as_str()) {
        return Err(bad(&format!(
            "the name {} is kordon's own in custody events ({}): choose another",
            b.name,
            RESERVED.join(", ")
        )));
    }
    if b.password.chars().count() < 12 || b.password.len() > MAX_PASSWORD {
        return Err(bad(&format!(
            "the password must have at least 12 characters and at most {MAX_PASSWORD} bytes"
        )));
    }
    if role == Role::Officer && b.officer.is_none() {
        return Err(bad("an officer needs their service number (officer)"));
    }
    if b.totp && !matches!(role, Role::Analyst | Role::Administrator) {
        return Err(bad(
            "a second factor is offered to analysts and administrators",
        ));
    }
    let totp = if b.totp {
        let r = kordon_store::random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut raw = [0u8; 20];
        raw.copy_from_slice(&r[..20]);
        Some(totp_rs::Secret::from(raw).to_base32())
    } else {
        None
    };
    let u = User {
        name: b.name.clone(),
        role: role.as_str().into(),
        crossing_points: b.crossing_points.clone(),
        officer: b.officer.clone(),
        password_hash: auth::hash_password(b.password).await?,
        totp_secret: totp.clone(),
        failed: 0,
        locked_until: None,
        disabled: false,
    };
    let replaced = app.meta.user(&u.name).await?.is_some();
    app.meta.put_user(&u, now_ms()).await?;
    // A new password, role or scope: what was signed in with the old ones ends.
    let ended = if replaced {
        app.meta.end_credentials(&u.name, now_ms()).await?
    } else {
        0
    };
    let scope = if u.crossing_points.is_empty() {
        "all crossing points".to_owned()
    } else {
        u.crossing_points.join(",")
    };
    let index = app
        .custody(
            &who.name,
            "user-set",
            &format!("user {}", u.name),
            &format!(
                "role {} scope {scope}{}{}",
                u.role,
                if totp.is_some() { " with TOTP" } else { "" },
                if replaced {
                    format!("; replaced: sessions ended, {ended} token(s) revoked")
                } else {
                    String::new()
                }
            ),
        )
        .await?;
    Ok(UserCreated {
        totp_url: totp
            .as_ref()
            .map(|s| format!("otpauth://totp/kordon:{}?secret={s}&issuer=kordon", u.name)),
        name: u.name,
        role: u.role,
        log_index: index,
        totp_secret: totp,
    })
}

/// An API token acting as a user (e.g. the customs IT system's integration user); shown
/// once.
pub(crate) async fn token(
    app: &App,
    who: &Principal,
    name: &str,
    b: TokenIn,
) -> Result<Token, ApiError> {
    // Anyone may issue tokens for their own account; the administrator for others, but
    // not for an account that signs in with a second factor: a token in someone else's
    // name would use its access without its code (custody would name the account).
    if who.name != name {
        who.require(Op::ManageUsers)?;
    }
    let Some(user) = app.meta.user(name).await? else {
        return Err(ApiError::NotFound(format!("no user {name}")));
    };
    if who.name != name && user.totp_secret.is_some() {
        return Err(ApiError::Forbidden(format!(
            "{name} signs in with a second factor: only {name}, signed in, can issue a token for it"
        )));
    }
    let token = auth::new_secret()?;
    let hash = auth::secret_hash(&token);
    let id = &hash[..16];
    app.meta
        .create_api_token(&hash, name, b.label.trim(), now_ms())
        .await?;
    let index = app
        .custody(
            &who.name,
            "token-issue",
            &format!("user {name}"),
            &format!("token {id}: {}", b.label.trim()),
        )
        .await?;
    Ok(Token {
        user: name.to_owned(),
        id: id.to_owned(),
        token: Some(token),
        log_index: index,
    })
}

/// Disables an account (its sessions end and its tokens are revoked; it cannot sign in)
/// or enables it again. Custody event `user-disable` / `user-enable`.
pub(crate) async fn set_disabled(
    app: &App,
    who: &Principal,
    name: &str,
    disabled: bool,
) -> Result<Token, ApiError> {
    who.require(Op::ManageUsers)?;
    if !app.meta.set_disabled(name, disabled).await? {
        return Err(ApiError::NotFound(format!("no user {name}")));
    }
    let detail = if disabled {
        let ended = app.meta.end_credentials(name, now_ms()).await?;
        format!("sessions ended, {ended} token(s) revoked")
    } else {
        "may sign in again".to_owned()
    };
    let action = if disabled {
        "user-disable"
    } else {
        "user-enable"
    };
    let index = app
        .custody(&who.name, action, &format!("user {name}"), &detail)
        .await?;
    Ok(Token {
        user: name.to_owned(),
        id: String::new(),
        token: None,
        log_index: index,
    })
}

/// Revokes an API token: it stops working at once.
pub(crate) async fn revoke_token(
    app: &App,
    who: &Principal,
    name: &str,
    id: &str,
) -> Result<Token, ApiError> {
    who.require(Op::ManageUsers)?;
    if !app.meta.revoke_api_token(name, id, now_ms()).await? {
        return Err(ApiError::NotFound(format!(
            "no valid token {id} of user {name}"
        )));
    }
    let index = app
        .custody(
            &who.name,
            "token-revoke",
            &format!("user {name}"),
            &format!("token {id}"),
        )
        .await?;
    Ok(Token {
        user: name.to_owned(),
        id: id.to_owned(),
        token: None,
        log_index: index,
    })
}

/// One page of users, by name.
pub(crate) async fn list(app: &App, who: &Principal, page: &Page) -> Result<UserList, ApiError> {
    who.require(Op::ManageUsers)?;
    let now = now_ms();
    let limit = page.limit();
    let mut rows = app
        .meta
        .users(page.after.as_deref().unwrap_or(""), limit + 1)
        .await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(|u| u.name.clone()).unwrap_or_default()
    });
    let users = rows
        .into_iter()
        .map(|u| UserOut {
            totp: u.totp_secret.is_some(),
            locked: u.locked_until.is_some_and(|t| t > now),
            name: u.name,
            role: u.role,
            crossing_points: u.crossing_points,
            officer: u.officer,
        })
        .collect();
    Ok(UserList { users, next })
}

/// Why a login failed (one message for all, so it says nothing about which part was wrong).
const LOGIN_FAILED: &str = "wrong name, password or code, or the account is locked";

/// Checks a login from `client`; answers the new session id and its CSRF token. Every
/// refusal counts against the address (and the address on that account).
pub(crate) async fn login(
    app: &App,
    client: std::net::IpAddr,
    name: &str,
    password: &str,
    code: &str,
) -> Result<(String, String), ApiError> {
    let now = now_ms();
    let answer = check_login(app, client, name, password, code, now).await;
    if let Err(ApiError::Forbidden(_)) = answer {
        let was_locked = app.login_failures.locked(client, name, now);
        app.login_failures.failed(client, name, now);
        if !was_locked && app.login_failures.locked(client, name, now) {
            tracing::warn!(user = %name, %client, "address locked out of an account after failed logins");
            metrics::counter!("kordon_accounts_locked_total").increment(1);
        }
    }
    answer
}

async fn check_login(
    app: &App,
    client: std::net::IpAddr,
    name: &str,
    password: &str,
    code: &str,
    now: i64,
) -> Result<(String, String), ApiError> {
    if password.len() > MAX_PASSWORD {
        return Err(ApiError::Forbidden(LOGIN_FAILED.into()));
    }
    let Some(u) = app.meta.user(name).await? else {
        // The same work as for a real user (a password check against a hash made with
        // the same parameters), so the time says nothing about which names exist.
        let _ = auth::check_password(password.to_owned(), auth::decoy_hash().await?).await;
        return Err(ApiError::Forbidden(LOGIN_FAILED.into()));
    };
    if u.disabled
        || u.locked_until.is_some_and(|t| t > now)
        || app.login_failures.locked(client, name, now)
    {
        let _ = auth::check_password(password.to_owned(), u.password_hash.clone()).await;
        return Err(ApiError::Forbidden(LOGIN_FAILED.into()));
    }
    let mut ok = auth::check_password(password.to_owned(), u.password_hash.clone()).await;
    if ok && let Some(secret) = u.totp_secret.as_deref() {
        // A code signs in once (RFC 6238 §5.2): its time step is taken, or it is refused.
        ok = match auth::check_totp(secret, code) {
            Some(step) => app.meta.take_totp_step(name, step).await?,
            None => false,
        };
    }
    if !ok {
        let failed = app
            .meta
            .login_failed(name, auth::ACCOUNT_FAILURES, auth::THROTTLE_MS, now)
            .await?;
        if failed >= auth::ACCOUNT_FAILURES {
            tracing::warn!(user = %name, failed, "account throttled after failed logins from many addresses");
            metrics::counter!("kordon_accounts_throttled_total").increment(1);
        }
        return Err(ApiError::Forbidden(LOGIN_FAILED.into()));
    }
    app.meta.login_succeeded(name).await?;
    app.login_failures.succeeded(client, name);
    let (id, csrf) = (auth::new_secret()?, auth::new_secret()?);
    app.meta
        .create_session(&auth::secret_hash(&id), name, &csrf, now)
        .await?;
    Ok((id, csrf))
}
