//! `kordon inspections import` and `kordon gap reason|approve|reject`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use kordon_api::inspections::{
    DecisionIn, GapReasonIn, GapReasonState, ImportResults, ImportStatus,
};
use serde_json::{Map, Value};

use crate::client::{Client, Remote, block_on};

/// The CSV columns, in this order, with a header row; a trailing `declarant` column may
/// follow.
pub(crate) const COLUMNS: [&str; 10] = [
    "inspection_id",
    "crossing_point",
    "lane",
    "officers",
    "start",
    "end",
    "vehicle_plate",
    "declaration_no",
    "kind",
    "outcome",
];

const BATCH: usize = 500;

/// `kordon inspections ...`.
#[derive(clap::Args)]
pub(crate) struct InspectionsArgs {
    #[command(subcommand)]
    command: InspectionsCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum InspectionsCommand {
    /// Import a CSV file: inspection_id,crossing_point,lane,officers,start,end,vehicle_plate,declaration_no,kind,outcome
    Import {
        /// The CSV file (with a header row).
        file: PathBuf,
    },
}

pub(crate) fn inspections(a: InspectionsArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    let InspectionsCommand::Import { file } = a.command;
    block_on(import(&c, &file))
}

/// Imports a CSV file; prints one line per bad row (with its line number and reason) and
/// a summary. Exit code 2 if any row was refused.
async fn import(c: &Client, file: &Path) -> Result<i32> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("reading {}", file.display()))?;
    let header: Vec<String> = rdr.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    let mut columns: Vec<&str> = COLUMNS.to_vec();
    if header.len() == COLUMNS.len() + 1 {
        columns.push("declarant");
    }
    if header != columns {
        bail!(
            "{}: the header must be {} (optionally followed by ,declarant)",
            file.display(),
            COLUMNS.join(",")
        );
    }
    let total = std::fs::read_to_string(file)
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0);
    let pb = ProgressBar::new(total as u64);
    pb.set_style(
        ProgressStyle::with_template("import [{bar:40}] {pos}/{len} rows {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut counts, mut errors) = ([0usize; 3], Vec::new());
    // Rows go as JSON objects keyed by the columns: the server checks each on its own.
    let mut batch: Vec<(u64, Value)> = Vec::new();
    let mut records = rdr.records();
    loop {
        let next = records.next();
        let done = next.is_none();
        match next {
            Some(Ok(rec)) => {
                let line = rec.position().map_or(0, |p| p.line());
                if rec.len() != columns.len() {
                    errors.push(format!(
                        "line {line}: {} fields, expected {}",
                        rec.len(),
                        columns.len()
                    ));
                    pb.inc(1);
                } else {
                    let obj: Map<String, Value> = columns
                        .iter()
                        .zip(rec.iter())
                        .map(|(k, v)| ((*k).to_owned(), Value::String(v.to_owned())))
                        .collect();
                    batch.push((line, Value::Object(obj)));
                }
            }
            Some(Err(e)) => {
                errors.push(format!(
                    "line {}: {e}",
                    e.position().map_or(0, |p| p.line())
                ));
                pb.inc(1);
            }
            None => {}
        }
        if batch.len() >= BATCH || (done && !batch.is_empty()) {
            let body: Vec<&Value> = batch.iter().map(|(_, v)| v).collect();
            let res: ImportResults = c.post("/v1/inspections", &body).await?;
            for r in res.results {
                let line = batch.get(r.index).map_or(0, |b| b.0);
                match r.status {
                    ImportStatus::New => counts[0] += 1,
                    ImportStatus::Unchanged => counts[1] += 1,
                    ImportStatus::Corrected => counts[2] += 1,
                    ImportStatus::Error => errors.push(format!(
                        "line {line}: {}",
                        r.error.as_deref().unwrap_or("refused")
                    )),
                }
            }
            pb.inc(batch.len() as u64);
            batch.clear();
        }
        if done {
            break;
        }
    }
    pb.finish_and_clear();
    errors.sort_by_key(|e| {
        e.split(':')
            .next()
            .and_then(|l| l.trim_start_matches("line ").parse::<u64>().ok())
            .unwrap_or(0)
    });
    for e in &errors {
        println!("{e}");
    }
    println!(
        "{} new, {} unchanged, {} corrected (new version), {} refused",
        counts[0],
        counts[1],
        counts[2],
        errors.len()
    );
    Ok(if errors.is_empty() { 0 } else { 2 })
}

/// `kordon gap ...`.
#[derive(clap::Args)]
pub(crate) struct GapArgs {
    #[command(subcommand)]
    command: GapCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum GapCommand {
    /// Attach a reason to a gap of an inspection.
    Reason {
        /// Inspection id.
        #[arg(long)]
        inspection: String,
        /// Start of the explained interval, RFC 3339.
        #[arg(long)]
        from: String,
        /// End of it, RFC 3339.
        #[arg(long)]
        to: String,
        /// malfunction, exemption, restricted_area or other.
        #[arg(long, value_parser = ["malfunction", "exemption", "restricted_area", "other"])]
        reason: String,
        /// What happened.
        #[arg(long)]
        text: String,
    },
    /// Approve a reason (supervisor).
    Approve {
        /// Reason id.
        id: String,
        /// A note for the officer.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject a reason (supervisor); the officer reads why and may explain again.
    Reject {
        /// Reason id.
        id: String,
        /// Why it is rejected.
        #[arg(long)]
        comment: String,
    },
}

pub(crate) fn gap(a: GapArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        let (id, action, comment) = match a.command {
            GapCommand::Reason {
                inspection,
                from,
                to,
                reason,
                text,
            } => {
                let body = GapReasonIn {
                    from,
                    to,
                    reason,
                    text,
                };
                let v: GapReasonState = c
                    .post(&format!("/v1/inspections/{inspection}/gap-reasons"), &body)
                    .await?;
                println!(
                    "gap reason {} filed, pending approval (log index {})",
                    v.id, v.log_index
                );
                return Ok(0);
            }
            GapCommand::Approve { id, comment } => (id, "approve", comment),
            GapCommand::Reject { id, comment } => (id, "reject", Some(comment)),
        };
        let v: GapReasonState = c
            .post(
                &format!("/v1/gap-reasons/{id}/{action}"),
                &DecisionIn { comment },
            )
            .await?;
        println!("gap reason {id} {} (log index {})", v.status, v.log_index);
        Ok(0)
    })
}
