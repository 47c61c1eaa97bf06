//! Independent implementations agree with kordon-core: roots and proofs against
//! `tlog_tiles` 0.2.0 (Go sumdb/tlog port) and `ct-merkle` 0.3.0, signed notes and key
//! strings against `signed_note` 0.2.0, checkpoints and tile paths against `tlog_tiles`.

use ct_merkle::mem_backed_tree::MemoryBackedTree;
use kordon_core::Hash;
use kordon_core::checkpoint::Checkpoint;
use kordon_core::merkle::{self, HashReader, MemoryHashes};
use kordon_core::note::{Note, SignerKey, VerifierKey};
use kordon_core::tiles::TileId;
use proptest::prelude::*;

/// `tlog_tiles`' view of our stored hashes: its stored-hash index maps to (level, n).
struct TlogReader<'a>(&'a MemoryHashes);

impl tlog_tiles::HashReader for TlogReader<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
        indexes
            .iter()
            .map(|&i| {
                let (level, n) = tlog_tiles::split_stored_hash_index(i);
                self.0
                    .read_node(level, n)
                    .map(|h| tlog_tiles::Hash(h.0))
                    .map_err(|_| tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
}

fn ours(hs: &[tlog_tiles::Hash]) -> Vec<Hash> {
    hs.iter().map(|h| Hash(h.0)).collect()
}

fn build(entries: &[Vec<u8>]) -> (MemoryHashes, MemoryBackedTree<sha2::Sha256, Vec<u8>>) {
    let mut t = MemoryHashes::new();
    let mut ct = MemoryBackedTree::new();
    for e in entries {
        t.push_entry(e);
        ct.push(e.clone());
    }
    (t, ct)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn merkle_agrees_with_tlog_tiles_and_ct_merkle(
        entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..300),
        picks in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..8),
    ) {
        let (t, ct) = build(&entries);
        let size = t.size();
        let root = t.root();
        let r = TlogReader(&t);
        prop_assert_eq!(tlog_tiles::tree_hash(size, &r).expect("tlog root").0, root.0);
        let ct_root = ct.root();
        prop_assert_eq!(ct_root.as_bytes().as_slice(), root.0.as_slice());

        for (a, b) in picks {
            let idx = a.index(size as usize) as u64;
            // Inclusion: same bytes from all three; each verifies the others'.
            let mine = merkle::inclusion_proof(&t, idx, size).expect("proof");
            let theirs = ours(&tlog_tiles::prove_record(size, idx, &r).expect("tlog proof"));
            prop_assert_eq!(&mine, &theirs);
            let ctp = ct.prove_inclusion(idx as usize);
            let flat: Vec<u8> = mine.iter().flat_map(|h| h.0).collect();
            prop_assert_eq!(ctp.as_bytes(), flat.as_slice());
            let leaf = merkle::leaf_hash(&entries[idx as usize]);
            let tproof: Vec<tlog_tiles::Hash> = mine.iter().map(|h| tlog_tiles::Hash(h.0)).collect();
            prop_assert!(tlog_tiles::check_record(&tproof, size, tlog_tiles::Hash(root.0), idx, tlog_tiles::Hash(leaf.0)).is_ok());
            prop_assert!(ct.root().verify_inclusion(&entries[idx as usize], idx, &ctp).is_ok());
            prop_assert!(merkle::verify_inclusion(&leaf, idx, size, &theirs, &root).is_ok());

            // Consistency from every old size 1..=size.
            let old = 1 + b.index(size as usize) as u64;
            let mine = merkle::consistency_proof(&t, old, size).expect("proof");
            let theirs = ours(&tlog_tiles::prove_tree(size, old, &r).expect("tlog proof"));
            prop_assert_eq!(&mine, &theirs);
            let old_root = merkle::root(&t, old).expect("old root");
            prop_assert!(merkle::verify_consistency(old, size, &theirs, &old_root, &root).is_ok());
            let tproof: Vec<tlog_tiles::Hash> = mine.iter().map(|h| tlog_tiles::Hash(h.0)).collect();
            prop_assert!(tlog_tiles::check_tree(&tproof, size, tlog_tiles::Hash(root.0), old, tlog_tiles::Hash(old_root.0)).is_ok());
            if old < size {
                let ctp = ct.prove_consistency((size - old) as usize);
                let flat: Vec<u8> = mine.iter().flat_map(|h| h.0).collect();
                prop_assert_eq!(ctp.as_bytes(), flat.as_slice());
                let ct_old = ct_merkle::RootHash::<sha2::Sha256>::new(old_root.0.into(), old);
                prop_assert!(ct.root().verify_consistency(&ct_old, &ctp).is_ok());
            }
        }
    }

    #[test]
    fn notes_agree_with_signed_note(
        lines in prop::collection::vec("[ -~]{0,60}", 1..6),
        seed in any::<[u8; 32]>(),
        name in "[a-z0-9./_-]{1,30}",
    ) {
        let text = lines.join("\n") + "\n";
        let key = SignerKey::ed25519_from_seed(&name, seed).expect("key");
        // Key strings are interchangeable.
        let their_signer = signed_note::StandardSigner::new(&key.to_key_string()).expect("their signer");
        let their_verifier = signed_note::StandardVerifier::new(&key.verifier().to_string()).expect("their verifier");
        let their_vkey = signed_note::new_ed25519_verifier_key(
            &name,
            &ed25519_dalek_v2::SigningKey::from_bytes(&seed).verifying_key(),
        );
        prop_assert_eq!(their_vkey, key.verifier().to_string());

        // The same text signed by both gives the same bytes, and each parses the other.
        let mut mine = Note::new(&text).expect("note");
        mine.sign(&key).expect("sign");
        let mut theirs = signed_note::Note::new(text.as_bytes(), &[]).expect("their note");
        theirs.add_sigs(&[&their_signer]).expect("their sign");
        prop_assert_eq!(mine.to_bytes(), theirs.to_bytes());
        let parsed = signed_note::Note::from_bytes(&mine.to_bytes()).expect("they parse ours");
        let list = signed_note::VerifierList::new(vec![Box::new(their_verifier)]);
        prop_assert!(parsed.verify(&list).is_ok());
        let back = Note::parse(&theirs.to_bytes()).expect("we parse theirs");
        prop_assert!(back.verify(std::slice::from_ref(key.verifier())).is_ok());
    }

    #[test]
    fn checkpoints_and_tile_paths_agree_with_tlog_tiles(
        origin in "[a-z0-9.]{1,20}/[a-z0-9-]{1,10}",
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        level in 0u8..6,
        n in any::<u64>(),
        w in 1u16..=256,
    ) {
        let cp = Checkpoint { origin: origin.clone(), size, root: Hash(root), extensions: vec![] };
        let theirs = tlog_tiles::Checkpoint::new(&origin, size, tlog_tiles::Hash(root), "").expect("their checkpoint");
        prop_assert_eq!(cp.to_text().into_bytes(), theirs.to_bytes());
        let parsed = tlog_tiles::Checkpoint::from_bytes(cp.to_text().as_bytes()).expect("they parse ours");
        prop_assert_eq!(parsed.size(), size);

        // tlog_tiles writes the Go sumdb form `tile/<H>/<L>/...` and `tile/<H>/data/...`;
        // C2SP tlog-tiles fixes H = 8, leaves it out, and calls data tiles `entries`.
        let c2sp = |p: String| p.replacen("tile/8/data/", "tile/entries/", 1).replacen("tile/8/", "tile/", 1);
        let t = TileId { level: Some(level), index: n, width: w };
        let their = tlog_tiles::Tile::new(8, level, n, u32::from(w), false);
        prop_assert_eq!(t.path(), c2sp(their.path()));
        let data = TileId { level: None, index: n, width: w };
        let mut their_data = tlog_tiles::Tile::new(8, 0, n, u32::from(w), false);
        their_data.set_is_data();
        prop_assert_eq!(data.path(), c2sp(their_data.path()));
        prop_assert_eq!(TileId::parse_path(&c2sp(their.path())).expect("we parse theirs"), t);
    }
}

#[test]
fn verifier_keys_of_the_go_example_agree() {
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let mine = VerifierKey::parse(vkey).expect("parse");
    let data = [&[0x01u8][..], &mine.public_key_bytes()].concat();
    assert_eq!(signed_note::key_id("PeterNeumann", &data), mine.key_id());
}
