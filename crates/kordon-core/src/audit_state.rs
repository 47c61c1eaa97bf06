//! What an auditor keeps between audits of a log, so that the next audit reads only the
//! entries added since (`docs/spec/audit-state.md`): the size and root it verified, the
//! right edge of the tree ([`TreeTail`]: enough hashes to go on appending, to recompute
//! the new root and the new hash tiles), the device keys the log enrolled and where each
//! device's chain stood ([`SequenceCheck`]).
//!
//! A new checkpoint whose root is recomputed from this state and the new entries alone
//! *extends* the audited tree: the check is the consistency the auditor needs, made from
//! hashes it computed itself rather than a proof the server chose.

use std::collections::BTreeMap;

use crate::chain::{ChainOptions, SequenceCheck};
use crate::hash::Hash;
use crate::merkle::{self, HashReader, ReadError, node_hash};
use crate::note::VerifierKey;
use crate::tiles::TILE_WIDTH;

/// The first line of an audit state.
pub const HEADER: &str = "kordon.audit-state/v1";

/// One level of a [`TreeTail`]: the hashes of nodes `start..`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Level {
    start: u64,
    hashes: Vec<Hash>,
}

/// The right edge of a tree: at each level, the nodes of its last (partial) tile, and the
/// last complete node. Enough to append leaves, compute the root and every hash tile the
/// appended leaves change; a tail grown from empty holds the whole tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeTail {
    size: u64,
    levels: Vec<Level>,
}

/// Where the kept part of a level of `count` complete nodes starts: the first node of its
/// last tile, or its last node if that tile is empty.
fn kept_from(count: u64) -> u64 {
    (count / TILE_WIDTH * TILE_WIDTH).min(count.saturating_sub(1))
}

impl TreeTail {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The hash of node `index` of `level`, if kept.
    pub fn node(&self, level: u8, index: u64) -> Option<Hash> {
        let l = self.levels.get(usize::from(level))?;
        let at = usize::try_from(index.checked_sub(l.start)?).ok()?;
        l.hashes.get(at).copied()
    }

    /// The hashes of nodes `from..from + n` of `level`, if all kept.
    pub fn nodes(&self, level: u8, from: u64, n: usize) -> Option<&[Hash]> {
        let l = self.levels.get(usize::from(level))?;
        let at = usize::try_from(from.checked_sub(l.start)?).ok()?;
        l.hashes.get(at..at.checked_add(n)?)
    }

    /// Appends a leaf hash.
    pub fn push_leaf_hash(&mut self, leaf: Hash) {
        let (mut level, mut i, mut h) = (0usize, self.size, leaf);
        loop {
            if self.levels.len() <= level {
                self.levels.push(Level {
                    start: i,
                    hashes: Vec::new(),
                });
            }
            // A tail is only ever the canonical one (`kept_from`), which keeps every left
            // sibling an append needs.
            let left = (i & 1 == 1)
                .then(|| self.node(level as u8, i - 1))
                .flatten();
            self.levels[level].hashes.push(h);
            let Some(left) = left else { break };
            h = node_hash(&left, &h);
            level += 1;
            i >>= 1;
        }
        self.size += 1;
    }

    /// The root hash (RFC 6962) of the leaves so far.
    pub fn root(&self) -> Hash {
        merkle::root(self, self.size).unwrap_or(merkle::EMPTY_ROOT)
    }

    /// The same tree, keeping only what the next appends need.
    #[must_use]
    pub fn trimmed(mut self) -> Self {
        for (l, level) in self.levels.iter_mut().enumerate() {
            let from = kept_from(self.size >> l);
            let drop = usize::try_from(from.saturating_sub(level.start)).unwrap_or(usize::MAX);
            level.hashes.drain(..drop.min(level.hashes.len()));
            level.start = level.start.max(from);
        }
        self
    }

    /// Whether this is exactly what [`TreeTail::trimmed`] keeps of a tree of its size.
    fn is_canonical(&self) -> bool {
        let levels = (0..64).take_while(|l| self.size >> l > 0).count();
        self.levels.len() == levels
            && self.levels.iter().enumerate().all(|(l, level)| {
                let count = self.size >> l;
                level.start == kept_from(count) && level.hashes.len() as u64 == count - level.start
            })
    }
}

impl TreeTail {
    /// Whether every kept node whose two children are kept is their hash.
    fn is_consistent(&self) -> bool {
        (1..self.levels.len()).all(|l| {
            let level = &self.levels[l];
            (level.start..).zip(&level.hashes).all(|(j, h)| {
                let below = (l - 1) as u8;
                match (self.node(below, 2 * j), self.node(below, 2 * j + 1)) {
                    (Some(left), Some(right)) => node_hash(&left, &right) == *h,
                    _ => true,
                }
            })
        })
    }
}

impl HashReader for TreeTail {
    fn read_node(&self, level: u8, index: u64) -> Result<Hash, ReadError> {
        self.node(level, index)
            .ok_or_else(|| format!("level {level} node {index} is not kept").into())
    }
}

/// What an audit verified, to go on from.
#[derive(Debug, Clone)]
pub struct AuditState {
    /// The log's origin.
    pub origin: String,
    /// The tree verified (its size and root are [`TreeTail::size`] and
    /// [`TreeTail::root`]).
    pub tree: TreeTail,
    /// Device keys enrolled in the log, by device.
    pub keys: BTreeMap<String, VerifierKey>,
    /// Where each device's chain stood, by device.
    pub chains: BTreeMap<String, SequenceCheck>,
}

/// Why a text is not an audit state.
#[derive(Debug, thiserror::Error)]
#[error("not a kordon audit state: {0}")]
pub struct StateError(String);

impl AuditState {
    /// The state before any entry of the log `origin`.
    pub fn empty(origin: &str) -> Self {
        AuditState {
            origin: origin.to_owned(),
            tree: TreeTail::new(),
            keys: BTreeMap::new(),
            chains: BTreeMap::new(),
        }
    }

    /// The text form (`docs/spec/audit-state.md`); the tree is trimmed first.
    pub fn to_text(&self) -> String {
        let tree = self.tree.clone().trimmed();
        let mut s = format!(
            "{HEADER}\norigin {}\nsize {}\nroot {}\n",
            self.origin,
            tree.size,
            tree.root().to_hex()
        );
        for (l, level) in tree.levels.iter().enumerate() {
            s.push_str(&format!("level {l} {}", level.start));
            for h in &level.hashes {
                s.push(' ');
                s.push_str(&h.to_hex());
            }
            s.push('\n');
        }
        for key in self.keys.values() {
            s.push_str(&format!("key {key}\n"));
        }
        for (device, check) in &self.chains {
            s.push_str(&format!("chain {device} {}\n", check.to_text()));
        }
        s
    }

    /// Reads [`AuditState::to_text`] back; chains resume with `opts`.
    ///
    /// # Errors
    /// [`StateError`] naming the first line that is wrong.
    pub fn from_text(text: &str, opts: &ChainOptions) -> Result<Self, StateError> {
        let bad = |n: usize, why: &str| StateError(format!("line {}: {why}", n + 1));
        let mut lines = text.lines().enumerate();
        if lines.next().map(|(_, l)| l) != Some(HEADER) {
            return Err(StateError(format!("the first line is not {HEADER}")));
        }
        let mut field = |name: &str| -> Result<(usize, String), StateError> {
            let (n, line) = lines
                .next()
                .ok_or_else(|| StateError(format!("no {name} line")))?;
            line.strip_prefix(name)
                .and_then(|v| v.strip_prefix(' '))
                .map(|v| (n, v.to_owned()))
                .ok_or_else(|| bad(n, &format!("expected {name}")))
        };
        let (_, origin) = field("origin")?;
        let (n, size) = field("size")?;
        let size: u64 = size.parse().map_err(|_| bad(n, "size is not a number"))?;
        let (root_line, root) = field("root")?;
        let root = Hash::from_hex(&root).map_err(|_| bad(root_line, "root is not a hash"))?;
        let mut state = AuditState::empty(&origin);
        state.tree.size = size;
        for (n, line) in lines {
            let (kind, rest) = line.split_once(' ').ok_or_else(|| bad(n, "empty"))?;
            match kind {
                "level" => {
                    let mut words = rest.split(' ');
                    let (l, start) = (words.next(), words.next());
                    let start = start
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| bad(n, "level without a start"))?;
                    if l != Some(state.tree.levels.len().to_string().as_str()) {
                        return Err(bad(n, "levels out of order"));
                    }
                    let hashes = words
                        .map(Hash::from_hex)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|_| bad(n, "not a hash"))?;
                    state.tree.levels.push(Level { start, hashes });
                }
                "key" => {
                    let key = VerifierKey::parse(rest).map_err(|e| bad(n, &e.to_string()))?;
                    state.keys.insert(key.name().to_owned(), key);
                }
                "chain" => {
                    let (device, check) = rest.split_once(' ').ok_or_else(|| bad(n, "chain"))?;
                    let check = SequenceCheck::from_text(device, check, opts)
                        .ok_or_else(|| bad(n, "not a chain position"))?;
                    state.chains.insert(device.to_owned(), check);
                }
                _ => return Err(bad(n, "unknown line")),
            }
        }
        if !state.tree.is_canonical() || !state.tree.is_consistent() {
            return Err(StateError(
                "the tree's hashes do not fit its size or each other".to_owned(),
            ));
        }
        if state.tree.root() != root {
            return Err(bad(root_line, "the tree's hashes do not give this root"));
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{MemoryHashes, leaf_hash};

    #[test]
    fn a_tail_continued_equals_the_whole_tree_at_every_size() {
        let mut whole = MemoryHashes::new();
        let mut tail = TreeTail::new();
        for i in 0u32..2_100 {
            let leaf = leaf_hash(&i.to_be_bytes());
            whole.push_leaf_hash(leaf);
            // Trimming after every append is the worst case for what the tail keeps.
            tail.push_leaf_hash(leaf);
            tail = tail.trimmed();
            assert!(tail.is_canonical(), "size {}", i + 1);
            assert_eq!(tail.root(), whole.root(), "size {}", i + 1);
        }
        // The last tile of each level is kept whole, for the tile checks.
        let n = whole.level(0).len();
        assert_eq!(tail.nodes(0, 2048, n - 2048), Some(&whole.level(0)[2048..]));
        assert_eq!(tail.nodes(0, 2047, 1), None);
    }

    #[test]
    fn text_round_trips_and_refuses_a_changed_hash() {
        let mut s = AuditState::empty("example.org/log");
        for i in 0u32..700 {
            s.tree.push_leaf_hash(leaf_hash(&i.to_be_bytes()));
        }
        let opts = ChainOptions::default();
        let text = s.to_text();
        let back = AuditState::from_text(&text, &opts).expect("round trip");
        assert_eq!(back.tree, s.tree.clone().trimmed());
        assert_eq!(back.to_text(), text);
        // One hex digit of a kept leaf hash changed: its parent no longer follows.
        let at = text.find("level 0 512 ").expect("level 0") + 12;
        let mut changed = text.clone().into_bytes();
        changed[at] = if changed[at] == b'0' { b'1' } else { b'0' };
        let e = AuditState::from_text(&String::from_utf8(changed).expect("utf8"), &opts)
            .expect_err("changed");
        assert!(e.to_string().contains("do not fit"), "{e}");
        // A level dropped: the hashes no longer fit the size.
        let dropped: String = text
            .lines()
            .filter(|l| !l.starts_with("level 1 "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(AuditState::from_text(&dropped, &opts).is_err());
    }
}
