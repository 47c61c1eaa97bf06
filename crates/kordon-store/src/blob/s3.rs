//! Blobs in an S3-compatible object store, with Object Lock.
//!
//! Keys are `sha256/<2 hex>/<64 hex>` as on disk. A write is first spooled to a local
//! file and checked (size, SHA-256) exactly as in the folder store, then uploaded
//! create-only (`If-None-Match: *`; a second writer gets `AlreadyStored`), then given a
//! COMPLIANCE retention until `lock_s` seconds from now, so that nobody — an administrator
//! with the storage credentials included — can delete or overwrite that version before
//! kordon's retention period ends. Legal holds (cases) are set and released on the
//! object version; the retention purge deletes the version itself (a plain delete would
//! only hide it behind a delete marker) and is refused by the store while a lock or a
//! hold holds.
//!
//! `object_store` does the reads and writes; Object Lock calls (retention, legal hold,
//! versioned delete, bucket checks), which it does not offer, are signed with its
//! `AwsAuthorizer` and sent with reqwest.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use kordon_core::Hash;
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::path::Path as Key;
use object_store::{
    ClientOptions, GetOptions, GetRange, ObjectStore as _, ObjectStoreExt as _, PutMode,
    PutOptions, PutPayload,
};
use sha2::{Digest as _, Sha256};

use super::{BlobError, PutOutcome, Spooled};

/// Where the bucket is and how to reach it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct S3Settings {
    /// Endpoint URL, e.g. `https://s3.eu-central-1.amazonaws.com` or `http://127.0.0.1:9000`.
    pub endpoint: String,
    /// Bucket (created with Object Lock enabled; kordon refuses one without).
    pub bucket: String,
    /// Region.
    #[serde(default = "default_region")]
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key (never logged).
    pub secret_access_key: String,
}

fn default_region() -> String {
    "us-east-1".into()
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// The blob store in a bucket.
#[derive(Debug, Clone)]
pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    settings: Arc<S3Settings>,
    http: reqwest::Client,
    spool: PathBuf,
    lock_s: u64,
}

/// Uploads above this size go in parts (memory stays flat).
const SINGLE_PUT_MAX: u64 = 32 << 20;

fn key(hash: &Hash) -> Key {
    let hex = hash.to_hex();
    Key::from(format!("sha256/{}/{hex}", &hex[..2]))
}

fn store_err(e: object_store::Error) -> BlobError {
    BlobError::Store(e.to_string())
}

impl S3BlobStore {
    /// Connects to the bucket, checks that Object Lock is enabled on it, and spools
    /// uploads under `spool` (cleared of leftovers). Every object written is locked in
    /// COMPLIANCE mode for `lock_s` seconds.
    ///
    /// # Errors
    /// [`BlobError::Store`] if the bucket cannot be reached or has no Object Lock; IO
    /// errors on the spool.
    pub async fn open(
        settings: S3Settings,
        spool: PathBuf,
        lock_s: u64,
    ) -> Result<Self, BlobError> {
        if spool.exists() {
            tokio::fs::remove_dir_all(&spool).await?;
        }
        tokio::fs::create_dir_all(&spool).await?;
        let mut headers = reqwest::header::HeaderMap::new();
        // Object Lock buckets require a checksum on PUT; object_store sends the SHA-256
        // one but not the header that names it.
        headers.insert(
            "x-amz-sdk-checksum-algorithm",
            reqwest::header::HeaderValue::from_static("SHA256"),
        );
        let store = AmazonS3Builder::new()
            .with_endpoint(&settings.endpoint)
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_checksum_algorithm(object_store::aws::Checksum::SHA256)
            // A camera waiting on an unreachable store should hear so within seconds
            // and retry itself, not hang for the default three minutes.
            .with_retry(object_store::RetryConfig {
                max_retries: 3,
                retry_timeout: std::time::Duration::from_secs(10),
                ..Default::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_allow_http(settings.endpoint.starts_with("http://"))
                    .with_default_headers(headers),
            )
            .build()
            .map_err(store_err)?;
        let s = S3BlobStore {
            store: Arc::new(store),
            settings: Arc::new(settings),
            http: reqwest::Client::new(),
            spool,
            lock_s,
        };
        let (status, body) = s
            .signed(reqwest::Method::GET, None, "object-lock", Bytes::new())
            .await?;
        if !status.is_success() || !body.contains("Enabled") {
            return Err(BlobError::Store(format!(
                "bucket {} has no Object Lock (GET ?object-lock answered {status}): create it with Object Lock enabled",
                s.settings.bucket
            )));
        }
        Ok(s)
    }

    async fn signed(
        &self,
        method: reqwest::Method,
        object: Option<&Key>,
        query: &str,
        body: Bytes,
    ) -> Result<(reqwest::StatusCode, String), BlobError> {
        signed(&self.http, &self.settings, method, object, query, body, &[]).await
    }

    /// Whether a blob with this hash is stored.
    pub async fn contains(&self, hash: &Hash) -> bool {
        self.store.head(&key(hash)).await.is_ok()
    }

    /// The size of a stored blob, `None` if it is not stored.
    ///
    /// # Errors
    /// [`BlobError::Store`] when the store cannot be reached.
    pub async fn size(&self, hash: &Hash) -> Result<Option<u64>, BlobError> {
        match self.store.head(&key(hash)).await {
            Ok(m) => Ok(Some(m.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Streams `body` in, checked as in the folder store, then uploads it create-only
    /// and locks it.
    ///
    /// # Errors
    /// [`BlobError`]; on any error nothing is stored (the spool file is removed).
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
        let tmp = Spooled::write(&self.spool, size, sha256, body).await?;
        self.upload(tmp.path(), size, &sha256).await
    }

    async fn upload(
        &self,
        file: &std::path::Path,
        size: u64,
        sha256: &Hash,
    ) -> Result<PutOutcome, BlobError> {
        let k = key(sha256);
        if size <= SINGLE_PUT_MAX {
            let bytes = Bytes::from(tokio::fs::read(file).await?);
            return self.put_immutable(k.as_ref(), bytes).await;
        }
        // Large: in parts, memory flat (the earlier `contains` check stands in for
        // create-only, which multipart uploads do not offer).
        use tokio::io::AsyncReadExt as _;
        let upload = self.store.put_multipart(&k).await.map_err(store_err)?;
        let mut w = object_store::WriteMultipart::new_with_chunk_size(upload, 16 << 20);
        let mut f = tokio::fs::File::open(file).await?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            w.wait_for_capacity(4).await.map_err(store_err)?;
            w.write(&buf[..n]);
        }
        let put = w.finish().await.map_err(store_err)?;
        self.lock(&k, put.version.as_deref()).await?;
        Ok(PutOutcome::Stored)
    }

    fn version_query(what: &str, version: Option<&str>) -> String {
        match version {
            Some(v) => format!("{what}&versionId={}", url_encode(v)),
            None => what.to_owned(),
        }
    }

    /// COMPLIANCE retention on the stored version until `lock_s` from now (none when
    /// `lock_s` is 0: then only legal holds and kordon's own rules protect it).
    async fn lock(&self, k: &Key, version: Option<&str>) -> Result<(), BlobError> {
        if self.lock_s == 0 {
            return Ok(());
        }
        let until = jiff::Timestamp::now()
            + jiff::SignedDuration::from_secs(i64::try_from(self.lock_s).unwrap_or(i64::MAX / 2));
        let body = format!(
            "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode><RetainUntilDate>{}</RetainUntilDate></Retention>",
            until.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        );
        let (st, text) = self
            .signed(
                reqwest::Method::PUT,
                Some(k),
                &Self::version_query("retention", version),
                Bytes::from(body),
            )
            .await?;
        if !st.is_success() {
            return Err(BlobError::Store(format!("locking {k}: {st} {text}")));
        }
        Ok(())
    }

    async fn version_of(&self, hash: &Hash) -> Result<Option<Option<String>>, BlobError> {
        match self.store.head(&key(hash)).await {
            Ok(m) => Ok(Some(m.version)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Sets or releases the legal hold on a stored blob (a case opened or closed).
    ///
    /// # Errors
    /// [`BlobError::Store`]; a blob that is not stored is an error too.
    pub async fn legal_hold(&self, hash: &Hash, on: bool) -> Result<(), BlobError> {
        let version = self
            .version_of(hash)
            .await?
            .ok_or_else(|| BlobError::Store(format!("no object {}", key(hash))))?;
        let body = format!(
            "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>{}</Status></LegalHold>",
            if on { "ON" } else { "OFF" }
        );
        let (st, text) = self
            .signed(
                reqwest::Method::PUT,
                Some(&key(hash)),
                &Self::version_query("legal-hold", version.as_deref()),
                Bytes::from(body),
            )
            .await?;
        if !st.is_success() {
            return Err(BlobError::Store(format!(
                "legal hold on {}: {st} {text}",
                key(hash)
            )));
        }
        Ok(())
    }

    /// Deletes a blob's stored version (retention only; the caller has written the
    /// tombstone). The store refuses while its lock or a legal hold holds:
    /// [`BlobError::Locked`]. A blob that is already gone is not an error.
    ///
    /// # Errors
    /// [`BlobError::Locked`], [`BlobError::Store`].
    pub async fn purge(&self, hash: &Hash) -> Result<(), BlobError> {
        let Some(version) = self.version_of(hash).await? else {
            return Ok(());
        };
        let k = key(hash);
        let (st, text) = self
            .signed(
                reqwest::Method::DELETE,
                Some(&k),
                Self::version_query("", version.as_deref()).trim_start_matches('&'),
                Bytes::new(),
            )
            .await?;
        match st.as_u16() {
            200 | 204 => Ok(()),
            403 => Err(BlobError::Locked(format!("{k}: {text}"))),
            _ => Err(BlobError::Store(format!("deleting {k}: {st} {text}"))),
        }
    }

    /// The bytes of a blob, or of `range` of it, as a stream, with the blob's size and the
    /// range served.
    ///
    /// # Errors
    /// [`BlobError::Store`]; `Ok(None)` if it is not stored.
    pub async fn read(
        &self,
        hash: &Hash,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<Option<super::BlobRead>, BlobError> {
        let opts = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        match self.store.get_opts(&key(hash), opts).await {
            Ok(r) => Ok(Some(super::BlobRead {
                size: r.meta.size,
                range: r.range.clone(),
                body: Box::pin(
                    r.into_stream()
                        .map(|c| c.map_err(|e| std::io::Error::other(e.to_string()))),
                ),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Writes an immutable file of the log (a tile) under `key`, create-only and locked
    /// like a segment; one already there is left as it is.
    ///
    /// # Errors
    /// [`BlobError::Store`].
    pub async fn put_immutable(
        &self,
        key: &str,
        bytes: impl Into<Bytes>,
    ) -> Result<PutOutcome, BlobError> {
        let k = Key::from(key);
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(&k, PutPayload::from(bytes.into()), opts)
            .await
        {
            Ok(r) => {
                self.lock(&k, r.version.as_deref()).await?;
                Ok(PutOutcome::Stored)
            }
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(PutOutcome::AlreadyStored),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Writes a file that changes (the log's latest checkpoint) under `key`; every
    /// version stays in the bucket's history.
    ///
    /// # Errors
    /// [`BlobError::Store`].
    pub async fn put_latest(&self, key: &str, bytes: impl Into<Bytes>) -> Result<(), BlobError> {
        self.store
            .put(&Key::from(key), PutPayload::from(bytes.into()))
            .await
            .map(|_| ())
            .map_err(store_err)
    }

    /// The bytes under `key`; `None` if there are none.
    ///
    /// # Errors
    /// [`BlobError::Store`].
    pub async fn get_file(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        match self.store.get(&Key::from(key)).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(store_err)?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_err(e)),
        }
    }

    /// Re-reads a stored blob and checks its hash; a missing blob is `Ok(false)`.
    ///
    /// # Errors
    /// [`BlobError::Store`].
    pub async fn verify(&self, hash: &Hash) -> Result<bool, BlobError> {
        let Some(mut r) = self.read(hash, None).await? else {
            return Ok(false);
        };
        let mut h = Sha256::new();
        while let Some(chunk) = r.body.next().await {
            h.update(&chunk?);
        }
        Ok(Hash(h.finalize().into()) == *hash)
    }
}

/// Sends a signed request to the bucket (`object` = a blob's key) with a query such as
/// `legal-hold&versionId=...` and extra headers; answers the status and the body.
async fn signed(
    http_client: &reqwest::Client,
    s: &S3Settings,
    method: reqwest::Method,
    object: Option<&Key>,
    query: &str,
    body: Bytes,
    extra: &[(&'static str, &'static str)],
) -> Result<(reqwest::StatusCode, String), BlobError> {
    let mut url = format!("{}/{}", s.endpoint.trim_end_matches('/'), s.bucket);
    if let Some(k) = object {
        url.push('/');
        url.push_str(k.as_ref());
    }
    url.push('?');
    url.push_str(query);
    let mut req = http::Request::builder()
        .method(method.as_str())
        .uri(&url)
        .body(object_store::client::HttpRequestBody::from(body.clone()))
        .map_err(|e| BlobError::Store(e.to_string()))?;
    if !body.is_empty() {
        use base64::Engine as _;
        let sum = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&body));
        let h = req.headers_mut();
        h.insert(
            "x-amz-sdk-checksum-algorithm",
            http::HeaderValue::from_static("SHA256"),
        );
        h.insert(
            "x-amz-checksum-sha256",
            http::HeaderValue::from_str(&sum).map_err(|e| BlobError::Store(e.to_string()))?,
        );
    }
    for (k, v) in extra {
        req.headers_mut()
            .insert(*k, http::HeaderValue::from_static(v));
    }
    let cred = AwsCredential {
        key_id: s.access_key_id.clone(),
        secret_key: s.secret_access_key.clone(),
        token: None,
    };
    AwsAuthorizer::new(&cred, "s3", &s.region)
        .try_authorize(&mut req, None)
        .map_err(store_err)?;
    let mut out = http_client.request(method, &url).body(body);
    for (k, v) in req.headers() {
        out = out.header(k, v);
    }
    let res = out
        .send()
        .await
        .map_err(|e| BlobError::Store(format!("{url}: {e}")))?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    Ok((status, text))
}

/// Creates a bucket with Object Lock enabled (versioning comes with it) and no default
/// retention: kordon locks each object itself for its retention period. For setting up
/// a store and for tests; in production the bucket is usually made by the storage team.
///
/// # Errors
/// [`BlobError::Store`] with the store's answer.
pub async fn create_bucket(settings: &S3Settings) -> Result<(), BlobError> {
    let (st, text) = signed(
        &reqwest::Client::new(),
        settings,
        reqwest::Method::PUT,
        None,
        "",
        Bytes::new(),
        &[("x-amz-bucket-object-lock-enabled", "true")],
    )
    .await?;
    if !st.is_success() {
        return Err(BlobError::Store(format!(
            "creating bucket {}: {st} {text}",
            settings.bucket
        )));
    }
    Ok(())
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
