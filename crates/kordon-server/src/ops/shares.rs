//! Sharing a redacted copy with a named recipient: the copy rendered again with a
//! watermark naming the recipient and the share, packed as a redacted package the
//! recipient can verify; a link and a one-time code the operator hands over; every
//! opening and download a custody event; revocable; dead after its expiry.

use std::path::PathBuf;
use std::sync::Arc;

use kordon_api::release::{ShareCreated, ShareIn, ShareList, ShareOut};
use kordon_core::redact::Redaction;
use kordon_core::time::Timestamp;
use kordon_store::meta::{RedactionRow, Renders, ShareRow};
use kordon_store::now_ms;

use super::new_id;
use super::one_line;
use super::redactions;
use crate::auth::{Op, Principal, new_secret, secret_hash};
use crate::error::ApiError;
use crate::localtime::rfc3339;
use crate::package::redacted;
use crate::state::App;

/// Longest a share may live.
pub(crate) const MAX_LIFE_MS: i64 = 90 * 24 * 3_600_000;
/// Wrong codes after which a share is locked.
pub(crate) const MAX_FAILURES: i64 = 5;
/// A page of the list.
const PAGE: u32 = 50;

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// The watermark of a share's copy.
pub(crate) fn watermark(recipient: &str, id: &str) -> String {
    format!("{recipient} · share {id} · kordon")
}

/// The code as the recipient may type it: `abcd-ef01-2345`, any case, dashes optional.
fn normal(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What a share hands over.
enum What {
    /// A redacted copy, in a redacted package (no originals).
    Copy(Box<RedactionRow>, Redaction),
    /// A case's evidence package, originals included.
    Case(String),
}

impl What {
    fn name(&self) -> String {
        match self {
            What::Copy(r, _) => format!("redaction {}", r.id),
            What::Case(c) => format!("case {c}"),
        }
    }
}

/// What `b` asks to share, if `who` may: a ready copy in scope, or a case he may export.
async fn what(app: &App, who: &Principal, b: &ShareIn) -> Result<(What, String), ApiError> {
    match (&b.redaction, &b.case) {
        (Some(id), None) => {
            let r = redactions::get(app, who, id).await?;
            if r.state != "ready" {
                return Err(ApiError::Conflict(format!(
                    "redaction {} is {}: share it once it is ready",
                    r.id, r.state
                )));
            }
            let ops = Redaction::parse(&r.ops).map_err(internal)?;
            let cp = r.crossing_point.clone();
            Ok((What::Copy(Box::new(r), ops), cp))
        }
        (None, Some(id)) => {
            who.require(Op::ExportCase)?;
            let (case, _) = super::cases::reachable(app, who, id).await?;
            Ok((What::Case(case.id), case.crossing_point.unwrap_or_default()))
        }
        _ => Err(ApiError::BadRequest(
            "bad_request",
            "say what to share: a redaction or a case, one of them".into(),
        )),
    }
}

/// Shares a redacted copy or a case's evidence package: the share exists at once (its
/// code shown once); its watermarked copy and package are made in the background (its
/// state says when).
///
/// # Errors
/// `bad_request` (recipient, purpose, expiry), forbidden outside the scope, not found,
/// conflict if the copy is not ready, `too_many_attempts` when the render queue is full.
pub(crate) async fn create(
    app: &Arc<App>,
    who: &Principal,
    b: ShareIn,
) -> Result<ShareCreated, ApiError> {
    who.require(Op::Share)?;
    let (what, crossing_point) = what(app, who, &b).await?;
    let recipient = one_line("recipient", &b.recipient, 120)?;
    let purpose = one_line("purpose", &b.purpose, 300)?;
    let expires =
        rfc3339("expires_at", &b.expires_at).map_err(|m| ApiError::BadRequest("bad_request", m))?;
    let now = now_ms();
    if expires <= now || expires - now > MAX_LIFE_MS {
        return Err(ApiError::BadRequest(
            "bad_request",
            "expires_at must be in the future, at most 90 days away".into(),
        ));
    }
    let id = new_id(8)?;
    let code = new_id(6)?;
    let mark = Redaction {
        watermark: Some(watermark(&recipient, &id)),
        ..Redaction::default()
    };
    mark.check(u32::MAX, u32::MAX, u64::MAX)
        .map_err(|e| ApiError::BadRequest("bad_request", format!("recipient: {e}")))?;
    let subject = format!("share {id}");
    let progress = redactions::reserve(&subject)?;
    let recorded = async {
        app.meta
            .put_share(&ShareRow {
                id: id.clone(),
                crossing_point,
                redaction_id: match &what {
                    What::Copy(r, _) => Some(r.id.clone()),
                    What::Case(_) => None,
                },
                case_id: match &what {
                    What::Case(c) => Some(c.clone()),
                    What::Copy(..) => None,
                },
                recipient: recipient.clone(),
                purpose: purpose.clone(),
                code_sha256: secret_hash(&code),
                created_by: who.name.clone(),
                created_at: now,
                expires_at: expires,
                revoked_at: None,
                revoked_by: None,
                failures: 0,
                opened_at: None,
                session_sha256: None,
                state: "preparing".into(),
                error: None,
                file_sha256: None,
                size: None,
                verdict: None,
                downloads: 0,
            })
            .await?;
        app.custody(
            &who.name,
            "share",
            &subject,
            &format!(
                "{} to {recipient} for {purpose} until {}",
                what.name(),
                Timestamp(expires)
            ),
        )
        .await
    }
    .await;
    if let Err(e) = recorded {
        redactions::unreserve(&subject);
        return Err(e);
    }
    let (app2, who2, id2) = (app.clone(), who.name.clone(), id.clone());
    redactions::spawn(subject.clone(), async move {
        let mark = mark.watermark.unwrap_or_default();
        let res = match what {
            What::Copy(r, mut ops) => {
                ops.watermark = Some(mark);
                prepare(&app2, &who2, &id2, &r, &ops, &*progress).await
            }
            What::Case(case) => prepare_case(&app2, &who2, &id2, &case, mark).await,
        };
        let done = match res {
            Ok((sha, size, verdict)) => {
                app2.meta
                    .share_ready(&id2, &sha.to_hex(), size as i64, &verdict)
                    .await
            }
            Err(e) => app2
                .meta
                .render_failed(Renders::Shares, Some(&id2), &e.to_string())
                .await
                .map(|_| ()),
        };
        if let Err(e) = done {
            tracing::error!(share = id2, "a share's package could not be recorded: {e}");
        }
    });
    Ok(ShareCreated {
        link: format!("/shared/{id}"),
        id,
        code: format!("{}-{}-{}", &code[..4], &code[4..8], &code[8..]),
        expires_at: Timestamp(expires).to_string(),
    })
}

/// Renders a share's watermarked copy, writes its package and checks it as its recipient
/// will (`kordon-verify`'s checks, once: the package does not change): answers its
/// SHA-256, size and the verdict (`holds`, or the failures).
async fn prepare(
    app: &App,
    who: &str,
    id: &str,
    r: &RedactionRow,
    ops: &Redaction,
    progress: &(dyn Fn(f64) + Send + Sync),
) -> Result<(kordon_core::Hash, u64, String), ApiError> {
    let dir = redacted::folder(app, redacted::SHARES)?;
    let s = redacted::sources(app, &r.device_id, r.from_ms, r.to_ms, &dir).await?;
    let made = async {
        if (
            s.segments[0].seq as i64,
            s.segments[s.segments.len() - 1].seq as i64,
        ) != (r.first_seq, r.last_seq)
        {
            return Err(ApiError::Conflict(format!(
                "the segments of redaction {} are no longer {}..={}",
                r.id, r.first_seq, r.last_seq
            )));
        }
        let video = dir.join(format!(".{id}.mp4"));
        let subject = format!("share {id}");
        let copy = redacted::derive_copy(app, who, &subject, &s, ops, &video, progress).await?;
        let packed = redacted::package(app, who, id, &s, &copy, &dir).await;
        let _ = std::fs::remove_file(&video);
        let (path, sha, size) = packed?;
        Ok((sha, size, verdict(app, path).await?))
    }
    .await;
    s.clean();
    made
}

/// A case's evidence package written for share `id`, its playable files watermarked.
async fn prepare_case(
    app: &App,
    who: &str,
    id: &str,
    case: &str,
    mark: String,
) -> Result<(kordon_core::Hash, u64, String), ApiError> {
    let target = crate::package::Target {
        dir: redacted::folder(app, redacted::SHARES)?,
        name: format!("{id}.zip"),
        watermark: Some(mark),
    };
    let e = crate::package::write(app, who, case, &target).await?;
    let sha = kordon_core::Hash::from_hex(&e.sha256).map_err(internal)?;
    Ok((
        sha,
        e.size,
        verdict(app, target.dir.join(&target.name)).await?,
    ))
}

/// What `kordon-verify`'s checks say of a package, against this server's policy:
/// `holds`, or its failures, one a line.
async fn verdict(app: &App, path: PathBuf) -> Result<String, ApiError> {
    let policy = crate::package::proofs::policy_text(app)?;
    tokio::task::spawn_blocking(move || {
        let options = kordon_verify::VerifyOptions {
            policy: Some(&policy),
            threads: 1,
            ..Default::default()
        };
        match kordon_verify::verify_package(&path, &options) {
            Ok(r) if r.holds() => "holds".to_owned(),
            Ok(r) => r
                .failures()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => e.to_string(),
        }
    })
    .await
    .map_err(internal)
}

/// A page of the shares in `who`'s scope, newest first.
///
/// # Errors
/// Forbidden without the permission.
pub(crate) async fn list(
    app: &App,
    who: &Principal,
    before: Option<i64>,
) -> Result<ShareList, ApiError> {
    who.require(Op::Share)?;
    let rows = app.meta.shares(before, PAGE).await?;
    let next = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|s| s.created_at))
        .flatten();
    let now = now_ms();
    Ok(ShareList {
        shares: rows
            .into_iter()
            .filter(|s| who.sees_crossing_point(&s.crossing_point))
            .map(|s| out_of(s, now))
            .collect(),
        next,
    })
}

/// A share in `who`'s scope.
///
/// # Errors
/// Not found (or outside the scope).
pub(crate) async fn get(app: &App, who: &Principal, id: &str) -> Result<ShareOut, ApiError> {
    who.require(Op::Share)?;
    app.meta
        .share(id)
        .await?
        .filter(|s| who.sees_crossing_point(&s.crossing_point))
        .map(|s| out_of(s, now_ms()))
        .ok_or_else(|| ApiError::NotFound(format!("no share {id} in your scope")))
}

/// The state a share is in.
pub(crate) fn state(s: &ShareRow, now: i64) -> &'static str {
    if s.revoked_at.is_some() {
        "revoked"
    } else if now >= s.expires_at {
        "expired"
    } else if s.state == "preparing" {
        "preparing"
    } else if s.state == "failed" {
        "failed"
    } else if s.opened_at.is_some() {
        "opened"
    } else if s.failures >= MAX_FAILURES {
        "locked"
    } else {
        "waiting"
    }
}

fn out_of(s: ShareRow, now: i64) -> ShareOut {
    ShareOut {
        state: state(&s, now).to_owned(),
        id: s.id,
        redaction: s.redaction_id,
        case: s.case_id,
        recipient: s.recipient,
        purpose: s.purpose,
        created_by: s.created_by,
        created_at: Timestamp(s.created_at).to_string(),
        expires_at: Timestamp(s.expires_at).to_string(),
        downloads: s.downloads as u64,
        sha256: s.file_sha256,
        size: s.size.map(|n| n as u64),
        error: s.error,
    }
}

/// Revokes a share: its link refuses from now on.
///
/// # Errors
/// Not found, forbidden outside the scope, conflict if already revoked.
pub(crate) async fn revoke(app: &App, who: &Principal, id: &str) -> Result<u64, ApiError> {
    who.require(Op::Share)?;
    let s = app
        .meta
        .share(id)
        .await?
        .filter(|s| who.sees_crossing_point(&s.crossing_point))
        .ok_or_else(|| ApiError::NotFound(format!("no share {id} in your scope")))?;
    if !app.meta.revoke_share(&s.id, &who.name, now_ms()).await? {
        return Err(ApiError::Conflict(format!("share {id} is revoked already")));
    }
    app.custody(&who.name, "share-revoke", &format!("share {id}"), "revoked")
        .await
}

/// The recipient's side: a share that is still live, or why not.
///
/// # Errors
/// Not found; `share_revoked`, `share_expired` (410).
pub(crate) async fn live(app: &App, id: &str) -> Result<ShareRow, ApiError> {
    let s = app
        .meta
        .share(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no share {id}")))?;
    match state(&s, now_ms()) {
        "revoked" => Err(ApiError::Gone(
            "share_revoked",
            format!("share {id} was revoked by the sender"),
        )),
        "expired" => Err(ApiError::Gone(
            "share_expired",
            format!("share {id} expired at {}", Timestamp(s.expires_at)),
        )),
        _ => Ok(s),
    }
}

/// Whether `session` (the recipient's cookie) opens share `s`.
pub(crate) fn admitted(s: &ShareRow, session: Option<&str>) -> bool {
    session.is_some_and(|v| s.session_sha256.as_deref() == Some(secret_hash(v).as_str()))
}

/// The recipient types the one-time code: answers a session secret for his browser.
///
/// # Errors
/// `wrong_code` (attempts left named), `code_used`, `share_locked`, and [`live`]'s.
pub(crate) async fn enter_code(app: &App, id: &str, code: &str) -> Result<String, ApiError> {
    let s = live(app, id).await?;
    if s.opened_at.is_some() {
        return Err(ApiError::Forbidden(format!(
            "the code of share {id} was used already; ask the sender for a new share"
        )));
    }
    if s.failures >= MAX_FAILURES {
        return Err(ApiError::TooManyRequests(format!(
            "share {id} is locked after {MAX_FAILURES} wrong codes; ask the sender for a new share"
        )));
    }
    if secret_hash(&normal(code)) != s.code_sha256 {
        let n = app.meta.share_failed(id).await?;
        app.custody(
            "recipient",
            "share-refused",
            &format!("share {id}"),
            "wrong code",
        )
        .await?;
        return Err(ApiError::BadRequest(
            "wrong_code",
            format!(
                "that is not the code of share {id}; {} attempt(s) left",
                (MAX_FAILURES - n).max(0)
            ),
        ));
    }
    let session = new_secret()?;
    if !app
        .meta
        .open_share(id, &secret_hash(&session), now_ms())
        .await?
    {
        return Err(ApiError::Forbidden(format!(
            "the code of share {id} was used already; ask the sender for a new share"
        )));
    }
    app.custody(
        "recipient",
        "share-open",
        &format!("share {id}"),
        "code accepted",
    )
    .await?;
    Ok(session)
}

/// The package, for the recipient's session: a `share-download` custody event each time.
///
/// # Errors
/// Forbidden without the session; [`live`]'s.
pub(crate) async fn download(
    app: &App,
    id: &str,
    session: Option<&str>,
) -> Result<PathBuf, ApiError> {
    let s = live(app, id).await?;
    if !admitted(&s, session) {
        return Err(ApiError::Forbidden(format!(
            "open share {id} with its code first"
        )));
    }
    let Some(sha) = s.file_sha256.as_deref().filter(|_| s.state == "ready") else {
        return Err(ApiError::Conflict(format!(
            "the package of share {id} is {}; try again in a minute",
            s.state
        )));
    };
    app.custody(
        "recipient",
        "share-download",
        &format!("share {id}"),
        &format!("redacted package {sha} downloaded"),
    )
    .await?;
    app.meta.share_downloaded(id).await?;
    Ok(redacted::folder(app, redacted::SHARES)?.join(format!("{id}.zip")))
}
