//! Reading the log's tiles back from disk.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kordon_core::Hash;
use kordon_core::merkle::{HashReader, ReadError};
use kordon_core::tiles::{TileId, decode_bundle, hash_in_tile, tile_for_node};

/// Full tiles kept in memory per reader; full tiles never change.
const CACHE_LIMIT: usize = 4096;

/// The tiles of the log as of a tree size: a [`HashReader`] for proofs and roots.
#[derive(Debug)]
pub struct DiskTiles {
    dir: PathBuf,
    size: u64,
    cache: Mutex<HashMap<TileId, std::sync::Arc<Vec<u8>>>>,
}

impl DiskTiles {
    /// A reader of the tree of `size` entries whose tiles are under `dir`.
    pub fn new(dir: impl Into<PathBuf>, size: u64) -> Self {
        DiskTiles {
            dir: dir.into(),
            size,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The tree size this reader answers for.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn read_tile(&self, id: &TileId) -> io::Result<std::sync::Arc<Vec<u8>>> {
        let full = u64::from(id.width) == kordon_core::tiles::TILE_WIDTH;
        if full
            && let Some(t) = self
                .cache
                .lock()
                .map_err(|_| io::Error::other("cache poisoned"))?
                .get(id)
        {
            return Ok(t.clone());
        }
        let data = std::sync::Arc::new(std::fs::read(self.dir.join(id.path()))?);
        if full {
            let mut c = self
                .cache
                .lock()
                .map_err(|_| io::Error::other("cache poisoned"))?;
            if c.len() >= CACHE_LIMIT {
                c.clear();
            }
            c.insert(*id, data.clone());
        }
        Ok(data)
    }

    /// The entries `[from, to)` of the log, read from the entry bundles.
    ///
    /// # Errors
    /// IO errors, a malformed bundle, or a range beyond the tree size.
    pub fn entries(&self, from: u64, to: u64) -> io::Result<Vec<Vec<u8>>> {
        if to > self.size || from > to {
            return Err(io::Error::other(format!(
                "entries {from}..{to} are outside the tree of size {}",
                self.size
            )));
        }
        let mut out = Vec::new();
        let mut i = from;
        while i < to {
            let bundle = i / 256;
            let width = if (bundle + 1) * 256 <= self.size {
                256
            } else {
                (self.size % 256) as u16
            };
            let id = TileId {
                level: None,
                index: bundle,
                width,
            };
            let data = self.read_tile(&id)?;
            let entries = decode_bundle(&data).map_err(io::Error::other)?;
            if entries.len() != usize::from(width) {
                return Err(io::Error::other(format!(
                    "{} holds {} entries",
                    id.path(),
                    entries.len()
                )));
            }
            let end = to.min((bundle + 1) * 256);
            for j in i..end {
                out.push(entries[(j % 256) as usize].to_vec());
            }
            i = end;
        }
        Ok(out)
    }

    /// The folder holding `checkpoint` and `tile/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl HashReader for DiskTiles {
    fn read_node(&self, level: u8, index: u64) -> Result<Hash, ReadError> {
        let (id, range) = tile_for_node(level, index, self.size).ok_or_else(|| {
            format!(
                "node {level}/{index} is not complete in a tree of {}",
                self.size
            )
        })?;
        let data = self
            .read_tile(&id)
            .map_err(|e| format!("{}: {e}", id.path()))?;
        Ok(hash_in_tile(&data, range)?)
    }
}
