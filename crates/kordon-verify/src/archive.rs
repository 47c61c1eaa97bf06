//! The package as a zip file: its members read by name (small ones into memory) and the
//! media hashed on several threads.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use kordon_core::hash::Hash;
use sha2::{Digest as _, Sha256};

use crate::OpenError;

/// Largest non-media file read into memory.
pub(crate) const MAX_SMALL: u64 = 64 << 20;

/// Largest inclusion proof (a few kilobytes in a log of billions of entries).
pub(crate) const MAX_PROOF: u64 = 1 << 20;

pub(crate) struct Zip {
    pub(crate) archive: zip::ZipArchive<std::fs::File>,
}

impl Zip {
    pub(crate) fn open(path: &Path) -> Result<Self, OpenError> {
        let f = std::fs::File::open(path).map_err(OpenError::Io)?;
        let archive = zip::ZipArchive::new(f).map_err(|e| OpenError::Zip(e.to_string()))?;
        Ok(Zip { archive })
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .collect()
    }

    pub(crate) fn read(&mut self, name: &str) -> Result<Vec<u8>, String> {
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
pub(crate) fn hash_members(
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
