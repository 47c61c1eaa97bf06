//! `kordon`: the operator command. Runs the server (`kordon serve`), administers devices
//! and assignments against a running server, and audits any kordon log over HTTP
//! (`kordon log verify`). Errors print as one line and exit non-zero.

mod backup;
mod cases;
mod client;
mod demo;
mod inspections;
mod verify;

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "kordon",
    version,
    about = "Evidence system for customs body-worn cameras"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the server is and how to authenticate as its administrator.
#[derive(clap::Args, Clone)]
pub(crate) struct Remote {
    /// Server URL.
    #[arg(
        long,
        global = true,
        env = "KORDON_SERVER",
        default_value = "http://127.0.0.1:8420"
    )]
    server: String,
    /// Administrator token (default: read from <data>/keys/admin-token).
    #[arg(long, global = true, env = "KORDON_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Data folder of a local server, to read its administrator token.
    #[arg(
        long,
        global = true,
        env = "KORDON_DATA",
        default_value = "kordon-data"
    )]
    data: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run the ingest server (SQLite + local folder by default).
    Serve {
        /// Configuration file (TOML); environment variables KORDON_* override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data folder (overrides config).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Listen address host:port (overrides config).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Devices (cameras and docks).
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Hand a camera to an officer at shift start.
    Assign {
        /// Camera id.
        #[arg(long)]
        device: String,
        /// Officer's service number.
        #[arg(long)]
        officer: String,
        /// Crossing point code.
        #[arg(long)]
        checkpoint: String,
        /// When it was handed out, if entered afterwards (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Take a camera back at shift end.
    Return {
        /// Camera id.
        #[arg(long)]
        device: String,
        /// When it was handed back, if entered afterwards (RFC 3339; default now).
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Continuity problems of every device: missing links, gaps, equivocation.
    Gaps {
        #[command(flatten)]
        remote: Remote,
    },
    /// Crossing points (reference data).
    Checkpoint {
        #[command(subcommand)]
        command: CheckpointCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Officers (reference data).
    Officer {
        #[command(subcommand)]
        command: OfficerCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Customs inspection records.
    Inspections {
        #[command(subcommand)]
        command: InspectionsCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Reasons for gaps in the coverage of inspections.
    Gap {
        #[command(subcommand)]
        command: GapCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Find inspections by time, place, lane, officer, id, declaration or vehicle plate.
    Search {
        /// Starts at or after, RFC 3339.
        #[arg(long)]
        from: Option<String>,
        /// Starts before, RFC 3339.
        #[arg(long)]
        to: Option<String>,
        /// Crossing point code.
        #[arg(long)]
        checkpoint: Option<String>,
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
        /// Output format.
        #[arg(long, value_parser = ["table", "csv", "json"], default_value = "table")]
        format: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Reports over the inspections that started in a time range.
    Report {
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
        checkpoint: Option<String>,
        /// Only inspections of this officer (service number).
        #[arg(long)]
        officer: Option<String>,
        /// Output format.
        #[arg(long, value_parser = ["table", "csv", "json"], default_value = "table")]
        format: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Cases: footage under legal hold, evidence packages, receipts.
    Case {
        #[command(subcommand)]
        command: CaseCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Back up the metadata, the log and the keys into a folder (safe while the server
    /// runs), then check the copy by recomputing the log root; or only check one.
    Backup {
        /// The folder to write (must be empty or absent).
        #[arg(long, conflicts_with = "check", required_unless_present = "check")]
        out: Option<PathBuf>,
        /// Check an existing backup instead of writing one.
        #[arg(long)]
        check: Option<PathBuf>,
        /// Data folder of the server.
        #[arg(long, default_value = "kordon-data")]
        data: PathBuf,
    },
    /// Restore a backup into a data folder that holds no database (checked first).
    Restore {
        /// The backup folder.
        from: PathBuf,
        /// Data folder to restore into.
        #[arg(long, default_value = "kordon-data")]
        data: PathBuf,
    },
    /// Apply the retention rules now (there is no way to delete footage by hand).
    Retention {
        #[command(flatten)]
        remote: Remote,
    },
    /// Re-read every stored segment and check its hash; show progress.
    Scrub {
        /// Run a full pass now (required: passes also run on the server's schedule).
        #[arg(long, required = true)]
        now: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// People and integrations who use kordon, and their API tokens.
    User {
        #[command(subcommand)]
        command: UserCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// Bookmarks on inspections and footage.
    Bookmark {
        #[command(subcommand)]
        command: BookmarkCommand,
        #[command(flatten)]
        remote: Remote,
    },
    /// The transparency log.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// An independent witness that cosigns a log's checkpoints (C2SP tlog-witness).
    Witness {
        #[command(subcommand)]
        command: WitnessCommand,
    },
    /// Run a server with a simulated crossing point (real H.264 via ffmpeg), then keep serving.
    Demo {
        /// Data folder.
        #[arg(long, default_value = "kordon-data")]
        data: PathBuf,
        /// Listen address host:port.
        #[arg(long, default_value = "127.0.0.1:8420")]
        listen: std::net::SocketAddr,
        /// Simulated cameras.
        #[arg(long, default_value_t = 4)]
        cameras: usize,
        /// Minutes of simulated shift.
        #[arg(long, default_value_t = 5)]
        minutes: u64,
        /// Set up and exit instead of serving.
        #[arg(long)]
        no_serve: bool,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Create a one-time enrollment token for a camera id.
    Enroll {
        /// Camera id (serial).
        device: String,
    },
    /// Revoke a device: its uploads are refused from now on.
    Revoke {
        /// Camera id.
        device: String,
    },
    /// Chain state of a device.
    Status {
        /// Camera id.
        device: String,
    },
}

#[derive(Subcommand)]
enum CheckpointCommand {
    /// Create or change a crossing point.
    Set {
        /// Code, e.g. UA-KYIV-01.
        code: String,
        /// Name in Ukrainian.
        #[arg(long)]
        name_uk: String,
        /// Name in Latin script.
        #[arg(long)]
        name_latin: String,
        /// IANA time zone.
        #[arg(long, default_value = "Europe/Kyiv")]
        tz: String,
        /// Lanes, comma-separated.
        #[arg(long, value_delimiter = ',')]
        lanes: Vec<String>,
    },
    /// List crossing points.
    List,
}

#[derive(Subcommand)]
enum OfficerCommand {
    /// Create or change an officer.
    Set {
        /// Service number.
        service_no: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Crossing point code.
        #[arg(long)]
        checkpoint: String,
    },
    /// List officers.
    List,
}

#[derive(Subcommand)]
enum InspectionsCommand {
    /// Import a CSV file: inspection_id,checkpoint,lane,officers,start,end,vehicle_plate,declaration_no,kind,outcome
    Import {
        /// The CSV file (with a header row).
        file: PathBuf,
    },
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
    },
    /// Reject a reason (supervisor).
    Reject {
        /// Reason id.
        id: String,
    },
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

#[derive(Subcommand)]
enum UserCommand {
    /// Create or replace a user (the password is read from KORDON_PASSWORD or stdin).
    Add {
        /// Login name.
        name: String,
        /// officer, supervisor, analyst, auditor, administrator or integration.
        #[arg(long, value_parser = ["officer", "supervisor", "analyst", "auditor", "administrator", "integration"])]
        role: String,
        /// Crossing points in scope, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        checkpoints: Vec<String>,
        /// The officer's service number (role officer).
        #[arg(long)]
        officer: Option<String>,
        /// Set up a TOTP second factor (analysts and administrators).
        #[arg(long)]
        totp: bool,
    },
    /// Issue an API token acting as a user (shown once).
    Token {
        /// Login name.
        name: String,
        /// What it is for.
        #[arg(long)]
        label: String,
    },
    /// Revoke an API token (by the id printed when it was issued); it stops working at once.
    Revoke {
        /// Login name.
        name: String,
        /// The token's id (16 hex digits).
        id: String,
    },
    /// List users.
    List,
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
        #[arg(long, value_parser = ["table", "csv", "json"], default_value = "table")]
        format: String,
    },
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Run the witness.
    Serve {
        /// Folder for the witness's key and state.
        #[arg(long, default_value = "kordon-witness")]
        data: PathBuf,
        /// Listen address host:port.
        #[arg(long, default_value = "127.0.0.1:8430")]
        listen: std::net::SocketAddr,
        /// The witness's key name (used when the key is created).
        #[arg(long, default_value = "witness.local/kordon")]
        name: String,
        /// Verifier key of a log to witness (repeat for several logs).
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
    },
}

#[derive(Subcommand)]
enum LogCommand {
    /// Audit a kordon log over HTTP: recompute every tile and the root from the entries,
    /// check the checkpoint signature, every device chain and every stored segment.
    Verify {
        #[command(flatten)]
        remote: Remote,
        /// The log's verifier key, obtained independently (default: trust the server's).
        #[arg(long)]
        log_key: Option<String>,
        /// Do not download and hash the stored segments.
        #[arg(long)]
        no_blobs: bool,
        /// Read the log and the segments from the server's S3 bucket (`KORDON_S3_*`)
        /// instead of the server; needs --log-key.
        #[arg(long, requires = "log_key")]
        bucket: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kordon: {e:#}");
            1
        }
    };
    std::process::exit(code);
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Demo {
            data,
            listen,
            cameras,
            minutes,
            no_serve,
        } => {
            let o = demo::DemoOptions {
                data,
                listen,
                cameras,
                minutes,
                serve: !no_serve,
            };
            runtime()?.block_on(demo::demo(o)).map(|()| 0)
        }
        Command::Serve {
            config,
            data,
            listen,
        } => runtime()?.block_on(serve(config, data, listen)).map(|()| 0),
        Command::Device { command, remote } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(async {
                match command {
                    DeviceCommand::Enroll { device } => c.enroll_token(&device).await,
                    DeviceCommand::Revoke { device } => c.revoke(&device).await,
                    DeviceCommand::Status { device } => c.status(&device).await,
                }
            })
        }
        Command::Assign {
            device,
            officer,
            checkpoint,
            at,
            remote,
        } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(c.assign(&device, &officer, &checkpoint, at.as_deref()))
        }
        Command::Return { device, at, remote } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(c.return_device(&device, at.as_deref()))
        }
        Command::Checkpoint { command, remote } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(async {
                match command {
                    CheckpointCommand::Set { code, name_uk, name_latin, tz, lanes } => {
                        let body = serde_json::json!({"name_uk": name_uk, "name_latin": name_latin, "tz": tz, "lanes": lanes});
                        let v = c.put_admin(&format!("/v1/checkpoints/{code}"), &body).await?;
                        println!("crossing point {code}: {}", if v["changed"] == true { "saved (custody event logged)" } else { "unchanged" });
                    }
                    CheckpointCommand::List => {
                        for p in c.get("/v1/checkpoints").await?["checkpoints"].as_array().into_iter().flatten() {
                            println!("{}  {} / {}  {}  lanes {}", p["code"].as_str().unwrap_or(""), p["name_uk"].as_str().unwrap_or(""), p["name_latin"].as_str().unwrap_or(""), p["tz"].as_str().unwrap_or(""), p["lanes"]);
                        }
                    }
                }
                Ok(0)
            })
        }
        Command::Officer { command, remote } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(async {
                match command {
                    OfficerCommand::Set {
                        service_no,
                        name,
                        checkpoint,
                    } => {
                        let v = c
                            .put_admin(
                                &format!("/v1/officers/{service_no}"),
                                &serde_json::json!({"name": name, "checkpoint": checkpoint}),
                            )
                            .await?;
                        println!(
                            "officer {service_no}: {}",
                            if v["changed"] == true {
                                "saved (custody event logged)"
                            } else {
                                "unchanged"
                            }
                        );
                    }
                    OfficerCommand::List => {
                        for o in c.get("/v1/officers").await?["officers"]
                            .as_array()
                            .into_iter()
                            .flatten()
                        {
                            println!(
                                "{}  {}  {}",
                                o["service_no"].as_str().unwrap_or(""),
                                o["name"].as_str().unwrap_or(""),
                                o["checkpoint"].as_str().unwrap_or("")
                            );
                        }
                    }
                }
                Ok(0)
            })
        }
        Command::Search {
            from,
            to,
            checkpoint,
            lane,
            officer,
            inspection,
            declaration,
            plate,
            device,
            bookmark,
            format,
            remote,
        } => {
            let c = client::Client::new(&remote)?;
            let params = [
                ("from", from),
                ("to", to),
                ("checkpoint", checkpoint),
                ("lane", lane),
                ("officer", officer),
                ("inspection_id", inspection),
                ("declaration_no", declaration),
                ("vehicle_plate", plate),
                ("device", device),
                ("bookmark", bookmark),
            ];
            runtime()?.block_on(inspections::search(&c, &params, &format))
        }
        Command::Gap { command, remote } => {
            let c = client::Client::new(&remote)?;
            let approve = matches!(command, GapCommand::Approve { .. });
            runtime()?.block_on(async {
                match command {
                    GapCommand::Reason { inspection, from, to, reason, text } => {
                        let body = serde_json::json!({"from": from, "to": to, "reason": reason, "text": text});
                        let v = c.post_admin(&format!("/v1/inspections/{inspection}/gap-reasons"), &body).await?;
                        println!("gap reason {} filed, pending approval (log index {})", v["id"].as_str().unwrap_or(""), v["log_index"]);
                    }
                    GapCommand::Approve { id } | GapCommand::Reject { id } => {
                        let action = if approve { "approve" } else { "reject" };
                        let v = c.post_admin(&format!("/v1/gap-reasons/{id}/{action}"), &serde_json::json!({})).await?;
                        println!("gap reason {id} {} (log index {})", v["status"].as_str().unwrap_or(""), v["log_index"]);
                    }
                }
                Ok(0)
            })
        }
        Command::Inspections {
            command: InspectionsCommand::Import { file },
            remote,
        } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(inspections::import(&c, &file))
        }
        Command::Report {
            kind,
            from,
            to,
            checkpoint,
            officer,
            format,
            remote,
        } => {
            let c = client::Client::new(&remote)?;
            let name = match kind {
                ReportKind::Coverage => "coverage",
                ReportKind::Gaps => "gaps",
                ReportKind::Daily => "daily",
                ReportKind::Shifts => "shifts",
                ReportKind::Clearance => "clearance",
            };
            let params = [
                ("from", Some(from)),
                ("to", Some(to)),
                ("checkpoint", checkpoint),
                ("officer", officer),
            ];
            runtime()?.block_on(inspections::report(&c, name, &params, &format))
        }
        Command::Case { command, remote } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(async {
                match command {
                    CaseCommand::Open { id, reference, kind, description } => {
                        let v = c.post_admin("/v1/cases", &serde_json::json!({"id": id, "reference": reference, "kind": kind, "description": description})).await?;
                        println!("case {id} opened (log index {})", v["log_index"]);
                    }
                    CaseCommand::Add { id, inspection, seq, device, from, to, note } => {
                        let kind = match (&inspection, seq, &from, &device) {
                            (Some(_), _, _, _) => "inspection",
                            (None, Some(_), _, _) => "segment",
                            (None, None, Some(_), _) => "range",
                            (None, None, None, None) if note.is_some() => "note",
                            _ => anyhow::bail!("say what to add: --inspection, --device with --seq, --device with --from/--to, or --note"),
                        };
                        let body = cases::item(kind, inspection, device, seq, from, to, note);
                        let v = c.post_admin(&format!("/v1/cases/{id}/items"), &body).await?;
                        println!("added to case {id} as item(s) {} (held; custody events logged)", v["items"]);
                    }
                    CaseCommand::Show { id } => {
                        let v = c.get(&format!("/v1/cases/{id}")).await?;
                        println!("{}", serde_json::to_string_pretty(&v)?);
                    }
                    CaseCommand::Export { id, out } => return cases::export(&c, &id, &out).await,
                    CaseCommand::Close { id } => {
                        let v = c.post_admin(&format!("/v1/cases/{id}/close"), &serde_json::json!({})).await?;
                        println!("case {id} closed (log index {}); its footage follows the retention rules again unless something else holds it", v["log_index"]);
                    }
                    CaseCommand::Release { id, recipient, package } => {
                        let sha = {
                            use sha2::Digest as _;
                            let bytes = std::fs::read(&package).with_context(|| format!("reading {}", package.display()))?;
                            hex::encode(sha2::Sha256::digest(&bytes))
                        };
                        let v = c.post_admin(&format!("/v1/cases/{id}/receipts"), &serde_json::json!({"recipient": recipient, "package_sha256": sha})).await?;
                        println!("release of {sha} to {recipient} recorded (log index {}); the recipient checks it with: kordon-verify {} --receipt --server <url>", v["log_index"], package.display());
                    }
                }
                Ok(0)
            })
        }
        Command::User { command, remote } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(async {
                match command {
                    UserCommand::Add { name, role, checkpoints, officer, totp } => {
                        let password = match std::env::var("KORDON_PASSWORD") {
                            Ok(p) => p,
                            Err(_) => {
                                let mut p = String::new();
                                std::io::stdin().read_line(&mut p)?;
                                p.trim_end_matches(['\r', '\n']).to_owned()
                            }
                        };
                        let v = c.post_admin("/v1/users", &serde_json::json!({"name": name, "role": role, "checkpoints": checkpoints, "officer": officer, "password": password, "totp": totp})).await?;
                        println!("user {name} ({role}) saved (log index {})", v["log_index"]);
                        if let Some(url) = v["totp_url"].as_str() {
                            println!("second factor: add this to an authenticator app: {url}");
                        }
                    }
                    UserCommand::Token { name, label } => {
                        let v = c.post_admin(&format!("/v1/users/{name}/tokens"), &serde_json::json!({"label": label})).await?;
                        eprintln!("token id {} (to revoke it: kordon user revoke {name} {})", v["id"].as_str().unwrap_or(""), v["id"].as_str().unwrap_or(""));
                        println!("{}", v["token"].as_str().unwrap_or(""));
                    }
                    UserCommand::Revoke { name, id } => {
                        let v = c.post_admin(&format!("/v1/users/{name}/tokens/{id}/revoke"), &serde_json::json!({})).await?;
                        println!("token {id} of {name} revoked (log index {})", v["log_index"]);
                    }
                    UserCommand::List => {
                        let v = c.get("/v1/users").await?;
                        for u in v["users"].as_array().into_iter().flatten() {
                            println!("{:<20} {:<14} {}", u["name"].as_str().unwrap_or(""), u["role"].as_str().unwrap_or(""), u["checkpoints"]);
                        }
                    }
                }
                Ok(0)
            })
        }
        Command::Backup { out, check, data } => runtime()?.block_on(async {
            match (out, check) {
                (_, Some(dir)) => backup::check(&dir).await,
                (Some(out), None) => backup::backup(&data, &out).await,
                (None, None) => anyhow::bail!("say --out DIR or --check DIR"),
            }
        }),
        Command::Restore { from, data } => runtime()?.block_on(backup::restore(&from, &data)),
        Command::Retention { remote } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(async {
                let v = c.post_admin("/v1/retention/run", &serde_json::json!({})).await?;
                println!("retention: {} purged (tombstones in the log), {} held, {} kept longer (inspection category)", v["purged"], v["held"], v["kept"]);
                Ok(0)
            })
        }
        Command::Scrub { remote, .. } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(cases::scrub(&c))
        }
        Command::Bookmark { command, remote } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(async {
                match command {
                    BookmarkCommand::Add {
                        inspection,
                        device,
                        at,
                        label,
                    } => {
                        let body = serde_json::json!({"inspection_id": inspection, "device": device, "at": at, "label": label});
                        let v = c.post_admin("/v1/bookmarks", &body).await?;
                        println!(
                            "bookmark {} added (log index {})",
                            v["id"].as_str().unwrap_or(""),
                            v["log_index"]
                        );
                        Ok(0)
                    }
                    BookmarkCommand::List {
                        text,
                        device,
                        format,
                    } => {
                        inspections::bookmarks(&c, &[("q", text), ("device", device)], &format)
                            .await
                    }
                }
            })
        }
        Command::Gaps { remote } => {
            let c = client::Client::new(&remote)?;
            runtime()?.block_on(c.gaps())
        }
        Command::Witness {
            command:
                WitnessCommand::Serve {
                    data,
                    listen,
                    name,
                    logs,
                },
        } => runtime()?
            .block_on(witness(data, listen, name, logs))
            .map(|()| 0),
        Command::Log {
            command:
                LogCommand::Verify {
                    remote,
                    log_key,
                    no_blobs,
                    bucket,
                },
        } => {
            if bucket {
                return runtime()?.block_on(verify::verify_bucket(
                    log_key.as_deref().unwrap_or_default(),
                    !no_blobs,
                ));
            }
            let token = client::Client::new(&remote)?.token().map(str::to_owned);
            runtime()?.block_on(verify::verify_log(
                &remote.server,
                token.as_deref(),
                log_key.as_deref(),
                !no_blobs,
            ))
        }
    }
}

async fn serve(
    config: Option<PathBuf>,
    data: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
) -> Result<()> {
    let json = std::env::var("KORDON_LOG_FORMAT").is_ok_and(|v| v == "json");
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if json {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let mut cfg = kordon_server::config::Config::load(config.as_deref())?;
    if let Some(d) = data {
        cfg.data = d;
    }
    if let Some(l) = listen {
        cfg.listen = l;
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let data = cfg.data.clone();
    let app = kordon_server::open(cfg)
        .await
        .with_context(|| format!("opening {}", data.display()))?;
    println!(
        "kordon serving on http://{addr} (data: {}, log: {} entries)",
        data.display(),
        app.log.published().size
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    kordon_server::run(listener, app, shutdown).await?;
    Ok(())
}

async fn witness(
    data: PathBuf,
    listen: std::net::SocketAddr,
    name: String,
    logs: Vec<String>,
) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let keys = logs
        .iter()
        .map(|k| kordon_core::note::VerifierKey::parse(k).with_context(|| format!("log key {k:?}")))
        .collect::<Result<Vec<_>>>()?;
    let w = kordon_witness::Witness::open(&data, &name, keys)
        .with_context(|| format!("opening {}", data.display()))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    println!(
        "kordon witness on http://{} with key {}",
        listener.local_addr()?,
        w.verifier()
    );
    axum_serve(listener, kordon_witness::router(w)).await
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    router: kordon_server::Router,
) -> Result<()> {
    kordon_server::serve_router(listener, router, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
