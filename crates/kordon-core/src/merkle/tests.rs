//! Unit tests of `merkle`.

use super::*;

#[test]
fn frontier_roots_equal_the_full_trees() {
    let mut full = MemoryHashes::new();
    let mut f = Frontier::default();
    assert_eq!(f.root(), EMPTY_ROOT);
    for i in 0..300u32 {
        let e = i.to_be_bytes();
        full.push_entry(&e);
        f.push_leaf_hash(leaf_hash(&e));
        assert_eq!(
            (f.size(), f.root()),
            (full.size(), full.root()),
            "size {}",
            i + 1
        );
        assert_eq!(Frontier::from_text(&f.to_text()).as_ref(), Some(&f));
    }
    assert_eq!(Frontier::from_text("3 1:00"), None);
    assert_eq!(
        Frontier::from_text(&format!("2 0:{}", EMPTY_ROOT.to_hex())),
        None
    );
}

/// The reference definition of RFC 9162 §2.1.1, recursive over the entries.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => EMPTY_ROOT,
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

#[test]
fn roots_and_proofs_agree_with_the_recursive_definition() {
    let mut t = MemoryHashes::new();
    let mut leaves = Vec::new();
    for i in 0..70u32 {
        leaves.push(leaf_hash(&i.to_be_bytes()));
        t.push_entry(&i.to_be_bytes());
        let size = t.size();
        let r = t.root();
        assert_eq!(r, mth(&leaves), "root of size {size}");
        for idx in 0..size {
            let p = inclusion_proof(&t, idx, size).expect("proof");
            verify_inclusion(&leaves[idx as usize], idx, size, &p, &r).expect("verifies");
        }
        for old in 0..=size {
            let p = consistency_proof(&t, old, size).expect("proof");
            let old_root = mth(&leaves[..old as usize]);
            verify_consistency(old, size, &p, &old_root, &r).expect("consistent");
        }
    }
}

#[test]
fn append_hashes_matches_memory_table() {
    let mut t = MemoryHashes::new();
    for i in 0..33u32 {
        let leaf = leaf_hash(&i.to_le_bytes());
        let created = append_hashes(&t, t.size(), leaf).expect("append");
        t.push_leaf_hash(leaf);
        for (level, index, h) in created {
            assert_eq!(t.read_node(level, index).expect("stored"), h);
        }
    }
}

#[test]
fn a_wrong_leaf_or_index_is_refused() {
    let mut t = MemoryHashes::new();
    for i in 0..10u8 {
        t.push_entry(&[i]);
    }
    let p = inclusion_proof(&t, 3, 10).expect("proof");
    let root = t.root();
    assert!(matches!(
        verify_inclusion(&leaf_hash(&[4]), 3, 10, &p, &root),
        Err(MerkleError::RootMismatch)
    ));
    assert!(verify_inclusion(&leaf_hash(&[3]), 4, 10, &p, &root).is_err());
    assert!(matches!(
        inclusion_proof(&t, 10, 10),
        Err(MerkleError::IndexOutOfRange {
            index: 10,
            size: 10
        })
    ));
    assert!(matches!(
        inclusion_proof(&t, 0, 11),
        Err(MerkleError::Read { .. })
    ));
}
