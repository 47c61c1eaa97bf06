//! Redacted copies of footage (`docs/spec/redaction.md`): made by a supervisor or an
//! analyst from a camera's segments in their scope, rendered by ffmpeg, logged as a
//! `derive` event (public: hashes) and a `redact` event (private: who and why). The
//! originals are untouched.

use std::path::PathBuf;

use kordon_api::release::{OpsIn, RedactionIn, RedactionOut};
use kordon_core::redact::{BoxStyle, Key, Redaction, Sound, Span, Track};
use kordon_core::time::Timestamp;
use kordon_store::meta::RedactionRow;
use kordon_store::now_ms;

use super::{new_id, one_line};
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::localtime::rfc3339;
use crate::package::redacted;
use crate::state::App;

/// Longest range one redaction may cover (a render takes time; a longer one is split).
pub(crate) const MAX_RANGE_MS: i64 = 2 * 3_600_000;

fn bad(code: &'static str, m: impl Into<String>) -> ApiError {
    ApiError::BadRequest(code, m.into())
}

/// The operations as kordon-core reads them (boxes numbered in order).
pub(crate) fn redaction_of(ops: &OpsIn) -> Result<Redaction, ApiError> {
    let span = |s: &kordon_api::release::SpanIn| Span {
        from_ms: s.from_ms,
        to_ms: s.to_ms,
    };
    let mut boxes = Vec::new();
    for (i, b) in ops.boxes.iter().enumerate() {
        let style = BoxStyle::parse(&b.style).ok_or_else(|| {
            bad(
                "bad_redaction",
                format!("box {}: style {:?} is not black or blur", i + 1, b.style),
            )
        })?;
        boxes.push(Track {
            id: i as u32 + 1,
            style,
            keys: b
                .keys
                .iter()
                .map(|k| Key {
                    t_ms: k.t_ms,
                    x: k.x,
                    y: k.y,
                    w: k.w,
                    h: k.h,
                })
                .collect(),
        });
    }
    Ok(Redaction {
        boxes,
        blur: ops.blur.iter().map(span).collect(),
        sound: ops
            .mute
            .iter()
            .map(|s| (Sound::Mute, span(s)))
            .chain(ops.bleep.iter().map(|s| (Sound::Bleep, span(s))))
            .collect(),
        watermark: None,
    })
}

/// The crossing point footage of `device` over `[from, to)` belongs to, if `who` may see it.
pub(crate) async fn footage_scope(
    app: &App,
    who: &Principal,
    device: &str,
    from: i64,
    to: i64,
) -> Result<String, ApiError> {
    let assignments = app.meta.assignments(device).await?;
    let during: Vec<_> = assignments
        .iter()
        .filter(|a| a.start_ms < to && a.end_ms.is_none_or(|e| e > from))
        .collect();
    let pairs = || {
        during
            .iter()
            .map(|a| (a.crossing_point.as_str(), a.officer.as_str()))
    };
    match during.first() {
        Some(a) if who.sees_footage(pairs()) => Ok(a.crossing_point.clone()),
        _ => Err(ApiError::Forbidden(format!(
            "footage of {device} at these times is outside what {} may see",
            who.name
        ))),
    }
}

/// The folder redacted copies are kept in.
pub(crate) fn folder(app: &App) -> Result<PathBuf, ApiError> {
    let dir = app.config.data.join("redactions");
    std::fs::create_dir_all(&dir).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(dir)
}

/// Makes a redacted copy.
///
/// # Errors
/// `bad_request` (times, reason), `bad_redaction` (an operation that does not fit the
/// video, named), `footage_incomplete`, `too_large`, forbidden outside the scope, not
/// found, unavailable without ffmpeg.
pub(crate) async fn create(
    app: &App,
    who: &Principal,
    b: RedactionIn,
) -> Result<RedactionOut, ApiError> {
    who.require(Op::Redact)?;
    let reason = one_line("reason", &b.reason, 300)?;
    let from = rfc3339("from", &b.from).map_err(|m| bad("bad_request", m))?;
    let to = rfc3339("to", &b.to).map_err(|m| bad("bad_request", m))?;
    if to <= from || to - from > MAX_RANGE_MS {
        return Err(bad(
            "bad_request",
            "to must be after from, at most 2 hours later",
        ));
    }
    let crossing_point = footage_scope(app, who, &b.device, from, to).await?;
    if let Some(i) = &b.inspection
        && app.meta.inspection(i).await?.is_none()
    {
        return Err(ApiError::NotFound(format!("no inspection {i}")));
    }
    let r = redaction_of(&b.ops)?;
    let dir = folder(app)?;
    let s = redacted::sources(app, &b.device, from, to, &dir).await?;
    let made = async {
        r.check(s.width, s.height, s.duration_ms())
            .map_err(|e| bad("bad_redaction", e.to_string()))?;
        let id = new_id(8)?;
        let out = dir.join(format!("{id}.mp4"));
        let copy =
            redacted::derive_copy(app, &who.name, &format!("redaction {id}"), &s, &r, &out).await?;
        app.custody(&who.name, "redact", &format!("redaction {id}"), &reason)
            .await?;
        let (first, last) = (&s.segments[0], &s.segments[s.segments.len() - 1]);
        let row = RedactionRow {
            id,
            crossing_point,
            inspection_id: b.inspection.clone(),
            device_id: b.device.clone(),
            first_seq: first.seq as i64,
            last_seq: last.seq as i64,
            from_ms: first.start_ms,
            to_ms: last.end_ms,
            ops: r.to_text(),
            ops_sha256: r.digest().to_hex(),
            reason,
            created_by: who.name.clone(),
            created_at: now_ms(),
            result_sha256: copy.sha256.to_hex(),
            size: std::fs::metadata(&out).map_or(0, |m| m.len() as i64),
            event_hash: copy.event.hash.clone(),
        };
        app.meta.put_redaction(&row).await?;
        Ok::<_, ApiError>(row)
    }
    .await;
    s.clean();
    Ok(out_of(made?))
}

/// A redaction in `who`'s scope.
///
/// # Errors
/// Not found; forbidden outside the scope.
pub(crate) async fn get(app: &App, who: &Principal, id: &str) -> Result<RedactionRow, ApiError> {
    who.require(Op::Redact)?;
    let r = app
        .meta
        .redaction(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no redaction {id}")))?;
    if !who.sees_crossing_point(&r.crossing_point) {
        return Err(ApiError::Forbidden(format!(
            "redaction {id} is of crossing point {}, outside {}'s scope",
            r.crossing_point, who.name
        )));
    }
    Ok(r)
}

/// The rendered copy's file, for `who` (a `view` custody event, once per person).
///
/// # Errors
/// As [`get`]; not found if the file is gone.
pub(crate) async fn video(app: &App, who: &Principal, id: &str) -> Result<PathBuf, ApiError> {
    let r = get(app, who, id).await?;
    let path = folder(app)?.join(format!("{}.mp4", r.id));
    if !path.exists() {
        return Err(ApiError::NotFound(format!(
            "the copy of redaction {id} is not on this server"
        )));
    }
    let first = app
        .views
        .lock()
        .is_ok_and(|mut v| v.insert((who.name.clone(), format!("redaction {id}"), String::new())));
    if first {
        app.custody(
            &who.name,
            "view",
            &format!("redaction {id}"),
            "redacted copy played",
        )
        .await?;
    }
    Ok(path)
}

/// The API's view of a stored redaction.
pub(crate) fn out_of(r: RedactionRow) -> RedactionOut {
    RedactionOut {
        video: format!("/v1/redactions/{}/video", r.id),
        id: r.id,
        device: r.device_id,
        inspection: r.inspection_id,
        first_seq: r.first_seq as u64,
        last_seq: r.last_seq as u64,
        from: Timestamp(r.from_ms).to_string(),
        to: Timestamp(r.to_ms).to_string(),
        ops: r.ops,
        ops_sha256: r.ops_sha256,
        sha256: r.result_sha256,
        size: r.size as u64,
        reason: r.reason,
        created_by: r.created_by,
        created_at: Timestamp(r.created_at).to_string(),
    }
}

/// The originals of `device` over `[from, to)` joined into one file (streams copied) for
/// the redaction editor: time 0 is the start of the first segment, as in the operations.
/// Each segment opened is a `view` custody event with the reason "redaction". Cached by
/// the sources' digest.
///
/// # Errors
/// As [`create`]'s footage errors.
pub(crate) async fn source(
    app: &App,
    who: &Principal,
    device: &str,
    from: &str,
    to: &str,
) -> Result<PathBuf, ApiError> {
    who.require(Op::Redact)?;
    let from = rfc3339("from", from).map_err(|m| bad("bad_request", m))?;
    let to = rfc3339("to", to).map_err(|m| bad("bad_request", m))?;
    if to <= from || to - from > MAX_RANGE_MS {
        return Err(bad(
            "bad_request",
            "to must be after from, at most 2 hours later",
        ));
    }
    footage_scope(app, who, device, from, to).await?;
    let dir = folder(app)?;
    let s = redacted::sources(app, device, from, to, &dir).await?;
    let joined = async {
        let hashes = s.hashes()?;
        for h in &hashes {
            super::footage::open(app, who, &h.to_hex(), Some("redaction"), None).await?;
        }
        let digest = kordon_core::derive::sources_digest(&hashes).to_hex();
        let out = dir.join(format!("source-{}.mp4", &digest[..32]));
        if !out.exists() {
            let tmp = dir.join(format!(".source-{}-{}.mp4", &digest[..32], new_id(4)?));
            let paths: Vec<&std::path::Path> = s.files.iter().map(|(p, _)| p.as_path()).collect();
            crate::package::derive::join(&dir, &paths, &tmp)
                .await
                .map_err(ApiError::Unavailable)?;
            std::fs::rename(&tmp, &out).map_err(|e| ApiError::Internal(e.to_string()))?;
        }
        Ok(out)
    }
    .await;
    s.clean();
    joined
}
