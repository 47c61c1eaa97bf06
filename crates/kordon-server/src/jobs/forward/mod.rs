//! At a crossing-point server with `[forward]`: a background task that brings the
//! central server up to date with this server's log, oldest first.
//!
//! The centre's own count of this log's entries is the cursor (asked at start and after
//! any failure), so forwarding resumes wherever it stopped — a lost link, a restart of
//! either side — and nothing needs to be remembered here. For each batch of entries
//! `[from, to)`: every device enrollment in it is made at the centre (same device key),
//! every segment and event link is uploaded through the cameras' own endpoints (the centre
//! verifies signature, chain and bytes like any upload; a retry is answered as one), and
//! then the entries themselves go to `POST /v1/edges/entries` with a checkpoint of this
//! log at `to`, signed with its key. The local server never waits for any of this:
//! cameras dock, upload and are logged here whether or not the centre answers.
//!
//! An item that cannot be sent (its bytes missing or damaged here, refused by the centre)
//! never blocks the items after it: it becomes a hole — recorded, a `forward-skip`
//! custody event naming it and why, reported to the centre with its batch, counted in
//! `kordon_forward_holes` — and is tried again on a schedule. The centre answers each
//! batch with a receipt (its `edge-checkpoint` event with a tlog-proof); the receipt
//! verified against `forward.centre_key` is what lets retention purge footage here
//! ([`crate::jobs::retention`]). Then the records a national view needs follow through
//! the change feed ([`records`]).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use futures_util::StreamExt as _;
use kordon_api::devices::{
    Accepted, Device, EnrollRequest, EnrollToken, Enrolled, Stored, device_path,
};
use kordon_api::edges::{EdgeProgress, EntriesIn, Skipped};
use kordon_core::checkpoint::Checkpoint;
use kordon_core::custody::Event;
use kordon_core::link::{Link, LinkBody};
use kordon_core::note::{Note, SignerKey};
use kordon_store::now_ms;
use serde::de::DeserializeOwned;

use crate::config::ForwardConfig;
use crate::state::{App, ForwardProgress};

/// Custody action: an item of this log could not be sent to the centre.
pub(crate) const SKIP_ACTION: &str = "forward-skip";
/// Custody action: a skipped item reached the centre.
pub(crate) const RECOVERED_ACTION: &str = "forward-recovered";

/// Why a step of forwarding failed (shown on the dashboard, then retried).
#[derive(Debug, thiserror::Error)]
pub(crate) enum ForwardError {
    /// No answer.
    #[error("the centre is not reachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// The centre refused.
    #[error("the centre answered {status}: {code} {message}")]
    Refused {
        /// HTTP status.
        status: reqwest::StatusCode,
        /// Its error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// Something here: the log, a stored segment, an entry.
    #[error("{0}")]
    Local(String),
}

impl ForwardError {
    /// Whether the failure is the item's own (its bytes here, or the centre refusing that
    /// one item), so the items after it go on; else the link or the centre is at fault and
    /// the whole step is tried again.
    fn is_items(&self) -> bool {
        match self {
            ForwardError::Local(_) => true,
            ForwardError::Refused { status, .. } => {
                matches!(status.as_u16(), 400 | 404 | 409 | 413 | 422)
            }
            ForwardError::Unreachable(_) => false,
        }
    }
}

type Result<T> = std::result::Result<T, ForwardError>;

mod holes;
mod receipt;
mod records;

fn local(e: impl std::fmt::Display) -> ForwardError {
    ForwardError::Local(e.to_string())
}

/// Entries per batch.
const BATCH: u64 = 256;

/// Cameras whose items go to the centre at the same time.
const PARALLEL: usize = 8;

/// What an entry brings the centre besides itself.
pub(super) enum Item {
    /// A camera's enrollment: made at the centre with the same key.
    Enroll {
        /// The camera.
        device: String,
        /// Its verifier key (public in both custody versions).
        key: String,
    },
    /// A segment or event link, uploaded as the camera would.
    Link(Link),
    /// A link that does not parse (it becomes a hole).
    Unreadable(String),
}

impl Item {
    /// The item of `entry`, if it has one.
    pub(super) fn of(entry: &[u8]) -> Option<Item> {
        let first_line = entry.split(|b| *b == b'\n').next().unwrap_or_default();
        match first_line {
            b"kordon.custody/v1" | b"kordon.custody/v2" => {
                let note = Note::parse(entry).ok()?;
                let e = Event::parse(note.text()).ok()?;
                if e.action() != "enroll" {
                    return None;
                }
                let s = e.subject();
                Some(Item::Enroll {
                    device: s.strip_prefix("device ").unwrap_or(s).to_owned(),
                    key: e.public_detail()?.to_owned(),
                })
            }
            v if kordon_core::link::is_link_version(v) => Some(match Link::parse(entry) {
                Ok(l) => Item::Link(l),
                Err(e) => Item::Unreadable(e.to_string()),
            }),
            _ => None,
        }
    }

    /// The camera, and the link's number (0 for an enrollment).
    pub(super) fn camera(&self) -> (&str, u64) {
        match self {
            Item::Enroll { device, .. } => (device, 0),
            Item::Link(l) => (l.body().device(), l.body().seq()),
            Item::Unreadable(_) => ("", 0),
        }
    }
}

/// Holes tried again in one step.
const HOLES_PER_STEP: u32 = 16;

/// Starts the task if the configuration says where to forward.
pub(crate) fn spawn(app: Arc<App>) {
    let key = app.log_key.clone();
    let Some(cfg) = app.config.forward.clone() else {
        return;
    };
    if let Ok(mut s) = app.forwarding.lock() {
        s.url.clone_from(&cfg.url);
    }
    tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        let f = Forwarder {
            app,
            cfg,
            key,
            http,
        };
        f.run().await;
    });
}

pub(super) struct Forwarder {
    pub(super) app: Arc<App>,
    pub(super) cfg: ForwardConfig,
    pub(super) key: SignerKey,
    pub(super) http: reqwest::Client,
}

/// What one step did.
struct Step {
    /// The centre's size of this log after it.
    at: u64,
    /// Whether there is more to do right away.
    busy: bool,
    /// Whether changes to the records wait to settle (look again soon).
    settling: bool,
}

impl Forwarder {
    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.cfg.url.trim_end_matches('/'))
    }

    fn status(&self, f: impl FnOnce(&mut ForwardProgress)) {
        if let Ok(mut s) = self.app.forwarding.lock() {
            f(&mut s);
        }
    }

    /// Sets the gauges from the status, in every state (a link that is down included).
    async fn gauges(&self) {
        let holes = self.app.meta.forward_hole_count().await;
        let now = now_ms();
        let s = self
            .app
            .forwarding
            .lock()
            .map(|mut s| {
                if let Ok(n) = holes {
                    s.holes = n;
                }
                if s.forwarded >= s.size {
                    s.caught_up_ms = now;
                }
                s.clone()
            })
            .unwrap_or_default();
        metrics::gauge!("kordon_forward_backlog").set(s.size.saturating_sub(s.forwarded) as f64);
        metrics::gauge!("kordon_forward_connected").set(if s.connected { 1.0 } else { 0.0 });
        metrics::gauge!("kordon_forward_behind_seconds")
            .set((now - s.caught_up_ms).max(0) as f64 / 1000.0);
        metrics::gauge!("kordon_forward_holes").set(s.holes as f64);
        metrics::gauge!("kordon_forward_confirmed").set(s.confirmed as f64);
    }

    async fn run(&self) {
        let mut published = self.app.log.subscribe();
        // Until the centre says, it holds at least what it confirmed.
        let confirmed = self.app.meta.forward_confirmed().await.unwrap_or(0);
        self.status(|s| {
            s.forwarded = confirmed;
            s.confirmed = confirmed;
            s.caught_up_ms = now_ms();
        });
        let mut cursor: Option<(u64, u64)> = None;
        let mut backoff = Duration::from_secs(1);
        loop {
            let size = self.app.log.published().size;
            self.status(|s| s.size = size);
            match self.step(cursor, size).await {
                Ok((step, records)) => {
                    cursor = Some((step.at, records));
                    backoff = Duration::from_secs(1);
                    self.status(|s| {
                        s.forwarded = step.at;
                        s.connected = true;
                        s.last_error = None;
                    });
                    self.gauges().await;
                    if !step.busy {
                        // Up to date: wait for the log to grow, or for the next hole's
                        // or record's turn.
                        let wait = if step.settling {
                            Duration::from_millis(records::SETTLE_MS as u64)
                        } else {
                            Duration::from_secs(self.cfg.retry_s.clamp(1, 30))
                        };
                        let _ = tokio::time::timeout(wait, published.changed()).await;
                    }
                }
                Err(e) => {
                    cursor = None;
                    let e = e.to_string();
                    tracing::warn!(error = %e, "forwarding to the centre failed; will retry");
                    metrics::counter!("kordon_forward_failures_total").increment(1);
                    self.status(|s| {
                        s.connected = false;
                        s.last_error = Some(e);
                    });
                    self.gauges().await;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// One step: a batch of entries if any wait, then a batch of records, then the holes
    /// that are due. Answers the step and the centre's record position.
    async fn step(&self, cursor: Option<(u64, u64)>, size: u64) -> Result<(Step, u64)> {
        let (from, records) = match cursor {
            Some(c) => c,
            None => {
                let p = self.centre_progress().await?;
                (p.size, p.records)
            }
        };
        let mut step = Step {
            at: from,
            busy: false,
            settling: false,
        };
        if from < size {
            let to = size.min(from + BATCH);
            step.at = self.batch(from, to).await?;
            step.busy = step.at < size;
        }
        // Records follow the entries (the centre takes them once it knows this log).
        let (records, left) = if step.at > 0 {
            self.records(records).await?
        } else {
            (records, records::Left::Nothing)
        };
        step.busy |= matches!(left, records::Left::More);
        step.settling = matches!(left, records::Left::Settling);
        step.busy |= self.retry_holes().await?;
        Ok((step, records))
    }

    async fn centre_progress(&self) -> Result<EdgeProgress> {
        // The origin is one path segment (its slashes escaped).
        let origin = self
            .key
            .verifier()
            .name()
            .replace('%', "%25")
            .replace('/', "%2F");
        self.call(self.http.get(self.url(&format!("/v1/edges/{origin}"))))
            .await
    }

    /// Sends a request with the token; the typed answer of a success, else an error naming
    /// the centre's error code.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T> {
        let res = req
            .bearer_auth(&self.cfg.token)
            .timeout(Duration::from_secs(600))
            .send()
            .await?;
        let status = res.status();
        let body = res.bytes().await?;
        if status.is_success() {
            serde_json::from_slice(&body)
                .map_err(|e| local(format!("the centre's answer does not parse: {e}")))
        } else {
            let e: kordon_api::Error =
                serde_json::from_slice(&body).unwrap_or_else(|_| kordon_api::Error {
                    error: String::new(),
                    message: String::from_utf8_lossy(&body).into_owned(),
                });
            Err(ForwardError::Refused {
                status,
                code: e.error,
                message: e.message,
            })
        }
    }

    /// Forwards entries `[from, to)`; answers the centre's new size.
    async fn batch(&self, from: u64, to: u64) -> Result<u64> {
        let reader = self.app.log.reader();
        let (entries, root) = tokio::task::spawn_blocking(move || -> Result<_> {
            let entries = reader.entries(from, to).map_err(local)?;
            let root = kordon_core::merkle::root(&reader, to).map_err(local)?;
            Ok((entries, root))
        })
        .await
        .map_err(local)??;
        // Each camera's items in log order; different cameras' side by side.
        let mut by_device: std::collections::BTreeMap<String, Vec<(u64, Item)>> =
            std::collections::BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(item) = Item::of(e) {
                by_device
                    .entry(item.camera().0.to_owned())
                    .or_default()
                    .push((from + i as u64, item));
            }
        }
        let mut sending = futures_util::stream::FuturesUnordered::new();
        let mut waiting = by_device.into_values();
        let mut sent = Vec::new();
        loop {
            while sending.len() < PARALLEL {
                let Some(items) = waiting.next() else { break };
                sending.push(self.device_items(items));
            }
            match sending.next().await {
                Some(r) => sent.push(r),
                None => break,
            }
        }
        let mut skipped = Vec::new();
        for s in sent {
            skipped.extend(s?);
        }
        skipped.sort_by_key(|s| s.index);
        let checkpoint = Checkpoint {
            origin: self.key.verifier().name().to_owned(),
            size: to,
            root,
            extensions: Vec::new(),
        };
        let mut note = Note::new(&checkpoint.to_text()).map_err(local)?;
        note.sign(&self.key).map_err(local)?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let body = EntriesIn {
            checkpoint: String::from_utf8_lossy(&note.to_bytes()).into_owned(),
            from,
            entries: entries.iter().map(|e| b64.encode(e)).collect(),
            skipped,
        };
        let v: EdgeProgress = self
            .call(self.http.post(self.url("/v1/edges/entries")).json(&body))
            .await?;
        self.status(|s| s.last_ok_ms = Some(now_ms()));
        if v.size == to {
            self.confirm(&v, to, root).await;
        }
        Ok(v.size)
    }

    /// Brings one camera's items to the centre in order; answers those skipped.
    async fn device_items(&self, items: Vec<(u64, Item)>) -> Result<Vec<Skipped>> {
        let mut skipped = Vec::new();
        for (index, item) in items {
            match self.send(&item).await {
                Ok(()) => {}
                Err(err) if err.is_items() => {
                    let reason = err.to_string();
                    self.skip(index, &item, &reason).await?;
                    skipped.push(Skipped { index, reason });
                }
                Err(err) => return Err(err),
            }
        }
        Ok(skipped)
    }

    /// Brings one item to the centre.
    pub(super) async fn send(&self, item: &Item) -> Result<()> {
        match item {
            Item::Enroll { device, key } => self.enroll(device, key).await,
            Item::Link(link) => self.upload(link).await,
            Item::Unreadable(e) => Err(local(format!("the link does not parse: {e}"))),
        }
    }

    /// Enrolls the device at the centre with the same key, unless it already is.
    async fn enroll(&self, device: &str, key: &str) -> Result<()> {
        let known = match self
            .call::<Device>(self.http.get(self.url(&device_path(device))))
            .await
        {
            Ok(d) => Some(d),
            Err(ForwardError::Refused { code, .. }) if code == "unknown_device" => None,
            Err(e) => return Err(e),
        };
        if let Some(d) = known {
            if d.key != key {
                return Err(local(format!(
                    "device {device} is enrolled at the centre with another key"
                )));
            }
            return Ok(());
        }
        let t: EnrollToken = self
            .call(
                self.http
                    .post(self.url(&format!("{}/enroll-token", device_path(device)))),
            )
            .await?;
        let _: Enrolled = self
            .call(self.http.post(self.url("/v1/enroll")).json(&EnrollRequest {
                device: device.to_owned(),
                token: t.token,
                key: key.to_owned(),
            }))
            .await?;
        Ok(())
    }

    /// Uploads a link (with its segment's bytes) as the camera would have.
    async fn upload(&self, link: &Link) -> Result<()> {
        let b = link.body();
        let (device, seq) = (b.device(), b.seq());
        let req = match b {
            LinkBody::Segment(s) => {
                let Some(read) = self.app.blobs.read(&s.sha256, None).await.map_err(local)? else {
                    return Err(local(format!(
                        "segment {} of device {device} is not stored here",
                        s.sha256
                    )));
                };
                self.http
                    .put(self.url(&format!("{}/segments/{seq}", device_path(device))))
                    .header(
                        "Kordon-Manifest",
                        base64::engine::general_purpose::STANDARD.encode(link.bytes()),
                    )
                    .header(reqwest::header::CONTENT_LENGTH, read.size)
                    .body(reqwest::Body::wrap_stream(read.body))
            }
            LinkBody::Event(_) => self
                .http
                .put(self.url(&format!("{}/events/{seq}", device_path(device))))
                .body(link.bytes().to_vec()),
        };
        let stored = match self.call::<Accepted>(req).await {
            Ok(a) => a.stored,
            // The centre holds another link under this number (the camera also reached it
            // directly): it keeps this one as evidence of that, which is all it can do.
            Err(ForwardError::Refused { code, message, .. }) if code == "equivocation" => {
                tracing::warn!(device, seq, %message, "the centre holds a different link");
                metrics::counter!("kordon_forward_equivocations_total").increment(1);
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if matches!(b, LinkBody::Segment(_)) && stored == Stored::New {
            self.status(|s| s.segments += 1);
        }
        Ok(())
    }
}
