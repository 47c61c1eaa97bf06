//! Superseded partial tiles: which partials a tree has, which are older than a tree,
//! the thread that removes them after their grace, and the sweep at start.

use std::path::Path;
use std::sync::Arc;

use kordon_core::tiles::{TILE_WIDTH, TileId};

use crate::durable::LogStorage;

/// The partial tiles of the tree of `size` entries (the right edge of each level and of
/// the entry bundles), as paths.
pub(crate) fn partials(size: u64) -> Vec<String> {
    let mut out = Vec::new();
    let width = (size % TILE_WIDTH) as u16;
    if width > 0 {
        out.push(
            TileId {
                level: None,
                index: size / TILE_WIDTH,
                width,
            }
            .path(),
        );
    }
    for t in 0u8..8 {
        let count = size >> (8 * u32::from(t));
        if count == 0 {
            break;
        }
        let width = (count % TILE_WIDTH) as u16;
        if width > 0 {
            out.push(
                TileId {
                    level: Some(t),
                    index: count / TILE_WIDTH,
                    width,
                }
                .path(),
            );
        }
    }
    out
}

/// Whether a partial tile is of an older tree than the one of `size` entries (so no
/// reader of that tree or a newer one needs it).
pub(crate) fn superseded(id: &TileId, size: u64) -> bool {
    let count = match id.level {
        None => size,
        Some(l) => size >> (8 * u32::from(l)),
    };
    u64::from(id.width) < TILE_WIDTH && id.index * TILE_WIDTH + u64::from(id.width) < count
}

/// Starts the thread that removes superseded partial tiles as the sequencer hands them
/// over (it ends with the log). A failure leaves them for the sweep at the next start; it
/// never stops the log.
pub(crate) fn remover(storage: Arc<dyn LogStorage>) -> std::sync::mpsc::Sender<Vec<String>> {
    let (tx, rx) = std::sync::mpsc::channel::<Vec<String>>();
    std::thread::spawn(move || {
        while let Ok(paths) = rx.recv() {
            if let Err(e) = storage.remove_tiles(&paths) {
                tracing::warn!(error = %e, files = paths.len(), "removing superseded partial tiles failed; the next start sweeps them");
            }
        }
    });
    tx
}

/// Every partial tile in the log folder `dir` (for the sweep, and for tests and benches
/// that check what a folder holds).
pub fn partial_tiles(dir: &Path) -> Vec<TileId> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("tile")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(rel) = p.strip_prefix(dir).ok().and_then(|r| r.to_str())
                && let Ok(id) = TileId::parse_path(rel)
                && u64::from(id.width) < TILE_WIDTH
            {
                out.push(id);
            }
        }
    }
    out
}

/// At start: removes every partial tile older than the tree of `size` entries (left by a
/// crash between a publication and its clean-up, or written past the checkpoint before a
/// crash and since overtaken). Runs beside the sequencer; it touches only tiles older
/// than what readers and writers now use. Answers how many it removed.
pub(crate) fn sweep(dir: &Path, size: u64, storage: &dyn LogStorage) -> usize {
    let stale: Vec<String> = partial_tiles(dir)
        .into_iter()
        .filter(|id| superseded(id, size))
        .map(|id| id.path())
        .collect();
    if let Err(e) = storage.remove_tiles(&stale) {
        tracing::warn!(error = %e, "removing superseded partial tiles failed; next start tries again");
        return 0;
    }
    stale.len()
}
