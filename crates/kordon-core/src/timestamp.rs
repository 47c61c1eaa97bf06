//! RFC 3161 time-stamp tokens over checkpoints (`docs/spec/timestamps.md`): the request a
//! server sends a time-stamping authority (TSA), and the check of a token — the CMS
//! signature, the TSA's certificate chain up to a root the checker trusts (valid at the
//! token's time), the message imprint against the checkpoint text. The check itself is
//! `sigstore-tsa`'s; this module fixes what is stamped and how trust is given.

use crate::time::Timestamp;

/// Why a token does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The trust anchors could not be read.
    #[error("TSA certificate chain: {0}")]
    Chain(String),
    /// The token is for another message (another checkpoint).
    #[error("the token is for another message: its imprint {expected} is not {actual}")]
    Imprint {
        /// The imprint in the token.
        expected: String,
        /// The SHA-256 of the message it was checked against.
        actual: String,
    },
    /// Not signed by the TSA, the chain does not lead to the root, a certificate was not
    /// valid at the token's time, or the token cannot be read.
    #[error("{0}")]
    Invalid(String),
}

/// A TSA the checker trusts: its signing certificate, intermediates and root (DER).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsaChain {
    /// The certificates, signing certificate first, root last.
    pub certs: Vec<Vec<u8>>,
}

impl TsaChain {
    /// Reads a PEM file of the chain: the TSA's signing certificate first, then any
    /// intermediates, the root last (a self-signed signing certificate alone is allowed).
    ///
    /// # Errors
    /// [`TimestampError::Chain`] if it holds no certificate or is not PEM.
    pub fn from_pem(pem: &[u8]) -> Result<Self, TimestampError> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject as _;
        let certs = CertificateDer::pem_slice_iter(pem)
            .map(|c| c.map(|c| c.as_ref().to_vec()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TimestampError::Chain(format!("not PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(TimestampError::Chain("no certificate".into()));
        }
        Ok(TsaChain { certs })
    }

    /// The chain as PEM.
    pub fn to_pem(&self) -> String {
        use base64::Engine as _;
        let mut out = String::new();
        for c in &self.certs {
            out.push_str("-----BEGIN CERTIFICATE-----\n");
            let b = base64::engine::general_purpose::STANDARD.encode(c);
            for line in b.as_bytes().chunks(64) {
                out.push_str(&String::from_utf8_lossy(line));
                out.push('\n');
            }
            out.push_str("-----END CERTIFICATE-----\n");
        }
        out
    }
}

/// The DER `TimeStampReq` (RFC 3161 §2.4.1) for `message`: version 1, a SHA-256 message
/// imprint, no policy, no nonce (the message — a checkpoint — is itself unique), and
/// `certReq` true so the token carries the TSA's certificate.
pub fn request(message: &[u8]) -> Vec<u8> {
    const SHA256_ALG: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
    ];
    let digest = crate::sha256(message);
    let mut imprint = vec![0x30, 0x31];
    imprint.extend_from_slice(&SHA256_ALG);
    imprint.extend_from_slice(&[0x04, 0x20]);
    imprint.extend_from_slice(&digest.0);
    let mut body = vec![0x02, 0x01, 0x01];
    body.extend_from_slice(&imprint);
    body.extend_from_slice(&[0x01, 0x01, 0xff]);
    let mut out = vec![0x30, body.len() as u8];
    out.extend_from_slice(&body);
    out
}

/// Checks `token` (a DER `TimeStampResp` or `TimeStampToken`) over `message` against the
/// TSA `chain`; answers the time the TSA states.
///
/// # Errors
/// [`TimestampError`] naming what does not hold.
pub fn verify(token: &[u8], message: &[u8], chain: &TsaChain) -> Result<Timestamp, TimestampError> {
    use sigstore_types::{DerCertificate, SignatureBytes, TimestampToken, TsaAuthority};
    let (Some(leaf), Some(root)) = (chain.certs.first(), chain.certs.last()) else {
        return Err(TimestampError::Chain("no certificate".into()));
    };
    let middle = if chain.certs.len() > 2 {
        chain.certs[1..chain.certs.len() - 1]
            .iter()
            .map(|c| DerCertificate::from(c.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let authority = TsaAuthority::new(
        DerCertificate::from(leaf.clone()),
        middle,
        DerCertificate::from(root.clone()),
        None,
    );
    let time = sigstore_tsa::verify_timestamp_for_authority(
        &TimestampToken::from(token.to_vec()),
        &SignatureBytes::from(message.to_vec()),
        &authority,
    )
    .map_err(|e| match e {
        sigstore_tsa::Error::HashMismatch { expected, actual } => {
            TimestampError::Imprint { expected, actual }
        }
        other => TimestampError::Invalid(other.to_string()),
    })?;
    Ok(Timestamp(time.as_millisecond()))
}

/// Where time-stamp files are in an evidence package (not in its contents list: they are
/// made after the export event, like the proofs).
pub const PACKAGE_DIR: &str = "timestamps/";

/// One file under [`PACKAGE_DIR`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageFile {
    /// `timestamps/<size>.<tsa>.tsr`: the token of authority `tsa` over the checkpoint of `size`.
    Token {
        /// The checkpoint's size.
        size: u64,
        /// The authority's name.
        tsa: String,
    },
    /// `timestamps/<size>.checkpoint`: the signed checkpoint of that size.
    Checkpoint(u64),
    /// `timestamps/<size>.consistency`: a consistency proof from that size to the
    /// package's checkpoint, one base64 hash a line.
    Consistency(u64),
    /// `timestamps/<tsa>.pem`: the certificates the authority's tokens carry.
    Chain(String),
}

impl PackageFile {
    /// Its path.
    pub fn path(&self) -> String {
        match self {
            PackageFile::Token { size, tsa } => format!("{PACKAGE_DIR}{size}.{tsa}.tsr"),
            PackageFile::Checkpoint(size) => format!("{PACKAGE_DIR}{size}.checkpoint"),
            PackageFile::Consistency(size) => format!("{PACKAGE_DIR}{size}.consistency"),
            PackageFile::Chain(tsa) => format!("{PACKAGE_DIR}{tsa}.pem"),
        }
    }

    /// Reads a path back; `None` for anything else.
    pub fn parse(path: &str) -> Option<Self> {
        let name = path.strip_prefix(PACKAGE_DIR)?;
        let is_name = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        let size = |n: &str| n.parse::<u64>().ok().filter(|s| s.to_string() == n);
        let f = if let Some(rest) = name.strip_suffix(".tsr") {
            let (n, tsa) = rest.split_once('.')?;
            PackageFile::Token {
                size: size(n)?,
                tsa: is_name(tsa).then(|| tsa.to_owned())?,
            }
        } else if let Some(n) = name.strip_suffix(".checkpoint") {
            PackageFile::Checkpoint(size(n)?)
        } else if let Some(n) = name.strip_suffix(".consistency") {
            PackageFile::Consistency(size(n)?)
        } else {
            let tsa = name.strip_suffix(".pem")?;
            PackageFile::Chain(is_name(tsa).then(|| tsa.to_owned())?)
        };
        (f.path() == path).then_some(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_is_one_der_sequence_with_the_imprint() {
        let r = request(b"checkpoint");
        assert_eq!(r.len(), 2 + r[1] as usize);
        assert_eq!(r.len(), 59);
        assert_eq!(
            &r[r.len() - 35..r.len() - 3],
            &crate::sha256(b"checkpoint").0
        );
    }

    #[test]
    fn package_paths_read_back_and_nothing_else_does() {
        for f in [
            PackageFile::Token {
                size: 120,
                tsa: "qtsp-1".into(),
            },
            PackageFile::Checkpoint(120),
            PackageFile::Consistency(7),
            PackageFile::Chain("qtsp-1".into()),
        ] {
            assert_eq!(PackageFile::parse(&f.path()), Some(f));
        }
        for bad in [
            "timestamps/0120.qtsp.tsr",
            "timestamps/120.QTSP.tsr",
            "timestamps/120.tsr",
            "timestamps/x.checkpoint",
            "timestamps/a/b.pem",
            "proofs/120.checkpoint",
        ] {
            assert_eq!(PackageFile::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_chain_that_is_not_pem_is_named() {
        assert_eq!(
            TsaChain::from_pem(b"nothing here"),
            Err(TimestampError::Chain("no certificate".into()))
        );
    }
}
