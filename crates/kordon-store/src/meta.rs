//! The metadata database. SQLite is the embedded default; PostgreSQL is chosen by a
//! `postgres://` URL. Both are reached through sqlx's `Any` driver with one set of queries:
//! the SQL is kept portable (`$n` placeholders, which SQLite accepts too; no
//! engine-specific functions except where [`Engine`] picks a spelling), and each engine has
//! its own migrations (`migrations/sqlite`, `migrations/postgres`).
//!
//! Durability: SQLite runs in WAL mode with `synchronous = FULL`, so a committed
//! transaction survives power loss; PostgreSQL commits are durable by its defaults
//! (`fsync`, `synchronous_commit = on`).

use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::Executor as _;
use sqlx::Row as _;
use sqlx::any::{AnyPoolOptions, AnyRow};

mod backup;
mod cases;
mod edges;
mod inspections;
mod partitions;
mod sql;
pub mod testing;
mod users;

pub use cases::{Case, CaseItem, CustodyRow, LinkRow};
pub use edges::EdgeState;
pub use inspections::{
    Bookmark, InspectionOutcome, InspectionQuery, InspectionRow, LatestInspection,
};
pub use users::{SessionRow, User};

/// Why a metadata operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// The database failed.
    #[error("metadata database: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("metadata migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The enrollment token is unknown, used, expired, or for another device.
    #[error("enrollment token is not valid for this device")]
    TokenInvalid,
    /// The device is already enrolled.
    #[error("device {0} is already enrolled")]
    DeviceExists(String),
    /// The device is not enrolled.
    #[error("device {0} is not enrolled")]
    UnknownDevice(String),
    /// The device already has an open assignment (or none, when returning).
    #[error("{0}")]
    Assignment(String),
    /// A value the database cannot hold or gave back malformed.
    #[error("{0}")]
    Invalid(String),
}

impl MetaError {
    /// Whether the database could not be reached (down, restarting, connections
    /// exhausted) rather than refusing the request: the same request may succeed later.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            MetaError::Db(
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // SQLSTATE class 08 (connection exception) and 57P01–57P03 (the server is
            // shutting down or starting).
            MetaError::Db(sqlx::Error::Database(d)) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
            _ => false,
        }
    }
}

/// An enrolled device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Device id (serial).
    pub id: String,
    /// Its verifier key string.
    pub vkey: String,
    /// When it was enrolled.
    pub enrolled_at: i64,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLink {
    /// Link hash (hex).
    pub hash: String,
    /// The exact signed note.
    pub body: Vec<u8>,
    /// Position in the log, once integrated.
    pub log_index: Option<i64>,
}

/// A link to insert.
#[derive(Debug, Clone)]
pub struct NewLink<'a> {
    /// Device id.
    pub device_id: &'a str,
    /// Sequence number.
    pub seq: u64,
    /// Link hash, hex.
    pub hash: String,
    /// `segment` or the event kind.
    pub kind: &'a str,
    /// Start (segment) or time (event), Unix ms.
    pub start_ms: i64,
    /// End (segment) or time (event), Unix ms.
    pub end_ms: i64,
    /// Segment blob hash, hex.
    pub blob_sha256: Option<String>,
    /// Segment size.
    pub size: Option<u64>,
    /// Night mode.
    pub night: Option<bool>,
    /// `device` or `dock`.
    pub attested: Option<&'a str>,
    /// The exact signed note.
    pub body: &'a [u8],
}

/// What inserting a link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// New link stored.
    Inserted,
    /// The identical link was already stored (a retry).
    Duplicate(StoredLink),
    /// A different link holds this sequence number: equivocation.
    Conflict(StoredLink),
}

/// An assignment of a camera to an officer.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A log entry the database knows of but the log has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlogged {
    /// Entry hash, hex.
    pub hash: String,
    /// The entry bytes.
    pub body: Vec<u8>,
}

/// A database URL (`postgres://user:password@host:port/db`): its password is never shown
/// by `Debug` or `Display`, so configurations can be logged.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    /// The URL with its password replaced by `***`.
    #[must_use]
    pub fn redacted(&self) -> String {
        match self.0.split_once("://") {
            Some((scheme, rest)) => match rest.rsplit_once('@') {
                Some((user, host)) => {
                    let name = user.split_once(':').map_or(user, |(n, _)| n);
                    format!("{scheme}://{name}:***@{host}")
                }
                None => self.0.clone(),
            },
            None => self.0.clone(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Which database engine holds the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite, one file in the data folder (the embedded default).
    Sqlite,
    /// PostgreSQL, reached by URL.
    Postgres,
}

/// The metadata store.
#[derive(Debug, Clone)]
pub struct Meta {
    pool: AnyPool,
    engine: Engine,
}

/// A pool on the SQLite file at `path`: WAL, `synchronous = FULL`, foreign keys, a busy
/// timeout; `read_only` opens an immutable copy (a backup) without changing it.
async fn sqlite_pool(path: &Path, read_only: bool) -> Result<AnyPool, MetaError> {
    sqlx::any::install_default_drivers();
    let file = path
        .to_str()
        .ok_or_else(|| MetaError::Invalid(format!("{} is not UTF-8", path.display())))?
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    let (params, pragmas, connections) = if read_only {
        ("mode=ro&immutable=true", "", 1)
    } else {
        (
            "mode=rwc",
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; ",
            8,
        )
    };
    let pragmas = format!("{pragmas}PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;");
    Ok(AnyPoolOptions::new()
        .max_connections(connections)
        .after_connect(move |conn, _| {
            let pragmas = pragmas.clone();
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                Ok(())
            })
        })
        .connect(&format!("sqlite://{file}?{params}"))
        .await?)
}

fn link_from_row(r: &AnyRow) -> Result<StoredLink, sqlx::Error> {
    Ok(StoredLink {
        hash: r.try_get("hash")?,
        body: r.try_get("body")?,
        log_index: r.try_get("log_index")?,
    })
}

fn assignment_from_row(r: &AnyRow) -> Result<Assignment, sqlx::Error> {
    Ok(Assignment {
        id: r.try_get("id")?,
        device_id: r.try_get("device_id")?,
        officer: r.try_get("officer")?,
        crossing_point: r.try_get("crossing_point")?,
        start_ms: r.try_get("start_ms")?,
        end_ms: r.try_get("end_ms")?,
    })
}

impl Meta {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    ///
    /// # Errors
    /// [`MetaError`].
    pub async fn open_sqlite(path: &Path) -> Result<Self, MetaError> {
        let pool = sqlite_pool(path, false).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Meta {
            pool,
            engine: Engine::Sqlite,
        })
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://user:password@host/db`),
    /// migrates it and makes sure the time partitions around now exist.
    ///
    /// # Errors
    /// [`MetaError`].
    pub async fn open_postgres(url: &str) -> Result<Self, MetaError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let meta = Meta {
            pool,
            engine: Engine::Postgres,
        };
        meta.ensure_partitions(crate::now_ms()).await?;
        Ok(meta)
    }

    /// The case-insensitive pattern match: SQLite's `LIKE` ignores ASCII case, PostgreSQL's
    /// `ILIKE` any case.
    fn like(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite => "LIKE",
            Engine::Postgres => "ILIKE",
        }
    }

    /// The engine behind this store.
    #[must_use]
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Stores a one-time enrollment token (its hash) for a device id.
    ///
    /// # Errors
    /// [`MetaError::DeviceExists`] if the device is enrolled; database errors.
    pub async fn create_enroll_token(
        &self,
        device_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), MetaError> {
        if self.device(device_id).await?.is_some() {
            return Err(MetaError::DeviceExists(device_id.to_owned()));
        }
        sqlx::query("INSERT INTO enroll_tokens (token_hash, device_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(device_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Uses a token to enroll a device with its verifier key, in one transaction.
    ///
    /// # Errors
    /// [`MetaError::TokenInvalid`], [`MetaError::DeviceExists`].
    pub async fn enroll(
        &self,
        device_id: &str,
        token_hash: &str,
        vkey: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        let mut tx = self.pool.begin().await?;
        let used = sqlx::query(
            "UPDATE enroll_tokens SET used_at = $1 WHERE token_hash = $2 AND device_id = $3 AND used_at IS NULL AND expires_at > $4",
        )
        .bind(now)
        .bind(token_hash)
        .bind(device_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(MetaError::TokenInvalid);
        }
        let inserted = sqlx::query("INSERT INTO devices (id, vkey, enrolled_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(device_id)
            .bind(vkey)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if inserted.rows_affected() != 1 {
            return Err(MetaError::DeviceExists(device_id.to_owned()));
        }
        tx.commit().await?;
        Ok(())
    }

    /// One device.
    ///
    /// # Errors
    /// Database errors.
    pub async fn device(&self, id: &str) -> Result<Option<Device>, MetaError> {
        let row =
            sqlx::query("SELECT id, vkey, enrolled_at, revoked_at FROM devices WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            None => None,
            Some(r) => Some(Device {
                id: r.try_get("id")?,
                vkey: r.try_get("vkey")?,
                enrolled_at: r.try_get("enrolled_at")?,
                revoked_at: r.try_get("revoked_at")?,
            }),
        })
    }

    /// All device ids, sorted.
    ///
    /// # Errors
    /// Database errors.
    pub async fn device_ids(&self) -> Result<Vec<String>, MetaError> {
        let rows = sqlx::query("SELECT id FROM devices ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?)
    }

    /// Revokes a device: its uploads are refused from now on.
    ///
    /// # Errors
    /// [`MetaError::UnknownDevice`].
    pub async fn revoke(&self, id: &str, now: i64) -> Result<(), MetaError> {
        let r =
            sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
        if r.rows_affected() != 1 {
            return Err(MetaError::UnknownDevice(id.to_owned()));
        }
        Ok(())
    }

    /// The link stored under `(device, seq)`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn link(&self, device_id: &str, seq: u64) -> Result<Option<StoredLink>, MetaError> {
        let row = sqlx::query(
            "SELECT hash, body, log_index FROM links WHERE device_id = $1 AND seq = $2",
        )
        .bind(device_id)
        .bind(seq as i64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(link_from_row).transpose()?)
    }

    /// Inserts a link unless its sequence number is taken.
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_link(&self, l: &NewLink<'_>, now: i64) -> Result<InsertOutcome, MetaError> {
        let mut tx = self.pool.begin().await?;
        let r = sqlx::query(match self.engine {
            Engine::Sqlite => "INSERT INTO links (device_id, seq, hash, kind, start_ms, end_ms, blob_sha256, size, night, attested, body, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
            // The keys table holds the uniqueness the partitioned table cannot.
            Engine::Postgres => "WITH k AS (INSERT INTO link_keys (device_id, seq, hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1)
             INSERT INTO links (device_id, seq, hash, kind, start_ms, end_ms, blob_sha256, size, night, attested, body, received_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM k",
        })
        .bind(l.device_id)
        .bind(l.seq as i64)
        .bind(&l.hash)
        .bind(l.kind)
        .bind(l.start_ms)
        .bind(l.end_ms)
        .bind(&l.blob_sha256)
        .bind(l.size.map(|s| s as i64))
        .bind(l.night.map(i64::from))
        .bind(l.attested)
        .bind(l.body)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 1 {
            // The link can change coverage from the earlier of its own time and its
            // predecessor's on (a filled gap, a stop event, the end of the upload).
            let prev: Option<i64> = sqlx::query_scalar(
                "SELECT start_ms FROM links WHERE device_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT 1",
            )
            .bind(l.device_id)
            .bind(l.seq as i64)
            .fetch_optional(&mut *tx)
            .await?;
            let from = prev.map_or(l.start_ms, |p| p.min(l.start_ms));
            inspections::invalidate_device(&mut tx, l.device_id, from).await?;
            sqlx::query("UPDATE devices SET max_span_ms = $2 WHERE id = $1 AND max_span_ms < $2")
                .bind(l.device_id)
                .bind(l.end_ms.saturating_sub(l.start_ms))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(InsertOutcome::Inserted);
        }
        drop(tx);
        match self.link(l.device_id, l.seq).await? {
            Some(existing) if existing.hash == l.hash => Ok(InsertOutcome::Duplicate(existing)),
            Some(existing) => Ok(InsertOutcome::Conflict(existing)),
            // The same bytes under another (device, seq) cannot happen: the hash covers both.
            None => Err(MetaError::Db(sqlx::Error::RowNotFound)),
        }
    }

    /// Keeps a refused, conflicting link as evidence (idempotent).
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_equivocation(
        &self,
        device_id: &str,
        seq: u64,
        hash: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query("INSERT INTO equivocations (device_id, seq, hash, body, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
            .bind(device_id)
            .bind(seq as i64)
            .bind(hash)
            .bind(body)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Equivocations of a device as `(seq, hash)`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn equivocations(&self, device_id: &str) -> Result<Vec<(u64, String)>, MetaError> {
        let rows = sqlx::query(
            "SELECT seq, hash FROM equivocations WHERE device_id = $1 ORDER BY seq, received_at",
        )
        .bind(device_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>("seq")? as u64, r.try_get("hash")?)))
            .collect()
    }

    /// Every link body of a device, by sequence number.
    ///
    /// # Errors
    /// Database errors.
    pub async fn device_links(&self, device_id: &str) -> Result<Vec<Vec<u8>>, MetaError> {
        let rows = sqlx::query("SELECT body FROM links WHERE device_id = $1 ORDER BY seq")
            .bind(device_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get("body"))
            .collect::<Result<_, _>>()?)
    }

    /// Stores a custody event note.
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_custody(
        &self,
        hash: &str,
        action: &str,
        subject: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query("INSERT INTO custody (hash, action, subject, body, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
            .bind(hash)
            .bind(action)
            .bind(subject)
            .bind(body)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records where the log put an entry (a link or a custody event).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_log_index(&self, hash: &str, index: u64) -> Result<(), MetaError> {
        for sql in [
            "UPDATE links SET log_index = $1 WHERE hash = $2 AND log_index IS NULL",
            "UPDATE custody SET log_index = $1 WHERE hash = $2 AND log_index IS NULL",
        ] {
            sqlx::query(sql)
                .bind(index as i64)
                .bind(hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The log index of a link or custody event by its hash (hex).
    ///
    /// # Errors
    /// Database errors.
    pub async fn log_index_of(&self, hash: &str) -> Result<Option<u64>, MetaError> {
        let r = sqlx::query(
            "SELECT log_index FROM links WHERE hash = $1 AND log_index IS NOT NULL
             UNION ALL SELECT log_index FROM custody WHERE hash = $2 AND log_index IS NOT NULL",
        )
        .bind(hash)
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.map(|r| r.try_get::<i64, _>("log_index"))
            .transpose()?
            .map(|i| i as u64))
    }

    /// Entries stored but not yet confirmed by the log, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn unlogged(&self) -> Result<Vec<Unlogged>, MetaError> {
        let rows = sqlx::query(
            "SELECT hash, body, received_at AS t FROM links WHERE log_index IS NULL
             UNION ALL SELECT hash, body, created_at AS t FROM custody WHERE log_index IS NULL ORDER BY t",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Unlogged {
                    hash: r.try_get("hash")?,
                    body: r.try_get("body")?,
                })
            })
            .collect()
    }

    /// The highest log index the database has recorded, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn max_log_index(&self) -> Result<Option<u64>, MetaError> {
        let r = sqlx::query("SELECT MAX(i) AS m FROM (SELECT MAX(log_index) AS i FROM links UNION ALL SELECT MAX(log_index) AS i FROM custody) AS t")
            .fetch_one(&self.pool)
            .await?;
        Ok(r.try_get::<Option<i64>, _>("m")?.map(|v| v as u64))
    }

    /// Hands a camera to an officer.
    ///
    /// # Errors
    /// [`MetaError::UnknownDevice`]; [`MetaError::Assignment`] if it is already handed out.
    pub async fn assign(&self, a: &Assignment, by: &str) -> Result<(), MetaError> {
        if self.device(&a.device_id).await?.is_none() {
            return Err(MetaError::UnknownDevice(a.device_id.clone()));
        }
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT * FROM assignments WHERE device_id = $1 AND end_ms IS NULL")
            .bind(device_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                MetaError::Assignment(format!("camera {device_id} is not assigned to anyone"))
            })?;
        let mut a = assignment_from_row(&row)?;
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
            .map(assignment_from_row)
            .collect::<Result<_, _>>()?)
    }
}

/// A crossing point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossingPointRow {
    /// Code, e.g. `UA-KYIV-01`.
    pub code: String,
    /// Name in Ukrainian.
    pub name_uk: String,
    /// Name in Latin script.
    pub name_latin: String,
    /// IANA time zone.
    pub tz: String,
    /// Lanes.
    pub lanes: Vec<String>,
}

/// An officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerRow {
    /// Service number.
    pub service_no: String,
    /// Full name.
    pub name: String,
    /// Crossing point code.
    pub crossing_point: String,
}

impl Meta {
    /// Creates or changes a crossing point; returns whether anything changed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_crossing_point(
        &self,
        c: &CrossingPointRow,
        now: i64,
    ) -> Result<bool, MetaError> {
        if self.crossing_points().await?.iter().any(|x| x == c) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO crossing_points (code, name_uk, name_latin, tz, lanes, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (code) DO UPDATE SET name_uk = excluded.name_uk, name_latin = excluded.name_latin, tz = excluded.tz, lanes = excluded.lanes, updated_at = excluded.updated_at",
        )
        .bind(&c.code)
        .bind(&c.name_uk)
        .bind(&c.name_latin)
        .bind(&c.tz)
        .bind(c.lanes.join(";"))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Every crossing point, by code.
    ///
    /// # Errors
    /// Database errors.
    pub async fn crossing_points(&self) -> Result<Vec<CrossingPointRow>, MetaError> {
        let rows = sqlx::query("SELECT * FROM crossing_points ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let lanes: String = r.try_get("lanes")?;
                Ok(CrossingPointRow {
                    code: r.try_get("code")?,
                    name_uk: r.try_get("name_uk")?,
                    name_latin: r.try_get("name_latin")?,
                    tz: r.try_get("tz")?,
                    lanes: lanes
                        .split(';')
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
            })
            .collect()
    }

    /// Creates or changes an officer; returns whether anything changed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_officer(&self, o: &OfficerRow, now: i64) -> Result<bool, MetaError> {
        if self.officers().await?.iter().any(|x| x == o) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO officers (service_no, name, crossing_point, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (service_no) DO UPDATE SET name = excluded.name, crossing_point = excluded.crossing_point, updated_at = excluded.updated_at",
        )
        .bind(&o.service_no)
        .bind(&o.name)
        .bind(&o.crossing_point)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Every officer, by service number.
    ///
    /// # Errors
    /// Database errors.
    pub async fn officers(&self) -> Result<Vec<OfficerRow>, MetaError> {
        let rows = sqlx::query("SELECT * FROM officers ORDER BY service_no")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OfficerRow {
                    service_no: r.try_get("service_no")?,
                    name: r.try_get("name")?,
                    crossing_point: r.try_get("crossing_point")?,
                })
            })
            .collect()
    }
}

/// A reason given for a gap.
#[derive(Debug, Clone, PartialEq, Eq)]
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

fn gap_reason_from_row(r: &AnyRow) -> Result<GapReason, sqlx::Error> {
    Ok(GapReason {
        id: r.try_get("id")?,
        inspection_id: r.try_get("inspection_id")?,
        from_ms: r.try_get("from_ms")?,
        to_ms: r.try_get("to_ms")?,
        reason: r.try_get("reason")?,
        text: r.try_get("text")?,
        status: r.try_get("status")?,
    })
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
        Ok(gap_reason_from_row(&row)?)
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
            .map(gap_reason_from_row)
            .collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::DatabaseUrl;

    #[test]
    fn a_database_password_is_never_shown() {
        let u = DatabaseUrl("postgres://kordon:s3cr@t:x@db.internal:5432/kordon".into());
        for shown in [u.redacted(), format!("{u}"), format!("{u:?}")] {
            assert_eq!(shown, "postgres://kordon:***@db.internal:5432/kordon");
        }
        let plain = DatabaseUrl("postgres://db.internal/kordon".into());
        assert_eq!(plain.redacted(), "postgres://db.internal/kordon");
    }
}
