//! Users, sessions and API tokens. The store keeps hashes only; hashing passwords and
//! deciding what a role may do is the server's job.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Meta, MetaError};

/// A person (or an integration) who can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Role name.
    pub role: String,
    /// Crossing points in scope; empty means all.
    pub crossing_points: Vec<String>,
    /// The officer's service number, for the officer role.
    pub officer: Option<String>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Base32 TOTP secret, when set up.
    pub totp_secret: Option<String>,
    /// Failed logins in a row.
    pub failed: i64,
    /// Locked until (Unix ms).
    pub locked_until: Option<i64>,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
}

fn user_from_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    let cps: String = r.try_get("crossing_points")?;
    Ok(User {
        name: r.try_get("name")?,
        role: r.try_get("role")?,
        crossing_points: if cps == "*" {
            Vec::new()
        } else {
            cps.split(';')
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect()
        },
        officer: r.try_get("officer")?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r.try_get("totp_secret")?,
        failed: r.try_get("failed")?,
        locked_until: r.try_get("locked_until")?,
        disabled: r.try_get::<i64, _>("disabled")? != 0,
    })
}

/// A session found by its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// Its user.
    pub user: User,
    /// The CSRF token of the session.
    pub csrf: String,
    /// When it was created (Unix ms).
    pub created_at: i64,
    /// When it was last used (Unix ms).
    pub last_seen: i64,
}

impl Meta {
    /// Creates or replaces a user (the password hash is the caller's).
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_user(&self, u: &User, now: i64) -> Result<(), MetaError> {
        let cps = if u.crossing_points.is_empty() {
            "*".to_owned()
        } else {
            u.crossing_points.join(";")
        };
        sqlx::query(
            "INSERT INTO users (name, role, crossing_points, officer, password_hash, totp_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (name) DO UPDATE SET role = excluded.role, crossing_points = excluded.crossing_points, officer = excluded.officer,
               password_hash = excluded.password_hash, totp_secret = excluded.totp_secret, failed = 0, locked_until = NULL",
        )
        .bind(&u.name)
        .bind(&u.role)
        .bind(cps)
        .bind(&u.officer)
        .bind(&u.password_hash)
        .bind(&u.totp_secret)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A user by name.
    ///
    /// # Errors
    /// Database errors.
    pub async fn user(&self, name: &str) -> Result<Option<User>, MetaError> {
        let r = sqlx::query("SELECT * FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(user_from_row).transpose()?)
    }

    /// One page of users by name: those after `after`, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn users(&self, after: &str, limit: u32) -> Result<Vec<User>, MetaError> {
        let rows = sqlx::query("SELECT * FROM users WHERE name > $1 ORDER BY name LIMIT $2")
            .bind(after.to_owned())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(user_from_row).collect::<Result<_, _>>()?)
    }

    /// Records a failed login; locks the account for `lock_ms` after `max` failures in a
    /// row. Returns the failures so far.
    ///
    /// # Errors
    /// Database errors.
    pub async fn login_failed(
        &self,
        name: &str,
        max: i64,
        lock_ms: i64,
        now: i64,
    ) -> Result<i64, MetaError> {
        sqlx::query("UPDATE users SET failed = failed + 1, locked_until = CASE WHEN failed + 1 >= $1 THEN $2 ELSE locked_until END WHERE name = $3")
            .bind(max)
            .bind(now + lock_ms)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(self.user(name).await?.map_or(0, |u| u.failed))
    }

    /// Clears the failure count after a good login.
    ///
    /// # Errors
    /// Database errors.
    pub async fn login_succeeded(&self, name: &str) -> Result<(), MetaError> {
        sqlx::query("UPDATE users SET failed = 0, locked_until = NULL WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a session (by the hash of its id).
    ///
    /// # Errors
    /// Database errors.
    pub async fn create_session(
        &self,
        id_hash: &str,
        user: &str,
        csrf: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query("INSERT INTO sessions (id_hash, user_name, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $5)")
            .bind(id_hash)
            .bind(user)
            .bind(csrf)
            .bind(now)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A session and its user, marking it used now.
    ///
    /// # Errors
    /// Database errors.
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>, MetaError> {
        let Some(r) = sqlx::query("SELECT s.csrf, s.created_at AS s_created, s.last_seen, u.* FROM sessions s JOIN users u ON u.name = s.user_name WHERE s.id_hash = $1")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let row = SessionRow {
            user: user_from_row(&r)?,
            csrf: r.try_get("csrf")?,
            created_at: r.try_get("s_created")?,
            last_seen: r.try_get("last_seen")?,
        };
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
            .bind(now)
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(Some(row))
    }

    /// Ends every session of a user and revokes every API token of theirs (a new password,
    /// role or scope, or the account disabled); answers how many tokens were revoked.
    ///
    /// # Errors
    /// Database errors.
    pub async fn end_credentials(&self, user: &str, now: i64) -> Result<u64, MetaError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM sessions WHERE user_name = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let r = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_name = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r.rows_affected())
    }

    /// Takes a TOTP time step for a user's sign-in: answers false if that step (or a later
    /// one) was already used, so one code signs in once.
    ///
    /// # Errors
    /// Database errors.
    pub async fn take_totp_step(&self, user: &str, step: u64) -> Result<bool, MetaError> {
        let r = sqlx::query(
            "UPDATE users SET totp_step = $1 WHERE name = $2 AND (totp_step IS NULL OR totp_step < $1)",
        )
        .bind(step as i64)
        .bind(user)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Disables or enables an account; answers whether it exists.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_disabled(&self, user: &str, disabled: bool) -> Result<bool, MetaError> {
        let r = sqlx::query("UPDATE users SET disabled = $1 WHERE name = $2")
            .bind(i64::from(disabled))
            .bind(user)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Ends a session.
    ///
    /// # Errors
    /// Database errors.
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), MetaError> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores an API token (by its hash) for a user.
    ///
    /// # Errors
    /// Database errors.
    pub async fn create_api_token(
        &self,
        token_hash: &str,
        user: &str,
        label: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_name, label, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user)
        .bind(label)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revokes a user's API token, named by its id (the first 16 hex digits of its hash);
    /// answers whether a token that was still valid was revoked.
    ///
    /// # Errors
    /// Database errors.
    pub async fn revoke_api_token(
        &self,
        user: &str,
        id: &str,
        now: i64,
    ) -> Result<bool, MetaError> {
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_name = $2 AND substr(token_hash, 1, 16) = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(user)
            .bind(id.to_ascii_lowercase())
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// The user of a valid (not revoked) API token.
    ///
    /// # Errors
    /// Database errors.
    pub async fn api_token_user(&self, token_hash: &str) -> Result<Option<User>, MetaError> {
        let r = sqlx::query("SELECT u.* FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.token_hash = $1 AND t.revoked_at IS NULL")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(user_from_row).transpose()?)
    }
}
