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
use sqlx::any::AnyPoolOptions;

mod assignments;
mod axis;
mod backup;
mod cases;
mod chain;
mod devices;
mod edges;
mod forwarding;
mod gap_reasons;
mod health;
mod inspections;
mod links;
mod partitions;
mod problems;
mod reference;
mod release;
mod reviews;
mod sql;
pub mod testing;
mod timestamps;
mod users;

pub use assignments::Assignment;
pub use axis::{AxisDevice, AxisObject, AxisRecording, AxisUser, GnssPoint};
pub use devices::Device;
pub use gap_reasons::{GapReason, PendingReason};
pub use health::{Health, SilentCamera};
pub use links::{InsertOutcome, LinkRow, NewCustody, NewLink, StoredLink, Unlogged};
pub use reference::{CrossingPointRow, OfficerRow};
pub use release::{Preservation, RedactionRow, Renders, ShareRow};
pub use reviews::Review;

pub use cases::{Case, CaseItem, CustodyRow};
pub use chain::ChainState;
pub use edges::EdgeState;
pub use forwarding::{Cell, EdgeHole, ForwardHole, RECORD_KINDS, Record, RecordRow};
pub use inspections::{
    Bookmark, InspectionOutcome, InspectionQuery, InspectionRow, LatestInspection,
};
pub use problems::ProblemCursor;
pub use timestamps::TimestampRow;
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

impl Meta {
    /// Begins a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): a deferred transaction that reads and then writes fails with
    /// `SQLITE_BUSY_SNAPSHOT` when another connection wrote in between, which busy_timeout
    /// does not retry; an immediate one waits its turn instead.
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, MetaError> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

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
