//! C2SP tlog-checkpoint (<https://c2sp.org/tlog-checkpoint>): the signed statement of a
//! log's size and root.
//!
//! Note text: the origin line, the tree size in decimal (no leading zeros), the root hash
//! in standard base64, then optional extension lines; every line ends in a newline.
//! kordon names its log key after the origin, and [`open`] insists on that.

use crate::hash::Hash;
use crate::note::{Note, NoteError, VerifierKey, VerifyError};

/// The most extension lines kordon accepts.
pub const MAX_EXTENSIONS: usize = 16;

/// A parsed checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The origin line identifying the log.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Root hash of the tree of `size` entries.
    pub root: Hash,
    /// Extension lines, without their newlines.
    pub extensions: Vec<String>,
}

/// Why a checkpoint body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// Fewer than three lines, or the text does not end in a newline.
    #[error("checkpoint needs origin, size and root hash lines, each ending in a newline")]
    TooShort,
    /// The origin line is empty.
    #[error("checkpoint origin is empty")]
    EmptyOrigin,
    /// The size is not a canonical decimal u64.
    #[error("checkpoint size {0:?} is not a decimal number without leading zeros")]
    BadSize(String),
    /// The root is not base64 of 32 bytes.
    #[error("checkpoint root hash is not standard base64 of 32 bytes")]
    BadRoot,
    /// An extension line is empty or there are too many.
    #[error("checkpoint extension lines must be non-empty and at most {MAX_EXTENSIONS}")]
    BadExtension,
    /// The note around it is malformed.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The note is not signed by the log key.
    #[error("checkpoint signature: {0}")]
    Signature(#[from] VerifyError),
    /// The origin is not the log key's name.
    #[error("checkpoint origin {origin:?} is not the log key name {key:?}")]
    OriginMismatch {
        /// Origin in the checkpoint.
        origin: String,
        /// Name of the log key.
        key: String,
    },
}

/// Parses a canonical decimal u64: digits only, no sign, no leading zeros (`0` itself ok).
pub fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

impl Checkpoint {
    /// Parses a checkpoint note text.
    ///
    /// # Errors
    /// [`CheckpointError`] naming the first problem.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or(CheckpointError::TooShort)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::TooShort);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_decimal(size).ok_or_else(|| CheckpointError::BadSize(size.to_owned()))?;
        let root = Hash::from_base64(root).map_err(|_| CheckpointError::BadRoot)?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.len() > MAX_EXTENSIONS || extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::BadExtension);
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The note text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }
}

/// Parses a signed checkpoint note, checks it is signed by `log_key` and that its origin
/// is the key's name. Other signatures (witness cosignatures) are left for the caller.
///
/// # Errors
/// [`CheckpointError`].
pub fn open(
    note_bytes: &[u8],
    log_key: &VerifierKey,
) -> Result<(Checkpoint, Note), CheckpointError> {
    let note = Note::parse(note_bytes)?;
    note.verify(std::slice::from_ref(log_key))?;
    let cp = Checkpoint::parse(note.text())?;
    if cp.origin != log_key.name() {
        return Err(CheckpointError::OriginMismatch {
            origin: cp.origin,
            key: log_key.name().to_owned(),
        });
    }
    Ok((cp, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_body_parsing() {
        let root = Hash([1; 32]).to_base64();
        let ok = format!("example.com/log\n42\n{root}\nextra ext\n");
        let cp = Checkpoint::parse(&ok).expect("parses");
        assert_eq!((cp.size, cp.extensions.len()), (42, 1));
        assert_eq!(cp.to_text(), ok);
        assert_eq!(
            Checkpoint::parse(&format!("o\n042\n{root}\n")),
            Err(CheckpointError::BadSize("042".into()))
        );
        assert_eq!(
            Checkpoint::parse(&format!("o\n+4\n{root}\n")),
            Err(CheckpointError::BadSize("+4".into()))
        );
        assert_eq!(
            Checkpoint::parse(&format!("o\n18446744073709551616\n{root}\n")).map(|_| ()),
            Err(CheckpointError::BadSize("18446744073709551616".into()))
        );
        assert_eq!(
            Checkpoint::parse("o\n1\nAAAA\n"),
            Err(CheckpointError::BadRoot)
        );
        assert_eq!(
            Checkpoint::parse(&format!("\n1\n{root}\n")),
            Err(CheckpointError::EmptyOrigin)
        );
        assert_eq!(
            Checkpoint::parse(&format!("o\n1\n{root}")),
            Err(CheckpointError::TooShort)
        );
        assert_eq!(
            Checkpoint::parse(&format!("o\n1\n{root}\n\n")),
            Err(CheckpointError::BadExtension)
        );
    }
}
