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
    // Each recording's earliest trusted time: the first token whose checkpoint held it.
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
