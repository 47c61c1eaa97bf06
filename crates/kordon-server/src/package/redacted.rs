//! Redacted copies (`docs/spec/redaction.md`): a camera's segments over a range rendered by
//! ffmpeg through a redaction's filter graph into one derived MP4, and the **redacted
//! package** a recipient checks — the copy, its `derive` event, the redaction's text, and
//! instead of the originals their signed links, the camera's key and enrollment, each with
//! its proof. The originals are never changed and never leave.

use std::path::{Path, PathBuf};

use kordon_core::derive::{self, DERIVE_ACTION, Derivation};
use kordon_core::hash::Hash;
use kordon_core::package::{self, Contents};
use kordon_core::redact::{REDACT, Redaction};
use kordon_store::meta::LinkRow;

use super::parts::{Derived, Package, hash_file, internal, logged};
use crate::error::ApiError;
use crate::state::App;

/// The font the watermark is drawn with (Debian's `fonts-dejavu-core`).
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// What a redacted copy is made from: a camera's links over the range (events too: the
/// package proves the chain across it) and the segments among them, with local files.
pub(crate) struct Sources {
    /// Every link of the camera from the first to the last overlapping the range.
    pub links: Vec<LinkRow>,
    /// The segment links, in order.
    pub segments: Vec<LinkRow>,
    /// A local file per segment, and whether it is a copy to remove.
    pub files: Vec<(PathBuf, bool)>,
    /// The first segment's picture size.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// Whether it has a sound track.
    pub audio: bool,
}

impl Sources {
    /// Milliseconds from the start of the first segment to the end of the last.
    pub fn duration_ms(&self) -> u64 {
        match (self.segments.first(), self.segments.last()) {
            (Some(a), Some(b)) => (b.end_ms - a.start_ms).max(0) as u64,
            _ => 0,
        }
    }

    /// The segments' SHA-256s, in order.
    pub fn hashes(&self) -> Result<Vec<Hash>, ApiError> {
        self.segments
            .iter()
            .map(|l| Hash::from_hex(l.blob_sha256.as_deref().unwrap_or("")).map_err(internal))
            .collect()
    }

    /// Removes the copies fetched from a bucket.
    pub fn clean(&self) {
        for (p, copy) in &self.files {
            if *copy {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// Gathers the segments of `device` over `[from, to)` into `dir`. Every one must be
/// stored: a copy with a hole would shift every operation after it.
///
/// # Errors
/// `no_footage` (none), `footage_incomplete` (one purged or not stored), `too_large`.
pub(crate) async fn sources(
    app: &App,
    device: &str,
    from: i64,
    to: i64,
    dir: &Path,
) -> Result<Sources, ApiError> {
    let links = app.meta.links_covering(device, from, to).await?;
    let segments: Vec<LinkRow> = links
        .iter()
        .filter(|l| l.kind == "segment" && l.end_ms > from && l.start_ms < to)
        .cloned()
        .collect();
    if segments.is_empty() {
        return Err(ApiError::NotFound(format!(
            "camera {device} recorded nothing between these times"
        )));
    }
    let bytes: i64 = segments.iter().map(|l| l.size.unwrap_or(0)).sum();
    if bytes as u64 > app.config.derived_max_bytes {
        return Err(ApiError::BadRequest(
            "too_large",
            format!(
                "{} segments, {bytes} bytes: more than derived_max_bytes; redact a shorter range",
                segments.len()
            ),
        ));
    }
    let mut s = Sources {
        links,
        segments,
        files: Vec::new(),
        width: 0,
        height: 0,
        audio: false,
    };
    for l in &s.segments {
        let got = match (&l.blob_sha256, l.purged_at) {
            (Some(sha), None) => app
                .blobs
                .local_file(&Hash::from_hex(sha).map_err(internal)?, dir)
                .await
                .ok()
                .filter(|(p, _)| p.exists()),
            _ => None,
        };
        let Some(f) = got else {
            s.clean();
            return Err(ApiError::BadRequest(
                "footage_incomplete",
                format!(
                    "segment {} of {device} is not stored (purged or missing): a copy would skip it",
                    l.seq
                ),
            ));
        };
        // ffmpeg reads a concat list's paths relative to the list.
        let (path, copy) = f;
        s.files
            .push((std::fs::canonicalize(&path).unwrap_or(path), copy));
    }
    match probe(&s.files[0].0).await {
        Ok((w, h, a)) => (s.width, s.height, s.audio) = (w, h, a),
        Err(e) => {
            s.clean();
            return Err(ApiError::Unavailable(e));
        }
    }
    Ok(s)
}

/// A video's picture size and whether it has sound, by ffprobe.
pub(super) async fn probe(path: &Path) -> Result<(u32, u32, bool), String> {
    let out = tokio::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,width,height",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("ffprobe cannot be run: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut size = None;
    let mut audio = false;
    for l in text.lines() {
        let w: Vec<&str> = l.split(',').map(str::trim).collect();
        match w.as_slice() {
            ["video", w, h, ..] => size = Some((w.parse().unwrap_or(0), h.parse().unwrap_or(0))),
            ["audio", ..] => audio = true,
            _ => {}
        }
    }
    let (w, h) = size.ok_or_else(|| format!("ffprobe finds no picture in {}", path.display()))?;
    Ok((w, h, audio))
}

/// Renders `r` over the sources into `out` (a folder of its own holds the list, the
/// graph and the watermark's text while ffmpeg runs), telling `progress` the share done.
pub(crate) async fn render(
    s: &Sources,
    r: &Redaction,
    out: &Path,
    progress: &(dyn Fn(f64) + Send + Sync),
) -> Result<(), ApiError> {
    let work = out.with_extension("work");
    std::fs::create_dir_all(&work).map_err(internal)?;
    let result = async {
        let mut list = String::new();
        for (p, _) in &s.files {
            let p = p.to_str().ok_or("a segment path is not UTF-8")?;
            list.push_str(&format!("file '{}'\n", p.replace('\'', "'\\''")));
        }
        let utf8 = |p: &Path| {
            p.to_str()
                .map(str::to_owned)
                .ok_or("the data folder is not UTF-8")
        };
        let (list_path, graph_path, mark_path) = (
            work.join("list.txt"),
            work.join("graph.txt"),
            work.join("mark.txt"),
        );
        std::fs::write(&list_path, list).map_err(|e| e.to_string())?;
        std::fs::write(&mark_path, r.watermark.as_deref().unwrap_or(""))
            .map_err(|e| e.to_string())?;
        let graph = r.filter_graph(s.audio, &utf8(&mark_path)?, FONT);
        std::fs::write(&graph_path, graph).map_err(|e| e.to_string())?;
        let (l, g, o) = (utf8(&list_path)?, utf8(&graph_path)?, utf8(out)?);
        ffmpeg(
            &kordon_core::redact::render_args(&l, &g, s.audio, &o),
            s.duration_ms(),
            progress,
        )
        .await
    }
    .await;
    let _ = std::fs::remove_dir_all(&work);
    result.map_err(|e: String| {
        let _ = std::fs::remove_file(out);
        ApiError::Unavailable(format!("the redacted copy could not be rendered: {e}"))
    })
}

/// Runs ffmpeg with `args`, reading its progress reports (`-progress pipe:1`) against
/// the output's expected length.
async fn ffmpeg(
    args: &[&str],
    duration_ms: u64,
    progress: &(dyn Fn(f64) + Send + Sync),
) -> Result<(), String> {
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _};
    let mut child = tokio::process::Command::new("ffmpeg")
        .args(["-progress", "pipe:1", "-nostats"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("ffmpeg cannot be run: {e}"))?;
    let stderr = child.stderr.take();
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        if let Some(mut e) = stderr {
            let _ = e.read_to_string(&mut text).await;
        }
        text
    });
    if let Some(out) = child.stdout.take() {
        let mut lines = tokio::io::BufReader::new(out).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            if let Some(us) = l
                .strip_prefix("out_time_us=")
                .and_then(|v| v.parse::<u64>().ok())
            {
                progress((us as f64 / 1000.0 / duration_ms.max(1) as f64).min(1.0));
            }
        }
    }
    let status = child.wait().await.map_err(|e| e.to_string())?;
    let errors = errors.await.unwrap_or_default();
    if !status.success() {
        return Err(format!("ffmpeg {status}: {}", errors.trim()));
    }
    Ok(())
}

/// Renders and logs a redacted copy: the `derive` event (public: the sources' and result's
/// hashes, the redaction's digest) about `subject`. Answers the file (at `out`) and its
/// event.
pub(crate) async fn derive_copy(
    app: &App,
    who: &str,
    subject: &str,
    s: &Sources,
    r: &Redaction,
    out: &Path,
    progress: &(dyn Fn(f64) + Send + Sync),
) -> Result<Derived, ApiError> {
    let tool = super::parts::tool().await.map_err(ApiError::Unavailable)?;
    render(s, r, out, progress).await?;
    let sha256 = hash_file(out.to_path_buf()).await?;
    let size = std::fs::metadata(out).map_err(internal)?.len();
    let hashes = s.hashes()?;
    let d = Derivation {
        operation: REDACT.to_owned(),
        device: s.segments[0].device_id.clone(),
        first: s.segments[0].seq,
        last: s.segments[s.segments.len() - 1].seq,
        sources: hashes.len() as u64,
        sources_sha256: derive::sources_digest(&hashes),
        recipe: Some(r.digest()),
        result: sha256,
        size,
        tool: tool.to_owned(),
    };
    let (_, event) = logged(app, who, DERIVE_ACTION, subject, &d.to_detail()).await?;
    Ok(Derived {
        file: out.to_path_buf(),
        path: d.path(),
        sha256,
        event,
        recipe: Some(r.to_text()),
    })
}

/// What a recipient reads first, in both languages.
const README: &str = "kordon: redacted copy / відредагована копія

EN  This package holds a redacted copy of body-worn camera footage (derived/), the
    redaction applied (redactions/), and - instead of the original recordings - the
    camera's signed records of them (links/) with proofs that they are in the customs
    service's public log. Check it yourself, offline:
        kordon-verify --policy <the policy you obtained independently> package.zip
    It holds when the copy is the one the log says was derived from those recordings.

UA  Пакет містить відредаговану копію запису нагрудної камери (derived/), застосоване
    редагування (redactions/) і - замість оригіналів - підписані камерою записи про
    них (links/) з доказами їх включення до публічного журналу митниці. Перевірте самі:
        kordon-verify --policy <політика, отримана незалежно> package.zip
";

/// Writes the redacted package `<dir>/<name>.zip` of one copy shared as share `name`: answers its path, SHA-256
/// and size.
pub(crate) async fn package(
    app: &App,
    who: &str,
    name: &str,
    s: &Sources,
    copy: &Derived,
    dir: &Path,
) -> Result<(PathBuf, Hash, u64), ApiError> {
    let device = &s.segments[0].device_id;
    let key = app
        .meta
        .device(device)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("no device {device}")))?
        .vkey;
    // The camera's enrollment proves its key; tombstones say what retention removed.
    // Nothing private: who viewed or shared stays in the service's own trail.
    let mut subjects = vec![format!("device {device}")];
    subjects.extend(
        s.links
            .iter()
            .map(|l| package::tombstone_subject(device, l.seq)),
    );
    let mut custody: Vec<_> = app
        .meta
        .custody_about(&subjects)
        .await?
        .into_iter()
        .filter(|c| c.action == "enroll" || c.action == package::TOMBSTONE_ACTION)
        .collect();
    custody.push(copy.event.clone());
    let tmp = dir.join(format!(".{name}.zip.tmp"));
    let (links, copy) = (s.links.clone(), copy.clone());
    let (device, custody_rows) = (device.clone(), custody.clone());
    let file = tmp.clone();
    let mut pkg = tokio::task::spawn_blocking(move || -> Result<Package, ApiError> {
        let mut pkg = Package {
            zip: zip::ZipWriter::new(std::fs::File::create(&file).map_err(internal)?),
            contents: Vec::new(),
        };
        pkg.add(
            &package::device_key_path(&device),
            format!("{key}\n").as_bytes(),
        )?;
        for l in &links {
            pkg.add(&package::link_path(&device, l.seq), &l.body)?;
        }
        for c in &custody_rows {
            pkg.add(
                &package::custody_path(&Hash::from_hex(&c.hash).map_err(internal)?),
                &c.body,
            )?;
        }
        pkg.add_derived(&copy)?;
        pkg.add("README.txt", README.as_bytes())?;
        Ok(pkg)
    })
    .await
    .map_err(internal)??;
    pkg.contents.sort_by(|a, b| a.path.cmp(&b.path));
    let contents = Contents {
        case: format!("share-{name}"),
        entries: std::mem::take(&mut pkg.contents),
    };
    let (export_index, export) = logged(
        app,
        who,
        package::EXPORT_ACTION,
        &format!("share {name}"),
        &package::export_detail(&contents.case, &contents.digest()),
    )
    .await?;
    let rows = s
        .links
        .iter()
        .map(|l| (&l.hash, l.log_index))
        .chain(custody.iter().map(|c| (&c.hash, c.log_index)));
    let entries = super::parts::entries(rows, (&export.hash, export_index))?;
    let (note, proofs) = super::proofs::proofs_under_policy(app, entries).await?;
    let size = pkg
        .seal(super::parts::Proven {
            contents,
            export: export.body,
            note,
            policy: super::proofs::policy_text(app)?,
            proofs,
            extra: Vec::new(),
        })
        .await?;
    let path = dir.join(format!("{name}.zip"));
    std::fs::rename(&tmp, &path).map_err(internal)?;
    let sha = hash_file(path.clone()).await?;
    Ok((path, sha, size))
}

/// The playable files of a package shared with someone: each range rendered with the
/// watermark naming the recipient (a `redact` derivation whose only operation is the
/// watermark), not joined. A range that cannot be rendered stops the share.
pub(super) async fn watermarked(
    app: &App,
    who: &str,
    id: &str,
    dir: &Path,
    todo: Vec<(String, Vec<&LinkRow>)>,
    files: &std::collections::HashMap<String, (PathBuf, bool)>,
    mark: &str,
) -> Result<Vec<Derived>, ApiError> {
    let r = kordon_core::redact::Redaction {
        watermark: Some(mark.to_owned()),
        ..Default::default()
    };
    let mut out = Vec::new();
    for (device, sources) in todo {
        // The export removes the fetched copies itself: none is marked a copy here.
        let paths: Vec<(PathBuf, bool)> = sources
            .iter()
            .filter_map(|l| files.get(l.blob_sha256.as_deref().unwrap_or("")))
            .map(|(p, _)| {
                (
                    std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()),
                    false,
                )
            })
            .collect();
        let first = paths
            .first()
            .ok_or_else(|| ApiError::Internal("no source".into()))?;
        let (width, height, audio) = probe(&first.0).await.map_err(ApiError::Unavailable)?;
        let segments: Vec<LinkRow> = sources.iter().map(|l| (*l).clone()).collect();
        let s = Sources {
            links: segments.clone(),
            segments,
            files: paths,
            width,
            height,
            audio,
        };
        let file = dir.join(format!(".{id}-{device}-{}.mp4", kordon_store::now_ms()));
        let subject = format!("case {id}");
        out.push(derive_copy(app, who, &subject, &s, &r, &file, &|_| {}).await?);
    }
    Ok(out)
}

/// The data folder's subfolder of redacted copies (`<id>.mp4`, `previews/`).
pub(crate) const COPIES: &str = "redactions";
/// The data folder's subfolder of shares' packages (`<id>.zip`).
pub(crate) const SHARES: &str = "shares";

/// One of the data folder's subfolders [`COPIES`], [`SHARES`], made if missing.
pub(crate) fn folder(app: &App, name: &str) -> Result<PathBuf, ApiError> {
    let dir = app.config.data.join(name);
    std::fs::create_dir_all(&dir).map_err(internal)?;
    Ok(dir)
}

/// Removes what renders a stop interrupted left behind: their work folders and
/// half-written copies and packages (renders write `.name` files, renamed when done).
pub(crate) fn sweep(app: &App) {
    for dir in [COPIES, SHARES] {
        let Ok(entries) = std::fs::read_dir(app.config.data.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if name.ends_with(".work") {
                let _ = std::fs::remove_dir_all(&path);
            } else if name.starts_with('.') {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}
