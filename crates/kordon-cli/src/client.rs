//! Administrative calls to a running server.

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use crate::Remote;

pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// Turns a non-success answer into one readable line.
pub(crate) async fn check(res: reqwest::Response) -> Result<Value> {
    let status = res.status();
    let url = res.url().clone();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        match (body["error"].as_str(), body["message"].as_str()) {
            (Some(code), msg) => bail!("server answered {status}: {code}: {}", msg.unwrap_or("")),
            // Not one of kordon's answers: a wrong URL, or a server of another version.
            _ => bail!(
                "server answered {status} for {}{}",
                url.path(),
                if status.as_u16() == 404 {
                    " (no such endpoint: is this a kordon server of the same version?)"
                } else {
                    ""
                }
            ),
        }
    }
    Ok(body)
}

impl Client {
    pub(crate) fn new(r: &Remote) -> Result<Self> {
        let token = match &r.token {
            Some(t) => Some(t.clone()),
            None => std::fs::read_to_string(r.data.join("keys/admin-token"))
                .ok()
                .map(|t| t.trim().to_owned()),
        };
        Ok(Client {
            http: reqwest::Client::new(),
            base: r.server.trim_end_matches('/').to_owned(),
            token,
        })
    }

    fn admin(&self, rb: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder> {
        let t = self.token.as_ref().context(
            "no administrator token: pass --token, set KORDON_TOKEN or --data of the server",
        )?;
        Ok(rb.bearer_auth(t))
    }

    pub(crate) async fn post_admin(&self, path: &str, body: &Value) -> Result<Value> {
        self.send(self.admin(self.http.post(format!("{}{path}", self.base)).json(body))?)
            .await
    }

    pub(crate) async fn put_admin(&self, path: &str, body: &Value) -> Result<Value> {
        self.send(self.admin(self.http.put(format!("{}{path}", self.base)).json(body))?)
            .await
    }

    pub(crate) async fn get(&self, path: &str) -> Result<Value> {
        let rb = self.http.get(format!("{}{path}", self.base));
        let rb = match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        };
        self.send(rb).await
    }

    /// The token this client sends, if any.
    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Result<Value> {
        let res = rb
            .send()
            .await
            .with_context(|| format!("contacting {}", self.base))?;
        check(res).await
    }

    pub(crate) async fn enroll_token(&self, device: &str) -> Result<i32> {
        let v = self
            .send(
                self.admin(
                    self.http
                        .post(format!("{}/v1/devices/{device}/enroll-token", self.base)),
                )?,
            )
            .await?;
        println!(
            "enrollment token for {device} (one use, expires {}):",
            v["expires_at"].as_str().unwrap_or("?")
        );
        println!("{}", v["token"].as_str().unwrap_or(""));
        Ok(0)
    }

    pub(crate) async fn revoke(&self, device: &str) -> Result<i32> {
        let v = self
            .send(
                self.admin(
                    self.http
                        .post(format!("{}/v1/devices/{device}/revoke", self.base)),
                )?,
            )
            .await?;
        println!(
            "device {device} revoked (custody event at log index {})",
            v["log_index"]
        );
        Ok(0)
    }

    pub(crate) async fn status(&self, device: &str) -> Result<i32> {
        let v = self
            .send(
                self.http
                    .get(format!("{}/v1/devices/{device}/continuity", self.base)),
            )
            .await?;
        println!(
            "device {device}{}",
            if v["revoked"] == true {
                " (REVOKED)"
            } else {
                ""
            }
        );
        println!(
            "  links: {}  segments: {}  recorded: {} s",
            v["links"], v["segments"], v["recorded_seconds"]
        );
        println!(
            "  chain complete up to seq {}  last link seq {}",
            v["head"], v["last_link"]
        );
        for s in v["stops"].as_array().into_iter().flatten() {
            println!(
                "  stop  seq {} at {}: {} ({})",
                s["seq"],
                s["time"].as_str().unwrap_or(""),
                s["kind"].as_str().unwrap_or(""),
                s["detail"].as_str().unwrap_or("")
            );
        }
        let problems = v["problems"].as_array().cloned().unwrap_or_default();
        for p in &problems {
            println!("  PROBLEM {}", describe(p));
        }
        Ok(if problems.is_empty() { 0 } else { 2 })
    }

    pub(crate) async fn gaps(&self) -> Result<i32> {
        let v = self
            .send(self.http.get(format!("{}/v1/devices", self.base)))
            .await?;
        let mut any = false;
        for d in v["devices"].as_array().into_iter().flatten() {
            let id = d["device"].as_str().unwrap_or("");
            if d["problems"].as_u64().unwrap_or(0) == 0 {
                continue;
            }
            let c = self
                .send(
                    self.http
                        .get(format!("{}/v1/devices/{id}/continuity", self.base)),
                )
                .await?;
            for p in c["problems"].as_array().into_iter().flatten() {
                any = true;
                println!("{id}: {}", describe(p));
            }
        }
        if !any {
            println!("no gaps, missing links or equivocation on any device");
        }
        Ok(if any { 2 } else { 0 })
    }

    pub(crate) async fn assign(
        &self,
        device: &str,
        officer: &str,
        checkpoint: &str,
        at: Option<&str>,
    ) -> Result<i32> {
        let body =
            json!({"device": device, "officer": officer, "checkpoint": checkpoint, "at": at});
        let v = self
            .send(
                self.admin(
                    self.http
                        .post(format!("{}/v1/assignments", self.base))
                        .json(&body),
                )?,
            )
            .await?;
        println!(
            "camera {device} assigned to officer {officer} at {checkpoint} from {} (log index {})",
            v["start"].as_str().unwrap_or(""),
            v["log_index"]
        );
        Ok(0)
    }

    pub(crate) async fn return_device(&self, device: &str, at: Option<&str>) -> Result<i32> {
        let v = self
            .send(
                self.admin(
                    self.http
                        .post(format!("{}/v1/assignments/return", self.base))
                        .json(&json!({"device": device, "at": at})),
                )?,
            )
            .await?;
        println!(
            "camera {device} returned by officer {} at {} (log index {})",
            v["officer"].as_str().unwrap_or(""),
            v["end"].as_str().unwrap_or(""),
            v["log_index"]
        );
        Ok(0)
    }
}

/// One problem in words.
pub(crate) fn describe(p: &Value) -> String {
    let s = |k: &str| p[k].to_string().trim_matches('"').to_owned();
    match p["kind"].as_str().unwrap_or("") {
        "missing" => format!("missing links seq {}..={}", s("from"), s("to")),
        "unexplained_gap" => format!(
            "unexplained gap of {} s between seq {} and {} ({} to {})",
            s("seconds"),
            s("after_seq"),
            s("before_seq"),
            s("from"),
            s("to")
        ),
        "broken_prev" => format!("link seq {} does not chain to its predecessor", s("seq")),
        "time_backwards" => format!(
            "link seq {} starts at {} before its predecessor ended at {}",
            s("seq"),
            s("time"),
            s("previous")
        ),
        "equivocation" => format!(
            "EQUIVOCATION at seq {}: a second, different link {}",
            s("seq"),
            s("second")
        ),
        "bad_signature" => format!("link seq {} has a bad signature", s("seq")),
        other => format!("{other}: {p}"),
    }
}

impl Client {
    /// Downloads an admin-only file to `out` with a progress bar; answers its SHA-256.
    pub(crate) async fn download(&self, path: &str, out: &std::path::Path) -> Result<String> {
        use sha2::Digest as _;
        use tokio::io::AsyncWriteExt as _;
        let mut res = self
            .admin(self.http.get(format!("{}{path}", self.base)))?
            .send()
            .await
            .with_context(|| format!("contacting {}", self.base))?;
        if !res.status().is_success() {
            check(res).await?;
            bail!("download failed");
        }
        let pb = indicatif::ProgressBar::new(res.content_length().unwrap_or(0));
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "download [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let tmp = out.with_extension("part");
        let mut f = tokio::fs::File::create(&tmp)
            .await
            .with_context(|| format!("creating {}", tmp.display()))?;
        let mut h = sha2::Sha256::new();
        while let Some(chunk) = res.chunk().await? {
            h.update(&chunk);
            f.write_all(&chunk).await?;
            pb.inc(chunk.len() as u64);
        }
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, out).await?;
        pb.finish_and_clear();
        Ok(hex::encode(h.finalize()))
    }
}
