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
/// on the file). A stored member (the media) is read straight from its bytes in the file,
/// a second thread reading ahead while the first hashes, so the disk and the hash work at
/// once; a compressed one through the zip reader.
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
                    let Ok(file) = std::fs::File::open(path) else {
                        return out;
                    };
                    for name in names.iter().skip(t).step_by(threads) {
                        out.insert(name.clone(), hash_member(&mut z, &file, name));
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

fn hash_member(z: &mut Zip, file: &std::fs::File, name: &str) -> Result<(Hash, u64), String> {
    let f = z
        .archive
        .by_name(name)
        .map_err(|_| "not in the package".to_owned())?;
    let size = f.size();
    if let (zip::CompressionMethod::Stored, Some(start), true) =
        (f.compression(), f.data_start(), f.compressed_size() == size)
    {
        return hash_range(file, start, size).map(|h| (h, size));
    }
    hash_reader(f)
}

/// SHA-256 and length of everything `r` reads.
pub(crate) fn hash_reader(mut r: impl std::io::Read) -> Result<(Hash, u64), String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut read = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(|e| format!("unreadable: {e}"))?;
        if n == 0 {
            return Ok((Hash(h.finalize().into()), read));
        }
        h.update(&buf[..n]);
        read += n as u64;
    }
}

/// SHA-256 of `len` bytes of `file` from `offset`: one thread reads 4 MiB chunks ahead
/// (three buffers in turn), this one hashes them.
fn hash_range(file: &std::fs::File, offset: u64, len: u64) -> Result<Hash, String> {
    use std::os::unix::fs::FileExt as _;
    use std::sync::mpsc;
    const CHUNK: u64 = 4 << 20;
    std::thread::scope(|s| {
        let (full_tx, full) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(2);
        let (empty, empty_rx) = mpsc::channel::<Vec<u8>>();
        for _ in 0..3 {
            let _ = empty.send(Vec::with_capacity(CHUNK as usize));
        }
        s.spawn(move || {
            let mut pos = 0u64;
            while pos < len {
                let Ok(mut buf) = empty_rx.recv() else {
                    return;
                };
                let n = (len - pos).min(CHUNK) as usize;
                buf.resize(n, 0);
                let r = file.read_exact_at(&mut buf, offset + pos).map(|()| buf);
                let failed = r.is_err();
                if full_tx.send(r).is_err() || failed {
                    return;
                }
                pos += n as u64;
            }
        });
        // Dropping `full` and `empty` on an early return stops the reader.
        let mut h = Sha256::new();
        let mut got = 0u64;
        while got < len {
            let buf = full
                .recv()
                .map_err(|_| "unreadable: the reader stopped".to_owned())?
                .map_err(|e| format!("unreadable: {e}"))?;
            h.update(&buf);
            got += buf.len() as u64;
            let _ = empty.send(buf);
        }
        Ok(Hash(h.finalize().into()))
    })
}
