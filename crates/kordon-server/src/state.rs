//! The server's state: what it owns ([`App`]) and the small pieces of in-memory state its
//! jobs and limits share. The bottom layer of the server: it imports nothing of the
//! server but the configuration and the error type.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use kordon_core::custody::{Custody, public_subject};
use kordon_core::note::{Note, SignerKey};
use kordon_core::time::Timestamp;
use kordon_log::Log;
use kordon_store::blob::BlobStore;
use kordon_store::meta::{Meta, NewCustody};
use kordon_store::now_ms;
use sha2::{Digest as _, Sha256};

use crate::config::Config;
use crate::error::ApiError;

/// Everything an operation needs. One per server, shared as `Arc<App>`.
pub struct App {
    /// The configuration the server runs with.
    pub config: Config,
    /// Metadata.
    pub meta: Meta,
    /// Segment bytes.
    pub blobs: BlobStore,
    /// The transparency log.
    pub log: Log,
    pub(crate) log_key: SignerKey,
    /// The key of the opaque ids custody entries name people by
    /// ([`kordon_core::custody::public_subject`]), derived from the log key.
    pub(crate) opaque_key: [u8; 32],
    pub(crate) admin_token_sha256: [u8; 32],
    /// The latest checkpoint with witness cosignatures: `(size, note bytes)`.
    pub witnessed: Witnessed,
    /// The RFC 3161 time-stamping authorities and the chains their tokens must lead to.
    pub(crate) tsas: Vec<(crate::config::TsaConfig, kordon_core::timestamp::TsaChain)>,
    /// The crossing point's C2PA signing credentials (`[c2pa]`), read at start.
    #[cfg_attr(not(feature = "c2pa"), allow(dead_code))]
    pub(crate) c2pa: Option<C2paCredentials>,
    /// Being the content destination of a body-worn system (`[axis]`).
    pub(crate) axis: Option<AxisState>,
    /// Progress of the scrubber.
    pub(crate) scrub: Mutex<ScrubProgress>,
    /// Footage views already in the custody trail: (person, link hash, reason).
    pub(crate) views: Mutex<HashSet<(String, String, String)>>,
    /// Audit runs: id → (person, started at, Unix ms).
    pub(crate) audits: Mutex<HashMap<String, (String, i64)>>,
    /// Recent failed logins per client address.
    pub(crate) login_failures: LoginLimiter,
    /// How far forwarding to the central server has come (with `[forward]`).
    pub(crate) forwarding: Mutex<ForwardProgress>,
    /// At a central server: the log keys of the crossing points allowed to forward here
    /// (`edges` in the configuration, read again on SIGHUP or `POST /v1/edges/reload`).
    pub(crate) edges: std::sync::RwLock<Vec<String>>,
    /// Permits of the analytics limit ([`readers`]), shared by the requests that compute
    /// analytics and the background job that keeps coverage fresh.
    pub(crate) readers: Arc<tokio::sync::Semaphore>,
    /// Held shared by every change from storing its row to recording its log index, and
    /// alone by [`crate::jobs::relog`], which logs the rows a failed append stranded: it
    /// never sees a row whose own request is still on its way to the log.
    pub(crate) logging: tokio::sync::RwLock<()>,
    /// An append failed since the last relog: some stored row may have no log index.
    pub(crate) stranded: std::sync::atomic::AtomicBool,
}

/// What the content destination of a body-worn system holds while it runs.
pub(crate) struct AxisState {
    /// SHA-256 of the key the system controller authenticates with.
    pub(crate) key_sha256: [u8; 32],
    /// Signs the links of what a body-worn system delivers (`attested: system`); derived
    /// from the log key, named `<origin>/received`.
    pub(crate) receiver: SignerKey,
    /// Tokens handed out: SHA-256 of the token → expiry, Unix ms.
    pub(crate) tokens: Mutex<HashMap<[u8; 32], i64>>,
    /// Clips being received; one more than `max_uploads` is answered 503.
    pub(crate) uploads: Arc<tokio::sync::Semaphore>,
    /// Held while a link is signed and stored, so each camera's chain grows one at a time.
    pub(crate) chain: tokio::sync::Mutex<()>,
}

/// A C2PA signing certificate chain and private key, PEM.
#[cfg_attr(not(feature = "c2pa"), allow(dead_code))]
pub(crate) struct C2paCredentials {
    pub(crate) chain: Vec<u8>,
    pub(crate) key: Vec<u8>,
}

/// The latest checkpoint that carries cosignatures: `(size, note bytes)`.
pub type Witnessed = std::sync::Arc<std::sync::RwLock<Option<(u64, Vec<u8>)>>>;

/// Progress of the scrubber.
#[derive(Debug, Clone, Default)]
pub(crate) struct ScrubProgress {
    pub(crate) running: bool,
    pub(crate) checked: u64,
    pub(crate) total: u64,
    pub(crate) bad: u64,
    pub(crate) finished_at: Option<i64>,
}

/// What the dashboard and `GET /v1/forwarding` show of forwarding to the centre.
#[derive(Debug, Clone, Default)]
pub(crate) struct ForwardProgress {
    /// Where to.
    pub(crate) url: String,
    /// Entries of this log the centre holds (as far as known).
    pub(crate) forwarded: u64,
    /// This log's published size.
    pub(crate) size: u64,
    /// Segments uploaded to the centre by this process.
    pub(crate) segments: u64,
    /// Whether the last attempt reached the centre.
    pub(crate) connected: bool,
    /// The last failure, if the last attempt failed.
    pub(crate) last_error: Option<String>,
    /// When a batch last went through, Unix ms.
    pub(crate) last_ok_ms: Option<i64>,
    /// Entries the centre confirmed with a receipt this server verified.
    pub(crate) confirmed: u64,
    /// Items not sent yet.
    pub(crate) holes: u64,
    /// When the centre last held the whole log, Unix ms.
    pub(crate) caught_up_ms: i64,
}

/// Failed logins from one address that lock that address out of an account.
pub const MAX_FAILURES: i64 = 5;
/// How long an address stays locked out of an account.
pub const LOCK_MS: i64 = 15 * 60_000;

/// Failed logins one client may make per minute, whatever the accounts.
pub const CLIENT_FAILURES_PER_MINUTE: usize = 10;

/// Failed logins in memory (a restart forgets them; the account-wide throttle in the
/// database does not): per client address in the last minute, and per (address, account)
/// within [`LOCK_MS`]. Five wrong passwords lock an account *for the address
/// they came from*: whoever guesses cannot lock the officer out at his own desk.
#[derive(Debug, Default)]
pub struct LoginLimiter(Mutex<Failures>);

#[derive(Debug, Default)]
pub struct Failures {
    clients: HashMap<IpAddr, Vec<i64>>,
    accounts: HashMap<(IpAddr, String), Vec<i64>>,
}

impl LoginLimiter {
    /// Whether `client` may try now (any account).
    pub fn allows(&self, client: IpAddr, now: i64) -> bool {
        self.0.lock().map_or(true, |mut m| {
            let v = m.clients.entry(client).or_default();
            v.retain(|t| now - t < 60_000);
            v.len() < CLIENT_FAILURES_PER_MINUTE
        })
    }

    /// Whether `client` has locked itself out of `account`: [`MAX_FAILURES`] failures
    /// within [`LOCK_MS`].
    pub fn locked(&self, client: IpAddr, account: &str, now: i64) -> bool {
        self.0.lock().is_ok_and(|m| {
            m.accounts
                .get(&(client, account.to_owned()))
                .is_some_and(|v| {
                    v.iter().filter(|t| now - **t < LOCK_MS).count()
                        >= usize::try_from(MAX_FAILURES).unwrap_or(usize::MAX)
                })
        })
    }

    /// Counts a failure of `client` on `account`.
    pub fn failed(&self, client: IpAddr, account: &str, now: i64) {
        if let Ok(mut m) = self.0.lock() {
            if m.clients.len() + m.accounts.len() > 100_000 {
                m.clients.retain(|_, v| v.iter().any(|t| now - t < 60_000));
                m.accounts
                    .retain(|_, v| v.iter().any(|t| now - t < LOCK_MS));
            }
            m.clients.entry(client).or_default().push(now);
            let v = m.accounts.entry((client, account.to_owned())).or_default();
            v.retain(|t| now - t < LOCK_MS);
            v.push(now);
        }
    }

    /// Forgets `client`'s failures on `account` after it signed in.
    pub fn succeeded(&self, client: IpAddr, account: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.accounts.remove(&(client, account.to_owned()));
        }
    }
}

impl App {
    /// Checks the administrator bearer token.
    pub(crate) fn is_admin_token(&self, given: &str) -> bool {
        let h: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
        // Compare digests, so the comparison time says nothing about the token.
        h == self.admin_token_sha256
    }

    /// Signs a custody event with the log key, stores it and appends it to the log;
    /// answers its index.
    pub(crate) async fn custody(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<u64, ApiError> {
        Ok(self.custody_entry(actor, action, subject, detail).await?.0)
    }

    /// [`App::custody`], also answering the event's hash (hex).
    pub(crate) async fn custody_entry(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> Result<(u64, String), ApiError> {
        let c = Custody {
            time: Timestamp(now_ms()),
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            detail: detail.into(),
        };
        // Version 2: the log gets what outsiders need, the database the rest.
        let salt = kordon_store::random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?;
        let (text, private) = c
            .seal(&public_subject(subject, &self.opaque_key), salt)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut note = Note::new(&text).map_err(|e| ApiError::Internal(e.to_string()))?;
        note.sign(&self.log_key)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let bytes = note.to_bytes();
        let hash = kordon_core::sha256(&bytes).to_hex();
        let _logging = self.logging.read().await;
        self.meta
            .insert_custody(&NewCustody {
                hash: &hash,
                action,
                subject,
                body: &bytes,
                private: Some(&private),
                created_at: now_ms(),
                log_floor: self.log.published().size,
            })
            .await?;
        let index = self.append(bytes).await?;
        self.meta.set_log_index(&hash, index).await?;
        Ok((index, hash))
    }

    /// Appends to the log, with metrics. The caller holds [`App::logging`]; a failure
    /// marks its stored row for [`crate::jobs::relog`].
    pub(crate) async fn append(&self, entry: Vec<u8>) -> Result<u64, ApiError> {
        let start = std::time::Instant::now();
        let index = self.log.append(entry).await.inspect_err(|_| {
            self.stranded
                .store(true, std::sync::atomic::Ordering::SeqCst);
        })?;
        metrics::histogram!("kordon_log_append_seconds").record(start.elapsed().as_secs_f64());
        metrics::gauge!("kordon_log_size").set(self.log.published().size as f64);
        Ok(index)
    }
}

/// The limit on analytics work (reports, search, coverage, the web pages that show them,
/// and the coverage job): at most one per CPU core but one at a time (at least one), the
/// others wait their turn, so that people reading always leave a core to uploads and
/// health checks.
pub(crate) type Readers = tower::limit::GlobalConcurrencyLimitLayer;

/// The permits of a new analytics limit: one per core but one, at least one.
pub(crate) fn reader_permits() -> Arc<tokio::sync::Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    Arc::new(tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1)))
}

/// The [`Readers`] layer over `permits`.
pub(crate) fn readers(permits: &Arc<tokio::sync::Semaphore>) -> Readers {
    tower::limit::GlobalConcurrencyLimitLayer::with_semaphore(permits.clone())
}

/// Runs `work` (analytics: decoding a fortnight of rows, aggregating, rendering) on a
/// thread of the blocking pool instead of an async worker, where its milliseconds of CPU
/// would hold up every upload and health check queued behind it on that worker.
pub(crate) async fn off_workers<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, ApiError> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(work))
        .await
        .map_err(|e| ApiError::Internal(format!("analytics work failed: {e}")))
}

/// [`off_workers`] as middleware, for the routes under the [`Readers`] limit (applied
/// inside it: one blocking thread per permit at most).
pub(crate) async fn analytics_off_workers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    off_workers(next.run(req))
        .await
        .unwrap_or_else(IntoResponse::into_response)
}
