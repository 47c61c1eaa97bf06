//! The objects a body-worn system puts into a recording container: clips (signed into
//! the camera's chain and stored byte for byte), bookmarks, GNSS trails; and whatever a
//! rejected-content container holds.

use futures_util::StreamExt as _;
use kordon_api::axis::{GnssTrail, ObjectKind};
use kordon_core::Hash;
use kordon_core::link::{Attestation, Link, LinkBody, Segment};
use kordon_core::time::Timestamp;
use kordon_store::meta::{AxisObject, AxisRecording, Bookmark, GnssPoint};
use kordon_store::now_ms;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use super::{MetaMap, chain_next, meta_json, never, put_registry, state, time_of};
use crate::error::ApiError;
use crate::ops::ingest::BodyStream;
use crate::state::App;

/// The largest bookmark or GNSS trail.
const MAX_SMALL_OBJECT: u64 = 4 << 20;

/// An object's bytes, received into a temporary file in the data folder.
struct Received {
    file: tempfile::TempPath,
    sha256: Hash,
    size: u64,
    signing: Option<kordon_core::signed_video::Signing>,
}

async fn receive(app: &App, body: &mut BodyStream, limit: u64) -> Result<Received, ApiError> {
    let dir = app.config.data.join("axis-tmp");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let file = tempfile::NamedTempFile::new_in(&dir)
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .into_temp_path();
    let mut out = tokio::fs::File::create(&file).await.map_err(io)?;
    let mut sha = Sha256::new();
    let mut scan = kordon_core::signed_video::Scanner::default();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(ApiError::Interrupted)?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(never(
                "axis_too_large",
                format!("more than {limit} bytes: never storable here"),
            ));
        }
        sha.update(&chunk);
        scan.update(&chunk);
        out.write_all(&chunk).await.map_err(io)?;
    }
    out.sync_all().await.map_err(io)?;
    Ok(Received {
        file,
        sha256: Hash(sha.finalize().into()),
        size,
        signing: scan.found(),
    })
}

fn io(e: std::io::Error) -> ApiError {
    if e.raw_os_error() == Some(28) {
        ApiError::StorageFull
    } else {
        ApiError::Internal(e.to_string())
    }
}

/// Keeps the received bytes in the blob store.
async fn keep(app: &App, r: &Received) -> Result<(), ApiError> {
    if app.blobs.contains(&r.sha256).await {
        return Ok(());
    }
    let f = tokio::fs::File::open(&r.file).await.map_err(io)?;
    let stream = file_stream(f);
    app.blobs.put_stream(r.size, r.sha256, stream).await?;
    Ok(())
}

/// A file as a stream of chunks.
fn file_stream(
    f: tokio::fs::File,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Unpin {
    Box::pin(futures_util::stream::unfold(f, |mut f| async move {
        use tokio::io::AsyncReadExt as _;
        let mut buf = vec![0u8; 1 << 20];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    }))
}

/// Refuses new uploads when the data folder is nearly full (507) or too many clips are
/// arriving at once (503).
fn admit(app: &App) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    let a = state(app)?;
    let config = app.config.axis.as_ref().ok_or(ApiError::Unauthorized)?;
    let free = fs4::available_space(&app.config.data).unwrap_or(u64::MAX) >> 20;
    if free < config.min_free_mib {
        tracing::warn!(
            free_mib = free,
            "body-worn system: upload refused, storage nearly full"
        );
        return Err(ApiError::StorageFull);
    }
    a.uploads.clone().try_acquire_owned().map_err(|_| {
        metrics::counter!("kordon_axis_busy_total").increment(1);
        ApiError::Unavailable("busy: too many clips arriving at once; try again soon".into())
    })
}

/// `PUT <container>/<object>`: answers whether it is new (201) or a retry (201 too; the
/// controller cannot tell and need not).
pub(crate) async fn put_object(
    app: &App,
    container: &str,
    object: &str,
    meta: MetaMap,
    body: &mut BodyStream,
) -> Result<bool, ApiError> {
    if matches!(container, "System" | "Users" | "Devices") {
        receive(app, body, 64 << 10).await?;
        put_registry(app, container, object, &meta).await?;
        return Ok(true);
    }
    let rec = app
        .meta
        .axis_recording(container)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("container {container}")))?;
    let kind = ObjectKind::of(object);
    if rec.status != "Rejected" {
        match kind {
            None => {
                return Err(never(
                    "axis_unknown_object",
                    format!("{object:?} is not a clip, bookmark or GNSS trail"),
                ));
            }
            Some(ObjectKind::Key) => {
                return Err(never(
                    "axis_encryption_refused",
                    "this content destination does not take end-to-end encrypted content (WantEncryption is false)",
                ));
            }
            _ => {}
        }
    }
    let _permit = admit(app)?;
    let limit = if matches!(kind, Some(ObjectKind::Bookmark | ObjectKind::Gnss)) {
        MAX_SMALL_OBJECT
    } else {
        app.config.max_segment_bytes
    };
    let r = receive(app, body, limit).await?;
    if let Some(old) = app.meta.axis_object(container, object).await? {
        if old.sha256 == r.sha256.to_hex() {
            return Ok(false);
        }
        return Err(never(
            "axis_object_exists",
            format!(
                "{container}/{object} is stored with other bytes; stored evidence is never replaced"
            ),
        ));
    }
    let mut row = AxisObject {
        container: container.into(),
        name: object.into(),
        kind: String::new(),
        sha256: r.sha256.to_hex(),
        size: r.size as i64,
        seq: None,
        signed_video: i64::from(r.signing.is_some()),
        meta: meta_json(&meta),
        received_at: now_ms(),
    };
    if rec.status == "Rejected" {
        keep(app, &r).await?;
        row.kind = "rejected".into();
    } else {
        match kind {
            Some(ObjectKind::Clip) => {
                row.kind = "clip".into();
                row.seq = Some(clip(app, &rec, &meta, &r).await? as i64);
            }
            Some(ObjectKind::Bookmark) => {
                row.kind = "bookmark".into();
                bookmark(app, &rec, object, &meta, &r).await?;
            }
            _ => {
                row.kind = "gnss".into();
                gnss(app, &rec, object, &r).await?;
            }
        }
    }
    app.meta.axis_put_object(&row).await?;
    Ok(true)
}

/// `POST <container>/<object>`: replaces the object's metadata.
pub(crate) async fn post_object(
    app: &App,
    container: &str,
    object: &str,
    meta: MetaMap,
) -> Result<(), ApiError> {
    if matches!(container, "System" | "Users" | "Devices") {
        return put_registry(app, container, object, &meta).await;
    }
    let mut o = app
        .meta
        .axis_object(container, object)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("{container}/{object}")))?;
    o.meta = meta_json(&meta);
    app.meta.axis_put_object(&o).await?;
    Ok(())
}

/// A clip: its sound measured, its link signed into the camera's chain, its bytes kept.
async fn clip(
    app: &App,
    rec: &AxisRecording,
    meta: &MetaMap,
    r: &Received,
) -> Result<u64, ApiError> {
    let a = state(app)?;
    let (Some(start), Some(end)) = (time_of(meta, "starttime")?, time_of(meta, "stoptime")?) else {
        return Err(never(
            "axis_no_duration",
            "a clip needs StartTimeISO and StopTimeISO",
        ));
    };
    if end < start {
        return Err(never("axis_no_duration", "the clip stops before it starts"));
    }
    let path = r.file.to_path_buf();
    let audio = tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("ffmpeg")
            .args(kordon_core::audio::probe_args(&path.to_string_lossy()))
            .stdin(std::process::Stdio::null())
            .output();
        out.map(|o| kordon_core::audio::from_probe(&String::from_utf8_lossy(&o.stderr)))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(format!("running ffmpeg: {e}")))?
    .map_err(|e| {
        never(
            "axis_not_video",
            format!("the clip is not readable video: {e}"),
        )
    })?;
    keep(app, r).await?;
    let _chain = a.chain.lock().await;
    // The link of a clip an earlier attempt stored before failing (the log briefly
    // unavailable: the controller retries) is not signed twice.
    if let Some(l) = app.meta.link_by_blob(&r.sha256.to_hex()).await?
        && l.device_id == rec.serial
        && (l.start_ms, l.end_ms) == (start, end)
    {
        return Ok(l.seq);
    }
    let (seq, prev) = chain_next(app, &rec.serial).await?;
    let body = LinkBody::Segment(Segment {
        device: rec.serial.clone(),
        seq,
        start: Timestamp(start),
        end: Timestamp(end),
        size: r.size,
        sha256: r.sha256,
        night: false,
        audio,
        attested: Attestation::System,
        prev,
    });
    let link = Link::sign(body, &a.receiver).map_err(|e| ApiError::Internal(e.to_string()))?;
    crate::ops::ingest::record_received(app, &link).await?;
    // A body-worn system's cameras upload from their dock; the recording names the firmware.
    let report = kordon_api::devices::HealthReport {
        docked: Some(true),
        firmware: super::parse_meta(&rec.meta).get("firmwareversion").cloned(),
        ..Default::default()
    };
    crate::ops::devices::report_health(app, &rec.serial, &report, audio).await?;
    metrics::counter!("kordon_axis_clips_total").increment(1);
    metrics::counter!("kordon_upload_bytes_total").increment(r.size);
    Ok(seq)
}

/// A bookmark or category: a kordon bookmark on the camera's footage.
async fn bookmark(
    app: &App,
    rec: &AxisRecording,
    object: &str,
    meta: &MetaMap,
    r: &Received,
) -> Result<(), ApiError> {
    let text = tokio::fs::read_to_string(&r.file)
        .await
        .map_err(|_| never("axis_bad_bookmark", "a bookmark's text is UTF-8"))?;
    // StartTime is RFC 3339 itself here (not `StartTimeISO`).
    let at = match meta.get("starttime") {
        Some(v) => {
            crate::localtime::rfc3339("StartTime", v).map_err(|e| never("axis_bad_time", e))?
        }
        None => time_of(&super::parse_meta(&rec.meta), "starttime")?.unwrap_or(rec.created_at),
    };
    let mut label = String::new();
    if let Some(c) = meta.get("categoryname").filter(|c| !c.is_empty()) {
        label.push_str(&format!("[{c}] "));
    }
    label.push_str(text.trim());
    if let Some(t) = meta.get("tags").filter(|t| !t.is_empty()) {
        label.push_str(&format!(" ({t})"));
    }
    let label: String = label
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(500)
        .collect();
    keep(app, r).await?;
    app.meta
        .add_bookmark(
            &Bookmark {
                id: format!(
                    "axis-{}",
                    &hex::encode(Sha256::digest(format!("{}/{object}", rec.container)))[..24]
                ),
                inspection_id: None,
                device_id: Some(rec.serial.clone()),
                at_ms: at,
                label: if label.is_empty() {
                    "bookmark".into()
                } else {
                    label
                },
                created_by: "axis".into(),
            },
            now_ms(),
        )
        .await?;
    Ok(())
}

/// A GNSS trail: its points stored with the camera.
async fn gnss(app: &App, rec: &AxisRecording, object: &str, r: &Received) -> Result<(), ApiError> {
    let bytes = tokio::fs::read(&r.file).await.map_err(io)?;
    let trail: GnssTrail = serde_json::from_slice(&bytes)
        .map_err(|e| never("axis_bad_gnss", format!("GNSS trail: {e}")))?;
    let mut points = Vec::with_capacity(trail.coordinate_entries.len());
    for (i, e) in trail.coordinate_entries.iter().enumerate() {
        let (lon, lat) = e.lon_lat().ok_or_else(|| {
            never(
                "axis_bad_gnss",
                format!("point {i}: {:?} is not POINT(lon lat)", e.location_wkt),
            )
        })?;
        let at = crate::localtime::rfc3339("Timestamp", &e.timestamp)
            .map_err(|m| never("axis_bad_gnss", format!("point {i}: {m}")))?;
        points.push(GnssPoint {
            at_ms: at,
            lon_e7: (lon * 1e7).round() as i64,
            lat_e7: (lat * 1e7).round() as i64,
        });
    }
    keep(app, r).await?;
    app.meta
        .add_gnss(&rec.serial, &format!("{}/{object}", rec.container), &points)
        .await?;
    Ok(())
}
