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
    /// Who filed it.
    pub filed_by: String,
    /// When, Unix ms.
    pub filed_at: i64,
    /// Who decided it.
    pub decided_by: Option<String>,
    /// When, Unix ms.
    pub decided_at: Option<i64>,
    /// The decider's comment (always given on a rejection).
    pub comment: Option<String>,
}

/// A reason waiting for a decision, with where and whom its inspection concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReason {
    /// The reason.
    pub reason: GapReason,
    /// The inspection's crossing point.
    pub crossing_point: String,
    /// Its officers.
    pub officers: Vec<String>,
}

impl Meta {
    /// Files a reason (status `pending`; who and when from `g`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn file_gap_reason(&self, g: &GapReason) -> Result<(), MetaError> {
        sqlx::query("INSERT INTO gap_reasons (id, inspection_id, from_ms, to_ms, reason, text, status, filed_by, filed_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)")
            .bind(&g.id)
            .bind(&g.inspection_id)
            .bind(g.from_ms)
            .bind(g.to_ms)
            .bind(&g.reason)
            .bind(&g.text)
            .bind(&g.filed_by)
            .bind(g.filed_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A reason.
    ///
    /// # Errors
    /// Database errors.
    pub async fn gap_reason(&self, id: &str) -> Result<Option<GapReason>, MetaError> {
        let r = sqlx::query("SELECT * FROM gap_reasons WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(GapReason::from_row).transpose()?)
    }

    /// Approves or rejects a pending reason, with the decider's comment; returns it.
    ///
    /// # Errors
    /// [`MetaError::Assignment`] (conflict) if it is not pending; database errors.
    pub async fn decide_gap_reason(
        &self,
        id: &str,
        status: &str,
        by: &str,
        now: i64,
        comment: Option<&str>,
    ) -> Result<GapReason, MetaError> {
        let r = sqlx::query("UPDATE gap_reasons SET status = $1, decided_by = $2, decided_at = $3, comment = $4 WHERE id = $5 AND status = 'pending'")
            .bind(status)
            .bind(by)
            .bind(now)
            .bind(comment)
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
            let mut b = super::sql::Sql::new("SELECT * FROM gap_reasons WHERE inspection_id IN ");
            b.push_list(chunk).push(" ORDER BY filed_at, id");
            for r in b.build()?.fetch_all(&self.pool).await? {
                let g = GapReason::from_row(&r)?;
                out.entry(g.inspection_id.clone()).or_default().push(g);
            }
        }
        Ok(out)
    }

    /// The reasons waiting for a decision at `crossing_points` (all when empty), oldest
    /// first, filed before `before` (a page's cursor), at most `limit`. Read through the
    /// status index: the queue, not the history.
    ///
    /// # Errors
    /// Database errors.
    pub async fn pending_gap_reasons(
        &self,
        crossing_points: &[String],
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<PendingReason>, MetaError> {
        let mut b = super::sql::Sql::new(
            "SELECT g.*, i.crossing_point AS cp, i.officers AS officers_list FROM gap_reasons g
             JOIN inspections i ON i.id = g.inspection_id AND i.latest = 1
             WHERE g.status = 'pending'",
        );
        if !crossing_points.is_empty() {
            b.push(" AND i.crossing_point IN ")
                .push_list(crossing_points);
        }
        if let Some(after) = after {
            b.push_page("g.filed_at", "g.id", after, true);
        }
        b.push(" ORDER BY g.filed_at, g.id LIMIT ")
            .push_bind(i64::from(limit));
        let rows = b.build()?.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let officers: String = r.try_get("officers_list")?;
                Ok(PendingReason {
                    reason: GapReason::from_row(r)?,
                    crossing_point: r.try_get("cp")?,
                    officers: officers
                        .split(';')
                        .filter(|o| !o.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
            })
            .collect()
    }

    /// The latest `limit` reasons `who` filed, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn gap_reasons_filed_by(
        &self,
        who: &str,
        limit: u32,
    ) -> Result<Vec<GapReason>, MetaError> {
        let rows = sqlx::query(
            "SELECT * FROM gap_reasons WHERE filed_by = $1 ORDER BY filed_at DESC, id DESC LIMIT $2",
        )
        .bind(who)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(GapReason::from_row)
            .collect::<Result<_, _>>()?)
    }
}
