//! `kordon-verify`: checks an evidence package offline, or a whole log from its tiles,
//! without trusting the customs service. Exit code 0 only if everything holds, 1 if
//! something does not, 2 if it could not be checked at all, 3 if a package holds only
//! against its own policy (no `--policy` given: nothing was checked about who signed).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Parser;
use kordon_core::note::VerifierKey;
use kordon_verify::audit::{self, DirSource, LogSource};
use kordon_verify::{Outcome, verify_package};

/// Verify kordon evidence without trusting the customs service.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// An evidence package (.zip), or with --server a segment file (.mp4).
    #[arg(required_unless_present = "log")]
    file: Option<PathBuf>,
    /// A C2SP tlog-policy you trust (log key, witness keys, quorum); default: the one in
    /// the package (or the server's).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The certificate chain (PEM: signing certificate first, root last) of an RFC 3161
    /// time-stamping authority you trust; repeat for several. Default: the chains in the
    /// package, which says nothing about who stamped.
    #[arg(long, value_name = "FILE")]
    tsa: Vec<PathBuf>,
    /// Also make each playable file again from the package's segments with this machine's
    /// ffmpeg and compare the bytes (the same ffmpeg version gives the same bytes).
    #[arg(long)]
    rederive: bool,
    /// Also print what holds.
    #[arg(long, short)]
    verbose: bool,
    /// Threads hashing media (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// A kordon server: verify FILE (a segment) against its public log, or with
    /// --receipt the release receipts of the package FILE (needs the `online` feature).
    #[arg(long)]
    server: Option<String>,
    /// Check the receipts recorded when the package FILE was released.
    #[arg(long, requires = "server")]
    receipt: bool,
    /// Audit a whole log instead: a folder holding `log/checkpoint` and `log/tile/...`
    /// (a data folder or a backup), or a server's URL (`online` feature).
    #[arg(long, conflicts_with_all = ["file", "server", "receipt"])]
    log: Option<String>,
    /// The log's verifier key, obtained independently (required for a folder; for a
    /// server, the one it serves is trusted if none is given).
    #[arg(long, requires = "log")]
    log_key: Option<String>,
    /// Go on from the audit state saved in FILE (reading only what the log added since)
    /// and save where this audit got to there; a new FILE starts with the whole log.
    #[arg(long, value_name = "FILE", requires = "log")]
    state: Option<PathBuf>,
}

fn main() {
    let cli = Cli::parse();
    let code = match run(&cli) {
        Ok(Verdict::Holds) => 0,
        Ok(Verdict::Fails) => 1,
        Ok(Verdict::HoldsUntrusted) => 3,
        Err(e) => {
            eprintln!("kordon-verify: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

/// How a check came out.
enum Verdict {
    Holds,
    Fails,
    /// Holds against the package's own policy; who signed was not checked.
    HoldsUntrusted,
}

impl From<bool> for Verdict {
    fn from(holds: bool) -> Self {
        if holds {
            Verdict::Holds
        } else {
            Verdict::Fails
        }
    }
}

fn run(cli: &Cli) -> Result<Verdict> {
    if let Some(log) = &cli.log {
        return log_audit(log, cli.log_key.as_deref(), cli.state.as_deref()).map(Verdict::from);
    }
    let file = cli.file.as_deref().context("say which FILE")?;
    let trusted = cli
        .policy
        .as_ref()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    match (&cli.server, cli.receipt) {
        (None, _) => package(cli, file, trusted.as_deref()),
        (Some(server), receipt) => {
            online(file, server, receipt, trusted.as_deref()).map(Verdict::from)
        }
    }
}

#[cfg(feature = "online")]
fn online(file: &Path, server: &str, receipt: bool, trusted: Option<&str>) -> Result<bool> {
    if receipt {
        kordon_verify::online::receipts(file, server, trusted)
    } else {
        kordon_verify::online::segment(file, server, trusted)
    }
}

#[cfg(not(feature = "online"))]
fn online(_: &Path, _: &str, _: bool, _: Option<&str>) -> Result<bool> {
    anyhow::bail!(
        "this kordon-verify was built without the `online` feature: it checks packages and log folders only"
    )
}

fn package(cli: &Cli, file: &Path, trusted: Option<&str>) -> Result<Verdict> {
    let threads = cli
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    let start = std::time::Instant::now();
    let tsa = cli
        .tsa
        .iter()
        .map(|p| {
            let pem = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            kordon_core::timestamp::TsaChain::from_pem(&pem)
                .with_context(|| format!("--tsa {}", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let report = verify_package(
        file,
        &kordon_verify::VerifyOptions {
            policy: trusted,
            tsa: &tsa,
            threads,
            rederive: cli.rederive,
        },
    )?;
    for l in &report.lines {
        if cli.verbose || l.outcome != Outcome::Ok {
            println!("{l}");
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let failed = report.failures().count();
    let verdict = match (report.holds(), report.policy_given) {
        (false, _) => Verdict::Fails,
        (true, true) => Verdict::Holds,
        (true, false) => Verdict::HoldsUntrusted,
    };
    println!(
        "{}: {} checks, {failed} failed; {:.1} MB of media hashed in {secs:.2} s",
        match verdict {
            Verdict::Holds => "HOLDS",
            Verdict::Fails => "DOES NOT HOLD",
            Verdict::HoldsUntrusted =>
                "HOLDS AGAINST THE PACKAGE'S OWN POLICY ONLY (who signed was not checked: give --policy FILE)",
        },
        report.lines.len(),
        report.media_bytes as f64 / 1e6
    );
    Ok(verdict)
}

fn log_audit(log: &str, key: Option<&str>, state: Option<&Path>) -> Result<bool> {
    let (source, key): (Box<dyn LogSource>, String) =
        if log.starts_with("http://") || log.starts_with("https://") {
            http_source(log, key)?
        } else {
            let key = key.context("--log-key is required to audit a folder")?;
            (Box::new(DirSource(PathBuf::from(log))), key.to_owned())
        };
    let key = VerifierKey::parse(&key).context("log key")?;
    let from = state.map(audit::load_state).transpose()?.flatten();
    let a = audit::audit_from(source.as_ref(), &key, from, true, &mut audit::bars())?;
    if let (Some(path), Some(s)) = (state, &a.state) {
        audit::save_state(path, s)?;
    }
    println!(
        "log {} at size {} (from {}): {} entries read, {} devices, {} segments named, {} purged by retention, {} late links",
        a.origin,
        a.size,
        a.from,
        a.entries.len(),
        a.devices,
        a.segments.len(),
        a.purged,
        a.late
    );
    Ok(audit::report(&a.problems) == 0)
}

#[cfg(feature = "online")]
fn http_source(url: &str, key: Option<&str>) -> Result<(Box<dyn LogSource>, String)> {
    let s = kordon_verify::online::HttpSource::new(url)?;
    let key = match key {
        Some(k) => k.to_owned(),
        None => {
            eprintln!(
                "note: trusting the log key the server itself serves; pass --log-key to check against one you obtained independently"
            );
            s.served_log_key()?
        }
    };
    Ok((Box::new(s), key))
}

#[cfg(not(feature = "online"))]
fn http_source(_: &str, _: Option<&str>) -> Result<(Box<dyn LogSource>, String)> {
    anyhow::bail!("this kordon-verify was built without the `online` feature: give a log folder")
}
