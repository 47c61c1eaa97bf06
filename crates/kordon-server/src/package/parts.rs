//! What every package maker shares: the zip being written and sealed with its proofs,
//! derived files, the log entries a package proves, custody events about it, ffmpeg's
//! version, hashing a file. A leaf: it imports none of the package's other modules.

use std::io::Write as _;

use kordon_core::hash::Hash;
use kordon_core::package::{self, Contents, Entry};
use kordon_store::meta::CustodyRow;
use sha2::{Digest as _, Sha256};

use crate::error::ApiError;
use crate::state::App;

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// A derived file made for a package: where it is now, where it goes, its event, and
/// for a redacted copy the redaction's text (a member of the package too).
#[derive(Clone)]
pub(crate) struct Derived {
    pub file: std::path::PathBuf,
    pub path: String,
    pub sha256: Hash,
    pub event: CustodyRow,
    pub recipe: Option<String>,
}

/// A zip being written, with its contents list.
pub(crate) struct Package {
    pub(crate) zip: zip::ZipWriter<std::fs::File>,
    pub(crate) contents: Vec<Entry>,
}

pub(crate) fn stored() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true)
}

impl Package {
    /// Adds a file that is listed in the contents.
    pub(crate) fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
        self.add_unlisted(path, bytes)?;
        self.contents.push(Entry {
            path: path.to_owned(),
            sha256: kordon_core::sha256(bytes),
            size: bytes.len() as u64,
        });
        Ok(())
    }

    /// Adds one of the files that prove the contents (not listed in them).
    pub(crate) fn add_unlisted(&mut self, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
        self.zip.start_file(path, stored()).map_err(internal)?;
        self.zip.write_all(bytes).map_err(internal)
    }

    /// Adds a derived file, and the redaction it was made by, if any.
    pub(crate) fn add_derived(&mut self, d: &Derived) -> Result<(), ApiError> {
        self.add_file(&d.path, &d.file, &d.sha256)?;
        if let Some(text) = &d.recipe {
            let h = kordon_core::sha256(text.as_bytes());
            self.add(&kordon_core::derive::recipe_path(&h), text.as_bytes())?;
        }
        Ok(())
    }

    /// Copies a file in (a stored segment, a derived file), hashing it on the way; refuses
    /// bytes that do not match.
    pub(crate) fn add_file(
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
pub(crate) struct Proven {
    pub(crate) contents: Contents,
    pub(crate) export: Vec<u8>,
    pub(crate) note: Vec<u8>,
    pub(crate) policy: String,
    pub(crate) proofs: Vec<(Hash, Vec<u8>)>,
    /// Files beside them (time-stamps).
    pub(crate) extra: Vec<(String, Vec<u8>)>,
}

impl Package {
    /// Adds the files that prove the contents and closes the zip (on a blocking thread);
    /// answers its size.
    pub(crate) async fn seal(mut self, p: Proven) -> Result<u64, ApiError> {
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
pub(crate) fn entries<'a>(
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

/// `ffmpeg-<version>`, or why ffmpeg cannot be run.
pub(crate) async fn tool() -> Result<&'static str, String> {
    static TOOL: tokio::sync::OnceCell<Result<String, String>> = tokio::sync::OnceCell::const_new();
    TOOL.get_or_init(|| async {
        let out = tokio::process::Command::new("ffmpeg")
            .arg("-version")
            .output()
            .await
            .map_err(|e| format!("ffmpeg cannot be run: {e}"))?;
        kordon_core::derive::ffmpeg_tool(&String::from_utf8_lossy(&out.stdout))
            .ok_or_else(|| "ffmpeg -version says no version".to_owned())
    })
    .await
    .as_deref()
    .map_err(Clone::clone)
}

/// Logs a custody event about a case; answers its index and its stored row.
pub(crate) async fn logged(
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

pub(crate) async fn hash_file(path: std::path::PathBuf) -> Result<Hash, ApiError> {
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
