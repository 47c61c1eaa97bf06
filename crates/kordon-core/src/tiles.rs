//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): the static layout a log is served in.
//!
//! - hash tile `tile/<L>/<N>[.p/<W>]`: up to 256 hashes of tree level `8·L`, 32 bytes each;
//! - entry bundle `tile/entries/<N>[.p/<W>]`: up to 256 entries, each a big-endian `u16`
//!   length followed by the entry bytes;
//! - `N` is written in groups of three digits, every group but the last prefixed with `x`
//!   (1234067 → `x001/x234/067`); a partial tile of width `W` (1–255) holds the first `W`.
//!
//! This module computes paths, widths and hashes from tile bytes; fetching or writing the
//! files is the caller's business.

use crate::hash::Hash;
use crate::merkle::node_hash;

/// Hashes or entries per full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels per tile level.
pub const TILE_HEIGHT: u8 = 8;
/// The largest entry an entry bundle can carry.
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;

/// One tile: a hash tile at `level`, or the entry bundle (level `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileId {
    /// Tile level (`L`), or `None` for an entry bundle.
    pub level: Option<u8>,
    /// Tile index within its level (`N`).
    pub index: u64,
    /// Number of hashes or entries, 1–256; 256 is a full tile.
    pub width: u16,
}

/// Why a tile path or bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    /// Path does not follow the tlog-tiles grammar.
    #[error("not a tlog-tiles path: {0}")]
    BadPath(&'static str),
    /// The entry bundle is truncated or has too many entries.
    #[error("entry bundle is malformed: {0}")]
    BadBundle(&'static str),
    /// An entry is too long for an entry bundle.
    #[error("entry of {0} bytes is longer than 65535")]
    EntryTooLong(usize),
    /// Tile data has the wrong length for its width.
    #[error("tile has {got} bytes, expected {want}")]
    WrongTileLength {
        /// Bytes given.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
}

/// Writes `n` in the tlog-tiles index form.
pub fn encode_index(n: u64) -> String {
    let digits = n.to_string();
    let pad = (3 - digits.len() % 3) % 3;
    let padded = format!("{}{}", "0".repeat(pad), digits);
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(3)
        .map(|c| std::str::from_utf8(c).unwrap_or(""))
        .collect();
    let last = groups.len() - 1;
    groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g}")
            } else {
                (*g).to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl TileId {
    /// The path of this tile, relative to the log prefix.
    pub fn path(&self) -> String {
        let level = self
            .level
            .map_or_else(|| "entries".to_owned(), |l| l.to_string());
        let mut p = format!("tile/{level}/{}", encode_index(self.index));
        if u64::from(self.width) < TILE_WIDTH {
            p.push_str(&format!(".p/{}", self.width));
        }
        p
    }

    /// Parses a path as [`TileId::path`] writes it; anything else is refused.
    ///
    /// # Errors
    /// [`TileError::BadPath`].
    pub fn parse_path(path: &str) -> Result<Self, TileError> {
        let rest = path
            .strip_prefix("tile/")
            .ok_or(TileError::BadPath("must start with tile/"))?;
        let (level, rest) = rest.split_once('/').ok_or(TileError::BadPath("no index"))?;
        let level = if level == "entries" {
            None
        } else {
            let l =
                crate::checkpoint::parse_decimal(level).ok_or(TileError::BadPath("bad level"))?;
            Some(
                u8::try_from(l)
                    .ok()
                    .filter(|l| *l < 8)
                    .ok_or(TileError::BadPath("level out of range"))?,
            )
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                let w =
                    crate::checkpoint::parse_decimal(w).ok_or(TileError::BadPath("bad width"))?;
                if !(1..TILE_WIDTH).contains(&w) {
                    return Err(TileError::BadPath("partial width must be 1-255"));
                }
                (i, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        let mut index: u64 = 0;
        for (i, g) in groups.iter().enumerate() {
            let digits = if i + 1 < groups.len() {
                g.strip_prefix('x')
                    .ok_or(TileError::BadPath("inner index groups start with x"))?
            } else {
                g
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TileError::BadPath("index groups have three digits"));
            }
            index = index
                .checked_mul(1000)
                .and_then(|v| v.checked_add(digits.parse::<u64>().unwrap_or(0)))
                .ok_or(TileError::BadPath("index too large"))?;
        }
        let t = TileId {
            level,
            index,
            width,
        };
        if t.path() != path {
            return Err(TileError::BadPath("not in canonical form"));
        }
        Ok(t)
    }
}

/// Hashes (level `Some`) or entries (level `None`) stored at tile level `level` for a
/// tree of `size` entries: `size >> (8·L)` values.
fn values_at(level: Option<u8>, size: u64) -> u64 {
    match level {
        None => size,
        Some(l) => size.checked_shr(u32::from(l) * 8).unwrap_or(0),
    }
}

/// Every tile of a tree of `size` entries, full and partial, entries bundles first then
/// hash tiles level by level.
pub fn tiles_for_size(size: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    let mut levels = vec![None];
    levels.extend((0..8).map(Some));
    for level in levels {
        let n = values_at(level, size);
        if n == 0 {
            break;
        }
        for index in 0..n / TILE_WIDTH {
            out.push(TileId {
                level,
                index,
                width: TILE_WIDTH as u16,
            });
        }
        if !n.is_multiple_of(TILE_WIDTH) {
            out.push(TileId {
                level,
                index: n / TILE_WIDTH,
                width: (n % TILE_WIDTH) as u16,
            });
        }
    }
    out
}

/// The tile (at the width it has in a tree of `size` entries) holding the data needed for
/// the stored node `(level, index)`, and the range of its hashes the node covers.
/// Returns `None` if that node is not complete in a tree of `size` entries.
pub fn tile_for_node(level: u8, index: u64, size: u64) -> Option<(TileId, std::ops::Range<usize>)> {
    let tile_level = level / TILE_HEIGHT;
    let within = level % TILE_HEIGHT;
    let base_count = values_at(Some(tile_level), size);
    let first = index.checked_shl(u32::from(within))?;
    let count = 1u64 << within;
    if first.checked_add(count)? > base_count {
        return None;
    }
    let tile_index = first / TILE_WIDTH;
    let full = (tile_index + 1) * TILE_WIDTH <= base_count;
    let width = if full {
        TILE_WIDTH
    } else {
        base_count % TILE_WIDTH
    };
    let start = (first % TILE_WIDTH) as usize;
    Some((
        TileId {
            level: Some(tile_level),
            index: tile_index,
            width: width as u16,
        },
        start..start + count as usize,
    ))
}

/// The hash of the subtree over the tile's hashes in `range` (a power-of-two, aligned
/// range as [`tile_for_node`] returns).
///
/// # Errors
/// [`TileError::WrongTileLength`] if `tile` is shorter than the range needs.
pub fn hash_in_tile(tile: &[u8], range: std::ops::Range<usize>) -> Result<Hash, TileError> {
    if !tile.len().is_multiple_of(32) || tile.len() < range.end * 32 {
        return Err(TileError::WrongTileLength {
            got: tile.len(),
            want: range.end * 32,
        });
    }
    let mut level: Vec<Hash> = tile[range.start * 32..range.end * 32]
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            Hash(h)
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level.first().copied().ok_or(TileError::WrongTileLength {
        got: tile.len(),
        want: 32,
    })
}

/// Encodes entries as an entry bundle.
///
/// # Errors
/// [`TileError::EntryTooLong`] for an entry over 65,535 bytes; [`TileError::BadBundle`]
/// for more than 256 entries.
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    if entries.len() as u64 > TILE_WIDTH {
        return Err(TileError::BadBundle("more than 256 entries"));
    }
    let mut out = Vec::new();
    for e in entries {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLong(e.len()))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries.
///
/// # Errors
/// [`TileError::BadBundle`] if it is truncated or holds more than 256 entries.
pub fn decode_bundle(mut data: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if out.len() as u64 == TILE_WIDTH {
            return Err(TileError::BadBundle("more than 256 entries"));
        }
        if data.len() < 2 {
            return Err(TileError::BadBundle("truncated length"));
        }
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let rest = &data[2..];
        if rest.len() < len {
            return Err(TileError::BadBundle("truncated entry"));
        }
        out.push(&rest[..len]);
        data = &rest[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{HashReader, MemoryHashes};

    #[test]
    fn index_encoding_matches_the_spec_example() {
        assert_eq!(encode_index(1_234_067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
        let t = TileId {
            level: Some(0),
            index: 1_234_067,
            width: 5,
        };
        assert_eq!(t.path(), "tile/0/x001/x234/067.p/5");
        assert_eq!(TileId::parse_path(&t.path()), Ok(t));
        let e = TileId {
            level: None,
            index: 3,
            width: 256,
        };
        assert_eq!(e.path(), "tile/entries/003");
        for bad in [
            "tile/0/1",
            "tile/0/x001/23",
            "tile/0/001.p/256",
            "tile/0/001.p/0",
            "tile/8/000",
            "tile/0/x000/001",
            "tile/0/001.p/05",
        ] {
            assert!(TileId::parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bundles_round_trip_and_refuse_truncation() {
        let entries: Vec<Vec<u8>> = vec![b"a".to_vec(), vec![], vec![7; 300]];
        let b = encode_bundle(&entries).expect("encode");
        assert_eq!(
            decode_bundle(&b).expect("decode"),
            entries.iter().map(Vec::as_slice).collect::<Vec<_>>()
        );
        assert!(decode_bundle(&b[..b.len() - 1]).is_err());
        assert!(decode_bundle(&[0]).is_err());
        assert!(encode_bundle(&[vec![0u8; 65_536]]).is_err());
    }

    #[test]
    fn node_hashes_can_be_read_from_tiles() {
        let mut t = MemoryHashes::new();
        for i in 0..70_000u32 {
            t.push_entry(&i.to_be_bytes());
        }
        let size = t.size();
        // Serialise every tile the way a log would, then read nodes back through them.
        let tile_bytes = |id: &TileId| -> Vec<u8> {
            let lvl = id.level.expect("hash tile") * 8;
            let start = id.index * 256;
            (start..start + u64::from(id.width))
                .flat_map(|i| t.read_node(lvl, i).expect("stored").0)
                .collect()
        };
        for (level, index) in [
            (0u8, 69_999u64),
            (3, 17),
            (8, 0),
            (8, 272),
            (12, 3),
            (16, 0),
            (7, 545),
        ] {
            let (id, range) = tile_for_node(level, index, size).expect("complete node");
            let h = hash_in_tile(&tile_bytes(&id), range).expect("hash");
            assert_eq!(
                h,
                t.read_node(level, index).expect("stored"),
                "node {level}/{index}"
            );
        }
        assert!(tile_for_node(17, 0, size).is_none());
        assert!(tile_for_node(7, 546, size).is_none());
        assert_eq!(
            tiles_for_size(size)
                .iter()
                .filter(|t| t.level == Some(1))
                .count(),
            2
        );
    }
}
