//! Content-addressed blob store on a local folder.
//!
//! Layout under the root: `sha256/<2 hex>/<64 hex>` for stored blobs, `tmp/` for uploads
//! in progress. A write streams into `tmp/`, hashing as it goes (memory does not grow with
//! the blob), checks size and SHA-256 against what the manifest promised, fsyncs the file,
//! hard-links it into place (which fails rather than overwrite) and fsyncs the directory.
//! A blob that is already there is never written again. Leftovers in `tmp/` from a crash
//! are removed when the store opens.

use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use kordon_core::Hash;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

/// Why a blob was not stored.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// More or fewer bytes than promised.
    #[error("body is {got} bytes, the manifest says {expected}")]
    SizeMismatch {
        /// Size from the manifest.
        expected: u64,
        /// Bytes received (for a body that was too long: the count when reading stopped).
        got: u64,
    },
    /// The bytes do not hash to what was promised.
    #[error("body has SHA-256 {got}, the manifest says {expected}")]
    HashMismatch {
        /// Hash from the manifest.
        expected: Hash,
        /// Hash of the bytes received.
        got: Hash,
    },
    /// The body stream failed (client went away, timeout).
    #[error("upload interrupted: {0}")]
    Interrupted(String),
    /// No space left on the device.
    #[error("storage is full")]
    DiskFull,
    /// Any other IO error.
    #[error("blob store IO: {0}")]
    Io(#[source] io::Error),
    /// The object store failed or cannot be reached (retry later).
    #[error("object store: {0}")]
    Store(String),
    /// The object store refuses: the object is under Object Lock retention or legal hold.
    #[error("locked by the object store: {0}")]
    Locked(String),
}

impl From<io::Error> for BlobError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::StorageFull {
            BlobError::DiskFull
        } else {
            BlobError::Io(e)
        }
    }
}

/// What a put did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The blob was written now.
    Stored,
    /// A blob with that hash was already stored; nothing was written.
    AlreadyStored,
}

mod s3;
#[doc(hidden)]
pub mod testing;
pub use s3::{S3BlobStore, S3Settings, create_bucket};

/// The checks of a body as it arrives: no more bytes than the manifest says, then exactly
/// as many, hashing to its SHA-256.
struct BodyCheck {
    size: u64,
    sha256: Hash,
    hasher: Sha256,
    got: u64,
}

impl BodyCheck {
    fn new(size: u64, sha256: Hash) -> Self {
        BodyCheck {
            size,
            sha256,
            hasher: Sha256::new(),
            got: 0,
        }
    }

    fn take(&mut self, chunk: &[u8]) -> Result<(), BlobError> {
        self.got += chunk.len() as u64;
        if self.got > self.size {
            return Err(BlobError::SizeMismatch {
                expected: self.size,
                got: self.got,
            });
        }
        self.hasher.update(chunk);
        Ok(())
    }

    fn finish(self) -> Result<(), BlobError> {
        if self.got != self.size {
            return Err(BlobError::SizeMismatch {
                expected: self.size,
                got: self.got,
            });
        }
        let actual = Hash(self.hasher.finalize().into());
        if actual != self.sha256 {
            return Err(BlobError::HashMismatch {
                expected: self.sha256,
                got: actual,
            });
        }
        Ok(())
    }
}

/// Reads a body to its end and checks it against the manifest's size and SHA-256 without
/// storing it: bytes already stored under that hash, sent by a link that must still prove
/// it has them (a camera cannot claim another's footage by naming its hash).
///
/// # Errors
/// As [`BlobStore::put_stream`]: a size or hash that does not match, an interrupted body.
pub async fn check_body<S, E>(size: u64, sha256: Hash, mut body: S) -> Result<(), BlobError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut check = BodyCheck::new(size, sha256);
    while let Some(chunk) = body.next().await {
        check.take(&chunk.map_err(|e| BlobError::Interrupted(e.to_string()))?)?;
    }
    check.finish()
}

/// A checked upload on local disk, removed when dropped (whether or not it was moved on).
struct Spooled(PathBuf);

impl Spooled {
    /// Streams `body` into a new file in `dir`, checking that it is exactly `size` bytes
    /// with SHA-256 `sha256` (stops reading as soon as it is longer), then fsyncs it. On any
    /// error nothing is left behind.
    async fn write<S, E>(
        dir: &Path,
        size: u64,
        sha256: Hash,
        mut body: S,
    ) -> Result<Self, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let name =
            hex::encode(crate::random_bytes().map_err(|e| BlobError::Io(io::Error::other(e)))?);
        let spooled = Spooled(dir.join(name));
        let mut file = tokio::fs::File::create(&spooled.0).await?;
        let mut check = BodyCheck::new(size, sha256);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| BlobError::Interrupted(e.to_string()))?;
            check.take(&chunk)?;
            file.write_all(&chunk).await?;
        }
        check.finish()?;
        file.sync_all().await?;
        Ok(spooled)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A blob being read: its whole size, the byte range served, and the bytes.
pub struct BlobRead {
    /// Size of the whole blob.
    pub size: u64,
    /// The range of it in `body`.
    pub range: std::ops::Range<u64>,
    /// The bytes.
    pub body: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>,
}

/// The blob store on a local folder.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

async fn sync_dir(dir: &Path) -> io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

impl FsBlobStore {
    /// Opens (creating if needed) a store under `root` and clears unfinished uploads.
    ///
    /// # Errors
    /// IO errors creating or cleaning the folders.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        let tmp = root.join("tmp");
        if tmp.exists() {
            tokio::fs::remove_dir_all(&tmp).await?;
        }
        tokio::fs::create_dir_all(&tmp).await?;
        tokio::fs::create_dir_all(root.join("sha256")).await?;
        Ok(FsBlobStore { root })
    }

    /// Where the blob with this hash lives (whether or not it exists).
    pub fn path(&self, hash: &Hash) -> PathBuf {
        let hex = hash.to_hex();
        self.root.join("sha256").join(&hex[..2]).join(hex)
    }

    /// Whether a blob with this hash is stored.
    pub async fn contains(&self, hash: &Hash) -> bool {
        tokio::fs::try_exists(self.path(hash))
            .await
            .unwrap_or(false)
    }

    /// Streams `body` into the store, checking that it is exactly `size` bytes with
    /// SHA-256 `sha256`. Stops reading as soon as the body is longer than promised.
    ///
    /// # Errors
    /// [`BlobError`]; on any error nothing is left behind.
    pub async fn put_stream<S, E>(
        &self,
        size: u64,
        sha256: Hash,
        body: S,
    ) -> Result<PutOutcome, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        if self.contains(&sha256).await {
            return Ok(PutOutcome::AlreadyStored);
        }
        let tmp = Spooled::write(&self.root.join("tmp"), size, sha256, body).await?;
        let dest = self.path(&sha256);
        let dir = dest
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir).await?;
        let outcome = match tokio::fs::hard_link(tmp.path(), &dest).await {
            Ok(()) => PutOutcome::Stored,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => PutOutcome::AlreadyStored,
            Err(e) => return Err(e.into()),
        };
        drop(tmp);
        sync_dir(&dir).await?;
        Ok(outcome)
    }

    /// Deletes a blob's bytes (retention only; the caller has written the tombstone).
    /// A blob that is already gone is not an error.
    ///
    /// # Errors
    /// IO errors.
    pub async fn purge(&self, hash: &Hash) -> Result<(), BlobError> {
        let p = self.path(hash);
        match tokio::fs::remove_file(&p).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        if let Some(dir) = p.parent() {
            sync_dir(dir).await?;
        }
        Ok(())
    }

    /// Moves a blob whose bytes do not match its hash aside, to `quarantine/<hex>`, so
    /// that it is neither served nor lost. Returns where it went.
    ///
    /// # Errors
    /// IO errors.
    pub async fn quarantine(&self, hash: &Hash) -> Result<PathBuf, BlobError> {
        let dir = self.root.join("quarantine");
        tokio::fs::create_dir_all(&dir).await?;
        let to = dir.join(format!("{}-{}", hash.to_hex(), crate::now_ms()));
        tokio::fs::rename(self.path(hash), &to).await?;
        sync_dir(&dir).await?;
        Ok(to)
    }

    /// Re-reads a stored blob and checks its hash (for scrubbing and before export).
    ///
    /// # Errors
    /// IO errors; a missing blob is `Ok(false)`.
    pub async fn verify(&self, hash: &Hash) -> Result<bool, BlobError> {
        use tokio::io::AsyncReadExt as _;
        let mut f = match tokio::fs::File::open(self.path(hash)).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = f.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(Hash(hasher.finalize().into()) == *hash)
    }
}

/// Where segments are kept: a local folder (the embedded default) or an S3-compatible
/// bucket with Object Lock. The server only calls these methods.
#[derive(Debug, Clone)]
pub enum BlobStore {
    /// A local folder.
    Fs(FsBlobStore),
    /// A bucket.
    S3(S3BlobStore),
}

impl BlobStore {
    /// Whether a blob with this hash is stored.
    pub async fn contains(&self, hash: &Hash) -> bool {
        match self {
            BlobStore::Fs(s) => s.contains(hash).await,
            BlobStore::S3(s) => s.contains(hash).await,
        }
    }

    /// Streams a checked blob in (see [`FsBlobStore::put_stream`]).
    ///
    /// # Errors
    /// [`BlobError`]; on any error nothing is stored.
    pub async fn put_stream<S, E>(
        &self,
        size: u64,
        sha256: Hash,
        body: S,
    ) -> Result<PutOutcome, BlobError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        match self {
            BlobStore::Fs(s) => s.put_stream(size, sha256, body).await,
            BlobStore::S3(s) => s.put_stream(size, sha256, body).await,
        }
    }

    /// Deletes a blob's bytes (retention only). In a bucket the store itself refuses
    /// while its lock or a legal hold holds ([`BlobError::Locked`]).
    ///
    /// # Errors
    /// [`BlobError`].
    pub async fn purge(&self, hash: &Hash) -> Result<(), BlobError> {
        match self {
            BlobStore::Fs(s) => s.purge(hash).await,
            BlobStore::S3(s) => s.purge(hash).await,
        }
    }

    /// Sets or releases a legal hold on the stored bytes (a bucket enforces it; a folder
    /// relies on kordon's own holds).
    ///
    /// # Errors
    /// [`BlobError`].
    pub async fn legal_hold(&self, hash: &Hash, on: bool) -> Result<(), BlobError> {
        match self {
            BlobStore::Fs(_) => Ok(()),
            BlobStore::S3(s) => s.legal_hold(hash, on).await,
        }
    }

    /// Re-reads a stored blob and checks its hash; a missing blob is `Ok(false)`.
    ///
    /// # Errors
    /// [`BlobError`].
    pub async fn verify(&self, hash: &Hash) -> Result<bool, BlobError> {
        match self {
            BlobStore::Fs(s) => s.verify(hash).await,
            BlobStore::S3(s) => s.verify(hash).await,
        }
    }

    /// Sets a blob whose bytes do not match its hash aside; answers what was done. A
    /// folder moves it to `quarantine/`; a bucket cannot move a locked object, so it is
    /// left in place (flagged by the caller, and every reader checks the hash anyway).
    ///
    /// # Errors
    /// [`BlobError`].
    pub async fn quarantine(&self, hash: &Hash) -> Result<String, BlobError> {
        match self {
            BlobStore::Fs(s) => Ok(format!("moved to {}", s.quarantine(hash).await?.display())),
            BlobStore::S3(_) => Ok("left in the bucket under its Object Lock, flagged".into()),
        }
    }

    /// The size of a stored blob; `None` if it is not stored.
    ///
    /// # Errors
    /// [`BlobError`].
    pub async fn size(&self, hash: &Hash) -> Result<Option<u64>, BlobError> {
        match self {
            BlobStore::Fs(s) => match tokio::fs::metadata(s.path(hash)).await {
                Ok(m) => Ok(Some(m.len())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
            BlobStore::S3(s) => s.size(hash).await,
        }
    }

    /// A readable local file with the blob's bytes: the stored file itself in a folder
    /// store, or a copy fetched into `spool` from a bucket (the caller removes it; the
    /// second value says whether it is a copy).
    ///
    /// # Errors
    /// [`BlobError`]; a blob that is not stored is an IO `NotFound`.
    pub async fn local_file(
        &self,
        hash: &Hash,
        spool: &Path,
    ) -> Result<(PathBuf, bool), BlobError> {
        match self {
            BlobStore::Fs(s) => Ok((s.path(hash), false)),
            BlobStore::S3(s) => {
                let Some(mut r) = s.read(hash, None).await? else {
                    return Err(BlobError::Io(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("no stored blob {hash}"),
                    )));
                };
                tokio::fs::create_dir_all(spool).await?;
                let to = spool.join(format!(".fetch-{}", hash.to_hex()));
                let mut f = tokio::fs::File::create(&to).await?;
                while let Some(chunk) = r.body.next().await {
                    f.write_all(&chunk?).await?;
                }
                f.sync_all().await?;
                Ok((to, true))
            }
        }
    }

    /// The bytes of a blob, or a range of them; `None` if not stored.
    ///
    /// # Errors
    /// [`BlobError`].
    pub async fn read(
        &self,
        hash: &Hash,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<Option<BlobRead>, BlobError> {
        match self {
            BlobStore::Fs(s) => {
                use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
                let mut f = match tokio::fs::File::open(s.path(hash)).await {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                let size = f.metadata().await?.len();
                let range = range.unwrap_or(0..size);
                f.seek(std::io::SeekFrom::Start(range.start)).await?;
                let left = range.end.saturating_sub(range.start);
                let body = futures_util::stream::unfold((f, left), |(mut f, left)| async move {
                    if left == 0 {
                        return None;
                    }
                    let mut buf = vec![0u8; usize::try_from(left.min(1 << 16)).unwrap_or(1 << 16)];
                    match f.read(&mut buf).await {
                        Ok(0) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            Some((Ok(Bytes::from(buf)), (f, left - n as u64)))
                        }
                        Err(e) => Some((Err(e), (f, 0))),
                    }
                });
                Ok(Some(BlobRead {
                    size,
                    range,
                    body: Box::pin(body),
                }))
            }
            BlobStore::S3(s) => s.read(hash, range).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kordon_core::sha256;

    fn body(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn stores_once_and_refuses_wrong_bytes() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = FsBlobStore::open(dir.path()).await.expect("open");
        let h = sha256(b"hello world");
        assert_eq!(
            store
                .put_stream(11, h, body(&[b"hello ", b"world"]))
                .await
                .expect("put"),
            PutOutcome::Stored
        );
        assert_eq!(
            store
                .put_stream(11, h, body(&[b"whatever"]))
                .await
                .expect("put"),
            PutOutcome::AlreadyStored
        );
        assert!(store.verify(&h).await.expect("verify"));

        let h2 = sha256(b"other");
        assert!(matches!(
            store.put_stream(5, h2, body(&[b"othe", b"R"])).await,
            Err(BlobError::HashMismatch { .. })
        ));
        assert!(matches!(
            store.put_stream(5, h2, body(&[b"other", b"!"])).await,
            Err(BlobError::SizeMismatch {
                expected: 5,
                got: 6
            })
        ));
        assert!(matches!(
            store.put_stream(5, h2, body(&[b"oth"])).await,
            Err(BlobError::SizeMismatch {
                expected: 5,
                got: 3
            })
        ));
        assert!(!store.contains(&h2).await);
        // Nothing half-written is left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp"))
                .expect("tmp")
                .count(),
            0
        );

        // A flipped byte on disk is caught by verify.
        let p = store.path(&h);
        let mut bytes = std::fs::read(&p).expect("read");
        bytes[0] ^= 1;
        std::fs::write(&p, bytes).expect("write");
        assert!(!store.verify(&h).await.expect("verify"));
    }
}
