//! `kordon-verify`: checks a kordon evidence package offline, a single segment file
//! against a running server's public log, or the release receipts of a package.
//!
//! Exit code 0 only if everything holds; 1 if something does not (one line per file,
//! link or event that does not); 2 if the check could not be made at all.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use clap::Parser;
use kordon_core::custody::Custody;
use kordon_core::hash::Hash;
use kordon_core::link::{Link, LinkBody};
use kordon_core::note::{Note, VerifierKey};
use kordon_core::policy::Policy;
use kordon_core::tlog_proof::TlogProof;
use kordon_verify::{Outcome, verify_package};
use sha2::{Digest as _, Sha256};

/// Verify kordon evidence without trusting the customs service.
#[derive(Parser)]
#[command(version)]
struct Cli {
    /// An evidence package (.zip), or with --server a segment file (.mp4).
    file: PathBuf,
    /// A C2SP tlog-policy you trust (log key, witness keys, quorum); default: the one in
    /// the package (or the server's).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Also print what holds.
    #[arg(long, short)]
    verbose: bool,
    /// Threads hashing media (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// A kordon server: verify FILE (a segment) against its public log, or with
    /// --receipt the release receipts of the package FILE.
    #[arg(long)]
    server: Option<String>,
    /// Check the receipts recorded when the package FILE was released.
    #[arg(long, requires = "server")]
    receipt: bool,
}

fn main() {
    let cli = Cli::parse();
    let code = match run(&cli) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("kordon-verify: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

fn run(cli: &Cli) -> Result<bool> {
    let trusted = cli
        .policy
        .as_ref()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    match (&cli.server, cli.receipt) {
        (None, _) => package(cli, trusted.as_deref()),
        (Some(server), false) => segment(&cli.file, server, trusted.as_deref()),
        (Some(server), true) => receipts(&cli.file, server, trusted.as_deref()),
    }
}

fn package(cli: &Cli, trusted: Option<&str>) -> Result<bool> {
    let threads = cli
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZero::get));
    let start = std::time::Instant::now();
    let report = verify_package(&cli.file, trusted, threads)?;
    for l in &report.lines {
        if cli.verbose || l.outcome != Outcome::Ok {
            println!("{l}");
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let failed = report.failures().count();
    println!(
        "{}: {} checks, {failed} failed; {:.1} MB of media hashed in {secs:.2} s",
        if report.holds() {
            "HOLDS"
        } else {
            "DOES NOT HOLD"
        },
        report.lines.len(),
        report.media_bytes as f64 / 1e6
    );
    Ok(report.holds())
}

fn file_sha256(path: &Path) -> Result<(Hash, u64)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = std::io::Read::read(&mut f, &mut buf)?;
        if n == 0 {
            return Ok((Hash(h.finalize().into()), size));
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
}

/// GETs JSON; `None` when the server says it has no such thing (404).
fn get_json(url: &str) -> Result<Option<serde_json::Value>> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let res = reqwest::get(url)
            .await
            .with_context(|| format!("asking {url}"))?;
        let status = res.status();
        let v: serde_json::Value = res.json().await.context("the answer is not JSON")?;
        if status.as_u16() == 404 && v["error"] == "not_found" {
            return Ok(None);
        }
        if !status.is_success() {
            bail!("{url}: {status}: {}", v["message"].as_str().unwrap_or(""));
        }
        Ok(Some(v))
    })
}

fn b64(v: &serde_json::Value, field: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(v[field].as_str().unwrap_or(""))
        .with_context(|| format!("field {field} of the answer"))
}

fn policy_of(trusted: Option<&str>, v: &serde_json::Value) -> Result<Policy> {
    if trusted.is_none() {
        println!("note policy: no --policy given: trusting the keys the server names");
    }
    let text = trusted.unwrap_or(v["policy"].as_str().unwrap_or(""));
    Policy::parse(text).context("the policy")
}

fn line(ok: bool, subject: &str, msg: String) -> bool {
    println!("{} {subject}: {msg}", if ok { "ok  " } else { "FAIL" });
    ok
}

fn proof_holds(entry: &[u8], proof: &[u8], policy: &Policy) -> Result<u64, String> {
    let p = TlogProof::parse(proof).map_err(|e| format!("malformed proof: {e}"))?;
    p.verify(entry, policy)
        .map_err(|e| format!("proof does not hold: {e}"))?;
    Ok(p.index)
}

fn log_custody(bytes: &[u8], policy: &Policy) -> Result<Custody, String> {
    let n = Note::parse(bytes).map_err(|e| e.to_string())?;
    n.verify(policy.logs())
        .map_err(|e| format!("not signed by the log: {e}"))?;
    Custody::parse(n.text()).map_err(|e| e.to_string())
}

fn segment(file: &Path, server: &str, trusted: Option<&str>) -> Result<bool> {
    let (sha, size) = file_sha256(file)?;
    let name = file.display().to_string();
    let Some(v) = get_json(&format!(
        "{}/v1/segments/{}/evidence",
        server.trim_end_matches('/'),
        sha.to_hex()
    ))?
    else {
        return Ok(line(
            false,
            &name,
            format!(
                "no segment with SHA-256 {} is in the log: this file is not an original recording",
                sha.to_hex()
            ),
        ));
    };
    let policy = policy_of(trusted, &v)?;
    let link_bytes = b64(&v, "link")?;
    let enroll_bytes = b64(&v, "enroll_event")?;
    let mut ok = true;
    let key = log_custody(&enroll_bytes, &policy).and_then(|c| {
        if c.action != "enroll" {
            return Err(format!(
                "the key event is {:?}, not an enrollment",
                c.action
            ));
        }
        let i = proof_holds(
            &enroll_bytes,
            &b64(&v, "enroll_proof").map_err(|e| e.to_string())?,
            &policy,
        )?;
        let k = VerifierKey::parse(&c.detail).map_err(|e| e.to_string())?;
        Ok((k, c.subject, i))
    });
    let key = match key {
        Ok((k, subject, i)) => {
            line(
                true,
                "enrollment",
                format!(
                    "{subject} enrolled key {}, in the log at index {i}",
                    k.name()
                ),
            );
            k
        }
        Err(e) => return Ok(line(false, "enrollment", e)),
    };
    let res = Link::parse(&link_bytes).map_err(|e| e.to_string()).and_then(|l| {
        l.verify(&key).map_err(|_| "the link is not signed by the camera's enrolled key".to_owned())?;
        let LinkBody::Segment(s) = l.body() else {
            return Err("the link is not a segment".to_owned());
        };
        if (s.sha256, s.size) != (sha, size) {
            return Err("the file is not the one the link states".to_owned());
        }
        let i = proof_holds(&link_bytes, &b64(&v, "link_proof").map_err(|e| e.to_string())?, &policy)?;
        Ok(format!("{size} bytes, SHA-256 {}: segment {} of {}, signed by the camera, in the log at index {i}", sha.to_hex(), s.seq, s.device))
    });
    ok &= match res {
        Ok(m) => line(true, &name, m),
        Err(e) => line(false, &name, e),
    };
    Ok(ok)
}

fn receipts(file: &Path, server: &str, trusted: Option<&str>) -> Result<bool> {
    let (sha, _) = file_sha256(file)?;
    let v = get_json(&format!(
        "{}/v1/receipts/{}",
        server.trim_end_matches('/'),
        sha.to_hex()
    ))?
    .context("the server does not know receipts")?;
    let own = trusted.map(str::to_owned).or_else(|| {
        let f = std::fs::File::open(file).ok()?;
        let mut z = zip::ZipArchive::new(f).ok()?;
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name(kordon_core::package::POLICY).ok()?, &mut s)
            .ok()?;
        Some(s)
    });
    let policy = policy_of(own.as_deref(), &v)?;
    let list = v["receipts"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        return Ok(line(
            false,
            &file.display().to_string(),
            format!(
                "no release of a package with SHA-256 {} is recorded in the log",
                sha.to_hex()
            ),
        ));
    }
    let mut ok = true;
    for r in &list {
        let event = b64(r, "event")?;
        let res = log_custody(&event, &policy).and_then(|c| {
            if c.action != "case-release" || !c.detail.contains(&sha.to_hex()) {
                return Err("the event is not a release of this package".to_owned());
            }
            let i = proof_holds(
                &event,
                &b64(r, "proof").map_err(|e| e.to_string())?,
                &policy,
            )?;
            Ok(format!(
                "{}: {} at {}, in the log at index {i}",
                c.subject, c.detail, c.time
            ))
        });
        ok &= match res {
            Ok(m) => line(true, "receipt", m),
            Err(e) => line(false, "receipt", e),
        };
    }
    Ok(ok)
}
