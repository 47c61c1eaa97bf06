//! # kordon-store
//!
//! Where kordon keeps things: [`blob`] holds segment bytes once each under their SHA-256
//! (write to a temporary file while hashing, fsync, link into place, never overwrite);
//! [`meta`] holds the metadata (devices, enrollment tokens, chain links, equivocations,
//! assignments, custody events) in SQL that is written to be portable between SQLite
//! (the embedded default) and PostgreSQL.
//!
//! What it does not do: it does not decide what is valid (that is `kordon-core`) and it
//! does not talk HTTP (that is `kordon-server`).

pub mod blob;
pub mod meta;

/// Milliseconds since the Unix epoch, read from the system clock (the one place the
/// storage layer needs "now": stamping when something was received).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// 32 random bytes from the operating system.
///
/// # Errors
/// If the OS has no randomness to give.
pub fn random_bytes() -> Result<[u8; 32], getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(b)
}
