//! RFC 3161 time-stamp tokens over checkpoints (`docs/spec/timestamps.md`).

use sqlx::Row as _;

use super::{Meta, MetaError};

/// A token a TSA gave over a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampRow {
    /// The authority's configured name.
    pub tsa: String,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The signed checkpoint note.
    pub checkpoint: Vec<u8>,
    /// The DER `TimeStampResp`.
    pub token: Vec<u8>,
    /// The time the TSA states, Unix ms.
    pub stamped_at: i64,
    /// When the server received it, Unix ms.
    pub received_at: i64,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<TimestampRow, sqlx::Error> {
    Ok(TimestampRow {
        tsa: r.try_get("tsa")?,
        size: r.try_get::<i64, _>("size")? as u64,
        checkpoint: r.try_get("checkpoint")?,
        token: r.try_get("token")?,
        stamped_at: r.try_get("stamped_at")?,
        received_at: r.try_get("received_at")?,
    })
}

impl Meta {
    /// Stores a token (a second one for the same authority and size is ignored).
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_timestamp(&self, t: &TimestampRow) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO timestamps (tsa, size, checkpoint, token, stamped_at, received_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tsa, size) DO NOTHING",
        )
        .bind(&t.tsa)
        .bind(t.size as i64)
        .bind(&t.checkpoint)
        .bind(&t.token)
        .bind(t.stamped_at)
        .bind(t.received_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The largest checkpoint size authority `tsa` has stamped.
    ///
    /// # Errors
    /// Database errors.
    pub async fn last_timestamp_size(&self, tsa: &str) -> Result<Option<u64>, MetaError> {
        let n: Option<i64> = sqlx::query_scalar("SELECT MAX(size) FROM timestamps WHERE tsa = $1")
            .bind(tsa)
            .fetch_one(&self.pool)
            .await?;
        Ok(n.map(|n| n as u64))
    }

    /// A page of tokens by checkpoint size (then authority), sizes above `after`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn timestamps(
        &self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<TimestampRow>, MetaError> {
        let rows =
            sqlx::query("SELECT * FROM timestamps WHERE size > $1 ORDER BY size, tsa LIMIT $2")
                .bind(after.map_or(-1, |a| a as i64))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
    }

    /// Authority `tsa`'s first token over a checkpoint of at least `size` entries and at
    /// most `max`: the earliest trusted time for the entries below `size`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn first_timestamp_covering(
        &self,
        tsa: &str,
        size: u64,
        max: u64,
    ) -> Result<Option<TimestampRow>, MetaError> {
        let row = sqlx::query(
            "SELECT * FROM timestamps WHERE tsa = $1 AND size >= $2 AND size <= $3
             ORDER BY size LIMIT 1",
        )
        .bind(tsa)
        .bind(size as i64)
        .bind(max as i64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }
}
