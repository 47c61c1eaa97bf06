//! Coverage of inspections by footage: computed from the verified chains of the cameras
//! assigned to an inspection's officers, stored, and recomputed only when something it
//! depends on changed (see `kordon_store::meta` on stored coverage).

use std::collections::HashMap;

use kordon_analytics::coverage::{Assignment, CameraTimeline, Coverage, coverage};
use kordon_analytics::span::Span;
use kordon_api::inspections::{GapReasonRef, InspectionCoverage, InspectionStop, Uncovered};
use kordon_core::link::Link;
use kordon_core::time::Timestamp;
use kordon_store::meta::{GapReason, LatestInspection};

use crate::error::ApiError;
use crate::localtime::local;
use crate::state::App;

/// What a camera's chain says about the time `span`, from the links around it and the
/// chain state: reads the window, never the camera's history.
pub(crate) async fn camera_timeline(
    app: &App,
    camera: &str,
    span: Span,
) -> Result<CameraTimeline, ApiError> {
    Ok(camera_window(app, camera, span).await?.0)
}

/// [`camera_timeline`] and the links it was built from.
pub(crate) async fn camera_window(
    app: &App,
    camera: &str,
    span: Span,
) -> Result<(CameraTimeline, Vec<Link>), ApiError> {
    let Some(state) = app.meta.chain_state(camera).await? else {
        return Ok((CameraTimeline::default(), Vec::new()));
    };
    let links = app.meta.links_around(camera, span.start, span.end).await?;
    let mut t = CameraTimeline::from_links(&links);
    t.audio_gap_ms = app.config.audio_gap_s.saturating_mul(1000);
    t.uploaded_until = Some(state.max_end_ms);
    t.ends_stopped = app.meta.ends_stopped(camera, state.last_seq).await?;
    Ok((t, links))
}

/// Computes coverage, or takes the stored result when it is current; builds each
/// camera's timeline of an inspection's time once per request.
pub(crate) struct Calculator<'a> {
    app: &'a App,
    timelines: HashMap<(String, i64, i64), CameraTimeline>,
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

    async fn timeline(&mut self, camera: &str, span: Span) -> Result<CameraTimeline, ApiError> {
        let key = (camera.to_owned(), span.start, span.end);
        if let Some(t) = self.timelines.get(&key) {
            return Ok(t.clone());
        }
        let t = camera_timeline(self.app, camera, span).await?;
        self.timelines.insert(key, t.clone());
        Ok(t)
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
        let span = Span::new(i.start_ms, i.end_ms);
        let mut assignments = Vec::new();
        let mut timelines = HashMap::new();
        for o in &i.officers {
            for a in self
                .app
                .meta
                .assignments_of(o, i.start_ms, i.end_ms)
                .await?
            {
                let t = self.timeline(&a.device_id, span).await?;
                timelines.insert(a.device_id.clone(), t);
                assignments.push(Assignment {
                    camera: a.device_id,
                    officer: a.officer,
                    span: Span::new(a.start_ms, a.end_ms.unwrap_or(i64::MAX)),
                });
            }
        }
        let c = coverage(span, &i.officers, &assignments, &timelines);
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
