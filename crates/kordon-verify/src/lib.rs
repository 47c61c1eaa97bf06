//! # kordon-verify
//!
//! Checks a `kordon.evidence/v1` package (`docs/spec/evidence-package.md`) with nothing
//! but the package and, optionally, a tlog-policy the court trusts independently:
//!
//! 1. the checkpoint is signed by the log and cosigned by the witness quorum of the policy;
//! 2. the export event is signed by the log, proven in it, and names the SHA-256 of the
//!    contents list; every file listed is present with its hash and size, and no other
//!    file is (anything added, removed, swapped or edited after export shows here);
//! 3. every device key is named by an enrollment event proven in the log;
//! 4. every chain link is signed by its device's key, proven in the log, and the links of
//!    each camera chain together (no link missing inside the range, each naming the one
//!    before); every segment file has the hash and size its link states, or a tombstone
//!    proven in the log says retention purged it;
//! 5. every custody event is signed by the log and proven in it.
//!
//! Media is hashed on all cores. The result is a list of lines, one per file, link or
//! event, each holding or not, in plain words.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::Path;

use kordon_core::chain::{ChainOptions, ChainProblem, verify_chain};
use kordon_core::custody::Custody;
use kordon_core::hash::{Hash, sha256};
use kordon_core::link::{Link, LinkBody};
use kordon_core::note::{Note, VerifierKey};
use kordon_core::package::{self, Contents};
use kordon_core::policy::Policy;
use kordon_core::tlog_proof::TlogProof;
use sha2::{Digest as _, Sha256};

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It holds.
    Ok,
    /// It does not hold: the package is not to be relied on as it is.
    Fail,
    /// A fact worth knowing that is not a failure (a gap in recording, a purged segment).
    Note,
}

/// One line of the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// How it came out.
    pub outcome: Outcome,
    /// What was checked (a path in the package, or a camera and sequence number).
    pub subject: String,
    /// What holds or what does not, in plain words.
    pub message: String,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.outcome {
            Outcome::Ok => "ok  ",
            Outcome::Fail => "FAIL",
            Outcome::Note => "note",
        };
        write!(f, "{tag} {}: {}", self.subject, self.message)
    }
}

/// The result of verifying a package.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every check, in the order made.
    pub lines: Vec<Line>,
    /// Bytes of media hashed.
    pub media_bytes: u64,
}

impl Report {
    /// Whether everything holds.
    pub fn holds(&self) -> bool {
        !self.lines.iter().any(|l| l.outcome == Outcome::Fail)
    }

    /// The lines that do not hold.
    pub fn failures(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.outcome == Outcome::Fail)
    }

    fn push(&mut self, outcome: Outcome, subject: impl Into<String>, message: impl Into<String>) {
        self.lines.push(Line {
            outcome,
            subject: subject.into(),
            message: message.into(),
        });
    }

    fn check(&mut self, subject: impl Into<String>, r: Result<String, String>) -> bool {
        match r {
            Ok(m) => {
                self.push(Outcome::Ok, subject, m);
                true
            }
            Err(m) => {
                self.push(Outcome::Fail, subject, m);
                false
            }
        }
    }
}

/// Why a package could not be checked at all.
#[derive(Debug)]
pub enum OpenError {
    /// Not readable.
    Io(std::io::Error),
    /// Not a zip file.
    Zip(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Io(e) => write!(f, "cannot read the package: {e}"),
            OpenError::Zip(e) => write!(f, "not a zip file: {e}"),
        }
    }
}

impl std::error::Error for OpenError {}

/// Largest non-media file read into memory.
const MAX_SMALL: u64 = 64 << 20;

struct Zip {
    archive: zip::ZipArchive<std::fs::File>,
}

impl Zip {
    fn open(path: &Path) -> Result<Self, OpenError> {
        let f = std::fs::File::open(path).map_err(OpenError::Io)?;
        let archive = zip::ZipArchive::new(f).map_err(|e| OpenError::Zip(e.to_string()))?;
        Ok(Zip { archive })
    }

    fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .collect()
    }

    fn read(&mut self, name: &str) -> Result<Vec<u8>, String> {
        let f = self
            .archive
            .by_name(name)
            .map_err(|_| "not in the package".to_owned())?;
        let mut out = Vec::new();
        f.take(MAX_SMALL)
            .read_to_end(&mut out)
            .map_err(|e| format!("unreadable: {e}"))?;
        Ok(out)
    }
}

/// SHA-256 and size of each named member, on `threads` threads (each with its own handle
/// on the file).
fn hash_members(
    path: &Path,
    names: &[String],
    threads: usize,
) -> BTreeMap<String, Result<(Hash, u64), String>> {
    let threads = threads.clamp(1, 64);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut out = BTreeMap::new();
                    let Ok(mut z) = Zip::open(path) else {
                        return out;
                    };
                    let mut buf = vec![0u8; 1 << 20];
                    for name in names.iter().skip(t).step_by(threads) {
                        let r = (|| {
                            let mut f = z
                                .archive
                                .by_name(name)
                                .map_err(|_| "not in the package".to_owned())?;
                            let mut h = Sha256::new();
                            let mut size = 0u64;
                            loop {
                                let n = f.read(&mut buf).map_err(|e| format!("unreadable: {e}"))?;
                                if n == 0 {
                                    break;
                                }
                                h.update(&buf[..n]);
                                size += n as u64;
                            }
                            Ok((Hash(h.finalize().into()), size))
                        })();
                        out.insert(name.clone(), r);
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Verifies one log entry's proof in the package; answers its log index.
fn proven(z: &mut Zip, entry: &[u8], policy: &Policy) -> Result<u64, String> {
    let h = sha256(entry);
    let path = package::proof_path(&h);
    let bytes = z
        .read(&path)
        .map_err(|e| format!("its proof {path} is {e}"))?;
    let p = TlogProof::parse(&bytes).map_err(|e| format!("its proof {path} is malformed: {e}"))?;
    p.verify(entry, policy)
        .map_err(|e| format!("its proof {path} does not hold: {e}"))?;
    Ok(p.index)
}

/// A custody event signed by the log, parsed.
fn custody(bytes: &[u8], log_keys: &[VerifierKey]) -> Result<Custody, String> {
    let n = Note::parse(bytes).map_err(|e| format!("not a signed note: {e}"))?;
    n.verify(log_keys)
        .map_err(|e| format!("not signed by the log: {e}"))?;
    Custody::parse(n.text()).map_err(|e| format!("not a custody event: {e}"))
}

/// Verifies the package at `path`. `trusted_policy` is a tlog-policy obtained
/// independently; without it the package's own `policy.txt` is used (and the report
/// says so).
///
/// # Errors
/// [`OpenError`] when the file is not a readable zip; everything else is a line.
pub fn verify_package(
    path: &Path,
    trusted_policy: Option<&str>,
    threads: usize,
) -> Result<Report, OpenError> {
    let mut z = Zip::open(path)?;
    let mut r = Report::default();
    let names: BTreeSet<String> = z.names().into_iter().collect();

    // 1. Policy and checkpoint.
    let own = z.read(package::POLICY).ok();
    let policy_text = match (trusted_policy, &own) {
        (Some(p), Some(o)) if p.as_bytes() != o.as_slice() => {
            r.push(
                Outcome::Note,
                package::POLICY,
                "differs from the policy you gave; yours is used",
            );
            p.to_owned()
        }
        (Some(p), _) => p.to_owned(),
        (None, Some(o)) => {
            r.push(Outcome::Note, package::POLICY, "no --policy given: trusting the keys the package names (give the policy you trust to check them)");
            String::from_utf8_lossy(o).into_owned()
        }
        (None, None) => {
            r.push(
                Outcome::Fail,
                package::POLICY,
                "missing, and no --policy given: nothing to check signatures against",
            );
            return Ok(r);
        }
    };
    let policy = match Policy::parse(&policy_text) {
        Ok(p) => p,
        Err(e) => {
            r.push(
                Outcome::Fail,
                package::POLICY,
                format!("not a valid tlog-policy: {e}"),
            );
            return Ok(r);
        }
    };
    let log_keys = policy.logs().to_vec();
    let checkpoint = z.read(package::CHECKPOINT);
    r.check(
        package::CHECKPOINT,
        checkpoint
            .as_ref()
            .map_err(|e| format!("is {e}"))
            .and_then(|c| {
                policy
                    .check(c)
                    .map_err(|e| format!("does not satisfy the policy: {e}"))
            })
            .map(|s| {
                format!(
                    "signed by the log, witness quorum met, tree size {}",
                    s.checkpoint.size
                )
            }),
    );

    // 2. Export event and contents list.
    let export = z.read(package::EXPORT_EVENT).and_then(|b| {
        let c = custody(&b, &log_keys)?;
        if c.action != package::EXPORT_ACTION {
            return Err(format!("is a {:?} event, not an export", c.action));
        }
        let (case, digest) = package::contents_of_export(&c.detail)
            .ok_or_else(|| "does not name a contents list".to_owned())?;
        let index = proven(&mut z, &b, &policy)?;
        Ok((case.to_owned(), digest, index, c.time))
    });
    let contents = z.read(package::CONTENTS).and_then(|b| {
        let t = String::from_utf8(b).map_err(|_| "is not UTF-8".to_owned())?;
        Contents::parse(&t).map_err(|e| e.to_string())
    });
    r.check(
        package::EXPORT_EVENT,
        export
            .as_ref()
            .map(|(case, _, i, t)| {
                format!("export of case {case} at {t}, signed by the log, in the log at index {i}")
            })
            .map_err(Clone::clone),
    );
    let listed: BTreeMap<String, (Hash, u64)> = match (&contents, &export) {
        (Ok(c), Ok((case, digest, _, _))) => {
            let ok = c.digest() == *digest && c.case == *case;
            r.check(
                package::CONTENTS,
                if ok {
                    Ok(format!("{} files, exactly as recorded in the log at export", c.entries.len()))
                } else {
                    Err("does not match the export event in the log: files were added, removed or changed after export".into())
                },
            );
            c.entries
                .iter()
                .map(|e| (e.path.clone(), (e.sha256, e.size)))
                .collect()
        }
        (Err(e), _) => {
            r.push(Outcome::Fail, package::CONTENTS, format!("is {e}"));
            BTreeMap::new()
        }
        (Ok(c), Err(_)) => c
            .entries
            .iter()
            .map(|e| (e.path.clone(), (e.sha256, e.size)))
            .collect(),
    };
    for n in names
        .iter()
        .filter(|n| !package::is_proof_file(n) && !listed.contains_key(*n))
    {
        r.push(
            Outcome::Fail,
            n.clone(),
            "is not in the contents list: added after export",
        );
    }

    // Hash every listed file (media on all cores), compare with the list.
    let media: Vec<String> = listed
        .keys()
        .filter(|p| p.starts_with("segments/"))
        .cloned()
        .collect();
    let hashed = hash_members(path, &media, threads);
    let mut file_hash: BTreeMap<String, (Hash, u64)> = BTreeMap::new();
    for (p, (want, size)) in &listed {
        let got = match hashed.get(p) {
            Some(g) => g.clone(),
            None => z.read(p).map(|b| (sha256(&b), b.len() as u64)),
        };
        match got {
            Err(e) => r.push(
                Outcome::Fail,
                p.clone(),
                format!("listed in the contents but {e}"),
            ),
            Ok((h, s)) => {
                if p.starts_with("segments/") {
                    r.media_bytes += s;
                }
                if (h, s) != (*want, *size) {
                    r.push(Outcome::Fail, p.clone(), format!("SHA-256 {} ({s} bytes) differs from the contents list ({}, {size} bytes): changed after export", h.to_hex(), want.to_hex()));
                }
                file_hash.insert(p.clone(), (h, s));
            }
        }
    }

    // 5. Custody events (and the facts they prove: enrollments, tombstones).
    let mut enrolled: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tombstones: BTreeMap<String, String> = BTreeMap::new();
    for p in names.iter().filter(|n| n.starts_with("custody/")) {
        let Ok(b) = z.read(p) else { continue };
        let named = p.trim_start_matches("custody/").trim_end_matches(".note");
        let res = (|| {
            if named != sha256(&b).to_hex() {
                return Err("its name is not the SHA-256 of its bytes".to_owned());
            }
            let c = custody(&b, &log_keys)?;
            let i = proven(&mut z, &b, &policy)?;
            if c.action == "enroll"
                && let Some(d) = c.subject.strip_prefix("device ")
            {
                enrolled
                    .entry(d.to_owned())
                    .or_default()
                    .insert(c.detail.clone());
            }
            if c.action == package::TOMBSTONE_ACTION {
                tombstones.insert(c.subject.clone(), c.detail.clone());
            }
            Ok(format!(
                "{} {} by {} at {}, in the log at index {i}",
                c.action, c.subject, c.actor, c.time
            ))
        })();
        r.check(p.clone(), res);
    }

    // 3. Device keys.
    let mut keys: BTreeMap<String, VerifierKey> = BTreeMap::new();
    for p in names
        .iter()
        .filter(|n| n.starts_with("devices/") && n.ends_with(".vkey"))
    {
        let device = p
            .trim_start_matches("devices/")
            .trim_end_matches(".vkey")
            .to_owned();
        let res = z.read(p).and_then(|b| {
            let s = String::from_utf8(b).map_err(|_| "is not UTF-8".to_owned())?;
            let k =
                VerifierKey::parse(s.trim()).map_err(|e| format!("is not a verifier key: {e}"))?;
            if !enrolled
                .get(&device)
                .is_some_and(|e| e.contains(&k.to_string()))
            {
                return Err(format!(
                    "no enrollment event in the log names this key for {device}"
                ));
            }
            keys.insert(device.clone(), k);
            Ok(format!("key of {device}, enrolled in the log"))
        });
        r.check(p.clone(), res);
    }

    // 4. Links, chains and segment files.
    let mut by_device: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for p in names.iter().filter(|n| n.starts_with("links/")) {
        let device = p.split('/').nth(1).unwrap_or("").to_owned();
        if let Ok(b) = z.read(p) {
            by_device.entry(device).or_default().push((p.clone(), b));
        }
    }
    let mut segment_files: BTreeSet<String> = names
        .iter()
        .filter(|n| n.starts_with("segments/"))
        .cloned()
        .collect();
    for (device, links) in &by_device {
        let Some(key) = keys.get(device) else {
            r.push(
                Outcome::Fail,
                format!("links/{device}"),
                format!("no enrolled key for {device}: its links cannot be checked"),
            );
            continue;
        };
        let raw: Vec<&[u8]> = links.iter().map(|(_, b)| b.as_slice()).collect();
        let chain = verify_chain(device, key, &raw, &ChainOptions::default());
        let first = chain.links.first().map_or(0, |l| l.body().seq());
        for p in &chain.problems {
            let (outcome, msg) = match p {
                ChainProblem::Missing { from: 0, to } if *to + 1 == first => continue,
                ChainProblem::UnexplainedGap { from, to, .. } => (
                    Outcome::Note,
                    format!("no recording from {from} to {to} and no event explains it"),
                ),
                ChainProblem::BadSignature { index, seq } => (
                    Outcome::Fail,
                    format!(
                        "{} (seq {seq}) is not signed by the camera's enrolled key",
                        links[*index].0
                    ),
                ),
                ChainProblem::Malformed { index, error } => (
                    Outcome::Fail,
                    format!("{} is not a valid link: {error}", links[*index].0),
                ),
                ChainProblem::WrongDevice { index, device: d } => (
                    Outcome::Fail,
                    format!("{} is a link of {d}", links[*index].0),
                ),
                ChainProblem::Missing { from, to } => (
                    // The contents list (checked against the log above) says what the
                    // server exported; a link it never had is a hole in the evidence,
                    // shown as such, not a change to the package.
                    Outcome::Note,
                    format!(
                        "links {from}..={to} never reached the log (the camera's chain shows they existed): no footage for that stretch"
                    ),
                ),
                ChainProblem::BrokenPrev { seq, .. } => (
                    Outcome::Fail,
                    format!("link {seq} does not name the link before it: the chain is broken"),
                ),
                other => (Outcome::Fail, format!("{other:?}")),
            };
            r.push(outcome, format!("camera {device}"), msg);
        }
        for (path, bytes) in links {
            let Ok(link) = Link::parse(bytes) else {
                continue;
            };
            if link.verify(key).is_err() {
                continue;
            }
            let seq = link.body().seq();
            if *path != package::link_path(device, seq) {
                r.push(
                    Outcome::Fail,
                    path.clone(),
                    format!("holds link {seq}: filed under the wrong name"),
                );
                continue;
            }
            let what = match link.body() {
                LinkBody::Segment(s) => format!("segment {}..{}", s.start, s.end),
                LinkBody::Event(e) => {
                    format!("event {} at {} ({})", e.kind.as_str(), e.time, e.detail)
                }
            };
            let res = proven(&mut z, bytes, &policy)
                .map(|i| format!("{what}, signed by {device}, in the log at index {i}"));
            if !r.check(path.clone(), res) {
                continue;
            }
            if let LinkBody::Segment(s) = link.body() {
                let file = package::segment_path(device, seq);
                segment_files.remove(&file);
                let res = match file_hash.get(&file) {
                    Some((h, size)) if *h == s.sha256 && *size == s.size => Ok(format!(
                        "{size} bytes, SHA-256 as signed by the camera in link {seq}"
                    )),
                    Some((h, size)) => Err(format!(
                        "SHA-256 {} ({size} bytes) is not the {} ({} bytes) that link {seq} states: not the camera's recording",
                        h.to_hex(),
                        s.sha256.to_hex(),
                        s.size
                    )),
                    None => {
                        match tombstones.get(&package::tombstone_subject(device, seq)) {
                            Some(d) if d.contains(&s.sha256.to_hex()) => {
                                r.push(Outcome::Note, file.clone(), format!("purged by retention, not missing: tombstone in the log ({d})"));
                                continue;
                            }
                            _ => Err(format!(
                                "missing: link {seq} states a segment that is not in the package and no tombstone says it was purged"
                            )),
                        }
                    }
                };
                r.check(file, res);
            }
        }
    }
    for f in segment_files {
        if listed.contains_key(&f) {
            r.push(
                Outcome::Fail,
                f,
                "is not the segment of any verified chain link",
            );
        }
    }
    Ok(r)
}
