//! # kordon-server
//!
//! The ingest server: cameras enroll and upload their signed links and segment bytes,
//! supervisors assign cameras to officers, everyone can read the log as C2SP tiles and
//! ask for proofs. `kordon serve` runs it; [`run`] takes a bound listener and a shutdown
//! future, so tests start it on `127.0.0.1:0`.
//!
//! Authentication: a device is authenticated by the signed link it carries (the link's
//! signature must verify with the key the device enrolled; a revoked device is refused),
//! so any relay (a dock, a crossing-point server) may deliver it. Administrative calls
//! (enrollment tokens, revocation, assignments) need the administrator token created in
//! `<data>/keys/admin-token` on first start. People and roles come with the access
//! control work.
//!
//! What it does not do: define formats (that is `kordon-core`), decide durability of the
//! log (`kordon-log`) or of blobs and rows (`kordon-store`).

mod app;
pub mod auth;
mod cases;
pub mod config;
mod cosigning;
mod devices;
mod edges;
pub mod error;
mod forward;
mod ingest;
mod inspections;
mod logapi;
mod mirror;
mod reference;
mod report;
mod reports;
mod retention;
mod ui;
mod users;
pub mod witness;

pub use app::{App, open, router, run, serve_router};
pub use axum::Router;
