//! Signer and verifier keys: C2SP key strings, Ed25519, ECDSA P-256 and cosignature
//! (type 0x04) keys, their ids and signatures.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::Signer as _;
use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::{DecodePublicKey as _, EncodePublicKey as _};

use super::{KeyError, KeyType, NoteError, Signature, ecdsa_key_id, is_valid_key_name, key_id};

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
    pub(super) name: String,
    pub(super) key_id: u32,
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
