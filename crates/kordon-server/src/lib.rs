//! # kordon-server
//!
//! The ingest server: cameras enroll and upload their signed links and segment bytes,
//! supervisors assign cameras to officers, analysts search, report and build cases,
//! everyone can read the log as C2SP tiles and ask for proofs. `kordon serve` runs it;
//! [`run`] takes a bound listener and a shutdown future, so tests start it on
//! `127.0.0.1:0`.
//!
//! Layers, each importing only those below it (ARCHITECTURE.md, "the server's layers"):
//!
//! - [`routes`] (HTTP adapters, router, OpenAPI) and `ui` (the web interface's screens)
//!   — the entry points of requests;
//! - `startup` (open, reconcile, start the jobs) and `jobs` (background tasks);
//! - `ops` — the typed operations, `ops::<area>::<verb>(&App, &Principal, input)`;
//! - `package` — the evidence package builder, called by `ops::cases`;
//! - [`auth`] (principals, roles, the permission matrix), `localtime`;
//! - `state` ([`App`] and what it owns), [`config`], [`error`].
//!
//! Authentication: a device is authenticated by the signed link it carries (any relay may
//! deliver it); people and integrations by session cookie or bearer token ([`auth`]).
//!
//! What it does not do: define formats (that is `kordon-core`) or the API's types
//! (`kordon-api`), decide durability of the log (`kordon-log`) or of blobs and rows
//! (`kordon-store`).

pub mod auth;
pub mod config;
pub mod error;
mod jobs;
mod localtime;
mod ops;
mod package;
pub mod routes;
pub mod serve;
mod startup;
mod state;
mod ui;

pub use axum::Router;
pub use routes::{openapi, router, run, serve_router};
pub use startup::{StartError, axis_key, log_key, open, open_on, reload_edges};
pub use state::App;
