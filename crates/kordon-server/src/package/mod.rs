//! The evidence package builder: a `kordon.evidence/v1` zip
//! (`docs/spec/evidence-package.md`) of a case's footage. The original segments byte for
//! byte, every chain link of the held ranges, the devices' keys, the custody trail, a
//! bilingual report and the contents list; then the export event naming the contents
//! list's hash is logged, a checkpoint that covers it and satisfies the witness quorum is
//! awaited, and a tlog-proof to it is added for every link and custody event, with the
//! tlog-policy.

#[cfg(feature = "c2pa")]
pub(crate) mod c2pa;
pub(crate) mod derive;
pub(crate) mod proofs;
pub(crate) mod redacted;
mod report;
mod timestamps;

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;

use kordon_api::cases::Exported;
use kordon_core::hash::Hash;
use kordon_core::note::Note;
use kordon_core::package::{self, Contents, Entry};
use kordon_store::meta::{Case, CaseItem, CustodyRow, LinkRow};
use kordon_store::now_ms;
use sha2::{Digest as _, Sha256};

use crate::error::ApiError;
use crate::localtime;
use crate::state::App;
use proofs::{policy_text, proofs_under_policy};

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// A derived file made for a package: where it is now, where it goes, its event.
pub(crate) struct Derived {
    pub file: std::path::PathBuf,
    pub path: String,
    pub sha256: Hash,
    pub event: CustodyRow,
}

/// A zip being written, with its contents list.
struct Package {
    zip: zip::ZipWriter<std::fs::File>,
    contents: Vec<Entry>,
}

fn stored() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true)
}

impl Package {
    /// Adds a file that is listed in the contents.
    fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
        self.add_unlisted(path, bytes)?;
        self.contents.push(Entry {
            path: path.to_owned(),
            sha256: kordon_core::sha256(bytes),
            size: bytes.len() as u64,
        });
        Ok(())
    }

    /// Adds one of the files that prove the contents (not listed in them).
    fn add_unlisted(&mut self, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
        self.zip.start_file(path, stored()).map_err(internal)?;
        self.zip.write_all(bytes).map_err(internal)
    }

    /// Copies a file in (a stored segment, a derived file), hashing it on the way; refuses
    /// bytes that do not match.
    fn add_file(
        &mut self,
        path: &str,
        from: &std::path::Path,
        want: &Hash,
    ) -> Result<(), ApiError> {
        let mut f = std::fs::File::open(from).map_err(internal)?;
        self.zip.start_file(path, stored()).map_err(internal)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = std::io::Read::read(&mut f, &mut buf).map_err(internal)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            self.zip.write_all(&buf[..n]).map_err(internal)?;
            size += n as u64;
        }
        let got = Hash(h.finalize().into());
        if got != *want {
            return Err(ApiError::Internal(format!(
                "stored blob {} does not match its hash (read {}): the scrubber should quarantine it; export stopped",
                want.to_hex(),
                got.to_hex()
            )));
        }
        self.contents.push(Entry {
            path: path.to_owned(),
            sha256: got,
            size,
        });
        Ok(())
    }
}

/// The proof files of a package, with its contents list and export event.
struct Proven {
    contents: Contents,
    export: Vec<u8>,
    note: Vec<u8>,
    policy: String,
    proofs: Vec<(Hash, Vec<u8>)>,
    /// Files beside them (time-stamps).
    extra: Vec<(String, Vec<u8>)>,
}

impl Package {
    /// Adds the files that prove the contents and closes the zip (on a blocking thread);
    /// answers its size.
    async fn seal(mut self, p: Proven) -> Result<u64, ApiError> {
        tokio::task::spawn_blocking(move || -> Result<u64, ApiError> {
            self.add_unlisted(package::CONTENTS, p.contents.to_text().as_bytes())?;
            self.add_unlisted(package::EXPORT_EVENT, &p.export)?;
            self.add_unlisted(package::CHECKPOINT, &p.note)?;
            self.add_unlisted(package::POLICY, p.policy.as_bytes())?;
            for (h, b) in &p.proofs {
                self.add_unlisted(&package::proof_path(h), b)?;
            }
            for (path, b) in &p.extra {
                self.add_unlisted(path, b)?;
            }
            let f = self.zip.finish().map_err(internal)?;
            f.sync_all().map_err(internal)?;
            Ok(f.metadata().map_err(internal)?.len())
        })
        .await
        .map_err(internal)?
    }
}

/// The log entries a package proves: each row's (it must be in the log by now), then
/// the export event's.
fn entries<'a>(
    rows: impl Iterator<Item = (&'a String, Option<i64>)>,
    export: (&str, u64),
) -> Result<Vec<(Hash, u64)>, ApiError> {
    let mut out = Vec::new();
    for (h, i) in rows {
        let i = i.ok_or_else(|| {
            ApiError::Unavailable(format!(
                "entry {h} is not in the log yet; try again in a moment"
            ))
        })?;
        out.push((Hash::from_hex(h).map_err(internal)?, i as u64));
    }
    out.push((Hash::from_hex(export.0).map_err(internal)?, export.1));
    Ok(out)
}

/// What goes into a package, read from the database.
struct Gathered {
    case: Case,
    items: Vec<CaseItem>,
    links: BTreeMap<String, Vec<LinkRow>>,
    keys: BTreeMap<String, String>,
    custody: Vec<CustodyRow>,
    zones: BTreeMap<String, jiff::tz::TimeZone>,
}

async fn gather(app: &App, id: &str) -> Result<Gathered, ApiError> {
    let (case, items) = app
        .meta
        .case(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no case {id}")))?;
    let mut ranges: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for i in &items {
        if let (Some(d), Some(f), Some(t)) = (&i.device_id, i.from_ms, i.to_ms) {
            ranges.entry(d.clone()).or_default().push((f, t));
        }
    }
    if ranges.is_empty() {
        return Err(ApiError::BadRequest(
            "empty_case",
            format!("case {id} holds no footage to export"),
        ));
    }
    let mut links = BTreeMap::new();
    let mut keys = BTreeMap::new();
    let mut zones = BTreeMap::new();
    let cp_zones = localtime::zones(app).await?;
    let mut subjects = vec![format!("case {id}")];
    for (device, spans) in &ranges {
        let mut by_seq: BTreeMap<u64, LinkRow> = BTreeMap::new();
        for (f, t) in spans {
            for l in app.meta.links_covering(device, *f, *t).await? {
                by_seq.insert(l.seq, l);
            }
        }
        if let Some(d) = app.meta.device(device).await? {
            keys.insert(device.clone(), d.vkey);
        }
        if let Some(tz) = app
            .meta
            .assignments(device)
            .await?
            .last()
            .and_then(|a| cp_zones.get(&a.crossing_point))
        {
            zones.insert(device.clone(), tz.clone());
        }
        // The events about the camera itself and about the segments packaged, not about
        // the rest of its years.
        subjects.push(format!("device {device}"));
        subjects.extend(
            by_seq
                .keys()
                .map(|seq| package::tombstone_subject(device, *seq)),
        );
        links.insert(device.clone(), by_seq.into_values().collect());
    }
    let custody = app.meta.custody_about(&subjects).await?;
    Ok(Gathered {
        case,
        items,
        links,
        keys,
        custody,
        zones,
    })
}

/// Writes the evidence package of case `id` into `<data>/exports/`, in `who`'s name;
/// answers where it is.
pub(crate) async fn export(app: &App, who: &str, id: &str) -> Result<Exported, ApiError> {
    let g = gather(app, id).await?;
    let dir = app.config.data.join("exports");
    std::fs::create_dir_all(&dir).map_err(internal)?;
    let stamp = now_ms();
    let name = format!("{id}-{stamp}.zip");
    let tmp = dir.join(format!(".{name}.tmp"));
    let final_path = dir.join(&name);
    // The segments as local files (a bucket's are fetched into the exports folder first).
    // A segment whose bytes are not in the store is left out and marked missing in the
    // report; the verifier says so too (its link states a segment the package lacks and
    // no tombstone says it was purged).
    let mut files: HashMap<String, (std::path::PathBuf, bool)> = HashMap::new();
    let mut missing = std::collections::HashSet::new();
    for l in g.links.values().flatten() {
        if let (Some(sha), None) = (&l.blob_sha256, l.purged_at)
            && !files.contains_key(sha)
            && !missing.contains(sha)
        {
            let h = Hash::from_hex(sha).map_err(internal)?;
            match app.blobs.local_file(&h, &dir).await {
                Ok((path, copy)) if copy || path.exists() => {
                    files.insert(sha.clone(), (path, copy));
                }
                Ok(_) => {
                    missing.insert(sha.clone());
                }
                Err(kordon_store::blob::BlobError::Io(e))
                    if e.kind() == std::io::ErrorKind::NotFound =>
                {
                    missing.insert(sha.clone());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    if !missing.is_empty() {
        tracing::warn!(
            case = id,
            missing = missing.len(),
            "exporting a case whose segments are missing from storage: marked missing in the package"
        );
    }
    let derived = derive::derive_all(app, who, id, &dir, &g.items, &g.links, &files).await;
    let mut g = g;
    let derived = match derived {
        Ok(d) => d,
        Err(e) => {
            for f in temporary(&files) {
                let _ = tokio::fs::remove_file(f).await;
            }
            return Err(e);
        }
    };
    g.custody.extend(derived.iter().map(|d| d.event.clone()));
    let report = report::html(
        &g.case,
        &g.items,
        &g.links,
        &g.custody,
        &g.zones,
        &missing,
        &derived
            .iter()
            .map(|d| (d.path.clone(), d.sha256))
            .collect::<Vec<_>>(),
    );
    let missing_count = missing.len() as u64;
    let derived_count = derived.len() as u64;
    // Fetched copies and derived files go once they are in the zip.
    let temporary: Vec<std::path::PathBuf> = temporary(&files)
        .chain(derived.iter().map(|d| d.file.clone()))
        .collect();
    let packed = {
        let tmp = tmp.clone();
        tokio::task::spawn_blocking(move || -> Result<(Gathered, Package), ApiError> {
            let file = std::fs::File::create(&tmp).map_err(internal)?;
            let mut pkg = Package {
                zip: zip::ZipWriter::new(file),
                contents: Vec::new(),
            };
            for (device, key) in &g.keys {
                pkg.add(
                    &package::device_key_path(device),
                    format!("{key}\n").as_bytes(),
                )?;
            }
            for (device, ls) in &g.links {
                for l in ls {
                    pkg.add(&package::link_path(device, l.seq), &l.body)?;
                    if let (Some(sha), None) = (&l.blob_sha256, l.purged_at)
                        && !missing.contains(sha)
                    {
                        let h = Hash::from_hex(sha).map_err(internal)?;
                        let (file, _) = files.get(sha).ok_or_else(|| {
                            ApiError::Internal(format!("segment {sha} not fetched"))
                        })?;
                        pkg.add_file(&package::segment_path(device, l.seq), file, &h)?;
                    }
                }
            }
            for c in &g.custody {
                let h = Hash::from_hex(&c.hash).map_err(internal)?;
                pkg.add(&package::custody_path(&h), &c.body)?;
                if let Some(private) = &c.private {
                    pkg.add(&package::custody_private_path(&h), private.as_bytes())?;
                }
            }
            for d in &derived {
                pkg.add_file(&d.path, &d.file, &d.sha256)?;
            }
            pkg.add(package::REPORT, report.as_bytes())?;
            Ok((g, pkg))
        })
        .await
        .map_err(internal)
    };
    for f in temporary {
        let _ = tokio::fs::remove_file(f).await;
    }
    let (g, mut pkg) = packed??;
    pkg.contents.sort_by(|a, b| a.path.cmp(&b.path));
    let contents = Contents {
        case: id.to_owned(),
        entries: std::mem::take(&mut pkg.contents),
    };
    let digest = contents.digest();
    let (export_index, export_note) = logged(
        app,
        who,
        package::EXPORT_ACTION,
        &format!("case {id}"),
        &package::export_detail(id, &digest),
    )
    .await?;
    let export_hash = export_note.hash.clone();
    let rows = g
        .links
        .values()
        .flatten()
        .map(|l| (&l.hash, l.log_index))
        .chain(g.custody.iter().map(|c| (&c.hash, c.log_index)));
    let entries = entries(rows, (&export_hash, export_index))?;
    let (note, proofs) = proofs_under_policy(app, entries).await?;
    let size =
        kordon_core::checkpoint::Checkpoint::parse(Note::parse(&note).map_err(internal)?.text())
            .map_err(internal)?
            .size;
    let policy = policy_text(app)?;
    let covered = g
        .links
        .values()
        .flatten()
        .filter_map(|l| l.log_index)
        .max()
        .map_or(0, |i| i as u64 + 1);
    let stamps = timestamps::files(app, size, &note, covered).await?;
    let stamped = stamps.iter().filter(|(p, _)| p.ends_with(".tsr")).count() as u64;
    let file = pkg
        .seal(Proven {
            contents,
            export: export_note.body,
            note,
            policy,
            proofs,
            extra: stamps,
        })
        .await?;
    std::fs::rename(&tmp, &final_path).map_err(internal)?;
    let sha = hash_file(final_path.clone()).await?;
    // Which package a release receipt may name: the packages this server wrote of the case.
    std::fs::write(dir.join(format!("{name}.sha256")), sha.to_hex()).map_err(internal)?;
    Ok(Exported {
        case: id.to_owned(),
        file: name,
        size: file,
        sha256: sha.to_hex(),
        contents_sha256: digest.to_hex(),
        export_log_index: export_index,
        checkpoint_size: size,
        missing: missing_count,
        derived: derived_count,
        timestamps: stamped,
    })
}

/// Logs a custody event about a case; answers its index and its stored row.
async fn logged(
    app: &App,
    who: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> Result<(u64, CustodyRow), ApiError> {
    let (index, hash) = app.custody_entry(who, action, subject, detail).await?;
    let row = app
        .meta
        .custody_about(&[subject.to_owned()])
        .await?
        .into_iter()
        .find(|c| c.hash == hash)
        .ok_or_else(|| ApiError::Internal(format!("{action} event not found after logging")))?;
    Ok((index, row))
}

/// The segments fetched from a bucket for an export (copies to remove afterwards).
fn temporary(
    files: &HashMap<String, (std::path::PathBuf, bool)>,
) -> impl Iterator<Item = std::path::PathBuf> + '_ {
    files
        .values()
        .filter(|(_, copy)| *copy)
        .map(|(p, _)| p.clone())
}

/// Whether this server exported a package of case `id` with SHA-256 `sha`.
pub(crate) fn exported(app: &App, id: &str, sha: &Hash) -> bool {
    let Ok(dir) = std::fs::read_dir(app.config.data.join("exports")) else {
        return false;
    };
    let prefix = format!("{id}-");
    dir.flatten().any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with(&prefix)
            && name.ends_with(".zip.sha256")
            && name[prefix.len()..name.len() - ".zip.sha256".len()]
                .bytes()
                .all(|b| b.is_ascii_digit())
            && std::fs::read_to_string(e.path()).is_ok_and(|t| t.trim() == sha.to_hex())
    })
}

async fn hash_file(path: std::path::PathBuf) -> Result<Hash, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(path).map_err(internal)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = std::io::Read::read(&mut f, &mut buf).map_err(internal)?;
            if n == 0 {
                return Ok(Hash(h.finalize().into()));
            }
            h.update(&buf[..n]);
        }
    })
    .await
    .map_err(internal)?
}
