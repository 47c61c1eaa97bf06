//! Proofs to a checkpoint the policy accepts: the C2SP tlog-policy evidence is proven
//! under (the log, the configured witnesses, the quorum), waiting for a checkpoint that
//! covers the entries and is cosigned by the quorum, and tlog-proofs to it.

use std::time::Duration;

use kordon_core::hash::Hash;
use kordon_core::merkle;
use kordon_core::tlog_proof::TlogProof;

use crate::error::ApiError;
use crate::state::App;

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

/// The C2SP tlog-policy evidence is proven under: the log, the configured witnesses and
/// the quorum.
pub(crate) fn policy_text(app: &App) -> Result<String, ApiError> {
    let mut s = format!(
        "# kordon evidence policy: the log, the witnesses, how many must cosign\nlog {}\n",
        app.log.verifier()
    );
    let n = app.config.witnesses.len();
    for (i, w) in app.config.witnesses.iter().enumerate() {
        s.push_str(&format!("witness w{} {} {}\n", i + 1, w.key, w.url));
    }
    if n == 0 {
        s.push_str("quorum none\n");
    } else {
        let k = match app.config.witness_quorum {
            0 => n,
            k => k.min(n),
        };
        let members: Vec<String> = (1..=n).map(|i| format!("w{i}")).collect();
        s.push_str(&format!(
            "group witnesses {k} {}\nquorum witnesses\n",
            members.join(" ")
        ));
    }
    kordon_core::policy::Policy::parse(&s).map_err(internal)?;
    Ok(s)
}

/// Waits (up to 30 s) for a checkpoint covering `index` that satisfies the policy.
async fn checkpoint_covering(
    app: &App,
    index: u64,
    policy: &str,
) -> Result<(u64, Vec<u8>), ApiError> {
    let policy = kordon_core::policy::Policy::parse(policy).map_err(internal)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let candidate = if app.config.witnesses.is_empty() {
            let p = app.log.published();
            Some((p.size, p.checkpoint.to_vec()))
        } else {
            app.witnessed.read().map_err(internal)?.clone()
        };
        if let Some((size, note)) = candidate
            && size > index
            && policy.check(&note).is_ok()
        {
            return Ok((size, note));
        }
        if tokio::time::Instant::now() > deadline {
            return Err(ApiError::Unavailable(
                "no checkpoint covering the export satisfied the witness quorum within 30 s (are the witnesses up?)".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// tlog-proofs of `entries` (`(entry hash, log index)`) to the checkpoint `note` of `size`.
pub(crate) async fn proofs(
    app: &App,
    entries: Vec<(Hash, u64)>,
    size: u64,
    note: Vec<u8>,
) -> Result<Vec<(Hash, Vec<u8>)>, ApiError> {
    let reader = app.log.reader();
    tokio::task::spawn_blocking(move || {
        entries
            .into_iter()
            .map(|(h, index)| {
                let path = merkle::inclusion_proof(&reader, index, size).map_err(internal)?;
                let p = TlogProof {
                    extra: None,
                    index,
                    path,
                    checkpoint: note.clone(),
                };
                Ok((h, p.to_bytes()))
            })
            .collect()
    })
    .await
    .map_err(internal)?
}

/// tlog-proofs of `entries` to a checkpoint that covers them all and satisfies the policy
/// (cosigned by the witness quorum).
/// Answers the checkpoint note too.
pub(crate) async fn proofs_under_policy(
    app: &App,
    entries: Vec<(Hash, u64)>,
) -> Result<(Vec<u8>, Vec<(Hash, Vec<u8>)>), ApiError> {
    let max = entries.iter().map(|e| e.1).max().unwrap_or(0);
    let (size, note) = checkpoint_covering(app, max, &policy_text(app)?).await?;
    Ok((note.clone(), proofs(app, entries, size, note).await?))
}
