//! C2SP tlog-cosignature (<https://c2sp.org/tlog-cosignature>), `cosignature/v1`.
//!
//! A witness signs `"cosignature/v1\ntime <unix seconds>\n" || checkpoint text` with an
//! Ed25519 key of signature type `0x04`; the signature bytes in the note are the 8-byte
//! big-endian timestamp followed by the 64-byte Ed25519 signature. The timestamp is a
//! parameter: this crate reads no clock.

use ed25519_dalek::Signer as _;

use crate::note::{KeyError, Signature, SignerKey};

/// Length of a cosignature's bytes after the key id.
pub const COSIGNATURE_LEN: usize = 8 + 64;

/// The message a witness signs.
pub fn signed_message(time: u64, checkpoint_text: &[u8]) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {time}\n").into_bytes();
    m.extend_from_slice(checkpoint_text);
    m
}

/// Splits cosignature bytes into timestamp and Ed25519 signature.
pub fn split_signature(sig: &[u8]) -> Option<(u64, &[u8])> {
    if sig.len() != COSIGNATURE_LEN {
        return None;
    }
    let (t, s) = sig.split_at(8);
    Some((u64::from_be_bytes(t.try_into().ok()?), s))
}

/// The timestamp a cosignature claims, without checking it.
pub fn timestamp(sig: &Signature) -> Option<u64> {
    split_signature(&sig.bytes).map(|(t, _)| t)
}

/// Cosigns a checkpoint text at `time` (Unix seconds, supplied by the caller).
///
/// # Errors
/// [`KeyError::WrongType`] unless `key` is a cosignature (`0x04`) key.
pub fn cosign(key: &SignerKey, checkpoint_text: &str, time: u64) -> Result<Signature, KeyError> {
    let k = key
        .cosigning_key()
        .ok_or(KeyError::WrongType("cosignature (0x04)"))?;
    let sig = k.sign(&signed_message(time, checkpoint_text.as_bytes()));
    let mut bytes = time.to_be_bytes().to_vec();
    bytes.extend_from_slice(&sig.to_bytes());
    let v = key.verifier();
    Ok(Signature {
        name: v.name().to_owned(),
        key_id: v.key_id(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Note;

    #[test]
    fn a_cosignature_verifies_and_binds_its_time() {
        let w = SignerKey::cosigner_from_seed("witness.example", [5; 32]).expect("key");
        let text = "example.com/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let mut n = Note::new(text).expect("note");
        let sig = cosign(&w, text, 1_700_000_000).expect("cosign");
        assert_eq!(timestamp(&sig), Some(1_700_000_000));
        n.push_signature(sig.clone()).expect("push");
        assert!(n.verify(std::slice::from_ref(w.verifier())).is_ok());
        // Changing the claimed time breaks the signature.
        let mut forged = sig;
        forged.bytes[7] ^= 1;
        let mut n2 = Note::new(text).expect("note");
        n2.push_signature(forged).expect("push");
        assert!(n2.verify(std::slice::from_ref(w.verifier())).is_err());
        // An Ed25519 note key cannot cosign.
        let ed = SignerKey::ed25519_from_seed("log", [5; 32]).expect("key");
        assert!(cosign(&ed, text, 1).is_err());
    }
}
