//! Cameras handed to officers and taken back.

use sqlx::FromRow as _;
use sqlx::Row as _;

use super::{Meta, MetaError, inspections};

/// An assignment of a camera to an officer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Assignment {
    /// Assignment id.
    pub id: String,
    /// Camera.
    pub device_id: String,
    /// Officer's service number.
    pub officer: String,
    /// Crossing point code.
    pub crossing_point: String,
    /// Shift start (hand-out), Unix ms.
    pub start_ms: i64,
    /// Hand-back, Unix ms.
    pub end_ms: Option<i64>,
}

impl Meta {
    /// Hands a camera to an officer.
    ///
    /// # Errors
    /// [`MetaError::UnknownDevice`]; [`MetaError::Assignment`] if it is already handed out.
    pub async fn assign(&self, a: &Assignment, by: &str) -> Result<(), MetaError> {
        if self.device(&a.device_id).await?.is_none() {
            return Err(MetaError::UnknownDevice(a.device_id.clone()));
        }
        let mut tx = self.write_tx().await?;
        let open = sqlx::query(
            "SELECT officer, end_ms FROM assignments WHERE device_id = $1 AND (end_ms IS NULL OR end_ms > $2)",
        )
        .bind(&a.device_id)
        .bind(a.start_ms)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = open {
            let officer: String = r.try_get("officer")?;
            let end: Option<i64> = r.try_get("end_ms")?;
            return Err(MetaError::Assignment(match end {
                None => format!(
                    "camera {} is still assigned to officer {officer}",
                    a.device_id
                ),
                Some(_) => format!(
                    "camera {} was assigned to officer {officer} at that time",
                    a.device_id
                ),
            }));
        }
        sqlx::query("INSERT INTO assignments (id, device_id, officer, crossing_point, start_ms, assigned_by) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&a.id)
            .bind(&a.device_id)
            .bind(&a.officer)
            .bind(&a.crossing_point)
            .bind(a.start_ms)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        inspections::invalidate_assignment(&mut tx, a).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a camera back; returns the closed assignment.
    ///
    /// # Errors
    /// [`MetaError::Assignment`] if it is not handed out.
    pub async fn return_device(
        &self,
        device_id: &str,
        end_ms: i64,
        by: &str,
    ) -> Result<Assignment, MetaError> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT * FROM assignments WHERE device_id = $1 AND end_ms IS NULL")
            .bind(device_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                MetaError::Assignment(format!("camera {device_id} is not assigned to anyone"))
            })?;
        let mut a = Assignment::from_row(&row)?;
        if end_ms < a.start_ms {
            return Err(MetaError::Assignment(format!(
                "camera {device_id} cannot be returned before it was handed out"
            )));
        }
        sqlx::query("UPDATE assignments SET end_ms = $1, returned_by = $2 WHERE id = $3")
            .bind(end_ms)
            .bind(by)
            .bind(&a.id)
            .execute(&mut *tx)
            .await?;
        inspections::invalidate_assignment(&mut tx, &a).await?;
        tx.commit().await?;
        a.end_ms = Some(end_ms);
        Ok(a)
    }

    /// Moves the end of a returned assignment later (a body-worn system delivered the
    /// same wearer's next recording with the camera); returns it as it now is.
    ///
    /// # Errors
    /// [`MetaError::Assignment`] if it is open, would end earlier, or would overlap the
    /// camera's next assignment.
    pub async fn extend_assignment(
        &self,
        id: &str,
        end_ms: i64,
        by: &str,
    ) -> Result<Assignment, MetaError> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT * FROM assignments WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| MetaError::Assignment(format!("no assignment {id}")))?;
        let mut a = Assignment::from_row(&row)?;
        if a.end_ms.is_none_or(|e| e > end_ms) {
            return Err(MetaError::Assignment(format!(
                "assignment {id} is open or ends after the new end"
            )));
        }
        let later = sqlx::query(
            "SELECT 1 FROM assignments WHERE device_id = $1 AND start_ms > $2 AND start_ms < $3",
        )
        .bind(&a.device_id)
        .bind(a.start_ms)
        .bind(end_ms)
        .fetch_optional(&mut *tx)
        .await?;
        if later.is_some() {
            return Err(MetaError::Assignment(format!(
                "camera {} was assigned again before that",
                a.device_id
            )));
        }
        sqlx::query("UPDATE assignments SET end_ms = $1, returned_by = $2 WHERE id = $3")
            .bind(end_ms)
            .bind(by)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        a.end_ms = Some(end_ms);
        inspections::invalidate_assignment(&mut tx, &a).await?;
        tx.commit().await?;
        Ok(a)
    }

    /// A device's assignments, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn assignments(&self, device_id: &str) -> Result<Vec<Assignment>, MetaError> {
        let rows = sqlx::query("SELECT * FROM assignments WHERE device_id = $1 ORDER BY start_ms")
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(Assignment::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The latest `limit` assignments of a device, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn latest_assignments(
        &self,
        device_id: &str,
        limit: u32,
    ) -> Result<Vec<Assignment>, MetaError> {
        let rows = sqlx::query(
            "SELECT * FROM assignments WHERE device_id = $1 ORDER BY start_ms DESC LIMIT $2",
        )
        .bind(device_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .rev()
            .map(Assignment::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Who wears each of `devices` now (their open assignments).
    ///
    /// # Errors
    /// Database errors.
    pub async fn current_wearers(
        &self,
        devices: &[&str],
    ) -> Result<std::collections::HashMap<String, String>, MetaError> {
        if devices.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let marks: Vec<String> = (1..=devices.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT device_id, officer FROM assignments WHERE end_ms IS NULL AND device_id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for d in devices {
            q = q.bind(*d);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("device_id")?, r.try_get("officer")?)))
            .collect()
    }
}
