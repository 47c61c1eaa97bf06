//! RFC 3161 time on the log (`docs/spec/timestamps.md`): every `tsa_interval_s`, each
//! configured time-stamping authority is asked for a token over the latest checkpoint if
//! the log grew since its last one. A token is checked against the TSA's configured chain
//! before it is kept. A TSA that is down or answers wrongly is logged and counted
//! (`kordon_tsa_up`, `kordon_tsa_failures_total`, `kordon_tsa_behind_entries`); the log
//! goes on, and the gap shows in `GET /v1/log/timestamps`.

use std::time::Duration;

use kordon_core::note::Note;
use kordon_core::timestamp::{self, TsaChain};
use kordon_store::meta::TimestampRow;
use kordon_store::now_ms;

use crate::config::TsaConfig;
use crate::state::App;

/// Longest TSA answer accepted.
const MAX_REPLY: usize = 64 << 10;

/// Reads each configured TSA's chain.
///
/// # Errors
/// Naming the TSA whose chain cannot be read.
pub(crate) fn load(tsa: &[TsaConfig]) -> Result<Vec<(TsaConfig, TsaChain)>, String> {
    tsa.iter()
        .map(|t| {
            let pem = std::fs::read(&t.chain)
                .map_err(|e| format!("TSA {}: chain {}: {e}", t.name, t.chain.display()))?;
            let chain = TsaChain::from_pem(&pem).map_err(|e| format!("TSA {}: {e}", t.name))?;
            Ok((t.clone(), chain))
        })
        .collect()
}

/// Asks `tsa` for a token over checkpoint `note` of `size` entries, checks it against
/// the TSA's chain, stores it; answers it.
pub(crate) async fn stamp(
    app: &App,
    tsa: &(TsaConfig, TsaChain),
    size: u64,
    note: &[u8],
) -> Result<TimestampRow, String> {
    let (config, chain) = tsa;
    let text = Note::parse(note)
        .map_err(|e| e.to_string())?
        .text()
        .to_owned();
    let reply = ask(&config.url, &timestamp::request(text.as_bytes())).await;
    let checked = reply.and_then(|token| {
        let time = timestamp::verify(&token, text.as_bytes(), chain)
            .map_err(|e| format!("its token does not hold: {e}"))?;
        Ok((token, time))
    });
    let (token, time) = match checked {
        Ok(t) => t,
        Err(e) => {
            metrics::gauge!("kordon_tsa_up", "tsa" => config.name.clone()).set(0.0);
            metrics::counter!("kordon_tsa_failures_total", "tsa" => config.name.clone())
                .increment(1);
            tracing::warn!(tsa = %config.name, size, "no time-stamp: {e}");
            return Err(e);
        }
    };
    let row = TimestampRow {
        tsa: config.name.clone(),
        size,
        checkpoint: note.to_vec(),
        token,
        stamped_at: time.0,
        received_at: now_ms(),
    };
    app.meta
        .insert_timestamp(&row)
        .await
        .map_err(|e| e.to_string())?;
    metrics::gauge!("kordon_tsa_up", "tsa" => config.name.clone()).set(1.0);
    metrics::gauge!("kordon_tsa_last_size", "tsa" => config.name.clone()).set(size as f64);
    Ok(row)
}

/// POSTs a time-stamp query; answers the reply's bytes.
async fn ask(url: &str, query: &[u8]) -> Result<Vec<u8>, String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let res = http
        .post(url)
        .header("content-type", "application/timestamp-query")
        .body(query.to_vec())
        .send()
        .await
        .map_err(|e| format!("TSA unreachable: {e}"))?;
    if !res.status().is_success() {
        return Err(format!("TSA answered {}", res.status()));
    }
    let body = res.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > MAX_REPLY {
        return Err(format!("TSA answered {} bytes, not a token", body.len()));
    }
    Ok(body.to_vec())
}

/// Starts the background task (nothing without TSAs).
pub(crate) fn spawn(app: std::sync::Arc<App>) {
    if app.tsas.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let every = Duration::from_secs(app.config.tsa_interval_s.max(1));
        loop {
            let published = app.log.published();
            for tsa in &app.tsas {
                let last = app
                    .meta
                    .last_timestamp_size(&tsa.0.name)
                    .await
                    .ok()
                    .flatten();
                let behind = published.size - last.unwrap_or(0).min(published.size);
                if published.size > 0
                    && last.is_none_or(|l| l < published.size)
                    && stamp(&app, tsa, published.size, &published.checkpoint)
                        .await
                        .is_ok()
                {
                    metrics::gauge!("kordon_tsa_behind_entries", "tsa" => tsa.0.name.clone())
                        .set(0.0);
                } else {
                    metrics::gauge!("kordon_tsa_behind_entries", "tsa" => tsa.0.name.clone())
                        .set(behind as f64);
                }
            }
            tokio::time::sleep(every).await;
        }
    });
}
