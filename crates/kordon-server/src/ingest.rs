//! Segment and event upload.
//!
//! `PUT /v1/devices/{device}/segments/{seq}` with the signed `kordon.segment/v1` note in
//! the `Kordon-Manifest` header (standard base64) and the segment bytes as the body;
//! `PUT /v1/devices/{device}/events/{seq}` with the signed `kordon.event/v1` note as the
//! body. The manifest is checked before a byte of the body is read; the body is streamed
//! into the blob store while it is hashed; the link is stored and logged; the answer comes
//! once the link is in a published checkpoint. A retry of the same link gets the same
//! answer and stores nothing twice; a different link under a used number is equivocation.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use futures_util::StreamExt as _;
use kordon_core::link::{Link, LinkBody};
use kordon_core::note::VerifierKey;
use kordon_store::meta::{InsertOutcome, NewLink};
use kordon_store::now_ms;
use serde::Serialize;

use crate::app::App;
use crate::error::{ApiError, Params};

/// The answer to an accepted link.
#[derive(Debug, Serialize)]
pub struct Accepted {
    device: String,
    seq: u64,
    link_hash: String,
    log_index: u64,
    /// `new` the first time, `existing` for a retry.
    stored: &'static str,
}

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
    link.verify(&key)
        .map_err(|e| ApiError::BadSignature(e.to_string()))?;
    Ok(link)
}

fn new_link(link: &Link) -> NewLink<'_> {
    let (kind, blob, size, night, attested) = match link.body() {
        LinkBody::Segment(s) => (
            "segment",
            Some(s.sha256.to_hex()),
            Some(s.size),
            Some(s.night),
            Some(s.attested.as_str()),
        ),
        LinkBody::Event(e) => (e.kind.as_str(), None, None, None, None),
    };
    let b = link.body();
    NewLink {
        device_id: b.device(),
        seq: b.seq(),
        hash: link.hash().to_hex(),
        kind,
        start_ms: b.start().0,
        end_ms: b.end().0,
        blob_sha256: blob,
        size,
        night,
        attested,
        body: link.bytes(),
    }
}

/// Stores and logs an authenticated link whose bytes (if a segment) are stored.
async fn record(app: &App, link: &Link) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let b = link.body();
    let accepted = |log_index, stored| Accepted {
        device: b.device().to_owned(),
        seq: b.seq(),
        link_hash: link.hash().to_hex(),
        log_index,
        stored,
    };
    match app.meta.insert_link(&new_link(link), now_ms()).await? {
        InsertOutcome::Inserted => {
            let index = app.append(link.bytes().to_vec()).await?;
            app.meta.set_log_index(&link.hash().to_hex(), index).await?;
            metrics::counter!("kordon_links_total", "outcome" => "new").increment(1);
            Ok((StatusCode::CREATED, Json(accepted(index, "new"))))
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
            Ok((StatusCode::OK, Json(accepted(index, "existing"))))
        }
        InsertOutcome::Conflict(existing) => Err(equivocation(app, link, &existing.hash).await?),
    }
}

async fn equivocation(app: &App, link: &Link, existing: &str) -> Result<ApiError, ApiError> {
    let b = link.body();
    app.meta
        .record_equivocation(
            b.device(),
            b.seq(),
            &link.hash().to_hex(),
            link.bytes(),
            now_ms(),
        )
        .await?;
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

/// How much of an upload's unread body (a refusal, or a retry of a stored segment) is read
/// and discarded so that the client sees the answer instead of a reset connection.
const DRAIN_LIMIT: u64 = 64 << 20;

type BodyStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<axum::body::Bytes, String>> + Send>>;

/// `PUT /v1/devices/{device}/segments/{seq}`.
pub(crate) async fn put_segment(
    State(app): State<Arc<App>>,
    Path((device, seq)): Path<(String, u64)>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    // Drop uploads that stall.
    let idle = Duration::from_secs(app.config.upload_idle_timeout_s);
    let mut stream: BodyStream = Box::pin(
        futures_util::stream::unfold(body.into_data_stream(), move |mut s| async move {
            match tokio::time::timeout(idle, s.next()).await {
                Ok(Some(item)) => Some((item.map_err(|e| e.to_string()), s)),
                Ok(None) => None,
                Err(_) => Some((Err(format!("no data for {} s", idle.as_secs())), s)),
            }
        })
        .fuse(),
    );
    let result = segment(&app, &device, seq, &headers, &mut stream).await;
    // Whatever the answer — a refusal, or a retry of a segment already stored that was
    // answered without reading it — read what is left of the body, so that the
    // connection stays usable for the camera's next upload.
    let mut drained = 0u64;
    while drained < DRAIN_LIMIT {
        match tokio::time::timeout(Duration::from_secs(2), stream.next()).await {
            Ok(Some(Ok(chunk))) => drained += chunk.len() as u64,
            _ => break,
        }
    }
    result
}

async fn segment(
    app: &App,
    device: &str,
    seq: u64,
    headers: &HeaderMap,
    stream: &mut BodyStream,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let manifest = headers
        .get("kordon-manifest")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
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
            "the manifest is not a kordon.segment/v1 note".into(),
        ));
    };
    if seg.size > app.config.max_segment_bytes {
        return Err(ApiError::TooLarge(seg.size, app.config.max_segment_bytes));
    }
    let known = precheck(app, &link).await?;
    if known.is_none() || !app.blobs.contains(&seg.sha256).await {
        app.blobs.put_stream(seg.size, seg.sha256, stream).await?;
        metrics::counter!("kordon_upload_bytes_total").increment(seg.size);
    }
    record(app, &link).await
}

/// `PUT /v1/devices/{device}/events/{seq}`.
pub(crate) async fn put_event(
    State(app): State<Arc<App>>,
    Path((device, seq)): Path<(String, u64)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let link = authenticate(&app, &device, seq, &body).await?;
    if !matches!(link.body(), LinkBody::Event(_)) {
        return Err(ApiError::BadRequest(
            "not_an_event",
            "the body is not a kordon.event/v1 note".into(),
        ));
    }
    precheck(&app, &link).await?;
    record(&app, &link).await
}

/// `GET /v1/blobs/{sha256}`: the stored bytes of a segment, with range support.
pub(crate) async fn get_blob(
    State(app): State<Arc<App>>,
    Path(hash): Path<String>,
    headers: axum::http::HeaderMap,
    Params(q): Params<BlobQuery>,
) -> Result<axum::response::Response, ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ViewFootage, false)
        .await?;
    let h = kordon_core::Hash::from_hex(&hash)
        .map_err(|e| ApiError::BadRequest("bad_hash", e.to_string()))?;
    let reason = q
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty() && r.len() <= 200 && !r.chars().any(char::is_control))
        .ok_or_else(|| {
            ApiError::BadRequest(
                "reason_required",
                "say why this footage is opened (?reason=…: a case reference or a few words, up to 200 characters)".into(),
            )
        })?;
    let link = app
        .meta
        .link_by_blob(&h.to_hex())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no stored segment with SHA-256 {hash}")))?;
    let assignments = app.meta.assignments(&link.device_id).await?;
    let during = assignments
        .iter()
        .filter(|a| a.start_ms < link.end_ms && a.end_ms.is_none_or(|e| e > link.start_ms))
        .map(|a| (a.checkpoint.as_str(), a.officer.as_str()));
    if !who.sees_footage(during) {
        return Err(ApiError::Forbidden(format!(
            "segment {} of {} is outside what {} may see",
            link.seq, link.device_id, who.name
        )));
    }
    let not_stored = || {
        ApiError::NotFound(format!(
            "the bytes of SHA-256 {hash} are not stored (purged by retention or quarantined; its signed manifest remains)"
        ))
    };
    if link.purged_at.is_some() || !app.blobs.contains(&h).await {
        return Err(not_stored());
    }
    // One custody event per person, segment and reason (a player asks for many ranges).
    let first = app
        .views
        .lock()
        .map(|mut v| {
            if v.len() > 100_000 {
                v.clear();
            }
            v.insert((who.name.clone(), link.hash.clone(), reason.to_owned()))
        })
        .unwrap_or(true);
    if first {
        app.custody(
            &who.name,
            "view",
            &kordon_core::package::tombstone_subject(&link.device_id, link.seq),
            &format!("reason: {reason}"),
        )
        .await?;
    }
    serve_range(&app, &h, &headers)
        .await?
        .ok_or_else(not_stored)
}

/// Serves a blob from either store, whole or one byte range (`Range: bytes=a-b`, `a-` or
/// `-n`), as `<video>` asks for it.
async fn serve_range(
    app: &App,
    h: &kordon_core::Hash,
    headers: &axum::http::HeaderMap,
) -> Result<Option<axum::response::Response>, ApiError> {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse as _;
    let Some(size) = app.blobs.size(h).await? else {
        return Ok(None);
    };
    let wanted = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_range(v, size));
    let unsatisfiable = headers.contains_key(header::RANGE) && wanted.is_none();
    if unsatisfiable {
        return Ok(Some(
            (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{size}"))],
            )
                .into_response(),
        ));
    }
    let Some(r) = app.blobs.read(h, wanted.clone()).await? else {
        return Ok(None);
    };
    let status = if wanted.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut res = (status, axum::body::Body::from_stream(r.body)).into_response();
    let hs = res.headers_mut();
    let val = |s: String| {
        axum::http::HeaderValue::from_str(&s).map_err(|e| ApiError::Internal(e.to_string()))
    };
    hs.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("video/mp4"),
    );
    hs.insert(
        header::ACCEPT_RANGES,
        axum::http::HeaderValue::from_static("bytes"),
    );
    hs.insert(
        header::CONTENT_LENGTH,
        val((r.range.end - r.range.start).to_string())?,
    );
    if wanted.is_some() {
        hs.insert(
            header::CONTENT_RANGE,
            val(format!(
                "bytes {}-{}/{size}",
                r.range.start,
                r.range.end.saturating_sub(1)
            ))?,
        );
    }
    Ok(Some(res))
}

/// One range of `bytes=...` within `size`, as a half-open range; `None` if it is not one
/// satisfiable range.
fn parse_range(v: &str, size: u64) -> Option<std::ops::Range<u64>> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || size == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let r = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            size.saturating_sub(n)..size
        }
        (a, "") => a.parse::<u64>().ok()?..size,
        (a, b) => a.parse::<u64>().ok()?..b.parse::<u64>().ok()?.saturating_add(1).min(size),
    };
    (r.start < r.end).then_some(r)
}

#[cfg(test)]
mod range_tests {
    use super::parse_range;

    #[test]
    fn ranges_as_browsers_ask() {
        assert_eq!(parse_range("bytes=0-", 100), Some(0..100));
        assert_eq!(parse_range("bytes=10-19", 100), Some(10..20));
        assert_eq!(parse_range("bytes=90-200", 100), Some(90..100));
        assert_eq!(parse_range("bytes=-10", 100), Some(90..100));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}

/// Query of `GET /v1/blobs/{sha256}`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct BlobQuery {
    /// Why the footage is opened: a case reference or a few words.
    reason: Option<String>,
}
