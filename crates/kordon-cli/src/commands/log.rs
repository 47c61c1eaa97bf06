//! `kordon log verify`: audit a kordon log without trusting the server — over HTTP, or
//! from the bucket the server mirrors its log and segments to. The audit itself is
//! `kordon_verify::audit`, the same code a court's `kordon-verify --log` runs.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Subcommand;
use kordon_core::note::VerifierKey;
use kordon_verify::audit::{self, LogSource};
use kordon_verify::online::HttpSource;

use super::progress::{bar, bars};
use crate::client::{Client, Remote};

/// `kordon log ...`.
#[derive(clap::Args)]
pub(crate) struct LogArgs {
    #[command(subcommand)]
    command: LogCommand,
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
        /// Go on from the audit state saved in FILE (reading only the entries and
        /// segments added since), and save where this audit got to there; the first run
        /// with a new FILE audits the whole log.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
    },
    /// Print this server's log verifier key (creating the key in a fresh data folder),
    /// without starting the server: the line a centre's `edges` and witnesses need.
    Key {
        /// Configuration file (TOML); KORDON_* variables override it (the origin).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data folder (overrides config).
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

pub(crate) fn log(a: LogArgs) -> Result<i32> {
    let (remote, log_key, no_blobs, bucket, state) = match a.command {
        LogCommand::Key { config, data } => return print_key(config.as_deref(), data),
        LogCommand::Verify {
            remote,
            log_key,
            no_blobs,
            bucket,
            state,
        } => (remote, log_key, no_blobs, bucket, state),
    };
    let state = state.as_deref();
    if bucket {
        return verify_bucket(log_key.as_deref().unwrap_or_default(), !no_blobs, state);
    }
    let token = Client::new(&remote)?.token().map(str::to_owned);
    verify_server(
        &remote.server,
        token.as_deref(),
        log_key.as_deref(),
        !no_blobs,
        state,
    )
}

/// `kordon log key`.
fn print_key(config: Option<&Path>, data: Option<PathBuf>) -> Result<i32> {
    let mut cfg = kordon_server::config::Config::load(config)?;
    if let Some(d) = data {
        cfg.data = d;
    }
    let keys = cfg.data.join("keys");
    let new = !keys.join("log.key").exists();
    let key = kordon_server::log_key(&cfg.data, &cfg.origin)
        .with_context(|| format!("the log key in {}", cfg.data.display()))?;
    if new {
        eprintln!(
            "kordon: created a new log key and administrator token in {}",
            keys.display()
        );
    }
    println!("{}", key.verifier());
    Ok(0)
}

/// Steps 1–3 of the audit, from the state saved at `state` if there is one.
fn run_audit(
    source: &dyn LogSource,
    key: &VerifierKey,
    state: Option<&Path>,
) -> Result<audit::Audit> {
    let from = state.map(audit::load_state).transpose()?.flatten();
    Ok(audit::audit_from(source, key, from, true, &mut bars())?)
}

/// Saves where the audit got to when everything but chain findings held (`blob_problems`
/// found none either), so that the next run starts there.
fn keep_state(a: &audit::Audit, state: Option<&Path>, blob_problems: bool) -> Result<()> {
    let Some(path) = state else { return Ok(()) };
    match &a.state {
        Some(s) if !blob_problems => {
            audit::save_state(path, s)?;
            println!("audit state saved to {} (size {})", path.display(), a.size);
        }
        _ => println!(
            "audit state in {} not advanced: the next run checks again from size {}",
            path.display(),
            a.from
        ),
    }
    Ok(())
}

fn verify_server(
    server: &str,
    token: Option<&str>,
    log_key: Option<&str>,
    blobs: bool,
    state: Option<&Path>,
) -> Result<i32> {
    if blobs && token.is_none() {
        anyhow::bail!(
            "reading the stored segments needs a token that may view footage (--token, KORDON_TOKEN or --data of the server); --no-blobs checks the log alone"
        );
    }
    let source = HttpSource::new(server)?;
    let key_text = match log_key {
        Some(k) => k.to_owned(),
        None => {
            eprintln!(
                "note: trusting the log key the server itself serves; pass --log-key to check against one you obtained independently"
            );
            source.served_log_key()?
        }
    };
    let key = VerifierKey::parse(&key_text).context("log key")?;
    let mut a = run_audit(&source, &key, state)?;
    let before = a.problems.len();
    if blobs && a.from + a.entries.len() as u64 == a.size {
        source.check_blobs(token, &a.segments, &mut a.problems, &mut bars())?;
    }
    keep_state(&a, state, a.problems.len() > before)?;
    Ok(summary(&a, "", blobs))
}

/// The audit's summary line and verdict; answers the exit code.
fn summary(a: &audit::Audit, from: &str, blobs: bool) -> i32 {
    let mut since = String::new();
    if a.from > 0 {
        since.push_str(&format!(", from the audit at size {}", a.from));
    }
    if a.late > 0 {
        since.push_str(&format!(
            ", {} late links (checked by signature; a whole audit places them in their chains)",
            a.late
        ));
    }
    println!(
        "log {} at size {}{from}{since}: {} entries read, {} devices, {} segments checked, {} purged by retention",
        a.origin,
        a.size,
        a.entries.len(),
        a.devices,
        if blobs { a.segments.len() } else { 0 },
        a.purged
    );
    audit::report(&a.problems)
}

/// The log mirrored in a bucket (`log/...`), read through the store's own client.
struct BucketSource {
    rt: tokio::runtime::Runtime,
    bucket: kordon_store::blob::S3BlobStore,
}

impl LogSource for BucketSource {
    fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        match self.rt.block_on(self.bucket.get_file(path)) {
            Ok(Some(b)) => Ok(b.to_vec()),
            Ok(None) => Err(format!("{path} is not in the bucket")),
            Err(e) => Err(format!("{path}: {e}")),
        }
    }
}

/// `kordon log verify --bucket`: the same audit from the bucket the server mirrors its
/// log and segments to (`KORDON_S3_*`), with no server involved; `log_key` is required.
fn verify_bucket(log_key: &str, blobs: bool, state: Option<&Path>) -> Result<i32> {
    let settings = kordon_server::config::Config::load(None)?
        .s3
        .context("KORDON_S3_ENDPOINT, KORDON_S3_BUCKET and the credentials name the bucket")?;
    let spool = std::env::temp_dir().join(format!("kordon-audit-{}", std::process::id()));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let bucket = rt.block_on(kordon_store::blob::S3BlobStore::open(
        settings,
        spool.clone(),
        0,
    ))?;
    let key = VerifierKey::parse(log_key).context("log key")?;
    let source = BucketSource { rt, bucket };
    let mut a = run_audit(&source, &key, state)?;
    let before = a.problems.len();
    if blobs {
        let pb = bar(a.segments.len() as u64, "segments");
        for s in &a.segments {
            match source.rt.block_on(source.bucket.verify(&s.sha256)) {
                Ok(true) => {}
                Ok(false) => a.problems.push(format!(
                    "device {} seq {}: segment {} is missing from the bucket or does not match its hash",
                    s.device, s.seq, s.sha256
                )),
                Err(e) => a.problems.push(format!("device {} seq {}: {e}", s.device, s.seq)),
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
    }
    let _ = std::fs::remove_dir_all(spool);
    keep_state(&a, state, a.problems.len() > before)?;
    Ok(summary(&a, " (from the bucket)", blobs))
}
