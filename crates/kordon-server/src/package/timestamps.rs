//! The RFC 3161 tokens an evidence package carries (`docs/spec/timestamps.md`): from each
//! TSA, a token over the package's own checkpoint, asked for now, and the first stored
//! token whose checkpoint already held all the package's footage — with that checkpoint
//! and a consistency proof from it to the package's — so the footage's trusted time is
//! close to when it was logged, not when it was exported. A TSA that is down leaves its
//! token out (the verifier says there is none); the export goes on.

use kordon_core::merkle::consistency_proof;
use kordon_core::timestamp::PackageFile;

use crate::error::ApiError;
use crate::state::App;

/// The files under `timestamps/` for a package proven to checkpoint `note` of `size`,
/// whose footage links are all below `covered` (the largest link index + 1).
pub(super) async fn files(
    app: &App,
    size: u64,
    note: &[u8],
    covered: u64,
) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    let mut out: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    for tsa in &app.tsas {
        let name = &tsa.0.name;
        let mut tokens = Vec::new();
        if let Ok(now) = crate::jobs::timestamp::stamp(app, tsa, size, note).await {
            tokens.push(now);
        }
        if let Some(early) = app
            .meta
            .first_timestamp_covering(name, covered, size)
            .await?
            .filter(|t| t.size < size)
        {
            tokens.push(early);
        }
        if tokens.is_empty() {
            tracing::warn!(tsa = %name, "the package carries no time-stamp of this TSA");
            continue;
        }
        out.insert(
            PackageFile::Chain(name.clone()).path(),
            tsa.1.to_pem().into_bytes(),
        );
        for t in tokens {
            let proof = consistency(app, t.size, size).await?;
            out.insert(PackageFile::Checkpoint(t.size).path(), t.checkpoint);
            out.insert(PackageFile::Consistency(t.size).path(), proof);
            out.insert(
                PackageFile::Token {
                    size: t.size,
                    tsa: name.clone(),
                }
                .path(),
                t.token,
            );
        }
    }
    Ok(out.into_iter().collect())
}

/// A consistency proof from `old` to `new`, one base64 hash a line.
async fn consistency(app: &App, old: u64, new: u64) -> Result<Vec<u8>, ApiError> {
    let reader = app.log.reader();
    let proof = tokio::task::spawn_blocking(move || consistency_proof(&reader, old, new))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(proof
        .iter()
        .map(|h| format!("{}\n", h.to_base64()))
        .collect::<String>()
        .into_bytes())
}
