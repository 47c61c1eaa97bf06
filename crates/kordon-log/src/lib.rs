//! # kordon-log
//!
//! The append-only transparency log every accepted link and custody event goes into.
//!
//! Life of an entry (the write path of Sunlight and Tessera's POSIX driver):
//!
//! 1. [`Log::append`] queues the entry and waits;
//! 2. the sequencer task takes everything queued (up to a batch limit), assigns indexes,
//!    computes the new stored hashes ([`kordon_core::merkle::append_hashes`]);
//! 3. it hands the changed entry bundles and hash tiles (C2SP tlog-tiles) to the
//!    [`LogStorage`] ([`FsStorage`]: a temporary file each, fsync, rename into place,
//!    fsync every directory touched);
//! 4. it computes the root, signs the checkpoint and has the storage publish it last
//!    (temp, fsync, rename, fsync directory);
//! 5. only then does every waiting `append` return its index.
//!
//! 6. the partial tiles the new checkpoint replaced (by a wider partial or the full tile)
//!    are removed after [`LogOptions::partial_grace`]; at start, any older partial left
//!    by a crash is swept. Full tiles and the partials of the published tree are never
//!    removed, so the log's folder holds about its entries and hashes, not its history
//!    of partials.
//!
//! An IO error anywhere in 3–4 costs the batch, not the log: its appends are refused with
//! [`LogError::Retry`], the sequencer rereads its right edge from the last durable
//! checkpoint (as a restart would) and the next batch writes again; [`Log::health`] says
//! `Failing` until a write goes through. Only a state that cannot be brought back (the
//! checkpoint on disk is neither the published one nor the failed batch's) stops the log
//! until a restart. Tiles beyond the checkpoint are never served, so rewriting them after
//! a failure or a crash forks nothing anybody saw.
//!
//! What it does not do: it does not check what the entries mean (the server does) and it
//! does not talk HTTP.

mod durable;
mod partials;
mod sequencer;
mod task;
mod tiles;

pub use durable::{Fault, FaultyStorage, FsStorage, LogStorage};
pub use partials::partial_tiles;
pub use sequencer::{DEFAULT_PARTIAL_GRACE, Log, LogError, LogOptions, Published};
pub use task::Health;
pub use tiles::DiskTiles;
