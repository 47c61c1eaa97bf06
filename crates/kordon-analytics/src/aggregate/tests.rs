//! Unit tests of `aggregate`.

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
