//! Redacting and sharing: the redaction editor (boxes drawn on paused frames, moved at
//! later ones, sound spans), a redacted copy's page with its shares, the share form that
//! shows the one-time code once.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use kordon_api::release::{OpsIn, RedactionIn, ShareIn};
use kordon_core::time::Timestamp;
use maud::{Markup, html};
use tower::ServiceExt as _;

use super::frame::{
    Page, back_to_referer, error_page, fail, page, poster, show, who, zone_note, zone_of,
};
use super::i18n::{Lang, t};
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::ops::{redactions, shares};
use crate::state::App;

#[derive(serde::Deserialize)]
pub(super) struct RangeQuery {
    device: String,
    from: String,
    to: String,
    #[serde(default)]
    inspection: Option<String>,
}

/// The editor.
pub(super) async fn editor(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::Redact).await?;
    let f = fail(lang, &p);
    let from = crate::localtime::rfc3339("from", &q.from)
        .map_err(|m| f(ApiError::BadRequest("bad_request", m)))?;
    let cp = redactions::footage_scope(&app, &p, &q.device, from, from + 1)
        .await
        .map_err(&f)?;
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let tz = zone_of(&zones, &cp);
    let src = format!(
        "/ui/redact/source.mp4?device={}&from={}&to={}",
        q.device,
        urlencode(&q.from),
        urlencode(&q.to)
    );
    let csrf = p.csrf.clone().unwrap_or_default();
    let body = html! {
        p { (t(lang, "device")) " " strong { (q.device) } ", " (show(from, &tz)) }
        p.note { (t(lang, "original_untouched")) }
        p #editor-help { (t(lang, "editor_help")) }
        div.editor {
            video #source controls preload="metadata" src=(src) aria-describedby="editor-help" {}
            canvas #boxes aria-hidden="true" {}
        }
        div.toolbar role="group" aria-label=(t(lang, "redact")) {
            label { (t(lang, "box_style")) " "
                select #box-style {
                    option value="blur" { (t(lang, "style_blur")) }
                    option value="black" { (t(lang, "style_black")) }
                }
            }
            button type="button" #new-box { (t(lang, "new_box")) }
            label { (t(lang, "span_kind")) " " select #sound-kind {
                option value="bleep" { (t(lang, "bleep")) }
                option value="mute" { (t(lang, "mute")) }
                option value="blur" { (t(lang, "frame_blur")) }
            } }
            button type="button" #sound-from { (t(lang, "sound_from")) }
            button type="button" #sound-to { (t(lang, "sound_to")) }
        }
        ul #op-list aria-live="polite" data-box=(t(lang, "box")) data-blur=(t(lang, "style_blur"))
            data-black=(t(lang, "style_black")) data-frame=(t(lang, "frame_blur"))
            data-mute=(t(lang, "mute")) data-bleep=(t(lang, "bleep")) data-remove=(t(lang, "remove")) {}
        form #redact-form method="post" action="/ui/redact" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="device" value=(q.device);
            input type="hidden" name="from" value=(q.from);
            input type="hidden" name="to" value=(q.to);
            input type="hidden" name="inspection" value=(q.inspection.clone().unwrap_or_default());
            label { (t(lang, "operations")) br; textarea #ops name="ops" rows="4" cols="60" { "{}" } }
            label { (t(lang, "reason")) " " input name="reason" required maxlength="300"; }
            button type="submit" { (t(lang, "render")) }
        }
        script src="/ui/redact.js" defer {}
    };
    Ok(page(lang, Some(&p), t(lang, "redact"), body).into_response())
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

/// The originals joined, for the editor's player.
pub(super) async fn source(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
    request: Request,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::Redact).await?;
    let path = redactions::source(&app, &p, &q.device, &q.from, &q.to)
        .await
        .map_err(fail(lang, &p))?;
    serve(path, request).await
}

async fn serve(path: std::path::PathBuf, request: Request) -> Page {
    tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map(IntoResponse::into_response)
        .map_err(|e| ApiError::Internal(e.to_string()).into_response())
}

/// Renders the copy the editor's form describes.
pub(super) async fn create(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    // The permission first: nobody learns what is wrong with a form he may not send.
    if let Err(e) = p.require(Op::Redact) {
        return error_page(lang, Some(&p), &e);
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let ops: OpsIn = match serde_json::from_str(&get("ops")) {
        Ok(o) => o,
        Err(e) => {
            return error_page(
                lang,
                Some(&p),
                &ApiError::BadRequest("bad_redaction", format!("operations: {e}")),
            );
        }
    };
    let b = RedactionIn {
        device: get("device"),
        from: get("from"),
        to: get("to"),
        inspection: Some(get("inspection")).filter(|i| !i.is_empty()),
        ops,
        reason: get("reason"),
    };
    match redactions::create(&app, &p, b).await {
        Ok(r) => Redirect::to(&format!("/ui/redactions/{}", r.id)).into_response(),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}

/// A redacted copy: it plays; its operations, hashes and shares; the share form.
pub(super) async fn redaction(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Page {
    let (p, lang) = who(&app, &headers, Op::Redact).await?;
    let f = fail(lang, &p);
    let r = redactions::get(&app, &p, &id).await.map_err(&f)?;
    let list = app.meta.shares_of(&id).await.map_err(|e| f(e.into()))?;
    let zones = crate::localtime::zones(&app).await.map_err(&f)?;
    let tz = zone_of(&zones, &r.crossing_point);
    let now = kordon_store::now_ms();
    let csrf = p.csrf.clone().unwrap_or_default();
    let body = html! {
        (zone_note(lang, &tz))
        @match r.state.as_str() {
            "ready" => { video #copy controls preload="metadata" src=(format!("/v1/redactions/{id}/video")) {} }
            "rendering" => {
                meta http-equiv="refresh" content="2";
                @let done = redactions::progress(&format!("redaction {id}")).unwrap_or(0.0);
                p #rendering role="status" { (t(lang, "rendering")) " " progress max="100" value=(format!("{:.0}", done * 100.0)) {} " " (format!("{:.0} %", done * 100.0)) }
            }
            _ => { p.error role="alert" { (t(lang, "render_failed")) ": " (r.error.clone().unwrap_or_default()) } }
        }
        dl.record {
            dt { (t(lang, "device")) } dd { (r.device_id) " " (r.first_seq) "–" (r.last_seq) }
            dt { (t(lang, "from")) } dd { (show(r.from_ms, &tz)) }
            dt { (t(lang, "to")) } dd { (show(r.to_ms, &tz)) }
            dt { (t(lang, "reason")) } dd { (r.reason) }
            dt { (t(lang, "who")) } dd { (r.created_by) ", " (show(r.created_at, &tz)) }
            @if let Some(sha) = &r.result_sha256 { dt { "SHA-256" } dd { code #copy-sha256 { (sha) } } }
        }
        details { summary { (t(lang, "operations")) } pre { (r.ops) } }
        @if p.may(Op::Share) && r.state == "ready" {
            h2 { (t(lang, "share")) }
            form #share-form method="post" action=(format!("/ui/redactions/{id}/share")) {
                input type="hidden" name="csrf" value=(csrf);
                label { (t(lang, "recipient")) " " input name="recipient" required maxlength="120"; }
                label { (t(lang, "purpose")) " " input name="purpose" required maxlength="300"; }
                label { (t(lang, "valid_hours")) " " input name="hours" type="number" min="1" max="2160" value="168" required; }
                button type="submit" { (t(lang, "share")) }
            }
            (share_table(lang, &list, now, &tz, &csrf))
        }
    };
    Ok(page(lang, Some(&p), t(lang, "redaction"), body).into_response())
}

fn share_table(
    lang: Lang,
    list: &[kordon_store::meta::ShareRow],
    now: i64,
    tz: &jiff::tz::TimeZone,
    csrf: &str,
) -> Markup {
    html! {
        table #shares {
            caption { (t(lang, "shares")) }
            thead { tr { th { (t(lang, "recipient")) } th { (t(lang, "purpose")) } th { (t(lang, "expires")) } th { (t(lang, "status")) } th { (t(lang, "downloads")) } th {} } }
            tbody {
                @for s in list {
                    @let state = shares::state(s, now);
                    tr {
                        td { (s.recipient) } td { (s.purpose) } td { (show(s.expires_at, tz)) }
                        td.share-state { (t(lang, &format!("state_{state}"))) @if let Some(e) = &s.error { ": " (e) } } td { (s.downloads) }
                        td { @if state != "revoked" && state != "expired" {
                            form method="post" action=(format!("/ui/shares/{}/revoke", s.id)) .inline {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" aria-label=(format!("{} {}", t(lang, "revoke"), s.recipient)) { (t(lang, "revoke")) }
                            }
                        } }
                    }
                }
            }
        }
    }
}

/// Shares the copy; the page shows the link and the code, once.
pub(super) async fn share(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let hours: i64 = get("hours").parse().unwrap_or(0);
    let b = ShareIn {
        redaction: Some(id),
        case: None,
        recipient: get("recipient"),
        purpose: get("purpose"),
        expires_at: Timestamp(kordon_store::now_ms() + hours.clamp(0, 2160) * 3_600_000)
            .to_string(),
    };
    match shares::create(&app, &p, b).await {
        Ok(s) => created(lang, &p, &headers, &s).into_response(),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}

fn created(
    lang: Lang,
    p: &Principal,
    headers: &HeaderMap,
    s: &kordon_api::release::ShareCreated,
) -> Markup {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    page(
        lang,
        Some(p),
        t(lang, "share"),
        html! {
            dl.record {
                dt { (t(lang, "share_link")) } dd { code #share-link { "http://" (host) (s.link) } }
                dt { (t(lang, "share_code")) } dd { code #share-code { (s.code) } }
                dt { (t(lang, "expires")) } dd { (s.expires_at) }
            }
            p.note { (t(lang, "preparing_note")) }
        },
    )
}

/// Revokes a share, back to where it was listed.
pub(super) async fn revoke(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (p, lang) = match poster(&app, &headers, &form).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    match shares::revoke(&app, &p, &id).await {
        Ok(_) => back_to_referer(&headers),
        Err(e) => error_page(lang, Some(&p), &e),
    }
}
