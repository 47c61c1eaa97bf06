//! The log on a real folder: batches, tiles, checkpoints, recovery, and agreement with
//! the independent `tlog_tiles` verifier.

use std::sync::Arc;

use kordon_core::checkpoint;
use kordon_core::merkle::{self, MemoryHashes, leaf_hash};
use kordon_core::note::SignerKey;
use kordon_core::tiles::{TileId, tiles_for_size};
use kordon_log::{Fault, FaultyStorage, Health, Log, LogError, LogOptions, partial_tiles};

fn opts(dir: &std::path::Path) -> LogOptions {
    LogOptions {
        dir: dir.to_path_buf(),
        signer: SignerKey::ed25519_from_seed("kordon.test/log", [9; 32]).expect("key"),
        max_batch: 1000,
        partial_grace: std::time::Duration::ZERO,
    }
}

fn entry(i: u64) -> Vec<u8> {
    format!("entry number {i}\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_get_distinct_indexes_and_verify() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = Arc::new(Log::open(opts(dir.path())).await.expect("open"));
    let mut tasks = Vec::new();
    for i in 0..1500u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            (i, log.append(entry(i)).await.expect("append"))
        }));
    }
    let mut by_index = vec![None; 1500];
    for t in tasks {
        let (i, idx) = t.await.expect("task");
        assert!(
            by_index[idx as usize].replace(i).is_none(),
            "index {idx} given twice"
        );
    }
    let p = log.published();
    assert_eq!(p.size, 1500);
    let (cp, _) = checkpoint::open(&p.checkpoint, log.verifier()).expect("signed checkpoint");
    assert_eq!((cp.size, cp.root), (p.size, p.root));

    // Entries read back from the bundles rebuild the same root.
    let reader = log.reader();
    let entries = reader.entries(0, 1500).expect("entries");
    let mut mem = MemoryHashes::new();
    for (idx, e) in entries.iter().enumerate() {
        assert_eq!(e, &entry(by_index[idx].expect("filled")));
        mem.push_entry(e);
    }
    assert_eq!(mem.root(), p.root);
    // Every tile of the published size exists.
    for id in tiles_for_size(1500) {
        assert!(dir.path().join(id.path()).exists(), "{} missing", id.path());
    }
    // Proofs from the tiles verify with the independent implementation.
    for idx in [0u64, 255, 256, 1023, 1499] {
        let proof = merkle::inclusion_proof(&reader, idx, 1500).expect("proof");
        let tproof: Vec<tlog_tiles::Hash> = proof.iter().map(|h| tlog_tiles::Hash(h.0)).collect();
        let leaf = leaf_hash(&entries[idx as usize]);
        tlog_tiles::check_record(
            &tproof,
            1500,
            tlog_tiles::Hash(p.root.0),
            idx,
            tlog_tiles::Hash(leaf.0),
        )
        .expect("tlog_tiles agrees");
    }
}

#[tokio::test]
async fn reopening_recovers_and_stays_consistent() {
    let dir = tempfile::tempdir().expect("tmp");
    let first = {
        let log = Log::open(opts(dir.path())).await.expect("open");
        for i in 0..300 {
            log.append(entry(i)).await.expect("append");
        }
        log.published()
    };
    let log = Log::open(opts(dir.path())).await.expect("reopen");
    assert_eq!(log.published().root, first.root);
    for i in 300..700 {
        assert_eq!(log.append(entry(i)).await.expect("append"), i);
    }
    let now = log.published();
    let reader = log.reader();
    let proof = merkle::consistency_proof(&reader, first.size, now.size).expect("proof");
    merkle::verify_consistency(first.size, now.size, &proof, &first.root, &now.root)
        .expect("consistent");
}

#[tokio::test]
async fn tiles_written_past_the_checkpoint_are_replaced_not_trusted() {
    // A crash after writing tiles but before publishing the checkpoint: simulate by
    // planting a bogus partial tile for a larger size; the log must ignore it.
    let dir = tempfile::tempdir().expect("tmp");
    {
        let log = Log::open(opts(dir.path())).await.expect("open");
        for i in 0..10 {
            log.append(entry(i)).await.expect("append");
        }
    }
    let bogus = TileId {
        level: None,
        index: 0,
        width: 11,
    };
    std::fs::write(dir.path().join(bogus.path()), b"\x00\x03bad").expect("plant");
    let log = Log::open(opts(dir.path())).await.expect("reopen");
    assert_eq!(
        log.append(b"real eleventh".to_vec()).await.expect("append"),
        10
    );
    let entries = log.reader().entries(10, 11).expect("entries");
    assert_eq!(entries, vec![b"real eleventh".to_vec()]);
}

#[tokio::test]
async fn a_damaged_tile_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let log = Log::open(opts(dir.path())).await.expect("open");
        for i in 0..5 {
            log.append(entry(i)).await.expect("append");
        }
    }
    let tile = dir.path().join(
        TileId {
            level: Some(0),
            index: 0,
            width: 5,
        }
        .path(),
    );
    let mut data = std::fs::read(&tile).expect("read");
    data[7] ^= 1;
    std::fs::write(&tile, data).expect("write");
    assert!(matches!(
        Log::open(opts(dir.path())).await,
        Err(LogError::Corrupt(_))
    ));
    // A checkpoint signed by another key is refused too.
    let other = LogOptions {
        signer: SignerKey::ed25519_from_seed("kordon.test/log", [1; 32]).expect("key"),
        ..opts(dir.path())
    };
    assert!(matches!(Log::open(other).await, Err(LogError::Corrupt(_))));
}

#[tokio::test]
async fn oversized_entries_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = Log::open(opts(dir.path())).await.expect("open");
    assert!(matches!(
        log.append(vec![0; 70_000]).await,
        Err(LogError::EntryTooLarge(70_000))
    ));
    assert_eq!(log.published().size, 0);
}

/// A failed tile or checkpoint write costs its batch, not the log: the batch is refused
/// as `Retry` (and so is every batch while the fault lasts), the log says `Failing`, and
/// nothing is published; once the fault clears the next append is logged at the index the
/// refused one would have had, everything acknowledged before is unchanged, and a reopen
/// finds the same tree.
#[tokio::test]
async fn a_failed_write_costs_the_batch_and_the_log_goes_on() {
    for fault in [Fault::Tiles, Fault::Checkpoint] {
        let dir = tempfile::tempdir().expect("tmp");
        let storage = Arc::new(FaultyStorage::new(dir.path()));
        let log = Log::open_on(opts(dir.path()), storage.clone())
            .await
            .expect("open");
        for i in 0..300 {
            log.append(entry(i)).await.expect("append");
        }
        assert_eq!(log.health(), Health::Ok);

        storage.set(fault);
        let refused = log.append(entry(300)).await;
        assert!(
            matches!(&refused, Err(LogError::Retry(why)) if why.contains("injected fault")),
            "{fault:?}: {refused:?}"
        );
        assert!(
            matches!(log.health(), Health::Failing(why) if why.contains("injected fault")),
            "{fault:?}"
        );
        assert!(
            matches!(log.append(entry(301)).await, Err(LogError::Retry(_))),
            "{fault:?}: refused while the fault lasts"
        );
        assert_eq!(log.published().size, 300, "{fault:?}: nothing published");

        storage.set(Fault::None);
        assert_eq!(log.append(entry(302)).await.expect("append"), 300);
        assert_eq!(log.health(), Health::Ok, "{fault:?}");
        let entries = log.reader().entries(0, 301).expect("entries");
        assert!(
            entries[..300]
                .iter()
                .enumerate()
                .all(|(i, e)| *e == entry(i as u64))
        );
        assert_eq!(
            entries[300],
            entry(302),
            "{fault:?}: the refused ones are not there"
        );
        let p = log.published();
        drop(log);

        let log = Log::open(opts(dir.path())).await.expect("reopen");
        let q = log.published();
        assert_eq!((q.size, q.root), (p.size, p.root), "{fault:?}");
        assert_eq!(log.append(entry(303)).await.expect("append"), 301);
    }
}

/// A write that fails after its checkpoint reached the disk (as a failed fsync of the
/// folder would) is found logged when the sequencer rereads the checkpoint: the appends
/// get their indexes, not an error that would have them logged twice.
#[tokio::test]
async fn a_failure_after_the_checkpoint_was_written_counts_as_logged() {
    let dir = tempfile::tempdir().expect("tmp");
    let storage = Arc::new(FaultyStorage::new(dir.path()));
    let log = Log::open_on(opts(dir.path()), storage.clone())
        .await
        .expect("open");
    for i in 0..10 {
        log.append(entry(i)).await.expect("append");
    }
    storage.set(Fault::AfterCheckpoint);
    assert_eq!(log.append(entry(10)).await.expect("logged after all"), 10);
    assert_eq!(log.published().size, 11);
    assert_eq!(log.health(), Health::Ok);
    storage.set(Fault::None);
    assert_eq!(log.append(entry(11)).await.expect("append"), 11);
    let entries = log.reader().entries(0, 12).expect("entries");
    assert!(
        entries
            .iter()
            .enumerate()
            .all(|(i, e)| *e == entry(i as u64))
    );
}

/// The partial tiles of the tree of `size` (the ones a reader of it needs).
fn current_partials(size: u64) -> Vec<TileId> {
    tiles_for_size(size)
        .into_iter()
        .filter(|t| t.width < 256)
        .collect()
}

fn folder_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                total += e.metadata().map_or(0, |m| m.len());
            }
        }
    }
    total
}

fn sorted(mut v: Vec<TileId>) -> Vec<String> {
    let mut p: Vec<String> = v.drain(..).map(|t| t.path()).collect();
    p.sort();
    p
}

/// The partial tiles in `dir` once the remover has caught up with `want` (up to 2 s).
async fn partials_settling_on(dir: &std::path::Path, want: &[String]) -> Vec<String> {
    let mut got = Vec::new();
    for _ in 0..100 {
        got = sorted(partial_tiles(dir));
        if got == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    got
}

/// 100 k entries of ~400 bytes: the folder holds the tiles of the tree, not the history
/// of its partial tiles (issue 21: under 2× the entry and hash-tile bytes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_folder_holds_the_tree_not_the_history_of_partials() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = Arc::new(Log::open(opts(dir.path())).await.expect("open"));
    let body = |i: u64| format!("entry {i} {}\n", "x".repeat(390)).into_bytes();
    let n = 100_000u64;
    let mut next = 0u64;
    while next < n {
        let tasks: Vec<_> = (next..(next + 2000).min(n))
            .map(|i| {
                let log = log.clone();
                tokio::spawn(async move { log.append(body(i)).await.expect("append") })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        next = (next + 2000).min(n);
    }
    assert_eq!(log.published().size, n);
    let want = sorted(current_partials(n));
    assert_eq!(
        partials_settling_on(dir.path(), &want).await,
        want,
        "only the published tree's partials are left"
    );
    // What the tree needs: every tile of its size, at its size.
    let needed: u64 = tiles_for_size(n)
        .iter()
        .map(|t| {
            std::fs::metadata(dir.path().join(t.path()))
                .expect("tile of the tree")
                .len()
        })
        .sum();
    let on_disk = folder_bytes(dir.path());
    eprintln!(
        "100k entries: {on_disk} bytes on disk for {needed} bytes of tiles ({:.3}x)",
        on_disk as f64 / needed as f64
    );
    assert!(
        on_disk < 2 * needed,
        "{on_disk} bytes on disk for {needed} bytes of tiles"
    );
    // And every entry is still there, once.
    let entries = log.reader().entries(0, n).expect("entries");
    let mut seen = vec![false; n as usize];
    for e in &entries {
        let i: usize = String::from_utf8_lossy(e)
            .split(' ')
            .nth(1)
            .and_then(|x| x.parse().ok())
            .expect("numbered");
        assert!(!seen[i], "entry {i} twice");
        assert_eq!(*e, body(i as u64));
        seen[i] = true;
    }
    assert!(seen.iter().all(|s| *s));
}

/// Superseded partials stay for the grace period (readers of the older tree), go after
/// it; a failed removal leaves them without stopping the log; a start sweeps them.
#[tokio::test]
async fn superseded_partials_go_after_the_grace_and_at_the_next_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let storage = Arc::new(FaultyStorage::new(dir.path()));
    let graced = LogOptions {
        partial_grace: std::time::Duration::from_millis(300),
        ..opts(dir.path())
    };
    let log = Log::open_on(graced.clone(), storage.clone())
        .await
        .expect("open");
    for i in 0..10 {
        log.append(entry(i)).await.expect("append");
    }
    // Ten single-entry batches: the older partials are still there within the grace.
    assert!(partial_tiles(dir.path()).len() > current_partials(10).len());
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    log.append(entry(10)).await.expect("append");
    // The eleventh batch's own predecessors are within their grace still.
    let mut want = sorted(current_partials(11));
    want.extend(sorted(current_partials(10)));
    want.sort();
    want.dedup();
    assert_eq!(
        partials_settling_on(dir.path(), &want).await,
        want,
        "after the grace only the newest trees' partials are left"
    );

    // Removal fails: the log goes on; the files stay.
    storage.set(Fault::Removal);
    let no_grace = LogOptions {
        partial_grace: std::time::Duration::ZERO,
        ..opts(dir.path())
    };
    drop(log);
    let log = Log::open_on(no_grace, storage.clone())
        .await
        .expect("reopen");
    for i in 11..20 {
        assert_eq!(log.append(entry(i)).await.expect("append"), i);
    }
    assert_eq!(log.health(), Health::Ok);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(partial_tiles(dir.path()).len() > current_partials(20).len());
    let p = log.published();
    drop(log);

    // A start with working storage sweeps every superseded partial.
    let log = Log::open(opts(dir.path())).await.expect("reopen");
    let want = sorted(current_partials(20));
    assert_eq!(partials_settling_on(dir.path(), &want).await, want);
    assert_eq!(log.published().root, p.root);
    assert_eq!(
        log.reader().entries(0, 20).expect("entries"),
        (0..20).map(entry).collect::<Vec<_>>()
    );
}
