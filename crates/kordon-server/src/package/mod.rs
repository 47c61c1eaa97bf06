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
pub(crate) mod parts;
pub(crate) mod proofs;
pub(crate) mod redacted;
mod report;
mod timestamps;

use std::collections::{BTreeMap, HashMap};

use kordon_api::cases::Exported;
use kordon_core::hash::Hash;
use kordon_core::note::Note;
use kordon_core::package::{self, Contents};
use kordon_store::meta::{Case, CaseItem, CustodyRow, LinkRow};
use kordon_store::now_ms;

use crate::error::ApiError;
use crate::localtime;
use crate::state::App;
use parts::{Package, Proven, entries, hash_file, internal, logged};
use proofs::{policy_text, proofs_under_policy};

/// Where an export goes and what its playable files show.
pub(crate) struct Target {
    /// The folder it is written in.
    pub dir: std::path::PathBuf,
    /// Its file name there.
    pub name: String,
    /// A line drawn over every frame of its playable files (a share's recipient): they are
    /// then rendered (`redact`), not joined.
    pub watermark: Option<String>,
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
    let target = Target {
        dir: app.config.data.join("exports"),
        name: format!("{id}-{}.zip", now_ms()),
        watermark: None,
    };
    let e = write(app, who, id, &target).await?;
    // Which package a release receipt may name: the packages this server wrote of the case.
    std::fs::write(
        target.dir.join(format!("{}.sha256", target.name)),
        &e.sha256,
    )
    .map_err(internal)?;
    Ok(e)
}

/// Writes the evidence package of case `id` as `target` says, in `who`'s name.
pub(crate) async fn write(
    app: &App,
    who: &str,
    id: &str,
    target: &Target,
) -> Result<Exported, ApiError> {
    let g = gather(app, id).await?;
    let dir = target.dir.clone();
    std::fs::create_dir_all(&dir).map_err(internal)?;
    let name = target.name.clone();
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
    let derived = derive::derive_all(
        app,
        who,
        id,
        &dir,
        (&g.items, &g.links, &files),
        target.watermark.as_deref(),
    )
    .await;
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
                pkg.add_derived(d)?;
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
    exports_of(app, id).iter().any(|e| e.sha256 == sha.to_hex())
}

/// A package this server wrote of a case.
pub(crate) struct Export {
    /// Its file name in `exports/`.
    pub(crate) file: String,
    /// When it was written, Unix ms.
    pub(crate) at_ms: i64,
    /// Its SHA-256, hex.
    pub(crate) sha256: String,
}

/// The packages this server wrote of case `id` (`<id>-<ms>.zip` with its `.sha256`),
/// newest first.
pub(crate) fn exports_of(app: &App, id: &str) -> Vec<Export> {
    let Ok(dir) = std::fs::read_dir(app.config.data.join("exports")) else {
        return Vec::new();
    };
    let prefix = format!("{id}-");
    let mut out: Vec<Export> = dir
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let ms = name.strip_prefix(&prefix)?.strip_suffix(".zip.sha256")?;
            let at_ms = ms
                .parse()
                .ok()
                .filter(|_| ms.bytes().all(|b| b.is_ascii_digit()))?;
            let sha256 = std::fs::read_to_string(e.path()).ok()?.trim().to_owned();
            Some(Export {
                file: name.trim_end_matches(".sha256").to_owned(),
                at_ms,
                sha256,
            })
        })
        .collect();
    out.sort_by_key(|e| std::cmp::Reverse(e.at_ms));
    out
}
