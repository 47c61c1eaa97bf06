//! `kordon backup` and `kordon restore`: the metadata (a consistent SQLite copy taken
//! while the server runs), the log (its signed checkpoint and every tile it needs) and
//! the keys, in a folder; then a check that recomputes the log root from the copied tiles,
//! verifies the checkpoint signature and the custody signatures, and that every row of the database
//! copy that the log holds is byte for byte the log's entry at its index (and the other
//! way round). A restore checks the same before it writes anything, and never overwrites
//! a data folder that holds a database.
//!
//! With PostgreSQL (`KORDON_DATABASE_URL`) the metadata is copied from one
//! repeatable-read snapshot into the same SQLite file, so a backup has one form whatever
//! the engine; a restore with `KORDON_DATABASE_URL` set copies it into that (empty)
//! PostgreSQL database.
//!
//! Segments are not in it: they are immutable files named by their SHA-256 (replicated,
//! or in an object store with Object Lock); `docs/deploy.md` says how to back them up.
//! The folder holds the log's signing key: keep it like the key itself.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use kordon_core::note::SignerKey;
use kordon_core::tiles::tiles_for_size;
use kordon_store::meta::Meta;
use sha2::{Digest as _, Sha256};

use kordon_verify::audit::{Audit, DirSource, audit};

use super::progress::bar;
use crate::client::block_on;

/// `kordon backup`.
#[derive(clap::Args)]
pub(crate) struct BackupArgs {
    /// The folder to write (must be empty or absent).
    #[arg(long, conflicts_with = "check", required_unless_present = "check")]
    out: Option<PathBuf>,
    /// Check an existing backup instead of writing one.
    #[arg(long)]
    check: Option<PathBuf>,
    /// Data folder of the server.
    #[arg(long, default_value = "kordon-data")]
    data: PathBuf,
}

/// Backs up the metadata, the log and the keys into a folder (safe while the server
/// runs), then checks the copy by recomputing the log root; or only checks one.
pub(crate) fn run_backup(a: BackupArgs) -> Result<i32> {
    block_on(async {
        match (a.out, a.check) {
            (_, Some(dir)) => check(&dir).await,
            (Some(out), None) => backup(&a.data, &out).await,
            (None, None) => bail!("say --out DIR or --check DIR"),
        }
    })
}

/// `kordon restore`.
#[derive(clap::Args)]
pub(crate) struct RestoreArgs {
    /// The backup folder.
    from: PathBuf,
    /// Data folder to restore into.
    #[arg(long, default_value = "kordon-data")]
    data: PathBuf,
}

/// Restores a backup into a data folder that holds no database (checked first).
pub(crate) fn run_restore(a: RestoreArgs) -> Result<i32> {
    block_on(restore(&a.from, &a.data))
}

/// The files of a backup besides the tiles, relative to its folder.
const DB: &str = "kordon.db";
const KEYS: [&str; 2] = ["keys/log.key", "keys/admin-token"];
const MANIFEST: &str = "backup.json";

fn sha256_file(p: &Path) -> Result<String> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(p).with_context(|| format!("reading {}", p.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn copy_private(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// The files of the log at the checkpoint in `dir`: the checkpoint and its tiles.
fn log_files(dir: &Path, key: &SignerKey) -> Result<(Vec<String>, u64)> {
    let cp_bytes = std::fs::read(dir.join("log/checkpoint"))
        .with_context(|| format!("reading {}", dir.join("log/checkpoint").display()))?;
    let (cp, _) = kordon_core::checkpoint::open(&cp_bytes, key.verifier())
        .context("the checkpoint does not verify with the log key")?;
    let mut files = vec!["log/checkpoint".to_owned()];
    files.extend(
        tiles_for_size(cp.size)
            .iter()
            .map(|t| format!("log/{}", t.path())),
    );
    Ok((files, cp.size))
}

fn log_key(dir: &Path) -> Result<SignerKey> {
    let p = dir.join("keys/log.key");
    let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
    SignerKey::parse(text.trim()).with_context(|| format!("{} is not a log key", p.display()))
}

/// `kordon backup --out DIR`: writes the backup, then checks it.
async fn backup(data: &Path, out: &Path) -> Result<i32> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!("{} exists and is not empty", out.display());
    }
    {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(out)
            .with_context(|| format!("creating {}", out.display()))?;
    }
    // The database first: every log index in it is then within the checkpoint read after.
    let meta = open_meta(data).await?;
    meta.snapshot_to(&out.join(DB)).await?;
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(out.join(DB), std::fs::Permissions::from_mode(0o600))?;
    }
    let key = log_key(data)?;
    let (log, size) = log_files(data, &key)?;
    let pb = bar(log.len() as u64, "copy");
    let mut hashes = BTreeMap::new();
    for f in log.iter().map(String::as_str).chain(KEYS) {
        copy_private(&data.join(f), &out.join(f))?;
        hashes.insert(f.to_owned(), sha256_file(&out.join(f))?);
        pb.inc(1);
    }
    pb.finish_and_clear();
    hashes.insert(DB.to_owned(), sha256_file(&out.join(DB))?);
    let manifest = serde_json::json!({
        "format": "kordon.backup/v1",
        "created_at": kordon_core::time::Timestamp(kordon_store::now_ms()).to_string(),
        "origin": key.verifier().name(),
        "log_size": size,
        "files": hashes,
    });
    std::fs::write(
        out.join(MANIFEST),
        format!("{}\n", serde_json::to_string_pretty(&manifest)?),
    )?;
    println!(
        "backup of {} written to {} (log size {size})",
        data.display(),
        out.display()
    );
    check(out).await
}

/// `kordon backup --check DIR`: every file as listed, the log recomputed from its tiles,
/// and the database's logged rows equal to the log's entries.
async fn check(dir: &Path) -> Result<i32> {
    let problems = problems(dir).await?;
    for p in &problems {
        println!("FAIL {p}");
    }
    if problems.is_empty() {
        println!(
            "OK: every file as listed; the log root recomputed from the tiles matches the signed checkpoint; the database's logged rows are the log's entries"
        );
        Ok(0)
    } else {
        println!("{} problem(s)", problems.len());
        Ok(2)
    }
}

async fn problems(dir: &Path) -> Result<Vec<String>> {
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(MANIFEST))
            .with_context(|| format!("{} is not a kordon backup", dir.display()))?,
    )
    .context("backup.json")?;
    if manifest["format"] != "kordon.backup/v1" {
        bail!("{}: not a kordon.backup/v1", dir.join(MANIFEST).display());
    }
    let mut problems = Vec::new();
    for (f, want) in manifest["files"].as_object().into_iter().flatten() {
        match sha256_file(&dir.join(f)) {
            Ok(got) if Some(got.as_str()) == want.as_str() => {}
            Ok(got) => problems.push(format!("{f}: SHA-256 {got}, the backup listed {want}")),
            Err(e) => problems.push(format!("{f}: {e:#}")),
        }
    }
    let key = log_key(dir)?;
    let Audit {
        problems: log_problems,
        entries,
        size,
        ..
    } = audit(
        &DirSource(dir.to_path_buf()),
        key.verifier(),
        false,
        &mut super::progress::bars(),
    )?;
    problems.extend(log_problems);
    if entries.len() as u64 != size {
        return Ok(problems);
    }
    let meta = Meta::open_sqlite_read_only(&dir.join(DB)).await?;
    let rows = meta.logged_entries().await?;
    let mut seen = vec![false; entries.len()];
    for (i, body) in &rows {
        match entries.get(*i as usize) {
            Some(e) => {
                seen[*i as usize] = true;
                if e != body {
                    problems.push(format!(
                        "database row at log index {i} differs from the log's entry"
                    ));
                }
            }
            None => problems.push(format!(
                "database row at log index {i} is beyond the checkpoint (size {size})"
            )),
        }
    }
    // The private parts the database keeps must open what the log's entries commit to.
    for (i, private) in meta.logged_private_parts().await? {
        let opens = entries
            .get(i as usize)
            .and_then(|e| kordon_core::note::Note::parse(e).ok())
            .and_then(|n| kordon_core::custody::Sealed::parse(n.text()).ok())
            .is_some_and(|s| s.open(&private).is_ok());
        if !opens {
            problems.push(format!(
                "database row at log index {i}: its private part is not what the log's entry commits to"
            ));
        }
    }
    let missing: Vec<usize> = (0..seen.len()).filter(|i| !seen[*i]).collect();
    if let Some(first) = missing.first() {
        problems.push(format!(
            "{} log entries have no row in the database (first: index {first})",
            missing.len()
        ));
    }
    Ok(problems)
}

/// The server's metadata database: PostgreSQL when `KORDON_DATABASE_URL` names one,
/// otherwise the SQLite file in `data`.
async fn open_meta(data: &Path) -> Result<Meta> {
    match postgres_url()? {
        Some(url) => Meta::open_postgres(&url.0)
            .await
            .with_context(|| format!("opening {url}")),
        None => Meta::open_sqlite(&data.join(DB))
            .await
            .with_context(|| format!("opening {}", data.join(DB).display())),
    }
}

fn postgres_url() -> Result<Option<kordon_store::meta::DatabaseUrl>> {
    Ok(kordon_server::config::Config::load(None)?.database_url)
}

/// `kordon restore DIR --data D`: checks the backup, then writes it into a data folder
/// that holds no database yet (or, with `KORDON_DATABASE_URL`, into that PostgreSQL
/// database, which must be empty).
async fn restore(from: &Path, data: &Path) -> Result<i32> {
    let postgres = postgres_url()?;
    if postgres.is_none() && data.join(DB).exists() {
        bail!(
            "{} already holds a database: a restore never overwrites one (restore into an empty folder)",
            data.display()
        );
    }
    let problems = problems(from).await?;
    if !problems.is_empty() {
        for p in &problems {
            println!("FAIL {p}");
        }
        bail!(
            "the backup in {} does not hold ({} problem(s)); nothing was restored",
            from.display(),
            problems.len()
        );
    }
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(from.join(MANIFEST))?)?;
    let files: Vec<PathBuf> = manifest["files"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(f, _)| PathBuf::from(f))
        .collect();
    if let Some(url) = &postgres {
        let target = Meta::open_postgres(&url.0)
            .await
            .with_context(|| format!("opening {url}"))?;
        Meta::open_sqlite_read_only(&from.join(DB))
            .await?
            .copy_into(&target)
            .await
            .with_context(|| format!("copying the metadata into {url}"))?;
    }
    for f in files
        .iter()
        .filter(|f| postgres.is_none() || f.as_path() != Path::new(DB))
    {
        copy_private(&from.join(f), &data.join(f))?;
    }
    println!(
        "restored {} files into {} (log {} at size {}); put the segments back in {}/blobs or point the server at their store",
        files.len(),
        data.display(),
        manifest["origin"].as_str().unwrap_or(""),
        manifest["log_size"],
        data.display()
    );
    Ok(0)
}
