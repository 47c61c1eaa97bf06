//! Coverage of inspections by footage: computed from the verified chains of the cameras
//! assigned to an inspection's officers, stored, and recomputed only when something it
//! depends on changed (see `kordon_store::meta` on stored coverage).

use std::collections::HashMap;

use kordon_analytics::coverage::{Assignment, CameraTimeline, Coverage, coverage};
use kordon_analytics::span::Span;
use kordon_api::inspections::{GapReasonRef, InspectionCoverage, InspectionStop, Uncovered};
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::note::VerifierKey;
use kordon_core::time::Timestamp;
use kordon_store::meta::{GapReason, LatestInspection};

use crate::error::ApiError;
use crate::localtime::local;
use crate::state::App;

/// Builds camera timelines lazily (once per camera and request) and computes coverage,
/// or takes the stored result when it is current.
pub(crate) struct Calculator<'a> {
    app: &'a App,
    timelines: HashMap<String, CameraTimeline>,
    /// Inspections whose coverage was recomputed (not taken from the store).
    pub(crate) recomputed: usize,
}

impl<'a> Calculator<'a> {
    pub(crate) fn new(app: &'a App) -> Self {
        Calculator {
            app,
            timelines: HashMap::new(),
            recomputed: 0,
        }
    }

    async fn timeline(&mut self, camera: &str) -> Result<(), ApiError> {
        if self.timelines.contains_key(camera) {
            return Ok(());
        }
        let t = match self.app.meta.device(camera).await? {
            Some(d) => {
                let key =
                    VerifierKey::parse(&d.vkey).map_err(|e| ApiError::Internal(e.to_string()))?;
                let raw = self.app.meta.device_links(camera).await?;
                let (cam, gap) = (camera.to_owned(), self.app.config.max_gap_ms);
                tokio::task::spawn_blocking(move || {
                    CameraTimeline::from_chain(&verify_chain(
                        &cam,
                        &key,
                        &raw,
                        &ChainOptions { max_gap_ms: gap },
                    ))
                })
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
            }
            None => CameraTimeline::default(),
        };
        self.timelines.insert(camera.to_owned(), t);
        Ok(())
    }

    /// The coverage of the latest version of an inspection.
    pub(crate) async fn coverage(&mut self, li: &LatestInspection) -> Result<Coverage, ApiError> {
        if let Some(c) = li
            .coverage
            .as_deref()
            .and_then(|s| serde_json::from_str::<Coverage>(s).ok())
        {
            return Ok(c);
        }
        let i = &li.row;
        let mut assignments = Vec::new();
        for o in &i.officers {
            for a in self
                .app
                .meta
                .assignments_of(o, i.start_ms, i.end_ms)
                .await?
            {
                self.timeline(&a.device_id).await?;
                assignments.push(Assignment {
                    camera: a.device_id,
                    officer: a.officer,
                    span: Span::new(a.start_ms, a.end_ms.unwrap_or(i64::MAX)),
                });
            }
        }
        let c = coverage(
            Span::new(i.start_ms, i.end_ms),
            &i.officers,
            &assignments,
            &self.timelines,
        );
        self.recomputed += 1;
        let stored = serde_json::to_string(&c).map_err(|e| ApiError::Internal(e.to_string()))?;
        // Not stored if something changed meanwhile: the next request recomputes.
        self.app
            .meta
            .store_coverage(&i.id, li.generation, &stored)
            .await?;
        Ok(c)
    }
}

/// For each gap: whether an approved reason overlaps it.
pub(crate) fn explained(c: &Coverage, reasons: &[GapReason]) -> Vec<bool> {
    c.uncovered
        .iter()
        .map(|(s, _)| {
            reasons
                .iter()
                .any(|g| g.status == "approved" && g.from_ms < s.end && s.start < g.to_ms)
        })
        .collect()
}

/// The latest non-rejected reason whose interval overlaps a gap.
pub(crate) fn reason_for(reasons: &[GapReason], s: &Span) -> Option<GapReasonRef> {
    reasons
        .iter()
        .rev()
        .find(|g| g.status != "rejected" && g.from_ms < s.end && s.start < g.to_ms)
        .map(|g| GapReasonRef {
            id: g.id.clone(),
            reason: g.reason.clone(),
            text: g.text.clone(),
            status: g.status.clone(),
        })
}

/// One inspection with its coverage; times in UTC and in the crossing point's zone.
pub(crate) fn inspection_coverage(
    li: &LatestInspection,
    c: &Coverage,
    reasons: &[GapReason],
    tz: &jiff::tz::TimeZone,
) -> InspectionCoverage {
    let i = &li.row;
    let unexplained = explained(c, reasons).iter().filter(|e| !**e).count();
    InspectionCoverage {
        inspection_id: i.id.clone(),
        version: li.version,
        crossing_point: i.crossing_point.clone(),
        lane: i.lane.clone(),
        officers: i.officers.clone(),
        start: Timestamp(i.start_ms).to_string(),
        end: Timestamp(i.end_ms).to_string(),
        start_local: local(i.start_ms, tz),
        end_local: local(i.end_ms, tz),
        vehicle_plate: i.plate.clone(),
        declaration_no: i.declaration.clone(),
        declarant: i.declarant.clone(),
        kind: i.kind.clone(),
        outcome: i.outcome.clone(),
        duration_seconds: c.duration_ms as f64 / 1000.0,
        covered_seconds: c.covered_ms as f64 / 1000.0,
        night_seconds: c.night_ms as f64 / 1000.0,
        coverage: c.ratio(),
        uncovered: c
            .uncovered
            .iter()
            .map(|(s, g)| Uncovered {
                from: Timestamp(s.start).to_string(),
                to: Timestamp(s.end).to_string(),
                from_local: local(s.start, tz),
                to_local: local(s.end, tz),
                seconds: s.len() as f64 / 1000.0,
                class: g.as_str().to_owned(),
                reason: reason_for(reasons, s),
            })
            .collect(),
        stops: c
            .stops
            .iter()
            .map(|s| InspectionStop {
                at: Timestamp(s.at_ms).to_string(),
                camera: s.camera.clone(),
                kind: s.kind.clone(),
            })
            .collect(),
        unexplained_gaps: unexplained,
    }
}
