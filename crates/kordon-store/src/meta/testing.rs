//! For tests of the store and of what uses it: a fresh, empty database in the PostgreSQL
//! server named by `KORDON_TEST_POSTGRES` (a URL whose user may create databases;
//! `scripts/test` starts the server on 127.0.0.1 and sets it), default
//! `postgres://kordon:kordon@127.0.0.1:5432/postgres`; a camera that signs real links.

use kordon_core::hash::{Hash, sha256};
use kordon_core::link::{Attestation, Audio, Event, EventKind, Link, LinkBody, Segment, genesis};
use kordon_core::note::SignerKey;
use kordon_core::time::Timestamp;
use sha2::Digest as _;
use sqlx::Connection as _;
use sqlx::Executor as _;

/// The server tests use.
#[must_use]
pub fn server_url() -> String {
    std::env::var("KORDON_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://kordon:kordon@127.0.0.1:5432/postgres".into())
}

/// Creates a new empty database and answers its URL.
///
/// # Panics
/// When the server cannot be reached (a test can go no further); the message says how to
/// start it.
pub async fn fresh_database() -> String {
    sqlx::any::install_default_drivers();
    let server = server_url();
    let mut conn = sqlx::AnyConnection::connect(&server)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL at {server} (KORDON_TEST_POSTGRES; scripts/test starts one): {e}")
        });
    let name = format!(
        "kordon_t_{}",
        hex::encode(&crate::random_bytes().expect("random")[..8])
    );
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
    let (base, _) = server.rsplit_once('/').expect("URL with a database");
    format!("{base}/{name}")
}

/// A small deterministic random sequence (SplitMix64) for generated test and benchmark
/// data.
pub struct Rng(pub u64);

impl Rng {
    /// The next value below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// A camera for tests and benchmarks: signs links of one device with an Ed25519 key
/// derived from its name, chaining each to the last one it signed.
pub struct TestCamera {
    /// The device id.
    pub device: String,
    key: SignerKey,
    /// The hash the next link names as `prev`.
    pub prev: Hash,
    /// The next sequence number.
    pub next: u64,
}

impl TestCamera {
    /// A camera with a key derived from `device`.
    ///
    /// # Panics
    /// On a device id the key format refuses.
    #[must_use]
    pub fn new(device: &str) -> Self {
        let seed: [u8; 32] = sha2::Sha256::digest(device.as_bytes()).into();
        TestCamera {
            device: device.to_owned(),
            key: SignerKey::ed25519_from_seed(device, seed).expect("key"),
            prev: genesis(device),
            next: 0,
        }
    }

    /// Its verifier key, as stored at enrollment.
    #[must_use]
    pub fn vkey(&self) -> String {
        self.key.verifier().to_string()
    }

    /// Signs `body` (any sequence number and `prev`: tests make forks and holes).
    ///
    /// # Panics
    /// On a body that does not sign (a test's mistake).
    #[must_use]
    pub fn sign(&self, body: LinkBody) -> Link {
        Link::sign(body, &self.key).expect("sign")
    }

    /// A segment `[start, end)` under `seq` naming `prev`.
    #[must_use]
    pub fn segment_with(&self, seq: u64, prev: Hash, start: i64, end: i64) -> Link {
        self.sign(LinkBody::Segment(Segment {
            device: self.device.clone(),
            seq,
            start: Timestamp(start),
            end: Timestamp(end),
            size: 1000 + seq,
            sha256: sha256(format!("{}/{seq}", self.device).as_bytes()),
            night: seq % 2 == 1,
            audio: Audio::Unstated,
            attested: Attestation::Device,
            prev,
        }))
    }

    /// An event of `kind` at `time` under `seq` naming `prev`.
    #[must_use]
    pub fn event_with(&self, seq: u64, prev: Hash, kind: EventKind, time: i64) -> Link {
        self.sign(LinkBody::Event(Event {
            device: self.device.clone(),
            seq,
            time: Timestamp(time),
            kind,
            detail: "test".into(),
            prev,
        }))
    }

    fn chained(&mut self, l: Link) -> Link {
        self.prev = l.hash();
        self.next += 1;
        l
    }

    /// The next segment of the chain.
    pub fn segment(&mut self, start: i64, end: i64) -> Link {
        let l = self.segment_with(self.next, self.prev, start, end);
        self.chained(l)
    }

    /// The next segment of the chain, over `bytes` (its hash and size are theirs).
    pub fn segment_over(&mut self, start: i64, end: i64, bytes: &[u8]) -> Link {
        let l = self.sign(LinkBody::Segment(Segment {
            device: self.device.clone(),
            seq: self.next,
            start: Timestamp(start),
            end: Timestamp(end),
            size: bytes.len() as u64,
            sha256: sha256(bytes),
            night: false,
            audio: Audio::Unstated,
            attested: Attestation::Device,
            prev: self.prev,
        }));
        self.chained(l)
    }

    /// The next event of the chain.
    pub fn event(&mut self, kind: EventKind, time: i64) -> Link {
        let l = self.event_with(self.next, self.prev, kind, time);
        self.chained(l)
    }
}
