//! Auditing a whole kordon log without trusting its server:
//!
//! 1. the signed checkpoint (with the log key given);
//! 2. every entry bundle read, every leaf and node hash recomputed, each published hash
//!    tile compared byte for byte, then the root with the checkpoint;
//! 3. the entries read: custody events must be signed by the log key; device keys are
//!    taken from the `enroll` custody events in the log itself; every device chain is
//!    verified; the segments the links name are listed (those a tombstone says were
//!    purged by retention are counted, not looked for).
//!
//! The log is read through a [`LogSource`]: a folder in the tiles layout ([`DirSource`]:
//! a data folder or a backup), a server (`online::HttpSource`), a bucket (the `kordon`
//! command's own source). Whether the segment bytes themselves are there is the caller's
//! step 4, since only it knows where they are.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use kordon_core::Hash;
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::checkpoint;
use kordon_core::link::{Link, LinkBody};
use kordon_core::merkle::MemoryHashes;
use kordon_core::note::VerifierKey;
use kordon_core::tiles::{TileId, decode_bundle, tiles_for_size};

/// Why the audit could not run at all (what it finds is in [`Audit::problems`]).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The source could not give a file the audit cannot do without.
    #[error("{0}")]
    Source(String),
    /// The checkpoint does not verify with the log key.
    #[error("checkpoint does not verify with the log key: {0}")]
    Checkpoint(String),
}

/// Where a log is read from: the bytes at a path like `log/checkpoint` or
/// `log/tile/0/000`.
pub trait LogSource {
    /// The file's bytes.
    ///
    /// # Errors
    /// A readable message naming the path.
    fn get(&self, path: &str) -> Result<Vec<u8>, String>;
}

/// A folder holding `log/checkpoint` and `log/tile/...` (a data folder or a backup).
#[derive(Debug, Clone)]
pub struct DirSource(pub PathBuf);

impl LogSource for DirSource {
    fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        let f = self.0.join(path);
        std::fs::read(&f).map_err(|e| format!("reading {}: {e}", f.display()))
    }
}

/// Progress of a long step, for a progress bar: `(what, done, of)`.
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64);

/// A segment the log names: device, sequence number, SHA-256, size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedSegment {
    /// The camera.
    pub device: String,
    /// The link's sequence number.
    pub seq: u64,
    /// The SHA-256 the link states.
    pub sha256: Hash,
    /// The size the link states.
    pub size: u64,
}

/// What an audit of the log found.
#[derive(Debug, Clone)]
pub struct Audit {
    /// One line per problem.
    pub problems: Vec<String>,
    /// The log's entries, in order (empty if they could not all be read).
    pub entries: Vec<Vec<u8>>,
    /// The checkpoint's origin.
    pub origin: String,
    /// Its size.
    pub size: u64,
    /// The segments the entries name whose bytes should be kept.
    pub segments: Vec<NamedSegment>,
    /// How many segments the log says were purged by retention (a signed tombstone).
    pub purged: usize,
    /// How many device chains were verified.
    pub devices: usize,
}

/// Steps 1–3: the checkpoint, every tile and the root, every entry, and (with
/// `chains_too`) every device chain — whose gaps are findings about the footage, not
/// about the copy.
///
/// # Errors
/// [`AuditError`] when the checkpoint cannot be read or does not verify.
pub fn audit(
    source: &dyn LogSource,
    key: &VerifierKey,
    chains_too: bool,
    progress: Progress<'_>,
) -> Result<Audit, AuditError> {
    let mut problems: Vec<String> = Vec::new();
    let cp_bytes = source.get("log/checkpoint").map_err(AuditError::Source)?;
    let (cp, _) =
        checkpoint::open(&cp_bytes, key).map_err(|e| AuditError::Checkpoint(e.to_string()))?;
    let size = cp.size;
    let mut out = Audit {
        problems: Vec::new(),
        entries: Vec::new(),
        origin: cp.origin.clone(),
        size,
        segments: Vec::new(),
        purged: 0,
        devices: 0,
    };

    // Entries and recomputed hashes.
    let tiles = tiles_for_size(size);
    let bundles: Vec<&TileId> = tiles.iter().filter(|t| t.level.is_none()).collect();
    let mut entries: Vec<Vec<u8>> = Vec::with_capacity(size as usize);
    for (i, id) in bundles.iter().enumerate() {
        let data = source
            .get(&format!("log/{}", id.path()))
            .map_err(AuditError::Source)?;
        match decode_bundle(&data) {
            Ok(es) if es.len() == usize::from(id.width) => {
                entries.extend(es.into_iter().map(<[u8]>::to_vec));
            }
            Ok(es) => problems.push(format!(
                "{}: holds {} entries, expected {}",
                id.path(),
                es.len(),
                id.width
            )),
            Err(e) => problems.push(format!("{}: {e}", id.path())),
        }
        progress("entries", i as u64 + 1, bundles.len() as u64);
    }
    if entries.len() as u64 != size {
        problems.push(format!(
            "log serves {} entries, the checkpoint says {size}",
            entries.len()
        ));
        out.problems = problems;
        return Ok(out);
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
    for (i, id) in hash_tiles.iter().enumerate() {
        let level = id.level.unwrap_or(0) * 8;
        let start = (id.index * 256) as usize;
        let want: Vec<u8> = tree.level(level)[start..start + usize::from(id.width)]
            .iter()
            .flat_map(|h| h.0)
            .collect();
        match source.get(&format!("log/{}", id.path())) {
            Ok(got) if got == want => {}
            Ok(_) => problems.push(format!(
                "{}: does not match the hashes of the entries",
                id.path()
            )),
            Err(e) => problems.push(format!("{}: {e}", id.path())),
        }
        progress("tiles", i as u64 + 1, hash_tiles.len() as u64);
    }

    // What the entries say.
    let mut device_keys: BTreeMap<String, VerifierKey> = BTreeMap::new();
    let mut chains: BTreeMap<String, Vec<&[u8]>> = BTreeMap::new();
    let mut segments: Vec<NamedSegment> = Vec::new();
    let mut tombstones: BTreeSet<String> = BTreeSet::new();
    for (i, e) in entries.iter().enumerate() {
        let first_line = e.split(|b| *b == b'\n').next().unwrap_or_default();
        match first_line {
            b"kordon.custody/v1" | b"kordon.custody/v2" => {
                let ev = match crate::logged_event(e, std::slice::from_ref(key), None) {
                    Ok((ev, _)) => ev,
                    Err(err) => {
                        problems.push(format!("entry {i}: custody event {err}"));
                        continue;
                    }
                };
                // What the audit needs is public in both versions.
                match (ev.action(), ev.public_detail()) {
                    ("enroll", Some(d)) => match VerifierKey::parse(d) {
                        Ok(k) => {
                            device_keys.insert(k.name().to_owned(), k);
                        }
                        Err(err) => {
                            problems.push(format!("entry {i}: enrollment with a bad key: {err}"));
                        }
                    },
                    (kordon_core::package::TOMBSTONE_ACTION, _) => {
                        tombstones.insert(ev.subject().to_owned());
                    }
                    _ => {}
                }
            }
            b"kordon.segment/v1" | b"kordon.event/v1" => match Link::parse(e) {
                Ok(l) => {
                    if let LinkBody::Segment(s) = l.body() {
                        segments.push(NamedSegment {
                            device: s.device.clone(),
                            seq: s.seq,
                            sha256: s.sha256,
                            size: s.size,
                        });
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
    segments.retain(|s| {
        !tombstones.contains(&kordon_core::package::tombstone_subject(&s.device, s.seq))
    });
    out.devices = chains.len();
    out.purged = named - segments.len();
    out.segments = segments;
    out.entries = entries;
    out.problems = problems;
    Ok(out)
}

/// The verdict lines of an audit: `FAIL ...` per problem and a summary; answers the
/// exit code (0 all holds, 2 problems).
pub fn report(problems: &[String]) -> i32 {
    for p in problems {
        println!("FAIL {p}");
    }
    if problems.is_empty() {
        println!(
            "OK: every tile, the root, the checkpoint signature, every chain and every segment hold"
        );
        0
    } else {
        println!("{} problem(s)", problems.len());
        2
    }
}

/// A [`Progress`] callback that shows one progress bar per step on the terminal.
pub fn bars() -> impl FnMut(&str, u64, u64) {
    let mut current: Option<(String, indicatif::ProgressBar)> = None;
    move |what, done, of| {
        if current.as_ref().is_none_or(|(w, _)| w != what) {
            let pb = indicatif::ProgressBar::new(of);
            pb.set_style(
                indicatif::ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            pb.set_message(what.to_owned());
            if let Some((_, old)) = current.replace((what.to_owned(), pb)) {
                old.finish_and_clear();
            }
        }
        if let Some((_, pb)) = &current {
            pb.set_position(done);
            if done >= of {
                pb.finish_and_clear();
            }
        }
    }
}
