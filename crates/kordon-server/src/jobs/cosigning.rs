//! Collecting witness cosignatures: after every published checkpoint, each configured
//! witness is sent the checkpoint with a consistency proof from the size it last
//! cosigned (C2SP tlog-witness); verified cosignatures are added to the checkpoint, which
//! is then served as the witnessed checkpoint. A witness that is down or refuses is
//! logged and counted; ingest never waits for it.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use kordon_core::merkle::consistency_proof;
use kordon_core::note::{Note, VerifierKey};
use kordon_log::{Log, Published};

use crate::config::WitnessConfig;
use crate::state::Witnessed;

struct Peer {
    url: String,
    key: VerifierKey,
    /// The size this witness last cosigned, as far as we know.
    size: u64,
}

/// Starts the background task; returns where the witnessed checkpoint appears.
pub(crate) fn spawn(log: Log, witnesses: &[WitnessConfig]) -> Result<Witnessed, String> {
    let out: Witnessed = Arc::new(RwLock::new(None));
    let mut peers = Vec::new();
    for w in witnesses {
        let key = VerifierKey::parse(&w.key).map_err(|e| format!("witness {}: {e}", w.url))?;
        peers.push(Peer {
            url: w.url.trim_end_matches('/').to_owned(),
            key,
            size: 0,
        });
    }
    if peers.is_empty() {
        return Ok(out);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| e.to_string())?;
    let target = out.clone();
    tokio::spawn(async move {
        let mut rx = log.subscribe();
        loop {
            let published = rx.borrow_and_update().clone();
            if published.size > 0 {
                let note = cosign_all(&http, &log, &mut peers, &published).await;
                if let Ok(mut w) = target.write() {
                    *w = Some((published.size, note));
                }
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    });
    Ok(out)
}

async fn cosign_all(
    http: &reqwest::Client,
    log: &Log,
    peers: &mut [Peer],
    published: &Published,
) -> Vec<u8> {
    let Ok(mut note) = Note::parse(&published.checkpoint) else {
        return published.checkpoint.to_vec();
    };
    let text = note.text().to_owned();
    let results =
        futures_util::future::join_all(peers.iter_mut().map(|p| ask(http, log, p, published)))
            .await;
    for (peer, lines) in peers.iter().zip(results) {
        match lines {
            Ok(lines) => {
                metrics::gauge!("kordon_witness_up", "witness" => peer.url.clone()).set(1.0);
                let Ok(sigs) = Note::parse(format!("{text}\n{lines}").as_bytes()) else {
                    tracing::warn!(witness = %peer.url, "witness answered something that is not a signature line");
                    continue;
                };
                if sigs.verify(std::slice::from_ref(&peer.key)).is_err() {
                    tracing::warn!(witness = %peer.url, "witness cosignature does not verify with its configured key");
                    continue;
                }
                for s in sigs.signatures() {
                    let _ = note.push_signature(s.clone());
                }
            }
            Err(e) => {
                metrics::gauge!("kordon_witness_up", "witness" => peer.url.clone()).set(0.0);
                tracing::warn!(witness = %peer.url, error = %e, "witness did not cosign");
            }
        }
    }
    note.to_bytes()
}

async fn ask(
    http: &reqwest::Client,
    log: &Log,
    peer: &mut Peer,
    published: &Published,
) -> Result<String, String> {
    for _ in 0..2 {
        let old = peer.size.min(published.size);
        let reader = kordon_log::DiskTiles::new(log.dir(), published.size);
        let new = published.size;
        let proof = tokio::task::spawn_blocking(move || consistency_proof(&reader, old, new))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let mut body = format!("old {old}\n");
        for h in &proof {
            body.push_str(&h.to_base64());
            body.push('\n');
        }
        body.push('\n');
        let mut bytes = body.into_bytes();
        bytes.extend_from_slice(&published.checkpoint);
        let res = http
            .post(format!("{}/add-checkpoint", peer.url))
            .body(bytes)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status();
        let text = res.text().await.map_err(|e| e.to_string())?;
        match status.as_u16() {
            200 => {
                peer.size = published.size;
                return Ok(text);
            }
            409 => {
                peer.size = kordon_core::checkpoint::parse_decimal(text.trim())
                    .ok_or("409 without a size")?;
                if peer.size > published.size {
                    return Err(format!(
                        "witness has seen size {} beyond ours {}",
                        peer.size, published.size
                    ));
                }
            }
            _ => return Err(format!("{status}: {}", text.trim())),
        }
    }
    Err("witness kept answering 409".into())
}
