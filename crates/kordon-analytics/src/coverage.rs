//! Coverage of one inspection by the recordings of the cameras assigned to its officers.
//!
//! An instant of the inspection is *covered* when a verified segment of a camera that was
//! assigned to one of its officers at that instant spans it. Every uncovered instant gets
//! one class; when several cameras could explain it, the most specific wins, in this
//! order: recorded without sound, not yet uploaded, missing segments, device fault,
//! stopped by wearer, no recording; an instant no officer had a camera for is "not
//! assigned". Video whose segments say `audio: silent` or `none` for a run longer than
//! the camera timeline's `audio_gap_ms` is not covered: it is a gap of class "no audio"
//! (wearers cannot mute; what was said is evidence too).

use std::collections::HashMap;

use kordon_core::chain::ChainReport;
use kordon_core::link::{EventKind, Link, LinkBody};

use crate::span::{Span, SpanSet};

/// Why part of an inspection was not recorded.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum GapClass {
    /// Video was recorded but its sound is silent or missing for longer than allowed.
    NoAudio,
    /// No camera was assigned to any of the inspection's officers.
    NotAssigned,
    /// The camera's chain ends before this time: footage may still be on the way.
    NotYetUploaded,
    /// Links are missing from the chain here: something existed and is gone.
    MissingSegments,
    /// The camera reported a fault (power off, storage full, crash, tamper alarm).
    DeviceFault,
    /// The wearer stopped recording (or docked the camera).
    StoppedByWearer,
    /// No recording and no event that explains it.
    NoRecording,
}

impl GapClass {
    /// Stable name, used in reports and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            GapClass::NoAudio => "no_audio",
            GapClass::NotAssigned => "not_assigned",
            GapClass::NotYetUploaded => "not_yet_uploaded",
            GapClass::MissingSegments => "missing_segments",
            GapClass::DeviceFault => "device_fault",
            GapClass::StoppedByWearer => "stopped_by_wearer",
            GapClass::NoRecording => "no_recording",
        }
    }

    /// Most specific first.
    const PRIORITY: [GapClass; 6] = [
        GapClass::NoAudio,
        GapClass::NotYetUploaded,
        GapClass::MissingSegments,
        GapClass::DeviceFault,
        GapClass::StoppedByWearer,
        GapClass::NoRecording,
    ];
}

/// What one camera's verified chain says about time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraTimeline {
    /// Time spanned by verified segments.
    pub recorded: SpanSet,
    /// Time spanned by verified night-mode segments.
    pub night: SpanSet,
    /// Time spanned by verified segments whose audio is silent or missing.
    pub muted: SpanSet,
    /// A muted run at least this long (ms) is a "no audio" gap; shorter ones are covered.
    pub audio_gap_ms: i64,
    /// Time between the neighbours of missing links.
    pub missing: SpanSet,
    /// Events that end recording, by time: `(time, kind)`.
    pub stops: Vec<(i64, EventKind)>,
    /// End of the latest link received, if any.
    pub uploaded_until: Option<i64>,
    /// Whether the latest link received is an event that ends recording (then the time
    /// after it is explained by that event, not "not yet uploaded").
    pub ends_stopped: bool,
}

/// The default of [`CameraTimeline::audio_gap_ms`]: 30 s.
pub const AUDIO_GAP_MS: i64 = 30_000;

impl Default for CameraTimeline {
    fn default() -> Self {
        CameraTimeline {
            recorded: SpanSet::new(),
            night: SpanSet::new(),
            muted: SpanSet::new(),
            audio_gap_ms: AUDIO_GAP_MS,
            missing: SpanSet::new(),
            stops: Vec::new(),
            uploaded_until: None,
            ends_stopped: false,
        }
    }
}

impl CameraTimeline {
    /// The muted runs long enough to be gaps.
    fn muted_runs(&self) -> SpanSet {
        SpanSet::from_spans(
            self.muted
                .spans()
                .iter()
                .filter(|s| s.len() >= self.audio_gap_ms)
                .copied(),
        )
    }

    /// Builds the timeline from a verified chain (only links that hold are used).
    pub fn from_chain(report: &ChainReport) -> Self {
        Self::from_links(&report.links)
    }

    /// Builds the timeline from verified links in sequence order: a whole chain, or the
    /// links a window needs (from the last segment before it to the first link after it;
    /// then `uploaded_until` and `ends_stopped` are the chain's, set by the caller).
    pub fn from_links(links: &[Link]) -> Self {
        let mut recorded = Vec::new();
        let mut night = Vec::new();
        let mut muted = Vec::new();
        let mut missing = Vec::new();
        let mut stops = Vec::new();
        let mut prev: Option<(u64, i64)> = None;
        let mut until: Option<i64> = None;
        let mut ends_stopped = false;
        for l in links {
            let b = l.body();
            if let Some((seq, end)) = prev
                && b.seq() > seq + 1
            {
                missing.push(Span::new(end, b.start().0));
            }
            match b {
                LinkBody::Segment(s) => {
                    recorded.push(Span::new(s.start.0, s.end.0));
                    if s.night {
                        night.push(Span::new(s.start.0, s.end.0));
                    }
                    if s.audio.is_muted() {
                        muted.push(Span::new(s.start.0, s.end.0));
                    }
                }
                LinkBody::Event(e) if e.kind.ends_recording() => stops.push((e.time.0, e.kind)),
                LinkBody::Event(_) => {}
            }
            prev = Some((b.seq(), b.end().0));
            ends_stopped = matches!(b, LinkBody::Event(e) if e.kind.ends_recording());
            until = Some(until.map_or(b.end().0, |u: i64| u.max(b.end().0)));
        }
        stops.sort_by_key(|s| s.0);
        CameraTimeline {
            recorded: SpanSet::from_spans(recorded),
            night: SpanSet::from_spans(night),
            muted: SpanSet::from_spans(muted),
            audio_gap_ms: AUDIO_GAP_MS,
            missing: SpanSet::from_spans(missing),
            stops,
            uploaded_until: until,
            ends_stopped,
        }
    }

    /// The class of a silence `r` (not recorded, not missing, uploaded): the first event
    /// ending recording between the end of the last recording before `r` and the end of `r`.
    fn explain(&self, r: &Span) -> GapClass {
        let silence_start = self.recorded.last_end_before(r.start).unwrap_or(i64::MIN);
        let event = self
            .stops
            .iter()
            .find(|(t, _)| *t >= silence_start && *t <= r.end);
        match event.map(|e| e.1) {
            Some(EventKind::RecordStop | EventKind::Docked) => GapClass::StoppedByWearer,
            Some(_) => GapClass::DeviceFault,
            None => GapClass::NoRecording,
        }
    }

    /// Classifies the uncovered parts of `window` (already known to be unrecorded).
    fn classify(&self, uncovered: &SpanSet, out: &mut Vec<(Span, GapClass)>) {
        let mut rest = uncovered.clone();
        let pending = match self.uploaded_until {
            None => rest.clone(),
            Some(u) => rest.clip(&Span::new(u, i64::MAX)),
        };
        if self.ends_stopped {
            out.extend(pending.spans().iter().map(|s| (*s, self.explain(s))));
        } else {
            out.extend(
                pending
                    .spans()
                    .iter()
                    .map(|s| (*s, GapClass::NotYetUploaded)),
            );
        }
        rest = rest.subtract(&pending);
        let missing = rest.intersect(&self.missing);
        out.extend(
            missing
                .spans()
                .iter()
                .map(|s| (*s, GapClass::MissingSegments)),
        );
        rest = rest.subtract(&missing);
        for r in rest.spans() {
            out.push((*r, self.explain(r)));
        }
    }
}

/// A camera handed to an officer for a span of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Camera id.
    pub camera: String,
    /// Officer's service number.
    pub officer: String,
    /// From hand-out to return (open assignments end at `i64::MAX`).
    pub span: Span,
}

/// An event that ended recording on a camera assigned to one of the inspection's
/// officers, during the inspection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Stop {
    /// When, Unix ms.
    pub at_ms: i64,
    /// The camera.
    pub camera: String,
    /// The event kind as in the link format (`record-stop`, `power-off`, ...).
    pub kind: String,
}

/// The result for one inspection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    /// Length of the inspection.
    pub duration_ms: i64,
    /// Recorded part of it.
    pub covered_ms: i64,
    /// Recorded in night mode.
    pub night_ms: i64,
    /// Every unrecorded interval with its class, in time order.
    pub uncovered: Vec<(Span, GapClass)>,
    /// Recording-ending events during the inspection, in time order.
    pub stops: Vec<Stop>,
}

impl Coverage {
    /// Covered share, 0–1 (1 for an empty inspection).
    pub fn ratio(&self) -> f64 {
        if self.duration_ms <= 0 {
            1.0
        } else {
            self.covered_ms as f64 / self.duration_ms as f64
        }
    }
}

/// Coverage of the inspection `span` with `officers`, given every assignment and the
/// timelines of the cameras.
pub fn coverage(
    span: Span,
    officers: &[String],
    assignments: &[Assignment],
    cameras: &HashMap<String, CameraTimeline>,
) -> Coverage {
    let empty = CameraTimeline::default();
    let mut covered = SpanSet::new();
    let mut night = SpanSet::new();
    let mut pieces: Vec<(Span, GapClass)> = Vec::new();
    let mut stops = Vec::new();
    for a in assignments.iter().filter(|a| officers.contains(&a.officer)) {
        let window = a.span.intersect(&span);
        if window.is_empty() {
            continue;
        }
        let cam = cameras.get(&a.camera).unwrap_or(&empty);
        let first = cam.stops.partition_point(|(t, _)| *t < window.start);
        stops.extend(
            cam.stops[first..]
                .iter()
                .take_while(|(t, _)| *t < window.end)
                .map(|(t, k)| Stop {
                    at_ms: *t,
                    camera: a.camera.clone(),
                    kind: k.as_str().to_owned(),
                }),
        );
        let rec = cam.recorded.clip(&window);
        let mute = cam.muted_runs().clip(&window);
        pieces.extend(mute.spans().iter().map(|s| (*s, GapClass::NoAudio)));
        covered = covered.union(&rec.subtract(&mute));
        night = night.union(&cam.night.clip(&window));
        cam.classify(&SpanSet::from_spans([window]).subtract(&rec), &mut pieces);
    }
    let mut rest = SpanSet::from_spans([span]).subtract(&covered);
    let mut uncovered = Vec::new();
    for class in GapClass::PRIORITY {
        let mine = SpanSet::from_spans(pieces.iter().filter(|p| p.1 == class).map(|p| p.0))
            .intersect(&rest);
        uncovered.extend(mine.spans().iter().map(|s| (*s, class)));
        rest = rest.subtract(&mine);
    }
    uncovered.extend(rest.spans().iter().map(|s| (*s, GapClass::NotAssigned)));
    uncovered.sort();
    stops.sort();
    stops.dedup();
    Coverage {
        duration_ms: span.len(),
        covered_ms: covered.len(),
        night_ms: night.intersect(&covered).len(),
        uncovered,
        stops,
    }
}
