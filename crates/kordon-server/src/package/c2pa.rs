//! Content Credentials (C2PA) on a package's playable file (`docs/spec/derived.md`): the
//! joined file of a range, with a C2PA manifest signed by the crossing point's certificate
//! whose assertions name the source segments, their chain links and log entries and the
//! `derive` event, so Content Credentials tools show where the file came from. The signed
//! file is itself a derivation (`c2pa-sign`, its one source the joined file), logged like
//! the first.

use std::path::PathBuf;

use kordon_core::derive::{self, C2PA_SIGN, DERIVE_ACTION, Derivation};
use kordon_store::meta::LinkRow;
use serde_json::json;

use super::parts::{Derived, hash_file, internal, logged};
use crate::error::ApiError;
use crate::state::{App, C2paCredentials};

/// The custom assertion's label.
pub(crate) const ASSERTION: &str = "ua.customs.kordon.provenance";

/// Checks at start that the credentials make a signer.
///
/// # Errors
/// Why they do not.
pub(crate) fn check(c: &C2paCredentials) -> Result<(), String> {
    c2pa::create_signer::from_keys(&c.chain, &c.key, c2pa::SigningAlg::Ed25519, None)
        .map(|_| ())
        .map_err(|e| format!("C2PA credentials: {e}"))
}

/// Signs the joined file `plain` of derivation `d` into a credentialed copy and logs it.
pub(super) async fn credential(
    app: &App,
    who: &str,
    id: &str,
    credentials: &C2paCredentials,
    d: &Derivation,
    plain: &Derived,
    sources: &[&LinkRow],
) -> Result<Derived, ApiError> {
    let assertion = json!({
        "log": app.log.verifier().to_string(),
        "derivation": {
            "operation": d.operation,
            "tool": d.tool,
            "result_sha256": d.result.to_hex(),
            "event_sha256": plain.event.hash,
            "event_log_index": plain.event.log_index,
        },
        "sources": sources.iter().map(|l| json!({
            "device": l.device_id,
            "seq": l.seq,
            "sha256": l.blob_sha256,
            "link_sha256": l.hash,
            "link_log_index": l.log_index,
        })).collect::<Vec<_>>(),
    });
    let out: PathBuf = plain.file.with_extension("c2pa.mp4");
    let (src, dst, chain, key) = (
        plain.file.clone(),
        out.clone(),
        credentials.chain.clone(),
        credentials.key.clone(),
    );
    let title = d.path();
    tokio::task::spawn_blocking(move || -> Result<(), String> {
        let signer =
            c2pa::create_signer::from_keys(&chain, &key, c2pa::SigningAlg::Ed25519, None)
                .map_err(|e| e.to_string())?;
        let definition = json!({
            "title": title,
            "format": "video/mp4",
            "claim_generator_info": [{"name": "kordon", "version": env!("CARGO_PKG_VERSION")}],
        });
        let mut b = c2pa::Builder::from_context(c2pa::Context::new())
            .with_definition(definition.to_string())
            .map_err(|e| e.to_string())?;
        b.add_action(json!({
            "action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
            "description": "body-worn camera segments joined without re-encoding; the originals, signed by the camera and logged, remain the evidence",
        }))
        .map_err(|e| e.to_string())?;
        b.add_assertion(ASSERTION, &assertion)
            .map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(&dst);
        b.sign_file(signer.as_ref(), &src, &dst)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(internal)?
    .map_err(|e| {
        let _ = std::fs::remove_file(&out);
        ApiError::Internal(format!("C2PA signing: {e}"))
    })?;
    let sha256 = hash_file(out.clone()).await?;
    let signed = Derivation {
        operation: C2PA_SIGN.to_owned(),
        sources: 1,
        sources_sha256: derive::sources_digest(&[plain.sha256]),
        recipe: None,
        result: sha256,
        size: std::fs::metadata(&out).map_err(internal)?.len(),
        tool: format!("c2pa-rs-{}", c2pa::VERSION),
        ..d.clone()
    };
    let (_, event) = logged(
        app,
        who,
        DERIVE_ACTION,
        &format!("case {id}"),
        &signed.to_detail(),
    )
    .await?;
    Ok(Derived {
        file: out,
        path: signed.path(),
        sha256,
        event,
        recipe: None,
    })
}
