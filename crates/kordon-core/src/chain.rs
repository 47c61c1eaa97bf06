//! Verification of one device's chain of links (`docs/spec/links.md` §Chain).
//!
//! Input: the raw signed notes of one device, in any order, possibly with duplicates and
//! forgeries. Output: the links that hold, ordered by sequence number, and a precise list
//! of what does not: malformed or foreign links, bad signatures, equivocation (two
//! different links under one sequence number), missing sequence numbers, broken `prev`
//! links, time running backwards, and gaps between segments that no event explains.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use crate::hash::Hash;
use crate::link::{Attestation, EventKind, Link, LinkBody, LinkError, genesis};
use crate::note::VerifierKey;
use crate::time::Timestamp;

/// Tunables of chain verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainOptions {
    /// Longest silence between the end of one segment and the start of the next that
    /// needs no explaining event, in milliseconds.
    pub max_gap_ms: i64,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions { max_gap_ms: 2_000 }
    }
}

/// One thing that does not hold in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// Input `index` is not a valid link.
    Malformed {
        /// Position in the input.
        index: usize,
        /// Why.
        error: LinkError,
    },
    /// Input `index` is a link of another device.
    WrongDevice {
        /// Position in the input.
        index: usize,
        /// The device it names.
        device: String,
    },
    /// Input `index` does not carry a valid signature by the chain's key.
    BadSignature {
        /// Position in the input.
        index: usize,
        /// The sequence number it claims.
        seq: u64,
    },
    /// A segment claims an attestation its signer cannot give (`device` signed by a key
    /// not named after the device, or `dock` signed by the device's own key).
    AttestationMismatch {
        /// Sequence number.
        seq: u64,
        /// Who signed it.
        signer: String,
    },
    /// Two different validly signed links under one sequence number.
    Equivocation {
        /// The sequence number.
        seq: u64,
        /// Hash of the link kept.
        first: Hash,
        /// Hash of the conflicting link.
        second: Hash,
    },
    /// No valid link for the sequence numbers `from..=to`.
    Missing {
        /// First missing number.
        from: u64,
        /// Last missing number.
        to: u64,
    },
    /// A link's `prev` is not the hash of the link before it (or genesis for `seq` 0).
    BrokenPrev {
        /// The link whose `prev` is wrong.
        seq: u64,
        /// The hash it should name.
        expected: Hash,
        /// The hash it names.
        found: Hash,
    },
    /// A segment starts before the previous link ended, or an event lies before the
    /// previous link started, with no clock-sync event to explain it.
    TimeBackwards {
        /// The link.
        seq: u64,
        /// The earliest time this link could have (previous end, or previous start for an event).
        previous: Timestamp,
        /// When this link starts.
        time: Timestamp,
    },
    /// Silence between two segments longer than allowed, with no event that ends
    /// recording between them and no missing link to blame.
    UnexplainedGap {
        /// The segment before the gap.
        after_seq: u64,
        /// The segment after the gap.
        before_seq: u64,
        /// End of the earlier segment.
        from: Timestamp,
        /// Start of the later segment.
        to: Timestamp,
    },
}

/// The result of [`verify_chain`].
#[derive(Debug, Clone)]
pub struct ChainReport {
    /// Links that parsed and verified, one per sequence number (the first seen when a
    /// number is equivocated), ordered by sequence number.
    pub links: Vec<Link>,
    /// Everything that does not hold, input problems first (in input order), then chain
    /// problems in sequence order.
    pub problems: Vec<ChainProblem>,
    /// The highest sequence number such that every link from 0 to it is present and
    /// correctly chained, if any.
    pub head: Option<u64>,
}

impl ChainReport {
    /// Whether the chain holds completely.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies the links of `device`, signed by `key`.
pub fn verify_chain<B: AsRef<[u8]>>(
    device: &str,
    key: &VerifierKey,
    raw: &[B],
    opts: &ChainOptions,
) -> ChainReport {
    let mut problems = Vec::new();
    let mut equivocations = Vec::new();
    let mut by_seq: BTreeMap<u64, Link> = BTreeMap::new();
    for (index, bytes) in raw.iter().enumerate() {
        let link = match Link::parse(bytes.as_ref()) {
            Ok(l) => l,
            Err(error) => {
                problems.push(ChainProblem::Malformed { index, error });
                continue;
            }
        };
        let body = link.body();
        if body.device() != device {
            problems.push(ChainProblem::WrongDevice {
                index,
                device: body.device().to_owned(),
            });
            continue;
        }
        if link.verify(key).is_err() {
            problems.push(ChainProblem::BadSignature {
                index,
                seq: body.seq(),
            });
            continue;
        }
        match by_seq.entry(body.seq()) {
            Entry::Vacant(v) => {
                v.insert(link);
            }
            Entry::Occupied(o) => {
                if o.get().hash() != link.hash() {
                    equivocations.push(ChainProblem::Equivocation {
                        seq: body.seq(),
                        first: o.get().hash(),
                        second: link.hash(),
                    });
                }
            }
        }
    }
    problems.extend(equivocations);

    let mut head = None;
    let mut contiguous = true;
    let mut expected_seq = 0u64;
    let mut prev: Option<&Link> = None;
    // The last segment, and whether an event ending recording came after it.
    let mut last_segment: Option<(&Link, bool)> = None;
    for (&seq, link) in &by_seq {
        let body = link.body();
        if seq > expected_seq {
            problems.push(ChainProblem::Missing {
                from: expected_seq,
                to: seq - 1,
            });
            contiguous = false;
            prev = None;
            last_segment = None;
        }
        expected_seq = seq.saturating_add(1);

        if let LinkBody::Segment(s) = body {
            let by_device = link.signer_name() == s.device;
            if by_device != (s.attested == Attestation::Device) {
                problems.push(ChainProblem::AttestationMismatch {
                    seq,
                    signer: link.signer_name().to_owned(),
                });
            }
        }

        let expected_prev = match (seq, prev) {
            (0, _) => Some(genesis(device)),
            (_, Some(p)) => Some(p.hash()),
            (_, None) => None,
        };
        let mut linked = true;
        if let Some(expected) = expected_prev
            && body.prev() != expected
        {
            problems.push(ChainProblem::BrokenPrev {
                seq,
                expected,
                found: body.prev(),
            });
            linked = false;
        }
        contiguous &= linked;
        if contiguous {
            head = Some(seq);
        }

        // A segment starts no earlier than the previous link ends; an event may fall inside
        // the previous segment (it happened while that segment was being recorded), so it
        // only must not precede the previous link's start.
        let clock_sync = matches!(body, LinkBody::Event(e) if e.kind == EventKind::ClockSync);
        let floor = |p: &Link| match body {
            LinkBody::Segment(_) => p.body().end(),
            LinkBody::Event(_) => p.body().start(),
        };
        if let Some(p) = prev
            && body.start() < floor(p)
            && !clock_sync
        {
            problems.push(ChainProblem::TimeBackwards {
                seq,
                previous: floor(p),
                time: body.start(),
            });
        }

        match body {
            LinkBody::Segment(s) => {
                if let Some((a, false)) = last_segment
                    && s.start.0 - a.body().end().0 > opts.max_gap_ms
                {
                    problems.push(ChainProblem::UnexplainedGap {
                        after_seq: a.body().seq(),
                        before_seq: seq,
                        from: a.body().end(),
                        to: s.start,
                    });
                }
                last_segment = Some((link, false));
            }
            LinkBody::Event(e) => {
                if let Some((_, stopped)) = last_segment.as_mut() {
                    *stopped |= e.kind.ends_recording();
                }
            }
        }
        prev = Some(link);
    }
    ChainReport {
        links: by_seq.into_values().collect(),
        problems,
        head,
    }
}
