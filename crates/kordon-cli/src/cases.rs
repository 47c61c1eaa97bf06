//! `kordon case ...`, `kordon retention run` and `kordon scrub`.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::{Value, json};

use crate::client::Client;

/// `kordon case export <id> --out <file.zip>`: the server writes the package; it is
/// downloaded with a progress bar and its hash checked against the server's.
pub(crate) async fn export(c: &Client, id: &str, out: &Path) -> Result<i32> {
    eprintln!("exporting case {id} (waiting for a witnessed checkpoint) ...");
    let v = c
        .post_admin(&format!("/v1/cases/{id}/export"), &json!({}))
        .await?;
    let file = v["file"].as_str().unwrap_or_default();
    let sha = c.download(&format!("/v1/exports/{file}"), out).await?;
    if sha != v["sha256"].as_str().unwrap_or_default() {
        bail!(
            "the downloaded package's SHA-256 {sha} is not the server's {}",
            v["sha256"]
        );
    }
    println!(
        "{}: case {id}, {} bytes, SHA-256 {sha}; export event at log index {}, proofs to checkpoint of size {}",
        out.display(),
        v["size"],
        v["export_log_index"],
        v["checkpoint_size"]
    );
    println!("verify with: kordon-verify {}", out.display());
    Ok(0)
}

/// `kordon case add`: the item as the server expects it.
pub(crate) fn item(
    kind: &str,
    inspection: Option<String>,
    device: Option<String>,
    seq: Option<u64>,
    from: Option<String>,
    to: Option<String>,
    text: Option<String>,
) -> Value {
    json!({"kind": kind, "inspection_id": inspection, "device": device, "seq": seq, "from": from, "to": to, "text": text.unwrap_or_default()})
}

/// `kordon scrub --now`: starts a full pass and shows its progress until it ends.
pub(crate) async fn scrub(c: &Client) -> Result<i32> {
    let mut v = c.post_admin("/v1/scrub", &json!({})).await?;
    let pb = indicatif::ProgressBar::new(v["total"].as_u64().unwrap_or(0));
    pb.set_style(
        indicatif::ProgressStyle::with_template("scrub [{bar:40}] {pos}/{len} blobs {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    while v["running"] == true {
        pb.set_length(v["total"].as_u64().unwrap_or(0));
        pb.set_position(v["checked"].as_u64().unwrap_or(0));
        pb.set_message(format!("{} bad", v["bad"]));
        tokio::time::sleep(Duration::from_millis(200)).await;
        v = c.get("/v1/scrub").await?;
    }
    pb.finish_and_clear();
    let bad = v["bad"].as_u64().unwrap_or(0);
    println!(
        "scrub: {} blobs checked, {bad} did not match their hash (quarantined, custody events written)",
        v["checked"]
    );
    Ok(if bad == 0 { 0 } else { 2 })
}
