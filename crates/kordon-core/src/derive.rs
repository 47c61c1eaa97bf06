//! Derived files: one playable MP4 made from a camera's original segments, and the custody
//! event that records how (`docs/spec/derived.md`). The originals stay the evidence; the
//! derived file is a convenience whose making anyone can check: the event names the
//! operation, the tool, the sources (by their hashes, in order) and the result's hash, and
//! the operation is the fixed ffmpeg invocation [`concat_copy_args`], so the same sources
//! give the same bytes with the same ffmpeg.

use crate::hash::{Hash, sha256};
use crate::link::is_valid_device_id;

/// The custody action of a derivation.
pub const DERIVE_ACTION: &str = "derive";
/// The segments joined in order, streams copied, not re-encoded.
pub const CONCAT_COPY: &str = "mp4-concat-copy";
/// A C2PA manifest (Content Credentials) added to the [`CONCAT_COPY`] file of the same
/// range: its one source is that file.
pub const C2PA_SIGN: &str = "c2pa-sign";

/// Where the [`CONCAT_COPY`] file of a range is in an evidence package.
pub fn derived_path(device: &str, first: u64, last: u64) -> String {
    format!("derived/{device}/{first:010}-{last:010}.mp4")
}

/// Where a redacted copy ([`crate::redact::REDACT`]) of a range is in a package: named
/// by the first 16 hex digits of its redaction's digest, so copies of one range differ.
pub fn redacted_path(device: &str, first: u64, last: u64, recipe: &Hash) -> String {
    format!(
        "derived/{device}/{first:010}-{last:010}.redacted-{}.mp4",
        &recipe.to_hex()[..16]
    )
}

/// Where a redaction's text form is in a package.
pub fn recipe_path(recipe: &Hash) -> String {
    format!("redactions/{}.txt", recipe.to_hex())
}

/// Where the [`C2PA_SIGN`] file of a range is in an evidence package.
pub fn credentialed_path(device: &str, first: u64, last: u64) -> String {
    format!("derived/{device}/{first:010}-{last:010}.c2pa.mp4")
}

/// The SHA-256 that names a derivation's sources: over each source segment's SHA-256 in
/// lowercase hex, one per line, in the order joined.
pub fn sources_digest(sources: &[Hash]) -> Hash {
    let mut text = String::with_capacity(sources.len() * 65);
    for h in sources {
        text.push_str(&h.to_hex());
        text.push('\n');
    }
    sha256(text.as_bytes())
}

/// The ffmpeg arguments that read the sources of a derivation: quiet, no terminal input,
/// `list` an ffmpeg concat list naming them in order.
pub fn concat_input(list: &str) -> [&str; 10] {
    [
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-f",
        "concat",
        "-safe",
        "0",
        "-i",
        list,
    ]
}

/// The ffmpeg arguments of [`CONCAT_COPY`]: `list` is an ffmpeg concat list naming the
/// sources in order (`file '<path>'` lines), `out` the result. Bit-exact, no metadata
/// carried over, the index at the front so players start at once.
pub fn concat_copy_args<'a>(list: &'a str, out: &'a str) -> Vec<&'a str> {
    let mut a = concat_input(list).to_vec();
    a.extend([
        "-map",
        "0",
        "-c",
        "copy",
        "-fflags",
        "+bitexact",
        "-map_metadata",
        "-1",
        "-movflags",
        "+faststart",
        "-y",
        out,
    ]);
    a
}

/// The tool word of a [`CONCAT_COPY`] derivation (`ffmpeg-<version>`), read from what
/// `ffmpeg -version` prints; `None` if it names no version.
pub fn ffmpeg_tool(version_output: &str) -> Option<String> {
    let mut w = version_output.split_whitespace();
    (w.next()? == "ffmpeg" && w.next()? == "version")
        .then(|| w.next().map(|v| format!("ffmpeg-{v}")))
        .flatten()
}

/// What a `derive` custody event's detail states.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derivation {
    /// The operation ([`CONCAT_COPY`]).
    pub operation: String,
    /// The camera whose segments were joined.
    pub device: String,
    /// First and last sequence number of the sources.
    pub first: u64,
    /// Last sequence number of the sources.
    pub last: u64,
    /// How many segments were joined (those of `first..=last` that had bytes).
    pub sources: u64,
    /// [`sources_digest`] of them.
    pub sources_sha256: Hash,
    /// For a [`crate::redact::REDACT`]: the digest of the redaction applied
    /// ([`crate::redact::Redaction::digest`]); `None` for the other operations.
    pub recipe: Option<Hash>,
    /// SHA-256 of the derived file.
    pub result: Hash,
    /// Its size in bytes.
    pub size: u64,
    /// The tool and its version, one word (`ffmpeg-5.1.9-0+deb12u1`).
    pub tool: String,
}

impl Derivation {
    /// The detail line of the custody event.
    pub fn to_detail(&self) -> String {
        format!(
            "{} device {} seq {}-{} sources {} {}{} result {} size {} tool {}",
            self.operation,
            self.device,
            self.first,
            self.last,
            self.sources,
            self.sources_sha256.to_hex(),
            self.recipe
                .map(|r| format!(" ops {}", r.to_hex()))
                .unwrap_or_default(),
            self.result.to_hex(),
            self.size,
            self.tool
        )
    }

    /// Reads a detail line back; `None` unless it is exactly what [`Self::to_detail`]
    /// writes.
    pub fn parse(detail: &str) -> Option<Self> {
        let mut w: Vec<&str> = detail.split(' ').collect();
        // A redaction names its operations after the sources.
        let recipe = match w.get(8..10) {
            Some(["ops", hex]) => {
                let h = Hash::from_hex(hex).ok()?;
                w.drain(8..10);
                Some(h)
            }
            _ => None,
        };
        let [
            op,
            "device",
            device,
            "seq",
            range,
            "sources",
            n,
            digest,
            "result",
            result,
            "size",
            size,
            "tool",
            tool,
        ] = w.as_slice()
        else {
            return None;
        };
        let (first, last) = range.split_once('-')?;
        let d = Derivation {
            operation: (*op).to_owned(),
            device: (*device).to_owned(),
            first: first.parse().ok()?,
            last: last.parse().ok()?,
            sources: n.parse().ok()?,
            sources_sha256: Hash::from_hex(digest).ok()?,
            recipe,
            result: Hash::from_hex(result).ok()?,
            size: size.parse().ok()?,
            tool: (*tool).to_owned(),
        };
        (is_valid_device_id(&d.device)
            && d.first <= d.last
            && !d.tool.is_empty()
            && (d.operation == crate::redact::REDACT) == d.recipe.is_some()
            && d.to_detail() == detail)
            .then_some(d)
    }

    /// Where its file is in a package.
    pub fn path(&self) -> String {
        match (self.operation.as_str(), &self.recipe) {
            (C2PA_SIGN, _) => credentialed_path(&self.device, self.first, self.last),
            (_, Some(r)) => redacted_path(&self.device, self.first, self.last, r),
            _ => derived_path(&self.device, self.first, self.last),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_reads_back_and_nothing_else_does() {
        let d = Derivation {
            operation: CONCAT_COPY.into(),
            device: "cam-01".into(),
            first: 3,
            last: 9,
            sources: 6,
            sources_sha256: sources_digest(&[sha256(b"a"), sha256(b"b")]),
            recipe: None,
            result: sha256(b"mp4"),
            size: 1234,
            tool: "ffmpeg-5.1.9-0+deb12u1".into(),
        };
        let text = d.to_detail();
        assert!(
            text.len() < crate::custody::MAX_FIELD_BYTES,
            "{}",
            text.len()
        );
        assert_eq!(Derivation::parse(&text), Some(d.clone()));
        assert_eq!(d.path(), "derived/cam-01/0000000003-0000000009.mp4");
        for bad in [
            text.replace("seq 3-9", "seq 9-3"),
            text.replace("size 1234", "size 01234"),
            text.replace(" tool ", "  tool "),
            text.replace("cam-01", "cam 01"),
            format!("{text} extra"),
        ] {
            assert_eq!(Derivation::parse(&bad), None, "{bad}");
        }
        // A redaction names its operations, and only a redaction does.
        let r = Derivation {
            operation: crate::redact::REDACT.into(),
            recipe: Some(sha256(b"ops")),
            ..d.clone()
        };
        let text = r.to_detail();
        assert!(text.contains(" ops "), "{text}");
        assert_eq!(Derivation::parse(&text), Some(r.clone()));
        assert!(r.path().contains(".redacted-"), "{}", r.path());
        assert_eq!(
            Derivation::parse(&text.replace("redact ", "mp4-concat-copy ")),
            None
        );
        assert_eq!(
            Derivation::parse(&d.to_detail().replace("mp4-concat-copy", "redact")),
            None
        );
        // The sources' order is part of what is named.
        assert_ne!(
            sources_digest(&[sha256(b"a"), sha256(b"b")]),
            sources_digest(&[sha256(b"b"), sha256(b"a")])
        );
    }

    #[test]
    fn the_tool_is_read_from_ffmpeg_version() {
        assert_eq!(
            ffmpeg_tool("ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026\n"),
            Some("ffmpeg-5.1.9-0+deb12u1".into())
        );
        assert_eq!(ffmpeg_tool("something else entirely"), None);
        assert_eq!(ffmpeg_tool("ffmpeg version"), None);
    }

    #[test]
    fn the_operation_ends_with_its_output() {
        let a = concat_copy_args("l.txt", "o.mp4");
        assert_eq!(a[9], "l.txt");
        assert_eq!(a.last(), Some(&"o.mp4"));
    }
}
