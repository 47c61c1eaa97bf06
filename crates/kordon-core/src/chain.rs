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

impl ChainProblem {
    /// The sequence number of the link whose arrival creates this problem (the link
    /// after a hole, the link with the wrong `prev` or time, the segment after an
    /// unexplained gap, an equivocated or mis-attested link); `None` for input problems.
    ///
    /// A problem anchored at `s` depends only on links numbered `s` or lower, back to the
    /// last segment before `s`: this is what lets a store keep a chain's problems as links
    /// arrive in any order ([`window_problems`]).
    pub fn anchor(&self) -> Option<u64> {
        match self {
            ChainProblem::Malformed { .. }
            | ChainProblem::WrongDevice { .. }
            | ChainProblem::BadSignature { .. } => None,
            ChainProblem::Missing { to, .. } => Some(to.saturating_add(1)),
            ChainProblem::UnexplainedGap { before_seq, .. } => Some(*before_seq),
            ChainProblem::AttestationMismatch { seq, .. }
            | ChainProblem::Equivocation { seq, .. }
            | ChainProblem::BrokenPrev { seq, .. }
            | ChainProblem::TimeBackwards { seq, .. } => Some(*seq),
        }
    }
}

/// What the checks between consecutive links remember of the link before.
#[derive(Debug, Clone, Copy)]
struct Previous {
    hash: Hash,
    start: Timestamp,
    end: Timestamp,
}

/// The checks between consecutive links of one chain (holes, `prev` hashes, time order,
/// unexplained gaps, attestation), fed verified links in ascending sequence order, one at
/// a time: [`verify_chain`] runs it over a whole chain, a store over the few links an
/// arriving link can change ([`window_problems`]) and an audit over a chain streamed
/// from storage in constant memory.
#[derive(Debug, Clone)]
pub struct SequenceCheck {
    genesis: Hash,
    opts: ChainOptions,
    expected_seq: u64,
    contiguous: bool,
    head: Option<u64>,
    prev: Option<Previous>,
    /// The last segment `(seq, end)` and whether an event ending recording came after it.
    last_segment: Option<(u64, Timestamp, bool)>,
}

impl SequenceCheck {
    /// Starts checking `device`'s chain at sequence number `from_seq` (0 for the whole
    /// chain). Started later, the first link is taken as it is: nothing about it that
    /// depends on the links before it is checked, and no head is reported.
    pub fn new(device: &str, from_seq: u64, opts: &ChainOptions) -> Self {
        SequenceCheck {
            genesis: genesis(device),
            opts: *opts,
            expected_seq: from_seq,
            contiguous: from_seq == 0,
            head: None,
            prev: None,
            last_segment: None,
        }
    }

    /// The highest sequence number up to which every link from 0 is present and
    /// correctly chained, among the links pushed so far.
    pub fn head(&self) -> Option<u64> {
        self.head
    }

    /// What the check remembers, as one line of text to resume it later
    /// ([`SequenceCheck::from_text`]; `docs/spec/audit-state.md`): the next sequence
    /// number expected, whether the chain is unbroken from 0 (`1`/`0`), the head, the last
    /// link (`hash,start,end`) and the last segment (`seq,end,stopped`), `-` for none.
    pub fn to_text(&self) -> String {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        format!(
            "{} {} {} {} {}",
            self.expected_seq,
            u8::from(self.contiguous),
            opt(self.head.map(|h| h.to_string())),
            opt(self
                .prev
                .map(|p| format!("{},{},{}", p.hash.to_hex(), p.start.0, p.end.0))),
            opt(self.last_segment.map(|(seq, end, stopped)| format!(
                "{seq},{},{}",
                end.0,
                u8::from(stopped)
            ))),
        )
    }

    /// Reads [`SequenceCheck::to_text`] back for `device`; `None` if it is not one.
    pub fn from_text(device: &str, text: &str, opts: &ChainOptions) -> Option<Self> {
        fn parts<const N: usize>(w: &str) -> Option<[&str; N]> {
            w.split(',').collect::<Vec<_>>().try_into().ok()
        }
        fn flag(w: &str) -> Option<bool> {
            match w {
                "0" => Some(false),
                "1" => Some(true),
                _ => None,
            }
        }
        let [expected, contiguous, head, prev, last] =
            text.split(' ').collect::<Vec<_>>().try_into().ok()?;
        let maybe = |w: &str| (w != "-").then_some(w.to_owned());
        let mut check = SequenceCheck::new(device, 0, opts);
        check.expected_seq = expected.parse().ok()?;
        check.contiguous = flag(contiguous)?;
        check.head = maybe(head).map(|h| h.parse()).transpose().ok()?;
        check.prev = match maybe(prev) {
            None => None,
            Some(p) => {
                let [hash, start, end] = parts(&p)?;
                Some(Previous {
                    hash: Hash::from_hex(hash).ok()?,
                    start: Timestamp(start.parse().ok()?),
                    end: Timestamp(end.parse().ok()?),
                })
            }
        };
        check.last_segment = match maybe(last) {
            None => None,
            Some(l) => {
                let [seq, end, stopped] = parts(&l)?;
                Some((
                    seq.parse().ok()?,
                    Timestamp(end.parse().ok()?),
                    flag(stopped)?,
                ))
            }
        };
        Some(check)
    }

    /// Checks the next link (a higher sequence number than the last one pushed, already
    /// verified against the device's key), adding what does not hold to `problems`.
    pub fn push(&mut self, link: &Link, problems: &mut Vec<ChainProblem>) {
        let body = link.body();
        let seq = body.seq();
        if seq > self.expected_seq {
            problems.push(ChainProblem::Missing {
                from: self.expected_seq,
                to: seq - 1,
            });
            self.contiguous = false;
            self.prev = None;
            self.last_segment = None;
        }
        self.expected_seq = seq.saturating_add(1);

        if let LinkBody::Segment(s) = body {
            let by_device = link.signer_name() == s.device;
            if by_device != (s.attested == Attestation::Device) {
                problems.push(ChainProblem::AttestationMismatch {
                    seq,
                    signer: link.signer_name().to_owned(),
                });
            }
        }

        let expected_prev = match (seq, self.prev) {
            (0, _) => Some(self.genesis),
            (_, Some(p)) => Some(p.hash),
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
        self.contiguous &= linked;
        if self.contiguous {
            self.head = Some(seq);
        }

        // A segment starts no earlier than the previous link ends; an event may fall inside
        // the previous segment (it happened while that segment was being recorded), so it
        // only must not precede the previous link's start.
        let clock_sync = matches!(body, LinkBody::Event(e) if e.kind == EventKind::ClockSync);
        let floor = |p: &Previous| match body {
            LinkBody::Segment(_) => p.end,
            LinkBody::Event(_) => p.start,
        };
        if let Some(p) = &self.prev
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
                if let Some((after_seq, end, false)) = self.last_segment
                    && s.start.0 - end.0 > self.opts.max_gap_ms
                {
                    problems.push(ChainProblem::UnexplainedGap {
                        after_seq,
                        before_seq: seq,
                        from: end,
                        to: s.start,
                    });
                }
                self.last_segment = Some((seq, s.end, false));
            }
            LinkBody::Event(e) => {
                if let Some((_, _, stopped)) = self.last_segment.as_mut() {
                    *stopped |= e.kind.ends_recording();
                }
            }
        }
        self.prev = Some(Previous {
            hash: link.hash(),
            start: body.start(),
            end: body.end(),
        });
    }
}

/// The problems anchored ([`ChainProblem::anchor`]) in the part of a chain that an
/// arriving link can change, recomputed from the links stored there.
///
/// `links` are every stored link numbered `from_seq..=hi`, ascending, where `from_seq` is
/// the last segment before the arriving link (or 0 when there is none) and `hi` the first
/// segment after it (or the highest link stored). The answer holds every problem anchored
/// in `from_seq + 1..=hi` (in `0..=hi` when `from_seq` is 0); problems anchored elsewhere
/// are unchanged by the arrival. Equivocations are not among them: they are known when a
/// twin is refused, not from the links kept.
pub fn window_problems(
    device: &str,
    links: &[Link],
    from_seq: u64,
    opts: &ChainOptions,
) -> Vec<ChainProblem> {
    let mut check = SequenceCheck::new(device, from_seq, opts);
    let mut problems = Vec::new();
    for l in links {
        check.push(l, &mut problems);
    }
    problems.retain(|p| p.anchor().is_some_and(|a| from_seq == 0 || a > from_seq));
    problems
}

/// The links of `device` among `raw` that parse, are this device's and verify with `key`,
/// one per sequence number (the first seen), ordered; what does not hold goes to
/// `problems`: input problems in input order, then equivocations.
fn verified_links<B: AsRef<[u8]>>(
    device: &str,
    key: &VerifierKey,
    raw: &[B],
    problems: &mut Vec<ChainProblem>,
) -> BTreeMap<u64, Link> {
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
    by_seq
}

/// Verifies the links of `device`, signed by `key`.
pub fn verify_chain<B: AsRef<[u8]>>(
    device: &str,
    key: &VerifierKey,
    raw: &[B],
    opts: &ChainOptions,
) -> ChainReport {
    let mut problems = Vec::new();
    let by_seq = verified_links(device, key, raw, &mut problems);
    let mut check = SequenceCheck::new(device, 0, opts);
    for link in by_seq.values() {
        check.push(link, &mut problems);
    }
    let head = check.head();
    ChainReport {
        links: by_seq.into_values().collect(),
        problems,
        head,
    }
}

/// Goes on with a chain checked before up to some link (`check`, e.g. resumed from an
/// earlier audit with [`SequenceCheck::from_text`]) over links that arrived since, in any
/// order: answers what does not hold and how many links were *late* (numbered below what
/// `check` expected, filling a hole seen before: checked for format, device and signature
/// only, since the links around them were checked without them).
pub fn continue_chain<B: AsRef<[u8]>>(
    check: &mut SequenceCheck,
    device: &str,
    key: &VerifierKey,
    raw: &[B],
) -> (Vec<ChainProblem>, u64) {
    let mut problems = Vec::new();
    let by_seq = verified_links(device, key, raw, &mut problems);
    let mut late = 0;
    for (seq, link) in &by_seq {
        if *seq < check.expected_seq {
            late += 1;
        } else {
            check.push(link, &mut problems);
        }
    }
    (problems, late)
}

/// A whole chain checked as it is read from storage in ascending sequence order, in
/// constant memory (but for the problems found): what a store keeps of a chain, computed
/// from scratch (`kordon device recheck`, and the first start after an upgrade).
#[derive(Debug, Clone)]
pub struct ChainScan {
    device: String,
    key: VerifierKey,
    check: SequenceCheck,
    index: usize,
    /// Everything that does not hold, in reading order.
    pub problems: Vec<ChainProblem>,
    /// Links that hold.
    pub links: u64,
    /// Of which segments.
    pub segments: u64,
    /// Sum of the segments' lengths, in milliseconds.
    pub recorded_ms: i64,
    /// The highest sequence number that holds.
    pub last_seq: Option<u64>,
    /// The latest end (segment) or time (event).
    pub max_end_ms: Option<i64>,
}

impl ChainScan {
    /// Starts a scan of `device`'s chain, verified with `key`.
    pub fn new(device: &str, key: &VerifierKey, opts: &ChainOptions) -> Self {
        ChainScan {
            device: device.to_owned(),
            key: key.clone(),
            check: SequenceCheck::new(device, 0, opts),
            index: 0,
            problems: Vec::new(),
            links: 0,
            segments: 0,
            recorded_ms: 0,
            last_seq: None,
            max_end_ms: None,
        }
    }

    /// Checks the next stored link (sequence numbers ascending, one link each): parsed,
    /// for this device, signed with its key, then in sequence with the link before.
    pub fn push(&mut self, bytes: &[u8]) {
        let index = self.index;
        self.index += 1;
        let link = match Link::parse(bytes) {
            Ok(l) => l,
            Err(error) => {
                self.problems.push(ChainProblem::Malformed { index, error });
                return;
            }
        };
        let body = link.body();
        if body.device() != self.device {
            self.problems.push(ChainProblem::WrongDevice {
                index,
                device: body.device().to_owned(),
            });
            return;
        }
        if link.verify(&self.key).is_err() {
            self.problems.push(ChainProblem::BadSignature {
                index,
                seq: body.seq(),
            });
            return;
        }
        self.check.push(&link, &mut self.problems);
        self.links += 1;
        if let LinkBody::Segment(s) = body {
            self.segments += 1;
            self.recorded_ms += s.end.0 - s.start.0;
        }
        self.last_seq = Some(body.seq());
        self.max_end_ms = Some(
            self.max_end_ms
                .map_or(body.end().0, |m| m.max(body.end().0)),
        );
    }

    /// The highest sequence number up to which the chain read so far is complete and
    /// unbroken.
    pub fn head(&self) -> Option<u64> {
        self.check.head()
    }
}
