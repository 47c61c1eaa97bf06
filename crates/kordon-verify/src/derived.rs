//! Step 8 of `docs/spec/evidence-package.md`: derived files (`docs/spec/derived.md`).

use std::collections::BTreeMap;

use kordon_core::derive::{self, Derivation};
use kordon_core::hash::Hash;
use kordon_core::package;

use crate::{Outcome, Report};

/// Where derived files are in a package.
pub(crate) const DERIVED: &str = "derived/";

/// Step 8: a derived file is the result a `derive` event in the log states, and that
/// event's sources are in the package: the segments of its range in order, or for a
/// credentialed file the joined file it was made from.
pub(crate) fn check(
    r: &mut Report,
    z: &mut crate::archive::Zip,
    files: &BTreeMap<String, (Hash, u64)>,
    derivations: &[Derivation],
    stated: &BTreeMap<String, Hash>,
) {
    for (p, (h, size)) in files.iter().filter(|(p, _)| p.starts_with(DERIVED)) {
        let named: Vec<&Derivation> = derivations.iter().filter(|d| d.path() == *p).collect();
        let res = if named.is_empty() {
            Err("no derivation in the log names this file".to_owned())
        } else if let Some(d) = named.iter().find(|d| d.result == *h && d.size == *size) {
            // A credentialed file's one source is the joined file of its range; a joined
            // file's are the range's segments.
            let sources: Vec<Hash> = if d.operation == derive::C2PA_SIGN {
                files
                    .get(&derive::derived_path(&d.device, d.first, d.last))
                    .map(|(h, _)| vec![*h])
                    .unwrap_or_default()
            } else if let Some(recipe) = &d.recipe {
                // A redacted copy: from the segments the package's verified links state
                // (the originals themselves are withheld), by the redaction it holds.
                if let Err(e) = redaction(z, files, recipe) {
                    r.check(p.clone(), Err(e));
                    continue;
                }
                (d.first..=d.last)
                    .filter_map(|seq| stated.get(&package::segment_path(&d.device, seq)))
                    .copied()
                    .collect()
            } else {
                (d.first..=d.last)
                    .filter_map(|seq| files.get(&package::segment_path(&d.device, seq)))
                    .map(|(h, _)| *h)
                    .collect()
            };
            if sources.len() as u64 == d.sources
                && derive::sources_digest(&sources) == d.sources_sha256
            {
                Ok(if d.recipe.is_some() {
                    format!(
                        "derived by redaction ({}) with {} from the {} logged segment(s) of camera {} ({}..={}) whose signed links are in this package, as logged",
                        derive::recipe_path(d.recipe.as_ref().unwrap_or(&d.result)),
                        d.tool,
                        d.sources,
                        d.device,
                        d.first,
                        d.last
                    )
                } else {
                    format!(
                        "derived by {} with {} from {} source(s) in this package (camera {}, {}..={}), as logged",
                        d.operation, d.tool, d.sources, d.device, d.first, d.last
                    )
                })
            } else {
                Err(format!(
                    "the derivation in the log used {} source(s) of camera {} ({}..={}) that are not the {} in this package",
                    d.sources,
                    d.device,
                    d.first,
                    d.last,
                    sources.len()
                ))
            }
        } else {
            Err(format!(
                "SHA-256 {} ({size} bytes) is not the {} ({} bytes) the derivation in the log states: not the file derived from the segments",
                h.to_hex(),
                named[0].result.to_hex(),
                named[0].size
            ))
        };
        r.check(p.clone(), res);
    }
}

/// Why a segment's original may be absent from a redacted package: a redacted copy in it
/// was derived from it (the note to show), or `None`.
pub(crate) fn withheld(
    derivations: &[Derivation],
    device: &str,
    seq: u64,
    files: &BTreeMap<String, (Hash, u64)>,
) -> Option<String> {
    derivations
        .iter()
        .find(|d| {
            d.operation == kordon_core::redact::REDACT
                && d.device == device
                && (d.first..=d.last).contains(&seq)
                && files.contains_key(&d.path())
        })
        .map(|d| {
            format!(
                "withheld: the original is not released; {} in this package was derived by redaction from it",
                d.path()
            )
        })
}

/// The redaction a copy names is in the package, listed, and is a canonical
/// `kordon.redaction/v1` text with that digest.
fn redaction(
    z: &mut crate::archive::Zip,
    files: &BTreeMap<String, (Hash, u64)>,
    recipe: &Hash,
) -> Result<(), String> {
    let path = derive::recipe_path(recipe);
    if !files.contains_key(&path) {
        return Err(format!(
            "the redaction it was made by, {path}, is not in the package"
        ));
    }
    let text = String::from_utf8(z.read(&path)?).map_err(|_| format!("{path} is not UTF-8"))?;
    let red = kordon_core::redact::Redaction::parse(&text)
        .map_err(|e| format!("{path} is not a redaction: {e}"))?;
    if red.digest() != *recipe {
        return Err(format!("{path} is not the redaction the derivation names"));
    }
    Ok(())
}

/// `ffmpeg-<version>` of this machine's ffmpeg, as the server logs it.
fn local_ffmpeg() -> Option<String> {
    let out = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .ok()?;
    derive::ffmpeg_tool(&String::from_utf8_lossy(&out.stdout))
}

/// `--rederive`: each joined file that holds (step 8) is made again from the package's
/// segments with this machine's ffmpeg and the logged operation, and the bytes compared.
/// Different bytes fail only when this ffmpeg is the logged version (another version may
/// write another file).
pub(crate) fn rederive(
    r: &mut Report,
    z: &mut crate::archive::Zip,
    files: &BTreeMap<String, (Hash, u64)>,
    derivations: &[Derivation],
) {
    let held = |d: &&Derivation| {
        d.operation == derive::CONCAT_COPY
            && files
                .get(&d.path())
                .is_some_and(|(h, s)| *h == d.result && *s == d.size)
    };
    let todo: Vec<&Derivation> = derivations.iter().filter(held).collect();
    if todo.is_empty() {
        return;
    }
    let Some(tool) = local_ffmpeg() else {
        r.push(
            Outcome::Note,
            DERIVED,
            "--rederive: ffmpeg cannot be run here; the playable files were checked by hash only",
        );
        return;
    };
    for d in todo {
        let res = again(z, files, d).map(|h| (h == d.result, h));
        match res {
            Ok((true, _)) => r.push(
                Outcome::Ok,
                d.path(),
                format!("made again with {tool} from the package's segments: the same bytes"),
            ),
            Ok((false, h)) if tool == d.tool => r.push(
                Outcome::Fail,
                d.path(),
                format!(
                    "made again with {tool}, the logged version, from the package's segments: SHA-256 {}, not the logged {}",
                    h.to_hex(),
                    d.result.to_hex()
                ),
            ),
            Ok((false, _)) => r.push(
                Outcome::Note,
                d.path(),
                format!(
                    "made again with {tool}, not the logged {}: other bytes, as another version may write",
                    d.tool
                ),
            ),
            Err(e) => r.push(Outcome::Fail, d.path(), format!("cannot be made again: {e}")),
        }
    }
}

/// Runs `d`'s operation on the package's segments in a folder of its own; answers the
/// result's SHA-256.
fn again(
    z: &mut crate::archive::Zip,
    files: &BTreeMap<String, (Hash, u64)>,
    d: &Derivation,
) -> Result<Hash, String> {
    let dir = std::env::temp_dir().join(format!(
        "kordon-rederive-{}-{}-{}",
        std::process::id(),
        d.device,
        d.first
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = (|| {
        let mut list = String::new();
        for seq in d.first..=d.last {
            let name = package::segment_path(&d.device, seq);
            if !files.contains_key(&name) {
                continue;
            }
            let f = dir.join(format!("{seq}.mp4"));
            let mut member = z
                .archive
                .by_name(&name)
                .map_err(|e| format!("{name}: {e}"))?;
            let mut out = std::fs::File::create(&f).map_err(|e| e.to_string())?;
            std::io::copy(&mut member, &mut out).map_err(|e| e.to_string())?;
            list.push_str(&format!("file '{}'\n", f.display()));
        }
        let list_path = dir.join("list.txt");
        std::fs::write(&list_path, list).map_err(|e| e.to_string())?;
        let out = dir.join("again.mp4");
        let (l, o) = (
            list_path.to_str().ok_or("temporary folder is not UTF-8")?,
            out.to_str().ok_or("temporary folder is not UTF-8")?,
        );
        let st = std::process::Command::new("ffmpeg")
            .args(derive::concat_copy_args(l, o))
            .output()
            .map_err(|e| e.to_string())?;
        if !st.status.success() {
            return Err(format!(
                "ffmpeg: {}",
                String::from_utf8_lossy(&st.stderr).trim()
            ));
        }
        let f = std::fs::File::open(&out).map_err(|e| e.to_string())?;
        crate::archive::hash_reader(f).map(|(h, _)| h)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
