//! Uploading the spool: oldest first; a link leaves `pending/` only when the server
//! answered that it is logged; network and server errors back off and retry; a refusal
//! for good (4xx other than 408/429) moves the link to `rejected/` with the reason.

use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use crate::spool::{Pending, Spool};

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Links the server confirmed.
    pub confirmed: usize,
    /// Links the server refused for good.
    pub rejected: usize,
    /// Whether the pass stopped because the server could not be reached (or failed).
    pub unreachable: bool,
}

enum Outcome {
    Confirmed,
    Rejected(String),
    Retry(String),
}

async fn send(http: &reqwest::Client, server: &str, p: &Pending, health: &str) -> Result<Outcome> {
    let note = tokio::fs::read(&p.note).await?;
    let link = kordon_core::link::Link::parse(&note)?;
    let segment = match &p.segment {
        Some(seg) => {
            let file = tokio::fs::File::open(seg).await?;
            let len = file.metadata().await?.len();
            Some((reqwest::Body::from(file), len))
        }
        None => None,
    };
    let req = crate::api::link_request(http, server, &link, segment)
        .header(kordon_api::devices::HEALTH_HEADER, health);
    let res = match req.send().await {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Retry(e.to_string())),
    };
    let status = res.status();
    Ok(
        match crate::api::answer::<kordon_api::devices::Accepted>(res).await {
            Ok(_) => Outcome::Confirmed,
            Err(e)
                if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 =>
            {
                Outcome::Rejected(e.to_string())
            }
            Err(e) => Outcome::Retry(e.to_string()),
        },
    )
}

/// Uploads everything pending, once; stops at the first link that must be retried later.
///
/// # Errors
/// Spool IO errors.
pub async fn pass(
    http: &reqwest::Client,
    server: &str,
    spool: &Spool,
    progress: bool,
) -> Result<Pass> {
    let pending = spool.pending()?;
    let mut out = Pass::default();
    let pb = if progress && !pending.is_empty() {
        let pb = ProgressBar::new(pending.len() as u64);
        pb.set_style(
            ProgressStyle::with_template("upload [{bar:40}] {pos}/{len} links {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };
    let health = crate::device::health_report(spool).to_header();
    for p in &pending {
        match send(http, server, p, &health).await? {
            Outcome::Confirmed => {
                spool.confirm(p)?;
                out.confirmed += 1;
            }
            Outcome::Rejected(why) => {
                eprintln!(
                    "kordon-agent: server refused link {} for good: {why}",
                    p.seq
                );
                spool.reject(p, &why)?;
                out.rejected += 1;
            }
            Outcome::Retry(why) => {
                if let Some(pb) = &pb {
                    pb.set_message(format!("server unreachable: {why}"));
                }
                out.unreachable = true;
                break;
            }
        }
        if let Some(pb) = &pb {
            pb.inc(1);
        }
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    std::fs::write(
        spool.dir().join("last-contact"),
        if out.unreachable { "unreachable" } else { "ok" },
    )?;
    Ok(out)
}

/// Next wait after `previous` failures: 0.5 s doubling to 30 s.
pub fn backoff(failures: u32) -> Duration {
    Duration::from_millis((500u64 << failures.min(6)).min(30_000))
}
