//! The log's storage seam: the only way the sequencer writes a file.
//!
//! [`LogStorage`] takes a batch's tiles and then its checkpoint; [`FsStorage`] writes
//! each to a temporary file, fsyncs it, renames it into place and fsyncs every folder
//! touched. Reads (recovery, [`crate::DiskTiles`]) go to the folder directly: a reader
//! never sees more than a published checkpoint names, so only writes decide durability.
//! Tests put a fault-injecting storage here ([`crate::Log::open_on`]).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Where the sequencer's writes go. Every method is called from a blocking thread; an
/// error from a write costs its batch, and the sequencer goes back to the last durable
/// checkpoint (see the crate documentation).
pub trait LogStorage: Send + Sync + 'static {
    /// Writes every `(path relative to the log folder, bytes)` durably: when this returns
    /// `Ok`, each file and its directory entry survive a crash.
    ///
    /// # Errors
    /// Any IO error; the files may then be half there (they are beyond any checkpoint).
    fn write_tiles(&self, files: &[(String, Vec<u8>)]) -> io::Result<()>;

    /// Replaces the checkpoint durably, atomically: a crash leaves the old or the new one.
    ///
    /// # Errors
    /// Any IO error; the old checkpoint then still stands.
    fn write_checkpoint(&self, bytes: &[u8]) -> io::Result<()>;

    /// Removes superseded partial tiles (paths relative to the log folder), and their
    /// `.p` folder once it is empty. A file already gone is not an error; a failure only
    /// leaves the file for the next clean-up (it never poisons the log).
    ///
    /// # Errors
    /// IO errors other than "not found".
    fn remove_tiles(&self, files: &[String]) -> io::Result<()>;
}

/// The log's files in a local folder.
#[derive(Debug, Clone)]
pub struct FsStorage {
    dir: PathBuf,
}

impl FsStorage {
    /// Storage in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FsStorage { dir: dir.into() }
    }
}

impl LogStorage for FsStorage {
    fn write_tiles(&self, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        let mut dirs = BTreeSet::new();
        for (rel, data) in files {
            let path = self.dir.join(rel);
            write_atomic(&path, data)?;
            let mut d = path.parent().map(Path::to_path_buf);
            while let Some(dir) = d {
                if !dir.starts_with(&self.dir) {
                    break;
                }
                d = dir.parent().map(Path::to_path_buf);
                dirs.insert(dir);
            }
        }
        for d in &dirs {
            sync_dir(d)?;
        }
        Ok(())
    }

    fn write_checkpoint(&self, bytes: &[u8]) -> io::Result<()> {
        write_atomic(&self.dir.join("checkpoint"), bytes)?;
        sync_dir(&self.dir)
    }

    fn remove_tiles(&self, files: &[String]) -> io::Result<()> {
        for rel in files {
            let path = self.dir.join(rel);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            // The `.p` folder of a tile goes with its last partial (a full tile needs
            // none); it is not empty while a newer partial is in it.
            if let Some(dir) = path
                .parent()
                .filter(|d| d.extension().is_some_and(|x| x == "p"))
            {
                let _ = std::fs::remove_dir(dir);
            }
        }
        Ok(())
    }
}

/// Writes `bytes` to `path` atomically and durably except for the directory entry: a
/// temporary file beside it is written and fsynced, then renamed over `path`. The caller
/// fsyncs the directory ([`sync_dir`]) before relying on it.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let mut rnd = [0u8; 8];
    getrandom::fill(&mut rnd).map_err(io::Error::other)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", hex::encode(rnd)));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// fsyncs a directory, making renames and creations in it durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Which write a [`FaultyStorage`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every write succeeds.
    None,
    /// Tile and bundle writes fail (as with a full disk or no file descriptors left).
    Tiles,
    /// The checkpoint write fails, after the tiles were written.
    Checkpoint,
    /// The checkpoint is written, then the write reports an error (as a failed fsync of
    /// its folder would).
    AfterCheckpoint,
    /// Removing superseded partial tiles fails (the log goes on; they stay on disk).
    Removal,
}

/// A [`FsStorage`] that fails the writes it is told to, for tests of what a storage error
/// does to the log and the server. Not used in production.
#[derive(Debug)]
pub struct FaultyStorage {
    inner: FsStorage,
    fault: std::sync::Mutex<Fault>,
}

impl FaultyStorage {
    /// Storage in `dir` that does not fail until [`FaultyStorage::set`] says so.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FaultyStorage {
            inner: FsStorage::new(dir),
            fault: std::sync::Mutex::new(Fault::None),
        }
    }

    /// From now on, fail `fault`.
    pub fn set(&self, fault: Fault) {
        *self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fault;
    }

    fn fails(&self, which: Fault) -> io::Result<()> {
        let now = *self
            .fault
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now == which {
            return Err(io::Error::other(format!(
                "injected fault: {which:?} write failed"
            )));
        }
        Ok(())
    }
}

impl LogStorage for FaultyStorage {
    fn write_tiles(&self, files: &[(String, Vec<u8>)]) -> io::Result<()> {
        self.fails(Fault::Tiles)?;
        self.inner.write_tiles(files)
    }

    fn write_checkpoint(&self, bytes: &[u8]) -> io::Result<()> {
        self.fails(Fault::Checkpoint)?;
        self.inner.write_checkpoint(bytes)?;
        self.fails(Fault::AfterCheckpoint)
    }

    fn remove_tiles(&self, files: &[String]) -> io::Result<()> {
        self.fails(Fault::Removal)?;
        self.inner.remove_tiles(files)
    }
}
