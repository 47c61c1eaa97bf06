//! C2SP tlog-proof (<https://c2sp.org/tlog-proof>): everything needed to check offline
//! that one entry is in a log.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! [extra <base64>]
//! index <n>
//! <base64 hash>        (the inclusion proof, zero or more lines)
//!
//! <the signed checkpoint note, verbatim>
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::hash::Hash;
use crate::merkle::{MAX_PROOF_LEN, MerkleError, leaf_hash, verify_inclusion};
use crate::policy::{Policy, QuorumError, Satisfied};

const HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A parsed tlog-proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Optional opaque extra data.
    pub extra: Option<Vec<u8>>,
    /// Index of the entry in the log.
    pub index: u64,
    /// Inclusion proof, leaf-side first.
    pub path: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

/// Why a proof was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The proof text is malformed.
    #[error("tlog-proof line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The checkpoint does not satisfy the policy.
    #[error(transparent)]
    Checkpoint(#[from] QuorumError),
    /// The entry is not at that index under that checkpoint.
    #[error("inclusion: {0}")]
    Inclusion(#[from] MerkleError),
}

impl TlogProof {
    /// Parses a tlog-proof.
    ///
    /// # Errors
    /// [`ProofError::Malformed`].
    pub fn parse(data: &[u8]) -> Result<Self, ProofError> {
        let bad = |line, reason| ProofError::Malformed { line, reason };
        let text = std::str::from_utf8(data).map_err(|_| bad(1, "not UTF-8"))?;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or(bad(1, "no empty line before the checkpoint"))?;
        let mut lines = head.split('\n').enumerate().peekable();
        if lines.next().map(|(_, l)| l) != Some(HEADER) {
            return Err(bad(1, "first line is not c2sp.org/tlog-proof@v1"));
        }
        let mut extra = None;
        if let Some((i, l)) = lines.peek()
            && let Some(b) = l.strip_prefix("extra ")
        {
            extra = Some(
                BASE64
                    .decode(b)
                    .map_err(|_| bad(i + 1, "extra is not standard base64"))?,
            );
            lines.next();
        }
        let (i, l) = lines.next().ok_or(bad(2, "missing index line"))?;
        let index = l
            .strip_prefix("index ")
            .and_then(crate::checkpoint::parse_decimal)
            .ok_or(bad(i + 1, "expected index <decimal>"))?;
        let mut path = Vec::new();
        for (i, l) in lines {
            if path.len() == MAX_PROOF_LEN {
                return Err(bad(i + 1, "proof too long"));
            }
            path.push(
                Hash::from_base64(l)
                    .map_err(|_| bad(i + 1, "proof hash is not base64 of 32 bytes"))?,
            );
        }
        Ok(TlogProof {
            extra,
            index,
            path,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }

    /// The proof in its text form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{HEADER}\n");
        if let Some(e) = &self.extra {
            s.push_str(&format!("extra {}\n", BASE64.encode(e)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.path {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Checks that `entry` is at `self.index` in the log, under a checkpoint that
    /// satisfies `policy`.
    ///
    /// # Errors
    /// [`ProofError::Checkpoint`] or [`ProofError::Inclusion`].
    pub fn verify(&self, entry: &[u8], policy: &Policy) -> Result<Satisfied, ProofError> {
        let ok = policy.check(&self.checkpoint)?;
        verify_inclusion(
            &leaf_hash(entry),
            self.index,
            ok.checkpoint.size,
            &self.path,
            &ok.checkpoint.root,
        )?;
        Ok(ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::merkle::{MemoryHashes, inclusion_proof};
    use crate::note::{Note, SignerKey};

    #[test]
    fn a_proof_round_trips_and_verifies_only_its_entry() {
        let log = SignerKey::ed25519_from_seed("kordon.example/log", [4; 32]).expect("key");
        let mut t = MemoryHashes::new();
        for i in 0..9u8 {
            t.push_entry(&[i]);
        }
        let cp = Checkpoint {
            origin: "kordon.example/log".into(),
            size: 9,
            root: t.root(),
            extensions: vec![],
        };
        let mut n = Note::new(&cp.to_text()).expect("note");
        n.sign(&log).expect("sign");
        let p = TlogProof {
            extra: Some(b"x".to_vec()),
            index: 6,
            path: inclusion_proof(&t, 6, 9).expect("proof"),
            checkpoint: n.to_bytes(),
        };
        let parsed = TlogProof::parse(&p.to_bytes()).expect("parse");
        assert_eq!(parsed, p);
        let policy =
            Policy::parse(&format!("log {}\nquorum none\n", log.verifier())).expect("policy");
        assert_eq!(
            parsed.verify(&[6], &policy).expect("holds").checkpoint.size,
            9
        );
        assert!(matches!(
            parsed.verify(&[5], &policy),
            Err(ProofError::Inclusion(MerkleError::RootMismatch))
        ));
        assert!(TlogProof::parse(b"c2sp.org/tlog-proof@v1\nindex 01\n\nx").is_err());
    }
}
