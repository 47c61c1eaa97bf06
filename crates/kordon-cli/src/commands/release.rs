//! `kordon redact`, `kordon share create|list|revoke`, `kordon preserve request|list|decide`:
//! release to others from the command line, the same operations as the web interface.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::Subcommand;
use kordon_api::Logged;
use kordon_api::release::{
    OpsIn, PreservationDecision, PreservationIn, PreservationList, PreservationOut, RedactionIn,
    RedactionOut, ShareCreated, ShareIn, ShareList, ShareOut,
};

use super::{output, progress};
use crate::client::{Client, Remote, block_on};

/// `kordon redact`: a redacted copy of a camera's footage.
#[derive(clap::Args)]
pub(crate) struct RedactArgs {
    /// The camera.
    #[arg(long)]
    device: String,
    /// Start, RFC 3339 (whole segments: time 0 of the operations is the start of the
    /// first segment overlapping it).
    #[arg(long)]
    from: String,
    /// End, RFC 3339.
    #[arg(long)]
    to: String,
    /// The operations, a JSON file: {"boxes": [{"style": "blur"|"black", "keys":
    /// [{"t_ms", "x", "y", "w", "h"}]}], "blur": [{"from_ms", "to_ms"}], "mute": [...],
    /// "bleep": [...]} (docs/spec/redaction.md).
    #[arg(long)]
    ops: PathBuf,
    /// Why (kept in the custody trail).
    #[arg(long)]
    reason: String,
    /// The inspection it is made for.
    #[arg(long)]
    inspection: Option<String>,
    /// Also download the copy here.
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    remote: Remote,
}

pub(crate) fn redact(a: RedactArgs) -> Result<i32> {
    let text =
        std::fs::read_to_string(&a.ops).with_context(|| format!("reading {}", a.ops.display()))?;
    let ops: OpsIn = serde_json::from_str(&text)
        .with_context(|| format!("{} is not the operations' JSON", a.ops.display()))?;
    let c = Client::new(&a.remote)?;
    block_on(async {
        let body = RedactionIn {
            device: a.device,
            from: a.from,
            to: a.to,
            inspection: a.inspection,
            ops,
            reason: a.reason,
        };
        let mut r: RedactionOut = c.post("/v1/redactions", &body).await?;
        // Rendered in the background: follow it.
        let pb = progress::bar(100, "rendering");
        while r.state == "rendering" {
            pb.set_position((r.progress.unwrap_or(0.0) * 100.0) as u64);
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            r = c.get(&format!("/v1/redactions/{}", r.id)).await?;
        }
        pb.finish_and_clear();
        let (Some(sha), Some(size)) = (&r.sha256, r.size) else {
            bail!(
                "redaction {} failed: {}",
                r.id,
                r.error.as_deref().unwrap_or("no reason given")
            );
        };
        println!(
            "redaction {}: camera {} segments {}..={}, {size} bytes, SHA-256 {sha} (operations {}); the originals are untouched",
            r.id, r.device, r.first_seq, r.last_seq, r.ops_sha256
        );
        if let Some(out) = &a.out {
            let got = c.download(&r.video, out).await?;
            if got != *sha {
                bail!("the downloaded copy's SHA-256 {got} is not the server's {sha}");
            }
            println!("{}: the redacted copy", out.display());
        }
        Ok(0)
    })
}

/// `kordon share ...`.
#[derive(clap::Args)]
pub(crate) struct ShareArgs {
    #[command(subcommand)]
    command: ShareCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum ShareCommand {
    /// Share a redacted copy, or a case's evidence package, with a named recipient: prints
    /// the link and the one-time code to hand over (the code is shown once).
    Create {
        /// The redacted copy.
        #[arg(long, group = "what", required = true)]
        redaction: Option<String>,
        /// Or the case whose evidence package (originals included, playable files
        /// watermarked) is shared.
        #[arg(long, group = "what")]
        case: Option<String>,
        /// Who receives it.
        #[arg(long)]
        recipient: String,
        /// Why.
        #[arg(long)]
        purpose: String,
        /// Until when the link works, RFC 3339 (at most 90 days away).
        #[arg(long)]
        expires: String,
    },
    /// The shares, newest first.
    List {
        /// table, csv or json.
        #[arg(long, default_value = "table", value_parser = output::FORMATS)]
        format: String,
    },
    /// Revoke a share: its link refuses from now on.
    Revoke {
        /// The share.
        id: String,
    },
}

pub(crate) fn share(a: ShareArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    let base = a.remote.server.trim_end_matches('/').to_owned();
    block_on(async {
        match a.command {
            ShareCommand::Create {
                redaction,
                case,
                recipient,
                purpose,
                expires,
            } => {
                let body = ShareIn {
                    redaction,
                    case,
                    recipient,
                    purpose,
                    expires_at: expires,
                };
                let s: ShareCreated = c.post("/v1/shares", &body).await?;
                println!("link: {base}{}", s.link);
                println!(
                    "code: {}   (shown once: hand it over apart from the link)",
                    s.code
                );
                let pb = progress::spinner("rendering the watermarked copy and its package");
                let mut o: ShareOut = c.get(&format!("/v1/shares/{}", s.id)).await?;
                while o.state == "preparing" {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    o = c.get(&format!("/v1/shares/{}", s.id)).await?;
                }
                pb.finish_and_clear();
                match (&o.sha256, o.size) {
                    (Some(sha), Some(size)) => {
                        println!(
                            "until {}; package SHA-256 {sha} ({size} bytes)",
                            s.expires_at
                        );
                    }
                    _ => bail!(
                        "share {}: its package could not be made: {}",
                        s.id,
                        o.error.as_deref().unwrap_or(&o.state)
                    ),
                }
            }
            ShareCommand::List { format } => {
                let v: ShareList = c.get("/v1/shares").await?;
                return output::rows(&v.shares, &format);
            }
            ShareCommand::Revoke { id } => {
                let v: Logged = c.post_empty(&format!("/v1/shares/{id}/revoke")).await?;
                println!("share {id} revoked (log index {})", v.log_index);
            }
        }
        Ok(0)
    })
}

/// `kordon preserve ...`.
#[derive(clap::Args)]
pub(crate) struct PreserveArgs {
    #[command(subcommand)]
    command: PreserveCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum PreserveCommand {
    /// Ask for an officer's footage over a range to be preserved.
    Request {
        /// The officer (an officer asking for himself leaves it out).
        #[arg(long)]
        officer: Option<String>,
        /// Start, RFC 3339.
        #[arg(long)]
        from: String,
        /// End, RFC 3339.
        #[arg(long)]
        to: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// The requests, newest first.
    List {
        /// Only those waiting for a decision.
        #[arg(long)]
        pending: bool,
        /// table, csv or json.
        #[arg(long, default_value = "table", value_parser = output::FORMATS)]
        format: String,
    },
    /// Approve (a case then holds the footage) or refuse a request.
    Decide {
        /// The request.
        id: String,
        /// Approve it.
        #[arg(long, conflicts_with = "refuse")]
        approve: bool,
        /// Refuse it (a comment is required).
        #[arg(long)]
        refuse: bool,
        /// Why.
        #[arg(long, default_value = "")]
        comment: String,
    },
}

fn print(p: &PreservationOut) {
    println!(
        "request {}: officer {} {}..{}: {}{}",
        p.id,
        p.officer,
        p.from,
        p.to,
        p.state,
        p.case
            .as_ref()
            .map(|c| format!(" (held by case {c})"))
            .unwrap_or_default()
    );
}

pub(crate) fn preserve(a: PreserveArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        match a.command {
            PreserveCommand::Request {
                officer,
                from,
                to,
                reason,
            } => {
                let body = PreservationIn {
                    officer,
                    from,
                    to,
                    reason,
                };
                print(&c.post("/v1/preservations", &body).await?);
            }
            PreserveCommand::List { pending, format } => {
                let q = if pending { "?pending=true" } else { "" };
                let v: PreservationList = c.get(&format!("/v1/preservations{q}")).await?;
                return output::rows(&v.requests, &format);
            }
            PreserveCommand::Decide {
                id,
                approve,
                refuse,
                comment,
            } => {
                if approve == refuse {
                    bail!("say --approve or --refuse");
                }
                let body = PreservationDecision { approve, comment };
                print(
                    &c.post(&format!("/v1/preservations/{id}/decision"), &body)
                        .await?,
                );
            }
        }
        Ok(0)
    })
}
