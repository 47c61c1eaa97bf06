//! One module per command family; each exposes its clap arguments and a
//! `fn(args) -> Result<exit code>`.

pub(crate) mod axis;
pub(crate) mod backup;
pub(crate) mod case;
mod demo;
pub(crate) mod device;
pub(crate) mod inspections;
pub(crate) mod jobs;
mod localca;
pub(crate) mod log;
mod output;
mod progress;
pub(crate) mod reference;
pub(crate) mod release;
pub(crate) mod search;
pub(crate) mod serve;
pub(crate) mod tsa;
pub(crate) mod user;
