//! Dock import for cameras that cannot sign: the dock reads each MP4 file's own time
//! (ffprobe `creation_time` and duration; the file's modification time when the camera
//! wrote none), hashes it, and signs its manifest with the dock's key, marked
//! `attested: dock`. A file whose hash was imported before is skipped. Files are chained
//! in the order of their own times; the camera's chain carries no dock events (the dock's
//! clock is not the camera's), so silences between files stay visible as unexplained gaps:
//! a camera that cannot sign cannot explain them either.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use kordon_core::link::Attestation;
use kordon_core::time::Timestamp;

use crate::device::{Device, hash_file};

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Files signed and spooled.
    pub imported: usize,
    /// Files already imported before (same SHA-256).
    pub skipped: usize,
    /// Files whose time came from the file system, not from the video.
    pub without_timestamp: usize,
}

/// `(start, end, had a timestamp in the file)`.
fn times(file: &Path) -> Result<(Timestamp, Timestamp, bool)> {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration:format_tags=creation_time",
            "-of",
            "json",
        ])
        .arg(file)
        .output()
        .context("running ffprobe (is ffmpeg installed?)")?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let dur_ms = v["format"]["duration"]
        .as_str()
        .and_then(|d| d.parse::<f64>().ok())
        .map_or(0, |d| (d * 1000.0).round() as i64);
    let created = v["format"]["tags"]["creation_time"]
        .as_str()
        .and_then(parse_creation_time);
    Ok(match created {
        Some(start) => (start, Timestamp(start.0 + dur_ms), true),
        None => {
            let mtime = std::fs::metadata(file)?
                .modified()?
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis();
            let end = Timestamp(i64::try_from(mtime)?);
            (Timestamp(end.0 - dur_ms), end, false)
        }
    })
}

/// ffprobe writes e.g. `2026-11-28T07:00:00.000000Z`.
fn parse_creation_time(s: &str) -> Option<Timestamp> {
    let (secs, frac) = s
        .strip_suffix('Z')?
        .split_once('.')
        .unwrap_or((s.strip_suffix('Z')?, "0"));
    let ms: String = frac.chars().chain("000".chars()).take(3).collect();
    let t = Timestamp::parse(&format!("{secs}.{ms}Z")).ok()?;
    // Cameras without a clock write the MP4 epoch (1904) or 1970: treat as no timestamp.
    (t.0 > 946_684_800_000).then_some(t)
}

/// Imports the MP4 files of a mounted camera folder.
///
/// # Errors
/// IO errors, or ffprobe missing.
pub fn dock(dev: &Device, from: &Path) -> Result<Imported> {
    let index_path = dev.spool.dir().join("imported.txt");
    let mut seen: BTreeSet<String> = std::fs::read_to_string(&index_path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    let files: Vec<PathBuf> = std::fs::read_dir(from)
        .with_context(|| format!("reading {}", from.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| x.eq_ignore_ascii_case("mp4") || x.eq_ignore_ascii_case("mov"))
        })
        .collect();
    let mut r = Imported::default();
    let mut todo = Vec::new();
    for f in files {
        let (hash, _) = hash_file(&f)?;
        if seen.contains(&hash.to_hex()) {
            r.skipped += 1;
            continue;
        }
        let (start, end, stamped) = times(&f)?;
        todo.push((start, end, stamped, hash, f));
    }
    todo.sort_by_key(|t| (t.0, t.4.clone()));
    for (start, end, stamped, hash, f) in todo {
        if !stamped {
            r.without_timestamp += 1;
        }
        // The camera's folder is left as it is: the spool gets a copy.
        let copy = dev.spool.work().join(format!("dock-{}.mp4", hash.to_hex()));
        std::fs::copy(&f, &copy)?;
        dev.segment(
            &dev.settings.device,
            &copy,
            start,
            end,
            false,
            Attestation::Dock,
        )?;
        seen.insert(hash.to_hex());
        std::fs::write(
            &index_path,
            seen.iter().map(|h| format!("{h}\n")).collect::<String>(),
        )?;
        r.imported += 1;
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_times() {
        assert_eq!(
            parse_creation_time("2026-11-28T07:00:00.000000Z"),
            Timestamp::parse("2026-11-28T07:00:00.000Z").ok()
        );
        assert_eq!(
            parse_creation_time("2026-11-28T07:00:00.5Z"),
            Timestamp::parse("2026-11-28T07:00:00.500Z").ok()
        );
        assert_eq!(parse_creation_time("1904-01-01T00:00:00.000000Z"), None);
        assert_eq!(parse_creation_time("garbage"), None);
    }
}
