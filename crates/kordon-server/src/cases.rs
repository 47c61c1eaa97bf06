//! Cases, legal holds, evidence packages and receipts.
//!
//! A case holds footage (of a camera over a time range, from an inspection, a segment or
//! a range) and notes; what a case holds is under legal hold and is never purged. Every
//! step is a custody event in the log.
//!
//! Export (`POST /v1/cases/{id}/export`) writes a `kordon.evidence/v1` zip
//! (`docs/spec/evidence-package.md`): the original segments byte for byte, every chain
//! link of the held ranges, the devices' keys, the custody trail, a bilingual report, the
//! contents list; then appends the export event naming the contents list's hash, waits
//! for a checkpoint that covers it and satisfies the witness quorum, and adds a
//! tlog-proof to that checkpoint for every link and custody event, with the tlog-policy.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kordon_core::hash::Hash;
use kordon_core::merkle;
use kordon_core::note::Note;
use kordon_core::package::{self, Contents, Entry};
use kordon_core::time::Timestamp;
use kordon_core::tlog_proof::TlogProof;
use kordon_store::meta::{Case, CaseItem, CustodyRow, LinkRow};
use kordon_store::now_ms;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::app::App;
use crate::error::{ApiError, Body};
use crate::inspections::rfc3339;

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

fn one_line(field: &str, v: &str, max: usize) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() || v.len() > max || v.chars().any(char::is_control) {
        return Err(bad(format!(
            "{field} must be 1-{max} characters on one line"
        )));
    }
    Ok(v.to_owned())
}

/// Body of `POST /v1/cases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseIn {
    id: String,
    reference: String,
    kind: String,
    description: String,
}

/// `POST /v1/cases`: opens a case.
pub(crate) async fn open(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Body(b): Body<CaseIn>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ManageCases, true)
        .await?;
    if !kordon_core::link::is_valid_device_id(&b.id) {
        return Err(bad("case id must be 1-64 letters, digits, '-', '_' or '.'"));
    }
    if !KINDS.contains(&b.kind.as_str()) {
        return Err(bad(format!("kind must be one of {}", KINDS.join(", "))));
    }
    let c = Case {
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
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": c.id, "log_index": index})),
    ))
}

/// Body of `POST /v1/cases/{id}/items`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ItemIn {
    /// `inspection`, `segment`, `range` or `note`.
    kind: String,
    inspection_id: Option<String>,
    device: Option<String>,
    seq: Option<u64>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    text: String,
}

/// `POST /v1/cases/{id}/items`: adds footage (held from now on) or a note.
pub(crate) async fn add_item(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(b): Body<ItemIn>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ManageCases, true)
        .await?;
    match app.meta.case(&id).await? {
        None => return Err(ApiError::NotFound(format!("no case {id}"))),
        Some((c, _)) if c.closed_at.is_some() => {
            return Err(ApiError::Conflict(format!(
                "case {id} is closed: open a new case to hold more"
            )));
        }
        Some(_) => {}
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
    let numbers = app.meta.add_case_items(&id, &items, now_ms()).await?;
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
    set_bucket_holds(&app, &items, true).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"items": numbers, "log_indexes": indexes})),
    ))
}

/// Puts the stored segments of the items' footage on the bucket's legal hold, or takes
/// them off where nothing holds them any more (another open case, a violation).
async fn set_bucket_holds(app: &App, items: &[CaseItem], on: bool) -> Result<(), ApiError> {
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

/// `POST /v1/cases/{id}/close` (analyst): the matter is over; the case holds nothing from
/// now on (its items and trail stay). Custody event `case-close`.
pub(crate) async fn close(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ManageCases, true)
        .await?;
    let (_, items) = app
        .meta
        .case(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no case {id}")))?;
    if !app.meta.close_case(&id, &who.name, now_ms()).await? {
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
    set_bucket_holds(&app, &items, false).await?;
    Ok(Json(
        json!({ "case": id, "closed": true, "log_index": index }),
    ))
}

/// `GET /v1/cases/{id}`.
pub(crate) async fn get(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    app.require(&headers, crate::auth::Op::ViewCustody, false)
        .await?;
    let (c, items) = app
        .meta
        .case(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no case {id}")))?;
    Ok(Json(json!({
        "id": c.id, "reference": c.reference, "kind": c.kind, "description": c.description,
        "opened_at": Timestamp(c.opened_at).to_string(),
        "closed_at": c.closed_at.map(|t| Timestamp(t).to_string()),
        "items": items.iter().map(|i| json!({
            "item": i.item, "kind": i.kind, "inspection_id": i.inspection_id, "device": i.device_id,
            "from": i.from_ms.map(|t| Timestamp(t).to_string()), "to": i.to_ms.map(|t| Timestamp(t).to_string()),
            "text": i.text, "held": i.device_id.is_some(),
        })).collect::<Vec<_>>(),
    })))
}

/// The C2SP tlog-policy evidence is proven under: the log, the configured witnesses and
/// the quorum.
pub(crate) fn policy_text(app: &App) -> Result<String, ApiError> {
    let mut s = format!(
        "# kordon evidence policy: the log, the witnesses, how many must cosign\nlog {}\n",
        app.log.verifier()
    );
    let n = app.config.witnesses.len();
    for (i, w) in app.config.witnesses.iter().enumerate() {
        s.push_str(&format!("witness w{} {} {}\n", i + 1, w.key, w.url));
    }
    if n == 0 {
        s.push_str("quorum none\n");
    } else {
        let k = match app.config.witness_quorum {
            0 => n,
            k => k.min(n),
        };
        let members: Vec<String> = (1..=n).map(|i| format!("w{i}")).collect();
        s.push_str(&format!(
            "group witnesses {k} {}\nquorum witnesses\n",
            members.join(" ")
        ));
    }
    kordon_core::policy::Policy::parse(&s).map_err(internal)?;
    Ok(s)
}

/// Waits (up to 30 s) for a checkpoint covering `index` that satisfies the policy.
async fn checkpoint_covering(
    app: &App,
    index: u64,
    policy: &str,
) -> Result<(u64, Vec<u8>), ApiError> {
    let policy = kordon_core::policy::Policy::parse(policy).map_err(internal)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let candidate = if app.config.witnesses.is_empty() {
            let p = app.log.published();
            Some((p.size, p.checkpoint.to_vec()))
        } else {
            app.witnessed.read().map_err(internal)?.clone()
        };
        if let Some((size, note)) = candidate
            && size > index
            && policy.check(&note).is_ok()
        {
            return Ok((size, note));
        }
        if tokio::time::Instant::now() > deadline {
            return Err(ApiError::Unavailable(
                "no checkpoint covering the export satisfied the witness quorum within 30 s (are the witnesses up?)".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// tlog-proofs of `entries` (`(entry hash, log index)`) to the checkpoint `note` of `size`.
pub(crate) async fn proofs(
    app: &App,
    entries: Vec<(Hash, u64)>,
    size: u64,
    note: Vec<u8>,
) -> Result<Vec<(Hash, Vec<u8>)>, ApiError> {
    let reader = app.log.reader();
    tokio::task::spawn_blocking(move || {
        entries
            .into_iter()
            .map(|(h, index)| {
                let path = merkle::inclusion_proof(&reader, index, size).map_err(internal)?;
                let p = TlogProof {
                    extra: None,
                    index,
                    path,
                    checkpoint: note.clone(),
                };
                Ok((h, p.to_bytes()))
            })
            .collect()
    })
    .await
    .map_err(internal)?
}

/// tlog-proofs of `entries` to a checkpoint that covers them all and satisfies the policy
/// (cosigned by the witness quorum).
/// Answers the checkpoint note too.
async fn proofs_under_policy(
    app: &App,
    entries: Vec<(Hash, u64)>,
) -> Result<(Vec<u8>, Vec<(Hash, Vec<u8>)>), ApiError> {
    let max = entries.iter().map(|e| e.1).max().unwrap_or(0);
    let (size, note) = checkpoint_covering(app, max, &policy_text(app)?).await?;
    Ok((note.clone(), proofs(app, entries, size, note).await?))
}

/// A zip being written, with its contents list.
struct Package {
    zip: zip::ZipWriter<std::fs::File>,
    contents: Vec<Entry>,
}

fn stored() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true)
}

impl Package {
    /// Adds a file that is listed in the contents.
    fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
        self.add_unlisted(path, bytes)?;
        self.contents.push(Entry {
            path: path.to_owned(),
            sha256: kordon_core::sha256(bytes),
            size: bytes.len() as u64,
        });
        Ok(())
    }

    /// Adds one of the files that prove the contents (not listed in them).
    fn add_unlisted(&mut self, path: &str, bytes: &[u8]) -> Result<(), ApiError> {
        self.zip.start_file(path, stored()).map_err(internal)?;
        self.zip.write_all(bytes).map_err(internal)
    }

    /// Copies a stored segment in, hashing it on the way; refuses bytes that do not match.
    fn add_segment(
        &mut self,
        path: &str,
        from: &std::path::Path,
        want: &Hash,
    ) -> Result<(), ApiError> {
        let mut f = std::fs::File::open(from).map_err(internal)?;
        self.zip.start_file(path, stored()).map_err(internal)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = std::io::Read::read(&mut f, &mut buf).map_err(internal)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            self.zip.write_all(&buf[..n]).map_err(internal)?;
            size += n as u64;
        }
        let got = Hash(h.finalize().into());
        if got != *want {
            return Err(ApiError::Internal(format!(
                "stored blob {} does not match its hash (read {}): the scrubber should quarantine it; export stopped",
                want.to_hex(),
                got.to_hex()
            )));
        }
        self.contents.push(Entry {
            path: path.to_owned(),
            sha256: got,
            size,
        });
        Ok(())
    }
}

/// What goes into a package, read from the database.
struct Gathered {
    case: Case,
    items: Vec<CaseItem>,
    links: BTreeMap<String, Vec<LinkRow>>,
    keys: BTreeMap<String, String>,
    custody: Vec<CustodyRow>,
    zones: BTreeMap<String, jiff::tz::TimeZone>,
}

async fn gather(app: &App, id: &str) -> Result<Gathered, ApiError> {
    let (case, items) = app
        .meta
        .case(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no case {id}")))?;
    let mut ranges: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for i in &items {
        if let (Some(d), Some(f), Some(t)) = (&i.device_id, i.from_ms, i.to_ms) {
            ranges.entry(d.clone()).or_default().push((f, t));
        }
    }
    if ranges.is_empty() {
        return Err(ApiError::BadRequest(
            "empty_case",
            format!("case {id} holds no footage to export"),
        ));
    }
    let mut links = BTreeMap::new();
    let mut keys = BTreeMap::new();
    let mut zones = BTreeMap::new();
    let cp_zones = crate::inspections::zones(app).await?;
    let mut subjects = vec![format!("case {id}")];
    let mut prefixes = Vec::new();
    for (device, spans) in &ranges {
        let mut by_seq: BTreeMap<u64, LinkRow> = BTreeMap::new();
        for (f, t) in spans {
            for l in app.meta.links_covering(device, *f, *t).await? {
                by_seq.insert(l.seq, l);
            }
        }
        if let Some(d) = app.meta.device(device).await? {
            keys.insert(device.clone(), d.vkey);
        }
        if let Some(tz) = app
            .meta
            .assignments(device)
            .await?
            .last()
            .and_then(|a| cp_zones.get(&a.checkpoint))
        {
            zones.insert(device.clone(), tz.clone());
        }
        links.insert(device.clone(), by_seq.into_values().collect());
        subjects.push(format!("device {device}"));
        prefixes.push(format!("device {device} "));
    }
    let custody = app.meta.custody_about(&subjects, &prefixes).await?;
    Ok(Gathered {
        case,
        items,
        links,
        keys,
        custody,
        zones,
    })
}

/// `POST /v1/cases/{id}/export`: writes the evidence package; answers where it is.
pub(crate) async fn export(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ExportCase, true)
        .await?;
    let g = gather(&app, &id).await?;
    let dir = app.config.data.join("exports");
    std::fs::create_dir_all(&dir).map_err(internal)?;
    let stamp = now_ms();
    let name = format!("{id}-{stamp}.zip");
    let tmp = dir.join(format!(".{name}.tmp"));
    let final_path = dir.join(&name);
    // The segments as local files (a bucket's are fetched into the exports folder first).
    let mut files: HashMap<String, (std::path::PathBuf, bool)> = HashMap::new();
    for l in g.links.values().flatten() {
        if let (Some(sha), None) = (&l.blob_sha256, l.purged_at)
            && !files.contains_key(sha)
        {
            let h = Hash::from_hex(sha).map_err(internal)?;
            files.insert(sha.clone(), app.blobs.local_file(&h, &dir).await?);
        }
    }
    let report = crate::report::html(&g.case, &g.items, &g.links, &g.custody, &g.zones);
    let fetched: Vec<std::path::PathBuf> = files
        .values()
        .filter(|(_, copy)| *copy)
        .map(|(p, _)| p.clone())
        .collect();
    let packed = {
        let tmp = tmp.clone();
        tokio::task::spawn_blocking(move || -> Result<(Gathered, Package), ApiError> {
            let file = std::fs::File::create(&tmp).map_err(internal)?;
            let mut pkg = Package {
                zip: zip::ZipWriter::new(file),
                contents: Vec::new(),
            };
            for (device, key) in &g.keys {
                pkg.add(
                    &package::device_key_path(device),
                    format!("{key}\n").as_bytes(),
                )?;
            }
            for (device, ls) in &g.links {
                for l in ls {
                    pkg.add(&package::link_path(device, l.seq), &l.body)?;
                    if let (Some(sha), None) = (&l.blob_sha256, l.purged_at) {
                        let h = Hash::from_hex(sha).map_err(internal)?;
                        let (file, _) = files.get(sha).ok_or_else(|| {
                            ApiError::Internal(format!("segment {sha} not fetched"))
                        })?;
                        pkg.add_segment(&package::segment_path(device, l.seq), file, &h)?;
                    }
                }
            }
            for c in &g.custody {
                let h = Hash::from_hex(&c.hash).map_err(internal)?;
                pkg.add(&package::custody_path(&h), &c.body)?;
            }
            pkg.add(package::REPORT, report.as_bytes())?;
            Ok((g, pkg))
        })
        .await
        .map_err(internal)
    };
    for f in fetched {
        let _ = tokio::fs::remove_file(f).await;
    }
    let (g, mut pkg) = packed??;
    pkg.contents.sort_by(|a, b| a.path.cmp(&b.path));
    let contents = Contents {
        case: id.clone(),
        entries: std::mem::take(&mut pkg.contents),
    };
    let digest = contents.digest();
    let (export_index, export_hash) = app
        .custody_entry(
            &who.name,
            package::EXPORT_ACTION,
            &format!("case {id}"),
            &package::export_detail(&id, &digest),
        )
        .await?;
    let export_note = app
        .meta
        .custody_about(&[format!("case {id}")], &[])
        .await?
        .into_iter()
        .find(|c| c.hash == export_hash)
        .ok_or_else(|| ApiError::Internal("export event not found after logging".into()))?;
    let mut entries: Vec<(Hash, u64)> = Vec::new();
    let rows = g
        .links
        .values()
        .flatten()
        .map(|l| (&l.hash, l.log_index))
        .chain(g.custody.iter().map(|c| (&c.hash, c.log_index)));
    for (h, i) in rows {
        let i = i.ok_or_else(|| {
            ApiError::Unavailable(format!(
                "entry {h} is not in the log yet; try again in a moment"
            ))
        })?;
        entries.push((Hash::from_hex(h).map_err(internal)?, i as u64));
    }
    entries.push((
        Hash::from_hex(&export_hash).map_err(internal)?,
        export_index,
    ));
    let (note, proofs) = proofs_under_policy(&app, entries).await?;
    let size =
        kordon_core::checkpoint::Checkpoint::parse(Note::parse(&note).map_err(internal)?.text())
            .map_err(internal)?
            .size;
    let policy = policy_text(&app)?;
    let file = tokio::task::spawn_blocking(move || -> Result<u64, ApiError> {
        pkg.add_unlisted(package::CONTENTS, contents.to_text().as_bytes())?;
        pkg.add_unlisted(package::EXPORT_EVENT, &export_note.body)?;
        pkg.add_unlisted(package::CHECKPOINT, &note)?;
        pkg.add_unlisted(package::POLICY, policy.as_bytes())?;
        for (h, p) in &proofs {
            pkg.add_unlisted(&package::proof_path(h), p)?;
        }
        let f = pkg.zip.finish().map_err(internal)?;
        f.sync_all().map_err(internal)?;
        Ok(f.metadata().map_err(internal)?.len())
    })
    .await
    .map_err(internal)??;
    std::fs::rename(&tmp, &final_path).map_err(internal)?;
    let sha = hash_file(final_path.clone()).await?;
    Ok(Json(json!({
        "case": id, "file": name, "size": file, "sha256": sha.to_hex(),
        "contents_sha256": digest.to_hex(), "export_log_index": export_index, "checkpoint_size": size,
    })))
}

async fn hash_file(path: std::path::PathBuf) -> Result<Hash, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut f = std::fs::File::open(path).map_err(internal)?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = std::io::Read::read(&mut f, &mut buf).map_err(internal)?;
            if n == 0 {
                return Ok(Hash(h.finalize().into()));
            }
            h.update(&buf[..n]);
        }
    })
    .await
    .map_err(internal)?
}

/// `GET /v1/exports/{file}`: downloads a package (analyst); the first download per person
/// is a custody event `download`.
pub(crate) async fn download(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    use tower::ServiceExt as _;
    let who = app
        .require(&headers, crate::auth::Op::ExportCase, false)
        .await?;
    let path = app.config.data.join("exports").join(&name);
    if name.starts_with('.') || name.contains('/') || !name.ends_with(".zip") || !path.exists() {
        return Err(ApiError::NotFound(format!("no export {name}")));
    }
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
    let res = tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(internal)?;
    Ok(res.into_response())
}

/// Body of `POST /v1/cases/{id}/receipts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReceiptIn {
    recipient: String,
    package_sha256: String,
}

/// `POST /v1/cases/{id}/receipts`: records that a package was released to a recipient.
pub(crate) async fn receipt(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(b): Body<ReceiptIn>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let who = app
        .require(&headers, crate::auth::Op::ReleasePackage, true)
        .await?;
    if app.meta.case(&id).await?.is_none() {
        return Err(ApiError::NotFound(format!("no case {id}")));
    }
    let h = Hash::from_hex(&b.package_sha256).map_err(|_| {
        ApiError::BadRequest("bad_hash", "package_sha256 is not 64 hex digits".into())
    })?;
    let recipient = one_line("recipient", &b.recipient, 200)?;
    let index = app
        .custody(
            &who.name,
            "case-release",
            &format!("case {id}"),
            &format!("package sha256 {} released to {recipient}", h.to_hex()),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"case": id, "log_index": index})),
    ))
}

/// `GET /v1/receipts/{package_sha256}`: the release events of a package, each with a
/// tlog-proof to the latest checkpoint, and the policy, so a recipient can check them.
pub(crate) async fn receipts(
    State(app): State<Arc<App>>,
    Path(sha): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let h = Hash::from_hex(&sha)
        .map_err(|_| ApiError::BadRequest("bad_hash", "not 64 hex digits".into()))?;
    let rows = app
        .meta
        .custody_mentioning("case-release", &format!("package sha256 {} ", h.to_hex()))
        .await?;
    let entries = rows
        .iter()
        .filter_map(|r| Some((Hash::from_hex(&r.hash).ok()?, r.log_index? as u64)))
        .collect();
    let (_, proofs) = proofs_under_policy(&app, entries).await?;
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let out: Vec<Value> = rows
        .iter()
        .filter_map(|r| {
            let p = proofs.iter().find(|(h, _)| h.to_hex() == r.hash)?;
            Some(json!({"event": b64.encode(&r.body), "proof": b64.encode(&p.1)}))
        })
        .collect();
    Ok(Json(
        json!({"package_sha256": h.to_hex(), "receipts": out, "policy": policy_text(&app)?}),
    ))
}

/// `GET /v1/segments/{sha256}/evidence`: what an outsider needs to check one segment file
/// against the log: its link, the device key with its enrollment event, tlog-proofs of
/// both to the latest checkpoint, and the policy.
pub(crate) async fn segment_evidence(
    State(app): State<Arc<App>>,
    Path(sha): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let h = Hash::from_hex(&sha)
        .map_err(|_| ApiError::BadRequest("bad_hash", "not 64 hex digits".into()))?;
    let l = app
        .meta
        .link_by_blob(&h.to_hex())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no segment with sha256 {}", h.to_hex())))?;
    let enroll = app
        .meta
        .custody_about(&[format!("device {}", l.device_id)], &[])
        .await?
        .into_iter()
        .rfind(|c| c.action == "enroll")
        .ok_or_else(|| ApiError::NotFound(format!("no enrollment event for {}", l.device_id)))?;
    let mut entries = Vec::new();
    for (hash, index) in [(&l.hash, l.log_index), (&enroll.hash, enroll.log_index)] {
        let index = index.ok_or_else(|| ApiError::Unavailable("not in the log yet".into()))?;
        entries.push((Hash::from_hex(hash).map_err(internal)?, index as u64));
    }
    let (_, p) = proofs_under_policy(&app, entries).await?;
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(Json(json!({
        "device": l.device_id, "seq": l.seq,
        "link": b64.encode(&l.body), "link_proof": b64.encode(&p[0].1),
        "enroll_event": b64.encode(&enroll.body), "enroll_proof": b64.encode(&p[1].1),
        "purged": l.purged_at.is_some(),
        "policy": policy_text(&app)?,
    })))
}
