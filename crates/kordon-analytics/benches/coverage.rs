//! Coverage at scale against DuckDB, measured in the same run on the same data.
//!
//! Generated: `KORDON_BENCH_CAMERAS` cameras (10,000 by default), each recording 1,000
//! one-minute segments with small random gaps (10 M segments), one officer per camera
//! on one long shift, and 100 inspections of 10–40 minutes per officer (1 M inspections).
//!
//! 1. kordon: full recomputation of every inspection's coverage (covered time, night time,
//!    every uncovered interval classified) from the cameras' timelines, on 1 and on 2
//!    threads.
//! 2. DuckDB (PyPI `duckdb`, installed with pip when missing): the same interval join
//!    (covered time per inspection) on the same rows, loaded from CSV beforehand; only the
//!    query is timed. Both totals are compared, so both did the same work.
//! 3. Incremental: one late segment arrives; its camera's timeline is rebuilt and the
//!    inspections that overlap it are recomputed.
//!
//! Run: `cargo bench -p kordon-analytics --bench coverage`.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::Command;
use std::time::Instant;

use kordon_analytics::coverage::{Assignment, CameraTimeline, coverage};
use kordon_analytics::span::{Span, SpanSet};

const SEGMENTS: usize = 1000;
const INSPECTIONS: usize = 100;
const T0: i64 = 1_795_849_200_000;

/// splitmix64: a fixed, dependency-free sequence so every run sees the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n) as i64
    }
}

struct Camera {
    segments: Vec<(i64, i64, bool)>,
    inspections: Vec<Span>,
}

fn generate(cameras: usize) -> Vec<Camera> {
    let mut rng = Rng(42);
    (0..cameras)
        .map(|_| {
            let mut t = T0;
            let segments: Vec<(i64, i64, bool)> = (0..SEGMENTS)
                .map(|i| {
                    // One segment in 20 is followed by a gap of up to 2 minutes.
                    if rng.below(20) == 0 {
                        t += rng.below(120_000);
                    }
                    let s = (t, t + 60_000, (600..800).contains(&i));
                    t += 60_000;
                    s
                })
                .collect();
            let mut inspections: Vec<Span> = (0..INSPECTIONS)
                .map(|_| {
                    let start = T0 + rng.below((t - T0) as u64);
                    Span::new(start, start + 600_000 + rng.below(1_800_000))
                })
                .collect();
            inspections.sort();
            Camera {
                segments,
                inspections,
            }
        })
        .collect()
}

fn timeline(segments: &[(i64, i64, bool)]) -> CameraTimeline {
    CameraTimeline {
        recorded: SpanSet::from_spans(segments.iter().map(|s| Span::new(s.0, s.1))),
        night: SpanSet::from_spans(segments.iter().filter(|s| s.2).map(|s| Span::new(s.0, s.1))),
        uploaded_until: segments.last().map(|s| s.1),
        ends_stopped: true,
        ..CameraTimeline::default()
    }
}

fn name(c: usize) -> String {
    format!("cam{c:05}")
}

/// What every inspection needs besides the timelines.
struct World {
    cams: Vec<Camera>,
    officers: Vec<Vec<String>>,
    assignments: Vec<Vec<Assignment>>,
}

impl World {
    /// Coverage of every inspection of the cameras in `range`; returns the covered total.
    fn recompute(
        &self,
        range: std::ops::Range<usize>,
        timelines: &HashMap<String, CameraTimeline>,
    ) -> i64 {
        let mut total = 0;
        for c in range {
            for i in &self.cams[c].inspections {
                total +=
                    coverage(*i, &self.officers[c], &self.assignments[c], timelines).covered_ms;
            }
        }
        total
    }
}

fn duckdb_available() -> bool {
    let ok = || {
        Command::new("python3")
            .args(["-c", "import duckdb"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ok() {
        eprintln!("installing duckdb with pip ...");
        let _ = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "duckdb"])
            .status();
    }
    ok()
}

const DUCKDB: &str = r#"
import sys, time, duckdb
d = sys.argv[1]
con = duckdb.connect()
con.execute(f"CREATE TABLE seg AS SELECT * FROM read_csv('{d}/segments.csv', header=true, columns={{'cam':'INTEGER','s':'BIGINT','e':'BIGINT'}})")
con.execute(f"CREATE TABLE insp AS SELECT * FROM read_csv('{d}/inspections.csv', header=true, columns={{'id':'BIGINT','cam':'INTEGER','s':'BIGINT','e':'BIGINT'}})")
t = time.perf_counter()
con.execute("""CREATE TABLE res AS
  SELECT i.id, SUM(LEAST(s.e, i.e) - GREATEST(s.s, i.s)) AS covered
  FROM insp i JOIN seg s ON s.cam = i.cam AND s.s < i.e AND s.e > i.s
  GROUP BY i.id""")
elapsed = time.perf_counter() - t
total = con.execute("SELECT SUM(covered) FROM res").fetchone()[0]
print(f"{elapsed} {int(total)} {duckdb.__version__}")
"#;

fn write_csv(dir: &std::path::Path, cams: &[Camera]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("segments.csv"))?);
    writeln!(w, "cam,s,e")?;
    for (c, cam) in cams.iter().enumerate() {
        for s in &cam.segments {
            writeln!(w, "{c},{},{}", s.0, s.1)?;
        }
    }
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("inspections.csv"))?);
    writeln!(w, "id,cam,s,e")?;
    let mut id = 0;
    for (c, cam) in cams.iter().enumerate() {
        for i in &cam.inspections {
            writeln!(w, "{id},{c},{},{}", i.start, i.end)?;
            id += 1;
        }
    }
    w.flush()
}

fn main() {
    let cameras: usize = std::env::var("KORDON_BENCH_CAMERAS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let t = Instant::now();
    let cams = generate(cameras);
    let segments: usize = cams.iter().map(|c| c.segments.len()).sum();
    let inspections: usize = cams.iter().map(|c| c.inspections.len()).sum();
    println!(
        "generated {segments} segments, {inspections} inspections, {cameras} cameras in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let world = World {
        officers: (0..cameras).map(|c| vec![format!("UA-{c}")]).collect(),
        assignments: (0..cameras)
            .map(|c| {
                vec![Assignment {
                    camera: name(c),
                    officer: format!("UA-{c}"),
                    span: Span::new(T0, i64::MAX),
                }]
            })
            .collect(),
        cams,
    };

    let t = Instant::now();
    let mut timelines: HashMap<String, CameraTimeline> = (0..cameras)
        .map(|c| (name(c), timeline(&world.cams[c].segments)))
        .collect();
    let build_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let total1 = world.recompute(0..cameras, &timelines);
    let one_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let half = cameras / 2;
    let total2 = std::thread::scope(|s| {
        let a = s.spawn(|| world.recompute(0..half, &timelines));
        let b = world.recompute(half..cameras, &timelines);
        a.join().expect("thread") + b
    });
    let two_s = t.elapsed().as_secs_f64();
    assert_eq!(total1, total2);
    println!("kordon: timelines of all cameras built in {build_s:.2} s");
    println!(
        "kordon: full recomputation, 1 thread:  {one_s:.2} s ({:.0} inspections/s)",
        inspections as f64 / one_s
    );
    println!(
        "kordon: full recomputation, 2 threads: {two_s:.2} s ({:.0} inspections/s)",
        inspections as f64 / two_s
    );

    // Incremental: camera 7's segment 500 arrives late.
    let late = 7 % cameras;
    let mut partial = world.cams[late].segments.clone();
    let seg = partial.remove(500);
    timelines.insert(name(late), timeline(&partial));
    let before = world.recompute(late..late + 1, &timelines);
    let t = Instant::now();
    partial.insert(500, seg);
    timelines.insert(name(late), timeline(&partial));
    let affected: Vec<&Span> = world.cams[late]
        .inspections
        .iter()
        .filter(|i| i.start < seg.1 && seg.0 < i.end)
        .collect();
    for i in &affected {
        coverage(
            **i,
            &world.officers[late],
            &world.assignments[late],
            &timelines,
        );
    }
    let incr = t.elapsed();
    let after = world.recompute(late..late + 1, &timelines);
    assert!(
        affected.is_empty() || after > before,
        "the late segment adds coverage"
    );
    println!(
        "kordon: incremental update after one late segment: {:.3} ms ({} inspections recomputed, timeline of {} segments rebuilt)",
        incr.as_secs_f64() * 1000.0,
        affected.len(),
        partial.len()
    );

    if !duckdb_available() {
        println!("duckdb: not available (pip install duckdb failed); comparison skipped");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let t = Instant::now();
    write_csv(dir.path(), &world.cams).expect("csv");
    println!(
        "(CSV for DuckDB written in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let out = Command::new("python3")
        .args(["-c", DUCKDB, dir.path().to_str().expect("utf8")])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "duckdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut w = text.split_whitespace();
    let duck_s: f64 = w.next().and_then(|v| v.parse().ok()).expect("seconds");
    let duck_total: i64 = w.next().and_then(|v| v.parse().ok()).expect("total");
    let version = w.next().unwrap_or("?");
    assert_eq!(
        duck_total, total1,
        "DuckDB and kordon computed the same coverage"
    );
    println!("duckdb {version}: the interval join (covered time only, all cores): {duck_s:.2} s");
    println!(
        "ratio kordon (2 threads, with classification) / duckdb: {:.2}x the time",
        two_s / duck_s
    );
}
