//! The 32-byte SHA-256 value used everywhere: Merkle nodes, segment digests, link hashes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest as _, Sha256};

/// A SHA-256 output. Shown as lowercase hex by `Display` and `Debug`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

/// The value of a hash string that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// Not exactly 64 lowercase hex digits.
    #[error("expected 64 lowercase hex digits")]
    Hex,
    /// Not canonical standard base64 of exactly 32 bytes.
    #[error("expected standard padded base64 of 32 bytes")]
    Base64,
}

impl Hash {
    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly 64 lowercase hex digits (uppercase is refused: one value, one spelling).
    ///
    /// # Errors
    /// [`HashParseError::Hex`] for any other input.
    pub fn from_hex(s: &str) -> Result<Self, HashParseError> {
        if s.len() != 64
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(HashParseError::Hex);
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| HashParseError::Hex)?;
        Ok(Hash(out))
    }

    /// Standard padded base64 (44 characters), as in checkpoints and proofs.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Parses canonical standard padded base64 of exactly 32 bytes.
    ///
    /// # Errors
    /// [`HashParseError::Base64`] for any other input.
    pub fn from_base64(s: &str) -> Result<Self, HashParseError> {
        let bytes = BASE64.decode(s).map_err(|_| HashParseError::Base64)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| HashParseError::Base64)?;
        Ok(Hash(arr))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash {
    Hash(Sha256::digest(data).into())
}

/// SHA-256 over several byte strings, as if they were concatenated.
pub fn sha256_parts(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Hash(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_round_trip_and_reject_other_spellings() {
        let h = sha256(b"");
        assert_eq!(
            h.to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Hash::from_hex(&h.to_hex()), Ok(h));
        assert_eq!(
            Hash::from_hex(&h.to_hex().to_uppercase()),
            Err(HashParseError::Hex)
        );
        assert_eq!(Hash::from_hex("00"), Err(HashParseError::Hex));
        assert_eq!(Hash::from_base64(&h.to_base64()), Ok(h));
        assert_eq!(Hash::from_base64("AAAA"), Err(HashParseError::Base64));
        // Unpadded base64 of the right length is still refused.
        let unpadded = h.to_base64().trim_end_matches('=').to_string();
        assert_eq!(Hash::from_base64(&unpadded), Err(HashParseError::Base64));
    }
}
