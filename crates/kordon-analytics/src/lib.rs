//! # kordon-analytics
//!
//! Was every customs inspection filmed? For each inspection this crate computes which
//! part of its time was covered by verified recordings of the cameras assigned to its
//! officers at that moment, and classifies every uncovered interval: no camera assigned,
//! stopped by its wearer, missing segments (a gap in the chain), a device fault event, not
//! yet uploaded, or no recording without any explaining event.
//!
//! What it does not do: it reads nothing and writes nothing. Callers build the
//! [`coverage::CameraTimeline`]s from verified chains (see
//! [`coverage::CameraTimeline::from_chain`]) and the assignments from the database;
//! **Architecture invariant:** analytics never writes.

pub mod aggregate;
pub mod coverage;
pub mod review;
pub mod search;
pub mod span;
