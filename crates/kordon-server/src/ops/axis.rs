//! kordon as the content destination of an AXIS Body Worn system (`docs/axis.md`): the
//! system controller authenticates, reads what kordon supports, registers its users and
//! cameras, and pushes each recording as a container of clips, bookmarks and a GNSS trail.
//!
//! Each camera becomes a kordon device whose chain this server signs with its receiver
//! key (`attested: system`): a `record-start` event naming the system and controller that
//! delivered the recording, a segment link per clip (kept byte for byte), a `record-stop`
//! when the container is complete. The chain is then checked like any camera's.
//!
//! Errors are what the controller understands: 400 never storable, 401, 403, 404, 503 busy
//! (it retries), 507 full.

use std::collections::BTreeMap;

use kordon_api::axis::{Capabilities, Category, RecordingName, is_rejected_container};
use kordon_core::link::{Event, EventKind, Link, LinkBody, genesis};
use kordon_core::time::Timestamp;
use kordon_store::meta::{AxisDevice, AxisRecording, AxisUser};
use kordon_store::now_ms;
use sha2::{Digest as _, Sha256};

use crate::error::ApiError;
use crate::state::{App, AxisState};

mod objects;
pub(crate) mod users;

pub(crate) use objects::{post_object, put_object};

/// Object or container metadata: keys lower-cased (HTTP headers are case-insensitive),
/// values decoded.
pub(crate) type MetaMap = BTreeMap<String, String>;

/// A token lives this long.
const TOKEN_MS: i64 = 24 * 3_600_000;
/// Tokens kept at most (the oldest go first).
const MAX_TOKENS: usize = 256;

fn state(app: &App) -> Result<&AxisState, ApiError> {
    app.axis.as_ref().ok_or_else(|| {
        ApiError::NotFound(
            "this server is not a body-worn system's content destination ([axis])".into(),
        )
    })
}

fn never(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(code, message.into())
}

/// `GET /auth/v1.0`: a token and the storage URL for the right user and key.
pub(crate) fn authenticate(
    app: &App,
    user: Option<&str>,
    key: Option<&str>,
) -> Result<(String, String), ApiError> {
    let s = state(app)?;
    let config = app.config.axis.as_ref().ok_or(ApiError::Unauthorized)?;
    let (Some(user), Some(key)) = (user, key) else {
        return Err(ApiError::Unauthorized);
    };
    let given: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    if user != config.user || given != s.key_sha256 {
        tracing::warn!(user, "body-worn system: authentication refused");
        return Err(ApiError::Unauthorized);
    }
    let token =
        hex::encode(kordon_store::random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?);
    let now = now_ms();
    let mut tokens = s
        .tokens
        .lock()
        .map_err(|_| ApiError::Internal("token table".into()))?;
    tokens.retain(|_, exp| *exp > now);
    while tokens.len() >= MAX_TOKENS {
        let Some(oldest) = tokens.iter().min_by_key(|(_, e)| **e).map(|(k, _)| *k) else {
            break;
        };
        tokens.remove(&oldest);
    }
    tokens.insert(Sha256::digest(token.as_bytes()).into(), now + TOKEN_MS);
    let url = format!(
        "{}/axis/v1/{}",
        config.public_url.trim_end_matches('/'),
        kordon_api::axis::ACCOUNT
    );
    Ok((token, url))
}

/// Every storage request: a token this server handed out, not expired, for its account.
pub(crate) fn authorize(app: &App, account: &str, token: Option<&str>) -> Result<(), ApiError> {
    let s = state(app)?;
    let token = token.ok_or(ApiError::Unauthorized)?;
    let h: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    let ok = s
        .tokens
        .lock()
        .map_err(|_| ApiError::Internal("token table".into()))?
        .get(&h)
        .is_some_and(|exp| *exp > now_ms());
    if !ok {
        return Err(ApiError::Unauthorized);
    }
    if account != kordon_api::axis::ACCOUNT {
        return Err(ApiError::NotFound(format!("no account {account}")));
    }
    Ok(())
}

/// `GET System/Capabilities.json` or `System/Categories.json`: the JSON and its MD5 (the
/// `Etag` the controller checks). Nothing else is readable.
pub(crate) fn system_file(app: &App, name: &str) -> Result<(Vec<u8>, String), ApiError> {
    let config = app.config.axis.as_ref().ok_or(ApiError::Unauthorized)?;
    let body = match name {
        "Capabilities.json" => serde_json::to_vec(&Capabilities::kordon()),
        "Categories.json" => serde_json::to_vec(
            &config
                .categories
                .iter()
                .map(|c| Category {
                    name: c.name.clone(),
                    id: c.id.clone(),
                })
                .collect::<Vec<_>>(),
        ),
        _ => {
            return Err(ApiError::Forbidden(format!(
                "System/{name} is not readable"
            )));
        }
    }
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let etag = hex::encode(md5::Md5::digest(&body));
    Ok((body, etag))
}

/// `HEAD`: the metadata of a container or object kordon keeps.
pub(crate) async fn metadata(
    app: &App,
    container: &str,
    object: Option<&str>,
) -> Result<MetaMap, ApiError> {
    let missing = || ApiError::NotFound(format!("{container}/{}", object.unwrap_or("")));
    let m = match (container, object) {
        ("System" | "Users" | "Devices", None) => MetaMap::new(),
        ("System", Some(id)) => {
            let (connection, name) = app.meta.axis_system(id).await?.ok_or_else(missing)?;
            MetaMap::from([
                ("connectionid".into(), connection),
                ("systemname".into(), name),
            ])
        }
        ("Users", Some(uuid)) => {
            let u = app.meta.axis_user(uuid).await?.ok_or_else(missing)?;
            MetaMap::from([
                ("active".into(), flag(u.active).into()),
                ("name".into(), u.name),
                ("userid".into(), u.user_id),
            ])
        }
        ("Devices", Some(serial)) => {
            let d = app.meta.axis_device(serial).await?.ok_or_else(missing)?;
            MetaMap::from([
                ("active".into(), flag(d.active).into()),
                ("name".into(), d.name),
                ("model".into(), d.model),
            ])
        }
        (c, None) => parse_meta(&app.meta.axis_recording(c).await?.ok_or_else(missing)?.meta),
        (c, Some(o)) => parse_meta(&app.meta.axis_object(c, o).await?.ok_or_else(missing)?.meta),
    };
    Ok(m)
}

fn flag(v: i64) -> &'static str {
    if v != 0 { "True" } else { "False" }
}

fn is_true(v: Option<&String>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

pub(crate) fn parse_meta(json: &str) -> MetaMap {
    serde_json::from_str(json).unwrap_or_default()
}

fn meta_json(m: &MetaMap) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".into())
}

/// The time a metadata key gives (`<key>iso`, RFC 3339), if any.
pub(crate) fn time_of(m: &MetaMap, key: &str) -> Result<Option<i64>, ApiError> {
    let Some(v) = m.get(&format!("{key}iso")) else {
        return Ok(None);
    };
    crate::localtime::rfc3339(key, v)
        .map(Some)
        .map_err(|e| never("axis_bad_time", e))
}

/// `PUT` or `POST` of a container: the system containers are always there; a recording
/// is checked (its camera and wearer must be known) and stored, its start logged, and,
/// once `Status: Complete`, its stop. Answers whether it is new.
pub(crate) async fn put_container(
    app: &App,
    container: &str,
    meta: MetaMap,
) -> Result<bool, ApiError> {
    let a = state(app)?;
    if matches!(container, "System" | "Users" | "Devices") {
        return Ok(false);
    }
    let now = now_ms();
    if is_rejected_container(container) {
        // Rejected content is never refused: kept as it came, for people to look at.
        let existing = app.meta.axis_recording(container).await?;
        let mut merged = existing
            .as_ref()
            .map(|r| parse_meta(&r.meta))
            .unwrap_or_default();
        merged.extend(meta);
        app.meta
            .axis_put_recording(&AxisRecording {
                container: container.into(),
                serial: merged.get("bwcserialnumber").cloned().unwrap_or_default(),
                user_uuid: merged.get("userid").cloned().unwrap_or_default(),
                meta: meta_json(&merged),
                status: "Rejected".into(),
                started: 0,
                created_at: existing.as_ref().map_or(now, |r| r.created_at),
                completed_at: None,
            })
            .await?;
        return Ok(existing.is_none());
    }
    let name = RecordingName::parse(container).ok_or_else(|| {
        never(
            "axis_bad_container",
            format!("{container:?} is not <UserID>_<BWCSerialNumber>_<YYYYMMDDTHHMMSSZ>"),
        )
    })?;
    let existing = app.meta.axis_recording(container).await?;
    let mut r = match existing.clone() {
        Some(r) => r,
        None => {
            let device = app.meta.axis_device(name.serial).await?;
            if device.is_none_or(|d| d.active == 0) {
                return Err(never(
                    "axis_unknown_camera",
                    format!(
                        "camera {} is not registered (Devices/{0}) or not active",
                        name.serial
                    ),
                ));
            }
            if app.meta.axis_user(name.user).await?.is_none() {
                return Err(never(
                    "axis_unknown_user",
                    format!("user {} is not registered (Users/{0})", name.user),
                ));
            }
            AxisRecording {
                container: container.into(),
                serial: name.serial.into(),
                user_uuid: name.user.into(),
                meta: "{}".into(),
                status: "Transferring".into(),
                started: 0,
                created_at: now,
                completed_at: None,
            }
        }
    };
    if r.status == "Complete" {
        // After Complete nothing more arrives; a retry of the last request is answered alike.
        return Ok(false);
    }
    let mut merged = parse_meta(&r.meta);
    merged.extend(meta);
    r.meta = meta_json(&merged);
    if let Some(fw) = merged.get("firmwareversion") {
        app.meta.axis_device_seen(&r.serial, fw, now).await?;
    }
    let _chain = a.chain.lock().await;
    if r.started == 0 {
        start_recording(app, a, &r, &merged).await?;
        r.started = 1;
    }
    let complete = merged.get("status").is_some_and(|s| s == "Complete");
    if complete {
        stop_recording(app, a, &r, &merged).await?;
        r.status = "Complete".into();
        r.completed_at = Some(now);
    }
    app.meta.axis_put_recording(&r).await?;
    Ok(existing.is_none())
}

/// The next number and previous hash of a camera's chain.
pub(crate) async fn chain_next(
    app: &App,
    device: &str,
) -> Result<(u64, kordon_core::Hash), ApiError> {
    match app.meta.chain_state(device).await? {
        None => Ok((0, genesis(device))),
        Some(s) => {
            let last = app.meta.link(device, s.last_seq).await?.ok_or_else(|| {
                ApiError::Internal(format!("{device}: link {} is not stored", s.last_seq))
            })?;
            let hash = kordon_core::Hash::from_hex(&last.hash)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((s.last_seq + 1, hash))
        }
    }
}

/// Who delivered a recording: the systems known and the controller that says so.
async fn delivered_by(app: &App, m: &MetaMap) -> Result<String, ApiError> {
    let systems = app.meta.axis_system_ids().await?;
    let system = match systems.as_slice() {
        [one] => one.clone(),
        [] => "unregistered".into(),
        many => format!("one of {} systems", many.len()),
    };
    let scu = m.get("scuserialnumber").map_or("unknown", String::as_str);
    Ok(format!(
        "received from body-worn system {system}, controller {scu}"
    ))
}

async fn event(
    app: &App,
    a: &AxisState,
    device: &str,
    time: i64,
    kind: EventKind,
    detail: String,
) -> Result<(), ApiError> {
    let (seq, prev) = chain_next(app, device).await?;
    let detail: String = detail
        .chars()
        .filter(|c| !c.is_control())
        .take(400)
        .collect();
    let body = LinkBody::Event(Event {
        device: device.into(),
        seq,
        time: Timestamp(time),
        kind,
        detail: detail.trim().to_owned(),
        prev,
    });
    let link = Link::sign(body, &a.receiver).map_err(|e| ApiError::Internal(e.to_string()))?;
    crate::ops::ingest::record_received(app, &link).await?;
    Ok(())
}

async fn start_recording(
    app: &App,
    a: &AxisState,
    r: &AxisRecording,
    m: &MetaMap,
) -> Result<(), ApiError> {
    let start = time_of(m, "triggerontime")?
        .or(time_of(m, "starttime")?)
        .unwrap_or(r.created_at);
    let why = m.get("triggeron").map_or("unknown", String::as_str);
    let detail = format!("{}; TriggerOn {why}", delivered_by(app, m).await?);
    event(app, a, &r.serial, start, EventKind::RecordStart, detail).await?;
    // The wearer: an assignment, when the user is mapped to an officer.
    let user = app.meta.axis_user(&r.user_uuid).await?;
    let (Some(officer), Some(cfg)) = (user.and_then(|u| u.officer), app.config.axis.as_ref())
    else {
        return Ok(());
    };
    let end = time_of(m, "stoptime")?.or(time_of(m, "triggerofftime")?);
    let row = kordon_store::meta::Assignment {
        id: crate::ops::new_id(12)?,
        device_id: r.serial.clone(),
        officer,
        crossing_point: cfg.crossing_point.clone(),
        start_ms: time_of(m, "starttime")?.unwrap_or(start).min(start),
        end_ms: end,
    };
    if let Err(e) = crate::ops::assignments::worn(app, "axis", &row).await {
        // The recording is kept whatever the assignment says; the conflict is visible.
        tracing::warn!(camera = %r.serial, error = %e, "body-worn system: the wearer could not be recorded as an assignment");
    }
    Ok(())
}

async fn stop_recording(
    app: &App,
    a: &AxisState,
    r: &AxisRecording,
    m: &MetaMap,
) -> Result<(), ApiError> {
    let (seq, _) = chain_next(app, &r.serial).await?;
    let last = app.meta.link(&r.serial, seq.saturating_sub(1)).await?;
    let floor = last
        .and_then(|l| Link::parse(&l.body).ok())
        .map_or(i64::MIN, |l| l.body().start().0);
    let stop = time_of(m, "triggerofftime")?
        .or(time_of(m, "stoptime")?)
        .unwrap_or_else(now_ms);
    let why = m.get("triggeroff").map_or("unknown", String::as_str);
    event(
        app,
        a,
        &r.serial,
        stop.max(floor),
        EventKind::RecordStop,
        format!("TriggerOff {why}"),
    )
    .await
}

/// `PUT Users/<uuid>`, `Devices/<serial>`, `System/<id>`.
pub(crate) async fn put_registry(
    app: &App,
    container: &str,
    name: &str,
    meta: &MetaMap,
) -> Result<(), ApiError> {
    let a = state(app)?;
    let now = now_ms();
    let get = |k: &str| meta.get(k).cloned().unwrap_or_default();
    match container {
        "System" => {
            app.meta
                .axis_put_system(name, &get("connectionid"), &get("systemname"), now)
                .await?
        }
        "Users" => {
            // A user whose own id is an officer's service number is that officer.
            let user_id = get("userid");
            let officer = if !user_id.is_empty() && app.meta.officer_exists(&user_id).await? {
                Some(user_id.clone())
            } else {
                None
            };
            app.meta
                .axis_put_user(
                    &AxisUser {
                        uuid: name.into(),
                        name: get("name"),
                        user_id,
                        active: i64::from(
                            meta.get("active").is_none() || is_true(meta.get("active")),
                        ),
                        officer,
                    },
                    now,
                )
                .await?;
        }
        "Devices" => {
            crate::ops::devices::check_device_id(name).map_err(|_| {
                never(
                    "axis_bad_serial",
                    format!("serial {name:?} cannot be a kordon device id"),
                )
            })?;
            let receiver = a.receiver.verifier().to_string();
            match app.meta.device(name).await? {
                Some(d) if d.vkey != receiver => {
                    return Err(never(
                        "axis_serial_in_use",
                        format!(
                            "device {name} is a kordon camera with its own key, not this system's"
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    app.meta.register_device(name, &receiver, now).await?;
                    app.custody("axis", "enroll", &format!("device {name}"), &receiver)
                        .await?;
                }
            }
            app.meta
                .axis_put_device(&AxisDevice {
                    serial: name.into(),
                    name: get("name"),
                    model: get("model"),
                    active: i64::from(meta.get("active").is_none() || is_true(meta.get("active"))),
                    firmware: String::new(),
                    updated_at: now,
                })
                .await?;
        }
        _ => {
            return Err(never(
                "axis_bad_container",
                format!("{container} holds no registry"),
            ));
        }
    }
    Ok(())
}
