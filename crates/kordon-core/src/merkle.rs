//! RFC 6962 §2.1 / RFC 9162 §2.1 Merkle trees.
//!
//! - leaf hash `SHA-256(0x00 || entry)`, interior node `SHA-256(0x01 || left || right)`,
//!   empty tree `SHA-256("")` (RFC 9162 §2.1.1);
//! - proofs are *generated* from a store of complete-subtree hashes reached through
//!   [`HashReader`] (never by rebuilding the tree): inclusion per RFC 9162 §2.1.3.1,
//!   consistency per §2.1.4.1;
//! - proofs are *verified* exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 describe.
//!
//! A stored node is addressed by `(level, index)`: the root of the complete subtree over
//! leaves `[index << level, (index + 1) << level)`. Level 0 holds the leaf hashes. This is
//! the same addressing as C2SP tlog-tiles, so a tile store can implement [`HashReader`].

use crate::hash::{Hash, sha256_parts};

/// Hash of the empty tree, `SHA-256("")` (RFC 9162 §2.1.1).
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

/// The most hashes a proof may carry: trees are limited to 2^63 leaves.
pub const MAX_PROOF_LEN: usize = 64;

/// `SHA-256(0x00 || entry)` (RFC 9162 §2.1.1).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    sha256_parts(&[&[0x00], entry])
}

/// `SHA-256(0x01 || left || right)` (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256_parts(&[&[0x01], &left.0, &right.0])
}

/// Why a proof could not be produced or does not hold.
#[derive(Debug, thiserror::Error)]
pub enum MerkleError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The sizes of a consistency proof are not `0 <= old <= new`.
    #[error("old tree size {old} is larger than new tree size {new}")]
    SizesOutOfOrder {
        /// The old size.
        old: u64,
        /// The new size.
        new: u64,
    },
    /// The proof has the wrong number of hashes for the sizes given.
    #[error("proof has the wrong length for these tree sizes")]
    WrongProofLength,
    /// The proof does not lead to the expected root.
    #[error("proof does not lead to the expected root hash")]
    RootMismatch,
    /// Two roots that must be equal (equal sizes) differ.
    #[error("tree sizes are equal but the root hashes differ")]
    EqualSizesDifferentRoots,
    /// The hash store could not give a node hash.
    #[error("reading stored hash at level {level} index {index}: {source}")]
    Read {
        /// Level of the node.
        level: u8,
        /// Index of the node within its level.
        index: u64,
        /// What the store said.
        #[source]
        source: ReadError,
    },
}

/// An error from a [`HashReader`] implementation (IO, missing tile, ...), kept opaque.
pub type ReadError = Box<dyn std::error::Error + Send + Sync>;

/// Gives the stored hash of a complete subtree. Implemented by in-memory tables, tile
/// stores and database tables outside this crate.
pub trait HashReader {
    /// The root hash of the complete subtree over leaves
    /// `[index << level, (index + 1) << level)`.
    ///
    /// # Errors
    /// Whatever the store fails with; the hash must exist for every complete subtree of the
    /// tree the caller is proving against.
    fn read_node(&self, level: u8, index: u64) -> Result<Hash, ReadError>;
}

fn read(r: &impl HashReader, level: u8, index: u64) -> Result<Hash, MerkleError> {
    r.read_node(level, index)
        .map_err(|source| MerkleError::Read {
            level,
            index,
            source,
        })
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])` for a range that occurs in the RFC 6962 recursion (i.e. `lo` is a
/// multiple of the smallest power of two not below `hi - lo`), from at most
/// `⌈log₂(hi-lo)⌉ + 1` stored hashes.
fn range_hash(r: &impl HashReader, lo: u64, hi: u64) -> Result<Hash, MerkleError> {
    let n = hi - lo;
    if n.is_power_of_two() {
        let level = n.trailing_zeros() as u8;
        return read(r, level, lo >> level);
    }
    let k = split_point(n);
    let left = range_hash(r, lo, lo + k)?;
    let right = range_hash(r, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root hash of the tree of the first `size` leaves (RFC 9162 §2.1.1).
///
/// # Errors
/// [`MerkleError::Read`] if the store fails.
pub fn root(r: &impl HashReader, size: u64) -> Result<Hash, MerkleError> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    range_hash(r, 0, size)
}

/// An inclusion proof for leaf `index` in the tree of `size` leaves, `PATH(m, D[n])` of
/// RFC 9162 §2.1.3.1, read from stored hashes.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] unless `index < size`; [`MerkleError::Read`].
pub fn inclusion_proof(
    r: &impl HashReader,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    // Walk down from the root, collecting siblings; they are emitted leaf-first.
    let (mut lo, mut hi) = (0u64, size);
    let mut siblings = Vec::new();
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            siblings.push((lo + k, hi));
            hi = lo + k;
        } else {
            siblings.push((lo, lo + k));
            lo += k;
        }
    }
    for &(a, b) in siblings.iter().rev() {
        out.push(range_hash(r, a, b)?);
    }
    Ok(out)
}

/// A consistency proof between the trees of `old` and `new` leaves, `PROOF(m, D[n])` of
/// RFC 9162 §2.1.4.1, read from stored hashes. Empty when `old == new` or `old == 0`.
///
/// # Errors
/// [`MerkleError::SizesOutOfOrder`] unless `old <= new`; [`MerkleError::Read`].
pub fn consistency_proof(
    r: &impl HashReader,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, MerkleError> {
    if old > new {
        return Err(MerkleError::SizesOutOfOrder { old, new });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled: siblings are collected top-down, emitted reversed.
    let (mut m, mut lo, mut hi, mut b) = (old, 0u64, new, true);
    let mut tail = Vec::new();
    let mut head = None;
    loop {
        let n = hi - lo;
        if m == n {
            if !b {
                head = Some((lo, hi));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            tail.push((lo + k, hi));
            hi = lo + k;
        } else {
            tail.push((lo, lo + k));
            m -= k;
            lo += k;
            b = false;
        }
    }
    let mut out = Vec::with_capacity(tail.len() + 1);
    if let Some((a, z)) = head {
        out.push(range_hash(r, a, z)?);
    }
    for &(a, z) in tail.iter().rev() {
        out.push(range_hash(r, a, z)?);
    }
    Ok(out)
}

/// Verifies an inclusion proof exactly as RFC 9162 §2.1.3.2.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`], [`MerkleError::WrongProofLength`] or
/// [`MerkleError::RootMismatch`].
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    if proof.len() > MAX_PROOF_LEN {
        return Err(MerkleError::WrongProofLength);
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(MerkleError::WrongProofLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(MerkleError::WrongProofLength);
    }
    if r != *root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof exactly as RFC 9162 §2.1.4.2, with the conventions of the
/// transparency-dev verifier for the degenerate sizes: equal sizes need an empty proof
/// and equal roots; an old size of 0 is consistent with anything and needs an empty proof.
///
/// # Errors
/// [`MerkleError::SizesOutOfOrder`], [`MerkleError::WrongProofLength`],
/// [`MerkleError::EqualSizesDifferentRoots`] or [`MerkleError::RootMismatch`].
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::SizesOutOfOrder {
            old: old_size,
            new: new_size,
        });
    }
    // The tree of no leaves has exactly one root (RFC 9162 §2.1.1).
    if old_size == 0 && *old_root != EMPTY_ROOT {
        return Err(MerkleError::RootMismatch);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength);
        }
        if old_root != new_root {
            return Err(MerkleError::EqualSizesDifferentRoots);
        }
        return Ok(());
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return Err(MerkleError::WrongProofLength);
        }
        return Ok(());
    }
    if proof.is_empty() || proof.len() > MAX_PROOF_LEN {
        return Err(MerkleError::WrongProofLength);
    }
    // Step 2: if first is an exact power of two, prepend first_hash to the proof.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    // Step 3.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    // Step 4.
    if fn_ & 1 == 1 {
        while fn_ & 1 == 1 {
            fn_ >>= 1;
            sn >>= 1;
        }
    }
    // Step 5.
    let mut fr = path[0];
    let mut sr = path[0];
    // Step 6.
    for c in &path[1..] {
        if sn == 0 {
            return Err(MerkleError::WrongProofLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(MerkleError::WrongProofLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// The stored hashes that appending the leaf at `index` creates: the leaf itself at level 0
/// and every subtree it completes, lowest first, as `(level, index, hash)`.
///
/// `r` must hold the stored hashes of the first `index` leaves.
///
/// # Errors
/// [`MerkleError::Read`].
pub fn append_hashes(
    r: &impl HashReader,
    index: u64,
    leaf: Hash,
) -> Result<Vec<(u8, u64, Hash)>, MerkleError> {
    let mut out = vec![(0u8, index, leaf)];
    let (mut level, mut i, mut h) = (0u8, index, leaf);
    while i & 1 == 1 {
        let left = read(r, level, i - 1)?;
        h = node_hash(&left, &h);
        level += 1;
        i >>= 1;
        out.push((level, i, h));
    }
    Ok(out)
}

/// An in-memory table of stored hashes, one vector per level. Used by tests, benchmarks
/// and small logs; larger logs keep the same hashes in tiles.
#[derive(Debug, Clone, Default)]
pub struct MemoryHashes {
    levels: Vec<Vec<Hash>>,
}

impl MemoryHashes {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends the entry's leaf hash and returns the leaf index.
    pub fn push_entry(&mut self, entry: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(entry))
    }

    /// Appends a leaf hash and returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        let (mut level, mut i, mut h) = (0usize, index, leaf);
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(h);
            if i & 1 == 0 {
                break;
            }
            let left = self.levels[level][(i - 1) as usize];
            h = node_hash(&left, &h);
            level += 1;
            i >>= 1;
        }
        index
    }

    /// The stored hashes of one level (level 0 = leaf hashes).
    pub fn level(&self, level: u8) -> &[Hash] {
        self.levels
            .get(usize::from(level))
            .map_or(&[], Vec::as_slice)
    }

    /// The current root hash.
    pub fn root(&self) -> Hash {
        // Every node this asks for is stored, so the read cannot fail.
        root(self, self.size()).unwrap_or(EMPTY_ROOT)
    }
}

impl HashReader for MemoryHashes {
    fn read_node(&self, level: u8, index: u64) -> Result<Hash, ReadError> {
        self.levels
            .get(usize::from(level))
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or_else(|| format!("no stored hash at level {level} index {index}").into())
    }
}

/// The right edge of a tree (its "compact range"): the roots of the perfect subtrees that
/// the binary digits of its size make, largest first. Enough to append leaves and compute
/// the root without the rest of the tree — how a server that keeps another log's entries
/// checks that they hash to that log's signed checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `(height, hash)` of each perfect subtree, heights strictly decreasing.
    nodes: Vec<(u8, Hash)>,
}

impl Frontier {
    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash.
    pub fn push_leaf_hash(&mut self, leaf: Hash) {
        let (mut height, mut h) = (0u8, leaf);
        while let Some(&(top, left)) = self.nodes.last() {
            if top != height {
                break;
            }
            self.nodes.pop();
            h = node_hash(&left, &h);
            height += 1;
        }
        self.nodes.push((height, h));
        self.size += 1;
    }

    /// The root hash (RFC 6962 Merkle tree hash) of the leaves so far.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        let Some(&(_, mut h)) = it.next() else {
            return EMPTY_ROOT;
        };
        for (_, left) in it {
            h = node_hash(left, &h);
        }
        h
    }

    /// Text form: the size, then `height:hash-hex` per subtree, space-separated.
    pub fn to_text(&self) -> String {
        let mut s = self.size.to_string();
        for (height, h) in &self.nodes {
            s.push_str(&format!(" {height}:{}", h.to_hex()));
        }
        s
    }

    /// Reads [`Frontier::to_text`] back; `None` if it is not one (heights must match the
    /// size's binary digits).
    pub fn from_text(text: &str) -> Option<Frontier> {
        let mut words = text.split(' ');
        let size: u64 = words.next()?.parse().ok()?;
        let mut nodes = Vec::new();
        for w in words {
            let (height, hex) = w.split_once(':')?;
            nodes.push((height.parse().ok()?, Hash::from_hex(hex).ok()?));
        }
        let want: Vec<u8> = (0..64u8).rev().filter(|b| size >> b & 1 == 1).collect();
        (nodes.iter().map(|(h, _)| *h).collect::<Vec<_>>() == want)
            .then_some(Frontier { size, nodes })
    }
}

#[cfg(test)]
mod tests;
