//! An independent witness (C2SP tlog-witness): it remembers, per log, the latest
//! checkpoint it has cosigned, and cosigns a new one only if the log proves it is an
//! extension of that one. `kordon witness serve` runs it as its own process with its own
//! key and state, so the customs service cannot rewrite history without it noticing.
//!
//! `POST /add-checkpoint`, body: `old <size>\n`, up to 63 base64 consistency-proof lines,
//! an empty line, the signed checkpoint. Answers: 200 with the cosignature line; 409 with
//! the witness's size (`text/x.tlog.size`) when `old` is not it; 404 unknown origin; 403
//! bad log signature; 400 malformed or `old > new`; 422 bad proof. Checking the old size
//! and storing the new checkpoint is one step under a lock, and the state file is
//! replaced atomically (temp file, fsync, rename, fsync directory) before answering.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kordon_core::Hash;
use kordon_core::checkpoint::{self, CheckpointError, parse_decimal};
use kordon_core::cosignature::cosign;
use kordon_core::merkle::{EMPTY_ROOT, verify_consistency};
use kordon_core::note::{SignerKey, VerifierKey};
use tokio::sync::Mutex;

/// The most consistency-proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// A running witness.
pub struct Witness {
    key: SignerKey,
    logs: BTreeMap<String, VerifierKey>,
    state_path: PathBuf,
    state: Mutex<BTreeMap<String, (u64, Hash)>>,
}

fn plain(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

fn write_state(path: &Path, state: &BTreeMap<String, (u64, Hash)>) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut text = String::new();
    for (origin, (size, root)) in state {
        text.push_str(&format!("{origin} {size} {}\n", root.to_base64()));
    }
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent"))?;
    let tmp = dir.join(".state.tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

fn read_state(path: &Path) -> std::io::Result<BTreeMap<String, (u64, Hash)>> {
    let mut out = BTreeMap::new();
    if !path.exists() {
        return Ok(out);
    }
    for line in std::fs::read_to_string(path)?.lines() {
        let mut w = line.split(' ');
        let (Some(o), Some(s), Some(r), None) = (w.next(), w.next(), w.next(), w.next()) else {
            return Err(std::io::Error::other(format!(
                "bad witness state line {line:?}"
            )));
        };
        let size =
            parse_decimal(s).ok_or_else(|| std::io::Error::other("bad size in witness state"))?;
        let root = Hash::from_base64(r).map_err(std::io::Error::other)?;
        out.insert(o.to_owned(), (size, root));
    }
    Ok(out)
}

impl Witness {
    /// Opens a witness whose key and state live in `dir` (the key is created on first
    /// start, named `name`), trusting the given log keys (each log's origin is its key
    /// name).
    ///
    /// # Errors
    /// IO errors or a malformed key or state file.
    pub fn open(dir: &Path, name: &str, logs: Vec<VerifierKey>) -> std::io::Result<Arc<Witness>> {
        std::fs::create_dir_all(dir)?;
        let key_path = dir.join("witness.key");
        if !key_path.exists() {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(std::io::Error::other)?;
            let key = SignerKey::cosigner_from_seed(name, seed).map_err(std::io::Error::other)?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&key_path)?;
            f.write_all(key.to_key_string().as_bytes())?;
            f.sync_all()?;
        }
        let key = SignerKey::parse(std::fs::read_to_string(&key_path)?.trim())
            .map_err(std::io::Error::other)?;
        let state_path = dir.join("state");
        let state = read_state(&state_path)?;
        let logs = logs.into_iter().map(|k| (k.name().to_owned(), k)).collect();
        Ok(Arc::new(Witness {
            key,
            logs,
            state_path,
            state: Mutex::new(state),
        }))
    }

    /// The witness's cosigning verifier key.
    pub fn verifier(&self) -> &VerifierKey {
        self.key.verifier()
    }

    async fn add_checkpoint(&self, body: &[u8]) -> Response {
        let Ok(text) = std::str::from_utf8(body) else {
            return plain(StatusCode::BAD_REQUEST, "body is not UTF-8\n".into());
        };
        let Some((head, note)) = text.split_once("\n\n") else {
            return plain(
                StatusCode::BAD_REQUEST,
                "no empty line before the checkpoint\n".into(),
            );
        };
        let mut lines = head.split('\n');
        let Some(old) = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .and_then(parse_decimal)
        else {
            return plain(
                StatusCode::BAD_REQUEST,
                "first line must be old <size>\n".into(),
            );
        };
        let mut proof = Vec::new();
        for l in lines {
            if proof.len() == MAX_PROOF_LINES {
                return plain(StatusCode::BAD_REQUEST, "too many proof lines\n".into());
            }
            match Hash::from_base64(l) {
                Ok(h) => proof.push(h),
                Err(_) => {
                    return plain(
                        StatusCode::BAD_REQUEST,
                        "proof line is not base64 of 32 bytes\n".into(),
                    );
                }
            }
        }
        let origin = note.lines().next().unwrap_or_default();
        let Some(log_key) = self.logs.get(origin) else {
            return plain(
                StatusCode::NOT_FOUND,
                format!("unknown log origin {origin:?}\n"),
            );
        };
        let cp = match checkpoint::open(note.as_bytes(), log_key) {
            Ok((cp, _)) => cp,
            Err(CheckpointError::Signature(e)) => {
                return plain(StatusCode::FORBIDDEN, format!("log signature: {e}\n"));
            }
            Err(e) => return plain(StatusCode::BAD_REQUEST, format!("{e}\n")),
        };
        if old > cp.size {
            return plain(
                StatusCode::BAD_REQUEST,
                format!(
                    "old size {old} is larger than the checkpoint's {}\n",
                    cp.size
                ),
            );
        }
        // Check and update under one lock: the old size must be what we hold.
        let mut state = self.state.lock().await;
        let (have_size, have_root) = state.get(origin).copied().unwrap_or((0, EMPTY_ROOT));
        if old != have_size {
            return (
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "text/x.tlog.size")],
                format!("{have_size}\n"),
            )
                .into_response();
        }
        if let Err(e) = verify_consistency(have_size, cp.size, &proof, &have_root, &cp.root) {
            return plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("consistency proof from {have_size} to {}: {e}\n", cp.size),
            );
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let sig = match cosign(&self.key, &cp.to_text(), now) {
            Ok(s) => s,
            Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        };
        let mut next = state.clone();
        next.insert(origin.to_owned(), (cp.size, cp.root));
        let path = self.state_path.clone();
        let written =
            tokio::task::spawn_blocking(move || write_state(&path, &next).map(|()| next)).await;
        match written {
            Ok(Ok(next)) => *state = next,
            Ok(Err(e)) => {
                return plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("storing witness state: {e}\n"),
                );
            }
            Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        }
        plain(StatusCode::OK, sig.line())
    }
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: axum::body::Bytes) -> Response {
    w.add_checkpoint(&body).await
}

/// The witness's routes.
pub fn router(w: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .with_state(w)
}
