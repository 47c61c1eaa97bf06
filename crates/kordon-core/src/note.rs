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

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};

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

/// Either a note or a key problem while signing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignNoteError {
    /// The note refused the signature.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The key cannot sign this way.
    #[error(transparent)]
    Key(#[from] KeyError),
}

#[derive(Clone)]
enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    EcdsaP256 {
        key: p256::ecdsa::VerifyingKey,
        spki: Vec<u8>,
    },
    Cosignature(ed25519_dalek::VerifyingKey),
}

/// A public key that checks signatures on notes, with its name and id.
#[derive(Clone)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    key: PublicKey,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl PartialEq for VerifierKey {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

fn split_key_string(s: &str) -> Result<(&str, u32, Vec<u8>), KeyError> {
    // The base64 key data may itself hold '+', so split at the first two only.
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Malformed("expected <name>+<hex id>+<base64 key>"));
    };
    if !is_valid_key_name(name) {
        return Err(KeyError::InvalidName(name.to_owned()));
    }
    if id.len() != 8
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(KeyError::Malformed("key id must be 8 lowercase hex digits"));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| KeyError::Malformed("bad key id"))?;
    let data = BASE64
        .decode(data)
        .map_err(|_| KeyError::Malformed("key data is not standard base64"))?;
    if data.is_empty() {
        return Err(KeyError::Malformed("key data is empty"));
    }
    Ok((name, id, data))
}

fn ed25519_public(bytes: &[u8]) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| KeyError::InvalidKey("Ed25519"))?;
    ed25519_dalek::VerifyingKey::from_bytes(&arr).map_err(|_| KeyError::InvalidKey("Ed25519"))
}

fn check_name(name: &str) -> Result<(), KeyError> {
    if is_valid_key_name(name) {
        Ok(())
    } else {
        Err(KeyError::InvalidName(name.to_owned()))
    }
}

impl VerifierKey {
    /// Parses a verifier key string `<name>+<hex id>+<base64(type || key)>`.
    ///
    /// # Errors
    /// [`KeyError`] naming what is wrong, including a key id that does not match the key.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let (name, given, data) = split_key_string(s)?;
        let key = match KeyType::from_byte(data[0]).ok_or(KeyError::UnknownType(data[0]))? {
            KeyType::Ed25519 => Self::ed25519(name, ed25519_public(&data[1..])?)?,
            KeyType::Cosignature => Self::cosignature(name, ed25519_public(&data[1..])?)?,
            KeyType::EcdsaP256 => {
                let key = p256::ecdsa::VerifyingKey::from_public_key_der(&data[1..])
                    .map_err(|_| KeyError::InvalidKey("ECDSA P-256"))?;
                let k = Self::ecdsa_p256(name, &key)?;
                // Only the canonical DER form of the key is accepted.
                if let PublicKey::EcdsaP256 { spki, .. } = &k.key
                    && spki.as_slice() != &data[1..]
                {
                    return Err(KeyError::InvalidKey("ECDSA P-256 (non-canonical SPKI)"));
                }
                k
            }
        };
        if key.key_id != given {
            return Err(KeyError::WrongKeyId {
                given,
                computed: key.key_id,
            });
        }
        Ok(key)
    }

    /// An Ed25519 (`0x01`) verifier.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`].
    pub fn ed25519(name: &str, key: ed25519_dalek::VerifyingKey) -> Result<Self, KeyError> {
        check_name(name)?;
        let key_id = key_id(name, KeyType::Ed25519, key.as_bytes());
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id,
            key: PublicKey::Ed25519(key),
        })
    }

    /// A cosignature (`0x04`) verifier.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`].
    pub fn cosignature(name: &str, key: ed25519_dalek::VerifyingKey) -> Result<Self, KeyError> {
        check_name(name)?;
        let key_id = key_id(name, KeyType::Cosignature, key.as_bytes());
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id,
            key: PublicKey::Cosignature(key),
        })
    }

    /// An ECDSA P-256 (`0x02`) verifier.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`], or [`KeyError::InvalidKey`] if the key cannot be encoded.
    pub fn ecdsa_p256(name: &str, key: &p256::ecdsa::VerifyingKey) -> Result<Self, KeyError> {
        check_name(name)?;
        let spki = key
            .to_public_key_der()
            .map_err(|_| KeyError::InvalidKey("ECDSA P-256"))?
            .as_bytes()
            .to_vec();
        let key_id = ecdsa_key_id(&spki);
        Ok(VerifierKey {
            name: name.to_owned(),
            key_id,
            key: PublicKey::EcdsaP256 { key: *key, spki },
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self.key {
            PublicKey::Ed25519(_) => KeyType::Ed25519,
            PublicKey::EcdsaP256 { .. } => KeyType::EcdsaP256,
            PublicKey::Cosignature(_) => KeyType::Cosignature,
        }
    }

    /// The public key bytes as they appear in the key string after the type byte.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match &self.key {
            PublicKey::Ed25519(k) | PublicKey::Cosignature(k) => k.as_bytes().to_vec(),
            PublicKey::EcdsaP256 { spki, .. } => spki.clone(),
        }
    }

    /// Checks `sig` (the bytes after the key id) over `msg` (the note text).
    /// For a cosignature key, `msg` is the checkpoint text and `sig` carries its timestamp.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.key {
            PublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(sig)
                .is_ok_and(|s| k.verify_strict(msg, &s).is_ok()),
            PublicKey::Cosignature(k) => {
                let Some((time, s)) = crate::cosignature::split_signature(sig) else {
                    return false;
                };
                let signed = crate::cosignature::signed_message(time, msg);
                ed25519_dalek::Signature::from_slice(s)
                    .is_ok_and(|s| k.verify_strict(&signed, &s).is_ok())
            }
            PublicKey::EcdsaP256 { key, .. } => {
                let Ok(s) = p256::ecdsa::Signature::from_der(sig) else {
                    return false;
                };
                // One signature, one byte form: canonical DER and low s only.
                if s.normalize_s() != s || s.to_der().as_bytes() != sig {
                    return false;
                }
                key.verify(msg, &s).is_ok()
            }
        }
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut data = vec![self.key_type().byte()];
        data.extend_from_slice(&self.public_key_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            BASE64.encode(data)
        )
    }
}

#[derive(Clone)]
enum PrivateKey {
    Ed25519(ed25519_dalek::SigningKey),
    EcdsaP256(p256::ecdsa::SigningKey),
    Cosignature(ed25519_dalek::SigningKey),
}

/// A private key that signs notes. Its `Debug` form never shows the secret.
#[derive(Clone)]
pub struct SignerKey {
    verifier: VerifierKey,
    key: PrivateKey,
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignerKey({}, secret redacted)", self.verifier)
    }
}

impl SignerKey {
    /// An Ed25519 signer from a 32-byte seed (the caller draws it from a CSPRNG).
    ///
    /// # Errors
    /// [`KeyError::InvalidName`].
    pub fn ed25519_from_seed(name: &str, seed: [u8; 32]) -> Result<Self, KeyError> {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let verifier = VerifierKey::ed25519(name, key.verifying_key())?;
        Ok(SignerKey {
            verifier,
            key: PrivateKey::Ed25519(key),
        })
    }

    /// A cosigning (`0x04`) signer from a 32-byte seed.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`].
    pub fn cosigner_from_seed(name: &str, seed: [u8; 32]) -> Result<Self, KeyError> {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let verifier = VerifierKey::cosignature(name, key.verifying_key())?;
        Ok(SignerKey {
            verifier,
            key: PrivateKey::Cosignature(key),
        })
    }

    /// An ECDSA P-256 signer from a 32-byte big-endian scalar.
    ///
    /// # Errors
    /// [`KeyError::InvalidKey`] if the scalar is zero or not below the group order;
    /// [`KeyError::InvalidName`].
    pub fn ecdsa_p256_from_scalar(name: &str, scalar: [u8; 32]) -> Result<Self, KeyError> {
        let key = p256::ecdsa::SigningKey::from_slice(&scalar)
            .map_err(|_| KeyError::InvalidKey("ECDSA P-256"))?;
        let verifier = VerifierKey::ecdsa_p256(name, key.verifying_key())?;
        Ok(SignerKey {
            verifier,
            key: PrivateKey::EcdsaP256(key),
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(type || private key)>`.
    ///
    /// # Errors
    /// [`KeyError`] naming what is wrong (never the secret itself).
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let rest = s.strip_prefix("PRIVATE+KEY+").ok_or(KeyError::Malformed(
            "signer key must start with PRIVATE+KEY+",
        ))?;
        let (name, given, data) = split_key_string(rest)?;
        let ty = KeyType::from_byte(data[0]).ok_or(KeyError::UnknownType(data[0]))?;
        let secret: [u8; 32] = data[1..]
            .try_into()
            .map_err(|_| KeyError::InvalidKey("private"))?;
        let key = match ty {
            KeyType::Ed25519 => Self::ed25519_from_seed(name, secret)?,
            KeyType::Cosignature => Self::cosigner_from_seed(name, secret)?,
            KeyType::EcdsaP256 => Self::ecdsa_p256_from_scalar(name, secret)?,
        };
        if key.verifier.key_id != given {
            return Err(KeyError::WrongKeyId {
                given,
                computed: key.verifier.key_id,
            });
        }
        Ok(key)
    }

    /// The signer key string. It is the secret: never log it.
    pub fn to_key_string(&self) -> String {
        let (ty, secret): (u8, Vec<u8>) = match &self.key {
            PrivateKey::Ed25519(k) => (0x01, k.to_bytes().to_vec()),
            PrivateKey::Cosignature(k) => (0x04, k.to_bytes().to_vec()),
            PrivateKey::EcdsaP256(k) => (0x02, k.to_bytes().to_vec()),
        };
        let mut data = vec![ty];
        data.extend_from_slice(&secret);
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.verifier.name,
            self.verifier.key_id,
            BASE64.encode(data)
        )
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> &VerifierKey {
        &self.verifier
    }

    /// Signs `msg` (a note text). Deterministic for both key types (Ed25519; RFC 6979).
    ///
    /// # Errors
    /// [`KeyError::WrongType`] for a cosignature key, which needs a timestamp.
    pub fn sign(&self, msg: &[u8]) -> Result<Signature, KeyError> {
        let bytes = match &self.key {
            PrivateKey::Ed25519(k) => k.sign(msg).to_bytes().to_vec(),
            PrivateKey::EcdsaP256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.normalize_s().to_der().as_bytes().to_vec()
            }
            PrivateKey::Cosignature(_) => return Err(KeyError::WrongType("Ed25519 or ECDSA")),
        };
        Ok(Signature {
            name: self.verifier.name.clone(),
            key_id: self.verifier.key_id,
            bytes,
        })
    }

    pub(crate) fn cosigning_key(&self) -> Option<&ed25519_dalek::SigningKey> {
        match &self.key {
            PrivateKey::Cosignature(k) => Some(k),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_may_hold_empty_lines_and_the_last_one_separates() {
        let k = SignerKey::ed25519_from_seed("example.com/a", [7; 32]).expect("key");
        let mut n = Note::new("first\n\nsecond\n").expect("text");
        n.sign(&k).expect("sign");
        let parsed = Note::parse(&n.to_bytes()).expect("parse");
        assert_eq!(parsed.text(), "first\n\nsecond\n");
        assert_eq!(
            parsed
                .verify(std::slice::from_ref(k.verifier()))
                .expect("verifies")
                .len(),
            1
        );
    }

    #[test]
    fn key_strings_round_trip_for_every_type() {
        let keys = [
            SignerKey::ed25519_from_seed("log", [1; 32]).expect("ed"),
            SignerKey::ecdsa_p256_from_scalar("cam", [2; 32]).expect("p256"),
            SignerKey::cosigner_from_seed("witness", [3; 32]).expect("cosig"),
        ];
        for k in keys {
            let back = SignerKey::parse(&k.to_key_string()).expect("signer parses");
            assert_eq!(back.verifier(), k.verifier());
            let v = VerifierKey::parse(&k.verifier().to_string()).expect("verifier parses");
            assert_eq!(&v, k.verifier());
            assert!(
                !format!("{k:?}").contains(&k.to_key_string()[12..]),
                "debug leaks the secret"
            );
        }
    }

    #[test]
    fn ecdsa_high_s_is_refused() {
        let k = SignerKey::ecdsa_p256_from_scalar("cam", [9; 32]).expect("key");
        let sig = k.sign(b"hello\n").expect("sign");
        assert!(k.verifier().verify(b"hello\n", &sig.bytes));
        let s = p256::ecdsa::Signature::from_der(&sig.bytes).expect("der");
        let (r, sv) = s.split_scalars();
        let high = p256::ecdsa::Signature::from_scalars(r, -*sv).expect("sig");
        assert!(!k.verifier().verify(b"hello\n", high.to_der().as_bytes()));
    }
}
