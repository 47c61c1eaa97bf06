//! Quality reviews of inspections: a supervisor's checklist outcome and note.

use std::collections::HashMap;

use sqlx::FromRow as _;

use super::{Meta, MetaError};

/// One review of an inspection.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Review {
    /// Id.
    pub id: String,
    /// The inspection watched.
    pub inspection_id: String,
    /// Who reviewed it.
    pub reviewer: String,
    /// When, Unix ms.
    pub reviewed_at: i64,
    /// `meets`, `concerns` or `breach`.
    pub outcome: String,
    /// The checklist's items found to hold, `;`-separated.
    pub checklist: String,
    /// What the reviewer noted.
    pub note: String,
}

impl Meta {
    /// Stores a review.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_review(&self, r: &Review) -> Result<(), MetaError> {
        sqlx::query("INSERT INTO reviews (id, inspection_id, reviewer, reviewed_at, outcome, checklist, note) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&r.id)
            .bind(&r.inspection_id)
            .bind(&r.reviewer)
            .bind(r.reviewed_at)
            .bind(&r.outcome)
            .bind(&r.checklist)
            .bind(&r.note)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The reviews of each of `ids`, oldest first (one query per 500 ids).
    ///
    /// # Errors
    /// Database errors.
    pub async fn reviews_of(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, Vec<Review>>, MetaError> {
        let mut out: HashMap<String, Vec<Review>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut b = super::sql::Sql::new("SELECT * FROM reviews WHERE inspection_id IN ");
            b.push_list(chunk).push(" ORDER BY reviewed_at, id");
            for r in b.build()?.fetch_all(&self.pool).await? {
                let r = Review::from_row(&r)?;
                out.entry(r.inspection_id.clone()).or_default().push(r);
            }
        }
        Ok(out)
    }
}
