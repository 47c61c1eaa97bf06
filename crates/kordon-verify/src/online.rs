//! Checks against a running server (feature `online`): a segment file against the
//! server's public log, a package's release receipts, and the log audit over HTTP. The
//! answers are read as `kordon_api` types; each check prints one line per fact.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use kordon_api::cases::{Receipts, SegmentEvidence};
use kordon_core::custody::Custody;
use kordon_core::hash::Hash;
use kordon_core::link::{Link, LinkBody};
use kordon_core::note::VerifierKey;
use kordon_core::policy::Policy;
use kordon_core::tlog_proof::TlogProof;
use sha2::{Digest as _, Sha256};

use crate::audit::{LogSource, NamedSegment};

/// A server's log, read over HTTP (`{base}/log/...`), blocking on a runtime of its own.
pub struct HttpSource {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    base: String,
}

impl HttpSource {
    /// A source reading from the server at `base`.
    ///
    /// # Errors
    /// The runtime could not start.
    pub fn new(base: &str) -> Result<Self> {
        Ok(HttpSource {
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?,
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    fn bytes(&self, url: &str) -> Result<Vec<u8>> {
        self.rt.block_on(async {
            let res = self
                .http
                .get(url)
                .send()
                .await
                .with_context(|| format!("GET {url}"))?;
            if !res.status().is_success() {
                bail!("GET {url}: {}", res.status());
            }
            Ok(res.bytes().await?.to_vec())
        })
    }

    /// The log key the server itself serves (trusting the server for it).
    ///
    /// # Errors
    /// No answer, or not text.
    pub fn served_log_key(&self) -> Result<String> {
        let b = self.bytes(&format!("{}/log/verifier-key", self.base))?;
        Ok(String::from_utf8(b)?.trim().to_owned())
    }

    /// `GET path` as `T`; `None` when the server says it has no such thing (404
    /// `not_found`).
    fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<Option<T>> {
        let url = format!("{}{path}", self.base);
        self.rt.block_on(async {
            let res = self
                .http
                .get(&url)
                .send()
                .await
                .with_context(|| format!("asking {url}"))?;
            let status = res.status();
            let body = res.bytes().await?;
            if !status.is_success() {
                let e: kordon_api::Error = serde_json::from_slice(&body)
                    .with_context(|| format!("{url}: {status}, and the answer is not kordon's"))?;
                if status.as_u16() == 404 && e.error == "not_found" {
                    return Ok(None);
                }
                bail!("{url}: {status}: {}", e.message);
            }
            Ok(Some(serde_json::from_slice(&body).with_context(|| {
                format!("the answer of {url} is not what this verifier expects")
            })?))
        })
    }

    /// Step 4 of the audit: every named segment read, hashed and sized, 8 at a time over
    /// kept-alive connections. The reads are one audit run (`POST /v1/audits`): one
    /// custody event for the run, not one per segment (none when there is nothing to
    /// read); `token` must be one that may view footage.
    ///
    /// # Errors
    /// The audit run could not be started.
    pub fn check_blobs(
        &self,
        token: Option<&str>,
        segments: &[NamedSegment],
        problems: &mut Vec<String>,
        progress: crate::audit::Progress<'_>,
    ) -> Result<()> {
        use futures_util::StreamExt as _;
        if segments.is_empty() {
            // Nothing to read: no audit run, no custody event.
            return Ok(());
        }
        let authed = |rb: reqwest::RequestBuilder| match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        };
        self.rt.block_on(async {
            let res = authed(self.http.post(format!("{}/v1/audits", self.base)))
                .send()
                .await
                .context("starting the audit run")?;
            let status = res.status();
            let body = res.bytes().await?;
            if !status.is_success() {
                let e: kordon_api::Error = serde_json::from_slice(&body)
                    .with_context(|| format!("starting the audit run: {status}"))?;
                bail!("starting the audit run: {status}: {}", e.message);
            }
            let run: kordon_api::jobs::AuditRun = serde_json::from_slice(&body)?;
            let mut results = futures_util::stream::iter(segments)
                .map(|s| {
                    let url = format!(
                        "{}/v1/blobs/{}?audit={}",
                        self.base,
                        s.sha256.to_hex(),
                        run.id
                    );
                    let req = authed(self.http.get(url));
                    async move { (s, read_hashed(req).await) }
                })
                .buffer_unordered(8);
            let mut done = 0u64;
            while let Some((s, r)) = results.next().await {
                match r {
                    Ok(Ok((got, n))) if got != s.sha256 || n != s.size => problems.push(format!(
                        "device {} seq {}: stored segment has SHA-256 {got} and {n} bytes, the manifest says {} and {}",
                        s.device, s.seq, s.sha256, s.size
                    )),
                    Ok(Ok(_)) => {}
                    Ok(Err(status)) => problems.push(format!(
                        "device {} seq {}: segment {} not served ({status})",
                        s.device, s.seq, s.sha256
                    )),
                    Err(e) => problems.push(format!("device {} seq {}: {e}", s.device, s.seq)),
                }
                done += 1;
                progress("segments", done, segments.len() as u64);
            }
            Ok(())
        })
    }
}

/// SHA-256 and size of an answer's body streamed in, or the status it was refused with.
async fn read_hashed(
    req: reqwest::RequestBuilder,
) -> Result<Result<(Hash, u64), reqwest::StatusCode>> {
    let mut res = req.send().await?;
    if !res.status().is_success() {
        return Ok(Err(res.status()));
    }
    let mut hasher = Sha256::new();
    let mut n = 0u64;
    while let Some(chunk) = res.chunk().await? {
        n += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok(Ok((Hash(hasher.finalize().into()), n)))
}

impl LogSource for HttpSource {
    fn get(&self, path: &str) -> Result<Vec<u8>, String> {
        self.bytes(&format!("{}/{path}", self.base))
            .map_err(|e| format!("{e:#}"))
    }
}

fn b64(field: &str, v: &str) -> Result<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(v)
        .with_context(|| format!("field {field} of the answer"))
}

fn policy_of(trusted: Option<&str>, served: &str) -> Result<Policy> {
    if trusted.is_none() {
        println!("note policy: no --policy given: trusting the keys the server names");
    }
    Policy::parse(trusted.unwrap_or(served)).context("the policy")
}

fn line(ok: bool, subject: &str, msg: String) -> bool {
    println!("{} {subject}: {msg}", if ok { "ok  " } else { "FAIL" });
    ok
}

fn proof_holds(entry: &[u8], proof: &[u8], policy: &Policy) -> Result<u64, String> {
    let p = TlogProof::parse(proof).map_err(|e| format!("malformed proof: {e}"))?;
    p.verify(entry, policy)
        .map_err(|e| format!("proof does not hold: {e}"))?;
    Ok(p.index)
}

/// A custody event signed by the log, whole: version 1, or version 2 opened with the
/// private part the server gave (checked against the entry's commitment).
fn log_custody(bytes: &[u8], policy: &Policy, private: Option<&str>) -> Result<Custody, String> {
    let (e, whole) = crate::logged_event(bytes, policy.logs(), private)?;
    match whole {
        Some(c) => Ok(c),
        // An enrollment's key is public in version 2 too.
        None => Ok(Custody {
            time: e.time(),
            actor: "-".into(),
            action: e.action().to_owned(),
            subject: e.subject().to_owned(),
            detail: e.public_detail().unwrap_or_default().to_owned(),
        }),
    }
}

/// SHA-256 and size of a file.
///
/// # Errors
/// IO errors.
pub fn file_sha256(path: &Path) -> Result<(Hash, u64)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = std::io::Read::read(&mut f, &mut buf)?;
        if n == 0 {
            return Ok((Hash(h.finalize().into()), size));
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
}

/// Is `file` an original recording in the server's log? Its link, signed by the
/// camera's enrolled key, states its hash and size, and both the link and the enrollment
/// are proven in the log under the policy. Prints a line per fact; answers whether all
/// hold.
///
/// # Errors
/// The file or the server could not be read.
pub fn segment(file: &Path, server: &str, trusted: Option<&str>) -> Result<bool> {
    let (sha, size) = file_sha256(file)?;
    let name = file.display().to_string();
    let src = HttpSource::new(server)?;
    let Some(v) = src.get::<SegmentEvidence>(&format!("/v1/segments/{}/evidence", sha.to_hex()))?
    else {
        return Ok(line(
            false,
            &name,
            format!(
                "no segment with SHA-256 {} is in the log: this file is not an original recording",
                sha.to_hex()
            ),
        ));
    };
    let policy = policy_of(trusted, &v.policy)?;
    let link_bytes = b64("link", &v.link)?;
    let enroll_bytes = b64("enroll_event", &v.enroll_event)?;
    let enroll_proof = b64("enroll_proof", &v.enroll_proof)?;
    let link_proof = b64("link_proof", &v.link_proof)?;
    let key = log_custody(&enroll_bytes, &policy, None).and_then(|c| {
        if c.action != "enroll" {
            return Err(format!(
                "the key event is {:?}, not an enrollment",
                c.action
            ));
        }
        let i = proof_holds(&enroll_bytes, &enroll_proof, &policy)?;
        let k = VerifierKey::parse(&c.detail).map_err(|e| e.to_string())?;
        Ok((k, c.subject, i))
    });
    let key = match key {
        Ok((k, subject, i)) => {
            line(
                true,
                "enrollment",
                format!(
                    "{subject} enrolled key {}, in the log at index {i}",
                    k.name()
                ),
            );
            k
        }
        Err(e) => return Ok(line(false, "enrollment", e)),
    };
    let res = Link::parse(&link_bytes).map_err(|e| e.to_string()).and_then(|l| {
        l.verify(&key).map_err(|_| "the link is not signed by the camera's enrolled key".to_owned())?;
        let LinkBody::Segment(s) = l.body() else {
            return Err("the link is not a segment".to_owned());
        };
        if (s.sha256, s.size) != (sha, size) {
            return Err("the file is not the one the link states".to_owned());
        }
        let i = proof_holds(&link_bytes, &link_proof, &policy)?;
        Ok(format!("{size} bytes, SHA-256 {}: segment {} of {}, signed by the camera, in the log at index {i}", sha.to_hex(), s.seq, s.device))
    });
    Ok(match res {
        Ok(m) => line(true, &name, m),
        Err(e) => line(false, &name, e),
    })
}

/// Were the releases of the package `file` recorded in the server's log? Each
/// `case-release` event naming its hash, signed by the log and proven under the policy
/// (the one given, else the package's own). Prints a line per receipt.
///
/// # Errors
/// The file or the server could not be read.
pub fn receipts(file: &Path, server: &str, trusted: Option<&str>) -> Result<bool> {
    let (sha, _) = file_sha256(file)?;
    let src = HttpSource::new(server)?;
    let v: Receipts = src
        .get(&format!("/v1/receipts/{}", sha.to_hex()))?
        .context("the server does not know receipts")?;
    let own = trusted.map(str::to_owned).or_else(|| {
        let f = std::fs::File::open(file).ok()?;
        let mut z = zip::ZipArchive::new(f).ok()?;
        let mut s = String::new();
        std::io::Read::read_to_string(&mut z.by_name(kordon_core::package::POLICY).ok()?, &mut s)
            .ok()?;
        Some(s)
    });
    let policy = policy_of(own.as_deref(), &v.policy)?;
    if v.receipts.is_empty() {
        return Ok(line(
            false,
            &file.display().to_string(),
            format!(
                "no release of a package with SHA-256 {} is recorded in the log",
                sha.to_hex()
            ),
        ));
    }
    let mut ok = true;
    for r in &v.receipts {
        let event = b64("event", &r.event)?;
        let proof = b64("proof", &r.proof)?;
        let res = log_custody(&event, &policy, r.private.as_deref()).and_then(|c| {
            if c.action != "case-release" || !c.detail.contains(&sha.to_hex()) {
                return Err("the event is not a release of this package".to_owned());
            }
            let i = proof_holds(&event, &proof, &policy)?;
            Ok(format!(
                "{}: {} at {}, in the log at index {i}",
                c.subject, c.detail, c.time
            ))
        });
        ok &= match res {
            Ok(m) => line(true, "receipt", m),
            Err(e) => line(false, "receipt", e),
        };
    }
    Ok(ok)
}
