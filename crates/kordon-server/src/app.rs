//! Startup (keys, stores, log, recovery), the router and the serve loop.

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use kordon_core::custody::Custody;
use kordon_core::note::{Note, SignerKey};
use kordon_core::time::Timestamp;
use kordon_log::{Log, LogOptions};
use kordon_store::blob::{BlobStore, FsBlobStore, S3BlobStore};
use kordon_store::meta::Meta;
use kordon_store::{now_ms, random_bytes};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::error::ApiError;

/// Everything a request handler needs.
pub struct App {
    /// The configuration the server runs with.
    pub config: Config,
    /// Metadata.
    pub meta: Meta,
    /// Segment bytes.
    pub blobs: BlobStore,
    /// The transparency log.
    pub log: Log,
    log_key: SignerKey,
    admin_token_sha256: [u8; 32],
    /// The latest checkpoint with witness cosignatures.
    pub witnessed: crate::cosigning::Witnessed,
    /// State of the background jobs (scrubbing progress).
    pub(crate) jobs: crate::retention::Jobs,
    /// Footage views already in the custody trail: (person, link hash, reason).
    pub(crate) views: std::sync::Mutex<std::collections::HashSet<(String, String, String)>>,
    /// Recent failed logins per client address.
    pub(crate) login_failures: crate::auth::LoginLimiter,
    /// How far forwarding to the central server has come (with `[forward]`).
    pub(crate) forwarding: std::sync::Mutex<crate::forward::ForwardStatus>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A key or token file problem.
    #[error("{0}")]
    Keys(String),
    /// Metadata store.
    #[error(transparent)]
    Meta(#[from] kordon_store::meta::MetaError),
    /// Blob store.
    #[error(transparent)]
    Blob(#[from] kordon_store::blob::BlobError),
    /// Log.
    #[error(transparent)]
    Log(#[from] kordon_log::LogError),
    /// IO.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn write_secret(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

fn read_secret(path: &Path) -> Result<String, StartError> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path)
        .map_err(|e| StartError::Keys(format!("{}: {e}", path.display())))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(StartError::Keys(format!(
            "{} is readable by others; chmod 600 it",
            path.display()
        )));
    }
    Ok(std::fs::read_to_string(path)?.trim().to_owned())
}

fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (several servers in one test process).
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Opens (and on first start creates) the data folder: keys, database, blobs, log; then
/// brings the database and the log back in step after a crash.
///
/// # Errors
/// [`StartError`] naming what is wrong.
pub async fn open(config: Config) -> Result<Arc<App>, StartError> {
    let data = &config.data;
    let keys = data.join("keys");
    let db = data.join("kordon.db");
    let key_path = keys.join("log.key");
    let token_path = keys.join("admin-token");
    if !key_path.exists() {
        // Safety-critical state is created only in a fresh folder, never next to an
        // existing database that lost its key.
        if db.exists() {
            return Err(StartError::Keys(format!(
                "{} exists but {} does not: restore the log key from backup",
                db.display(),
                key_path.display()
            )));
        }
        std::fs::create_dir_all(&keys)?;
        let key = SignerKey::ed25519_from_seed(
            &config.origin,
            random_bytes().map_err(std::io::Error::other)?,
        )
        .map_err(|e| StartError::Keys(e.to_string()))?;
        write_secret(&key_path, &key.to_key_string())?;
        write_secret(
            &token_path,
            &hex::encode(random_bytes().map_err(std::io::Error::other)?),
        )?;
        tracing::info!(origin = %config.origin, "created a new log key and administrator token in {}", keys.display());
    }
    let log_key = SignerKey::parse(&read_secret(&key_path)?)
        .map_err(|e| StartError::Keys(format!("{}: {e}", key_path.display())))?;
    if log_key.verifier().name() != config.origin {
        return Err(StartError::Keys(format!(
            "the log key is for origin {:?} but the configuration says {:?}",
            log_key.verifier().name(),
            config.origin
        )));
    }
    let admin_token_sha256: [u8; 32] = Sha256::digest(read_secret(&token_path)?.as_bytes()).into();
    let meta = match &config.database_url {
        None => Meta::open_sqlite(&db).await?,
        Some(url) => {
            tracing::info!(database = %url, "metadata in PostgreSQL");
            Meta::open_postgres(&url.0).await?
        }
    };
    let blobs = match &config.s3 {
        None => BlobStore::Fs(FsBlobStore::open(data.join("blobs")).await?),
        Some(s3) => {
            let lock_s = config
                .s3_lock_s
                .unwrap_or(config.retention_days.saturating_mul(86_400));
            tracing::info!(endpoint = %s3.endpoint, bucket = %s3.bucket, lock_s, "segments in an S3 bucket with Object Lock");
            BlobStore::S3(S3BlobStore::open(s3.clone(), data.join("spool"), lock_s).await?)
        }
    };
    let log = Log::open(LogOptions {
        dir: data.join("log"),
        signer: log_key.clone(),
        max_batch: config.log_batch,
    })
    .await?;
    let witnessed =
        crate::cosigning::spawn(log.clone(), &config.witnesses).map_err(StartError::Keys)?;
    let app = Arc::new(App {
        config,
        meta,
        blobs,
        log,
        log_key,
        admin_token_sha256,
        witnessed,
        jobs: crate::retention::Jobs::default(),
        views: std::sync::Mutex::default(),
        login_failures: crate::auth::LoginLimiter::default(),
        forwarding: std::sync::Mutex::default(),
    });
    app.reconcile().await?;
    crate::retention::spawn(app.clone());
    crate::mirror::spawn(app.log.clone(), &app.blobs);
    crate::forward::spawn(app.clone(), app.log_key.clone());
    metrics::gauge!("kordon_log_size").set(app.log.published().size as f64);
    Ok(app)
}

impl App {
    /// After a crash: rows the database holds but whose log index it never recorded are
    /// matched against the log's entries; those the log does not have are appended now.
    async fn reconcile(&self) -> Result<(), StartError> {
        let unlogged = self.meta.unlogged().await?;
        if unlogged.is_empty() {
            return Ok(());
        }
        let reader = self.log.reader();
        let size = reader.size();
        let entries = tokio::task::spawn_blocking(move || reader.entries(0, size))
            .await
            .map_err(std::io::Error::other)??;
        let index: std::collections::HashMap<String, u64> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (kordon_core::sha256(e).to_hex(), i as u64))
            .collect();
        let (mut found, mut appended) = (0, 0);
        for u in unlogged {
            let i = match index.get(&u.hash) {
                Some(i) => {
                    found += 1;
                    *i
                }
                None => {
                    appended += 1;
                    self.log.append(u.body).await?
                }
            };
            self.meta.set_log_index(&u.hash, i).await?;
        }
        tracing::warn!(
            found,
            appended,
            "reconciled the database with the log after an unclean stop"
        );
        Ok(())
    }

    /// Checks the administrator bearer token.
    pub(crate) fn is_admin_token(&self, given: &str) -> bool {
        let h: [u8; 32] = Sha256::digest(given.trim().as_bytes()).into();
        // Compare digests, so the comparison time says nothing about the token.
        h == self.admin_token_sha256
    }

    /// Signs a custody event with the log key, stores it and appends it to the log.
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
        let text = c.to_text().map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut note = Note::new(&text).map_err(|e| ApiError::Internal(e.to_string()))?;
        note.sign(&self.log_key)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let bytes = note.to_bytes();
        let hash = kordon_core::sha256(&bytes).to_hex();
        self.meta
            .insert_custody(&hash, action, subject, &bytes, now_ms())
            .await?;
        let index = self.append(bytes).await?;
        self.meta.set_log_index(&hash, index).await?;
        Ok((index, hash))
    }

    /// Appends to the log, with metrics.
    pub(crate) async fn append(&self, entry: Vec<u8>) -> Result<u64, ApiError> {
        let start = std::time::Instant::now();
        let index = self.log.append(entry).await?;
        metrics::histogram!("kordon_log_append_seconds").record(start.elapsed().as_secs_f64());
        metrics::gauge!("kordon_log_size").set(self.log.published().size as f64);
        Ok(index)
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(app): State<Arc<App>>) -> impl IntoResponse {
    if !app.meta.ping().await {
        return (StatusCode::SERVICE_UNAVAILABLE, "database not answering\n");
    }
    if app.log.is_poisoned() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "log stopped after a storage error\n",
        );
    }
    (StatusCode::OK, "ready\n")
}

async fn metrics_text() -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        metrics_handle().render(),
    )
}

/// The HTTP routes.
pub fn router(app: Arc<App>) -> Router {
    metrics_handle();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/v1/enroll", post(crate::devices::enroll))
        .route("/v1/devices", get(crate::devices::list))
        .route(
            "/v1/devices/{device}/enroll-token",
            post(crate::devices::enroll_token),
        )
        .route("/v1/devices/{device}", get(crate::devices::one))
        .route("/v1/devices/{device}/revoke", post(crate::devices::revoke))
        .route(
            "/v1/devices/{device}/continuity",
            get(crate::devices::continuity),
        )
        .route(
            "/v1/devices/{device}/segments/{seq}",
            put(crate::ingest::put_segment),
        )
        .route(
            "/v1/devices/{device}/events/{seq}",
            put(crate::ingest::put_event),
        )
        .route("/v1/checkpoints", get(crate::reference::list_checkpoints))
        .route(
            "/v1/checkpoints/{code}",
            put(crate::reference::put_checkpoint),
        )
        .route("/v1/officers", get(crate::reference::list_officers))
        .route(
            "/v1/officers/{service_no}",
            put(crate::reference::put_officer),
        )
        .route("/v1/inspections", post(crate::inspections::put))
        .route(
            "/v1/inspections/{id}/coverage",
            get(crate::inspections::one),
        )
        .route(
            "/v1/inspections/{id}/gap-reasons",
            post(crate::inspections::file_reason),
        )
        .route(
            "/v1/gap-reasons/{id}/{decision}",
            post(crate::inspections::decide_reason),
        )
        .route("/v1/reports/coverage", get(crate::reports::coverage))
        .route("/v1/reports/daily", get(crate::reports::daily))
        .route("/v1/reports/shifts", get(crate::reports::shifts))
        .route("/v1/reports/gaps", get(crate::reports::gaps))
        .route("/v1/reports/clearance", get(crate::reports::clearance))
        .route("/v1/search/inspections", get(crate::inspections::search))
        .route(
            "/v1/bookmarks",
            get(crate::inspections::bookmarks).post(crate::inspections::add_bookmark),
        )
        .route("/v1/assignments", post(crate::devices::assign))
        .route("/v1/cases", post(crate::cases::open))
        .route("/v1/cases/{id}", get(crate::cases::get))
        .route("/v1/cases/{id}/items", post(crate::cases::add_item))
        .route("/v1/cases/{id}/close", post(crate::cases::close))
        .route("/v1/cases/{id}/export", post(crate::cases::export))
        .route("/v1/cases/{id}/receipts", post(crate::cases::receipt))
        .route("/v1/exports/{file}", get(crate::cases::download))
        .route("/v1/receipts/{sha256}", get(crate::cases::receipts))
        .route(
            "/v1/segments/{sha256}/evidence",
            get(crate::cases::segment_evidence),
        )
        .route("/v1/retention/run", post(crate::retention::run_now))
        .route("/v1/edges", get(crate::edges::list))
        .route("/v1/edges/entries", post(crate::edges::append))
        .route("/v1/edges/{origin}", get(crate::edges::one))
        .route("/v1/forwarding", get(crate::forward::status))
        .route("/v1/users", get(crate::users::list).post(crate::users::put))
        .route("/v1/users/{name}/tokens", post(crate::users::token))
        .route(
            "/v1/users/{name}/tokens/{id}/revoke",
            post(crate::users::revoke_token),
        )
        .merge(crate::ui::routes())
        .route(
            "/v1/scrub",
            get(crate::retention::scrub_status).post(crate::retention::start_scrub),
        )
        .route(
            "/v1/assignments/return",
            post(crate::devices::return_device),
        )
        .route("/v1/blobs/{sha256}", get(crate::ingest::get_blob))
        .route("/v1/log/inclusion", get(crate::logapi::inclusion))
        .route("/v1/log/consistency", get(crate::logapi::consistency))
        .route("/v1/log/proof/{index}", get(crate::logapi::tlog_proof))
        .route("/log/checkpoint", get(crate::logapi::checkpoint))
        .route(
            "/v1/log/witnessed-checkpoint",
            get(crate::logapi::witnessed_checkpoint),
        )
        .route("/log/verifier-key", get(crate::logapi::verifier_key))
        .route("/log/tile/{*path}", get(crate::logapi::tile))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(app)
}

/// Serves any router until `shutdown` completes.
///
/// # Errors
/// IO errors from the listener.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves until `shutdown` completes.
///
/// # Errors
/// IO errors from the listener.
pub async fn run(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(app), shutdown).await
}
