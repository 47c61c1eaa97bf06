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
mod tests {
    use super::*;

    fn cov(duration_s: i64, covered_s: i64) -> Coverage {
        Coverage {
            duration_ms: duration_s * 1000,
            covered_ms: covered_s * 1000,
            night_ms: 0,
            uncovered: vec![],
            stops: vec![],
        }
    }

    fn fact<'a>(
        id: &'a str,
        tz: &'a TimeZone,
        lane: &'a str,
        officers: &'a [String],
        start: &str,
        coverage: &'a Coverage,
        explained: &'a [bool],
    ) -> Fact<'a> {
        Fact {
            id,
            crossing_point: "P",
            tz,
            lane,
            officers,
            start_ms: ms(start),
            plate_norm: "",
            declarant: "",
            coverage,
            explained,
        }
    }

    /// A coverage of `duration_s` starting at `start` with unrecorded `gaps` (seconds from
    /// the start).
    fn gappy(start: i64, duration_s: i64, gaps: &[(i64, i64, GapClass)]) -> Coverage {
        let uncovered: Vec<(Span, GapClass)> = gaps
            .iter()
            .map(|(a, b, c)| (Span::new(start + a * 1000, start + b * 1000), *c))
            .collect();
        let lost: i64 = uncovered.iter().map(|g| g.0.len()).sum();
        Coverage {
            duration_ms: duration_s * 1000,
            covered_ms: duration_s * 1000 - lost,
            night_ms: 0,
            uncovered,
            stops: vec![],
        }
    }

    fn ms(rfc3339: &str) -> i64 {
        rfc3339
            .parse::<jiff::Timestamp>()
            .expect("time")
            .as_millisecond()
    }

    #[test]
    fn local_days_follow_the_zone_across_dst_changes() {
        let kyiv = TimeZone::get("Europe/Kyiv").expect("zone");
        // 2026-03-29 03:00 local the clocks go forward (+02:00 -> +03:00).
        assert_eq!(local_day(ms("2026-03-28T21:59:00Z"), &kyiv), "2026-03-28"); // 23:59 +02:00
        assert_eq!(local_day(ms("2026-03-28T22:30:00Z"), &kyiv), "2026-03-29"); // 00:30 +02:00
        assert_eq!(local_day(ms("2026-03-29T20:59:00Z"), &kyiv), "2026-03-29"); // 23:59 +03:00
        assert_eq!(local_day(ms("2026-03-29T21:00:00Z"), &kyiv), "2026-03-30"); // 00:00 +03:00
        // 2026-10-25 04:00 local the clocks go back (+03:00 -> +02:00).
        assert_eq!(local_day(ms("2026-10-24T20:59:00Z"), &kyiv), "2026-10-24"); // 23:59 +03:00
        assert_eq!(local_day(ms("2026-10-24T21:30:00Z"), &kyiv), "2026-10-25"); // 00:30 +03:00
        assert_eq!(local_day(ms("2026-10-25T21:59:00Z"), &kyiv), "2026-10-25"); // 23:59 +02:00
        assert_eq!(local_day(ms("2026-10-25T22:00:00Z"), &kyiv), "2026-10-26");
        let utc = TimeZone::UTC;
        assert_eq!(local_day(ms("2026-03-28T22:30:00Z"), &utc), "2026-03-28");
    }

    #[test]
    fn daily_and_clearance_groups() {
        let kyiv = TimeZone::get("Europe/Kyiv").expect("zone");
        let a = cov(600, 600);
        let b = gappy(0, 300, &[(0, 300, GapClass::NoRecording)]);
        let c = gappy(
            0,
            900,
            &[
                (0, 200, GapClass::NoRecording),
                (300, 550, GapClass::DeviceFault),
            ],
        );
        let one = vec!["UA-1".to_owned()];
        let two = vec!["UA-1".to_owned(), "UA-2".to_owned()];
        let (e0, e1, e2) = ([], [false], [false, false]);
        let facts = vec![
            fact("a", &kyiv, "1", &one, "2026-03-28T21:00:00Z", &a, &e0),
            fact("b", &kyiv, "1", &two, "2026-03-28T22:30:00Z", &b, &e1),
            fact("c", &kyiv, "2", &one, "2026-03-29T10:00:00Z", &c, &e2),
        ];
        let d = daily(&facts);
        let key = |day: &str, o: &str| ("P".to_owned(), day.to_owned(), o.to_owned());
        assert_eq!(
            d[&key("2026-03-28", "UA-1")],
            DayRow {
                inspections: 1,
                duration_ms: 600_000,
                covered_ms: 600_000,
                ..Default::default()
            }
        );
        assert_eq!(
            d[&key("2026-03-29", "UA-1")],
            DayRow {
                inspections: 2,
                duration_ms: 1_200_000,
                covered_ms: 450_000,
                uncovered_inspections: 1,
                unexplained_gaps: 3,
                night_ms: 0
            }
        );
        assert_eq!(d[&key("2026-03-29", "UA-2")].inspections, 1);
        assert_eq!(d.len(), 3);
        let cl = clearance(&facts);
        let lane1 = &cl[&("P".to_owned(), "1".to_owned(), "2026-03-29".to_owned())];
        assert_eq!((lane1.count, lane1.p50_s), (1, 300.0));
        assert_eq!(cl.len(), 3);
    }

    #[test]
    fn anomalies_cluster_on_plates_and_declarants_and_catch_early_gaps() {
        let utc = TimeZone::UTC;
        let one = vec!["UA-1".to_owned()];
        let two = vec!["UA-2".to_owned()];
        let t = ms("2026-11-28T08:00:00Z");
        // x1: a stop 30 s in (early, unexplained); x2: same plate, gap late; x3: same
        // plate but its gap is explained; x4: early gap of no camera (left out); x5: a gap
        // starting 61 s in (not early).
        let x1 = gappy(t, 600, &[(30, 90, GapClass::StoppedByWearer)]);
        let x2 = gappy(t + 3_600_000, 600, &[(400, 500, GapClass::MissingSegments)]);
        let x3 = gappy(t + 7_200_000, 600, &[(0, 100, GapClass::DeviceFault)]);
        let x4 = gappy(t + 9_000_000, 600, &[(0, 600, GapClass::NotAssigned)]);
        let x5 = gappy(t + 10_000_000, 600, &[(61, 70, GapClass::NoRecording)]);
        let (no, yes) = ([false], [true]);
        let mut f = vec![
            fact("x1", &utc, "1", &one, "2026-11-28T08:00:00Z", &x1, &no),
            fact("x2", &utc, "1", &one, "2026-11-28T09:00:00Z", &x2, &no),
            fact("x3", &utc, "1", &two, "2026-11-28T10:00:00Z", &x3, &yes),
            fact("x4", &utc, "1", &two, "2026-11-28T10:30:00Z", &x4, &no),
            fact("x5", &utc, "1", &two, "2026-11-28T10:46:40Z", &x5, &no),
        ];
        for (i, p) in ["AA1234BB", "AA1234BB", "AA1234BB", "", "KA0001AA"]
            .into_iter()
            .enumerate()
        {
            f[i].plate_norm = p;
        }
        f[1].declarant = "TOV Romashka ";
        f[4].declarant = "tov romashka";
        let a = anomalies(&f);
        assert_eq!(
            a.plates,
            vec![Cluster {
                key: "AA1234BB".into(),
                inspections: vec!["x1".into(), "x2".into()]
            }]
        );
        assert_eq!(
            a.declarants,
            vec![Cluster {
                key: "tov romashka".into(),
                inspections: vec!["x2".into(), "x5".into()]
            }]
        );
        assert_eq!(
            a.early_gaps,
            vec![EarlyGap {
                inspection: "x1".into(),
                gap: Span::new(t + 30_000, t + 90_000),
                class: GapClass::StoppedByWearer
            }]
        );
        assert_eq!(
            repeated_unexplained(&f, 2),
            vec![
                ("UA-1".to_owned(), 2, vec!["x1".to_owned(), "x2".to_owned()]),
                ("UA-2".to_owned(), 2, vec!["x4".to_owned(), "x5".to_owned()]),
            ]
        );
        assert_eq!(repeated_unexplained(&f, 3), vec![]);
    }

    #[test]
    fn shifts_distribution_and_trend() {
        let utc = TimeZone::UTC;
        let one = vec!["UA-1".to_owned()];
        let t = ms("2026-11-28T08:00:00Z");
        let mut x1 = gappy(t, 240, &[(10, 40, GapClass::StoppedByWearer)]);
        x1.stops = vec![
            Stop {
                at_ms: t + 10_000,
                camera: "cam-a".into(),
                kind: "record-stop".into(),
            },
            Stop {
                at_ms: t + 20_000,
                camera: "cam-b".into(),
                kind: "record-stop".into(),
            },
        ];
        let x2 = cov(700, 700);
        let x3 = cov(4000, 4000);
        let no = [false];
        let f = vec![
            fact("x1", &utc, "1", &one, "2026-11-28T08:00:00Z", &x1, &no),
            fact("x2", &utc, "1", &one, "2026-11-29T09:00:00Z", &x2, &[]),
            fact("x3", &utc, "1", &one, "2026-11-30T21:00:00Z", &x3, &[]),
        ];
        let shifts_of = [
            Assignment {
                camera: "cam-a".into(),
                officer: "UA-1".into(),
                span: Span::new(ms("2026-11-28T07:00:00Z"), ms("2026-11-29T10:00:00Z")),
            },
            Assignment {
                camera: "cam-b".into(),
                officer: "UA-1".into(),
                span: Span::new(ms("2026-11-30T20:00:00Z"), i64::MAX),
            },
            Assignment {
                camera: "cam-c".into(),
                officer: "UA-2".into(),
                span: Span::new(ms("2026-11-28T07:00:00Z"), i64::MAX),
            },
        ];
        let s = shifts(&shifts_of, &f);
        assert_eq!(
            s.iter()
                .map(|r| (
                    r.inspections,
                    r.duration_ms,
                    r.covered_ms,
                    r.unexplained_gaps
                ))
                .collect::<Vec<_>>(),
            vec![
                (2, 940_000, 910_000, 1),
                (1, 4_000_000, 4_000_000, 0),
                (0, 0, 0, 0)
            ]
        );
        assert_eq!(
            s[0].stops,
            vec![&x1.stops[0]],
            "only the shift's own camera"
        );
        let d = distribution(&f);
        assert_eq!(d[&("P".to_owned(), "1".to_owned())], vec![1, 0, 1, 0, 0, 1]);
        let by_day = clearance(&f);
        let tr = trend(&by_day);
        // 240 s, 700 s, 4000 s on three consecutive days: slope 1880 s/day.
        assert!((tr[&("P".to_owned(), "1".to_owned())] - 1880.0).abs() < 1e-9);
    }
}
