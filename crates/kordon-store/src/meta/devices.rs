//! Cameras and docks: enrollment tokens, enrollment, revocation.

use sqlx::FromRow as _;
use sqlx::Row as _;

use super::{Meta, MetaError};

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Device {
    /// Device id (serial).
    pub id: String,
    /// Its verifier key string.
    pub vkey: String,
    /// When it was enrolled.
    pub enrolled_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

impl Meta {
    /// Stores a one-time enrollment token (its hash) for a device id.
    ///
    /// # Errors
    /// [`MetaError::DeviceExists`] if the device is enrolled; database errors.
    pub async fn create_enroll_token(
        &self,
        device_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), MetaError> {
        if self.device(device_id).await?.is_some() {
            return Err(MetaError::DeviceExists(device_id.to_owned()));
        }
        sqlx::query("INSERT INTO enroll_tokens (token_hash, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(device_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Uses a token to enroll a device with its verifier key, in one transaction.
    ///
    /// # Errors
    /// [`MetaError::TokenInvalid`], [`MetaError::DeviceExists`].
    pub async fn enroll(
        &self,
        device_id: &str,
        token_hash: &str,
        vkey: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        let mut tx = self.write_tx().await?;
        let used = sqlx::query(
            "UPDATE enroll_tokens SET used_at = $1 WHERE token_hash = $2 AND device_id = $3 AND used_at IS NULL AND expires_at > $4",
        )
        .bind(now)
        .bind(token_hash)
        .bind(device_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(MetaError::TokenInvalid);
        }
        let inserted = sqlx::query("INSERT INTO devices (id, vkey, enrolled_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(device_id)
            .bind(vkey)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if inserted.rows_affected() != 1 {
            return Err(MetaError::DeviceExists(device_id.to_owned()));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Registers a device whose links this server signs (a camera of a body-worn system,
    /// `attested: system`); nothing if it is registered already.
    ///
    /// # Errors
    /// Database errors.
    pub async fn register_device(
        &self,
        device_id: &str,
        vkey: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query("INSERT INTO devices (id, vkey, enrolled_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(device_id)
            .bind(vkey)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One device.
    ///
    /// # Errors
    /// Database errors.
    pub async fn device(&self, id: &str) -> Result<Option<Device>, MetaError> {
        let row =
            sqlx::query("SELECT id, vkey, enrolled_at, revoked_at FROM devices WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.as_ref().map(Device::from_row).transpose()?)
    }

    /// All device ids, sorted.
    ///
    /// # Errors
    /// Database errors.
    pub async fn device_ids(&self) -> Result<Vec<String>, MetaError> {
        let rows = sqlx::query("SELECT id FROM devices ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?)
    }

    /// Revokes a device: its uploads are refused from now on.
    ///
    /// # Errors
    /// [`MetaError::UnknownDevice`].
    pub async fn revoke(&self, id: &str, now: i64) -> Result<(), MetaError> {
        let r =
            sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
        if r.rows_affected() != 1 {
            return Err(MetaError::UnknownDevice(id.to_owned()));
        }
        Ok(())
    }
}
