//! `kordon case open|add|show|close|export|release`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use kordon_api::Created;
use kordon_api::cases::{
    Case, CaseIn, Closed, Exported, ItemIn, ItemsAdded, ReceiptIn, ReceiptLogged,
};

use super::output;
use crate::client::{Client, Remote, block_on};

/// `kordon case ...`.
#[derive(clap::Args)]
pub(crate) struct CaseArgs {
    #[command(subcommand)]
    command: CaseCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum CaseCommand {
    /// Open a case.
    Open {
        /// Case id (letters, digits, '-', '_', '.').
        id: String,
        /// Reference number.
        #[arg(long)]
        reference: String,
        /// complaint, lawyer_request, law_enforcement_request or internal_review.
        #[arg(long, value_parser = ["complaint", "lawyer_request", "law_enforcement_request", "internal_review"])]
        kind: String,
        /// What it is about.
        #[arg(long)]
        description: String,
        /// The crossing point it belongs to (none: a national case).
        #[arg(long)]
        crossing_point: Option<String>,
    },
    /// Add footage (held from now on) or a note to a case.
    Add {
        /// Case id.
        id: String,
        /// The footage of an inspection (every camera of its officers).
        #[arg(long, group = "what")]
        inspection: Option<String>,
        /// One segment: --device with --seq.
        #[arg(long, requires = "device")]
        seq: Option<u64>,
        /// A camera's footage over --from..--to (or with --seq, one segment).
        #[arg(long)]
        device: Option<String>,
        /// Start, RFC 3339.
        #[arg(long, requires = "device")]
        from: Option<String>,
        /// End, RFC 3339.
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// A note (alone: a note item).
        #[arg(long)]
        note: Option<String>,
    },
    /// Show a case.
    Show {
        /// Case id.
        id: String,
    },
    /// Close a case: the matter is over, it holds nothing from now on.
    Close {
        /// Case id.
        id: String,
    },
    /// Write the evidence package of a case.
    Export {
        /// Case id.
        id: String,
        /// Where to write the zip.
        #[arg(long)]
        out: PathBuf,
    },
    /// Record that a package was released to a court, lawyer or prosecutor.
    Release {
        /// Case id.
        id: String,
        /// Who received it.
        #[arg(long)]
        recipient: String,
        /// The package file (its SHA-256 is recorded).
        #[arg(long)]
        package: PathBuf,
    },
}

pub(crate) fn case(a: CaseArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        match a.command {
            CaseCommand::Open {
                id,
                reference,
                kind,
                description,
                crossing_point,
            } => {
                let body = CaseIn {
                    id: id.clone(),
                    reference,
                    kind,
                    description,
                    crossing_point,
                };
                let v: Created = c.post("/v1/cases", &body).await?;
                println!("case {id} opened (log index {})", v.log_index);
            }
            CaseCommand::Add {
                id,
                inspection,
                seq,
                device,
                from,
                to,
                note,
            } => {
                let kind = match (&inspection, seq, &from, &device) {
                    (Some(_), _, _, _) => "inspection",
                    (None, Some(_), _, _) => "segment",
                    (None, None, Some(_), _) => "range",
                    (None, None, None, None) if note.is_some() => "note",
                    _ => bail!(
                        "say what to add: --inspection, --device with --seq, --device with --from/--to, or --note"
                    ),
                };
                let body = ItemIn {
                    kind: kind.into(),
                    inspection_id: inspection,
                    device,
                    seq,
                    from,
                    to,
                    text: note.unwrap_or_default(),
                };
                let v: ItemsAdded = c.post(&format!("/v1/cases/{id}/items"), &body).await?;
                println!(
                    "added to case {id} as item(s) {:?} (held; custody events logged)",
                    v.items
                );
            }
            CaseCommand::Show { id } => {
                let v: Case = c.get(&format!("/v1/cases/{id}")).await?;
                output::json(&v)?;
            }
            CaseCommand::Export { id, out } => return export(&c, &id, &out).await,
            CaseCommand::Close { id } => {
                let v: Closed = c.post_empty(&format!("/v1/cases/{id}/close")).await?;
                println!(
                    "case {id} closed (log index {}); its footage follows the retention rules again unless something else holds it",
                    v.log_index
                );
            }
            CaseCommand::Release {
                id,
                recipient,
                package,
            } => {
                let sha = {
                    use sha2::Digest as _;
                    let bytes = std::fs::read(&package)
                        .with_context(|| format!("reading {}", package.display()))?;
                    hex::encode(sha2::Sha256::digest(&bytes))
                };
                let body = ReceiptIn {
                    recipient: recipient.clone(),
                    package_sha256: sha.clone(),
                };
                let v: ReceiptLogged = c.post(&format!("/v1/cases/{id}/receipts"), &body).await?;
                println!(
                    "release of {sha} to {recipient} recorded (log index {}); the recipient checks it with: kordon-verify {} --receipt --server <url>",
                    v.log_index,
                    package.display()
                );
            }
        }
        Ok(0)
    })
}

/// `kordon case export <id> --out <file.zip>`: the server writes the package; it is
/// downloaded with a progress bar and its hash checked against the server's.
async fn export(c: &Client, id: &str, out: &Path) -> Result<i32> {
    eprintln!("exporting case {id} (waiting for a witnessed checkpoint) ...");
    let v: Exported = c.post_empty(&format!("/v1/cases/{id}/export")).await?;
    let sha = c.download(&format!("/v1/exports/{}", v.file), out).await?;
    if sha != v.sha256 {
        bail!(
            "the downloaded package's SHA-256 {sha} is not the server's {}",
            v.sha256
        );
    }
    println!(
        "{}: case {id}, {} bytes, SHA-256 {sha}; export event at log index {}, proofs to checkpoint of size {}",
        out.display(),
        v.size,
        v.export_log_index,
        v.checkpoint_size
    );
    if v.missing > 0 {
        println!(
            "{}: {} segment(s) were missing from storage: left out and marked missing in the package",
            out.display(),
            v.missing
        );
    }
    if v.derived > 0 {
        println!(
            "{}: {} playable file(s) under derived/ (segments joined without re-encoding; the originals remain the evidence)",
            out.display(),
            v.derived
        );
    }
    println!(
        "verify with: kordon-verify {} --policy POLICY   # POLICY: the log and witness keys the recipient trusts (without it: exit 3, checked only against the package's own keys)",
        out.display()
    );
    Ok(0)
}
