//! Devices: enrollment, revocation, assignment to officers, and continuity.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use kordon_core::chain::{ChainOptions, ChainProblem, verify_chain};
use kordon_core::link::{LinkBody, is_valid_device_id};
use kordon_core::note::VerifierKey;
use kordon_core::time::Timestamp;
use kordon_store::meta::Assignment;
use kordon_store::{now_ms, random_bytes};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::app::App;
use crate::error::{ApiError, Body};

fn check_device_id(id: &str) -> Result<(), ApiError> {
    if is_valid_device_id(id) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "bad_device_id",
            format!("{id:?}: device ids are 1-64 characters of A-Z a-z 0-9 . _ - : /"),
        ))
    }
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `POST /v1/devices/{device}/enroll-token` (administrator): a one-time token.
pub(crate) async fn enroll_token(
    State(app): State<Arc<App>>,
    Path(device): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ManageDevices, true)
        .await?;
    check_device_id(&device)?;
    let token = hex::encode(random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?);
    let now = now_ms();
    let expires = now + app.config.enroll_token_ttl_s * 1000;
    app.meta
        .create_enroll_token(&device, &token_hash(&token), now, expires)
        .await?;
    app.custody(
        &who.name,
        "enroll-token",
        &format!("device {device}"),
        &format!("expires {}", Timestamp(expires)),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "device": device, "token": token, "expires_at": Timestamp(expires).to_string() }),
        ),
    ))
}

/// Body of `POST /v1/enroll`.
#[derive(Debug, Deserialize)]
pub(crate) struct EnrollRequest {
    device: String,
    token: String,
    /// C2SP verifier key string (Ed25519 or ECDSA P-256) named after the device.
    key: String,
}

/// `POST /v1/enroll`: a device presents its token and public key.
pub(crate) async fn enroll(
    State(app): State<Arc<App>>,
    Body(req): Body<EnrollRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    check_device_id(&req.device)?;
    let key =
        VerifierKey::parse(&req.key).map_err(|e| ApiError::BadRequest("bad_key", e.to_string()))?;
    // A key named after the device signs at capture; a key with another name is a dock's,
    // signing for a camera that cannot (its segments must then say `attested: dock`).
    if !matches!(
        key.key_type(),
        kordon_core::note::KeyType::Ed25519 | kordon_core::note::KeyType::EcdsaP256
    ) {
        return Err(ApiError::BadRequest(
            "bad_key",
            "device keys are Ed25519 (0x01) or ECDSA P-256 (0x02)".into(),
        ));
    }
    app.meta
        .enroll(
            &req.device,
            &token_hash(&req.token),
            &key.to_string(),
            now_ms(),
        )
        .await?;
    let index = app
        .custody(
            &req.device,
            "enroll",
            &format!("device {}", req.device),
            &key.to_string(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "device": req.device, "key": key.to_string(), "log_index": index })),
    ))
}

/// `POST /v1/devices/{device}/revoke` (administrator).
pub(crate) async fn revoke(
    State(app): State<Arc<App>>,
    Path(device): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ManageDevices, true)
        .await?;
    app.meta.revoke(&device, now_ms()).await?;
    let index = app
        .custody(
            &who.name,
            "revoke",
            &format!("device {device}"),
            "uploads refused from now on",
        )
        .await?;
    Ok(Json(
        json!({ "device": device, "revoked": true, "log_index": index }),
    ))
}

/// Body of `POST /v1/assignments`.
#[derive(Debug, Deserialize)]
pub(crate) struct AssignRequest {
    device: String,
    officer: String,
    checkpoint: String,
    /// When the camera was handed out, if it is entered afterwards (RFC 3339; not in the
    /// future). The custody event carries the time of entry as well.
    at: Option<String>,
}

/// The time an assignment or return took effect: `at` if given (not in the future),
/// otherwise now.
fn effective_time(at: Option<&str>) -> Result<i64, ApiError> {
    let now = now_ms();
    let Some(at) = at else { return Ok(now) };
    let t = crate::inspections::rfc3339("at", at)
        .map_err(|e| ApiError::BadRequest("bad_request", e))?;
    if t > now + 60_000 {
        return Err(ApiError::BadRequest(
            "bad_request",
            format!("at {at} is in the future"),
        ));
    }
    Ok(t)
}

fn check_word(what: &'static str, v: &str) -> Result<(), ApiError> {
    if v.is_empty() || v.len() > 64 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::BadRequest(
            "bad_request",
            format!("{what} must be 1-64 characters without spaces"),
        ));
    }
    Ok(())
}

fn assignment_json(a: &Assignment) -> Value {
    json!({
        "id": a.id, "device": a.device_id, "officer": a.officer, "checkpoint": a.checkpoint,
        "start": Timestamp(a.start_ms).to_string(),
        "end": a.end_ms.map(|e| Timestamp(e).to_string()),
    })
}

/// `POST /v1/assignments` (administrator): hand a camera to an officer.
pub(crate) async fn assign(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Body(req): Body<AssignRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::AssignDevices, true)
        .await?;
    check_device_id(&req.device)?;
    check_word("officer", &req.officer)?;
    check_word("checkpoint", &req.checkpoint)?;
    let a = Assignment {
        id: hex::encode(&random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?[..12]),
        device_id: req.device.clone(),
        officer: req.officer.clone(),
        checkpoint: req.checkpoint.clone(),
        start_ms: effective_time(req.at.as_deref())?,
        end_ms: None,
    };
    app.meta.assign(&a, &who.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(log_assignment(&app, &who, "assign", &a).await?),
    ))
}

/// Logs a hand-out or hand-back as a custody event; returns the assignment with its log index.
async fn log_assignment(
    app: &App,
    who: &crate::auth::Principal,
    action: &str,
    a: &Assignment,
) -> Result<Value, ApiError> {
    let at = if action == "return" {
        a.end_ms.unwrap_or(a.start_ms)
    } else {
        a.start_ms
    };
    let detail = format!(
        "officer {} at {} assignment {} effective {}",
        a.officer,
        a.checkpoint,
        a.id,
        Timestamp(at)
    );
    let index = app
        .custody(
            &who.name,
            action,
            &format!("device {}", a.device_id),
            &detail,
        )
        .await?;
    let mut v = assignment_json(a);
    v["log_index"] = json!(index);
    Ok(v)
}

/// Body of `POST /v1/assignments/return`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReturnRequest {
    device: String,
    /// When it was handed back, if entered afterwards (RFC 3339; not in the future).
    at: Option<String>,
}

/// `POST /v1/assignments/return` (administrator): take a camera back.
pub(crate) async fn return_device(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Body(req): Body<ReturnRequest>,
) -> Result<Json<Value>, ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::AssignDevices, true)
        .await?;
    let a = app
        .meta
        .return_device(&req.device, effective_time(req.at.as_deref())?, &who.name)
        .await?;
    Ok(Json(log_assignment(&app, &who, "return", &a).await?))
}

/// One problem of a chain as JSON, with a stable `kind`.
pub fn problem_json(p: &ChainProblem) -> Value {
    let t = |t: &Timestamp| t.to_string();
    match p {
        ChainProblem::Malformed { index, error } => {
            json!({"kind": "malformed", "index": index, "detail": error.to_string()})
        }
        ChainProblem::WrongDevice { index, device } => {
            json!({"kind": "wrong_device", "index": index, "device": device})
        }
        ChainProblem::BadSignature { index, seq } => {
            json!({"kind": "bad_signature", "index": index, "seq": seq})
        }
        ChainProblem::AttestationMismatch { seq, signer } => {
            json!({"kind": "attestation_mismatch", "seq": seq, "signer": signer})
        }
        ChainProblem::Equivocation { seq, first, second } => {
            json!({"kind": "equivocation", "seq": seq, "first": first.to_hex(), "second": second.to_hex()})
        }
        ChainProblem::Missing { from, to } => json!({"kind": "missing", "from": from, "to": to}),
        ChainProblem::BrokenPrev {
            seq,
            expected,
            found,
        } => {
            json!({"kind": "broken_prev", "seq": seq, "expected": expected.to_hex(), "found": found.to_hex()})
        }
        ChainProblem::TimeBackwards {
            seq,
            previous,
            time,
        } => {
            json!({"kind": "time_backwards", "seq": seq, "previous": t(previous), "time": t(time)})
        }
        ChainProblem::UnexplainedGap {
            after_seq,
            before_seq,
            from,
            to,
        } => {
            json!({"kind": "unexplained_gap", "after_seq": after_seq, "before_seq": before_seq, "from": t(from), "to": t(to), "seconds": (to.0 - from.0) as f64 / 1000.0})
        }
    }
}

/// The continuity of one device.
#[derive(Debug, Serialize)]
pub(crate) struct Continuity {
    device: String,
    revoked: bool,
    links: usize,
    segments: usize,
    recorded_seconds: f64,
    /// Highest sequence number up to which the chain is complete and unbroken.
    head: Option<u64>,
    last_link: Option<u64>,
    /// Events that end recording (stop, power off, storage full, docked, recovered).
    stops: Vec<Value>,
    problems: Vec<Value>,
    equivocations: Vec<Value>,
    assignments: Vec<Value>,
}

async fn continuity_of(app: &App, device: &str) -> Result<Continuity, ApiError> {
    let dev = app
        .meta
        .device(device)
        .await?
        .ok_or_else(|| ApiError::UnknownDevice(device.to_owned()))?;
    let key = VerifierKey::parse(&dev.vkey).map_err(|e| ApiError::Internal(e.to_string()))?;
    let raw = app.meta.device_links(device).await?;
    let opts = ChainOptions {
        max_gap_ms: app.config.max_gap_ms,
    };
    let report = tokio::task::spawn_blocking({
        let device = device.to_owned();
        move || verify_chain(&device, &key, &raw, &opts)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut problems: Vec<Value> = report.problems.iter().map(problem_json).collect();
    let equivocations: Vec<Value> = app
        .meta
        .equivocations(device)
        .await?
        .into_iter()
        .map(|(seq, hash)| json!({"seq": seq, "refused_link": hash}))
        .collect();
    for e in &equivocations {
        problems
            .push(json!({"kind": "equivocation", "seq": e["seq"], "second": e["refused_link"]}));
    }
    let (mut segments, mut ms, mut stops) = (0usize, 0i64, Vec::new());
    for l in &report.links {
        match l.body() {
            LinkBody::Segment(s) => {
                segments += 1;
                ms += s.end.0 - s.start.0;
            }
            LinkBody::Event(e) if e.kind.ends_recording() => {
                stops.push(json!({"seq": e.seq, "time": e.time.to_string(), "kind": e.kind.as_str(), "detail": e.detail}))
            }
            LinkBody::Event(_) => {}
        }
    }
    Ok(Continuity {
        device: device.to_owned(),
        revoked: dev.revoked_at.is_some(),
        links: report.links.len(),
        segments,
        recorded_seconds: ms as f64 / 1000.0,
        head: report.head,
        last_link: report.links.last().map(|l| l.body().seq()),
        stops,
        problems,
        equivocations,
        assignments: app
            .meta
            .assignments(device)
            .await?
            .iter()
            .map(assignment_json)
            .collect(),
    })
}

/// `GET /v1/devices/{device}`: the device's key and state (its key is public: it is in
/// the log's `enroll` event).
pub(crate) async fn one(
    State(app): State<Arc<App>>,
    Path(device): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let d = app
        .meta
        .device(&device)
        .await?
        .ok_or(ApiError::UnknownDevice(device))?;
    Ok(Json(json!({
        "device": d.id,
        "key": d.vkey,
        "enrolled_at": Timestamp(d.enrolled_at).to_string(),
        "revoked_at": d.revoked_at.map(|t| Timestamp(t).to_string()),
    })))
}

/// `GET /v1/devices/{device}/continuity`.
pub(crate) async fn continuity(
    State(app): State<Arc<App>>,
    Path(device): Path<String>,
) -> Result<Json<Continuity>, ApiError> {
    Ok(Json(continuity_of(&app, &device).await?))
}

/// `GET /v1/devices`: every device with its continuity summary.
pub(crate) async fn list(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for id in app.meta.device_ids().await? {
        let c = continuity_of(&app, &id).await?;
        let key = app.meta.device(&id).await?.map(|d| d.vkey);
        out.push(json!({
            "device": c.device, "key": key, "revoked": c.revoked, "links": c.links, "segments": c.segments,
            "recorded_seconds": c.recorded_seconds, "head": c.head, "last_link": c.last_link,
            "problems": c.problems.len(),
            "assigned_to": c.assignments.last().filter(|a| a["end"].is_null()).map(|a| a["officer"].clone()),
        }));
    }
    Ok(Json(json!({ "devices": out })))
}
