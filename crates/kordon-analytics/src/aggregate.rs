//! Aggregates for people who compare: coverage per crossing point, local day and officer,
//! and clearance times (inspection durations) per crossing point and lane. Days are the
//! crossing point's local days, computed with its IANA time zone (so a day around a DST
//! change has 23 or 25 hours).

use std::collections::BTreeMap;

use jiff::tz::TimeZone;

use crate::coverage::Coverage;

/// One inspection's facts, as the aggregates need them.
#[derive(Debug, Clone)]
pub struct Fact<'a> {
    /// Crossing point code.
    pub checkpoint: &'a str,
    /// Its time zone.
    pub tz: &'a TimeZone,
    /// Lane.
    pub lane: &'a str,
    /// Officers.
    pub officers: &'a [String],
    /// Start, Unix ms.
    pub start_ms: i64,
    /// Its coverage.
    pub coverage: &'a Coverage,
    /// Gaps without an approved reason.
    pub unexplained: usize,
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
                .entry((f.checkpoint.to_owned(), day.clone(), o.clone()))
                .or_default();
            r.inspections += 1;
            r.duration_ms += f.coverage.duration_ms;
            r.covered_ms += f.coverage.covered_ms;
            r.night_ms += f.coverage.night_ms;
            r.uncovered_inspections += usize::from(f.coverage.covered_ms == 0);
            r.unexplained_gaps += f.unexplained;
        }
    }
    out
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
                f.checkpoint.to_owned(),
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
        let (a, b, c) = (cov(600, 600), cov(300, 0), cov(900, 450));
        let one = vec!["UA-1".to_owned()];
        let two = vec!["UA-1".to_owned(), "UA-2".to_owned()];
        let facts = vec![
            Fact {
                checkpoint: "P",
                tz: &kyiv,
                lane: "1",
                officers: &one,
                start_ms: ms("2026-03-28T21:00:00Z"),
                coverage: &a,
                unexplained: 0,
            },
            Fact {
                checkpoint: "P",
                tz: &kyiv,
                lane: "1",
                officers: &two,
                start_ms: ms("2026-03-28T22:30:00Z"),
                coverage: &b,
                unexplained: 1,
            },
            Fact {
                checkpoint: "P",
                tz: &kyiv,
                lane: "2",
                officers: &one,
                start_ms: ms("2026-03-29T10:00:00Z"),
                coverage: &c,
                unexplained: 2,
            },
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
}
