//! `kordon log verify`: audit a kordon log over HTTP without trusting the server.
//!
//! 1. fetch and check the signed checkpoint (log key given, or the server's own);
//! 2. fetch every entry bundle, recompute every leaf and node hash, and compare each
//!    published hash tile byte for byte, then the root with the checkpoint;
//! 3. read the entries: custody events must be signed by the log key; device keys are
//!    taken from the `enroll` custody events in the log itself; every device chain is
//!    verified with `kordon_core::chain`;
//! 4. download every stored segment named by a manifest and check its SHA-256 and size.
//!
//! Prints one line per problem; exit code 0 only if everything holds.
//!
//! Steps 1–3 read through a [`Source`]: the server over HTTP, or a backup's folder, which
//! holds the log in the same layout (`log/checkpoint`, `log/tile/...`).

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::checkpoint;
use kordon_core::custody::Custody;
use kordon_core::link::{Link, LinkBody};
use kordon_core::merkle::MemoryHashes;
use kordon_core::note::{Note, VerifierKey};
use kordon_core::tiles::{TileId, decode_bundle, tiles_for_size};
use sha2::{Digest as _, Sha256};

pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// Where the log is read from.
pub(crate) enum Source {
    /// A server: `{base}/log/...`.
    Http {
        /// The client.
        http: reqwest::Client,
        /// Server URL without a trailing `/`.
        base: String,
    },
    /// A folder with `log/checkpoint` and `log/tile/...` (a data folder or a backup).
    Dir(std::path::PathBuf),
    /// The bucket the server mirrors its log to (`log/...`).
    Bucket(kordon_store::blob::S3BlobStore),
}

impl Source {
    /// The bytes at `path` (e.g. `log/checkpoint`).
    async fn get(&self, path: &str) -> Result<Vec<u8>> {
        match self {
            Source::Http { http, base } => get(http, &format!("{base}/{path}")).await,
            Source::Dir(dir) => {
                let f = dir.join(path);
                tokio::fs::read(&f)
                    .await
                    .with_context(|| format!("reading {}", f.display()))
            }
            Source::Bucket(b) => Ok(b
                .get_file(path)
                .await?
                .with_context(|| format!("{path} is not in the bucket"))?
                .to_vec()),
        }
    }
}

/// What an audit of the log found.
pub(crate) struct Audit {
    /// One line per problem.
    pub problems: Vec<String>,
    /// The log's entries, in order (empty if they could not all be read).
    pub entries: Vec<Vec<u8>>,
    /// The checkpoint's origin and size.
    pub origin: String,
    /// Its size.
    pub size: u64,
    /// The segments the entries name whose bytes should be kept: device, seq, SHA-256,
    /// size.
    pub segments: Vec<(String, u64, kordon_core::Hash, u64)>,
    /// How many segments the log says were purged by retention (a signed tombstone).
    pub purged: usize,
    /// How many device chains were verified.
    pub devices: usize,
}

async fn get(http: &reqwest::Client, url: &str) -> Result<Vec<u8>> {
    let res = http
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    if !res.status().is_success() {
        anyhow::bail!("GET {url}: {}", res.status());
    }
    Ok(res.bytes().await?.to_vec())
}

pub(crate) async fn verify_log(
    server: &str,
    token: Option<&str>,
    log_key: Option<&str>,
    blobs: bool,
) -> Result<i32> {
    if blobs && token.is_none() {
        anyhow::bail!(
            "reading the stored segments needs a token that may view footage (--token, KORDON_TOKEN or --data of the server); --no-blobs checks the log alone"
        );
    }
    let http = reqwest::Client::new();
    let base = server.trim_end_matches('/');
    let key_text = match log_key {
        Some(k) => k.to_owned(),
        None => {
            eprintln!(
                "note: trusting the log key the server itself serves; pass --log-key to check against one you obtained independently"
            );
            String::from_utf8(get(&http, &format!("{base}/log/verifier-key")).await?)?
                .trim()
                .to_owned()
        }
    };
    let key = VerifierKey::parse(&key_text).context("log key")?;
    let source = Source::Http {
        http: http.clone(),
        base: base.to_owned(),
    };
    let Audit {
        mut problems,
        entries,
        origin,
        size,
        segments,
        devices,
        purged,
    } = audit(&source, &key, true).await?;
    if blobs && entries.len() as u64 == size {
        check_blobs(&http, base, token, &segments, &mut problems).await?;
    }
    println!(
        "log {origin} at size {size}: {} entries, {devices} devices, {} segments checked, {purged} purged by retention",
        entries.len(),
        if blobs { segments.len() } else { 0 }
    );
    report(problems)
}

/// `kordon log verify --bucket`: the same audit from the bucket the server mirrors its
/// log and segments to (`KORDON_S3_*`), with no server involved; `log_key` is required.
pub(crate) async fn verify_bucket(log_key: &str, blobs: bool) -> Result<i32> {
    let settings = kordon_server::config::Config::load(None)?
        .s3
        .context("KORDON_S3_ENDPOINT, KORDON_S3_BUCKET and the credentials name the bucket")?;
    let spool = std::env::temp_dir().join(format!("kordon-audit-{}", std::process::id()));
    let bucket = kordon_store::blob::S3BlobStore::open(settings, spool.clone(), 0).await?;
    let key = VerifierKey::parse(log_key).context("log key")?;
    let Audit {
        mut problems,
        entries,
        origin,
        size,
        segments,
        devices,
        purged,
    } = audit(&Source::Bucket(bucket.clone()), &key, true).await?;
    if blobs {
        let pb = bar(segments.len() as u64, "segments");
        for (device, seq, sha, _) in &segments {
            match bucket.verify(sha).await {
                Ok(true) => {}
                Ok(false) => problems.push(format!(
                    "device {device} seq {seq}: segment {sha} is missing from the bucket or does not match its hash"
                )),
                Err(e) => problems.push(format!("device {device} seq {seq}: {e}")),
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
    }
    let _ = std::fs::remove_dir_all(spool);
    println!(
        "log {origin} at size {size} (from the bucket): {} entries, {devices} devices, {} segments checked, {purged} purged by retention",
        entries.len(),
        if blobs { segments.len() } else { 0 }
    );
    report(problems)
}

/// Steps 1–3: the checkpoint, every tile and the root, every entry, and (with `chains`)
/// every device chain — whose gaps are findings about the footage, not about the copy.
pub(crate) async fn audit(source: &Source, key: &VerifierKey, chains_too: bool) -> Result<Audit> {
    let mut problems: Vec<String> = Vec::new();
    let cp_bytes = source.get("log/checkpoint").await?;
    let (cp, _) =
        checkpoint::open(&cp_bytes, key).context("checkpoint does not verify with the log key")?;
    let size = cp.size;
    let fail = |problems: Vec<String>| Audit {
        problems,
        entries: Vec::new(),
        origin: cp.origin.clone(),
        size,
        segments: Vec::new(),
        devices: 0,
        purged: 0,
    };

    // Entries and recomputed hashes.
    let tiles = tiles_for_size(size);
    let bundles: Vec<&TileId> = tiles.iter().filter(|t| t.level.is_none()).collect();
    let pb = bar(bundles.len() as u64, "entries");
    let mut entries: Vec<Vec<u8>> = Vec::with_capacity(size as usize);
    for id in &bundles {
        let data = source.get(&format!("log/{}", id.path())).await?;
        match decode_bundle(&data) {
            Ok(es) if es.len() == usize::from(id.width) => {
                entries.extend(es.into_iter().map(<[u8]>::to_vec))
            }
            Ok(es) => problems.push(format!(
                "{}: holds {} entries, expected {}",
                id.path(),
                es.len(),
                id.width
            )),
            Err(e) => problems.push(format!("{}: {e}", id.path())),
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    if entries.len() as u64 != size {
        problems.push(format!(
            "log serves {} entries, the checkpoint says {size}",
            entries.len()
        ));
        return Ok(fail(problems));
    }
    let mut tree = MemoryHashes::new();
    for e in &entries {
        tree.push_entry(e);
    }
    if tree.root() != cp.root {
        problems.push(format!(
            "entries give root {}, the checkpoint says {}",
            tree.root(),
            cp.root
        ));
    }
    let hash_tiles: Vec<&TileId> = tiles.iter().filter(|t| t.level.is_some()).collect();
    let pb = bar(hash_tiles.len() as u64, "tiles");
    for id in hash_tiles {
        let level = id.level.unwrap_or(0) * 8;
        let start = (id.index * 256) as usize;
        let want: Vec<u8> = tree.level(level)[start..start + usize::from(id.width)]
            .iter()
            .flat_map(|h| h.0)
            .collect();
        match source.get(&format!("log/{}", id.path())).await {
            Ok(got) if got == want => {}
            Ok(_) => problems.push(format!(
                "{}: does not match the hashes of the entries",
                id.path()
            )),
            Err(e) => problems.push(format!("{}: {e:#}", id.path())),
        }
        pb.inc(1);
    }
    pb.finish_and_clear();

    // What the entries say.
    let mut device_keys: BTreeMap<String, VerifierKey> = BTreeMap::new();
    let mut chains: BTreeMap<String, Vec<&[u8]>> = BTreeMap::new();
    let mut segments: Vec<(String, u64, kordon_core::Hash, u64)> = Vec::new();
    let mut tombstones: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (i, e) in entries.iter().enumerate() {
        let first_line = e.split(|b| *b == b'\n').next().unwrap_or_default();
        match first_line {
            b"kordon.custody/v1" => {
                let Ok(note) = Note::parse(e) else {
                    problems.push(format!("entry {i}: malformed custody event"));
                    continue;
                };
                if note.verify(std::slice::from_ref(key)).is_err() {
                    problems.push(format!(
                        "entry {i}: custody event not signed by the log key"
                    ));
                    continue;
                }
                match Custody::parse(note.text()) {
                    Ok(c) if c.action == "enroll" => match VerifierKey::parse(&c.detail) {
                        Ok(k) => {
                            device_keys.insert(k.name().to_owned(), k);
                        }
                        Err(err) => {
                            problems.push(format!("entry {i}: enrollment with a bad key: {err}"))
                        }
                    },
                    Ok(c) if c.action == kordon_core::package::TOMBSTONE_ACTION => {
                        tombstones.insert(c.subject);
                    }
                    Ok(_) => {}
                    Err(err) => problems.push(format!("entry {i}: custody event: {err}")),
                }
            }
            b"kordon.segment/v1" | b"kordon.event/v1" => match Link::parse(e) {
                Ok(l) => {
                    if let LinkBody::Segment(s) = l.body() {
                        segments.push((s.device.clone(), s.seq, s.sha256, s.size));
                    }
                    chains
                        .entry(l.body().device().to_owned())
                        .or_default()
                        .push(e);
                }
                Err(err) => problems.push(format!("entry {i}: malformed link: {err}")),
            },
            _ => problems.push(format!("entry {i}: unknown entry type")),
        }
    }
    let opts = ChainOptions::default();
    for (device, links) in chains.iter().filter(|_| chains_too) {
        let Some(k) = device_keys.get(device) else {
            problems.push(format!(
                "device {device}: {} links but no enrollment in the log",
                links.len()
            ));
            continue;
        };
        let r = verify_chain(device, k, links, &opts);
        for p in &r.problems {
            problems.push(format!("device {device}: {p:?}"));
        }
    }

    // A segment whose purge the log records is not looked for (its manifest and chain
    // link stay, and were checked above).
    let named = segments.len();
    segments.retain(|(device, seq, _, _)| {
        !tombstones.contains(&kordon_core::package::tombstone_subject(device, *seq))
    });
    let devices = chains.len();
    Ok(Audit {
        problems,
        entries,
        origin: cp.origin.clone(),
        size,
        purged: named - segments.len(),
        segments,
        devices,
    })
}

/// Step 4: every stored segment, read as footage (a custody event with a reason).
async fn check_blobs(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    segments: &[(String, u64, kordon_core::Hash, u64)],
    problems: &mut Vec<String>,
) -> Result<()> {
    let pb = bar(segments.len() as u64, "segments");
    for (device, seq, sha, size) in segments {
        // Reading footage is a custody event: the audit says so.
        let url = format!("{base}/v1/blobs/{}?reason=log%20audit", sha.to_hex());
        let req = http.get(&url);
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        match req.send().await {
            Ok(res) if res.status().is_success() => {
                let mut hasher = Sha256::new();
                let mut n = 0u64;
                let mut res = res;
                while let Some(chunk) = res.chunk().await? {
                    n += chunk.len() as u64;
                    hasher.update(&chunk);
                }
                let got = kordon_core::Hash(hasher.finalize().into());
                if got != *sha || n != *size {
                    problems.push(format!("device {device} seq {seq}: stored segment has SHA-256 {got} and {n} bytes, the manifest says {sha} and {size}"));
                }
            }
            Ok(res) => problems.push(format!(
                "device {device} seq {seq}: segment {sha} not served ({})",
                res.status()
            )),
            Err(e) => problems.push(format!("device {device} seq {seq}: {e}")),
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    Ok(())
}

pub(crate) fn report(problems: Vec<String>) -> Result<i32> {
    for p in &problems {
        println!("FAIL {p}");
    }
    if problems.is_empty() {
        println!(
            "OK: every tile, the root, the checkpoint signature, every chain and every segment hold"
        );
        Ok(0)
    } else {
        println!("{} problem(s)", problems.len());
        Ok(2)
    }
}
