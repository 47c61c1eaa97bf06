//! C2SP signed notes (<https://c2sp.org/signed-note>): a UTF-8 text ending in a newline,
//! an empty line, then one signature line per key, `— <key name> <base64(key id || sig)>`.
//!
//! Key types (signed-note §"Signature types"):
//! - `0x01` Ed25519: key id = `SHA-256(name || 0x0A || 0x01 || public key)[:4]`;
//! - `0x02` ECDSA P-256 as implemented by transparency-dev/witness: key id =
//!   `SHA-256(DER SubjectPublicKeyInfo)[:4]`; signature = ASN.1 DER `(r, s)` over
//!   SHA-256 of the text. kordon accepts only canonical DER with low `s`, so that a
//!   signature (and with it a chain link's hash) has exactly one byte form;
//! - `0x04` timestamped Ed25519 cosignature (see [`crate::cosignature`]).
//!
//! Verifier key string: `<name>+<hex key id>+<base64(type || public key)>` (for `0x02` the
//! public key is the DER SPKI). Signer key string: `PRIVATE+KEY+` then the same shape
//! with the private key (Ed25519 seed or P-256 scalar, 32 bytes) in place of the public key.
//!
//! Multi-signature rules (signed-note §"Verifying"): signatures by unknown keys are
//! ignored (a key is known only if name *and* id match); every signature by a known key
//! must verify or the note is rejected; at least one known key must have signed. kordon
//! accepts up to [`MAX_SIGNATURES`] signature lines and [`MAX_NOTE_BYTES`] bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::hash::{sha256, sha256_parts};

/// The largest note kordon parses: one entry of a C2SP entry bundle (u16 length prefix).
pub const MAX_NOTE_BYTES: usize = 65_535;
/// The most signature lines kordon accepts on one note (the spec asks for at least 16).
pub const MAX_SIGNATURES: usize = 100;

const SIG_PREFIX: &str = "\u{2014} ";

/// The signature type byte of a key (signed-note §"Signature types").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// `0x01`: Ed25519.
    Ed25519,
    /// `0x02`: ECDSA P-256 with SHA-256 (transparency-dev/witness form).
    EcdsaP256,
    /// `0x04`: timestamped Ed25519 cosignature (C2SP tlog-cosignature).
    Cosignature,
}

impl KeyType {
    /// The type byte.
    pub fn byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::EcdsaP256 => 0x02,
            KeyType::Cosignature => 0x04,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(KeyType::Ed25519),
            0x02 => Some(KeyType::EcdsaP256),
            0x04 => Some(KeyType::Cosignature),
            _ => None,
        }
    }
}

/// Why a note could not be parsed or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Larger than [`MAX_NOTE_BYTES`].
    #[error("note is {size} bytes, more than the limit of {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not valid UTF-8.
    #[error("note is not valid UTF-8")]
    NotUtf8,
    /// Holds a control character other than newline.
    #[error("note holds control character U+{code:04X} at byte {offset}")]
    ControlCharacter {
        /// The character's code point.
        code: u32,
        /// Its byte offset.
        offset: usize,
    },
    /// The text does not end with a newline.
    #[error("note text does not end with a newline")]
    TextNotTerminated,
    /// No empty line separates text and signatures, or no signature follows it.
    #[error("note has no signature block after an empty line")]
    NoSignatures,
    /// A signature line is malformed.
    #[error("signature line {line}: {reason}")]
    BadSignatureLine {
        /// 1-based number of the line within the signature block.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {max} signatures")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
}

/// Why a parsed note did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A signature by a known key does not verify.
    #[error("signature by known key {name}+{key_id:08x} does not verify")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key id.
        key_id: u32,
    },
    /// No signature by a known key.
    #[error("note is not signed by any known key")]
    NoKnownSignature,
}

/// Why a key string or key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The string does not have the `name+id+data` shape.
    #[error("key string is malformed: {0}")]
    Malformed(&'static str),
    /// Key names are non-empty, without Unicode white space and without `+`.
    #[error("key name {0:?} is not valid")]
    InvalidName(String),
    /// The type byte is not one kordon knows.
    #[error("unknown key type 0x{0:02x}")]
    UnknownType(u8),
    /// The key id does not match the one computed from name, type and key.
    #[error("key id {given:08x} does not match computed {computed:08x}")]
    WrongKeyId {
        /// The id in the string.
        given: u32,
        /// The id computed from the key.
        computed: u32,
    },
    /// The key bytes are not a valid key of that type.
    #[error("key bytes are not a valid {0} key")]
    InvalidKey(&'static str),
    /// The operation needs a different key type.
    #[error("this operation needs a {0} key")]
    WrongType(&'static str),
}

/// Whether `name` may name a key: non-empty, no Unicode white space, no `+`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// Key id as the spec recommends: `SHA-256(name || 0x0A || type || public key)[:4]`.
pub fn key_id(name: &str, key_type: KeyType, public_key: &[u8]) -> u32 {
    let h = sha256_parts(&[name.as_bytes(), b"\n", &[key_type.byte()], public_key]);
    u32::from_be_bytes([h.0[0], h.0[1], h.0[2], h.0[3]])
}

/// Key id of an ECDSA P-256 key: `SHA-256(DER SPKI)[:4]` (transparency-dev/witness).
pub fn ecdsa_key_id(spki_der: &[u8]) -> u32 {
    let h = sha256(spki_der);
    u32::from_be_bytes([h.0[0], h.0[1], h.0[2], h.0[3]])
}

/// One signature line.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Signature {
    /// The key name.
    pub name: String,
    /// The key id.
    pub key_id: u32,
    /// The signature bytes after the key id.
    pub bytes: Vec<u8>,
}

impl Signature {
    /// The line as it appears in a note, with its newline.
    pub fn line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.bytes.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.bytes);
        format!("{SIG_PREFIX}{} {}\n", self.name, BASE64.encode(raw))
    }

    fn parse_line(line: &str, number: usize) -> Result<Self, NoteError> {
        let bad = |reason| NoteError::BadSignatureLine {
            line: number,
            reason,
        };
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(bad("does not start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(bad("has no space between name and signature"))?;
        if !is_valid_key_name(name) {
            return Err(bad("key name is empty or holds a space or '+'"));
        }
        let raw = BASE64
            .decode(b64)
            .map_err(|_| bad("signature is not standard base64"))?;
        if raw.len() < 5 {
            return Err(bad("signature is shorter than a key id and one byte"));
        }
        Ok(Signature {
            name: name.to_owned(),
            key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
            bytes: raw[4..].to_vec(),
        })
    }
}

/// A signed note: its text (ending in a newline) and its signatures.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Note {
    text: String,
    signatures: Vec<Signature>,
}

fn check_chars(s: &str) -> Result<(), NoteError> {
    for (offset, c) in s.char_indices() {
        if (c < ' ' && c != '\n') || c == '\u{7f}' {
            return Err(NoteError::ControlCharacter {
                code: c as u32,
                offset,
            });
        }
    }
    Ok(())
}

impl Note {
    /// An unsigned note over `text`.
    ///
    /// # Errors
    /// [`NoteError`] if the text is too large, holds control characters or does not end
    /// with a newline.
    pub fn new(text: &str) -> Result<Self, NoteError> {
        if text.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                size: text.len(),
                max: MAX_NOTE_BYTES,
            });
        }
        check_chars(text)?;
        if !text.ends_with('\n') {
            return Err(NoteError::TextNotTerminated);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures: Vec::new(),
        })
    }

    /// Parses a signed note. The text is separated from the signatures by the *last*
    /// empty line, so the text itself may contain empty lines.
    ///
    /// # Errors
    /// [`NoteError`] naming the first thing that is wrong.
    pub fn parse(bytes: &[u8]) -> Result<Self, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge {
                size: bytes.len(),
                max: MAX_NOTE_BYTES,
            });
        }
        let s = std::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
        check_chars(s)?;
        let split = s.rfind("\n\n").ok_or(NoteError::NoSignatures)?;
        let (text, block) = (&s[..=split], &s[split + 2..]);
        let block = block.strip_suffix('\n').ok_or(NoteError::NoSignatures)?;
        if block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let mut signatures = Vec::new();
        for (i, line) in block.split('\n').enumerate() {
            if i == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    max: MAX_SIGNATURES,
                });
            }
            signatures.push(Signature::parse_line(line, i + 1)?);
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text, ending with a newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signatures, in order.
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// Adds a signature line.
    ///
    /// # Errors
    /// [`NoteError::TooManySignatures`] past [`MAX_SIGNATURES`].
    pub fn push_signature(&mut self, sig: Signature) -> Result<(), NoteError> {
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        self.signatures.push(sig);
        Ok(())
    }

    /// Signs the text with `key` and adds the signature.
    ///
    /// # Errors
    /// [`KeyError::WrongType`] for a cosignature key (use [`crate::cosignature::cosign`]);
    /// [`NoteError::TooManySignatures`] wrapped in [`SignNoteError`].
    pub fn sign(&mut self, key: &SignerKey) -> Result<(), SignNoteError> {
        let sig = key.sign(self.text.as_bytes())?;
        self.push_signature(sig)?;
        Ok(())
    }

    /// The note in its wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.line());
        }
        out.into_bytes()
    }

    /// Verifies the note against the known keys by the multi-signature rules, and returns
    /// the known keys whose signatures verified (each once, in `known` order).
    ///
    /// # Errors
    /// [`VerifyError::InvalidSignature`] if any signature by a known key fails;
    /// [`VerifyError::NoKnownSignature`] if no known key signed.
    pub fn verify<'k>(
        &self,
        known: &'k [VerifierKey],
    ) -> Result<Vec<&'k VerifierKey>, VerifyError> {
        let mut verified = vec![false; known.len()];
        for sig in &self.signatures {
            let Some(i) = known
                .iter()
                .position(|k| k.name == sig.name && k.key_id == sig.key_id)
            else {
                continue;
            };
            if !known[i].verify(self.text.as_bytes(), &sig.bytes) {
                return Err(VerifyError::InvalidSignature {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                });
            }
            verified[i] = true;
        }
        let out: Vec<_> = known
            .iter()
            .zip(verified)
            .filter_map(|(k, ok)| ok.then_some(k))
            .collect();
        if out.is_empty() {
            return Err(VerifyError::NoKnownSignature);
        }
        Ok(out)
    }
}

mod keys;
#[cfg(test)]
mod tests;

pub use keys::{SignNoteError, SignerKey, VerifierKey};
