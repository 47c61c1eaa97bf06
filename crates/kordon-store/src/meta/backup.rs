//! Backups of the metadata: a consistent copy while the server runs, and what a restore
//! checks it against (every logged row must be the log's entry at its index).

use std::path::Path;

use sqlx::Row as _;

use super::{Meta, MetaError};

impl Meta {
    /// Opens a database copy for reading only (a backup): no migrations, no journal, no
    /// change to the file.
    ///
    /// # Errors
    /// Database errors.
    pub async fn open_sqlite_read_only(path: &Path) -> Result<Self, MetaError> {
        Ok(Meta {
            pool: super::sqlite_pool(path, true).await?,
            engine: super::Engine::Sqlite,
        })
    }

    /// Writes a consistent copy of the whole database to `out` (SQLite `VACUUM INTO`), safe
    /// while the server runs. `out` must not exist.
    ///
    /// # Errors
    /// Database errors, including when `out` exists.
    pub async fn snapshot_to(&self, out: &Path) -> Result<(), MetaError> {
        let path = out
            .to_str()
            .ok_or_else(|| MetaError::Invalid(format!("{} is not UTF-8", out.display())))?;
        sqlx::query("VACUUM INTO ?")
            .bind(path)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every row the log holds, as `(log index, the bytes logged)`: device links and
    /// custody events, in index order.
    ///
    /// # Errors
    /// Database errors.
    pub async fn logged_entries(&self) -> Result<Vec<(u64, Vec<u8>)>, MetaError> {
        let rows = sqlx::query(
            "SELECT log_index, body FROM links WHERE log_index IS NOT NULL \
             UNION ALL SELECT log_index, body FROM custody WHERE log_index IS NOT NULL \
             ORDER BY log_index",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let i: i64 = r.try_get("log_index")?;
                Ok((
                    u64::try_from(i).map_err(|_| MetaError::Invalid(format!("log index {i}")))?,
                    r.try_get("body")?,
                ))
            })
            .collect()
    }
}
