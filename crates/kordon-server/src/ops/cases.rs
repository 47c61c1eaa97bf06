//! Cases, legal holds, exports and releases.
//!
//! A case holds footage (of a camera over a time range, from an inspection, a segment or
//! a range) and notes; what an open case holds is under legal hold and is never purged.
//! Every step is a custody event in the log. The package itself is built by
//! [`crate::package`].

use base64::Engine as _;
use kordon_api::Created;
use kordon_api::cases::{
    Case as CaseOut, CaseIn, Closed, Exported, Item, ItemIn, ItemsAdded, Receipt, ReceiptIn,
    ReceiptLogged, Receipts, SegmentEvidence,
};
use kordon_core::hash::Hash;
use kordon_core::time::Timestamp;
use kordon_store::meta::{Case, CaseItem};
use kordon_store::now_ms;

use super::one_line;
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::localtime::rfc3339;
use crate::package::proofs::{policy_text, proofs_under_policy};
use crate::state::App;

const KINDS: [&str; 4] = [
    "complaint",
    "lawyer_request",
    "law_enforcement_request",
    "internal_review",
];

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::BadRequest("bad_request", m.into())
}

/// The crossing point a case opened by `who` belongs to: the one asked for, in their
/// scope; a user scoped to one crossing point gets it; none (a national case) only for a
/// user without a scope.
async fn scope_of_new(
    app: &App,
    who: &Principal,
    asked: Option<String>,
) -> Result<Option<String>, ApiError> {
    let cp = match (asked, who.crossing_points.as_slice()) {
        (Some(cp), _) if who.sees_crossing_point(&cp) => Some(cp),
        (Some(cp), _) => {
            return Err(ApiError::Forbidden(format!(
                "crossing point {cp} is outside your scope"
            )));
        }
        (None, []) => None,
        (None, [one]) => Some(one.clone()),
        (None, _) => {
            return Err(bad(
                "crossing_point is required of a user scoped to several crossing points",
            ));
        }
    };
    if let Some(cp) = &cp
        && !app
            .meta
            .crossing_points()
            .await?
            .iter()
            .any(|c| &c.code == cp)
    {
        return Err(bad(format!("no crossing point {cp}")));
    }
    Ok(cp)
}

/// A case and its items, if `who` may reach it: its crossing point is in their scope (a
/// national case: they have no scope). Every case operation goes through here.
pub(crate) async fn reachable(
    app: &App,
    who: &Principal,
    id: &str,
) -> Result<(Case, Vec<CaseItem>), ApiError> {
    let (c, items) = app
        .meta
        .case(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no case {id}")))?;
    let ok = match &c.crossing_point {
        Some(cp) => who.sees_crossing_point(cp),
        None => who.crossing_points.is_empty(),
    };
    if !ok {
        return Err(ApiError::Forbidden(format!(
            "case {id} belongs to {}, outside your scope",
            c.crossing_point
                .as_deref()
                .unwrap_or("no crossing point (national)")
        )));
    }
    Ok((c, items))
}

/// Whether a custody trail's subject (its first two words: `device D`, `case C`,
/// `inspection I`, ...) is in `who`'s scope: a camera that served at one of their crossing
/// points, a case of theirs, an inspection they see. Users with a scope see no other
/// trails (users, tokens, reference data are the administration's).
pub(crate) async fn subject_in_scope(
    app: &App,
    who: &Principal,
    subject: &str,
) -> Result<bool, ApiError> {
    if who.crossing_points.is_empty() && who.officer.is_none() {
        return Ok(true);
    }
    let mut words = subject.split(' ');
    Ok(match (words.next(), words.next()) {
        (Some("device"), Some(d)) => app.meta.assignments(d).await?.iter().any(|a| {
            who.sees_footage(std::iter::once((
                a.crossing_point.as_str(),
                a.officer.as_str(),
            )))
        }),
        (Some("case"), Some(c)) => reachable(app, who, c).await.is_ok(),
        (Some("share"), Some(id)) => (app.meta.share(id).await?.map(|s| s.crossing_point))
            .is_some_and(|cp| who.sees_crossing_point(&cp)),
        (Some("redaction"), Some(id)) => (app.meta.redaction(id).await?.map(|r| r.crossing_point))
            .is_some_and(|cp| who.sees_crossing_point(&cp)),
        (Some("inspection"), Some(i)) => app
            .meta
            .inspection(i)
            .await?
            .is_some_and(|li| who.sees_inspection(&li.row.crossing_point, &li.row.officers)),
        _ => false,
    })
}

/// Refuses footage of `device` over `[from, to)` that was not recorded at the case's
/// crossing point: every assignment of the camera over that time must be there (and
/// there must be one). A national case takes any footage.
async fn footage_in_case(
    app: &App,
    case: &Case,
    device: &str,
    from: i64,
    to: i64,
) -> Result<(), ApiError> {
    let Some(cp) = &case.crossing_point else {
        return Ok(());
    };
    let during: Vec<_> = app
        .meta
        .assignments(device)
        .await?
        .into_iter()
        .filter(|a| a.start_ms < to && a.end_ms.is_none_or(|e| e > from))
        .collect();
    if during.is_empty() || during.iter().any(|a| &a.crossing_point != cp) {
        return Err(ApiError::Forbidden(format!(
            "footage of {device} over that time was not recorded at {cp}, the crossing point of case {}",
            case.id
        )));
    }
    Ok(())
}

/// Opens a case.
pub(crate) async fn open(app: &App, who: &Principal, b: CaseIn) -> Result<Created, ApiError> {
    who.require(Op::ManageCases)?;
    if !kordon_core::link::is_valid_device_id(&b.id) {
        return Err(bad("case id must be 1-64 letters, digits, '-', '_' or '.'"));
    }
    if !KINDS.contains(&b.kind.as_str()) {
        return Err(bad(format!("kind must be one of {}", KINDS.join(", "))));
    }
    let crossing_point = scope_of_new(app, who, b.crossing_point.clone()).await?;
    let c = Case {
        crossing_point,
        id: b.id.clone(),
        reference: one_line("reference", &b.reference, 128)?,
        kind: b.kind.clone(),
        description: one_line("description", &b.description, 400)?,
        opened_by: who.name.clone(),
        opened_at: now_ms(),
        closed_at: None,
    };
    app.meta
        .open_case(&c)
        .await
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    let index = app
        .custody(
            &who.name,
            "case-open",
            &format!("case {}", c.id),
            &format!("{} {}: {}", c.kind, c.reference, c.description),
        )
        .await?;
    Ok(Created {
        id: c.id,
        log_index: index,
    })
}

/// Adds footage (held from now on) or a note to an open case.
pub(crate) async fn add_item(
    app: &App,
    who: &Principal,
    id: &str,
    b: ItemIn,
) -> Result<ItemsAdded, ApiError> {
    who.require(Op::ManageCases)?;
    let (case, _) = reachable(app, who, id).await?;
    if case.closed_at.is_some() {
        return Err(ApiError::Conflict(format!(
            "case {id} is closed: open a new case to hold more"
        )));
    }
    let item =
        |kind: &str, inspection: Option<String>, device: Option<String>, from, to, text: String| {
            CaseItem {
                item: 0,
                kind: kind.into(),
                inspection_id: inspection,
                device_id: device,
                from_ms: from,
                to_ms: to,
                text,
                added_by: who.name.clone(),
            }
        };
    let items: Vec<CaseItem> = match b.kind.as_str() {
        "inspection" => {
            let iid = b
                .inspection_id
                .ok_or_else(|| bad("inspection_id is required"))?;
            let li = app
                .meta
                .inspection(&iid)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no inspection {iid}")))?;
            if !who.sees_inspection(&li.row.crossing_point, &li.row.officers)
                || case
                    .crossing_point
                    .as_ref()
                    .is_some_and(|cp| *cp != li.row.crossing_point)
            {
                return Err(ApiError::Forbidden(format!(
                    "inspection {iid} is at {}, not a crossing point of case {id}",
                    li.row.crossing_point
                )));
            }
            let mut v = Vec::new();
            for o in &li.row.officers {
                for a in app
                    .meta
                    .assignments_of(o, li.row.start_ms, li.row.end_ms)
                    .await?
                {
                    let from = li.row.start_ms.max(a.start_ms);
                    let to = li.row.end_ms.min(a.end_ms.unwrap_or(i64::MAX));
                    v.push(item(
                        "inspection",
                        Some(iid.clone()),
                        Some(a.device_id),
                        Some(from),
                        Some(to),
                        format!("inspection {iid}, officer {o}"),
                    ));
                }
            }
            if v.is_empty() {
                v.push(item(
                    "inspection",
                    Some(iid.clone()),
                    None,
                    None,
                    None,
                    format!("inspection {iid}: no camera was assigned to its officers"),
                ));
            }
            v
        }
        "segment" => {
            let device = b.device.ok_or_else(|| bad("device is required"))?;
            let seq = b.seq.ok_or_else(|| bad("seq is required"))?;
            let l = app
                .meta
                .links_covering(&device, i64::MIN, i64::MAX)
                .await?
                .into_iter()
                .find(|l| l.seq == seq && l.kind == "segment")
                .ok_or_else(|| ApiError::NotFound(format!("no segment {seq} of {device}")))?;
            footage_in_case(app, &case, &device, l.start_ms, l.end_ms).await?;
            vec![item(
                "segment",
                None,
                Some(device),
                Some(l.start_ms),
                Some(l.end_ms),
                format!("segment {seq}"),
            )]
        }
        "range" => {
            let device = b.device.ok_or_else(|| bad("device is required"))?;
            if app.meta.device(&device).await?.is_none() {
                return Err(ApiError::UnknownDevice(device));
            }
            let t = |f: &str, v: Option<String>| {
                rfc3339(f, &v.ok_or_else(|| bad(format!("{f} is required")))?).map_err(bad)
            };
            let (from, to) = (t("from", b.from)?, t("to", b.to)?);
            if to <= from {
                return Err(bad("to is not after from"));
            }
            footage_in_case(app, &case, &device, from, to).await?;
            vec![item(
                "range",
                None,
                Some(device),
                Some(from),
                Some(to),
                b.text.trim().to_owned(),
            )]
        }
        "note" => vec![item(
            "note",
            None,
            None,
            None,
            None,
            one_line("text", &b.text, 2000)?,
        )],
        other => {
            return Err(bad(format!(
                "kind {other:?} is not inspection, segment, range or note"
            )));
        }
    };
    let numbers = app.meta.add_case_items(id, &items, now_ms()).await?;
    let mut indexes = Vec::new();
    for (n, i) in numbers.iter().zip(&items) {
        let detail = match (&i.device_id, i.from_ms, i.to_ms) {
            (Some(d), Some(f), Some(t)) => format!(
                "item {n} {}: legal hold on {d} {}..{}",
                i.kind,
                Timestamp(f),
                Timestamp(t)
            ),
            _ => format!("item {n} {}: {}", i.kind, i.text),
        };
        indexes.push(
            app.custody(&who.name, "case-add", &format!("case {id}"), &detail)
                .await?,
        );
    }
    // In a bucket, what the case holds is on the store's own legal hold too.
    set_bucket_holds(app, &items, true).await?;
    Ok(ItemsAdded {
        items: numbers,
        log_indexes: indexes,
    })
}

/// Puts the stored segments of the items' footage on the bucket's legal hold, or takes
/// them off where nothing holds them any more (another open case, a violation).
pub(crate) async fn set_bucket_holds(
    app: &App,
    items: &[CaseItem],
    on: bool,
) -> Result<(), ApiError> {
    for i in items {
        if let (Some(d), Some(f), Some(t)) = (&i.device_id, i.from_ms, i.to_ms) {
            for l in app.meta.links_covering(d, f, t).await? {
                if let (Some(sha), None) = (&l.blob_sha256, l.purged_at) {
                    if !on
                        && app
                            .meta
                            .is_held(d, l.start_ms, l.end_ms.max(l.start_ms + 1))
                            .await?
                    {
                        continue;
                    }
                    let h = Hash::from_hex(sha).map_err(internal)?;
                    app.blobs.legal_hold(&h, on).await?;
                }
            }
        }
    }
    Ok(())
}

/// Closes a case: the matter is over; the case holds nothing from now on (its items and
/// trail stay). Custody event `case-close`.
pub(crate) async fn close(app: &App, who: &Principal, id: &str) -> Result<Closed, ApiError> {
    who.require(Op::ManageCases)?;
    let (_, items) = reachable(app, who, id).await?;
    if !app.meta.close_case(id, &who.name, now_ms()).await? {
        return Err(ApiError::Conflict(format!("case {id} is already closed")));
    }
    let index = app
        .custody(
            &who.name,
            "case-close",
            &format!("case {id}"),
            &format!(
                "legal hold released on {} item(s)",
                items.iter().filter(|i| i.device_id.is_some()).count()
            ),
        )
        .await?;
    set_bucket_holds(app, &items, false).await?;
    Ok(Closed {
        case: id.to_owned(),
        closed: true,
        log_index: index,
    })
}

/// A case with its items.
pub(crate) async fn get(app: &App, who: &Principal, id: &str) -> Result<CaseOut, ApiError> {
    who.require(Op::ViewCustody)?;
    let (c, items) = reachable(app, who, id).await?;
    let t = |ms: i64| Timestamp(ms).to_string();
    Ok(CaseOut {
        id: c.id,
        reference: c.reference,
        kind: c.kind,
        description: c.description,
        opened_at: t(c.opened_at),
        closed_at: c.closed_at.map(t),
        crossing_point: c.crossing_point,
        items: items
            .into_iter()
            .map(|i| Item {
                held: i.device_id.is_some(),
                item: i.item,
                kind: i.kind,
                inspection_id: i.inspection_id,
                device: i.device_id,
                from: i.from_ms.map(t),
                to: i.to_ms.map(t),
                text: i.text,
            })
            .collect(),
    })
}

/// Writes the case's evidence package (see [`crate::package`]).
pub(crate) async fn export(app: &App, who: &Principal, id: &str) -> Result<Exported, ApiError> {
    who.require(Op::ExportCase)?;
    reachable(app, who, id).await?;
    crate::package::export(app, &who.name, id).await
}

/// A package to download: its path; the first download per person is a custody event
/// `download`.
pub(crate) async fn download(
    app: &App,
    who: &Principal,
    name: &str,
) -> Result<std::path::PathBuf, ApiError> {
    who.require(Op::ExportCase)?;
    let path = app.config.data.join("exports").join(name);
    if name.starts_with('.') || name.contains('/') || !name.ends_with(".zip") || !path.exists() {
        return Err(ApiError::NotFound(format!("no export {name}")));
    }
    // `<case>-<ms>.zip`: the case's scope is the package's.
    let case = name
        .trim_end_matches(".zip")
        .rsplit_once('-')
        .map(|(case, _)| case)
        .ok_or_else(|| ApiError::NotFound(format!("no export {name}")))?;
    reachable(app, who, case).await?;
    let subject = format!("export {name}");
    let first = app
        .views
        .lock()
        .map(|mut v| v.insert((who.name.clone(), subject.clone(), "download".into())))
        .unwrap_or(true);
    if first {
        app.custody(
            &who.name,
            "download",
            &subject,
            "evidence package downloaded",
        )
        .await?;
    }
    Ok(path)
}

/// Records that a package was released to a recipient.
pub(crate) async fn receipt(
    app: &App,
    who: &Principal,
    id: &str,
    b: ReceiptIn,
) -> Result<ReceiptLogged, ApiError> {
    who.require(Op::ReleasePackage)?;
    reachable(app, who, id).await?;
    let h = Hash::from_hex(&b.package_sha256).map_err(|_| {
        ApiError::BadRequest("bad_hash", "package_sha256 is not 64 hex digits".into())
    })?;
    if !crate::package::exported(app, id, &h) {
        return Err(ApiError::BadRequest(
            "unknown_package",
            format!(
                "no package of case {id} exported here has SHA-256 {}: export it, then record its release",
                h.to_hex()
            ),
        ));
    }
    let recipient = one_line("recipient", &b.recipient, 200)?;
    let index = app
        .custody(
            &who.name,
            "case-release",
            &format!("case {id}"),
            &format!("package sha256 {} released to {recipient}", h.to_hex()),
        )
        .await?;
    Ok(ReceiptLogged {
        case: id.to_owned(),
        log_index: index,
    })
}

/// The release events of a package, each with a tlog-proof, and the policy, so a
/// recipient can check them.
pub(crate) async fn receipts(app: &App, sha: &str) -> Result<Receipts, ApiError> {
    let h = Hash::from_hex(sha)
        .map_err(|_| ApiError::BadRequest("bad_hash", "not 64 hex digits".into()))?;
    let rows = app
        .meta
        .custody_mentioning("case-release", &format!("package sha256 {} ", h.to_hex()))
        .await?;
    let entries = rows
        .iter()
        .filter_map(|r| Some((Hash::from_hex(&r.hash).ok()?, r.log_index? as u64)))
        .collect();
    let (_, proofs) = proofs_under_policy(app, entries).await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let receipts = rows
        .iter()
        .filter_map(|r| {
            let p = proofs.iter().find(|(h, _)| h.to_hex() == r.hash)?;
            Some(Receipt {
                event: b64.encode(&r.body),
                proof: b64.encode(&p.1),
                private: r.private.clone(),
            })
        })
        .collect();
    Ok(Receipts {
        package_sha256: h.to_hex(),
        receipts,
        policy: policy_text(app)?,
    })
}

/// What an outsider needs to check one segment file against the log: its link, the
/// device key with its enrollment event, tlog-proofs of both, and the policy.
pub(crate) async fn segment_evidence(app: &App, sha: &str) -> Result<SegmentEvidence, ApiError> {
    let h = Hash::from_hex(sha)
        .map_err(|_| ApiError::BadRequest("bad_hash", "not 64 hex digits".into()))?;
    let l = app
        .meta
        .link_by_blob(&h.to_hex())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no segment with sha256 {}", h.to_hex())))?;
    let enroll = app
        .meta
        .custody_about(&[format!("device {}", l.device_id)])
        .await?
        .into_iter()
        .rfind(|c| c.action == "enroll")
        .ok_or_else(|| ApiError::NotFound(format!("no enrollment event for {}", l.device_id)))?;
    let mut entries = Vec::new();
    for (hash, index) in [(&l.hash, l.log_index), (&enroll.hash, enroll.log_index)] {
        let index = index.ok_or_else(|| ApiError::Unavailable("not in the log yet".into()))?;
        entries.push((Hash::from_hex(hash).map_err(internal)?, index as u64));
    }
    let (_, p) = proofs_under_policy(app, entries).await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(SegmentEvidence {
        link: b64.encode(&l.body),
        link_proof: b64.encode(&p[0].1),
        enroll_event: b64.encode(&enroll.body),
        enroll_proof: b64.encode(&p[1].1),
        purged: l.purged_at.is_some(),
        policy: policy_text(app)?,
        device: l.device_id,
        seq: l.seq,
    })
}
