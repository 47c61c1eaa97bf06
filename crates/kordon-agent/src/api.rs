//! Reading the server's answers as `kordon_api` types.

use anyhow::{Result, bail};
use serde::de::DeserializeOwned;

/// The answer as `T`, or an error line `<status>: <code>: <message>`.
///
/// # Errors
/// A refusal, or an answer that is not the contract's type.
pub async fn answer<T: DeserializeOwned>(res: reqwest::Response) -> Result<T> {
    let status = res.status();
    let body = res.bytes().await?;
    if !status.is_success() {
        match serde_json::from_slice::<kordon_api::Error>(&body) {
            Ok(e) => bail!("{status}: {}: {}", e.error, e.message),
            Err(_) => bail!("{status}: {}", String::from_utf8_lossy(&body)),
        }
    }
    Ok(serde_json::from_slice(&body)?)
}

/// The request that delivers a link: a segment's manifest in `Kordon-Manifest` with its
/// bytes as the body, or an event's note as the body.
pub fn link_request(
    http: &reqwest::Client,
    server: &str,
    link: &kordon_core::link::Link,
    segment: Option<(reqwest::Body, u64)>,
) -> reqwest::RequestBuilder {
    use base64::Engine as _;
    let b = link.body();
    match segment {
        Some((body, len)) => http
            .put(format!(
                "{server}{}/segments/{}",
                kordon_api::devices::device_path(b.device()),
                b.seq()
            ))
            .header(
                "Kordon-Manifest",
                base64::engine::general_purpose::STANDARD.encode(link.bytes()),
            )
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(body),
        None => http
            .put(format!(
                "{server}{}/events/{}",
                kordon_api::devices::device_path(b.device()),
                b.seq()
            ))
            .body(link.bytes().to_vec()),
    }
}
