//! `kordon retention` and `kordon scrub --now`.

use std::time::Duration;

use anyhow::Result;
use kordon_api::jobs::{RetentionRun, ScrubStatus};

use crate::client::{Client, Remote, block_on};

/// `kordon retention`.
#[derive(clap::Args)]
pub(crate) struct RetentionArgs {
    #[command(flatten)]
    remote: Remote,
}

/// Applies the retention rules now.
pub(crate) fn retention(a: RetentionArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        let v: RetentionRun = c.post_empty("/v1/retention/run").await?;
        println!(
            "retention: {} purged (tombstones in the log), {} held, {} kept longer (inspection category)",
            v.purged, v.held, v.kept
        );
        Ok(0)
    })
}

/// `kordon scrub`.
#[derive(clap::Args)]
pub(crate) struct ScrubArgs {
    /// Run a full pass now (required: passes also run on the server's schedule).
    #[arg(long, required = true)]
    now: bool,
    #[command(flatten)]
    remote: Remote,
}

/// Starts a full pass and shows its progress until it ends.
pub(crate) fn scrub(a: ScrubArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        let mut v: ScrubStatus = c.post_empty("/v1/scrub").await?;
        let pb = indicatif::ProgressBar::new(v.total);
        pb.set_style(
            indicatif::ProgressStyle::with_template("scrub [{bar:40}] {pos}/{len} blobs {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        while v.running {
            pb.set_length(v.total);
            pb.set_position(v.checked);
            pb.set_message(format!("{} bad", v.bad));
            tokio::time::sleep(Duration::from_millis(200)).await;
            v = c.get("/v1/scrub").await?;
        }
        pb.finish_and_clear();
        println!(
            "scrub: {} blobs checked, {} did not match their hash (quarantined, custody events written)",
            v.checked, v.bad
        );
        Ok(if v.bad == 0 { 0 } else { 2 })
    })
}
