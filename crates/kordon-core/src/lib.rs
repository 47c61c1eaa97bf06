//! # kordon-core
//!
//! Every byte format kordon speaks and every rule that decides whether a piece of
//! evidence holds, defined once. The server, the device agent, the offline verifier and
//! the CLI all call this crate; none of them re-implements a format.
//!
//! | module | specification |
//! | --- | --- |
//! | [`merkle`] | RFC 6962 §2.1 / RFC 9162 §2.1: hashing, roots, inclusion and consistency proofs |
//! | [`note`] | C2SP `signed-note`: notes, signatures, Ed25519 and ECDSA P-256 keys, key strings |
//! | [`checkpoint`] | C2SP `tlog-checkpoint` |
//! | [`cosignature`] | C2SP `tlog-cosignature` (`cosignature/v1`, type `0x04`) |
//! | [`tiles`] | C2SP `tlog-tiles`: tile and entry-bundle paths, entry bundles, hashes from tiles |
//! | [`tlog_proof`] | C2SP `tlog-proof` |
//! | [`policy`] | C2SP `tlog-policy` |
//! | [`custody`] | kordon's `kordon.custody/v1` custody events (`docs/spec/custody.md`) |
//! | [`link`] | kordon's `kordon.segment/v1` and `kordon.event/v1` chain links (`docs/spec/`) |
//! | [`derive`] | kordon's derived playable files and their `derive` custody events (`docs/spec/derived.md`) |
//! | [`redact`] | kordon's redactions: boxes, blur, muted sound, watermark (`docs/spec/redaction.md`) |
//! | [`timestamp`] | RFC 3161 time-stamp tokens over checkpoints (`docs/spec/timestamps.md`) |
//! | [`chain`] | verification of one device's chain of links |
//!
//! **Architecture invariant:** this crate does no IO, reads no clock and draws no
//! randomness. Time and key seeds are parameters; storage is reached through the
//! [`merkle::HashReader`] trait that callers implement.

pub mod audio;
pub mod audit_state;
pub mod chain;
pub mod checkpoint;
pub mod cosignature;
pub mod custody;
pub mod derive;
pub mod hash;
pub mod link;
pub mod merkle;
pub mod note;
pub mod package;
pub mod policy;
pub mod redact;
pub mod signed_video;
pub mod tiles;
pub mod time;
pub mod timestamp;
pub mod tlog_proof;

pub use hash::{Hash, sha256};
