//! At the central server: the logs of the crossing-point servers that forward to it,
//! entry by entry, and how far each has come.

use sqlx::Row as _;

use super::{Meta, MetaError};

/// How far a crossing point's log has reached the centre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeState {
    /// The edge log's origin.
    pub origin: String,
    /// Entries held.
    pub size: u64,
    /// The right edge of its tree at `size` (`kordon_core::merkle::Frontier` text).
    pub frontier: String,
    /// Its signed checkpoint at `size`.
    pub checkpoint: Vec<u8>,
    /// When it last grew, Unix ms.
    pub updated_at: i64,
    /// How far its records (the change feed) have come.
    pub records: u64,
}

fn edge_from_row(r: &sqlx::any::AnyRow) -> Result<EdgeState, sqlx::Error> {
    Ok(EdgeState {
        origin: r.try_get("origin")?,
        size: r.try_get::<i64, _>("size")? as u64,
        frontier: r.try_get("frontier")?,
        checkpoint: r.try_get("checkpoint")?,
        updated_at: r.try_get("updated_at")?,
        records: r.try_get::<i64, _>("records")? as u64,
    })
}

impl Meta {
    /// Every edge, by origin.
    ///
    /// # Errors
    /// Database errors.
    pub async fn edges(&self) -> Result<Vec<EdgeState>, MetaError> {
        let rows = sqlx::query("SELECT * FROM edges ORDER BY origin")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(edge_from_row).collect::<Result<_, _>>()?)
    }

    /// One edge.
    ///
    /// # Errors
    /// Database errors.
    pub async fn edge(&self, origin: &str) -> Result<Option<EdgeState>, MetaError> {
        let r = sqlx::query("SELECT * FROM edges WHERE origin = $1")
            .bind(origin)
            .fetch_optional(&self.pool)
            .await?;
        Ok(r.as_ref().map(edge_from_row).transpose()?)
    }

    /// Entries `[from, to)` of an edge's log, as held.
    ///
    /// # Errors
    /// Database errors.
    pub async fn edge_entries(
        &self,
        origin: &str,
        from: u64,
        to: u64,
    ) -> Result<Vec<Vec<u8>>, MetaError> {
        let rows = sqlx::query(
            "SELECT body FROM edge_entries WHERE origin = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
        )
        .bind(origin)
        .bind(from as i64)
        .bind(to as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("body"))
            .collect::<Result<_, _>>()?)
    }

    /// Appends `entries` (indexes `old_size..`) to an edge's log and moves it to `state`,
    /// in one transaction, only if it still holds `old_size` entries (another forward did
    /// not get there first). Returns whether it did.
    ///
    /// # Errors
    /// Database errors.
    pub async fn extend_edge(
        &self,
        old_size: u64,
        entries: &[Vec<u8>],
        state: &EdgeState,
    ) -> Result<bool, MetaError> {
        let mut tx = self.write_tx().await?;
        // A new edge is inserted; a known one moves only from the size it had.
        let moved = sqlx::query(
            "INSERT INTO edges (origin, size, frontier, checkpoint, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (origin) DO UPDATE SET size = excluded.size, frontier = excluded.frontier,
               checkpoint = excluded.checkpoint, updated_at = excluded.updated_at
             WHERE edges.size = $6",
        )
        .bind(&state.origin)
        .bind(state.size as i64)
        .bind(&state.frontier)
        .bind(&state.checkpoint)
        .bind(state.updated_at)
        .bind(old_size as i64)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Ok(false);
        }
        for (i, e) in entries.iter().enumerate() {
            sqlx::query("INSERT INTO edge_entries (origin, idx, body) VALUES ($1, $2, $3)")
                .bind(&state.origin)
                .bind((old_size + i as u64) as i64)
                .bind(e)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
