//! `kordon tsa serve`: a local RFC 3161 time-stamping authority for demos and tests — the
//! `openssl ts -reply` responder behind HTTP (`POST /`, `application/timestamp-query` in,
//! `application/timestamp-reply` out), with a root and a signing certificate of its own
//! made on first start. **Not a trusted time source**: a real deployment names a
//! qualified TSA outside the customs service (`docs/deploy.md`, "Trusted time").

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

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

/// The OpenSSL configuration of the CA and the responder; paths are relative to the folder.
const CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tsa_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca]
default_ca = ca1
[ca1]
database = ./index.txt
new_certs_dir = .
certificate = ./root.crt
private_key = ./root.key
serial = ./ca.serial
default_md = sha256
policy = pol
unique_subject = no
[pol]
commonName = supplied
[tsa]
default_tsa = tsa1
[tsa1]
serial = ./tsa.serial
crypto_device = builtin
signer_cert = ./tsa.crt
certs = ./root.crt
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
";

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .context("running openssl (apt-get install openssl)")?;
    if !out.status.success() {
        bail!(
            "openssl {}: {}",
            args.first().copied().unwrap_or(""),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Makes the TSA's root, signing certificate and configuration in `dir` unless there.
fn init(dir: &Path, name: &str, expired: bool) -> Result<()> {
    if dir.join("chain.pem").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("tsa.cnf"), CONFIG)?;
    std::fs::write(dir.join("index.txt"), "")?;
    std::fs::write(dir.join("ca.serial"), "01\n")?;
    std::fs::write(dir.join("tsa.serial"), "01\n")?;
    let root = format!("/CN={name} root");
    let leaf = format!("/CN={name}");
    for key in ["root.key", "tsa.key"] {
        openssl(
            dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                key,
            ],
        )?;
    }
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            "root.key",
            "-subj",
            &root,
            "-days",
            "3650",
            "-config",
            "tsa.cnf",
            "-extensions",
            "root_ext",
            "-out",
            "root.crt",
        ],
    )?;
    openssl(
        dir,
        &[
            "req", "-new", "-key", "tsa.key", "-subj", &leaf, "-config", "tsa.cnf", "-out",
            "tsa.csr",
        ],
    )?;
    let validity: &[&str] = if expired {
        &[
            "-startdate",
            "20200101000000Z",
            "-enddate",
            "20210101000000Z",
        ]
    } else {
        &["-days", "825"]
    };
    let mut args = vec![
        "ca",
        "-batch",
        "-notext",
        "-config",
        "tsa.cnf",
        "-extensions",
        "tsa_ext",
        "-in",
        "tsa.csr",
        "-out",
        "tsa.crt",
    ];
    args.extend_from_slice(validity);
    openssl(dir, &args)?;
    let chain = [
        std::fs::read(dir.join("tsa.crt"))?,
        std::fs::read(dir.join("root.crt"))?,
    ]
    .concat();
    std::fs::write(dir.join("chain.pem"), chain)?;
    Ok(())
}

/// Answers one time-stamp query with `openssl ts -reply` (one at a time: the serial file).
fn reply(dir: &Path, query: &[u8]) -> Result<Vec<u8>> {
    let q = dir.join("query.tsq");
    let r = dir.join("reply.tsr");
    std::fs::write(&q, query)?;
    openssl(
        dir,
        &[
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
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
    init(&dir, &name, expired)?;
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
