//! Segment and event upload: a link is authenticated by its signature (any relay may
//! deliver it), the segment's bytes are streamed into the blob store while hashed, the
//! link is stored and logged, and the answer comes once it is in a published checkpoint.
//! A retry of the same link gets the same answer and stores nothing twice; a different
//! link under a used number is equivocation.

use base64::Engine as _;
use kordon_api::devices::{Accepted, Stored};
use kordon_core::chain::ChainOptions;
use kordon_core::link::{Link, LinkBody};
use kordon_core::note::VerifierKey;
use kordon_store::meta::{InsertOutcome, NewLink};
use kordon_store::now_ms;

use crate::error::ApiError;
use crate::state::App;

/// A segment's body as it arrives.
pub(crate) type BodyStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, String>> + Send>>;

/// Parses and authenticates a link for `(device, seq)`: well-formed, for that path,
/// from an enrolled, unrevoked device, signed by its key.
async fn authenticate(app: &App, device: &str, seq: u64, bytes: &[u8]) -> Result<Link, ApiError> {
    let link =
        Link::parse(bytes).map_err(|e| ApiError::BadRequest("malformed_link", e.to_string()))?;
    let body = link.body();
    if body.device() != device || body.seq() != seq {
        return Err(ApiError::BadRequest(
            "link_mismatch",
            format!(
                "link is for {}/{}, the path says {device}/{seq}",
                body.device(),
                body.seq()
            ),
        ));
    }
    let dev = app
        .meta
        .device(device)
        .await?
        .ok_or_else(|| ApiError::UnknownDevice(device.to_owned()))?;
    if dev.revoked_at.is_some() {
        return Err(ApiError::DeviceRevoked(device.to_owned()));
    }
    let key = VerifierKey::parse(&dev.vkey)
        .map_err(|e| ApiError::Internal(format!("stored key of {device}: {e}")))?;
    let ahead = body.end().0 - now_ms();
    if ahead > app.config.max_clock_skew_s * 1000 {
        return Err(ApiError::BadRequest(
            "link_in_future",
            format!(
                "the link ends at {}, {} s ahead of the server's clock (at most {} s allowed): check the camera's clock",
                body.end(),
                ahead / 1000,
                app.config.max_clock_skew_s
            ),
        ));
    }
    // A signature check is CPU work: off the async workers.
    let (checked, key) = (link.clone(), key);
    tokio::task::spawn_blocking(move || checked.verify(&key))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::BadSignature(e.to_string()))?;
    Ok(link)
}

fn new_link<'a>(app: &App, link: &'a Link) -> NewLink<'a> {
    NewLink {
        link,
        log_floor: app.log.published().size,
        chain: ChainOptions {
            max_gap_ms: app.config.max_gap_ms,
        },
    }
}

/// Stores and logs an authenticated link whose bytes (if a segment) are stored.
async fn record(app: &App, link: &Link) -> Result<Accepted, ApiError> {
    let b = link.body();
    let accepted = |log_index, stored| Accepted {
        device: b.device().to_owned(),
        seq: b.seq(),
        link_hash: link.hash().to_hex(),
        log_index,
        stored,
    };
    let logging = app.logging.read().await;
    match app.meta.insert_link(&new_link(app, link), now_ms()).await? {
        InsertOutcome::Inserted => {
            let index = app.append(link.bytes().to_vec()).await?;
            app.meta.set_log_index(&link.hash().to_hex(), index).await?;
            metrics::counter!("kordon_links_total", "outcome" => "new").increment(1);
            Ok(accepted(index, Stored::New))
        }
        InsertOutcome::Duplicate(existing) => {
            let index = match existing.log_index {
                Some(i) => i as u64,
                // Stored by a request that died before the log answered: log it now.
                None => {
                    let i = app.append(existing.body.clone()).await?;
                    app.meta.set_log_index(&existing.hash, i).await?;
                    i
                }
            };
            metrics::counter!("kordon_links_total", "outcome" => "retry").increment(1);
            Ok(accepted(index, Stored::Existing))
        }
        InsertOutcome::Conflict(existing) => {
            // The custody event takes the guard itself (a second shared hold could wait
            // behind the relog job's and never get it).
            drop(logging);
            Err(equivocation(app, link, &existing.hash).await?)
        }
    }
}

async fn equivocation(app: &App, link: &Link, existing: &str) -> Result<ApiError, ApiError> {
    let b = link.body();
    let new = app
        .meta
        .record_equivocation(
            b.device(),
            b.seq(),
            &link.hash().to_hex(),
            link.bytes(),
            now_ms(),
        )
        .await?;
    if new {
        // The evidence goes into the public log, not only into this database: the kept
        // link's hash and the refused twin's (its signed bytes are served with the
        // device's continuity).
        app.custody(
            "system",
            "equivocation",
            &format!("device {} seq {}", b.device(), b.seq()),
            &format!("kept {existing}, refused twin {}", link.hash().to_hex()),
        )
        .await?;
    }
    metrics::counter!("kordon_equivocations_total").increment(1);
    tracing::warn!(device = b.device(), seq = b.seq(), existing, new = %link.hash(), "EQUIVOCATION: device signed two different links under one sequence number");
    Ok(ApiError::Equivocation {
        device: b.device().to_owned(),
        seq: b.seq(),
        existing: existing.to_owned(),
    })
}

/// Refuses early what is already known: an identical link is a retry, a different one
/// equivocation.
async fn precheck(app: &App, link: &Link) -> Result<Option<u64>, ApiError> {
    let b = link.body();
    match app.meta.link(b.device(), b.seq()).await? {
        Some(existing) if existing.hash == link.hash().to_hex() => {
            Ok(existing.log_index.map(|i| i as u64))
        }
        Some(existing) => Err(equivocation(app, link, &existing.hash).await?),
        None => Ok(None),
    }
}

/// A segment: `manifest` is the `Kordon-Manifest` header (the signed
/// `kordon.segment/v1` note, standard base64), checked before a byte of `body` is read.
pub(crate) async fn put_segment(
    app: &App,
    device: &str,
    seq: u64,
    manifest: Option<&str>,
    health: Option<&str>,
    body: &mut BodyStream,
) -> Result<Accepted, ApiError> {
    let manifest = manifest.ok_or_else(|| {
        ApiError::BadRequest(
            "missing_manifest",
            "header Kordon-Manifest with the signed manifest is required".into(),
        )
    })?;
    let manifest = base64::engine::general_purpose::STANDARD
        .decode(manifest.trim())
        .map_err(|_| {
            ApiError::BadRequest(
                "malformed_manifest",
                "Kordon-Manifest is not standard base64".into(),
            )
        })?;
    let link = authenticate(app, device, seq, &manifest).await?;
    let LinkBody::Segment(seg) = link.body() else {
        return Err(ApiError::BadRequest(
            "not_a_segment",
            "the manifest is not a kordon.segment note".into(),
        ));
    };
    if seg.size > app.config.max_segment_bytes {
        return Err(ApiError::TooLarge(seg.size, app.config.max_segment_bytes));
    }
    let known = precheck(app, &link).await?;
    let stored = app.blobs.contains(&seg.sha256).await;
    if !stored {
        app.blobs.put_stream(seg.size, seg.sha256, body).await?;
        metrics::counter!("kordon_upload_bytes_total").increment(seg.size);
    } else if known.is_none() {
        // Bytes stored under another link: this one must still send them all (a retry of
        // this very link, which proved them before, is answered without reading).
        kordon_store::blob::check_body(seg.size, seg.sha256, body).await?;
    }
    let accepted = record(app, &link).await?;
    reported(app, device, health, seg.audio).await;
    Ok(accepted)
}

/// Keeps what the camera said of itself with an upload; a failure to keep it is logged
/// and costs the upload nothing.
async fn reported(app: &App, device: &str, health: Option<&str>, audio: kordon_core::link::Audio) {
    let Some(h) = health else { return };
    let report = kordon_api::devices::HealthReport::parse(h);
    if let Err(e) = crate::ops::devices::report_health(app, device, &report, audio).await {
        tracing::warn!(device, error = %e, "camera health report not kept");
    }
}

/// A link this server signed for what it received from a body-worn system (its segment's
/// bytes already stored): stored and logged like any camera's.
pub(crate) async fn record_received(app: &App, link: &Link) -> Result<Accepted, ApiError> {
    precheck(app, link).await?;
    record(app, link).await
}

/// An event: the signed `kordon.event/v1` note.
pub(crate) async fn put_event(
    app: &App,
    device: &str,
    seq: u64,
    note: &[u8],
    health: Option<&str>,
) -> Result<Accepted, ApiError> {
    let link = authenticate(app, device, seq, note).await?;
    if !matches!(link.body(), LinkBody::Event(_)) {
        return Err(ApiError::BadRequest(
            "not_an_event",
            "the body is not a kordon.event/v1 note".into(),
        ));
    }
    precheck(app, &link).await?;
    let accepted = record(app, &link).await?;
    reported(app, device, health, kordon_core::link::Audio::Unstated).await;
    Ok(accepted)
}
