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
//!
//! An audit can go on from the last one ([`audit_from`], with the [`AuditState`] it
//! saved): then steps 2 and 3 read only the entries added since, and what they add to the
//! tree, so a daily audit costs a day of entries (`docs/spec/audit-state.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use kordon_core::Hash;
pub use kordon_core::audit_state::AuditState;
use kordon_core::chain::{ChainOptions, SequenceCheck, continue_chain};
use kordon_core::checkpoint;
use kordon_core::link::{Link, LinkBody};
use kordon_core::merkle::leaf_hash;
use kordon_core::note::VerifierKey;
use kordon_core::tiles::{TILE_WIDTH, TileId, decode_bundle, tiles_for_size};

/// Why the audit could not run at all (what it finds is in [`Audit::problems`]).
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The source could not give a file the audit cannot do without.
    #[error("{0}")]
    Source(String),
    /// The checkpoint does not verify with the log key.
    #[error("checkpoint does not verify with the log key: {0}")]
    Checkpoint(String),
    /// The saved audit state cannot be read, written, or is of another log.
    #[error("{0}")]
    State(String),
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
    /// The entries read in this run (from [`Audit::from`] on), in order; empty if they
    /// could not all be read.
    pub entries: Vec<Vec<u8>>,
    /// The checkpoint's origin.
    pub origin: String,
    /// Its size.
    pub size: u64,
    /// The size an earlier audit had verified (0: this run audited the whole log).
    pub from: u64,
    /// The segments the entries read name whose bytes should be kept.
    pub segments: Vec<NamedSegment>,
    /// How many segments the log says were purged by retention (a signed tombstone).
    pub purged: usize,
    /// How many device chains were verified.
    pub devices: usize,
    /// Links that arrived after links numbered above them (an upload from a camera that
    /// was offline): in a run from a saved state, checked for their signature only.
    pub late: u64,
    /// What to go on from next time: set when the checkpoint, every entry, tile and the
    /// root held (chain findings are about the footage and do not hold it back).
    pub state: Option<AuditState>,
}

/// Steps 1–3 over the whole log: the checkpoint, every tile and the root, every entry, and
/// (with `chains_too`) every device chain — whose gaps are findings about the footage, not
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
    audit_from(source, key, None, chains_too, progress)
}

/// Steps 1–3 from where an earlier audit stopped (`from`, its [`Audit::state`]): only
/// the entries added since are read; the new root is recomputed from the saved right edge
/// of the tree and them, which proves the log still extends what was audited; the hash
/// tiles they change are compared; chains go on from where they stood.
///
/// # Errors
/// [`AuditError`] when the checkpoint cannot be read or does not verify, or `from` is of
/// another log.
pub fn audit_from(
    source: &dyn LogSource,
    key: &VerifierKey,
    from: Option<AuditState>,
    chains_too: bool,
    progress: Progress<'_>,
) -> Result<Audit, AuditError> {
    let mut problems: Vec<String> = Vec::new();
    let cp_bytes = source.get("log/checkpoint").map_err(AuditError::Source)?;
    let (cp, _) =
        checkpoint::open(&cp_bytes, key).map_err(|e| AuditError::Checkpoint(e.to_string()))?;
    let mut state = from.unwrap_or_else(|| AuditState::empty(&cp.origin));
    if state.origin != cp.origin {
        return Err(AuditError::State(format!(
            "the saved audit state is of the log {:?}, this log is {:?}",
            state.origin, cp.origin
        )));
    }
    let (size, old) = (cp.size, state.tree.size());
    let mut out = Audit {
        problems: Vec::new(),
        entries: Vec::new(),
        origin: cp.origin.clone(),
        size,
        from: old,
        segments: Vec::new(),
        purged: 0,
        devices: 0,
        late: 0,
        state: None,
    };
    if size < old {
        out.problems.push(format!(
            "the checkpoint is at size {size}, below the {old} entries audited before: the log was cut back"
        ));
        return Ok(out);
    }

    // The new entries, and the entries of the first bundle audited before (unchanged).
    let tiles = tiles_for_size(size);
    let bundles: Vec<&TileId> = tiles
        .iter()
        .filter(|t| t.level.is_none() && t.index >= old / TILE_WIDTH)
        .collect();
    let mut entries: Vec<Vec<u8>> = Vec::with_capacity((size - old) as usize);
    for (i, id) in bundles.iter().enumerate() {
        let data = source
            .get(&format!("log/{}", id.path()))
            .map_err(AuditError::Source)?;
        match decode_bundle(&data) {
            Ok(es) if es.len() == usize::from(id.width) => {
                for (index, e) in (id.index * TILE_WIDTH..).zip(es) {
                    if index >= old {
                        entries.push(e.to_vec());
                    } else if state.tree.node(0, index) != Some(leaf_hash(e)) {
                        problems.push(format!(
                            "entry {index}: not the entry audited before at size {old}"
                        ));
                    }
                }
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
    if old + entries.len() as u64 != size {
        problems.push(format!(
            "log serves {} entries, the checkpoint says {size}",
            old + entries.len() as u64
        ));
        out.problems = problems;
        return Ok(out);
    }
    for e in &entries {
        state.tree.push_leaf_hash(leaf_hash(e));
    }
    if state.tree.root() != cp.root {
        problems.push(if old == 0 {
            format!(
                "entries give root {}, the checkpoint says {}",
                state.tree.root(),
                cp.root
            )
        } else {
            format!(
                "the tree audited at size {old} and the entries after it give root {}, the checkpoint says {}: the log does not extend what was audited",
                state.tree.root(),
                cp.root
            )
        });
    }
    let hash_tiles: Vec<&TileId> = tiles
        .iter()
        .filter(|t| {
            t.level
                .is_some_and(|l| t.index >= (old >> (8 * u32::from(l))) / TILE_WIDTH)
        })
        .collect();
    for (i, id) in hash_tiles.iter().enumerate() {
        let want: Option<Vec<u8>> = state
            .tree
            .nodes(
                id.level.unwrap_or(0) * 8,
                id.index * TILE_WIDTH,
                usize::from(id.width),
            )
            .map(|hs| hs.iter().flat_map(|h| h.0).collect());
        match source.get(&format!("log/{}", id.path())) {
            Ok(got) if Some(&got) == want.as_ref() => {}
            Ok(_) => problems.push(format!(
                "{}: does not match the hashes of the entries",
                id.path()
            )),
            Err(e) => problems.push(format!("{}: {e}", id.path())),
        }
        progress("tiles", i as u64 + 1, hash_tiles.len() as u64);
    }

    // What the entries say.
    let mut chains: BTreeMap<String, Vec<&[u8]>> = BTreeMap::new();
    let mut segments: Vec<NamedSegment> = Vec::new();
    let mut tombstones: BTreeSet<String> = BTreeSet::new();
    for (i, e) in (old..).zip(&entries) {
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
                            state.keys.insert(k.name().to_owned(), k);
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
            v if kordon_core::link::is_link_version(v) => match Link::parse(e) {
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
    let copy_holds = problems.is_empty();
    let opts = ChainOptions::default();
    for (device, links) in chains.iter().filter(|_| chains_too) {
        let Some(k) = state.keys.get(device) else {
            problems.push(format!(
                "device {device}: {} links but no enrollment in the log",
                links.len()
            ));
            continue;
        };
        let check = state
            .chains
            .entry(device.clone())
            .or_insert_with(|| SequenceCheck::new(device, 0, &opts));
        let (found, late) = continue_chain(check, device, k, links);
        out.late += late;
        for p in &found {
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
    out.state = (copy_holds && chains_too).then_some(state);
    Ok(out)
}

/// Reads the audit state saved at `path`; `None` if there is no file yet (the first audit
/// reads the whole log).
///
/// # Errors
/// [`AuditError::State`] when the file cannot be read or is not an audit state.
pub fn load_state(path: &Path) -> Result<Option<AuditState>, AuditError> {
    match std::fs::read_to_string(path) {
        Ok(text) => AuditState::from_text(&text, &ChainOptions::default())
            .map(Some)
            .map_err(|e| AuditError::State(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AuditError::State(format!(
            "reading {}: {e}",
            path.display()
        ))),
    }
}

/// Saves `state` at `path`, replacing the file only once the new one is whole on disk.
///
/// # Errors
/// [`AuditError::State`] naming the file.
pub fn save_state(path: &Path, state: &AuditState) -> Result<(), AuditError> {
    let fail = |e: std::io::Error| AuditError::State(format!("writing {}: {e}", path.display()));
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(fail)?;
    f.write_all(state.to_text().as_bytes()).map_err(fail)?;
    f.sync_all().map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
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
