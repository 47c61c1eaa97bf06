//! `kordon device enroll|revoke|status`, `kordon gaps`, `kordon assign`, `kordon return`.

use anyhow::Result;
use clap::Subcommand;
use kordon_api::devices::{
    AssignRequest, AssignmentLogged, Continuity, DeviceList, EnrollToken, Page, Recheck,
    RecheckRequest, ReturnRequest, Revoked, device_path,
};

use crate::client::{Client, Remote, block_on};

/// `kordon device ...`.
#[derive(clap::Args)]
pub(crate) struct DeviceArgs {
    #[command(subcommand)]
    command: DeviceCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Create a one-time enrollment token for a camera id.
    Enroll {
        /// Camera id (serial).
        device: String,
    },
    /// Revoke a device: its uploads are refused from now on.
    Revoke {
        /// Camera id.
        device: String,
    },
    /// Chain state of a device (kept as its links arrived).
    Status {
        /// Camera id.
        device: String,
    },
    /// Recompute a device's chain from every stored link (signatures checked again) and
    /// report where the state kept as links arrived differs; exit 2 when it does.
    Recheck {
        /// Camera id.
        device: String,
        /// Replace a kept state that differs with the recomputed one.
        #[arg(long)]
        repair: bool,
    },
}

pub(crate) fn device(a: DeviceArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        match a.command {
            DeviceCommand::Enroll { device } => {
                let t: EnrollToken = c
                    .post_empty(&format!("{}/enroll-token", device_path(&device)))
                    .await?;
                println!(
                    "enrollment token for {device} (one use, expires {}):",
                    t.expires_at
                );
                println!("{}", t.token);
                Ok(0)
            }
            DeviceCommand::Revoke { device } => {
                let r: Revoked = c
                    .post_empty(&format!("{}/revoke", device_path(&device)))
                    .await?;
                println!(
                    "device {device} revoked (custody event at log index {})",
                    r.log_index
                );
                Ok(0)
            }
            DeviceCommand::Status { device } => status(&c, &device).await,
            DeviceCommand::Recheck { device, repair } => {
                let spinner = crate::commands::progress::spinner(&format!(
                    "rechecking the chain of {device}"
                ));
                let r: Recheck = c
                    .post(
                        &format!("{}/recheck", device_path(&device)),
                        &RecheckRequest { repair },
                    )
                    .await?;
                spinner.finish_and_clear();
                println!(
                    "device {}: {} links read, {} problems found",
                    r.device, r.links, r.problems
                );
                for d in &r.differences {
                    println!("  DIFFERS {d}");
                }
                if r.differences.is_empty() {
                    println!("  the kept state agrees with the recomputation");
                } else if r.repaired {
                    println!("  the kept state was replaced (custody event chain-recheck)");
                }
                Ok(if r.differences.is_empty() || r.repaired {
                    0
                } else {
                    2
                })
            }
        }
    })
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "null".to_owned(), |v| v.to_string())
}

/// Every page of a device's continuity problems, calling `each` with them.
async fn all_problems(
    c: &Client,
    device: &str,
    mut each: impl FnMut(&Continuity),
) -> Result<Continuity> {
    let path = format!("{}/continuity", device_path(device));
    let mut page = Page {
        after: None,
        limit: Some(1000),
    };
    loop {
        let v: Continuity = c.get_with(&path, &page).await?;
        each(&v);
        match v.next.clone() {
            Some(next) => page.after = Some(next),
            None => return Ok(v),
        }
    }
}

async fn status(c: &Client, device: &str) -> Result<i32> {
    let mut first = true;
    let v = all_problems(c, device, |v| {
        if first {
            first = false;
            println!(
                "device {device}{}",
                if v.revoked { " (REVOKED)" } else { "" }
            );
            println!(
                "  links: {}  segments: {}  recorded: {} s",
                v.links, v.segments, v.recorded_seconds
            );
            println!(
                "  chain complete up to seq {}  last link seq {}",
                opt(v.head),
                opt(v.last_link)
            );
            let h = &v.health;
            let or = |v: Option<String>| v.unwrap_or_else(|| "unknown".into());
            println!(
                "  last contact {}  battery {}  free {}  backlog {}  docked {}  firmware {}  sound {}",
                or(h.last_contact.clone()),
                or(h.battery.map(|b| format!("{b}%"))),
                or(h.free_mib.map(|m| format!("{m} MiB"))),
                or(h.backlog_links.map(|l| format!("{l} links"))),
                or(h.docked.map(|d| if d { "yes".into() } else { "no".into() })),
                or(h.firmware.clone()),
                or(h.audio.clone()),
            );
            for s in &v.stops {
                println!(
                    "  stop  seq {} at {}: {} ({})",
                    s.seq, s.time, s.kind, s.detail
                );
            }
        }
        for p in &v.problems {
            println!("  PROBLEM {p}");
        }
    })
    .await?;
    Ok(if v.problems_total == 0 { 0 } else { 2 })
}

/// `kordon gaps`.
#[derive(clap::Args)]
pub(crate) struct GapsArgs {
    #[command(flatten)]
    remote: Remote,
}

/// Continuity problems of every device: missing links, gaps, equivocation.
pub(crate) fn gaps(a: GapsArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        let mut any = false;
        let mut page = Page::default();
        loop {
            let list: DeviceList = c.get_with("/v1/devices", &page).await?;
            for d in list.devices.iter().filter(|d| d.problems > 0) {
                all_problems(&c, &d.device, |v| {
                    for p in &v.problems {
                        any = true;
                        println!("{}: {p}", d.device);
                    }
                })
                .await?;
            }
            match list.next {
                Some(next) => page.after = Some(next),
                None => break,
            }
        }
        if !any {
            println!("no gaps, missing links or equivocation on any device");
        }
        Ok(if any { 2 } else { 0 })
    })
}

/// `kordon assign`.
#[derive(clap::Args)]
pub(crate) struct AssignArgs {
    /// Camera id.
    #[arg(long)]
    device: String,
    /// Officer's service number.
    #[arg(long)]
    officer: String,
    /// Crossing point code.
    #[arg(long)]
    crossing_point: String,
    /// When it was handed out, if entered afterwards (RFC 3339; default now).
    #[arg(long)]
    at: Option<String>,
    #[command(flatten)]
    remote: Remote,
}

/// Hands a camera to an officer at shift start.
pub(crate) fn assign(a: AssignArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        let body = AssignRequest {
            device: a.device,
            officer: a.officer,
            crossing_point: a.crossing_point,
            at: a.at,
        };
        let v: AssignmentLogged = c.post("/v1/assignments", &body).await?;
        println!(
            "camera {} assigned to officer {} at {} from {} (log index {})",
            v.assignment.device,
            v.assignment.officer,
            v.assignment.crossing_point,
            v.assignment.start,
            v.log_index
        );
        Ok(0)
    })
}

/// `kordon return`.
#[derive(clap::Args)]
pub(crate) struct ReturnArgs {
    /// Camera id.
    #[arg(long)]
    device: String,
    /// When it was handed back, if entered afterwards (RFC 3339; default now).
    #[arg(long)]
    at: Option<String>,
    #[command(flatten)]
    remote: Remote,
}

/// Takes a camera back at shift end.
pub(crate) fn give_back(a: ReturnArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        let body = ReturnRequest {
            device: a.device.clone(),
            at: a.at,
        };
        let v: AssignmentLogged = c.post("/v1/assignments/return", &body).await?;
        println!(
            "camera {} returned by officer {} at {} (log index {})",
            a.device,
            v.assignment.officer,
            v.assignment.end.unwrap_or_default(),
            v.log_index
        );
        Ok(0)
    })
}
