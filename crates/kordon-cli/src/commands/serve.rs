//! `kordon serve`, `kordon witness serve`, `kordon demo`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Subcommand;

use crate::client::block_on;

/// `kordon serve`.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Configuration file (TOML); environment variables KORDON_* override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data folder (overrides config).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Listen address host:port (overrides config).
    #[arg(long)]
    listen: Option<SocketAddr>,
}

fn logging(json: bool) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if json {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .json()
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
}

async fn until_ctrl_c() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Runs the ingest server (SQLite + local folder by default).
pub(crate) fn serve(a: ServeArgs) -> Result<i32> {
    logging(std::env::var("KORDON_LOG_FORMAT").is_ok_and(|v| v == "json"));
    block_on(async {
        let mut cfg = kordon_server::config::Config::load(a.config.as_deref())?;
        cfg.source.clone_from(&a.config);
        if let Some(d) = a.data {
            cfg.data = d;
        }
        if let Some(l) = a.listen {
            cfg.listen = l;
        }
        let listener = tokio::net::TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("listening on {}", cfg.listen))?;
        let addr = listener.local_addr()?;
        let data = cfg.data.clone();
        let app = kordon_server::open(cfg)
            .await
            .with_context(|| format!("opening {}", data.display()))?;
        println!(
            "kordon serving on http://{addr} (data: {}, log: {} entries)",
            data.display(),
            app.log.published().size
        );
        reload_on_sighup(app.clone())?;
        kordon_server::run(listener, app, until_ctrl_c()).await?;
        Ok(0)
    })
}

/// On SIGHUP the server reads again which crossing points may forward to it.
fn reload_on_sighup(app: std::sync::Arc<kordon_server::App>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match kordon_server::reload_edges(&app).await {
                Ok(edges) => tracing::info!(?edges, "SIGHUP: crossing points reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "SIGHUP: the configuration does not load; nothing changed")
                }
            }
        }
    });
    Ok(())
}

/// `kordon witness ...`.
#[derive(clap::Args)]
pub(crate) struct WitnessArgs {
    #[command(subcommand)]
    command: WitnessCommand,
}

#[derive(Subcommand)]
enum WitnessCommand {
    /// Run the witness.
    Serve {
        /// Folder for the witness's key and state.
        #[arg(long, default_value = "kordon-witness")]
        data: PathBuf,
        /// Listen address host:port.
        #[arg(long, default_value = "127.0.0.1:8430")]
        listen: SocketAddr,
        /// The witness's key name (used when the key is created).
        #[arg(long, default_value = "witness.local/kordon")]
        name: String,
        /// Verifier key of a log to witness (repeat for several logs).
        #[arg(long = "log", required = true)]
        logs: Vec<String>,
    },
}

/// An independent witness that cosigns a log's checkpoints (C2SP tlog-witness).
pub(crate) fn witness(a: WitnessArgs) -> Result<i32> {
    let WitnessCommand::Serve {
        data,
        listen,
        name,
        logs,
    } = a.command;
    logging(false);
    block_on(async {
        let keys = logs
            .iter()
            .map(|k| {
                kordon_core::note::VerifierKey::parse(k).with_context(|| format!("log key {k:?}"))
            })
            .collect::<Result<Vec<_>>>()?;
        let w = kordon_witness::Witness::open(&data, &name, keys)
            .with_context(|| format!("opening {}", data.display()))?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        println!(
            "kordon witness on http://{} with key {}",
            listener.local_addr()?,
            w.verifier()
        );
        kordon_server::serve_router(listener, kordon_witness::router(w), until_ctrl_c()).await?;
        Ok(0)
    })
}

/// `kordon demo`.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Data folder.
    #[arg(long, default_value = "kordon-data")]
    data: PathBuf,
    /// Listen address host:port.
    #[arg(long, default_value = "127.0.0.1:8420")]
    listen: SocketAddr,
    /// Simulated cameras (the first five each show one fault: stop, lose, crash,
    /// equivocate, mute).
    #[arg(long, default_value_t = 5)]
    cameras: usize,
    /// Minutes of simulated shift.
    #[arg(long, default_value_t = 5)]
    minutes: u64,
    /// Set up and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
}

/// Runs a server with a simulated crossing point (real H.264 via ffmpeg), then keeps
/// serving.
pub(crate) fn demo(a: DemoArgs) -> Result<i32> {
    let o = super::demo::DemoOptions {
        data: a.data,
        listen: a.listen,
        cameras: a.cameras,
        minutes: a.minutes,
        serve: !a.no_serve,
    };
    block_on(async { super::demo::demo(o).await.map(|()| 0) })
}
