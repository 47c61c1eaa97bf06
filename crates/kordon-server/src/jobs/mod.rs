//! Background jobs: they run beside the requests, started once by [`crate::startup`],
//! and call the same operations the API does. Nothing a request waits for runs here.

pub(crate) mod cameras;
pub(crate) mod cosigning;
pub(crate) mod coverage;
pub(crate) mod forward;
pub(crate) mod mirror;
pub(crate) mod relog;
pub(crate) mod retention;
pub(crate) mod timestamp;
