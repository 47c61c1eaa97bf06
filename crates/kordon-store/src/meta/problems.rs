//! A device's chain problems as rows of `chain_problems`, and the cursor that pages them
//! (docs/spec/links.md §5.2).

use kordon_core::chain::ChainProblem;
use kordon_core::hash::Hash;
use kordon_core::time::Timestamp;
use sqlx::Row as _;

use super::MetaError;

/// A problem as its row's columns.
struct ProblemRow {
    anchor: u64,
    kind: &'static str,
    from_seq: u64,
    to_seq: u64,
    hash_a: Option<String>,
    hash_b: Option<String>,
    time_a: Option<i64>,
    time_b: Option<i64>,
    note: Option<String>,
}

/// Where a page of a device's problems ends: the key of its last problem, written
/// `anchor.kind.from_seq.hash` (hash empty but for twins and broken links). A bare anchor
/// number (the cursor of earlier versions) starts after every problem of that anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemCursor {
    /// The problem's anchor.
    pub anchor: u64,
    /// Its kind as stored.
    pub kind: String,
    /// Its first sequence number.
    pub from_seq: u64,
    /// The second hash (the twin, the link found), or empty.
    pub hash_b: String,
}

impl ProblemCursor {
    /// The cursor before every problem of `anchor` and after those of earlier anchors.
    #[must_use]
    pub fn before_anchor(anchor: u64) -> ProblemCursor {
        ProblemCursor {
            anchor,
            kind: String::new(),
            from_seq: 0,
            hash_b: String::new(),
        }
    }

    /// The cursor just after `p`; `None` for a problem that has no anchor.
    #[must_use]
    pub fn after(p: &ChainProblem) -> Option<ProblemCursor> {
        let r = row_of(p)?;
        Some(ProblemCursor {
            anchor: r.anchor,
            kind: r.kind.to_owned(),
            from_seq: r.from_seq,
            hash_b: r.hash_b.unwrap_or_default(),
        })
    }
}

impl std::fmt::Display for ProblemCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}",
            self.anchor, self.kind, self.from_seq, self.hash_b
        )
    }
}

impl std::str::FromStr for ProblemCursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let mut parts = s.split('.');
        let anchor: u64 = parts.next().ok_or(())?.parse().map_err(|_| ())?;
        let Some(kind) = parts.next() else {
            return Ok(ProblemCursor::before_anchor(anchor.saturating_add(1)));
        };
        let from_seq = parts.next().ok_or(())?.parse().map_err(|_| ())?;
        let hash_b = parts.next().ok_or(())?.to_owned();
        let ok = !kind.is_empty()
            && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            && hash_b.bytes().all(|b| b.is_ascii_hexdigit())
            && parts.next().is_none();
        ok.then_some(ProblemCursor {
            anchor,
            kind: kind.to_owned(),
            from_seq,
            hash_b,
        })
        .ok_or(())
    }
}

fn row_of(p: &ChainProblem) -> Option<ProblemRow> {
    let anchor = p.anchor()?;
    let mut r = ProblemRow {
        anchor,
        kind: "",
        from_seq: anchor,
        to_seq: anchor,
        hash_a: None,
        hash_b: None,
        time_a: None,
        time_b: None,
        note: None,
    };
    match p {
        ChainProblem::Missing { from, to } => {
            (r.kind, r.from_seq, r.to_seq) = ("missing", *from, *to);
        }
        ChainProblem::BrokenPrev {
            expected, found, ..
        } => {
            r.kind = "broken_prev";
            (r.hash_a, r.hash_b) = (Some(expected.to_hex()), Some(found.to_hex()));
        }
        ChainProblem::TimeBackwards { previous, time, .. } => {
            r.kind = "time_backwards";
            (r.time_a, r.time_b) = (Some(previous.0), Some(time.0));
        }
        ChainProblem::UnexplainedGap {
            after_seq,
            from,
            to,
            ..
        } => {
            (r.kind, r.from_seq) = ("unexplained_gap", *after_seq);
            (r.time_a, r.time_b) = (Some(from.0), Some(to.0));
        }
        ChainProblem::Equivocation { first, second, .. } => {
            r.kind = "equivocation";
            (r.hash_a, r.hash_b) = (Some(first.to_hex()), Some(second.to_hex()));
        }
        ChainProblem::AttestationMismatch { signer, .. } => {
            (r.kind, r.note) = ("attestation_mismatch", Some(signer.clone()));
        }
        ChainProblem::Malformed { .. }
        | ChainProblem::WrongDevice { .. }
        | ChainProblem::BadSignature { .. } => return None,
    }
    Some(r)
}

pub(super) fn problem_of(r: &sqlx::any::AnyRow) -> Result<ChainProblem, MetaError> {
    let seq = |c: &str| -> Result<u64, MetaError> { Ok(r.try_get::<i64, _>(c)? as u64) };
    let hash = |c: &str| -> Result<Hash, MetaError> {
        let h: Option<String> = r.try_get(c)?;
        Hash::from_hex(h.as_deref().unwrap_or_default())
            .map_err(|e| MetaError::Invalid(format!("chain_problems.{c}: {e}")))
    };
    let time = |c: &str| -> Result<Timestamp, MetaError> {
        Ok(Timestamp(
            r.try_get::<Option<i64>, _>(c)?.unwrap_or_default(),
        ))
    };
    let kind: String = r.try_get("kind")?;
    Ok(match kind.as_str() {
        "missing" => ChainProblem::Missing {
            from: seq("from_seq")?,
            to: seq("to_seq")?,
        },
        "broken_prev" => ChainProblem::BrokenPrev {
            seq: seq("anchor")?,
            expected: hash("hash_a")?,
            found: hash("hash_b")?,
        },
        "time_backwards" => ChainProblem::TimeBackwards {
            seq: seq("anchor")?,
            previous: time("time_a")?,
            time: time("time_b")?,
        },
        "unexplained_gap" => ChainProblem::UnexplainedGap {
            after_seq: seq("from_seq")?,
            before_seq: seq("anchor")?,
            from: time("time_a")?,
            to: time("time_b")?,
        },
        "equivocation" => ChainProblem::Equivocation {
            seq: seq("anchor")?,
            first: hash("hash_a")?,
            second: hash("hash_b")?,
        },
        "attestation_mismatch" => ChainProblem::AttestationMismatch {
            seq: seq("anchor")?,
            signer: r.try_get::<Option<String>, _>("note")?.unwrap_or_default(),
        },
        other => return Err(MetaError::Invalid(format!("chain problem kind {other:?}"))),
    })
}

pub(super) async fn insert_problems(
    tx: &mut sqlx::AnyConnection,
    device: &str,
    problems: &[ChainProblem],
) -> Result<u64, MetaError> {
    let mut n = 0;
    for r in problems.iter().filter_map(row_of) {
        sqlx::query("INSERT INTO chain_problems (device_id, anchor, kind, from_seq, to_seq, hash_a, hash_b, time_a, time_b, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(device)
            .bind(r.anchor as i64)
            .bind(r.kind)
            .bind(r.from_seq as i64)
            .bind(r.to_seq as i64)
            .bind(r.hash_a)
            .bind(r.hash_b)
            .bind(r.time_a)
            .bind(r.time_b)
            .bind(r.note)
            .execute(&mut *tx)
            .await?;
        n += 1;
    }
    Ok(n)
}
