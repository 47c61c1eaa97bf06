//! One playable MP4 per held range of a case (`docs/spec/derived.md`): the range's segments
//! joined by ffmpeg without re-encoding ([`kordon_core::derive::concat_copy_args`]), the
//! derivation logged as a `derive` custody event before the package is proven, so the
//! package's proofs cover it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use kordon_core::derive::{self, CONCAT_COPY, DERIVE_ACTION, Derivation};
use kordon_core::hash::Hash;
use kordon_store::meta::{CaseItem, LinkRow};

use super::parts::{Derived, hash_file, internal, logged};
use crate::error::ApiError;
use crate::state::App;

/// What a case holds: its items, the links of their cameras, the segments' local files.
pub(super) type Held<'a> = (
    &'a [CaseItem],
    &'a BTreeMap<String, Vec<LinkRow>>,
    &'a HashMap<String, (PathBuf, bool)>,
);

/// The segments each held range joins, in order: those of the range's camera whose time
/// overlaps it and whose bytes are here. Ranges with the same sources are made once.
fn ranges<'a>(
    items: &[CaseItem],
    links: &'a BTreeMap<String, Vec<LinkRow>>,
    files: &HashMap<String, (PathBuf, bool)>,
) -> Vec<(String, Vec<&'a LinkRow>)> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for i in items {
        let (Some(device), Some(from), Some(to)) = (&i.device_id, i.from_ms, i.to_ms) else {
            continue;
        };
        let sources: Vec<&LinkRow> = links
            .get(device)
            .into_iter()
            .flatten()
            .filter(|l| l.end_ms > from && l.start_ms < to && l.purged_at.is_none())
            .filter(|l| {
                l.blob_sha256
                    .as_ref()
                    .is_some_and(|s| files.contains_key(s))
            })
            .collect();
        if let (Some(a), Some(b)) = (sources.first(), sources.last())
            && seen.insert((device.clone(), a.seq, b.seq))
        {
            out.push((device.clone(), sources));
        }
    }
    out
}

/// Joins `sources` (local files, in order) into `out` with ffmpeg.
pub(crate) async fn join(dir: &Path, sources: &[&Path], out: &Path) -> Result<(), String> {
    let list = out.with_extension("txt");
    let mut text = String::new();
    for s in sources {
        let s = s.to_str().ok_or("a segment path is not UTF-8")?;
        text.push_str(&format!("file '{}'\n", s.replace('\'', "'\\''")));
    }
    std::fs::write(&list, text).map_err(|e| e.to_string())?;
    let res = tokio::process::Command::new("ffmpeg")
        .current_dir(dir)
        .args(derive::concat_copy_args(
            list.to_str().ok_or("the exports folder is not UTF-8")?,
            out.to_str().ok_or("the exports folder is not UTF-8")?,
        ))
        .kill_on_drop(true)
        .output()
        .await;
    let _ = std::fs::remove_file(&list);
    let res = res.map_err(|e| format!("ffmpeg cannot be run: {e}"))?;
    if !res.status.success() {
        let _ = std::fs::remove_file(out);
        return Err(format!(
            "ffmpeg {}: {}",
            res.status,
            String::from_utf8_lossy(&res.stderr).trim()
        ));
    }
    Ok(())
}

/// Makes and logs the derived file of every held range of case `id`. Without ffmpeg the
/// package is made without them (the originals are the evidence); a range ffmpeg cannot
/// join is left out likewise. Both are logged as warnings.
pub(super) async fn derive_all(
    app: &App,
    who: &str,
    id: &str,
    dir: &Path,
    (items, links, files): Held<'_>,
    watermark: Option<&str>,
) -> Result<Vec<Derived>, ApiError> {
    // A range is copied once more (twice with Content Credentials): past the limit, its
    // segments are the only way to play it.
    let limit = app.config.derived_max_bytes;
    let (todo, too_large): (Vec<_>, Vec<_>) =
        ranges(items, links, files)
            .into_iter()
            .partition(|(_, sources)| {
                sources
                    .iter()
                    .map(|l| l.size.unwrap_or(0).max(0) as u64)
                    .sum::<u64>()
                    <= limit
            });
    for (device, sources) in &too_large {
        tracing::warn!(
            case = id,
            device,
            segments = sources.len(),
            limit,
            "no playable file for this range: its segments are larger than derived_max_bytes"
        );
    }
    if todo.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(mark) = watermark {
        return super::redacted::watermarked(app, who, id, dir, todo, files, mark).await;
    }
    let tool = match super::parts::tool().await {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(case = id, "no playable file in the package: {e}");
            return Ok(Vec::new());
        }
    };
    let mut out = Vec::new();
    for (device, sources) in todo {
        let first = sources[0].seq;
        let last = sources[sources.len() - 1].seq;
        let shas: Vec<&String> = sources
            .iter()
            .filter_map(|l| l.blob_sha256.as_ref())
            .collect();
        let file = dir.join(format!(
            ".{id}-{device}-{first}-{last}-{}.mp4",
            kordon_store::now_ms()
        ));
        let paths: Vec<&Path> = shas
            .iter()
            .filter_map(|sha| files.get(*sha).map(|(p, _)| p.as_path()))
            .collect();
        if let Err(e) = join(dir, &paths, &file).await {
            tracing::warn!(
                case = id,
                device,
                first,
                last,
                "no playable file for this range: {e}"
            );
            continue;
        }
        let sha256 = hash_file(file.clone()).await?;
        let size = std::fs::metadata(&file).map_err(internal)?.len();
        let hashes: Vec<Hash> = shas
            .iter()
            .map(|s| Hash::from_hex(s).map_err(internal))
            .collect::<Result<_, _>>()?;
        let d = Derivation {
            operation: CONCAT_COPY.to_owned(),
            device: device.clone(),
            first,
            last,
            sources: hashes.len() as u64,
            sources_sha256: derive::sources_digest(&hashes),
            recipe: None,
            result: sha256,
            size,
            tool: tool.to_owned(),
        };
        let (_, event) = logged(
            app,
            who,
            DERIVE_ACTION,
            &format!("case {id}"),
            &d.to_detail(),
        )
        .await?;
        let plain = Derived {
            file,
            path: d.path(),
            sha256,
            event,
            recipe: None,
        };
        #[cfg(feature = "c2pa")]
        if let Some(credentials) = &app.c2pa {
            match super::c2pa::credential(app, who, id, credentials, &d, &plain, &sources).await {
                Ok(c) => out.push(c),
                Err(e) => tracing::warn!(
                    case = id,
                    device,
                    first,
                    last,
                    "no Content Credentials: {e}"
                ),
            }
        }
        out.push(plain);
    }
    Ok(out)
}
