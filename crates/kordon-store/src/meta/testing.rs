//! For tests of the PostgreSQL store and of what uses it: a fresh, empty database in the
//! PostgreSQL server named by `KORDON_TEST_POSTGRES` (a URL whose user may create
//! databases; `scripts/test` starts the server on 127.0.0.1 and sets it), default
//! `postgres://kordon:kordon@127.0.0.1:5432/postgres`.

use sqlx::Connection as _;
use sqlx::Executor as _;

/// The server tests use.
#[must_use]
pub fn server_url() -> String {
    std::env::var("KORDON_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://kordon:kordon@127.0.0.1:5432/postgres".into())
}

/// Creates a new empty database and answers its URL.
///
/// # Panics
/// When the server cannot be reached (a test can go no further); the message says how to
/// start it.
pub async fn fresh_database() -> String {
    sqlx::any::install_default_drivers();
    let server = server_url();
    let mut conn = sqlx::AnyConnection::connect(&server)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL at {server} (KORDON_TEST_POSTGRES; scripts/test starts one): {e}")
        });
    let name = format!(
        "kordon_t_{}",
        hex::encode(&crate::random_bytes().expect("random")[..8])
    );
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
    let (base, _) = server.rsplit_once('/').expect("URL with a database");
    format!("{base}/{name}")
}
