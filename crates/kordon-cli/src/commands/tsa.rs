//! `kordon tsa serve`: a local RFC 3161 time-stamping authority for demos and tests — the
//! `openssl ts -reply` responder behind HTTP (`POST /`, `application/timestamp-query` in,
//! `application/timestamp-reply` out), with a root and a signing certificate of its own
//! made on first start. **Not a trusted time source**: a real deployment names a
//! qualified TSA outside the customs service (`docs/deploy.md`, "Trusted time").

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};

use super::localca;
use crate::client::block_on;

/// `kordon tsa`.
#[derive(clap::Args)]
pub(crate) struct TsaArgs {
    #[command(subcommand)]
    command: TsaCommand,
}

#[derive(clap::Subcommand)]
enum TsaCommand {
    /// Run the TSA (made in `--dir` on first start; its chain is `<dir>/chain.pem`).
    Serve {
        /// Folder for its keys, certificates and serial numbers.
        #[arg(long)]
        dir: PathBuf,
        /// Listen address host:port.
        #[arg(long, default_value = "127.0.0.1:8440")]
        listen: SocketAddr,
        /// Its name (in the certificates).
        #[arg(long, default_value = "kordon demo TSA")]
        name: String,
        /// Make its signing certificate one that expired in 2021 (for tests).
        #[arg(long)]
        expired: bool,
    },
}

/// Answers one time-stamp query with `openssl ts -reply` (one at a time: the serial file).
fn reply(dir: &Path, query: &[u8]) -> Result<Vec<u8>> {
    let q = dir.join("query.tsq");
    let r = dir.join("reply.tsr");
    std::fs::write(&q, query)?;
    localca::openssl(
        dir,
        &[
            "ts",
            "-reply",
            "-config",
            localca::CONFIG_FILE,
            "-queryfile",
            "query.tsq",
            "-out",
            "reply.tsr",
        ],
    )?;
    Ok(std::fs::read(r)?)
}

/// Runs `kordon tsa serve`.
pub(crate) fn tsa(a: TsaArgs) -> Result<i32> {
    let TsaCommand::Serve {
        dir,
        listen,
        name,
        expired,
    } = a.command;
    localca::issue(&dir, &name, localca::Leaf::Tsa { expired })?;
    let dir = Arc::new(std::sync::Mutex::new(dir));
    block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let chain = dir
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .join("chain.pem");
        println!(
            "kordon demo TSA on http://{} (chain {}): not a trusted time source",
            listener.local_addr()?,
            chain.display()
        );
        let router = kordon_server::Router::new()
            .route(
                "/",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let dir = dir.clone();
                    async move { stamp(dir, body).await }
                }),
            )
            .layer(axum::extract::DefaultBodyLimit::max(4096));
        kordon_server::serve_router(listener, router, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok(0)
    })
}

async fn stamp(
    dir: Arc<std::sync::Mutex<PathBuf>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let res = tokio::task::spawn_blocking(move || {
        let dir = dir.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        reply(&dir, &body)
    })
    .await;
    match res {
        Ok(Ok(r)) => ([("content-type", "application/timestamp-reply")], r).into_response(),
        Ok(Err(e)) => (axum::http::StatusCode::BAD_REQUEST, format!("{e:#}\n")).into_response(),
        Err(e) => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
