//! Aggregates for people who compare: coverage per crossing point, local day, officer
//! and shift; clearance times (inspection durations) per crossing point and lane, their
//! distribution and trend; and the anomalies worth a look. Days are the crossing point's
//! local days, computed with its IANA time zone (so a day around a DST change has 23 or
//! 25 hours).

use std::collections::{BTreeMap, BTreeSet};

use jiff::tz::TimeZone;

use crate::coverage::{Assignment, Coverage, GapClass, Stop};
use crate::span::Span;

/// One inspection's facts, as the aggregates need them.
#[derive(Debug, Clone)]
pub struct Fact<'a> {
    /// Inspection id.
    pub id: &'a str,
    /// Crossing point code.
    pub crossing_point: &'a str,
    /// Its time zone.
    pub tz: &'a TimeZone,
    /// Lane.
    pub lane: &'a str,
    /// Officers.
    pub officers: &'a [String],
    /// Start, Unix ms.
    pub start_ms: i64,
    /// Normalised vehicle plate (empty when none).
    pub plate_norm: &'a str,
    /// Declarant (empty when not known).
    pub declarant: &'a str,
    /// Its coverage.
    pub coverage: &'a Coverage,
    /// For each gap of `coverage.uncovered`: whether an approved reason explains it.
    pub explained: &'a [bool],
}

impl Fact<'_> {
    /// Gaps without an approved reason.
    pub fn unexplained(&self) -> usize {
        self.unexplained_gaps().count()
    }

    fn unexplained_gaps(&self) -> impl Iterator<Item = &(Span, GapClass)> {
        self.coverage
            .uncovered
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.explained.get(*i).copied().unwrap_or(false))
            .map(|(_, g)| g)
    }
}

/// Coverage per (crossing point, local day, officer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayRow {
    /// Inspections.
    pub inspections: usize,
    /// Total inspection time, ms.
    pub duration_ms: i64,
    /// Recorded part, ms.
    pub covered_ms: i64,
    /// Recorded at night, ms.
    pub night_ms: i64,
    /// Inspections with no recording at all.
    pub uncovered_inspections: usize,
    /// Gaps without an approved reason.
    pub unexplained_gaps: usize,
}

/// The local date (`YYYY-MM-DD`) of an instant in a zone.
pub fn local_day(ms: i64, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => tz.to_datetime(t).date().to_string(),
        Err(_) => "invalid".into(),
    }
}

/// Groups by crossing point, local day of the start, and officer (an inspection with two
/// officers counts for each).
pub fn daily(facts: &[Fact<'_>]) -> BTreeMap<(String, String, String), DayRow> {
    let mut out: BTreeMap<(String, String, String), DayRow> = BTreeMap::new();
    for f in facts {
        let day = local_day(f.start_ms, f.tz);
        for o in f.officers {
            let r = out
                .entry((f.crossing_point.to_owned(), day.clone(), o.clone()))
                .or_default();
            r.inspections += 1;
            r.duration_ms += f.coverage.duration_ms;
            r.covered_ms += f.coverage.covered_ms;
            r.night_ms += f.coverage.night_ms;
            r.uncovered_inspections += usize::from(f.coverage.covered_ms == 0);
            r.unexplained_gaps += f.unexplained();
        }
    }
    out
}

/// Upper bounds (seconds, exclusive) of the clearance-time histogram's buckets; the last
/// bucket holds everything longer.
pub const CLEARANCE_BUCKETS_S: [i64; 5] = [300, 600, 1200, 1800, 3600];

/// Clearance-time histogram per (crossing point, lane): counts per bucket of
/// [`CLEARANCE_BUCKETS_S`] plus one for longer.
pub fn distribution(facts: &[Fact<'_>]) -> BTreeMap<(String, String), Vec<usize>> {
    let mut out: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for f in facts {
        let counts = out
            .entry((f.crossing_point.to_owned(), f.lane.to_owned()))
            .or_insert_with(|| vec![0; CLEARANCE_BUCKETS_S.len() + 1]);
        let b = CLEARANCE_BUCKETS_S.partition_point(|b| f.coverage.duration_ms >= b * 1000);
        counts[b] += 1;
    }
    out
}

/// Trend of the daily median clearance time per (crossing point, lane): the
/// least-squares slope in seconds per day over the local days present (at least two).
pub fn trend(
    by_day: &BTreeMap<(String, String, String), Clearance>,
) -> BTreeMap<(String, String), f64> {
    let mut series: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
    for ((cp, lane, day), c) in by_day {
        if let Ok(d) = day.parse::<jiff::civil::Date>() {
            let x = d
                .since(jiff::civil::date(2000, 1, 1))
                .map_or(0.0, |s| f64::from(s.get_days()));
            series
                .entry((cp.clone(), lane.clone()))
                .or_default()
                .push((x, c.p50_s));
        }
    }
    series
        .into_iter()
        .filter(|(_, v)| v.len() >= 2)
        .map(|(k, v)| {
            let n = v.len() as f64;
            let mx = v.iter().map(|p| p.0).sum::<f64>() / n;
            let my = v.iter().map(|p| p.1).sum::<f64>() / n;
            let sxy: f64 = v.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
            let sxx: f64 = v.iter().map(|p| (p.0 - mx).powi(2)).sum();
            (k, if sxx > 0.0 { sxy / sxx } else { 0.0 })
        })
        .collect()
}

/// Inspections that share a key and each have an unexplained gap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// The shared plate (normalised) or declarant.
    pub key: String,
    /// The inspections, by start.
    pub inspections: Vec<String>,
}

/// A gap that starts within [`EARLY_GAP_MS`] of its inspection's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlyGap {
    /// The inspection.
    pub inspection: String,
    /// The gap.
    pub gap: Span,
    /// Its class.
    pub class: GapClass,
}

/// How soon after an inspection starts a gap is "early".
pub const EARLY_GAP_MS: i64 = 60_000;

/// Anomalies worth a look.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anomalies {
    /// Unexplained gaps clustering on the same vehicle plate (two or more inspections).
    pub plates: Vec<Cluster>,
    /// Unexplained gaps clustering on the same declarant (two or more inspections).
    pub declarants: Vec<Cluster>,
    /// Unexplained gaps that start within a minute of the inspection's start. Gaps of no
    /// camera (`not_assigned`) or of footage still on the way (`not_yet_uploaded`) are left
    /// out: they say nothing about a camera stopping as an inspection begins.
    pub early_gaps: Vec<EarlyGap>,
}

/// Finds the [`Anomalies`].
pub fn anomalies(facts: &[Fact<'_>]) -> Anomalies {
    let mut plates: BTreeMap<&str, BTreeSet<(i64, &str)>> = BTreeMap::new();
    let mut declarants: BTreeMap<String, BTreeSet<(i64, &str)>> = BTreeMap::new();
    let mut early_gaps = Vec::new();
    for f in facts {
        if f.unexplained() == 0 {
            continue;
        }
        if !f.plate_norm.is_empty() {
            plates
                .entry(f.plate_norm)
                .or_default()
                .insert((f.start_ms, f.id));
        }
        let d = f.declarant.trim().to_lowercase();
        if !d.is_empty() {
            declarants.entry(d).or_default().insert((f.start_ms, f.id));
        }
        for (gap, class) in f.unexplained_gaps() {
            let offset = gap.start - f.start_ms;
            if (0..=EARLY_GAP_MS).contains(&offset)
                && !matches!(class, GapClass::NotAssigned | GapClass::NotYetUploaded)
            {
                early_gaps.push(EarlyGap {
                    inspection: f.id.to_owned(),
                    gap: *gap,
                    class: *class,
                });
            }
        }
    }
    let clusters = |m: BTreeMap<String, BTreeSet<(i64, &str)>>| {
        m.into_iter()
            .filter(|(_, v)| v.len() >= 2)
            .map(|(key, v)| Cluster {
                key,
                inspections: v.into_iter().map(|(_, id)| id.to_owned()).collect(),
            })
            .collect()
    };
    Anomalies {
        plates: clusters(plates.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
        declarants: clusters(declarants),
        early_gaps,
    }
}

/// Officers with at least `min` unexplained gaps: `(officer, gaps, inspections)`, most
/// gaps first.
pub fn repeated_unexplained(facts: &[Fact<'_>], min: usize) -> Vec<(String, usize, Vec<String>)> {
    let mut by: BTreeMap<&str, (usize, Vec<String>)> = BTreeMap::new();
    for f in facts {
        let n = f.unexplained();
        if n == 0 {
            continue;
        }
        for o in f.officers {
            let e = by.entry(o).or_default();
            e.0 += n;
            e.1.push(f.id.to_owned());
        }
    }
    let mut out: Vec<(String, usize, Vec<String>)> = by
        .into_iter()
        .filter(|(_, (n, _))| *n >= min)
        .map(|(o, (n, ids))| (o.to_owned(), n, ids))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// Coverage of one shift: a camera in one officer's hands from hand-out to return.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftRow<'a> {
    /// The assignment.
    pub assignment: &'a Assignment,
    /// Inspections of the officer that started during the shift.
    pub inspections: usize,
    /// Their total time, ms.
    pub duration_ms: i64,
    /// Their recorded time, ms.
    pub covered_ms: i64,
    /// Gaps without an approved reason.
    pub unexplained_gaps: usize,
    /// Recording-ending events of this camera during those inspections.
    pub stops: Vec<&'a Stop>,
}

/// Groups inspections by shift (assignment); an inspection with two officers counts for
/// the shift of each.
pub fn shifts<'a>(assignments: &'a [Assignment], facts: &'a [Fact<'a>]) -> Vec<ShiftRow<'a>> {
    assignments
        .iter()
        .map(|a| {
            let mine = facts.iter().filter(|f| {
                f.officers.contains(&a.officer)
                    && a.span.start <= f.start_ms
                    && f.start_ms < a.span.end
            });
            let mut row = ShiftRow {
                assignment: a,
                inspections: 0,
                duration_ms: 0,
                covered_ms: 0,
                unexplained_gaps: 0,
                stops: Vec::new(),
            };
            for f in mine {
                row.inspections += 1;
                row.duration_ms += f.coverage.duration_ms;
                row.covered_ms += f.coverage.covered_ms;
                row.unexplained_gaps += f.unexplained();
                row.stops
                    .extend(f.coverage.stops.iter().filter(|s| s.camera == a.camera));
            }
            row
        })
        .collect()
}

/// Clearance-time statistics of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Clearance {
    /// Inspections.
    pub count: usize,
    /// Median duration, seconds.
    pub p50_s: f64,
    /// 90th percentile, seconds.
    pub p90_s: f64,
    /// Mean, seconds.
    pub mean_s: f64,
}

fn stats(mut d: Vec<i64>) -> Clearance {
    d.sort_unstable();
    let pick = |p: f64| d[((d.len() as f64 - 1.0) * p).round() as usize] as f64 / 1000.0;
    Clearance {
        count: d.len(),
        p50_s: pick(0.5),
        p90_s: pick(0.9),
        mean_s: d.iter().sum::<i64>() as f64 / d.len() as f64 / 1000.0,
    }
}

/// Clearance times per (crossing point, lane, local day).
pub fn clearance(facts: &[Fact<'_>]) -> BTreeMap<(String, String, String), Clearance> {
    let mut groups: BTreeMap<(String, String, String), Vec<i64>> = BTreeMap::new();
    for f in facts {
        groups
            .entry((
                f.crossing_point.to_owned(),
                f.lane.to_owned(),
                local_day(f.start_ms, f.tz),
            ))
            .or_default()
            .push(f.coverage.duration_ms);
    }
    groups.into_iter().map(|(k, v)| (k, stats(v))).collect()
}

#[cfg(test)]
mod tests;
