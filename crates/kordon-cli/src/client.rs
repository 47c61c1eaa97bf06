//! Calls to a running server, typed by `kordon_api`: every answer is parsed into the
//! contract's type, every refusal into one readable line with its error code.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where the server is and how to authenticate as its administrator.
#[derive(clap::Args, Clone)]
pub(crate) struct Remote {
    /// Server URL.
    #[arg(
        long,
        global = true,
        env = "KORDON_SERVER",
        default_value = "http://127.0.0.1:8420"
    )]
    pub(crate) server: String,
    /// Administrator token (default: read from <data>/keys/admin-token).
    #[arg(long, global = true, env = "KORDON_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Data folder of a local server, to read its administrator token.
    #[arg(
        long,
        global = true,
        env = "KORDON_DATA",
        default_value = "kordon-data"
    )]
    data: PathBuf,
}

/// A client of one server.
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// Turns an answer into `T`, or a refusal into one readable line.
pub(crate) async fn answer<T: DeserializeOwned>(res: reqwest::Response) -> Result<T> {
    let status = res.status();
    let url = res.url().clone();
    let body = res.bytes().await?;
    if !status.is_success() {
        match serde_json::from_slice::<kordon_api::Error>(&body) {
            Ok(e) => bail!("server answered {status}: {}: {}", e.error, e.message),
            // Not one of kordon's answers: a wrong URL, or a server of another version.
            Err(_) => bail!(
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
    serde_json::from_slice(&body).with_context(|| {
        format!(
            "the answer of {} is not what this kordon expects (a server of another version?)",
            url.path()
        )
    })
}

impl Client {
    pub(crate) fn new(r: &Remote) -> Result<Self> {
        let token = match &r.token {
            Some(t) => Some(t.clone()),
            None => std::fs::read_to_string(r.data.join("keys/admin-token"))
                .ok()
                .map(|t| t.trim().to_owned()),
        };
        Ok(Client::with(&r.server, token))
    }

    /// A client of the server at `base` sending `token`.
    pub(crate) fn with(base: &str, token: Option<String>) -> Self {
        Client {
            http: reqwest::Client::new(),
            base: base.trim_end_matches('/').to_owned(),
            token,
        }
    }

    /// The token this client sends, if any.
    pub(crate) fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn authed(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    fn admin(&self, rb: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder> {
        let t = self.token.as_ref().context(
            "no administrator token: pass --token, set KORDON_TOKEN or --data of the server",
        )?;
        Ok(rb.bearer_auth(t))
    }

    async fn send<T: DeserializeOwned>(&self, rb: reqwest::RequestBuilder) -> Result<T> {
        let res = rb
            .send()
            .await
            .with_context(|| format!("contacting {}", self.base))?;
        if res.status() == reqwest::StatusCode::UNAUTHORIZED && self.token.is_none() {
            anyhow::bail!(
                "{} needs a signed-in caller: pass --token, set KORDON_TOKEN, or --data of the server (its keys/admin-token)",
                self.base
            );
        }
        answer(res).await
    }

    /// `GET path` (with the token, if there is one).
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.authed(self.http.get(self.url(path)))).await
    }

    /// `GET path?query` (with the token, if there is one).
    pub(crate) async fn get_with<Q: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T> {
        self.send(self.authed(self.http.get(self.url(path)).query(query)))
            .await
    }

    /// `POST path` with a JSON body, as the administrator (or the token's user).
    pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(self.admin(self.http.post(self.url(path)).json(body))?)
            .await
    }

    /// `POST path` without a body.
    pub(crate) async fn post_empty<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.admin(self.http.post(self.url(path)))?).await
    }

    /// `PUT path` with a JSON body.
    pub(crate) async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(self.admin(self.http.put(self.url(path)).json(body))?)
            .await
    }

    /// Downloads an admin-only file to `out` with a progress bar; answers its SHA-256.
    pub(crate) async fn download(&self, path: &str, out: &std::path::Path) -> Result<String> {
        use sha2::Digest as _;
        use tokio::io::AsyncWriteExt as _;
        let mut res = self
            .admin(self.http.get(self.url(path)))?
            .send()
            .await
            .with_context(|| format!("contacting {}", self.base))?;
        if !res.status().is_success() {
            answer::<serde::de::IgnoredAny>(res).await?;
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

/// Runs one command's async body on a fresh runtime.
pub(crate) fn block_on<F: std::future::Future<Output = Result<i32>>>(f: F) -> Result<i32> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(f)
}
