//! The evidence package (`kordon.evidence/v1`): the layout of the zip file a case is
//! exported as, and its contents list. Normative text: `docs/spec/evidence-package.md`.
//!
//! The contents list names every file of the package with its SHA-256 and size, except
//! the files that prove it (`contents.txt` itself, `export.note`, `checkpoint.note`,
//! `policy.txt` and `proofs/`). The export custody event (`export.note`, in the log)
//! names the SHA-256 of the contents list, so a file added, removed, swapped or edited
//! after the export is caught even when it carries valid signatures of its own.

use crate::hash::{Hash, sha256};

/// First line of the contents list.
pub const EVIDENCE_V1: &str = "kordon.evidence/v1";
/// The contents list.
pub const CONTENTS: &str = "contents.txt";
/// The export custody event that commits to the contents list.
pub const EXPORT_EVENT: &str = "export.note";
/// The checkpoint every proof of the package leads to.
pub const CHECKPOINT: &str = "checkpoint.note";
/// The C2SP tlog-policy the package was made for.
pub const POLICY: &str = "policy.txt";
/// The human-readable report.
pub const REPORT: &str = "report.html";
/// Folder of the C2SP tlog-proofs, one per log entry (`proofs/<entry sha256>.tlog-proof`).
pub const PROOFS: &str = "proofs/";
/// Custody action of the export event.
pub const EXPORT_ACTION: &str = "case-export";
/// Custody action of a retention tombstone.
pub const TOMBSTONE_ACTION: &str = "tombstone";
/// Longest contents list accepted, in bytes.
pub const MAX_CONTENTS_BYTES: usize = 64 << 20;

/// Where a segment's original bytes are.
pub fn segment_path(device: &str, seq: u64) -> String {
    format!("segments/{device}/{seq:010}.mp4")
}

/// Where a chain link (the signed manifest) is.
pub fn link_path(device: &str, seq: u64) -> String {
    format!("links/{device}/{seq:010}.note")
}

/// Where a custody event is.
pub fn custody_path(note_sha256: &Hash) -> String {
    format!("custody/{}.note", note_sha256.to_hex())
}

/// Where the private part of a version 2 custody event is (it opens the event's
/// commitment: `docs/spec/custody.md`).
pub fn custody_private_path(note_sha256: &Hash) -> String {
    format!("custody/{}.private", note_sha256.to_hex())
}

/// Where the tlog-proof of a log entry is.
pub fn proof_path(entry_sha256: &Hash) -> String {
    format!("{PROOFS}{}.tlog-proof", entry_sha256.to_hex())
}

/// Where a device's verifier key is.
pub fn device_key_path(device: &str) -> String {
    format!("devices/{device}.vkey")
}

/// Whether a path is one of the files that prove the contents list (and so is not in it).
pub fn is_proof_file(path: &str) -> bool {
    matches!(path, CONTENTS | EXPORT_EVENT | CHECKPOINT | POLICY)
        || path.starts_with(PROOFS)
        || path.starts_with(crate::timestamp::PACKAGE_DIR)
}

/// The detail of the export custody event.
pub fn export_detail(case: &str, contents_sha256: &Hash) -> String {
    format!("case {case} contents {}", contents_sha256.to_hex())
}

/// Reads the contents hash back from an export event's detail.
pub fn contents_of_export(detail: &str) -> Option<(&str, Hash)> {
    let rest = detail.strip_prefix("case ")?;
    let (case, hex) = rest.split_once(" contents ")?;
    Some((case, Hash::from_hex(hex).ok()?))
}

/// The subject of a tombstone: which segment's bytes were purged.
pub fn tombstone_subject(device: &str, seq: u64) -> String {
    format!("device {device} seq {seq}")
}

/// One file of the package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the zip.
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: Hash,
    /// Its size.
    pub size: u64,
}

/// Why a contents list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentsError {
    /// Larger than [`MAX_CONTENTS_BYTES`].
    #[error("contents list is larger than {MAX_CONTENTS_BYTES} bytes")]
    TooLarge,
    /// Not `kordon.evidence/v1`.
    #[error("contents list does not start with {EVIDENCE_V1}")]
    Header,
    /// A line that is not `<sha256 hex> <size> <path>`.
    #[error("contents line {0}: expected <sha256 hex> <size> <path>")]
    Line(usize),
    /// Paths not strictly sorted (or repeated), or a path that is not allowed.
    #[error("contents line {0}: path out of order, repeated or not allowed")]
    Path(usize),
}

/// The contents list: the case and every file with its hash, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// The case id.
    pub case: String,
    /// The files, sorted by path.
    pub entries: Vec<Entry>,
}

fn allowed_path(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.split('/').any(|c| c.is_empty() || c == "." || c == "..")
        && p.chars().all(|c| c.is_ascii_graphic())
        && !is_proof_file(p)
}

impl Contents {
    /// The text form: header, `case <id>`, then one line per file.
    pub fn to_text(&self) -> String {
        let mut s = format!("{EVIDENCE_V1}\ncase {}\n", self.case);
        for e in &self.entries {
            s.push_str(&format!("{} {} {}\n", e.sha256.to_hex(), e.size, e.path));
        }
        s
    }

    /// SHA-256 of the text form, which the export event names.
    pub fn digest(&self) -> Hash {
        sha256(self.to_text().as_bytes())
    }

    /// Parses the text form strictly (the only accepted form is the one
    /// [`Contents::to_text`] writes).
    ///
    /// # Errors
    /// [`ContentsError`].
    pub fn parse(text: &str) -> Result<Self, ContentsError> {
        if text.len() > MAX_CONTENTS_BYTES {
            return Err(ContentsError::TooLarge);
        }
        let body = text.strip_suffix('\n').ok_or(ContentsError::Header)?;
        let mut lines = body.split('\n');
        if lines.next() != Some(EVIDENCE_V1) {
            return Err(ContentsError::Header);
        }
        let case = lines
            .next()
            .and_then(|l| l.strip_prefix("case "))
            .filter(|c| !c.is_empty() && !c.contains(' '))
            .ok_or(ContentsError::Line(2))?
            .to_owned();
        let mut entries: Vec<Entry> = Vec::new();
        for (i, l) in lines.enumerate() {
            let n = i + 3;
            let mut w = l.splitn(3, ' ');
            let (Some(h), Some(size), Some(path)) = (w.next(), w.next(), w.next()) else {
                return Err(ContentsError::Line(n));
            };
            let sha256 = Hash::from_hex(h).map_err(|_| ContentsError::Line(n))?;
            let size = crate::checkpoint::parse_decimal(size).ok_or(ContentsError::Line(n))?;
            if !allowed_path(path) || entries.last().is_some_and(|e| e.path.as_str() >= path) {
                return Err(ContentsError::Path(n));
            }
            entries.push(Entry {
                path: path.to_owned(),
                sha256,
                size,
            });
        }
        let c = Contents { case, entries };
        if c.to_text() != text {
            return Err(ContentsError::Header);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contents_round_trip_and_refuse_what_is_not_canonical() {
        let c = Contents {
            case: "C-2026-001".into(),
            entries: vec![
                Entry {
                    path: link_path("cam-01", 3),
                    sha256: sha256(b"a"),
                    size: 10,
                },
                Entry {
                    path: segment_path("cam-01", 3),
                    sha256: sha256(b"b"),
                    size: 1 << 40,
                },
            ],
        };
        let t = c.to_text();
        assert_eq!(Contents::parse(&t), Ok(c.clone()));
        assert_eq!(c.digest(), sha256(t.as_bytes()));
        let swapped = t.replace(
            "links/cam-01/0000000003.note",
            "zinks/cam-01/0000000003.note",
        );
        assert_eq!(Contents::parse(&swapped), Err(ContentsError::Path(4)));
        assert_eq!(
            Contents::parse(&t.replace(" 10 ", " 010 ")),
            Err(ContentsError::Line(3))
        );
        assert_eq!(
            Contents::parse(&format!("{t}{} 1 proofs/x\n", sha256(b"c").to_hex())),
            Err(ContentsError::Path(5))
        );
        assert_eq!(
            Contents::parse(&t.replace("links/cam-01", "links/../cam-01")),
            Err(ContentsError::Path(3))
        );
        assert_eq!(Contents::parse(t.trim_end()), Err(ContentsError::Header));
        let detail = export_detail("C-2026-001", &c.digest());
        assert_eq!(
            contents_of_export(&detail),
            Some(("C-2026-001", c.digest()))
        );
        assert!(is_proof_file("proofs/ab.tlog-proof") && !is_proof_file("report.html"));
    }
}
