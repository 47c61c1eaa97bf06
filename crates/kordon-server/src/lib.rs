//! The kordon ingest server.
