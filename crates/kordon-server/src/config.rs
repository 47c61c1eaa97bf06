//! Configuration: one struct, every field documented. Read from a TOML file (optional)
//! and then from environment variables `KORDON_<FIELD>` (upper case), which win.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod axis;
pub use axis::{AxisCategory, AxisConfig};

/// Everything `kordon serve` can be told.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on. Env: `KORDON_LISTEN`. Default `127.0.0.1:8420`.
    pub listen: SocketAddr,
    /// Data folder: `kordon.db` (SQLite), `blobs/`, `log/`, `keys/`. Env: `KORDON_DATA`.
    /// Default `kordon-data`.
    pub data: PathBuf,
    /// The log's origin line and the name of its key, e.g. `customs.gov.ua/kordon`.
    /// Env: `KORDON_ORIGIN`. Default `kordon.local/log`. Fixed when the log is created.
    pub origin: String,
    /// Largest segment upload accepted, in bytes. Env: `KORDON_MAX_SEGMENT_BYTES`.
    /// Default 2 GiB.
    pub max_segment_bytes: u64,
    /// Most entries the log integrates in one batch. Env: `KORDON_LOG_BATCH`. Default 4096.
    pub log_batch: usize,
    /// Seconds a superseded partial log tile stays on disk after the checkpoint that
    /// replaced it (readers of the older tree need it no longer). Env:
    /// `KORDON_LOG_PARTIAL_GRACE_S`. Default 60.
    pub log_partial_grace_s: u64,
    /// Longest silence between two segments that needs no explaining event, in
    /// milliseconds. Env: `KORDON_MAX_GAP_MS`. Default 2000.
    pub max_gap_ms: i64,
    /// Longest run of recorded video without sound (segments saying `audio: silent` or
    /// `none`) that coverage still counts as covered, in seconds; a longer run is a gap of
    /// class `no_audio`. Env: `KORDON_AUDIO_GAP_S`. Default 30.
    pub audio_gap_s: i64,
    /// A camera on shift (handed out, not returned) from which nothing arrived for this
    /// many seconds is "silent on shift": listed on the camera page, counted in
    /// `kordon_cameras_silent_on_shift`. Env: `KORDON_CAMERA_SILENCE_S`. Default 3600.
    pub camera_silence_s: i64,
    /// Quality review: the share of each officer's inspections of a week drawn for a
    /// supervisor to watch, in percent (at least one per officer who worked; the anomaly
    /// reports' inspections come on top). Env: `KORDON_REVIEW_PERCENT`. Default 5.
    pub review_percent: u32,
    /// How far in the future (by the server's clock) a link may end before it is refused
    /// (`link_in_future`), in seconds. Old links are always accepted: docks import late.
    /// Env: `KORDON_MAX_CLOCK_SKEW_S`. Default 300.
    pub max_clock_skew_s: i64,
    /// How often stale coverage (of inspections whose footage, assignments or versions
    /// changed) is recomputed in the background, so that pages and reports read it
    /// stored, in milliseconds; 0 leaves it to the first read. Env:
    /// `KORDON_COVERAGE_REFRESH_MS`. Default 2000.
    pub coverage_refresh_ms: u64,
    /// Client connections open at once; more are closed as they arrive (and never more
    /// than the file descriptor limit leaves after 512 for storage). Env:
    /// `KORDON_MAX_CONNECTIONS`. Default 1024.
    pub max_connections: usize,
    /// Client connections open at once from one address. Env:
    /// `KORDON_MAX_CONNECTIONS_PER_PEER`. Default 256.
    pub max_connections_per_peer: usize,
    /// Seconds a client has to send a whole request head, on a new connection or
    /// between requests on a kept-alive one; then it is closed. Env:
    /// `KORDON_HEADER_READ_TIMEOUT_S`. Default 10.
    pub header_read_timeout_s: u64,
    /// Slowest upload kept once it has run `upload_idle_timeout_s`, in bytes per second on
    /// average; a slower one is refused (`upload_interrupted`). Env:
    /// `KORDON_UPLOAD_MIN_BYTES_PER_S`. Default 4096.
    pub upload_min_bytes_per_s: u64,
    /// Lifetime of a device enrollment token, in seconds. Env:
    /// `KORDON_ENROLL_TOKEN_TTL_S`. Default 86400.
    pub enroll_token_ttl_s: i64,
    /// An upload that sends no data for this many seconds is dropped. Env:
    /// `KORDON_UPLOAD_IDLE_TIMEOUT_S`. Default 30.
    pub upload_idle_timeout_s: u64,
    /// Witnesses to send every new checkpoint to (TOML: `[[witnesses]]` tables with `url`
    /// and `key`). Env: `KORDON_WITNESSES` as `url=key,url=key`. Default: none.
    pub witnesses: Vec<WitnessConfig>,
    /// How many of the witnesses must cosign the checkpoint an evidence package is proven
    /// to (its tlog-policy's quorum). Env: `KORDON_WITNESS_QUORUM`. Default 0 = all.
    pub witness_quorum: usize,
    /// RFC 3161 time-stamping authorities asked for a token over the latest checkpoint
    /// (TOML: `[[tsa]]` tables with `name`, `url` and `chain`, the PEM file of the TSA's
    /// signing certificate, intermediates and root). Env: `KORDON_TSA` as
    /// `name=url=chain,...`. Default: none.
    pub tsa: Vec<TsaConfig>,
    /// Seconds between requests to each TSA, made only when the log grew (at most 144 a
    /// day per TSA: `docs/spec/timestamps.md`). Env: `KORDON_TSA_INTERVAL_S`. Default 600.
    pub tsa_interval_s: u64,
    /// An evidence package gets a playable file (and its Content Credentials copy) for a
    /// held range only if the range's segments together are at most this many bytes; a
    /// larger range is played from its segments. Env: `KORDON_DERIVED_MAX_BYTES`. Default
    /// 4 GiB (several hours of 720p).
    pub derived_max_bytes: u64,
    /// Days footage that is not evidence is kept after upload. Env:
    /// `KORDON_RETENTION_DAYS`. Default 30.
    pub retention_days: u64,
    /// Days footage that overlaps a customs inspection of its wearer is kept (category
    /// `inspection`). Env: `KORDON_RETENTION_INSPECTION_DAYS`. Default 365.
    pub retention_inspection_days: u64,
    /// Seconds between runs of the retention job. Env: `KORDON_RETENTION_INTERVAL_S`.
    /// Default 3600.
    pub retention_interval_s: u64,
    /// Seconds between full scrubbing passes over the stored blobs. Env:
    /// `KORDON_SCRUB_INTERVAL_S`. Default 604800 (a week).
    pub scrub_interval_s: u64,
    /// Session cookies without `Secure` (only for plain HTTP on 127.0.0.1, e.g. the demo;
    /// behind TLS leave it false). Env: `KORDON_COOKIE_INSECURE`. Default false.
    pub cookie_insecure: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client (for the login rate
    /// limit); from any other peer the header is ignored. Env: `KORDON_TRUSTED_PROXIES`
    /// (comma-separated addresses). Default none.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A web session ends after this many seconds without a request. Env:
    /// `KORDON_SESSION_IDLE_S`. Default 1800 (30 minutes).
    pub session_idle_s: u64,
    /// A web session ends this many seconds after login, however busy. Env:
    /// `KORDON_SESSION_MAX_S`. Default 43200 (12 hours, one shift).
    pub session_max_s: u64,
    /// Keep segments in an S3-compatible bucket with Object Lock instead of `data/blobs`
    /// (table `[s3]`: `endpoint`, `bucket`, `region`, `access_key_id`,
    /// `secret_access_key`). Env: `KORDON_S3_ENDPOINT`, `KORDON_S3_BUCKET`,
    /// `KORDON_S3_REGION`, `KORDON_S3_ACCESS_KEY_ID`, `KORDON_S3_SECRET_ACCESS_KEY`.
    /// Default: none (the local folder).
    pub s3: Option<kordon_store::blob::S3Settings>,
    /// How long each object is locked (COMPLIANCE) in the bucket, in seconds. Env:
    /// `KORDON_S3_LOCK_S`. Default: `retention_days` (the shortest any footage is kept).
    pub s3_lock_s: Option<u64>,
    /// Keep the metadata in PostgreSQL instead of `data/kordon.db`:
    /// `postgres://user:password@host:port/database` (its password is never logged). Env:
    /// `KORDON_DATABASE_URL`. Default: none (SQLite in the data folder).
    pub database_url: Option<kordon_store::meta::DatabaseUrl>,
    /// A crossing-point server forwards its segments, links and log entries to this
    /// central server (table `[forward]`: `url`, `token` — an administrator's API token at
    /// the centre). Env: `KORDON_FORWARD_URL`, `KORDON_FORWARD_TOKEN`. Default: none.
    pub forward: Option<ForwardConfig>,
    /// C2PA Content Credentials on the playable files of evidence packages (built with the
    /// `c2pa` feature, the default): the crossing point's signing certificate chain (PEM,
    /// its certificate first) and private key (PEM, Ed25519). Table `[c2pa]`: `chain`,
    /// `key`. Env: `KORDON_C2PA_CHAIN`, `KORDON_C2PA_KEY`. Default: none.
    pub c2pa: Option<C2paConfig>,
    /// Be the content destination of an AXIS Body Worn system (`docs/axis.md`): table
    /// `[axis]` (see [`AxisConfig`]). Env: `KORDON_AXIS_USER` (turns it on),
    /// `KORDON_AXIS_URL`, `KORDON_AXIS_SITE`, `KORDON_AXIS_CROSSING_POINT`. Default: none.
    pub axis: Option<AxisConfig>,
    /// At a central server: the log keys (verifier keys) of the crossing-point servers
    /// allowed to forward to it. Env: `KORDON_EDGES` as `key,key`. Default: none.
    pub edges: Vec<String>,
    /// Lowers the retention floor (the shortest `retention_days` and
    /// `retention_inspection_days` accepted: [`RETENTION_FLOOR_DAYS`], the legal frame's
    /// minimum) for a test. Only a test sets it; the server names it in its start-up log
    /// and in `/metrics` (`kordon_test_setting{name="retention_floor_days"}`). Env:
    /// `KORDON_TEST_RETENTION_FLOOR_DAYS`. Default: none.
    pub test_retention_floor_days: Option<u64>,
    /// The file this configuration was read from, read again to reload `edges` (set by
    /// `kordon serve`; not a setting).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// The shortest time any footage is kept, in days, unless a test lowers it.
pub const RETENTION_FLOOR_DAYS: u64 = 30;

/// Where a crossing-point server forwards to.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ForwardConfig {
    /// Base URL of the central server.
    pub url: String,
    /// An administrator's API token at the centre (never logged).
    pub token: String,
    /// The centre's log verifier key (`kordon log key` at the centre). The centre's
    /// receipt for each forwarded batch is checked against it; only footage a verified
    /// receipt covers may be purged here. Env: `KORDON_FORWARD_CENTRE_KEY`. Without it
    /// nothing forwarded is ever purged.
    #[serde(default)]
    pub centre_key: Option<String>,
    /// Seconds before an item that could not be sent is tried again (doubling after each
    /// failure, at most 6 hours). Env: `KORDON_FORWARD_RETRY_S`. Default 60.
    #[serde(default = "default_retry_s")]
    pub retry_s: u64,
}

fn default_retry_s() -> u64 {
    60
}

impl std::fmt::Debug for ForwardConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardConfig")
            .field("url", &self.url)
            .field("token", &"<redacted>")
            .field("centre_key", &self.centre_key)
            .field("retry_s", &self.retry_s)
            .finish()
    }
}

/// One witness the log asks to cosign its checkpoints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// Base URL of the witness (its `add-checkpoint` is below it).
    pub url: String,
    /// The witness's cosignature verifier key (type 0x04).
    pub key: String,
}

/// The crossing point's C2PA signing credentials.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct C2paConfig {
    /// PEM file: the signing certificate first, then its issuers.
    pub chain: PathBuf,
    /// PEM file: the Ed25519 private key (PKCS#8).
    pub key: PathBuf,
}

/// One RFC 3161 time-stamping authority.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TsaConfig {
    /// A short name (lowercase letters, digits, `-`): it names the TSA's files in packages.
    pub name: String,
    /// Where to POST `application/timestamp-query`.
    pub url: String,
    /// PEM file of its certificates: the signing certificate first, the root last.
    pub chain: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8420)),
            data: PathBuf::from("kordon-data"),
            origin: "kordon.local/log".into(),
            max_segment_bytes: 2 << 30,
            log_batch: 4096,
            log_partial_grace_s: 60,
            max_gap_ms: 2000,
            audio_gap_s: 30,
            camera_silence_s: 3600,
            review_percent: 5,
            max_clock_skew_s: 300,
            coverage_refresh_ms: 2000,
            max_connections: 1024,
            max_connections_per_peer: 256,
            header_read_timeout_s: 10,
            upload_min_bytes_per_s: 4096,
            enroll_token_ttl_s: 86_400,
            upload_idle_timeout_s: 30,
            witnesses: Vec::new(),
            witness_quorum: 0,
            tsa: Vec::new(),
            tsa_interval_s: 600,
            derived_max_bytes: 4 << 30,
            retention_days: 30,
            retention_inspection_days: 365,
            retention_interval_s: 3600,
            scrub_interval_s: 604_800,
            cookie_insecure: false,
            trusted_proxies: Vec::new(),
            session_idle_s: 1800,
            session_max_s: 43_200,
            s3: None,
            s3_lock_s: None,
            database_url: None,
            forward: None,
            c2pa: None,
            axis: None,
            edges: Vec::new(),
            test_retention_floor_days: None,
            source: None,
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment variable has a bad value.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A setting has a value no server may run with.
    #[error("setting {name}: {message}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn env<T: std::str::FromStr>(name: &'static str, target: &mut T) -> Result<(), ConfigError>
where
    T::Err: std::fmt::Display,
{
    if let Ok(v) = std::env::var(name) {
        *target = v.parse().map_err(|e: T::Err| ConfigError::Env {
            name,
            message: e.to_string(),
        })?;
    }
    Ok(())
}

impl Config {
    /// Defaults, then `file` if given, then environment overrides.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file or variable at fault.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut c = match file {
            None => Config::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.into(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: path.into(),
                    message: e.to_string(),
                })?
            }
        };
        env("KORDON_LISTEN", &mut c.listen)?;
        env("KORDON_DATA", &mut c.data)?;
        env("KORDON_ORIGIN", &mut c.origin)?;
        env("KORDON_MAX_SEGMENT_BYTES", &mut c.max_segment_bytes)?;
        env("KORDON_LOG_BATCH", &mut c.log_batch)?;
        env("KORDON_LOG_PARTIAL_GRACE_S", &mut c.log_partial_grace_s)?;
        env("KORDON_MAX_GAP_MS", &mut c.max_gap_ms)?;
        env("KORDON_AUDIO_GAP_S", &mut c.audio_gap_s)?;
        env("KORDON_CAMERA_SILENCE_S", &mut c.camera_silence_s)?;
        env("KORDON_REVIEW_PERCENT", &mut c.review_percent)?;
        env("KORDON_MAX_CLOCK_SKEW_S", &mut c.max_clock_skew_s)?;
        env("KORDON_COVERAGE_REFRESH_MS", &mut c.coverage_refresh_ms)?;
        env("KORDON_MAX_CONNECTIONS", &mut c.max_connections)?;
        env(
            "KORDON_MAX_CONNECTIONS_PER_PEER",
            &mut c.max_connections_per_peer,
        )?;
        env("KORDON_HEADER_READ_TIMEOUT_S", &mut c.header_read_timeout_s)?;
        env(
            "KORDON_UPLOAD_MIN_BYTES_PER_S",
            &mut c.upload_min_bytes_per_s,
        )?;
        env("KORDON_ENROLL_TOKEN_TTL_S", &mut c.enroll_token_ttl_s)?;
        env("KORDON_UPLOAD_IDLE_TIMEOUT_S", &mut c.upload_idle_timeout_s)?;
        env("KORDON_WITNESS_QUORUM", &mut c.witness_quorum)?;
        env("KORDON_TSA_INTERVAL_S", &mut c.tsa_interval_s)?;
        env("KORDON_DERIVED_MAX_BYTES", &mut c.derived_max_bytes)?;
        if let Ok(v) = std::env::var("KORDON_TSA") {
            c.tsa = v
                .split(',')
                .filter(|t| !t.is_empty())
                .map(|t| {
                    let bad = || ConfigError::Env {
                        name: "KORDON_TSA",
                        message: "expected name=url=chain,...".into(),
                    };
                    let (name, rest) = t.split_once('=').ok_or_else(bad)?;
                    let (url, chain) = rest.rsplit_once('=').ok_or_else(bad)?;
                    Ok(TsaConfig {
                        name: name.into(),
                        url: url.into(),
                        chain: chain.into(),
                    })
                })
                .collect::<Result<_, ConfigError>>()?;
        }
        env("KORDON_RETENTION_DAYS", &mut c.retention_days)?;
        env(
            "KORDON_RETENTION_INSPECTION_DAYS",
            &mut c.retention_inspection_days,
        )?;
        env("KORDON_RETENTION_INTERVAL_S", &mut c.retention_interval_s)?;
        env("KORDON_SCRUB_INTERVAL_S", &mut c.scrub_interval_s)?;
        env("KORDON_COOKIE_INSECURE", &mut c.cookie_insecure)?;
        if let Ok(v) = std::env::var("KORDON_TRUSTED_PROXIES") {
            c.trusted_proxies = v
                .split(',')
                .filter(|a| !a.trim().is_empty())
                .map(|a| a.trim().parse())
                .collect::<Result<_, _>>()
                .map_err(|e: std::net::AddrParseError| ConfigError::Env {
                    name: "KORDON_TRUSTED_PROXIES",
                    message: e.to_string(),
                })?;
        }
        env("KORDON_SESSION_IDLE_S", &mut c.session_idle_s)?;
        env("KORDON_SESSION_MAX_S", &mut c.session_max_s)?;
        if let (Ok(chain), Ok(key)) = (
            std::env::var("KORDON_C2PA_CHAIN"),
            std::env::var("KORDON_C2PA_KEY"),
        ) {
            c.c2pa = Some(C2paConfig {
                chain: chain.into(),
                key: key.into(),
            });
        }
        c.axis = AxisConfig::from_env(c.axis.take())?;
        if let Ok(endpoint) = std::env::var("KORDON_S3_ENDPOINT") {
            let var = |k: &str| std::env::var(k).unwrap_or_default();
            c.s3 = Some(kordon_store::blob::S3Settings {
                endpoint,
                bucket: var("KORDON_S3_BUCKET"),
                region: std::env::var("KORDON_S3_REGION").unwrap_or_else(|_| "us-east-1".into()),
                access_key_id: var("KORDON_S3_ACCESS_KEY_ID"),
                secret_access_key: var("KORDON_S3_SECRET_ACCESS_KEY"),
            });
        }
        if let Ok(url) = std::env::var("KORDON_DATABASE_URL") {
            c.database_url = Some(kordon_store::meta::DatabaseUrl(url));
        }
        if let Ok(url) = std::env::var("KORDON_FORWARD_URL") {
            c.forward = Some(ForwardConfig {
                url,
                token: std::env::var("KORDON_FORWARD_TOKEN").unwrap_or_default(),
                centre_key: std::env::var("KORDON_FORWARD_CENTRE_KEY").ok(),
                retry_s: default_retry_s(),
            });
            if let Some(f) = c.forward.as_mut() {
                env("KORDON_FORWARD_RETRY_S", &mut f.retry_s)?;
            }
        }
        if let Ok(v) = std::env::var("KORDON_EDGES") {
            c.edges = v
                .split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect();
        }
        for k in &c.edges {
            let key =
                kordon_core::note::VerifierKey::parse(k).map_err(|e| ConfigError::Invalid {
                    name: "edges",
                    message: format!("{k:?} is not a verifier key: {e}"),
                })?;
            if key.name() == c.origin {
                return Err(ConfigError::Invalid {
                    name: "edges",
                    message: format!(
                        "a crossing point's log is named {:?}, like this server's own log: give each server its own origin (KORDON_ORIGIN)",
                        c.origin
                    ),
                });
            }
        }
        if std::env::var("KORDON_S3_LOCK_S").is_ok() {
            let mut lock = 0u64;
            env("KORDON_S3_LOCK_S", &mut lock)?;
            c.s3_lock_s = Some(lock);
        }
        if let Ok(v) = std::env::var("KORDON_WITNESSES") {
            c.witnesses = v
                .split(',')
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let (url, key) = w.split_once('=').ok_or(ConfigError::Env {
                        name: "KORDON_WITNESSES",
                        message: "expected url=key,...".into(),
                    })?;
                    Ok(WitnessConfig {
                        url: url.into(),
                        key: key.into(),
                    })
                })
                .collect::<Result<_, ConfigError>>()?;
        }
        if std::env::var("KORDON_TEST_RETENTION_FLOOR_DAYS").is_ok() {
            let mut floor = 0u64;
            env("KORDON_TEST_RETENTION_FLOOR_DAYS", &mut floor)?;
            c.test_retention_floor_days = Some(floor);
        }
        if !kordon_core::note::is_valid_key_name(&c.origin) {
            return Err(ConfigError::Env {
                name: "origin",
                message: format!("{:?} is not a valid key name", c.origin),
            });
        }
        c.check()?;
        Ok(c)
    }

    /// The retention floor in force: [`RETENTION_FLOOR_DAYS`] unless a test lowered it.
    pub fn retention_floor_days(&self) -> u64 {
        self.test_retention_floor_days
            .unwrap_or(RETENTION_FLOOR_DAYS)
    }

    /// What no configuration may say, however it was made (file, environment or code).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the setting.
    pub fn check(&self) -> Result<(), ConfigError> {
        let floor = self.retention_floor_days();
        for (name, days) in [
            ("retention_days", self.retention_days),
            ("retention_inspection_days", self.retention_inspection_days),
        ] {
            if days < floor {
                return Err(ConfigError::Invalid {
                    name,
                    message: format!(
                        "{days} days is below the retention floor of {floor} days (footage is kept at least {RETENTION_FLOOR_DAYS} days; only a test may lower the floor, with KORDON_TEST_RETENTION_FLOOR_DAYS)"
                    ),
                });
            }
        }
        if let Some(a) = &self.axis {
            a.check()?;
        }
        for t in &self.tsa {
            if t.name.is_empty()
                || t.name.len() > 64
                || !t
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                || self.tsa.iter().filter(|o| o.name == t.name).count() > 1
            {
                return Err(ConfigError::Invalid {
                    name: "tsa.name",
                    message: format!(
                        "{:?}: each TSA needs its own name of lowercase letters, digits and '-'",
                        t.name
                    ),
                });
            }
        }
        if let Some(k) = self.forward.as_ref().and_then(|f| f.centre_key.as_deref()) {
            kordon_core::note::VerifierKey::parse(k).map_err(|e| ConfigError::Invalid {
                name: "forward.centre_key",
                message: e.to_string(),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
