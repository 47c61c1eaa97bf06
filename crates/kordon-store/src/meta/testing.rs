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

/// A small deterministic random sequence (SplitMix64) for generated test and benchmark
/// data.
pub struct Rng(pub u64);

impl Rng {
    /// The next value below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}
