//! Step 9 of `docs/spec/evidence-package.md`: RFC 3161 time-stamps
//! (`docs/spec/timestamps.md`). Each token must be over a checkpoint signed by the log,
//! consistent with the package's checkpoint, and from a TSA the caller trusts; then every
//! recording the package proves gets the earliest trusted time of a token whose
//! checkpoint already held it, and a recording that claims a later time than that (beyond
//! the tolerance for camera clocks) fails.

use std::collections::BTreeSet;

use kordon_core::checkpoint::Checkpoint;
use kordon_core::hash::Hash;
use kordon_core::merkle;
use kordon_core::note::Note;
use kordon_core::package;
use kordon_core::policy::Policy;
use kordon_core::time::Timestamp;
use kordon_core::timestamp::{self, PACKAGE_DIR, PackageFile, TimestampError, TsaChain};

use crate::archive::Zip;
use crate::{Outcome, Report};

/// How far a camera's clock may run ahead of trusted time (the server's default
/// `max_clock_skew_s`).
pub const CLOCK_TOLERANCE_MS: i64 = 300_000;

/// A chain link the package proves: its log index and the time it states.
pub(crate) struct Logged {
    pub index: u64,
    pub time: Timestamp,
    pub what: String,
}

/// Reads a checkpoint note of the package, signed by a log key of `policy`.
fn checkpoint(z: &mut Zip, path: &str, policy: &Policy) -> Result<(Note, Checkpoint), String> {
    let bytes = z.read(path).map_err(|e| format!("{path} is {e}"))?;
    let note = Note::parse(&bytes).map_err(|e| format!("{path} is not a signed note: {e}"))?;
    note.verify(policy.logs())
        .map_err(|e| format!("{path} is not signed by the log: {e}"))?;
    let cp = Checkpoint::parse(note.text()).map_err(|e| format!("{path}: {e}"))?;
    Ok((note, cp))
}

/// One token: its checkpoint, the consistency with the package's, the TSA's signature.
fn token(
    z: &mut Zip,
    size: u64,
    path: &str,
    policy: &Policy,
    top: &Checkpoint,
    chains: &[TsaChain],
) -> Result<Timestamp, String> {
    let (note, cp) = checkpoint(z, &PackageFile::Checkpoint(size).path(), policy)?;
    if cp.size != size {
        return Err(format!("its checkpoint is of size {}, not {size}", cp.size));
    }
    let proof_path = PackageFile::Consistency(size).path();
    let proof = z
        .read(&proof_path)
        .map_err(|e| format!("{proof_path} is {e}"))?;
    let proof = String::from_utf8_lossy(&proof)
        .lines()
        .map(Hash::from_base64)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{proof_path} is not a list of hashes: {e}"))?;
    merkle::verify_consistency(size, top.size, &proof, &cp.root, &top.root).map_err(|e| {
        format!(
            "its checkpoint is not in the history of the package's checkpoint (size {}): {e}",
            top.size
        )
    })?;
    let bytes = z.read(path)?;
    let mut why = TimestampError::Chain("no TSA certificate to check it against".into());
    for chain in chains {
        match timestamp::verify(&bytes, note.text().as_bytes(), chain) {
            Ok(t) => return Ok(t),
            Err(e @ TimestampError::Imprint { .. }) => {
                return Err(format!("is not a time-stamp of its checkpoint: {e}"));
            }
            Err(e) => why = e,
        }
    }
    Err(format!("is not signed by a TSA you trust: {why}"))
}

/// Step 9.
pub(crate) fn check(
    r: &mut Report,
    z: &mut Zip,
    names: &BTreeSet<String>,
    policy: &Policy,
    trusted: &[TsaChain],
    footage: &[Logged],
) {
    let mut tokens = Vec::new();
    let mut own = Vec::new();
    for n in names.iter().filter(|n| n.starts_with(PACKAGE_DIR)) {
        match PackageFile::parse(n) {
            Some(PackageFile::Token { size, tsa }) => tokens.push((n.clone(), size, tsa)),
            Some(PackageFile::Chain(_)) => {
                if let Ok(c) = z
                    .read(n)
                    .and_then(|b| TsaChain::from_pem(&b).map_err(|e| e.to_string()))
                {
                    own.push(c);
                }
            }
            Some(_) => {}
            None => r.push(
                Outcome::Fail,
                n.clone(),
                "is not a time-stamp file: added after export",
            ),
        }
    }
    if tokens.is_empty() {
        r.push(
            Outcome::Note,
            PACKAGE_DIR,
            "no RFC 3161 time-stamp: the times in this package are the cameras' and the log's own",
        );
        return;
    }
    let Ok((_, top)) = checkpoint(z, package::CHECKPOINT, policy) else {
        return; // step 1 said why
    };
    let chains = if trusted.is_empty() {
        r.push(Outcome::Note, PACKAGE_DIR, "no --tsa given: the time-stamps were checked against the TSA certificates the package itself names, which says nothing about WHO stamped them (give the TSA chain you trust: --tsa FILE)");
        own
    } else {
        trusted.to_vec()
    };
    let mut times: Vec<(u64, Timestamp, String)> = Vec::new();
    for (path, size, tsa) in tokens {
        let res = token(z, size, &path, policy, &top, &chains).map(|t| {
            times.push((size, t, tsa.clone()));
            format!("TSA {tsa} states the log held its first {size} entries at {t}")
        });
        r.check(path, res);
    }
    trusted_time(r, footage, &times);
}

/// Each recording's earliest trusted time (the first token, of those that hold, whose
/// checkpoint held it) against the time it states; the time by which all were logged.
fn trusted_time(r: &mut Report, footage: &[Logged], times: &[(u64, Timestamp, String)]) {
    let mut latest: Option<Timestamp> = None;
    let mut uncovered = 0;
    for f in footage {
        let Some((_, t, tsa)) = times
            .iter()
            .filter(|(size, _, _)| *size > f.index)
            .min_by_key(|(_, t, _)| t.0)
        else {
            uncovered += 1;
            continue;
        };
        latest = latest.max(Some(*t));
        if f.time.0 > t.0 + CLOCK_TOLERANCE_MS {
            r.push(Outcome::Fail, f.what.clone(), format!("states {}, but TSA {tsa} states the log already held it at {t}: the camera's clock was ahead by more than {} s, or the time is false", f.time, CLOCK_TOLERANCE_MS / 1000));
        }
    }
    if let Some(t) = latest {
        let all = if uncovered == 0 {
            "every recording".to_owned()
        } else {
            format!("all but {uncovered} recordings")
        };
        r.push(
            Outcome::Note,
            PACKAGE_DIR,
            format!("trusted time (RFC 3161): {all} in this package was in the log by {t}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(index: u64, time: i64) -> Logged {
        Logged {
            index,
            time: Timestamp(time),
            what: format!("link {index}"),
        }
    }

    #[test]
    fn each_recording_gets_the_first_token_that_held_it_and_a_clock_ahead_fails() {
        let minute = 60_000;
        // Tokens over sizes 10 (at minute 10) and 20 (at minute 20).
        let times = vec![
            (10, Timestamp(10 * minute), "a".to_owned()),
            (20, Timestamp(20 * minute), "a".to_owned()),
        ];
        let mut r = Report::default();
        // Entry 5 says minute 9: before its token (minute 10). Entry 15 says minute 24:
        // four minutes after the token of size 20 — within the tolerance.
        trusted_time(
            &mut r,
            &[logged(5, 9 * minute), logged(15, 24 * minute)],
            &times,
        );
        assert!(r.holds(), "{:?}", r.lines);
        assert_eq!(
            r.lines.last().map(|l| l.message.as_str()),
            Some(
                "trusted time (RFC 3161): every recording in this package was in the log by 1970-01-01T00:20:00.000Z"
            )
        );
        // Entry 5 says minute 16: six minutes after the log held it.
        let mut r = Report::default();
        trusted_time(
            &mut r,
            &[logged(5, 16 * minute), logged(25, 30 * minute)],
            &times,
        );
        let fails: Vec<String> = r.failures().map(ToString::to_string).collect();
        assert_eq!(
            fails,
            [
                "FAIL link 5: states 1970-01-01T00:16:00.000Z, but TSA a states the log already held it at 1970-01-01T00:10:00.000Z: the camera's clock was ahead by more than 300 s, or the time is false"
            ]
        );
        // Entry 25 is in no stamped checkpoint.
        assert!(
            r.lines
                .iter()
                .any(|l| l.message.contains("all but 1 recordings")),
            "{:?}",
            r.lines
        );
    }
}
