//! `kordon search`, `kordon report ...` and `kordon bookmark add|list`.

use anyhow::Result;
use clap::Subcommand;
use kordon_api::Created;
use kordon_api::inspections::{
    BookmarkIn, BookmarkList, BookmarkQuery, InspectionCoverage, InspectionList, SearchQuery,
};
use kordon_api::reports::{ClearanceReport, DailyReport, GapsReport, Range, ShiftsReport};

use super::output::{self, FORMATS};
use crate::client::{Client, Remote, block_on};

/// `kordon search`.
#[derive(clap::Args)]
pub(crate) struct SearchArgs {
    /// Starts at or after, RFC 3339.
    #[arg(long)]
    from: Option<String>,
    /// Starts before, RFC 3339.
    #[arg(long)]
    to: Option<String>,
    /// Crossing point code.
    #[arg(long)]
    crossing_point: Option<String>,
    /// Lane.
    #[arg(long)]
    lane: Option<String>,
    /// Officer's service number.
    #[arg(long)]
    officer: Option<String>,
    /// Inspection id.
    #[arg(long)]
    inspection: Option<String>,
    /// Declaration number.
    #[arg(long)]
    declaration: Option<String>,
    /// Vehicle plate, any spelling (Cyrillic or Latin letters, spaces, case).
    #[arg(long)]
    plate: Option<String>,
    /// A camera assigned to one of the officers during the inspection.
    #[arg(long)]
    device: Option<String>,
    /// Text in a bookmark on the inspection.
    #[arg(long)]
    bookmark: Option<String>,
    /// At most this many (1-1000, default 100).
    #[arg(long)]
    limit: Option<i64>,
    /// Continue after the page that ended here (printed as `more: --after ...`).
    #[arg(long)]
    after: Option<String>,
    /// Output format.
    #[arg(long, value_parser = FORMATS, default_value = "table")]
    format: String,
    #[command(flatten)]
    remote: Remote,
}

/// Finds inspections by time, place, lane, officer, id, declaration or vehicle plate.
pub(crate) fn search(a: SearchArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    let q = SearchQuery {
        from: a.from,
        to: a.to,
        crossing_point: a.crossing_point,
        lane: a.lane,
        officer: a.officer,
        device: a.device,
        inspection_id: a.inspection,
        declaration_no: a.declaration,
        vehicle_plate: a.plate,
        bookmark: a.bookmark,
        limit: a.limit,
        after: a.after,
    };
    block_on(async {
        let v: InspectionList = c.get_with("/v1/search/inspections", &q).await?;
        if let Some(next) = &v.next {
            eprintln!("more: --after {next}");
        }
        print_coverage(&v, &a.format)
    })
}

/// Which report.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportKind {
    /// Coverage of every inspection, with its uncovered intervals and their class.
    Coverage,
    /// Every gap with its class and reason; officers with repeated unexplained gaps;
    /// recording stops inside inspections; anomalies.
    Gaps,
    /// Coverage per crossing point, local day and officer.
    Daily,
    /// Coverage per shift (a camera from hand-out to return).
    Shifts,
    /// Clearance times per crossing point, lane and local day; distribution and trend.
    Clearance,
}

/// `kordon report`.
#[derive(clap::Args)]
pub(crate) struct ReportArgs {
    /// Which report.
    #[arg(value_enum)]
    kind: ReportKind,
    /// Start of the range, RFC 3339 (e.g. 2026-11-28T00:00:00+02:00).
    #[arg(long)]
    from: String,
    /// End of the range, RFC 3339.
    #[arg(long)]
    to: String,
    /// Only this crossing point.
    #[arg(long)]
    crossing_point: Option<String>,
    /// Only inspections of this officer (service number).
    #[arg(long)]
    officer: Option<String>,
    /// Output format.
    #[arg(long, value_parser = FORMATS, default_value = "table")]
    format: String,
    #[command(flatten)]
    remote: Remote,
}

/// Reports over the inspections that started in a time range.
pub(crate) fn report(a: ReportArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    let r = Range {
        from: a.from,
        to: a.to,
        crossing_point: a.crossing_point,
        officer: a.officer,
    };
    let f = a.format.as_str();
    block_on(async {
        match a.kind {
            ReportKind::Coverage => {
                let v: InspectionList = c.get_with("/v1/reports/coverage", &r).await?;
                print_coverage(&v, f)
            }
            ReportKind::Daily => {
                let v: DailyReport = c.get_with("/v1/reports/daily", &r).await?;
                if f == "json" {
                    return output::json(&v);
                }
                output::rows(&v.days, f)
            }
            ReportKind::Shifts => {
                let v: ShiftsReport = c.get_with("/v1/reports/shifts", &r).await?;
                if f == "json" {
                    return output::json(&v);
                }
                output::rows(&v.shifts, f)
            }
            ReportKind::Gaps => {
                let v: GapsReport = c.get_with("/v1/reports/gaps", &r).await?;
                print_gaps(&v, f)
            }
            ReportKind::Clearance => {
                let v: ClearanceReport = c.get_with("/v1/reports/clearance", &r).await?;
                print_clearance(&v, f)
            }
        }
    })
}

fn print_gaps(v: &GapsReport, f: &str) -> Result<i32> {
    if f == "json" {
        return output::json(v);
    }
    output::rows(&v.gaps, f)?;
    if f == "table" {
        println!("\nofficers with repeated unexplained gaps:");
        output::rows(&v.repeated_unexplained, f)?;
        println!("\nrecording stops inside inspections:");
        output::rows(&v.stops_in_inspections, f)?;
        println!("\nanomaly: unexplained gaps on the same vehicle plate:");
        output::rows(&v.anomalies.plates, f)?;
        println!("\nanomaly: unexplained gaps with the same declarant:");
        output::rows(&v.anomalies.declarants, f)?;
        println!("\nanomaly: gaps starting within a minute of the inspection's start:");
        output::rows(&v.anomalies.early_gaps, f)?;
    }
    Ok(0)
}

fn print_clearance(v: &ClearanceReport, f: &str) -> Result<i32> {
    if f == "json" {
        return output::json(v);
    }
    output::rows(&v.clearance, f)?;
    if f == "table" {
        println!();
        println!(
            "distribution (inspections per duration bucket, seconds) and trend of the daily median:"
        );
        for d in &v.distribution {
            let buckets: Vec<String> = d
                .buckets
                .iter()
                .map(|b| format!("{}: {}", b.seconds, b.inspections))
                .collect();
            let trend = d
                .p50_seconds_per_day_trend
                .map_or("n/a".to_owned(), |t| format!("{t:+.1} s/day"));
            println!(
                "  {} lane {}  {}  trend {trend}",
                d.crossing_point,
                d.lane,
                buckets.join("  ")
            );
        }
    }
    Ok(0)
}

/// The uncovered intervals: `from/to/class;...` in RFC 3339 UTC for CSV, or local clock
/// times (the crossing point's zone, named in the start column) for the table.
fn uncovered(r: &InspectionCoverage, local: bool) -> String {
    // 2026-11-29T00:38:49+02:00[Europe/Kyiv] -> 00:38:49
    let clock = |t: &str| {
        t.split_once('T')
            .map_or(t, |(_, rest)| rest.get(..8).unwrap_or(rest))
            .to_owned()
    };
    r.uncovered
        .iter()
        .map(|u| {
            if local {
                format!(
                    "{}–{} {}",
                    clock(&u.from_local),
                    clock(&u.to_local),
                    u.class
                )
            } else {
                format!("{}/{}/{}", u.from, u.to, u.class)
            }
        })
        .collect::<Vec<_>>()
        .join(if local { "; " } else { ";" })
}

/// Seconds as the API writes them (`20.0`, `12.5`).
fn seconds(s: f64) -> String {
    serde_json::Value::from(s).to_string()
}

fn print_coverage(v: &InspectionList, format: &str) -> Result<i32> {
    match format {
        "json" => return output::json(v),
        "csv" => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            output::csv_row(
                &mut w,
                [
                    "inspection_id",
                    "crossing_point",
                    "lane",
                    "officers",
                    "start",
                    "end",
                    "covered_seconds",
                    "duration_seconds",
                    "coverage",
                    "night_seconds",
                    "uncovered",
                ],
            )?;
            for r in &v.inspections {
                output::csv_row(
                    &mut w,
                    [
                        r.inspection_id.as_str(),
                        &r.crossing_point,
                        &r.lane,
                        &r.officers.join(";"),
                        &r.start,
                        &r.end,
                        &seconds(r.covered_seconds),
                        &seconds(r.duration_seconds),
                        &format!("{:.4}", r.coverage),
                        &seconds(r.night_seconds),
                        &uncovered(r, false),
                    ],
                )?;
            }
            w.flush()?;
        }
        _ => {
            println!(
                "{:<16} {:<14} {:<40} {:>9} {:>9} {:>8}  uncovered",
                "inspection",
                "crossing point",
                "start (local)",
                "covered_s",
                "length_s",
                "coverage"
            );
            for r in &v.inspections {
                println!(
                    "{:<16} {:<14} {:<40} {:>9} {:>9} {:>7.1}%  {}",
                    r.inspection_id,
                    r.crossing_point,
                    r.start_local,
                    seconds(r.covered_seconds),
                    seconds(r.duration_seconds),
                    100.0 * r.coverage,
                    uncovered(r, true)
                );
            }
        }
    }
    Ok(0)
}

/// `kordon bookmark ...`.
#[derive(clap::Args)]
pub(crate) struct BookmarkArgs {
    #[command(subcommand)]
    command: BookmarkCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum BookmarkCommand {
    /// Mark a moment of an inspection or of a camera's footage.
    Add {
        /// The inspection.
        #[arg(long)]
        inspection: Option<String>,
        /// The camera.
        #[arg(long)]
        device: Option<String>,
        /// The moment, RFC 3339.
        #[arg(long)]
        at: String,
        /// What to remember.
        label: String,
    },
    /// List bookmarks.
    List {
        /// Text in the label.
        #[arg(long)]
        text: Option<String>,
        /// Of one camera.
        #[arg(long)]
        device: Option<String>,
        /// Output format.
        #[arg(long, value_parser = FORMATS, default_value = "table")]
        format: String,
    },
}

pub(crate) fn bookmark(a: BookmarkArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        match a.command {
            BookmarkCommand::Add {
                inspection,
                device,
                at,
                label,
            } => {
                let body = BookmarkIn {
                    inspection_id: inspection,
                    device,
                    at,
                    label,
                };
                let v: Created = c.post("/v1/bookmarks", &body).await?;
                println!("bookmark {} added (log index {})", v.id, v.log_index);
                Ok(0)
            }
            BookmarkCommand::List {
                text,
                device,
                format,
            } => {
                let q = BookmarkQuery { q: text, device };
                let v: BookmarkList = c.get_with("/v1/bookmarks", &q).await?;
                if format == "json" {
                    return output::json(&v);
                }
                output::rows(&v.bookmarks, &format)
            }
        }
    })
}
