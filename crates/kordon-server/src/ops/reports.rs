//! Reports over the inspections that started in a time range, optionally at one crossing
//! point or of one officer: coverage per inspection, per local day and per shift; gaps
//! with the anomalies worth a look; clearance times with their distribution and trend.
//! Every report reads the stored coverage and recomputes only what changed.

use std::collections::HashMap;

use kordon_analytics::aggregate::{self, Fact};
use kordon_analytics::coverage::{Assignment, Coverage};
use kordon_analytics::span::Span;
use kordon_api::inspections::InspectionList;
use kordon_api::reports::{
    Anomalies, Bucket, ClearanceDay, ClearanceReport, Cluster, DailyReport, Day, Distribution,
    EarlyGap, Gap, GapsReport, Range, Repeated, Shift, ShiftsReport, StopInInspection,
};
use kordon_core::time::Timestamp;
use kordon_store::meta::{GapReason, LatestInspection};

use super::coverage::{Calculator, explained, inspection_coverage, reason_for};
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::localtime::{local, rfc3339, zones};
use crate::state::App;

/// One inspection with its coverage and reasons.
pub(crate) struct Computed {
    pub(crate) li: LatestInspection,
    pub(crate) coverage: Coverage,
    pub(crate) reasons: Vec<GapReason>,
    pub(crate) explained: Vec<bool>,
}

/// What a report works on.
pub(crate) struct Data {
    from: i64,
    to: i64,
    pub(crate) rows: Vec<Computed>,
    pub(crate) zones: HashMap<String, jiff::tz::TimeZone>,
}

impl Data {
    pub(crate) fn tz(&self, crossing_point: &str) -> &jiff::tz::TimeZone {
        static UTC: jiff::tz::TimeZone = jiff::tz::TimeZone::UTC;
        self.zones.get(crossing_point).unwrap_or(&UTC)
    }

    fn zone_name(&self, crossing_point: &str) -> &str {
        self.tz(crossing_point).iana_name().unwrap_or("UTC")
    }

    pub(crate) fn facts(&self) -> Vec<Fact<'_>> {
        self.rows
            .iter()
            .map(|x| Fact {
                id: &x.li.row.id,
                crossing_point: &x.li.row.crossing_point,
                tz: self.tz(&x.li.row.crossing_point),
                lane: &x.li.row.lane,
                officers: &x.li.row.officers,
                start_ms: x.li.row.start_ms,
                plate_norm: &x.li.row.plate_norm,
                declarant: &x.li.row.declarant,
                coverage: &x.coverage,
                explained: &x.explained,
            })
            .collect()
    }

    fn get(&self, id: &str) -> Option<&Computed> {
        self.rows.iter().find(|x| x.li.row.id == id)
    }
}

async fn load(app: &App, who: &Principal, r: &Range) -> Result<Data, ApiError> {
    who.require(Op::ViewReports)?;
    let bad = |e| ApiError::BadRequest("bad_query", e);
    let from = rfc3339("from", &r.from).map_err(bad)?;
    let to = rfc3339("to", &r.to).map_err(bad)?;
    if to <= from {
        return Err(ApiError::BadRequest(
            "bad_query",
            "to is not after from".into(),
        ));
    }
    load_for(
        app,
        who,
        from,
        to,
        r.crossing_point.as_deref(),
        r.officer.as_deref(),
    )
    .await
}

/// The inspections starting in `[from, to)` that `who` may see, with their coverage.
pub(crate) async fn load_for(
    app: &App,
    who: &Principal,
    from: i64,
    to: i64,
    crossing_point: Option<&str>,
    officer: Option<&str>,
) -> Result<Data, ApiError> {
    let mut calc = Calculator::new(app);
    let seen: Vec<_> = app
        .meta
        .inspections(from, to, crossing_point, officer)
        .await?
        .into_iter()
        .filter(|li| who.sees_inspection(&li.row.crossing_point, &li.row.officers))
        .collect();
    let ids: Vec<&str> = seen.iter().map(|li| li.row.id.as_str()).collect();
    let mut reasons_of = app.meta.gap_reasons_of(&ids).await?;
    let mut rows = Vec::with_capacity(seen.len());
    for li in seen {
        let coverage = calc.coverage(&li).await?;
        let reasons = reasons_of.remove(&li.row.id).unwrap_or_default();
        let explained = explained(&coverage, &reasons);
        rows.push(Computed {
            li,
            coverage,
            reasons,
            explained,
        });
    }
    if calc.recomputed > 0 {
        tracing::debug!(recomputed = calc.recomputed, "coverage recomputed");
    }
    Ok(Data {
        from,
        to,
        rows,
        zones: zones(app).await?,
    })
}

fn share(covered: i64, duration: i64) -> f64 {
    if duration > 0 {
        covered as f64 / duration as f64
    } else {
        1.0
    }
}

/// Every inspection with its coverage.
pub(crate) async fn coverage(
    app: &App,
    who: &Principal,
    r: &Range,
) -> Result<InspectionList, ApiError> {
    let d = load(app, who, r).await?;
    let inspections = d
        .rows
        .iter()
        .map(|x| {
            inspection_coverage(
                &x.li,
                &x.coverage,
                &x.reasons,
                d.tz(&x.li.row.crossing_point),
            )
        })
        .collect();
    // A report covers the range it was asked for, whole.
    Ok(InspectionList {
        inspections,
        next: None,
    })
}

/// Coverage per crossing point, local day and officer.
pub(crate) async fn daily(app: &App, who: &Principal, r: &Range) -> Result<DailyReport, ApiError> {
    let d = load(app, who, r).await?;
    let days = aggregate::daily(&d.facts())
        .into_iter()
        .map(|((cp, day, officer), x)| Day {
            time_zone: d.zone_name(&cp).to_owned(),
            crossing_point: cp,
            day,
            officer,
            inspections: x.inspections,
            duration_seconds: x.duration_ms as f64 / 1000.0,
            covered_seconds: x.covered_ms as f64 / 1000.0,
            coverage: share(x.covered_ms, x.duration_ms),
            night_seconds: x.night_ms as f64 / 1000.0,
            uncovered_inspections: x.uncovered_inspections,
            unexplained_gaps: x.unexplained_gaps,
        })
        .collect();
    Ok(DailyReport { days })
}

/// Coverage per shift (a camera from hand-out to return).
pub(crate) async fn shifts(
    app: &App,
    who: &Principal,
    r: &Range,
) -> Result<ShiftsReport, ApiError> {
    let d = load(app, who, r).await?;
    let assignments: Vec<(kordon_store::meta::Assignment, Assignment)> = app
        .meta
        .assignments_between(d.from, d.to)
        .await?
        .into_iter()
        .filter(|a| {
            r.crossing_point
                .as_ref()
                .is_none_or(|c| *c == a.crossing_point)
        })
        .filter(|a| r.officer.as_ref().is_none_or(|o| *o == a.officer))
        .filter(|a| {
            who.sees_footage(std::iter::once((
                a.crossing_point.as_str(),
                a.officer.as_str(),
            )))
        })
        .map(|a| {
            let span = Span::new(a.start_ms, a.end_ms.unwrap_or(i64::MAX));
            let camera = a.device_id.clone();
            let officer = a.officer.clone();
            (
                a,
                Assignment {
                    camera,
                    officer,
                    span,
                },
            )
        })
        .collect();
    let plain: Vec<Assignment> = assignments.iter().map(|(_, a)| a.clone()).collect();
    let facts = d.facts();
    let shifts = aggregate::shifts(&plain, &facts)
        .into_iter()
        .zip(&assignments)
        .map(|(s, (a, _))| {
            let tz = d.tz(&a.crossing_point);
            Shift {
                crossing_point: a.crossing_point.clone(),
                officer: a.officer.clone(),
                camera: a.device_id.clone(),
                start: Timestamp(a.start_ms).to_string(),
                start_local: local(a.start_ms, tz),
                end: a.end_ms.map(|e| Timestamp(e).to_string()),
                end_local: a.end_ms.map(|e| local(e, tz)),
                inspections: s.inspections,
                duration_seconds: s.duration_ms as f64 / 1000.0,
                covered_seconds: s.covered_ms as f64 / 1000.0,
                coverage: share(s.covered_ms, s.duration_ms),
                unexplained_gaps: s.unexplained_gaps,
                stops_in_inspections: s.stops.len(),
            }
        })
        .collect();
    Ok(ShiftsReport { shifts })
}

/// Inspection durations per crossing point, lane and local
/// day, their distribution per crossing point and lane, and the trend of the daily median.
pub(crate) async fn clearance(
    app: &App,
    who: &Principal,
    r: &Range,
) -> Result<ClearanceReport, ApiError> {
    let d = load(app, who, r).await?;
    let facts = d.facts();
    let by_day = aggregate::clearance(&facts);
    let trend = aggregate::trend(&by_day);
    let clearance = by_day
        .iter()
        .map(|((cp, lane, day), c)| ClearanceDay {
            crossing_point: cp.clone(),
            lane: lane.clone(),
            day: day.clone(),
            time_zone: d.zone_name(cp).to_owned(),
            inspections: c.count,
            p50_seconds: c.p50_s,
            p90_seconds: c.p90_s,
            mean_seconds: c.mean_s,
        })
        .collect();
    let mut bounds: Vec<String> = Vec::new();
    let mut lower = 0;
    for b in aggregate::CLEARANCE_BUCKETS_S {
        bounds.push(format!("{lower}-{b}"));
        lower = b;
    }
    bounds.push(format!("{lower}-"));
    let distribution = aggregate::distribution(&facts)
        .into_iter()
        .map(|((cp, lane), counts)| Distribution {
            p50_seconds_per_day_trend: trend.get(&(cp.clone(), lane.clone())).copied(),
            crossing_point: cp,
            lane,
            buckets: bounds
                .iter()
                .zip(counts)
                .map(|(b, n)| Bucket {
                    seconds: b.clone(),
                    inspections: n,
                })
                .collect(),
        })
        .collect();
    Ok(ClearanceReport {
        clearance,
        distribution,
    })
}

/// Every gap with its class and reason; officers with repeated
/// unexplained gaps; recording stops inside inspections; anomalies (unexplained gaps
/// clustering on a vehicle plate or a declarant, gaps starting within a minute of an
/// inspection's start).
pub(crate) async fn gaps(app: &App, who: &Principal, r: &Range) -> Result<GapsReport, ApiError> {
    let d = load(app, who, r).await?;
    let facts = d.facts();
    let time = |ms: i64, cp: &str| (Timestamp(ms).to_string(), local(ms, d.tz(cp)));
    let mut gaps = Vec::new();
    let mut stops = Vec::new();
    for x in &d.rows {
        let cp = &x.li.row.crossing_point;
        for ((s, class), ok) in x.coverage.uncovered.iter().zip(&x.explained) {
            let (from, from_local) = time(s.start, cp);
            gaps.push(Gap {
                inspection_id: x.li.row.id.clone(),
                crossing_point: cp.clone(),
                officers: x.li.row.officers.join(";"),
                from,
                from_local,
                to: Timestamp(s.end).to_string(),
                seconds: s.len() as f64 / 1000.0,
                class: class.as_str().to_owned(),
                reason: reason_for(&x.reasons, s).map(|g| g.reason),
                explained: *ok,
            });
        }
        for s in &x.coverage.stops {
            let (at, at_local) = time(s.at_ms, cp);
            stops.push(StopInInspection {
                inspection_id: x.li.row.id.clone(),
                at,
                at_local,
                camera: s.camera.clone(),
                kind: s.kind.clone(),
            });
        }
    }
    let repeated = aggregate::repeated_unexplained(&facts, 2)
        .into_iter()
        .map(|(officer, unexplained_gaps, inspections)| Repeated {
            officer,
            unexplained_gaps,
            inspections,
        })
        .collect();
    let a = aggregate::anomalies(&facts);
    let cluster = |c: &aggregate::Cluster| Cluster {
        key: c.key.clone(),
        inspections: c.inspections.clone(),
    };
    let early_gaps = a
        .early_gaps
        .iter()
        .map(|g| {
            let cp = d
                .get(&g.inspection)
                .map_or("", |x| x.li.row.crossing_point.as_str());
            let (from, from_local) = time(g.gap.start, cp);
            EarlyGap {
                inspection_id: g.inspection.clone(),
                from,
                from_local,
                seconds: g.gap.len() as f64 / 1000.0,
                class: g.class.as_str().to_owned(),
            }
        })
        .collect();
    Ok(GapsReport {
        gaps,
        repeated_unexplained: repeated,
        stops_in_inspections: stops,
        anomalies: Anomalies {
            plates: a.plates.iter().map(cluster).collect(),
            declarants: a.declarants.iter().map(cluster).collect(),
            early_gaps,
        },
    })
}
