//! Cameras: enrollment, revocation, their keys and continuity.

use kordon_api::devices::{
    Assignment, ChainProblem as Problem, Continuity, Device, DeviceList, DeviceSummary,
    EnrollRequest, EnrollToken, Enrolled, RefusedTwin, Revoked, Stop,
};
use kordon_core::chain::{ChainOptions, ChainProblem, verify_chain};
use kordon_core::link::{LinkBody, is_valid_device_id};
use kordon_core::note::VerifierKey;
use kordon_core::time::Timestamp;
use kordon_store::meta::Assignment as AssignmentRow;
use kordon_store::{now_ms, random_bytes};
use sha2::{Digest as _, Sha256};

use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::state::App;

/// `Ok` for a well-formed device id.
pub(crate) fn check_device_id(id: &str) -> Result<(), ApiError> {
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

/// A one-time enrollment token for a camera.
pub(crate) async fn enroll_token(
    app: &App,
    who: &Principal,
    device: &str,
) -> Result<EnrollToken, ApiError> {
    who.require(Op::ManageDevices)?;
    check_device_id(device)?;
    let token = hex::encode(random_bytes().map_err(|e| ApiError::Internal(e.to_string()))?);
    let now = now_ms();
    let expires = now + app.config.enroll_token_ttl_s * 1000;
    app.meta
        .create_enroll_token(device, &token_hash(&token), now, expires)
        .await?;
    app.custody(
        &who.name,
        "enroll-token",
        &format!("device {device}"),
        &format!("expires {}", Timestamp(expires)),
    )
    .await?;
    Ok(EnrollToken {
        device: device.to_owned(),
        token,
        expires_at: Timestamp(expires).to_string(),
    })
}

/// A camera presents its token and public key (authenticated by the token).
pub(crate) async fn enroll(app: &App, req: EnrollRequest) -> Result<Enrolled, ApiError> {
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
    let log_index = app
        .custody(
            &req.device,
            "enroll",
            &format!("device {}", req.device),
            &key.to_string(),
        )
        .await?;
    Ok(Enrolled {
        device: req.device,
        key: key.to_string(),
        log_index,
    })
}

/// Revokes a camera: its uploads are refused from now on.
pub(crate) async fn revoke(app: &App, who: &Principal, device: &str) -> Result<Revoked, ApiError> {
    who.require(Op::ManageDevices)?;
    app.meta.revoke(device, now_ms()).await?;
    let log_index = app
        .custody(
            &who.name,
            "revoke",
            &format!("device {device}"),
            "uploads refused from now on",
        )
        .await?;
    Ok(Revoked {
        device: device.to_owned(),
        revoked: true,
        log_index,
    })
}

/// One problem of a chain in the API's terms.
pub(crate) fn problem(p: &ChainProblem) -> Problem {
    let t = |t: &Timestamp| t.to_string();
    match p {
        ChainProblem::Malformed { index, error } => Problem::Malformed {
            index: *index,
            detail: error.to_string(),
        },
        ChainProblem::WrongDevice { index, device } => Problem::WrongDevice {
            index: *index,
            device: device.clone(),
        },
        ChainProblem::BadSignature { index, seq } => Problem::BadSignature {
            index: *index,
            seq: *seq,
        },
        ChainProblem::AttestationMismatch { seq, signer } => Problem::AttestationMismatch {
            seq: *seq,
            signer: signer.clone(),
        },
        ChainProblem::Equivocation { seq, first, second } => Problem::Equivocation {
            seq: *seq,
            first: Some(first.to_hex()),
            second: second.to_hex(),
        },
        ChainProblem::Missing { from, to } => Problem::Missing {
            from: *from,
            to: *to,
        },
        ChainProblem::BrokenPrev {
            seq,
            expected,
            found,
        } => Problem::BrokenPrev {
            seq: *seq,
            expected: expected.to_hex(),
            found: found.to_hex(),
        },
        ChainProblem::TimeBackwards {
            seq,
            previous,
            time,
        } => Problem::TimeBackwards {
            seq: *seq,
            previous: t(previous),
            time: t(time),
        },
        ChainProblem::UnexplainedGap {
            after_seq,
            before_seq,
            from,
            to,
        } => Problem::UnexplainedGap {
            after_seq: *after_seq,
            before_seq: *before_seq,
            from: t(from),
            to: t(to),
            seconds: (to.0 - from.0) as f64 / 1000.0,
        },
    }
}

/// The continuity of one camera: its chain verified, what it recorded, its stops and
/// problems, who wore it.
pub(crate) async fn continuity(app: &App, device: &str) -> Result<Continuity, ApiError> {
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
    let mut problems: Vec<Problem> = report.problems.iter().map(problem).collect();
    let equivocations: Vec<RefusedTwin> = app
        .meta
        .equivocations(device)
        .await?
        .into_iter()
        .map(|(seq, refused_link)| RefusedTwin { seq, refused_link })
        .collect();
    for e in &equivocations {
        problems.push(Problem::Equivocation {
            seq: e.seq,
            first: None,
            second: e.refused_link.clone(),
        });
    }
    let (mut segments, mut ms, mut stops) = (0usize, 0i64, Vec::new());
    for l in &report.links {
        match l.body() {
            LinkBody::Segment(s) => {
                segments += 1;
                ms += s.end.0 - s.start.0;
            }
            LinkBody::Event(e) if e.kind.ends_recording() => stops.push(Stop {
                seq: e.seq,
                time: e.time.to_string(),
                kind: e.kind.as_str().to_owned(),
                detail: e.detail.clone(),
            }),
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
            .map(assignment)
            .collect(),
    })
}

/// A camera's key and state (public: the key is in the log's `enroll` event).
pub(crate) async fn device(app: &App, device: &str) -> Result<Device, ApiError> {
    let d = app
        .meta
        .device(device)
        .await?
        .ok_or_else(|| ApiError::UnknownDevice(device.to_owned()))?;
    Ok(Device {
        device: d.id,
        key: d.vkey,
        enrolled_at: Timestamp(d.enrolled_at).to_string(),
        revoked_at: d.revoked_at.map(|t| Timestamp(t).to_string()),
    })
}

/// Every camera with its continuity summary.
pub(crate) async fn list(app: &App) -> Result<DeviceList, ApiError> {
    let mut devices = Vec::new();
    for id in app.meta.device_ids().await? {
        let c = continuity(app, &id).await?;
        let key = app.meta.device(&id).await?.map(|d| d.vkey);
        devices.push(DeviceSummary {
            assigned_to: c
                .assignments
                .last()
                .filter(|a| a.end.is_none())
                .map(|a| a.officer.clone()),
            device: c.device,
            key,
            revoked: c.revoked,
            links: c.links,
            segments: c.segments,
            recorded_seconds: c.recorded_seconds,
            head: c.head,
            last_link: c.last_link,
            problems: c.problems.len(),
        });
    }
    Ok(DeviceList { devices })
}

/// An assignment in the API's terms.
pub(crate) fn assignment(a: &AssignmentRow) -> Assignment {
    Assignment {
        id: a.id.clone(),
        device: a.device_id.clone(),
        officer: a.officer.clone(),
        crossing_point: a.crossing_point.clone(),
        start: Timestamp(a.start_ms).to_string(),
        end: a.end_ms.map(|e| Timestamp(e).to_string()),
    }
}
