//! Backups of the metadata: a consistent copy while the server runs, and what a restore
//! checks it against (every logged row must be the log's entry at its index).

use std::path::Path;

use sqlx::Row as _;

use super::{Engine, Meta, MetaError};

/// Every table of kordon's metadata (PostgreSQL's `link_keys` is derived from `links`).
const TABLES: [&str; 39] = [
    "devices",
    "enroll_tokens",
    "links",
    "equivocations",
    "assignments",
    "custody",
    "inspections",
    "crossing_points",
    "officers",
    "gap_reasons",
    "reviews",
    "inspection_officers",
    "bookmarks",
    "coverage",
    "cases",
    "case_items",
    "quarantine",
    "users",
    "sessions",
    "api_tokens",
    "edges",
    "edge_entries",
    "chain_state",
    "chain_problems",
    "forward_state",
    "forward_holes",
    "edge_holes",
    "timestamps",
    "axis_systems",
    "axis_users",
    "axis_devices",
    "axis_recordings",
    "axis_objects",
    "gnss_points",
    "device_health",
    "redactions",
    "shares",
    "preservation_requests",
    // Last: copying the tables above fills the target's change feed through its triggers;
    // those rows are dropped and the source's feed copied as it is.
    "outbox",
];

/// How a column's values are carried between engines.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Int,
    Text,
    Bytes,
}

/// `INSERT INTO table (names…) VALUES ($1, …)`.
pub(super) fn insert_sql(table: &str, names: &[&str]) -> String {
    format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        (1..=names.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

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

    /// Writes a consistent copy of the whole database to `out`, a new SQLite file, safe
    /// while the server runs: SQLite's `VACUUM INTO`, or for PostgreSQL every table copied
    /// row by row from one repeatable-read snapshot. `out` must not exist.
    ///
    /// # Errors
    /// Database errors, including when `out` exists.
    pub async fn snapshot_to(&self, out: &Path) -> Result<(), MetaError> {
        let path = out
            .to_str()
            .ok_or_else(|| MetaError::Invalid(format!("{} is not UTF-8", out.display())))?;
        match self.engine {
            Engine::Sqlite => {
                sqlx::query("VACUUM INTO $1")
                    .bind(path)
                    .execute(&self.pool)
                    .await?;
            }
            Engine::Postgres => {
                if out.exists() {
                    return Err(MetaError::Invalid(format!("{} exists", out.display())));
                }
                let copy = Meta::open_sqlite(out).await?;
                self.copy_into(&copy).await?;
                copy.pool.close().await;
            }
        }
        Ok(())
    }

    /// Copies every row of every kordon table into `to`, which must hold none (a fresh
    /// database of either engine, migrated to the same version), reading from one
    /// consistent snapshot and writing in one transaction: a restore of a backup into
    /// PostgreSQL, or a crossing point moving from SQLite to PostgreSQL.
    ///
    /// # Errors
    /// [`MetaError::Invalid`] if `to` holds data; database errors (then `to` is unchanged).
    pub async fn copy_into(&self, to: &Meta) -> Result<(), MetaError> {
        for t in ["devices", "links", "custody"] {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
                    .fetch_one(&to.pool)
                    .await?;
            if n > 0 {
                return Err(MetaError::Invalid(format!(
                    "the target database already holds {t}: a copy never merges into one"
                )));
            }
        }
        let mut src = self.pool.begin().await?;
        if self.engine == Engine::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *src)
                .await?;
        }
        let mut dst = to.write_tx().await?;
        let (mut from_ms, mut to_ms) = (i64::MAX, i64::MIN);
        for table in TABLES {
            if table == "outbox" {
                sqlx::query("DELETE FROM outbox").execute(&mut *dst).await?;
            }
            let columns = to.columns(table).await?;
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            let insert = insert_sql(table, &names);
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM {table}",
                names.join(", ")
            )))
            .fetch(&mut *src);
            while let Some(row) = futures_util::TryStreamExt::try_next(&mut rows).await? {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
                for (i, (name, kind)) in columns.iter().enumerate() {
                    q = match kind {
                        Kind::Int => {
                            let v: Option<i64> = row.try_get(i)?;
                            if table == "links"
                                && name == "start_ms"
                                && let Some(v) = v
                            {
                                (from_ms, to_ms) = (from_ms.min(v), to_ms.max(v));
                            }
                            q.bind(v)
                        }
                        Kind::Text => q.bind(row.try_get::<Option<String>, _>(i)?),
                        Kind::Bytes => q.bind(row.try_get::<Option<Vec<u8>>, _>(i)?),
                    };
                }
                q.execute(&mut *dst).await?;
            }
        }
        if to.engine == Engine::Postgres {
            sqlx::query("SELECT setval(pg_get_serial_sequence('outbox', 'seq'), GREATEST((SELECT MAX(seq) FROM outbox), 1))")
                .execute(&mut *dst)
                .await?;
            sqlx::query("INSERT INTO link_keys (device_id, seq, hash) SELECT device_id, seq, hash FROM links")
                .execute(&mut *dst)
                .await?;
        }
        dst.commit().await?;
        if from_ms <= to_ms {
            to.ensure_partitions_between(from_ms, to_ms).await?;
        }
        Ok(())
    }

    /// The columns of `table` in this database and how their values are carried.
    pub(super) async fn columns(&self, table: &str) -> Result<Vec<(String, Kind)>, MetaError> {
        let rows = sqlx::query(match self.engine {
            Engine::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            Engine::Postgres => {
                "SELECT CAST(column_name AS TEXT) AS name, CAST(data_type AS TEXT) AS type FROM information_schema.columns
                  WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
            }
        })
        .bind(table)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let name: String = r.try_get("name")?;
                let ty = r.try_get::<String, _>("type")?.to_ascii_lowercase();
                let kind = if ty.contains("int") {
                    Kind::Int
                } else if ty.contains("blob") || ty.contains("bytea") {
                    Kind::Bytes
                } else {
                    Kind::Text
                };
                Ok((name, kind))
            })
            .collect()
    }

    /// The private parts of the logged version 2 custody events, as `(log index, private
    /// part)`, in index order.
    ///
    /// # Errors
    /// Database errors.
    pub async fn logged_private_parts(&self) -> Result<Vec<(u64, String)>, MetaError> {
        let rows = sqlx::query(
            "SELECT log_index, private FROM custody WHERE log_index IS NOT NULL AND private IS NOT NULL ORDER BY log_index",
        )
        .fetch_all(&self.pool)
        .await?;
        by_log_index(&rows, "private")
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
        by_log_index(&rows, "body")
    }
}

/// Rows as `(log index, column)`.
fn by_log_index<T>(rows: &[sqlx::any::AnyRow], column: &str) -> Result<Vec<(u64, T)>, MetaError>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    rows.iter()
        .map(|r| {
            let i: i64 = r.try_get("log_index")?;
            Ok((
                u64::try_from(i).map_err(|_| MetaError::Invalid(format!("log index {i}")))?,
                r.try_get(column)?,
            ))
        })
        .collect()
}
