//! Cameras: enrollment, revocation, their keys and continuity.

use kordon_api::devices::{
    Assignment, ChainProblem as Problem, Continuity, Device, DeviceHealth, DeviceList,
    DeviceSummary, EnrollRequest, EnrollToken, Enrolled, HealthReport, Page, Recheck, RefusedTwin,
    Revoked, Stop,
};
use kordon_core::chain::{ChainOptions, ChainProblem, ChainScan};
use kordon_core::hash::Hash;
use kordon_core::link::{Link, LinkBody, is_valid_device_id};
use kordon_core::note::VerifierKey;
use kordon_core::time::Timestamp;
use kordon_store::meta::{Assignment as AssignmentRow, ChainState, ProblemCursor};
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

fn stop(l: &Link) -> Option<Stop> {
    match l.body() {
        LinkBody::Event(e) => Some(Stop {
            seq: e.seq,
            time: e.time.to_string(),
            kind: e.kind.as_str().to_owned(),
            detail: e.detail.clone(),
        }),
        LinkBody::Segment(_) => None,
    }
}

/// A camera's health in the API's terms, from its latest report and chain state.
fn health(h: Option<&kordon_store::meta::Health>, last_received_ms: Option<i64>) -> DeviceHealth {
    let mut d = DeviceHealth {
        last_contact: last_received_ms.map(|t| Timestamp(t).to_string()),
        ..DeviceHealth::default()
    };
    if let Some(h) = h {
        d.battery = h.battery;
        d.free_mib = h.free_mib;
        d.backlog_links = h.backlog_links;
        d.backlog_bytes = h.backlog_bytes;
        d.docked = h.docked.map(|v| v != 0);
        d.firmware = (!h.firmware.is_empty()).then(|| h.firmware.clone());
        d.audio = (!h.audio.is_empty()).then(|| h.audio.clone());
        d.reported_at = Some(Timestamp(h.reported_at).to_string());
    }
    d
}

/// Keeps what a camera said of itself with an upload (`Kordon-Health`) and the sound of
/// the segment it sent.
pub(crate) async fn report_health(
    app: &App,
    device: &str,
    report: &HealthReport,
    audio: kordon_core::link::Audio,
) -> Result<(), ApiError> {
    app.meta
        .put_health(&kordon_store::meta::Health {
            device_id: device.to_owned(),
            battery: report.battery,
            free_mib: report.free_mib,
            backlog_links: report.backlog_links,
            backlog_bytes: report.backlog_bytes,
            docked: report.docked.map(i64::from),
            firmware: report.firmware.clone().unwrap_or_default(),
            audio: audio.as_str().to_owned(),
            reported_at: kordon_store::now_ms(),
        })
        .await?;
    Ok(())
}

/// The continuity of one camera from its chain state: counters, head, a page of its
/// problems, its latest stops, its refused twins, who wore it.
pub(crate) async fn continuity(
    app: &App,
    device: &str,
    page: &Page,
) -> Result<Continuity, ApiError> {
    let dev = app
        .meta
        .device(device)
        .await?
        .ok_or_else(|| ApiError::UnknownDevice(device.to_owned()))?;
    let state = app.meta.chain_state(device).await?.unwrap_or_default();
    let after = cursor(page)?;
    let limit = page.limit();
    let mut problems = app
        .meta
        .chain_problems(device, after.as_ref(), limit + 1)
        .await?;
    let mut next = None;
    if problems.len() > limit as usize {
        problems.truncate(limit as usize);
        next = problems
            .last()
            .and_then(ProblemCursor::after)
            .map(|c| c.to_string());
    }
    let equivocations: Vec<RefusedTwin> = app
        .meta
        .equivocations(device, 50)
        .await?
        .into_iter()
        .map(|(seq, refused_link)| RefusedTwin { seq, refused_link })
        .collect();
    let stops = app.meta.latest_stops(device, 50).await?;
    let report = app.meta.health_of(&[device]).await?;
    let received = (state.links > 0).then_some(state.last_received_ms);
    Ok(Continuity {
        health: health(report.get(device), received),
        device: device.to_owned(),
        revoked: dev.revoked_at.is_some(),
        links: state.links as usize,
        segments: state.segments as usize,
        recorded_seconds: state.recorded_ms as f64 / 1000.0,
        head: state.head,
        last_link: (state.links > 0).then_some(state.last_seq),
        stops: stops.iter().filter_map(stop).collect(),
        problems: problems.iter().map(problem).collect(),
        problems_total: state.problems,
        next,
        equivocations,
        assignments: app
            .meta
            .latest_assignments(device, 50)
            .await?
            .iter()
            .map(assignment)
            .collect(),
    })
}

/// A problems cursor: the anchor of the last problem of the previous page.
fn cursor(page: &Page) -> Result<Option<ProblemCursor>, ApiError> {
    page.after
        .as_deref()
        .map(|a| {
            a.parse().map_err(|_| {
                ApiError::BadRequest("bad_query", format!("after={a:?} is not a cursor"))
            })
        })
        .transpose()
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

/// One page of cameras with their chain state (one query, whatever their history).
pub(crate) async fn list(app: &App, page: &Page) -> Result<DeviceList, ApiError> {
    let limit = page.limit();
    let mut rows = app
        .meta
        .devices_page(page.after.as_deref(), limit + 1)
        .await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.0.id.clone()).unwrap_or_default()
    });
    let ids: Vec<&str> = rows.iter().map(|r| r.0.id.as_str()).collect();
    let wearers = app.meta.current_wearers(&ids).await?;
    let reports = app.meta.health_of(&ids).await?;
    let devices = rows
        .into_iter()
        .map(|(d, state)| {
            let state = state.unwrap_or_default();
            DeviceSummary {
                health: health(
                    reports.get(&d.id),
                    (state.links > 0).then_some(state.last_received_ms),
                ),
                assigned_to: wearers.get(&d.id).cloned(),
                revoked: d.revoked_at.is_some(),
                key: Some(d.vkey),
                device: d.id,
                links: state.links as usize,
                segments: state.segments as usize,
                recorded_seconds: state.recorded_ms as f64 / 1000.0,
                head: state.head,
                last_link: (state.links > 0).then_some(state.last_seq),
                problems: state.problems as usize,
            }
        })
        .collect();
    Ok(DeviceList { devices, next })
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

/// Recomputes a device's chain from every stored link (signatures checked again, pages
/// of 10,000 links on the blocking pool: constant memory) and compares it with the state
/// kept as links arrived; `repair` replaces a state that differs.
pub(crate) async fn recheck(
    app: &App,
    who: &Principal,
    device: &str,
    repair: bool,
) -> Result<Recheck, ApiError> {
    who.require(Op::ManageDevices)?;
    let (state, problems) = recompute(app, device).await?;
    let kept = app.meta.chain_state(device).await?.unwrap_or_default();
    let mut kept_problems = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .meta
            .chain_problems(device, after.as_ref(), 1000)
            .await?;
        let Some(last) = page.last().and_then(ProblemCursor::after) else {
            break;
        };
        after = Some(last);
        kept_problems.extend(page);
    }
    let mut differences: Vec<String> = kept
        .fields()
        .into_iter()
        .zip(state.fields())
        .filter(|(k, f)| k.1 != f.1)
        .map(|(k, f)| format!("{}: kept {}, recomputed {}", k.0, k.1, f.1))
        .collect();
    let show = |p: &[ChainProblem]| {
        let mut v: Vec<String> = p.iter().map(|p| problem(p).to_string()).collect();
        v.sort();
        v
    };
    let (k, f) = (show(&kept_problems), show(&problems));
    differences.extend(
        f.iter()
            .filter(|p| !k.contains(p))
            .map(|p| format!("not kept: {p}")),
    );
    differences.extend(
        k.iter()
            .filter(|p| !f.contains(p))
            .map(|p| format!("kept but not found: {p}")),
    );
    let repaired = repair && !differences.is_empty();
    if repaired {
        app.meta
            .replace_chain_state(device, &state, &problems)
            .await?;
        app.custody(
            &who.name,
            "chain-recheck",
            &format!("device {device}"),
            &format!("{} differences repaired", differences.len()),
        )
        .await?;
    }
    Ok(Recheck {
        device: device.to_owned(),
        links: state.links,
        problems: problems.len() as u64,
        differences,
        repaired,
    })
}

/// A device's chain state and problems computed from scratch from its stored links.
pub(crate) async fn recompute(
    app: &App,
    device: &str,
) -> Result<(ChainState, Vec<ChainProblem>), ApiError> {
    let dev = app
        .meta
        .device(device)
        .await?
        .ok_or_else(|| ApiError::UnknownDevice(device.to_owned()))?;
    let key = VerifierKey::parse(&dev.vkey).map_err(|e| ApiError::Internal(e.to_string()))?;
    let opts = ChainOptions {
        max_gap_ms: app.config.max_gap_ms,
    };
    let mut scan = ChainScan::new(device, &key, &opts);
    let (mut after, mut received) = (None, 0i64);
    loop {
        let page = app.meta.chain_page(device, after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.0);
        received = page.iter().map(|p| p.2).fold(received, i64::max);
        scan = tokio::task::spawn_blocking(move || {
            for (_, body, _) in &page {
                scan.push(body);
            }
            scan
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    let mut problems = std::mem::take(&mut scan.problems);
    for (seq, twin) in app.meta.equivocations(device, u32::MAX).await? {
        let kept = app.meta.link(device, seq).await?;
        if let (Some(kept), Ok(second)) = (kept, Hash::from_hex(&twin))
            && let Ok(first) = Hash::from_hex(&kept.hash)
        {
            problems.push(ChainProblem::Equivocation { seq, first, second });
        }
    }
    let state = ChainState {
        links: scan.links,
        segments: scan.segments,
        recorded_ms: scan.recorded_ms,
        last_seq: scan.last_seq.unwrap_or(0),
        max_end_ms: scan.max_end_ms.unwrap_or(0),
        last_received_ms: received,
        head: scan.head(),
        problems: problems.len() as u64,
    };
    Ok((state, problems))
}
