//! The sequencer: one task that owns the log's right edge, integrates batches and
//! publishes checkpoints. See the crate documentation for the write path.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::task::{Health, Sequencer, SharedHealth, sequence};
use std::time::{Duration, Instant};

use kordon_core::Hash;
use kordon_core::checkpoint::{self, Checkpoint};
use kordon_core::merkle::{self, HashReader, ReadError, append_hashes, leaf_hash, node_hash};
use kordon_core::note::{Note, SignerKey, VerifierKey};
use kordon_core::tiles::{MAX_ENTRY_LEN, TILE_WIDTH, TileId, decode_bundle, encode_bundle};
use tokio::sync::{mpsc, oneshot, watch};

use crate::durable::{FsStorage, LogStorage};
use crate::partials::{partials, remover, sweep};
use crate::tiles::DiskTiles;

/// How to open a log.
#[derive(Debug, Clone)]
pub struct LogOptions {
    /// Folder holding `checkpoint` and `tile/`.
    pub dir: PathBuf,
    /// The log's signing key; its name is the log's origin.
    pub signer: SignerKey,
    /// Most entries integrated in one batch.
    pub max_batch: usize,
    /// How long a partial tile stays on disk after a published checkpoint replaced it
    /// (by a wider partial or the full tile): a reader of the older tree — a proof being
    /// computed, the bucket mirror catching up — needs it no longer than that. Clients
    /// over HTTP only ever get tiles of the latest tree, and C2SP tlog-tiles lets them
    /// fall back to the full tile. [`DEFAULT_PARTIAL_GRACE`] unless told otherwise.
    pub partial_grace: Duration,
}

/// The default [`LogOptions::partial_grace`]: one minute.
pub const DEFAULT_PARTIAL_GRACE: Duration = Duration::from_secs(60);

/// Why the log could not take or serve an entry.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LogError {
    /// The log stopped taking entries until a restart: its state could not be brought back
    /// to what storage holds (a sequencer crash, or a checkpoint that does not match).
    #[error("log storage failed, the log stopped accepting entries: {0}")]
    Poisoned(String),
    /// Storage failed while this entry was being written (a full disk, no file
    /// descriptors left): the entry is not in the log; the log went back to its last
    /// durable checkpoint and tries again with the next entry. Retry.
    #[error("log storage failed, the entry was not logged; try again: {0}")]
    Retry(String),
    /// The tiles on disk do not match the checkpoint.
    #[error("log is corrupt: {0}")]
    Corrupt(String),
    /// An IO error while opening or reading.
    #[error("log storage: {0}")]
    Io(String),
    /// Entries are limited to 65,535 bytes (C2SP entry bundles).
    #[error("entry of {0} bytes is larger than 65535")]
    EntryTooLarge(usize),
    /// The sequencer has stopped.
    #[error("log is shut down")]
    Closed,
}

impl From<io::Error> for LogError {
    fn from(e: io::Error) -> Self {
        LogError::Io(e.to_string())
    }
}

/// The latest published checkpoint.
#[derive(Debug, Clone)]
pub struct Published {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed checkpoint note.
    pub checkpoint: Arc<Vec<u8>>,
}

pub(crate) struct Request {
    pub(crate) entry: Vec<u8>,
    pub(crate) reply: oneshot::Sender<Result<u64, LogError>>,
}

/// A handle to the log. Cheap to clone.
#[derive(Clone)]
pub struct Log {
    tx: mpsc::Sender<Request>,
    published: watch::Receiver<Published>,
    dir: PathBuf,
    verifier: VerifierKey,
    health: SharedHealth,
}

impl Log {
    /// Opens the log in `opts.dir`, creating an empty one if there is no checkpoint yet,
    /// recovering from the last durable checkpoint otherwise, and starts the sequencer.
    ///
    /// # Errors
    /// [`LogError::Corrupt`] if the tiles do not reproduce the checkpoint's root, or
    /// the checkpoint is not signed by this log's key; IO errors.
    pub async fn open(opts: LogOptions) -> Result<Log, LogError> {
        let storage = Arc::new(FsStorage::new(&opts.dir));
        Self::open_on(opts, storage).await
    }

    /// [`Log::open`] with the writes going to `storage` (reads still come from
    /// `opts.dir`, where `storage` must put the files): the seam for fault injection.
    ///
    /// # Errors
    /// As [`Log::open`].
    pub async fn open_on(opts: LogOptions, storage: Arc<dyn LogStorage>) -> Result<Log, LogError> {
        let verifier = opts.signer.verifier().clone();
        let dir = opts.dir.clone();
        let max_batch = opts.max_batch.max(1);
        let (sweeper, rereader) = (storage.clone(), storage.clone());
        let reopen = opts.clone();
        let state = tokio::task::spawn_blocking(move || State::recover(opts, storage))
            .await
            .map_err(|e| LogError::Io(e.to_string()))??;
        let (sweep_dir, size) = (dir.clone(), state.size);
        tokio::task::spawn_blocking(move || {
            let n = sweep(&sweep_dir, size, sweeper.as_ref());
            if n > 0 {
                tracing::info!(
                    removed = n,
                    "removed superseded partial tiles left from before the start"
                );
            }
        });
        let (pub_tx, published) = watch::channel(state.published()?);
        let (tx, rx) = mpsc::channel(max_batch * 4);
        let health = Arc::new(Mutex::new(Health::Ok));
        tokio::spawn(sequence(
            Sequencer {
                state: Some(state),
                opts: reopen,
                storage: rereader,
                pub_tx,
                health: health.clone(),
                recover_first: false,
            },
            rx,
            max_batch,
        ));
        Ok(Log {
            tx,
            published,
            dir,
            verifier,
            health,
        })
    }

    /// Appends one entry and returns its index once it is durable and covered by a
    /// published checkpoint.
    ///
    /// # Errors
    /// [`LogError::EntryTooLarge`], [`LogError::Retry`], [`LogError::Poisoned`],
    /// [`LogError::Closed`].
    pub async fn append(&self, entry: Vec<u8>) -> Result<u64, LogError> {
        if entry.len() > MAX_ENTRY_LEN {
            return Err(LogError::EntryTooLarge(entry.len()));
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request { entry, reply })
            .await
            .map_err(|_| LogError::Closed)?;
        rx.await.map_err(|_| LogError::Closed)?
    }

    /// The latest published checkpoint.
    pub fn published(&self) -> Published {
        self.published.borrow().clone()
    }

    /// A receiver that sees every new checkpoint.
    pub fn subscribe(&self) -> watch::Receiver<Published> {
        self.published.clone()
    }

    /// A reader of the tiles of the latest published tree.
    pub fn reader(&self) -> DiskTiles {
        DiskTiles::new(&self.dir, self.published().size)
    }

    /// The log's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the log takes entries: the last write went through, failed on storage
    /// (the next entry tries again), or the log stopped until a restart.
    pub fn health(&self) -> Health {
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The log's public key.
    pub fn verifier(&self) -> &VerifierKey {
        &self.verifier
    }
}

/// The sequencer's view of the tree: the rightmost partial tile of every level in
/// memory, full tiles on disk (or just written, in `fresh`).
pub(crate) struct State {
    dir: PathBuf,
    storage: Arc<dyn LogStorage>,
    /// Superseded partial tiles, each removable after its instant.
    pub(crate) removals: VecDeque<(Instant, Vec<String>)>,
    grace: Duration,
    /// The remover thread: removals run off the write path, beside the next batch.
    remover: std::sync::mpsc::Sender<Vec<String>>,
    signer: SignerKey,
    pub(crate) size: u64,
    root: Hash,
    checkpoint: Arc<Vec<u8>>,
    partial: Vec<Vec<Hash>>,
    partial_entries: Vec<Vec<u8>>,
    fresh: HashMap<TileId, Vec<u8>>,
    disk: DiskTiles,
}

fn hashes_of(tile: &[u8]) -> Vec<Hash> {
    tile.chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            Hash(h)
        })
        .collect()
}

fn subtree(hashes: &[Hash]) -> Option<Hash> {
    let mut level = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level.first().copied()
}

impl HashReader for State {
    fn read_node(&self, level: u8, index: u64) -> Result<Hash, ReadError> {
        let t = level / 8;
        let r = u32::from(level % 8);
        let first = index << r;
        let k = first / TILE_WIDTH;
        let count = self.size >> (8 * u32::from(t));
        let start = (first % TILE_WIDTH) as usize;
        let range = start..start + (1usize << r);
        if (k + 1) * TILE_WIDTH <= count {
            let id = TileId {
                level: Some(t),
                index: k,
                width: TILE_WIDTH as u16,
            };
            let tile = match self.fresh.get(&id) {
                Some(t) => t.clone(),
                None => self.disk.read_tile(&id)?.to_vec(),
            };
            return subtree(&hashes_of(&tile)[range]).ok_or_else(|| "empty range".into());
        }
        let p = self.partial.get(usize::from(t)).ok_or("no partial tile")?;
        let slice = p
            .get(range)
            .ok_or_else(|| format!("node {level}/{index} is not in the tree"))?;
        subtree(slice).ok_or_else(|| "empty range".into())
    }
}

impl State {
    pub(crate) fn recover(
        opts: LogOptions,
        storage: Arc<dyn LogStorage>,
    ) -> Result<State, LogError> {
        let storage_for_remover = storage.clone();
        std::fs::create_dir_all(&opts.dir)?;
        let cp_path = opts.dir.join("checkpoint");
        let mut s = State {
            dir: opts.dir.clone(),
            storage,
            removals: VecDeque::new(),
            grace: opts.partial_grace,
            remover: remover(storage_for_remover),
            signer: opts.signer,
            size: 0,
            root: merkle::EMPTY_ROOT,
            checkpoint: Arc::new(Vec::new()),
            partial: Vec::new(),
            partial_entries: Vec::new(),
            fresh: HashMap::new(),
            disk: DiskTiles::new(&opts.dir, 0),
        };
        if !cp_path.exists() {
            s.publish()?;
            return Ok(s);
        }
        let bytes = std::fs::read(&cp_path)?;
        let (cp, _) = checkpoint::open(&bytes, s.signer.verifier())
            .map_err(|e| LogError::Corrupt(format!("checkpoint: {e}")))?;
        s.size = cp.size;
        s.disk = DiskTiles::new(&opts.dir, cp.size);
        let corrupt = |what: String| LogError::Corrupt(what);
        for t in 0u8..8 {
            let count = cp.size >> (8 * u32::from(t));
            if count == 0 {
                break;
            }
            let width = (count % TILE_WIDTH) as u16;
            let mut hashes = Vec::new();
            if width > 0 {
                let id = TileId {
                    level: Some(t),
                    index: count / TILE_WIDTH,
                    width,
                };
                let data = std::fs::read(opts.dir.join(id.path()))
                    .map_err(|e| corrupt(format!("{}: {e}", id.path())))?;
                if data.len() != usize::from(width) * 32 {
                    return Err(corrupt(format!("{} has {} bytes", id.path(), data.len())));
                }
                hashes = hashes_of(&data);
            }
            s.partial.push(hashes);
        }
        let width = (cp.size % TILE_WIDTH) as u16;
        if width > 0 {
            let id = TileId {
                level: None,
                index: cp.size / TILE_WIDTH,
                width,
            };
            let data = std::fs::read(opts.dir.join(id.path()))
                .map_err(|e| corrupt(format!("{}: {e}", id.path())))?;
            let entries =
                decode_bundle(&data).map_err(|e| corrupt(format!("{}: {e}", id.path())))?;
            if entries.len() != usize::from(width) {
                return Err(corrupt(format!(
                    "{} holds {} entries",
                    id.path(),
                    entries.len()
                )));
            }
            s.partial_entries = entries.into_iter().map(<[u8]>::to_vec).collect();
        }
        let root = merkle::root(&s, cp.size).map_err(|e| corrupt(format!("reading tiles: {e}")))?;
        if root != cp.root {
            return Err(corrupt(format!(
                "tiles give root {root}, checkpoint says {}",
                cp.root
            )));
        }
        s.root = root;
        s.checkpoint = Arc::new(bytes);
        Ok(s)
    }

    /// Hands the superseded partials whose grace has passed to the remover thread.
    fn remove_due(&mut self) {
        let now = Instant::now();
        let mut due = Vec::new();
        while self.removals.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, paths)) = self.removals.pop_front() {
                due.extend(paths);
            }
        }
        if !due.is_empty() {
            // A remover that is gone only leaves the files for the next start's sweep.
            let _ = self.remover.send(due);
        }
    }

    pub(crate) fn published(&self) -> Result<Published, LogError> {
        Ok(Published {
            size: self.size,
            root: self.root,
            checkpoint: self.checkpoint.clone(),
        })
    }

    /// Signs and durably writes the checkpoint of the current size.
    fn publish(&mut self) -> io::Result<()> {
        let cp = Checkpoint {
            origin: self.signer.verifier().name().to_owned(),
            size: self.size,
            root: self.root,
            extensions: vec![],
        };
        let mut note = Note::new(&cp.to_text()).map_err(io::Error::other)?;
        note.sign(&self.signer).map_err(io::Error::other)?;
        let bytes = note.to_bytes();
        self.storage.write_checkpoint(&bytes)?;
        self.checkpoint = Arc::new(bytes);
        Ok(())
    }

    pub(crate) fn integrate(&mut self, entries: &[Vec<u8>]) -> io::Result<(u64, Published)> {
        let first = self.size;
        let before = partials(self.size);
        let mut dirty = BTreeSet::new();
        for e in entries {
            let index = self.size;
            let created = append_hashes(&*self, index, leaf_hash(e)).map_err(io::Error::other)?;
            self.size += 1;
            self.partial_entries.push(e.clone());
            if self.partial_entries.len() as u64 == TILE_WIDTH {
                let id = TileId {
                    level: None,
                    index: index / TILE_WIDTH,
                    width: TILE_WIDTH as u16,
                };
                let bundle = encode_bundle(&self.partial_entries).map_err(io::Error::other)?;
                self.fresh.insert(id, bundle);
                self.partial_entries.clear();
            }
            for (level, n, h) in created {
                if level % 8 != 0 {
                    continue;
                }
                let t = level / 8;
                while self.partial.len() <= usize::from(t) {
                    self.partial.push(Vec::new());
                }
                let p = &mut self.partial[usize::from(t)];
                p.push(h);
                dirty.insert(t);
                if p.len() as u64 == TILE_WIDTH {
                    let id = TileId {
                        level: Some(t),
                        index: n / TILE_WIDTH,
                        width: TILE_WIDTH as u16,
                    };
                    self.fresh.insert(id, p.iter().flat_map(|h| h.0).collect());
                    p.clear();
                }
            }
        }

        // Tiles first: full ones completed in this batch, then the partial right edge.
        let mut writes: Vec<(TileId, Vec<u8>)> = self.fresh.drain().collect();
        if !self.partial_entries.is_empty() {
            let id = TileId {
                level: None,
                index: self.size / TILE_WIDTH,
                width: self.partial_entries.len() as u16,
            };
            writes.push((
                id,
                encode_bundle(&self.partial_entries).map_err(io::Error::other)?,
            ));
        }
        for t in dirty {
            let p = &self.partial[usize::from(t)];
            if !p.is_empty() {
                let count = self.size >> (8 * u32::from(t));
                let id = TileId {
                    level: Some(t),
                    index: count / TILE_WIDTH,
                    width: p.len() as u16,
                };
                writes.push((id, p.iter().flat_map(|h| h.0).collect()));
            }
        }
        let files: Vec<(String, Vec<u8>)> = writes
            .into_iter()
            .map(|(id, data)| (id.path(), data))
            .collect();
        self.storage.write_tiles(&files)?;
        self.disk = DiskTiles::new(&self.dir, self.size);
        self.root = merkle::root(&*self, self.size).map_err(io::Error::other)?;
        // The checkpoint last: it only ever names durable tiles.
        self.publish()?;
        // Only now are the partials it replaced superseded; they go after the grace.
        let now = partials(self.size);
        let gone: Vec<String> = before.into_iter().filter(|p| !now.contains(p)).collect();
        if !gone.is_empty() {
            self.removals.push_back((Instant::now() + self.grace, gone));
        }
        self.remove_due();
        Ok((
            first,
            Published {
                size: self.size,
                root: self.root,
                checkpoint: self.checkpoint.clone(),
            },
        ))
    }
}
