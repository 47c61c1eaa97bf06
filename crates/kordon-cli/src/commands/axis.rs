//! `kordon axis ...`: kordon as the content destination of an AXIS Body Worn system
//! (`docs/axis.md`): the connection file to import into AXIS Body Worn Manager, and the
//! mapping of the system's users to officers.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use clap::Subcommand;
use kordon_api::axis::{AxisUser, AxisUsers, ConnectionFile, MapUser};

use crate::client::{Client, Remote, block_on};

/// `kordon axis ...`.
#[derive(clap::Args)]
pub(crate) struct AxisArgs {
    #[command(subcommand)]
    command: AxisCommand,
}

#[derive(Subcommand)]
enum AxisCommand {
    /// Write the connection file for AXIS Body Worn Manager (reads `[axis]` and the key
    /// in the data folder, creating the key the first time).
    ConnectionFile {
        /// Configuration file (TOML) with `[axis]`; KORDON_AXIS_* variables override it.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data folder (overrides config).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The HTTPS certificate(s) of the address in `public_url` (PEM), when kordon is
        /// reached over TLS: the controller pins them.
        #[arg(long, value_name = "PEM")]
        https_certificate: Option<PathBuf>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// The system's users and the officers they are mapped to.
    Users {
        #[command(flatten)]
        remote: Remote,
    },
    /// Map a user of the system to an officer (his recordings become his assignments).
    MapUser {
        /// The user's UUID (from `kordon axis users`).
        uuid: String,
        /// The officer's service number; `--none` removes the mapping.
        #[arg(long, required_unless_present = "none")]
        officer: Option<String>,
        /// Remove the mapping.
        #[arg(long)]
        none: bool,
        #[command(flatten)]
        remote: Remote,
    },
}

pub(crate) fn axis(a: AxisArgs) -> Result<i32> {
    match a.command {
        AxisCommand::ConnectionFile {
            config,
            data,
            https_certificate,
            out,
        } => connection_file(config, data, https_certificate, out),
        AxisCommand::Users { remote } => {
            let c = Client::new(&remote)?;
            block_on(async {
                let mut after: Option<String> = None;
                loop {
                    let path = match &after {
                        Some(a) => format!("/v1/axis/users?after={a}"),
                        None => "/v1/axis/users".into(),
                    };
                    let page: AxisUsers = c.get(&path).await?;
                    for u in &page.users {
                        println!(
                            "{}  {} ({})  {}  officer {}",
                            u.uuid,
                            u.name,
                            if u.user_id.is_empty() {
                                "-"
                            } else {
                                &u.user_id
                            },
                            if u.active { "active" } else { "inactive" },
                            u.officer.as_deref().unwrap_or("not mapped")
                        );
                    }
                    match page.next {
                        Some(n) => after = Some(n),
                        None => return Ok(0),
                    }
                }
            })
        }
        AxisCommand::MapUser {
            uuid,
            officer,
            none,
            remote,
        } => {
            let c = Client::new(&remote)?;
            let body = MapUser {
                officer: if none { None } else { officer },
            };
            block_on(async {
                let u: AxisUser = c.put(&format!("/v1/axis/users/{uuid}"), &body).await?;
                println!(
                    "{} ({}): officer {} (custody event logged)",
                    u.uuid,
                    u.name,
                    u.officer.as_deref().unwrap_or("none")
                );
                Ok(0)
            })
        }
    }
}

fn connection_file(
    config: Option<PathBuf>,
    data: Option<PathBuf>,
    https_certificate: Option<PathBuf>,
    out: Option<PathBuf>,
) -> Result<i32> {
    let mut cfg = kordon_server::config::Config::load(config.as_deref())?;
    if let Some(d) = data {
        cfg.data = d;
    }
    let Some(axis) = &cfg.axis else {
        bail!("no [axis] in the configuration (or KORDON_AXIS_USER): nothing to connect");
    };
    let https = axis.public_url.starts_with("https://");
    let certificates = match (&https_certificate, https) {
        (Some(pem), true) => {
            let text = std::fs::read(pem).with_context(|| format!("{}", pem.display()))?;
            let ders: Vec<String> = ::pem::parse_many(&text)
                .with_context(|| format!("{}: not PEM", pem.display()))?
                .iter()
                .filter(|p| p.tag() == "CERTIFICATE")
                .map(|p| base64::engine::general_purpose::STANDARD.encode(p.contents()))
                .collect();
            if ders.is_empty() {
                bail!("{}: no CERTIFICATE in it", pem.display());
            }
            ders
        }
        (Some(_), false) => bail!(
            "--https-certificate given but public_url {} is not https://",
            axis.public_url
        ),
        (None, true) => bail!(
            "public_url {} is https://: give its certificate with --https-certificate",
            axis.public_url
        ),
        (None, false) => Vec::new(),
    };
    let key = kordon_server::axis_key(&cfg.data)
        .with_context(|| format!("the axis key in {}", cfg.data.display()))?;
    let file = ConnectionFile {
        connection_file_version: "1.0".into(),
        site_name: axis.site_name.clone(),
        application_name: "kordon".into(),
        application_version: env!("CARGO_PKG_VERSION").into(),
        content_destination_as_ntp_server: false,
        authentication_token_uri: vec![format!(
            "{}/axis/auth/v1.0",
            axis.public_url.trim_end_matches('/')
        )],
        https_certificate: certificates,
        blob_api_key: key,
        blob_api_user_name: axis.user.clone(),
        container_type: "mp4".into(),
        full_store_and_read_support: false,
        want_encryption: false,
        public_key: String::new(),
        public_key_id: String::new(),
    };
    let json = serde_json::to_string_pretty(&file)?;
    match out {
        Some(p) => {
            std::fs::write(&p, format!("{json}\n")).with_context(|| format!("{}", p.display()))?;
            eprintln!(
                "kordon: wrote {} (it holds the key: import it into AXIS Body Worn Manager, then delete it)",
                p.display()
            );
        }
        None => println!("{json}"),
    }
    Ok(0)
}
