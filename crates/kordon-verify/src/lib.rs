//! # kordon-verify
//!
//! Checks a `kordon.evidence/v1` package (`docs/spec/evidence-package.md`) with nothing
//! but the package and, optionally, a tlog-policy the court trusts independently:
//!
//! 1. the checkpoint is signed by the log and cosigned by the witness quorum of the policy;
//! 2. the export event is signed by the log, proven in it, and names the SHA-256 of the
//!    contents list; every file listed is present with its hash and size, and no other
//!    file is (anything added, removed, swapped or edited after export shows here);
//! 3. every device key is named by an enrollment event proven in the log;
//! 4. every chain link is signed by its device's key, proven in the log, and the links of
//!    each camera chain together (no link missing inside the range, each naming the one
//!    before); every segment file has the hash and size its link states, or a tombstone
//!    proven in the log says retention purged it;
//! 5. every custody event is signed by the log and proven in it.
//!
//! Media is hashed on all cores. The result is a list of lines, one per file, link or
//! event, each holding or not, in plain words.
//!
//! [`audit`] checks a whole log the same way from its tiles (a folder, a server, a
//! bucket: anything that serves `log/checkpoint` and `log/tile/...`). Built without the
//! `online` feature this crate has no HTTP client and no async runtime: a court's machine
//! needs neither to check a package; [`online`] adds the checks against a running server
//! (a segment file against its public log, a package's release receipts, the log audit
//! over HTTP).

mod archive;
pub mod audit;
mod chain;
mod derived;
#[cfg(feature = "online")]
pub mod online;
mod package;
pub mod timestamps;

/// A custody event signed by one of `log_keys`, of either version: answers what the log
/// shows and, for version 1 or a version 2 event with its `private` part (checked against
/// the commitment), the whole event.
pub(crate) fn logged_event(
    bytes: &[u8],
    log_keys: &[kordon_core::note::VerifierKey],
    private: Option<&str>,
) -> Result<
    (
        kordon_core::custody::Event,
        Option<kordon_core::custody::Custody>,
    ),
    String,
> {
    let n = kordon_core::note::Note::parse(bytes).map_err(|e| format!("not a signed note: {e}"))?;
    n.verify(log_keys)
        .map_err(|e| format!("not signed by the log: {e}"))?;
    let e = kordon_core::custody::Event::parse(n.text())
        .map_err(|e| format!("not a custody event: {e}"))?;
    let whole = e
        .open(private)
        .map_err(|e| format!("its private part does not open it: {e}"))?;
    Ok((e, whole))
}

pub use package::{VerifyOptions, verify_package};

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It holds.
    Ok,
    /// It does not hold: the package is not to be relied on as it is.
    Fail,
    /// A fact worth knowing that is not a failure (a gap in recording, a purged segment).
    Note,
}

/// One line of the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// How it came out.
    pub outcome: Outcome,
    /// What was checked (a path in the package, or a camera and sequence number).
    pub subject: String,
    /// What holds or what does not, in plain words.
    pub message: String,
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.outcome {
            Outcome::Ok => "ok  ",
            Outcome::Fail => "FAIL",
            Outcome::Note => "note",
        };
        write!(f, "{tag} {}: {}", self.subject, self.message)
    }
}

/// The result of verifying a package.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every check, in the order made.
    pub lines: Vec<Line>,
    /// Bytes of media hashed.
    pub media_bytes: u64,
    /// Whether the signatures were checked against a policy the caller gave (`--policy`);
    /// if not, against the package's own, which says nothing about who signed.
    pub policy_given: bool,
}

impl Report {
    /// Whether everything holds.
    pub fn holds(&self) -> bool {
        !self.lines.iter().any(|l| l.outcome == Outcome::Fail)
    }

    /// The lines that do not hold.
    pub fn failures(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.outcome == Outcome::Fail)
    }

    pub(crate) fn push(
        &mut self,
        outcome: Outcome,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.lines.push(Line {
            outcome,
            subject: subject.into(),
            message: message.into(),
        });
    }

    pub(crate) fn check(&mut self, subject: impl Into<String>, r: Result<String, String>) -> bool {
        match r {
            Ok(m) => {
                self.push(Outcome::Ok, subject, m);
                true
            }
            Err(m) => {
                self.push(Outcome::Fail, subject, m);
                false
            }
        }
    }
}

/// Why a package could not be checked at all.
#[derive(Debug)]
pub enum OpenError {
    /// Not readable.
    Io(std::io::Error),
    /// Not a zip file.
    Zip(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Io(e) => write!(f, "cannot read the package: {e}"),
            OpenError::Zip(e) => write!(f, "not a zip file: {e}"),
        }
    }
}

impl std::error::Error for OpenError {}
