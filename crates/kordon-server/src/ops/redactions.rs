//! Redacted copies of footage (`docs/spec/redaction.md`): made by a supervisor or an
//! analyst from a camera's segments in their scope, rendered by ffmpeg, logged as a
//! `derive` event (public: hashes) and a `redact` event (private: who and why). The
//! originals are untouched.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};

use kordon_api::release::{OpsIn, RedactionIn, RedactionOut};
use kordon_core::redact::{BoxStyle, Key, Redaction, Sound, Span, Track};
use kordon_core::time::Timestamp;
use kordon_store::meta::{RedactionRow, Renders};
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
        // Nothing there is "nothing there", not "not allowed".
        None => Err(ApiError::NotFound(format!(
            "camera {device} was not worn by anyone at these times"
        ))),
        Some(a) if who.sees_footage(pairs()) => Ok(a.crossing_point.clone()),
        Some(_) => Err(ApiError::Forbidden(format!(
            "footage of {device} at these times is outside what {} may see",
            who.name
        ))),
    }
}

/// Renders waiting or running, by subject (`redaction <id>`, `share <id>`), with the
/// share done (0 to 1).
static RENDERS: LazyLock<Mutex<HashMap<String, f64>>> = LazyLock::new(Mutex::default);
/// One render at a time: ffmpeg's encoder takes every core.
static RENDERER: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);
/// Renders queued at most; more are refused until one is done.
pub(crate) const MAX_QUEUED: usize = 8;

/// The progress of a queued or running render.
pub(crate) fn progress(subject: &str) -> Option<f64> {
    RENDERS.lock().ok()?.get(subject).copied()
}

/// A place in the render queue for `subject`; answers how its render reports progress.
///
/// # Errors
/// `too_many_attempts` (429) when [`MAX_QUEUED`] wait already.
pub(crate) fn reserve(subject: &str) -> Result<Box<dyn Fn(f64) + Send + Sync>, ApiError> {
    let mut q = RENDERS
        .lock()
        .map_err(|_| ApiError::Internal("render queue".into()))?;
    if q.len() >= MAX_QUEUED {
        return Err(ApiError::TooManyRequests(format!(
            "{MAX_QUEUED} copies are being rendered; try again when one is done"
        )));
    }
    q.insert(subject.to_owned(), 0.0);
    let key = subject.to_owned();
    Ok(Box::new(move |f| {
        if let Ok(mut q) = RENDERS.lock() {
            q.insert(key.clone(), f);
        }
    }))
}

/// Gives a place back.
pub(crate) fn unreserve(subject: &str) {
    if let Ok(mut q) = RENDERS.lock() {
        q.remove(subject);
    }
}

/// Runs a reserved render in the background, one at a time.
pub(crate) fn spawn(subject: String, work: impl std::future::Future<Output = ()> + Send + 'static) {
    tokio::spawn(async move {
        let permit = RENDERER.acquire().await;
        work.await;
        drop(permit);
        unreserve(&subject);
    });
}

/// Makes a redacted copy: checked now, rendered in the background (its state says when
/// it is ready).
///
/// # Errors
/// `bad_request` (times, reason), `bad_redaction` (an operation that does not fit the
/// video, named), `footage_incomplete`, `too_large`, forbidden outside the scope, not
/// found, `too_many_attempts` when the render queue is full.
pub(crate) async fn create(
    app: &Arc<App>,
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
    let dir = redacted::folder(app, redacted::COPIES)?;
    let s = redacted::sources(app, &b.device, from, to, &dir).await?;
    if let Err(e) = r.check(s.width, s.height, s.duration_ms()) {
        s.clean();
        return Err(bad("bad_redaction", e.to_string()));
    }
    let (first, last) = (&s.segments[0], &s.segments[s.segments.len() - 1]);
    let row = RedactionRow {
        id: new_id(8)?,
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
        state: "rendering".into(),
        error: None,
        result_sha256: None,
        size: None,
        event_hash: None,
    };
    let subject = format!("redaction {}", row.id);
    let progress = match reserve(&subject) {
        Ok(p) => p,
        Err(e) => {
            s.clean();
            return Err(e);
        }
    };
    let recorded = async {
        app.meta.put_redaction(&row).await?;
        app.custody(&who.name, "redact", &subject, &row.reason)
            .await
    }
    .await;
    if let Err(e) = recorded {
        unreserve(&subject);
        s.clean();
        return Err(e);
    }
    let (app, who, id) = (app.clone(), who.name.clone(), row.id.clone());
    // Written under a dot name, renamed once logged: a stop leaves no half copy in view.
    let (part, out) = (
        dir.join(format!(".{id}.mp4")),
        dir.join(format!("{id}.mp4")),
    );
    spawn(subject.clone(), async move {
        let res = redacted::derive_copy(&app, &who, &subject, &s, &r, &part, &*progress).await;
        s.clean();
        let res = res.and_then(|copy| {
            std::fs::rename(&part, &out)
                .map(|()| copy)
                .map_err(|e| ApiError::Internal(e.to_string()))
        });
        let done = match res {
            Ok(copy) => {
                let size = std::fs::metadata(&out).map_or(0, |m| m.len() as i64);
                app.meta
                    .redaction_ready(&id, &copy.sha256.to_hex(), size, &copy.event.hash)
                    .await
            }
            Err(e) => app
                .meta
                .render_failed(Renders::Redactions, Some(&id), &e.to_string())
                .await
                .map(|_| ()),
        };
        if let Err(e) = done {
            tracing::error!(redaction = id, "a rendered copy could not be recorded: {e}");
        }
    });
    Ok(out_of(row))
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
    let path = redacted::folder(app, redacted::COPIES)?.join(format!("{}.mp4", r.id));
    if r.state != "ready" {
        return Err(ApiError::Conflict(format!(
            "redaction {id} is {}, not ready to play",
            r.state
        )));
    }
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
        progress: (r.state == "rendering")
            .then(|| progress(&format!("redaction {}", r.id)))
            .flatten(),
        state: r.state,
        error: r.error,
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
        size: r.size.map(|s| s as u64),
        reason: r.reason,
        created_by: r.created_by,
        created_at: Timestamp(r.created_at).to_string(),
    }
}

/// The originals of `device` over `[from, to)` joined into one file (streams copied) for
/// the redaction editor: time 0 is the start of the first segment, as in the operations.
/// Each segment opened is a `view` custody event with the reason "redaction". Kept a day
/// under `redactions/previews/`, by the sources' digest.
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
    let dir = redacted::folder(app, redacted::COPIES)?;
    let previews = dir.join("previews");
    std::fs::create_dir_all(&previews).map_err(|e| ApiError::Internal(e.to_string()))?;
    forget_old(&previews);
    let s = redacted::sources(app, device, from, to, &dir).await?;
    let joined = async {
        let hashes = s.hashes()?;
        for h in &hashes {
            super::footage::open(app, who, &h.to_hex(), Some("redaction"), None).await?;
        }
        let digest = kordon_core::derive::sources_digest(&hashes).to_hex();
        let out = previews.join(format!("{}.mp4", &digest[..32]));
        if !out.exists() {
            let tmp = previews.join(format!(".{}-{}.mp4", &digest[..32], new_id(4)?));
            let paths: Vec<&std::path::Path> = s.files.iter().map(|(p, _)| p.as_path()).collect();
            crate::package::derive::join(&previews, &paths, &tmp)
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

/// How long an editor's preview is kept after it was made.
const PREVIEW_MS: u128 = 24 * 3_600_000;

/// Removes the previews made more than [`PREVIEW_MS`] ago (the folder holds only the
/// previews of the last day: as many as the editors opened).
fn forget_old(previews: &std::path::Path) {
    let Ok(dir) = std::fs::read_dir(previews) else {
        return;
    };
    for e in dir.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_millis() > PREVIEW_MS);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
