//! Startup: keys, stores and the log opened (and created in a fresh folder), the
//! database and the log brought back in step after a crash, the background jobs started.

use std::path::Path;
use std::sync::Arc;

use kordon_core::note::SignerKey;
use kordon_log::{FsStorage, Log, LogOptions, LogStorage};
use kordon_store::blob::{BlobStore, FsBlobStore, S3BlobStore};
use kordon_store::meta::Meta;
use kordon_store::random_bytes;
use sha2::{Digest as _, Sha256};

use crate::config::Config;
use crate::state::App;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A key or token file problem.
    #[error("{0}")]
    Keys(String),
    /// A device's stored chain could not be read to compute its state.
    #[error("chain state of {0}: {1}")]
    Chain(String, String),
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
    /// The configuration breaks a rule ([`Config::check`]).
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Logging the rows an unclean stop left without a log index.
    #[error("reconciling the database with the log: {0}")]
    Reconcile(String),
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

/// The key of the opaque ids in custody entries: the SHA-256 of a fixed note signed with
/// the log key (Ed25519 signatures are deterministic), so it is the same after every
/// restart and nobody without the log key can compute it.
fn opaque_key(log_key: &SignerKey) -> Result<[u8; 32], StartError> {
    let mut n = kordon_core::note::Note::new("kordon.opaque-ids/v1\n")
        .map_err(|e| StartError::Keys(e.to_string()))?;
    n.sign(log_key)
        .map_err(|e| StartError::Keys(e.to_string()))?;
    Ok(kordon_core::sha256(&n.to_bytes()).0)
}

/// The key that signs what a body-worn system delivers (`attested: system`): its seed is
/// the SHA-256 of a fixed note signed with the log key, so it is restored with the log
/// key and needs no file of its own; its name is `<origin>/received`.
pub(crate) fn receiver_key(log_key: &SignerKey) -> Result<SignerKey, StartError> {
    let mut n = kordon_core::note::Note::new("kordon.system-receiver/v1\n")
        .map_err(|e| StartError::Keys(e.to_string()))?;
    n.sign(log_key)
        .map_err(|e| StartError::Keys(e.to_string()))?;
    let name = format!("{}/received", log_key.verifier().name());
    SignerKey::ed25519_from_seed(&name, kordon_core::sha256(&n.to_bytes()).0)
        .map_err(|e| StartError::Keys(e.to_string()))
}

/// The key a body-worn system's controller authenticates with (`keys/axis-key`), made
/// the first time it is needed (the server's first start with `[axis]`, or
/// `kordon axis connection-file`).
///
/// # Errors
/// The key file cannot be written or read, or others can read it.
pub fn axis_key(data: &Path) -> Result<String, StartError> {
    let path = data.join("keys/axis-key");
    if !path.exists() {
        std::fs::create_dir_all(data.join("keys"))?;
        write_secret(
            &path,
            &hex::encode(random_bytes().map_err(std::io::Error::other)?),
        )?;
    }
    read_secret(&path)
}

fn axis_state(
    config: &Config,
    log_key: &SignerKey,
) -> Result<Option<crate::state::AxisState>, StartError> {
    let Some(a) = &config.axis else {
        return Ok(None);
    };
    Ok(Some(crate::state::AxisState {
        key_sha256: Sha256::digest(axis_key(&config.data)?.as_bytes()).into(),
        receiver: receiver_key(log_key)?,
        tokens: std::sync::Mutex::default(),
        uploads: Arc::new(tokio::sync::Semaphore::new(a.max_uploads)),
        chain: tokio::sync::Mutex::new(()),
    }))
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

/// The data folder holds the database (password hashes, second-factor secrets), the keys
/// and the footage: only its owner may enter it, and the secrets are the owner's alone.
/// Checked at every start; a folder or file someone opened up is closed again, and said so.
/// (What is created in it later is private too: the `kordon` command runs with umask 077.)
fn private_folder(data: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let keys = data.join("keys");
    let mut paths = vec![(data.to_path_buf(), 0o700), (keys.clone(), 0o700)];
    for f in ["kordon.db", "kordon.db-wal", "kordon.db-shm"] {
        paths.push((data.join(f), 0o600));
    }
    for e in std::fs::read_dir(&keys)? {
        paths.push((e?.path(), 0o600));
    }
    for (path, mode) in paths {
        let Ok(m) = std::fs::metadata(&path) else {
            continue;
        };
        if m.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), was = format!("{:o}", m.permissions().mode() & 0o777), "others could read it: made private");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    Ok(())
}

/// The log key of the server whose data folder is `data`, created (with the
/// administrator token) in a fresh folder — `kordon log key` prints its verifier key
/// before the first start, so a centre can be told about a crossing point in any order.
///
/// # Errors
/// [`StartError::Keys`] if the folder has a database but lost its key, or the key is for
/// another origin.
pub fn log_key(data: &Path, origin: &str) -> Result<SignerKey, StartError> {
    let keys = data.join("keys");
    let key_path = keys.join("log.key");
    if !key_path.exists() {
        // Safety-critical state is created only in a fresh folder, never next to an
        // existing database that lost its key.
        let db = data.join("kordon.db");
        if db.exists() {
            return Err(StartError::Keys(format!(
                "{} exists but {} does not: restore the log key from backup",
                db.display(),
                key_path.display()
            )));
        }
        std::fs::create_dir_all(&keys)?;
        let key =
            SignerKey::ed25519_from_seed(origin, random_bytes().map_err(std::io::Error::other)?)
                .map_err(|e| StartError::Keys(e.to_string()))?;
        write_secret(&key_path, &key.to_key_string())?;
        write_secret(
            &keys.join("admin-token"),
            &hex::encode(random_bytes().map_err(std::io::Error::other)?),
        )?;
        tracing::info!(%origin, "created a new log key and administrator token in {}", keys.display());
    }
    let log_key = SignerKey::parse(&read_secret(&key_path)?)
        .map_err(|e| StartError::Keys(format!("{}: {e}", key_path.display())))?;
    if log_key.verifier().name() != origin {
        return Err(StartError::Keys(format!(
            "the log key is for origin {:?} but the configuration says {:?}",
            log_key.verifier().name(),
            origin
        )));
    }
    Ok(log_key)
}

/// Opens (and on first start creates) the data folder: keys, database, blobs, log; then
/// brings the database and the log back in step after a crash and starts the jobs.
///
/// # Errors
/// [`StartError`] naming what is wrong.
pub async fn open(config: Config) -> Result<Arc<App>, StartError> {
    let storage = Arc::new(FsStorage::new(config.data.join("log")));
    open_on(config, storage).await
}

/// [`open`] with the log's writes going to `log_storage` (which must write into
/// `<data>/log`): the seam tests use to inject storage faults.
///
/// # Errors
/// As [`open`].
pub async fn open_on(
    config: Config,
    log_storage: Arc<dyn LogStorage>,
) -> Result<Arc<App>, StartError> {
    config.check()?;
    crate::routes::metrics_handle();
    if let Some(floor) = config.test_retention_floor_days {
        tracing::warn!(
            floor_days = floor,
            "TEST SETTING: the retention floor is lowered from {} to {floor} days (KORDON_TEST_RETENTION_FLOOR_DAYS); never in service",
            crate::config::RETENTION_FLOOR_DAYS
        );
        metrics::gauge!("kordon_test_setting", "name" => "retention_floor_days").set(floor as f64);
    }
    metrics::gauge!("kordon_retention_floor_days").set(config.retention_floor_days() as f64);
    let data = &config.data;
    let token_path = data.join("keys/admin-token");
    let log_key = log_key(data, &config.origin)?;
    let admin_token_sha256: [u8; 32] = Sha256::digest(read_secret(&token_path)?.as_bytes()).into();
    let meta = match &config.database_url {
        None => Meta::open_sqlite(&data.join("kordon.db")).await?,
        Some(url) => {
            tracing::info!(database = %url, "metadata in PostgreSQL");
            Meta::open_postgres(&url.0).await?
        }
    };
    private_folder(data)?;
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
    let log = Log::open_on(
        LogOptions {
            dir: data.join("log"),
            signer: log_key.clone(),
            max_batch: config.log_batch,
            partial_grace: std::time::Duration::from_secs(config.log_partial_grace_s),
        },
        log_storage,
    )
    .await?;
    let witnessed =
        crate::jobs::cosigning::spawn(log.clone(), &config.witnesses).map_err(StartError::Keys)?;
    let edges = config.edges.clone();
    let tsas = crate::jobs::timestamp::load(&config.tsa).map_err(StartError::Keys)?;
    let c2pa = c2pa_credentials(&config).map_err(StartError::Keys)?;
    let axis = axis_state(&config, &log_key)?;
    let app = Arc::new(App {
        config,
        meta,
        blobs,
        log,
        opaque_key: opaque_key(&log_key)?,
        log_key,
        admin_token_sha256,
        witnessed,
        tsas,
        c2pa,
        axis,
        scrub: std::sync::Mutex::default(),
        views: std::sync::Mutex::default(),
        audits: std::sync::Mutex::default(),
        login_failures: crate::state::LoginLimiter::default(),
        forwarding: std::sync::Mutex::default(),
        edges: std::sync::RwLock::new(edges),
        readers: crate::state::reader_permits(),
        logging: tokio::sync::RwLock::new(()),
        stranded: std::sync::atomic::AtomicBool::new(false),
    });
    crate::jobs::relog::reconcile(&app)
        .await
        .map_err(|e| StartError::Reconcile(e.to_string()))?;
    backfill_chain_state(&app).await?;
    // A render a stop interrupted is not resumed: its row says so, it is made again, and
    // what it left half-written goes.
    for t in [
        kordon_store::meta::Renders::Redactions,
        kordon_store::meta::Renders::Shares,
    ] {
        app.meta
            .render_failed(t, None, "interrupted by a restart; make it again")
            .await
            .map_err(|e| StartError::Reconcile(e.to_string()))?;
    }
    crate::package::redacted::sweep(&app);
    crate::jobs::retention::spawn(app.clone());
    crate::jobs::mirror::spawn(app.log.clone(), &app.blobs);
    crate::jobs::forward::spawn(app.clone());
    crate::jobs::coverage::spawn(app.clone());
    crate::jobs::relog::spawn(app.clone());
    crate::jobs::timestamp::spawn(app.clone());
    crate::jobs::cameras::spawn(app.clone());
    metrics::gauge!("kordon_log_size").set(app.log.published().size as f64);
    Ok(app)
}

/// Reads `[c2pa]`'s files and checks they make a signer.
fn c2pa_credentials(config: &Config) -> Result<Option<crate::state::C2paCredentials>, String> {
    let Some(c) = &config.c2pa else {
        return Ok(None);
    };
    if !cfg!(feature = "c2pa") {
        return Err(
            "[c2pa] is configured but this kordon was built without the c2pa feature".into(),
        );
    }
    let read = |p: &std::path::Path| {
        std::fs::read(p).map_err(|e| format!("C2PA credentials: {}: {e}", p.display()))
    };
    let credentials = crate::state::C2paCredentials {
        chain: read(&c.chain)?,
        key: read(&c.key)?,
    };
    #[cfg(feature = "c2pa")]
    crate::package::c2pa::check(&credentials)?;
    Ok(Some(credentials))
}

/// Devices whose links were stored before the chain state was kept (an upgrade, or a
/// database copied in) get it computed once from their links.
async fn backfill_chain_state(app: &App) -> Result<(), StartError> {
    for device in app.meta.devices_without_chain_state().await? {
        let (state, problems) = crate::ops::devices::recompute(app, &device)
            .await
            .map_err(|e| StartError::Chain(device.clone(), e.to_string()))?;
        app.meta
            .replace_chain_state(&device, &state, &problems)
            .await?;
        tracing::info!(
            device,
            links = state.links,
            problems = problems.len(),
            "chain state computed from the stored links"
        );
    }
    Ok(())
}

/// Reads again which crossing points may forward here (on SIGHUP), as
/// `POST /v1/edges/reload` does; a custody event records the new set.
///
/// # Errors
/// The configuration no longer loads (nothing changes), or the event could not be logged.
pub async fn reload_edges(app: &App) -> Result<Vec<String>, crate::error::ApiError> {
    Ok(crate::ops::edges::reload(app, "SIGHUP").await?.origins)
}
