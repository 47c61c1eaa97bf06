//! Reasons filed for gaps in the coverage of inspections, and their decisions.

use sqlx::{FromRow as _, Row as _};

use super::{Meta, MetaError};

/// A reason given for a gap.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GapReason {
    /// Id.
    pub id: String,
    /// The inspection.
    pub inspection_id: String,
    /// Start of the explained interval, Unix ms.
    pub from_ms: i64,
    /// End of it.
    pub to_ms: i64,
    /// `malfunction`, `exemption`, `restricted_area` or `other`.
    pub reason: String,
    /// Free text.
    pub text: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
}

impl Meta {
    /// Files a reason (status `pending`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn file_gap_reason(
        &self,
        g: &GapReason,
        by: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query("INSERT INTO gap_reasons (id, inspection_id, from_ms, to_ms, reason, text, status, filed_by, filed_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)")
            .bind(&g.id)
            .bind(&g.inspection_id)
            .bind(g.from_ms)
            .bind(g.to_ms)
            .bind(&g.reason)
            .bind(&g.text)
            .bind(by)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A reason and who filed it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn gap_reason(&self, id: &str) -> Result<Option<(GapReason, String)>, MetaError> {
        let Some(r) = sqlx::query("SELECT * FROM gap_reasons WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some((GapReason::from_row(&r)?, r.try_get("filed_by")?)))
    }

    /// Approves or rejects a pending reason; returns it.
    ///
    /// # Errors
    /// [`MetaError::Assignment`] (conflict) if it is not pending; database errors.
    pub async fn decide_gap_reason(
        &self,
        id: &str,
        status: &str,
        by: &str,
        now: i64,
    ) -> Result<GapReason, MetaError> {
        let r = sqlx::query("UPDATE gap_reasons SET status = $1, decided_by = $2, decided_at = $3 WHERE id = $4 AND status = 'pending'")
            .bind(status)
            .bind(by)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if r.rows_affected() != 1 {
            return Err(MetaError::Assignment(format!(
                "gap reason {id} does not exist or was already decided"
            )));
        }
        let row = sqlx::query("SELECT * FROM gap_reasons WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        Ok(GapReason::from_row(&row)?)
    }

    /// The reasons filed for an inspection, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn gap_reasons(&self, inspection_id: &str) -> Result<Vec<GapReason>, MetaError> {
        let rows =
            sqlx::query("SELECT * FROM gap_reasons WHERE inspection_id = $1 ORDER BY filed_at, id")
                .bind(inspection_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(GapReason::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The reasons filed for each of `ids`, in filing order (one query per 500 ids, not
    /// one per inspection: a report's fortnight holds thousands).
    ///
    /// # Errors
    /// Database errors.
    pub async fn gap_reasons_of(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Vec<GapReason>>, MetaError> {
        let mut out: std::collections::HashMap<String, Vec<GapReason>> =
            std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let mut b = super::sql::Sql::new("SELECT * FROM gap_reasons WHERE inspection_id IN (");
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    b.push(", ");
                }
                b.push_bind((*id).to_owned());
            }
            b.push(") ORDER BY filed_at, id");
            for r in b.build()?.fetch_all(&self.pool).await? {
                let g = GapReason::from_row(&r)?;
                out.entry(g.inspection_id.clone()).or_default().push(g);
            }
        }
        Ok(out)
    }
}
