//! What each camera last said of itself: battery, storage, upload backlog, dock,
//! firmware, sound (`device_health`); and the cameras on shift that have gone quiet.

use std::collections::HashMap;

use sqlx::Row as _;

use super::{Meta, MetaError};

/// A camera's latest report.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Health {
    /// The camera.
    pub device_id: String,
    /// Battery, percent.
    pub battery: Option<i64>,
    /// Free storage on the camera, MiB.
    pub free_mib: Option<i64>,
    /// Links waiting on the camera.
    pub backlog_links: Option<i64>,
    /// Their bytes.
    pub backlog_bytes: Option<i64>,
    /// 1 docked, 0 not, when known.
    pub docked: Option<i64>,
    /// Firmware or agent version.
    pub firmware: String,
    /// The latest segment's `audio` word (`present`, `silent`, `none`; empty if unknown).
    pub audio: String,
    /// When, Unix ms.
    pub reported_at: i64,
}

/// A camera on shift from which nothing arrived for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilentCamera {
    /// The camera.
    pub device_id: String,
    /// Who has it.
    pub officer: String,
    /// Where.
    pub crossing_point: String,
    /// When the shift (assignment) began, Unix ms.
    pub shift_start_ms: i64,
    /// When its latest link arrived, if ever.
    pub last_received_ms: Option<i64>,
}

impl Meta {
    /// Stores a report; what it does not say (`None`, an empty audio word or firmware)
    /// keeps the value reported before.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_health(&self, h: &Health) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO device_health (device_id, battery, free_mib, backlog_links, backlog_bytes, docked, firmware, audio, reported_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (device_id) DO UPDATE SET
               battery = COALESCE(excluded.battery, device_health.battery),
               free_mib = COALESCE(excluded.free_mib, device_health.free_mib),
               backlog_links = COALESCE(excluded.backlog_links, device_health.backlog_links),
               backlog_bytes = COALESCE(excluded.backlog_bytes, device_health.backlog_bytes),
               docked = COALESCE(excluded.docked, device_health.docked),
               firmware = CASE WHEN excluded.firmware = '' THEN device_health.firmware ELSE excluded.firmware END,
               audio = CASE WHEN excluded.audio = '' THEN device_health.audio ELSE excluded.audio END,
               reported_at = excluded.reported_at",
        )
        .bind(&h.device_id)
        .bind(h.battery)
        .bind(h.free_mib)
        .bind(h.backlog_links)
        .bind(h.backlog_bytes)
        .bind(h.docked)
        .bind(&h.firmware)
        .bind(&h.audio)
        .bind(h.reported_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The latest reports of `devices`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn health_of(&self, devices: &[&str]) -> Result<HashMap<String, Health>, MetaError> {
        if devices.is_empty() {
            return Ok(HashMap::new());
        }
        let marks: Vec<String> = (1..=devices.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT * FROM device_health WHERE device_id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, Health>(sqlx::AssertSqlSafe(sql));
        for d in devices {
            q = q.bind(*d);
        }
        Ok(q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|h| (h.device_id.clone(), h))
            .collect())
    }

    /// Cameras on shift (an open assignment that began before `since`) from which
    /// nothing arrived since `since` nor since their shift began: `(camera, officer,
    /// crossing point, shift start, last link received)`, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn silent_on_shift(
        &self,
        since: i64,
        limit: i64,
    ) -> Result<Vec<SilentCamera>, MetaError> {
        let rows = sqlx::query(
            "SELECT a.device_id, a.officer, a.crossing_point, a.start_ms, s.last_received_ms FROM assignments a
             LEFT JOIN chain_state s ON s.device_id = a.device_id
             WHERE a.end_ms IS NULL AND a.start_ms < $1
               AND (s.last_received_ms IS NULL OR s.last_received_ms < $1 OR s.last_received_ms < a.start_ms)
             ORDER BY a.device_id LIMIT $2",
        )
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SilentCamera {
                    device_id: r.try_get(0)?,
                    officer: r.try_get(1)?,
                    crossing_point: r.try_get(2)?,
                    shift_start_ms: r.try_get(3)?,
                    last_received_ms: r.try_get(4)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(Into::into)
    }
}
