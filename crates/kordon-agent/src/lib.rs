//! # kordon-agent
//!
//! The camera side of kordon, as a library for the `kordon-agent` binary and for
//! `kordon demo`: the device identity and chain ([`device`]), the durable spool
//! ([`spool`]), recording through ffmpeg ([`record`]), uploading ([`upload`]), dock import
//! ([`dock`]) and the fleet simulator ([`simulate`]).
//!
//! What it does not do: it links no server code (only `kordon-core` and an HTTP client),
//! and it never deletes footage that the server has not confirmed.

pub mod api;
pub mod device;
pub mod dock;
pub mod record;
pub mod simulate;
pub mod spool;
pub mod upload;
