//! `kordon crossing-point set|list`, `kordon officer set|list`.

use anyhow::Result;
use clap::Subcommand;
use kordon_api::reference::{
    CrossingPointChanged, CrossingPointIn, CrossingPointList, OfficerChanged, OfficerIn,
    OfficerList,
};

use crate::client::{Client, Remote, block_on};

/// `kordon crossing-point ...`.
#[derive(clap::Args)]
pub(crate) struct CrossingPointArgs {
    #[command(subcommand)]
    command: CrossingPointCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum CrossingPointCommand {
    /// Create or change a crossing point.
    Set {
        /// Code, e.g. UA-KYIV-01.
        code: String,
        /// Name in Ukrainian.
        #[arg(long)]
        name_uk: String,
        /// Name in Latin script.
        #[arg(long)]
        name_latin: String,
        /// IANA time zone.
        #[arg(long, default_value = "Europe/Kyiv")]
        tz: String,
        /// Lanes, comma-separated.
        #[arg(long, value_delimiter = ',')]
        lanes: Vec<String>,
    },
    /// List crossing points.
    List,
}

fn saved(changed: bool) -> &'static str {
    if changed {
        "saved (custody event logged)"
    } else {
        "unchanged"
    }
}

pub(crate) fn crossing_point(a: CrossingPointArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        match a.command {
            CrossingPointCommand::Set {
                code,
                name_uk,
                name_latin,
                tz,
                lanes,
            } => {
                let body = CrossingPointIn {
                    name_uk,
                    name_latin,
                    tz,
                    lanes,
                };
                let v: CrossingPointChanged =
                    c.put(&format!("/v1/crossing-points/{code}"), &body).await?;
                println!("crossing point {code}: {}", saved(v.changed));
            }
            CrossingPointCommand::List => {
                let l: CrossingPointList = c.get("/v1/crossing-points").await?;
                for p in l.crossing_points {
                    println!(
                        "{}  {} / {}  {}  lanes {}",
                        p.code,
                        p.name_uk,
                        p.name_latin,
                        p.tz,
                        p.lanes.join(",")
                    );
                }
            }
        }
        Ok(0)
    })
}

/// `kordon officer ...`.
#[derive(clap::Args)]
pub(crate) struct OfficerArgs {
    #[command(subcommand)]
    command: OfficerCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum OfficerCommand {
    /// Create or change an officer.
    Set {
        /// Service number.
        service_no: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// Crossing point code.
        #[arg(long)]
        crossing_point: String,
    },
    /// List officers.
    List,
}

pub(crate) fn officer(a: OfficerArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        match a.command {
            OfficerCommand::Set {
                service_no,
                name,
                crossing_point,
            } => {
                let body = OfficerIn {
                    name,
                    crossing_point,
                };
                let v: OfficerChanged = c.put(&format!("/v1/officers/{service_no}"), &body).await?;
                println!("officer {service_no}: {}", saved(v.changed));
            }
            OfficerCommand::List => {
                let l: OfficerList = c.get("/v1/officers").await?;
                for o in l.officers {
                    println!("{}  {}  {}", o.service_no, o.name, o.crossing_point);
                }
            }
        }
        Ok(0)
    })
}
