//! C2SP tlog-policy (<https://c2sp.org/tlog-policy>): which log and witness keys an
//! offline verifier trusts, and which witnesses must have cosigned.
//!
//! One statement per line; empty lines and lines starting with `#` are ignored:
//!
//! ```text
//! log <verifier key> [url]
//! witness <name> <verifier key> [url]
//! group <name> <k|any|all> <member> [<member> ...]
//! quorum <name|none>
//! ```
//!
//! Witnesses and groups share one namespace; a group's members must be defined above it;
//! `quorum` appears exactly once and names a group, a witness, or `none`.

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{KeyError, Note, VerifierKey, VerifyError};

/// The most lines a policy may have.
pub const MAX_POLICY_LINES: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
}

/// A parsed trust policy.
#[derive(Debug, Clone)]
pub struct Policy {
    logs: Vec<VerifierKey>,
    witnesses: Vec<(String, VerifierKey)>,
    groups: Vec<Group>,
    quorum: Option<Member>,
}

/// Why a policy file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A line is malformed.
    #[error("policy line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// No `quorum` line, or no `log` line.
    #[error("policy has no {0} line")]
    Missing(&'static str),
    /// The file is too long.
    #[error("policy has more than {MAX_POLICY_LINES} lines")]
    TooLong,
}

/// Why a checkpoint did not satisfy a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    /// The checkpoint note does not verify (bad signature, no known key).
    #[error("checkpoint signatures: {0}")]
    Signature(#[from] VerifyError),
    /// No trusted log signed it.
    #[error("checkpoint is not signed by a log the policy names")]
    NoLogSignature,
    /// The checkpoint body is malformed or its origin is not the log's key name.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Too few witnesses cosigned.
    #[error("witness quorum not met: cosigned by {cosigned:?}")]
    QuorumNotMet {
        /// Names of the witnesses whose cosignatures verified.
        cosigned: Vec<String>,
    },
}

/// What a policy check established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Satisfied {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// Name of the log key that signed it.
    pub log: String,
    /// Names of the witnesses whose cosignatures verified.
    pub witnesses: Vec<String>,
}

impl Policy {
    /// Parses a policy.
    ///
    /// # Errors
    /// [`PolicyError`] naming the line and the problem.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let mut p = Policy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        };
        let mut quorum_seen = false;
        for (i, raw) in text.lines().enumerate() {
            if i >= MAX_POLICY_LINES {
                return Err(PolicyError::TooLong);
            }
            let line = i + 1;
            let err = |reason: String| PolicyError::Line { line, reason };
            let key_err = |e: KeyError| PolicyError::Line {
                line,
                reason: e.to_string(),
            };
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = t.split_whitespace().collect();
            match words[0] {
                "log" => {
                    if !(2..=3).contains(&words.len()) {
                        return Err(err("expected: log <verifier key> [url]".into()));
                    }
                    p.logs.push(VerifierKey::parse(words[1]).map_err(key_err)?);
                }
                "witness" => {
                    if !(3..=4).contains(&words.len()) {
                        return Err(err("expected: witness <name> <verifier key> [url]".into()));
                    }
                    p.check_new_name(words[1]).map_err(err)?;
                    p.witnesses.push((
                        words[1].to_owned(),
                        VerifierKey::parse(words[2]).map_err(key_err)?,
                    ));
                }
                "group" => {
                    if words.len() < 4 {
                        return Err(err("expected: group <name> <k|any|all> <member>...".into()));
                    }
                    p.check_new_name(words[1]).map_err(err)?;
                    let members = words[3..]
                        .iter()
                        .map(|m| {
                            p.lookup(m)
                                .ok_or_else(|| err(format!("unknown member {m:?}")))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let mut unique = members.clone();
                    unique.sort_by_key(|m| format!("{m:?}"));
                    unique.dedup();
                    if unique.len() != members.len() {
                        return Err(err("a group lists a member twice".into()));
                    }
                    let threshold = match words[2] {
                        "any" => 1,
                        "all" => members.len(),
                        k => crate::checkpoint::parse_decimal(k)
                            .and_then(|k| usize::try_from(k).ok())
                            .filter(|k| (1..=members.len()).contains(k))
                            .ok_or_else(|| {
                                err(format!(
                                    "threshold {k:?} must be any, all or 1..={}",
                                    members.len()
                                ))
                            })?,
                    };
                    p.groups.push(Group {
                        name: words[1].to_owned(),
                        threshold,
                        members,
                    });
                }
                "quorum" => {
                    if words.len() != 2 {
                        return Err(err("expected: quorum <name|none>".into()));
                    }
                    if quorum_seen {
                        return Err(err("quorum is given twice".into()));
                    }
                    quorum_seen = true;
                    p.quorum = if words[1] == "none" {
                        None
                    } else {
                        Some(
                            p.lookup(words[1])
                                .ok_or_else(|| err(format!("unknown quorum {:?}", words[1])))?,
                        )
                    };
                }
                other => return Err(err(format!("unknown keyword {other:?}"))),
            }
        }
        if p.logs.is_empty() {
            return Err(PolicyError::Missing("log"));
        }
        if !quorum_seen {
            return Err(PolicyError::Missing("quorum"));
        }
        Ok(p)
    }

    fn check_new_name(&self, name: &str) -> Result<(), String> {
        if name == "none" || self.lookup(name).is_some() {
            return Err(format!("name {name:?} is already taken"));
        }
        Ok(())
    }

    fn lookup(&self, name: &str) -> Option<Member> {
        if let Some(i) = self.witnesses.iter().position(|(n, _)| n == name) {
            return Some(Member::Witness(i));
        }
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(Member::Group)
    }

    /// The trusted log keys.
    pub fn logs(&self) -> &[VerifierKey] {
        &self.logs
    }

    fn satisfied(&self, m: Member, cosigned: &[bool]) -> bool {
        match m {
            Member::Witness(i) => cosigned[i],
            Member::Group(g) => {
                let g = &self.groups[g];
                g.members
                    .iter()
                    .filter(|m| self.satisfied(**m, cosigned))
                    .count()
                    >= g.threshold
            }
        }
    }

    /// Checks a signed checkpoint: signed by a trusted log whose key name is the origin,
    /// every signature by a known key valid, and the witness quorum met.
    ///
    /// # Errors
    /// [`QuorumError`] naming what does not hold.
    pub fn check(&self, checkpoint_note: &[u8]) -> Result<Satisfied, QuorumError> {
        let note = Note::parse(checkpoint_note).map_err(CheckpointError::from)?;
        let mut known: Vec<VerifierKey> = self.logs.clone();
        known.extend(self.witnesses.iter().map(|(_, k)| k.clone()));
        let verified = note.verify(&known)?;
        let log = verified
            .iter()
            .find(|k| self.logs.iter().any(|l| l == **k))
            .ok_or(QuorumError::NoLogSignature)?;
        let checkpoint = Checkpoint::parse(note.text())?;
        if checkpoint.origin != log.name() {
            return Err(CheckpointError::OriginMismatch {
                origin: checkpoint.origin,
                key: log.name().to_owned(),
            }
            .into());
        }
        let cosigned: Vec<bool> = self
            .witnesses
            .iter()
            .map(|(_, k)| verified.contains(&k))
            .collect();
        let names: Vec<String> = self
            .witnesses
            .iter()
            .zip(&cosigned)
            .filter(|(_, c)| **c)
            .map(|((n, _), _)| n.clone())
            .collect();
        if let Some(q) = self.quorum
            && !self.satisfied(q, &cosigned)
        {
            return Err(QuorumError::QuorumNotMet { cosigned: names });
        }
        Ok(Satisfied {
            checkpoint,
            log: log.name().to_owned(),
            witnesses: names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::cosign;
    use crate::hash::Hash;
    use crate::note::SignerKey;

    fn setup() -> (SignerKey, Vec<SignerKey>, String) {
        let log = SignerKey::ed25519_from_seed("kordon.example/log", [1; 32]).expect("key");
        let ws: Vec<SignerKey> = (0..3u8)
            .map(|i| {
                SignerKey::cosigner_from_seed(&format!("w{i}.example"), [10 + i; 32]).expect("key")
            })
            .collect();
        let policy = format!(
            "# test policy\nlog {}\nwitness a {}\nwitness b {} https://b.example\nwitness c {}\ngroup ab 2 a b\ngroup top any ab c\nquorum top\n",
            log.verifier(),
            ws[0].verifier(),
            ws[1].verifier(),
            ws[2].verifier()
        );
        (log, ws, policy)
    }

    fn checkpoint(log: &SignerKey, cosigners: &[&SignerKey]) -> Vec<u8> {
        let cp = Checkpoint {
            origin: log.verifier().name().into(),
            size: 5,
            root: Hash([3; 32]),
            extensions: vec![],
        };
        let mut n = Note::new(&cp.to_text()).expect("note");
        n.sign(log).expect("sign");
        for w in cosigners {
            n.push_signature(cosign(w, &cp.to_text(), 1_800_000_000).expect("cosign"))
                .expect("push");
        }
        n.to_bytes()
    }

    #[test]
    fn quorum_rules() {
        let (log, ws, text) = setup();
        let p = Policy::parse(&text).expect("policy");
        assert!(matches!(
            p.check(&checkpoint(&log, &[&ws[0]])),
            Err(QuorumError::QuorumNotMet { .. })
        ));
        assert_eq!(
            p.check(&checkpoint(&log, &[&ws[0], &ws[1]]))
                .expect("ab")
                .witnesses,
            vec!["a", "b"]
        );
        assert!(p.check(&checkpoint(&log, &[&ws[2]])).is_ok());
        let other = SignerKey::ed25519_from_seed("kordon.example/log", [2; 32]).expect("key");
        assert!(matches!(
            p.check(&checkpoint(&other, &[&ws[2]])),
            Err(QuorumError::NoLogSignature)
        ));
    }

    #[test]
    fn malformed_policies_name_the_line() {
        let (_, _, text) = setup();
        let no_quorum = text.replace("quorum top\n", "");
        assert_eq!(
            Policy::parse(&no_quorum).err(),
            Some(PolicyError::Missing("quorum"))
        );
        let bad = text.replace("group ab 2 a b", "group ab 3 a b");
        assert!(matches!(
            Policy::parse(&bad),
            Err(PolicyError::Line { line: 6, .. })
        ));
        let dup = text.replace("witness c", "witness a");
        assert!(matches!(
            Policy::parse(&dup),
            Err(PolicyError::Line { line: 5, .. })
        ));
        assert!(matches!(
            Policy::parse(&format!("{text}frobnicate\n")),
            Err(PolicyError::Line { line: 9, .. })
        ));
    }
}
