//! Benchmarks of kordon-core (figures in docs/benchmarks.md).
//!
//! - Merkle root, inclusion and consistency proofs from a stored-hash table of 1 M leaves
//!   (memory) and 100 M leaves (flat files on disk, built once under
//!   `target/kordon-bench/`, reused by later runs; set `KORDON_BENCH_100M=0` to skip).
//! - Note signing and verification, Ed25519 and ECDSA P-256.
//! - Chain verification of 100,000 links against its physical baseline measured in the
//!   same run: 100,000 bare Ed25519 verifications of the same notes.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufReader, BufWriter, Read as _, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kordon_core::Hash;
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::hash::sha256;
use kordon_core::link::{Attestation, Audio, Link, LinkBody, Segment, genesis};
use kordon_core::merkle::{self, HashReader, MemoryHashes, ReadError, leaf_hash, node_hash};
use kordon_core::note::{Note, SignerKey};
use kordon_core::time::Timestamp;

/// A stored-hash table on disk: one flat file per level, hash `i` at offset `32·i`.
struct FileHashes {
    levels: Vec<File>,
}

impl HashReader for FileHashes {
    fn read_node(&self, level: u8, index: u64) -> Result<Hash, ReadError> {
        let mut h = [0u8; 32];
        let f = self.levels.get(usize::from(level)).ok_or("no such level")?;
        f.read_exact_at(&mut h, index * 32)?;
        Ok(Hash(h))
    }
}

fn build_file_table(dir: &Path, leaves: u64) -> FileHashes {
    let done = dir.join("complete");
    if !done.exists() {
        std::fs::create_dir_all(dir).expect("mkdir");
        eprintln!(
            "building the {leaves}-leaf stored-hash table in {} (once)",
            dir.display()
        );
        let mut w =
            BufWriter::with_capacity(1 << 20, File::create(dir.join("level-00")).expect("create"));
        for i in 0..leaves {
            w.write_all(&leaf_hash(&i.to_be_bytes()).0).expect("write");
        }
        w.flush().expect("flush");
        let mut n = leaves;
        let mut level = 0;
        while n > 1 {
            let mut r = BufReader::with_capacity(
                1 << 20,
                File::open(dir.join(format!("level-{level:02}"))).expect("open"),
            );
            let mut w = BufWriter::with_capacity(
                1 << 20,
                File::create(dir.join(format!("level-{:02}", level + 1))).expect("create"),
            );
            let mut pair = [0u8; 64];
            for _ in 0..n / 2 {
                r.read_exact(&mut pair).expect("read");
                let (l, rr) = pair.split_at(32);
                let h = node_hash(
                    &Hash(l.try_into().expect("32")),
                    &Hash(rr.try_into().expect("32")),
                );
                w.write_all(&h.0).expect("write");
            }
            w.flush().expect("flush");
            n /= 2;
            level += 1;
        }
        File::create(&done).expect("marker");
    }
    let mut levels = Vec::new();
    for l in 0.. {
        match File::open(dir.join(format!("level-{l:02}"))) {
            Ok(f) => levels.push(f),
            Err(_) => break,
        }
    }
    FileHashes { levels }
}

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/kordon-bench")
}

/// A spread of indexes and sizes, so no single path is cached.
fn picks(size: u64) -> Vec<(u64, u64)> {
    (1..=64u64)
        .map(|i| {
            (
                (i * 0x9E37_79B9_7F4A_7C15) % size,
                size - (i * 7_919) % (size / 2),
            )
        })
        .collect()
}

fn merkle_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("merkle");
    let mut mem = MemoryHashes::new();
    for i in 0..1_000_000u64 {
        mem.push_leaf_hash(leaf_hash(&i.to_be_bytes()));
    }
    let size = mem.size() - 3; // not a power of two, not the table's own size
    let p = picks(size);
    g.bench_function("root/1M/memory", |b| {
        b.iter(|| merkle::root(&mem, black_box(size)).expect("root"))
    });
    g.bench_function("inclusion/1M/memory", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % p.len();
            merkle::inclusion_proof(&mem, p[i].0, size).expect("proof")
        })
    });
    g.bench_function("consistency/1M/memory", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % p.len();
            merkle::consistency_proof(&mem, p[i].1, size).expect("proof")
        })
    });
    g.bench_function("verify-inclusion/1M", |b| {
        let proof = merkle::inclusion_proof(&mem, p[0].0, size).expect("proof");
        let root = merkle::root(&mem, size).expect("root");
        let leaf = leaf_hash(&p[0].0.to_be_bytes());
        b.iter(|| {
            merkle::verify_inclusion(&leaf, p[0].0, size, black_box(&proof), &root).expect("ok")
        })
    });
    drop(mem);

    if std::env::var("KORDON_BENCH_100M").as_deref() != Ok("0") {
        let disk = build_file_table(&bench_dir().join("hashes-100m"), 100_000_000);
        let size = 100_000_000 - 7;
        let p = picks(size);
        g.bench_function("inclusion/100M/disk", |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % p.len();
                merkle::inclusion_proof(&disk, p[i].0, size).expect("proof")
            })
        });
        g.bench_function("consistency/100M/disk", |b| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % p.len();
                merkle::consistency_proof(&disk, p[i].1, size).expect("proof")
            })
        });
        g.bench_function("root/100M/disk", |b| {
            b.iter(|| merkle::root(&disk, black_box(size)).expect("root"))
        });
    }
    g.finish();
}

fn note_benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("note");
    let keys = [
        (
            "ed25519",
            SignerKey::ed25519_from_seed("cam-01", [1; 32]).expect("key"),
        ),
        (
            "p256",
            SignerKey::ecdsa_p256_from_scalar("cam-01", [2; 32]).expect("key"),
        ),
    ];
    let text = "kordon.segment/v1\ndevice: cam-01\nseq: 1\nstart: 2026-11-28T07:00:00.000Z\nend: 2026-11-28T07:00:10.000Z\nsize: 1\nsha256: 0000000000000000000000000000000000000000000000000000000000000000\nnight: no\nattested: device\nprev: 0000000000000000000000000000000000000000000000000000000000000000\n";
    for (name, key) in &keys {
        g.bench_with_input(BenchmarkId::new("sign", name), key, |b, key| {
            b.iter(|| {
                let mut n = Note::new(text).expect("note");
                n.sign(key).expect("sign");
                n.to_bytes()
            })
        });
        let mut n = Note::new(text).expect("note");
        n.sign(key).expect("sign");
        let bytes = n.to_bytes();
        let known = [key.verifier().clone()];
        g.bench_with_input(
            BenchmarkId::new("parse+verify", name),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    Note::parse(bytes)
                        .expect("parse")
                        .verify(&known)
                        .expect("ok")
                        .len()
                })
            },
        );
    }
    g.finish();
}

fn chain_benches(c: &mut Criterion) {
    const N: u64 = 100_000;
    let key = SignerKey::ed25519_from_seed("cam-01", [3; 32]).expect("key");
    let mut links: Vec<Link> = Vec::with_capacity(N as usize);
    for seq in 0..N {
        let start = 1_795_849_200_000 + seq as i64 * 10_000;
        let body = LinkBody::Segment(Segment {
            device: "cam-01".into(),
            seq,
            start: Timestamp(start),
            end: Timestamp(start + 10_000),
            size: 4_000_000,
            sha256: sha256(&seq.to_be_bytes()),
            night: false,
            audio: Audio::Unstated,
            attested: Attestation::Device,
            prev: links.last().map_or_else(|| genesis("cam-01"), Link::hash),
        });
        links.push(Link::sign(body, &key).expect("sign"));
    }
    let raw: Vec<&[u8]> = links.iter().map(Link::bytes).collect();
    let pk = ed25519_dalek::VerifyingKey::from_bytes(
        &key.verifier()
            .public_key_bytes()
            .try_into()
            .expect("32 bytes"),
    )
    .expect("key");
    let bare: Vec<(Vec<u8>, ed25519_dalek::Signature)> = links
        .iter()
        .map(|l| {
            let n = Note::parse(l.bytes()).expect("parse");
            let sig = ed25519_dalek::Signature::from_slice(&n.signatures()[0].bytes).expect("sig");
            (n.text().as_bytes().to_vec(), sig)
        })
        .collect();

    let mut g = c.benchmark_group("chain-100k");
    g.sample_size(10);
    g.bench_function("baseline: bare ed25519 verify_strict x100k", |b| {
        b.iter(|| {
            bare.iter()
                .filter(|(m, s)| pk.verify_strict(m, s).is_ok())
                .count()
        })
    });
    g.bench_function("verify_chain x100k", |b| {
        b.iter(|| {
            let r = verify_chain("cam-01", key.verifier(), &raw, &ChainOptions::default());
            assert!(r.is_clean());
            r.links.len()
        })
    });
    g.finish();
}

criterion_group!(benches, merkle_benches, note_benches, chain_benches);
criterion_main!(benches);
