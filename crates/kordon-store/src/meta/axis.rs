//! What a body-worn system (AXIS Body Worn) pushed to kordon as its content destination
//! (`docs/axis.md`): its systems, users (mapped to officers), cameras, recordings and
//! their objects, and the GNSS trails of the cameras.

use sqlx::Row as _;

use super::{Meta, MetaError};

/// A user of the body-worn system.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AxisUser {
    /// The system's internal UUID (names the recordings).
    pub uuid: String,
    /// Display name.
    pub name: String,
    /// The user-supplied id (empty if none).
    pub user_id: String,
    /// 1 if active.
    pub active: i64,
    /// The kordon officer (service number) the user is mapped to.
    pub officer: Option<String>,
}

/// A camera of the body-worn system.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AxisDevice {
    /// Serial number: the kordon device id.
    pub serial: String,
    /// Display name.
    pub name: String,
    /// Model (W100, W101, W110, ...).
    pub model: String,
    /// 1 if active.
    pub active: i64,
    /// Firmware of its latest recording.
    pub firmware: String,
    /// When the system last said anything of it (or delivered a recording), Unix ms.
    pub updated_at: i64,
}

/// A recording container.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AxisRecording {
    /// `<UserUUID>_<BWCSerialNumber>_<TriggerOnTime>`.
    pub container: String,
    /// The camera.
    pub serial: String,
    /// The wearer.
    pub user_uuid: String,
    /// The container's metadata as a JSON object.
    pub meta: String,
    /// `Transferring`, `Complete`, or `Rejected` (a rejected-content container).
    pub status: String,
    /// 1 once its record-start event is in the camera's chain.
    pub started: i64,
    /// First seen, Unix ms.
    pub created_at: i64,
    /// Marked complete, Unix ms.
    pub completed_at: Option<i64>,
}

/// An object stored in a recording container.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AxisObject {
    /// Its container.
    pub container: String,
    /// Its name.
    pub name: String,
    /// `clip`, `bookmark`, `gnss` or `rejected`.
    pub kind: String,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// A clip's link in the camera's chain.
    pub seq: Option<i64>,
    /// 1 if the clip carries in-stream signatures.
    pub signed_video: i64,
    /// The object's metadata as a JSON object.
    pub meta: String,
    /// When it arrived, Unix ms.
    pub received_at: i64,
}

/// A point of a camera's GNSS trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GnssPoint {
    /// When, Unix ms.
    pub at_ms: i64,
    /// Longitude, degrees × 10⁷.
    pub lon_e7: i64,
    /// Latitude, degrees × 10⁷.
    pub lat_e7: i64,
}

impl Meta {
    /// Stores what a system says of itself (its id, connection id and name).
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_put_system(
        &self,
        id: &str,
        connection_id: &str,
        name: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO axis_systems (system_id, connection_id, name, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (system_id) DO UPDATE SET connection_id = excluded.connection_id, name = excluded.name, updated_at = excluded.updated_at",
        )
        .bind(id)
        .bind(connection_id)
        .bind(name)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A system's connection id and name.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_system(&self, id: &str) -> Result<Option<(String, String)>, MetaError> {
        let r = sqlx::query("SELECT connection_id, name FROM axis_systems WHERE system_id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(
            r.map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
                .transpose()?,
        )
    }

    /// The ids of the systems that registered.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_system_ids(&self) -> Result<Vec<String>, MetaError> {
        let rows = sqlx::query("SELECT system_id FROM axis_systems ORDER BY system_id LIMIT 100")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?)
    }

    /// Whether an officer with this service number exists.
    ///
    /// # Errors
    /// Database errors.
    pub async fn officer_exists(&self, service_no: &str) -> Result<bool, MetaError> {
        Ok(sqlx::query("SELECT 1 FROM officers WHERE service_no = $1")
            .bind(service_no)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// Stores a user; `officer` maps it when given (an existing mapping is kept otherwise).
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_put_user(&self, u: &AxisUser, now: i64) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO axis_users (uuid, name, user_id, active, officer, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (uuid) DO UPDATE SET name = excluded.name, user_id = excluded.user_id, active = excluded.active,
               officer = COALESCE(excluded.officer, axis_users.officer), updated_at = excluded.updated_at",
        )
        .bind(&u.uuid)
        .bind(&u.name)
        .bind(&u.user_id)
        .bind(u.active)
        .bind(&u.officer)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Maps a user to an officer (or removes the mapping); false if no such user.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_map_user(
        &self,
        uuid: &str,
        officer: Option<&str>,
        now: i64,
    ) -> Result<bool, MetaError> {
        let r = sqlx::query("UPDATE axis_users SET officer = $1, updated_at = $2 WHERE uuid = $3")
            .bind(officer)
            .bind(now)
            .bind(uuid)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// One user.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_user(&self, uuid: &str) -> Result<Option<AxisUser>, MetaError> {
        Ok(sqlx::query_as(
            "SELECT uuid, name, user_id, active, officer FROM axis_users WHERE uuid = $1",
        )
        .bind(uuid)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Users by UUID, from after `after`, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_users(&self, after: &str, limit: i64) -> Result<Vec<AxisUser>, MetaError> {
        Ok(sqlx::query_as(
            "SELECT uuid, name, user_id, active, officer FROM axis_users WHERE uuid > $1 ORDER BY uuid LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores a camera (its firmware is kept; see [`Meta::axis_device_seen`]).
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_put_device(&self, d: &AxisDevice) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO axis_devices (serial, name, model, active, firmware, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (serial) DO UPDATE SET name = excluded.name, model = excluded.model, active = excluded.active, updated_at = excluded.updated_at",
        )
        .bind(&d.serial)
        .bind(&d.name)
        .bind(&d.model)
        .bind(d.active)
        .bind(&d.firmware)
        .bind(d.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A recording of the camera arrived: its firmware then, and the time.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_device_seen(
        &self,
        serial: &str,
        firmware: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query("UPDATE axis_devices SET firmware = $1, updated_at = $2 WHERE serial = $3")
            .bind(firmware)
            .bind(now)
            .bind(serial)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One camera.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_device(&self, serial: &str) -> Result<Option<AxisDevice>, MetaError> {
        Ok(sqlx::query_as("SELECT serial, name, model, active, firmware, updated_at FROM axis_devices WHERE serial = $1")
            .bind(serial)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// One recording container.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_recording(
        &self,
        container: &str,
    ) -> Result<Option<AxisRecording>, MetaError> {
        Ok(
            sqlx::query_as("SELECT * FROM axis_recordings WHERE container = $1")
                .bind(container)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Stores a recording container as it now is.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_put_recording(&self, r: &AxisRecording) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO axis_recordings (container, serial, user_uuid, meta, status, started, created_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (container) DO UPDATE SET meta = excluded.meta, status = excluded.status, started = excluded.started, completed_at = excluded.completed_at",
        )
        .bind(&r.container)
        .bind(&r.serial)
        .bind(&r.user_uuid)
        .bind(&r.meta)
        .bind(&r.status)
        .bind(r.started)
        .bind(r.created_at)
        .bind(r.completed_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One object of a container.
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_object(
        &self,
        container: &str,
        name: &str,
    ) -> Result<Option<AxisObject>, MetaError> {
        Ok(
            sqlx::query_as("SELECT * FROM axis_objects WHERE container = $1 AND name = $2")
                .bind(container)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Stores an object (its metadata replaced if it exists).
    ///
    /// # Errors
    /// Database errors.
    pub async fn axis_put_object(&self, o: &AxisObject) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO axis_objects (container, name, kind, sha256, size, seq, signed_video, meta, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (container, name) DO UPDATE SET meta = excluded.meta",
        )
        .bind(&o.container)
        .bind(&o.name)
        .bind(&o.kind)
        .bind(&o.sha256)
        .bind(o.size)
        .bind(o.seq)
        .bind(o.signed_video)
        .bind(&o.meta)
        .bind(o.received_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores a trail's points (a point already stored from the same trail is kept).
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_gnss(
        &self,
        device: &str,
        source: &str,
        points: &[GnssPoint],
    ) -> Result<(), MetaError> {
        let mut tx = self.write_tx().await?;
        for p in points {
            sqlx::query(
                "INSERT INTO gnss_points (device_id, at_ms, lon_e7, lat_e7, source) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (device_id, at_ms, source) DO NOTHING",
            )
            .bind(device)
            .bind(p.at_ms)
            .bind(p.lon_e7)
            .bind(p.lat_e7)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A camera's GNSS points in `[from, to)`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn gnss(
        &self,
        device: &str,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<GnssPoint>, MetaError> {
        let rows = sqlx::query(
            "SELECT at_ms, lon_e7, lat_e7 FROM gnss_points WHERE device_id = $1 AND at_ms >= $2 AND at_ms < $3 ORDER BY at_ms LIMIT $4",
        )
        .bind(device)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(GnssPoint {
                    at_ms: r.try_get(0)?,
                    lon_e7: r.try_get(1)?,
                    lat_e7: r.try_get(2)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}
