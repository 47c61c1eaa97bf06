//! The centre's receipt for a forwarded batch, checked before anything it covers may be
//! purged here.

use base64::Engine as _;
use kordon_api::edges::EdgeProgress;
use kordon_core::custody::Event;
use kordon_core::hash::Hash;
use kordon_core::note::Note;
use kordon_store::now_ms;

use super::Forwarder;

/// Checks the centre's receipt for this log (`own`) at `size` with `root`: `event` (base64
/// of the centre's signed `edge-checkpoint` custody note) carries this log's checkpoint
/// at `size`, and `receipt` (base64 of a tlog-proof) proves the event is in the log of
/// `centre` (its verifier key).
pub(crate) fn receipt_holds(
    centre: &str,
    own: &kordon_core::note::VerifierKey,
    event: &str,
    receipt: &str,
    size: u64,
    root: Hash,
) -> std::result::Result<(), String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let event = b64.decode(event).map_err(|e| format!("event: {e}"))?;
    let proof = b64.decode(receipt).map_err(|e| format!("receipt: {e}"))?;
    let proof = kordon_core::tlog_proof::TlogProof::parse(&proof).map_err(|e| e.to_string())?;
    let policy = kordon_core::policy::Policy::parse(&format!("log {centre}\nquorum none\n"))
        .map_err(|e| e.to_string())?;
    proof
        .verify(&event, &policy)
        .map_err(|e| format!("not in the centre's log: {e}"))?;
    let note = Note::parse(&event).map_err(|e| e.to_string())?;
    let e = Event::parse(note.text()).map_err(|e| e.to_string())?;
    if e.action() != crate::ops::edges::EDGE_CHECKPOINT {
        return Err(format!(
            "the event is a {}, not an edge checkpoint",
            e.action()
        ));
    }
    let cp = e
        .public_detail()
        .and_then(|d| b64.decode(d).ok())
        .ok_or("the event carries no checkpoint")?;
    let (cp, _) = kordon_core::checkpoint::open(&cp, own).map_err(|e| e.to_string())?;
    if cp.size != size || cp.root != root {
        return Err(format!(
            "the event records this log at size {}, not the batch's {size}",
            cp.size
        ));
    }
    Ok(())
}

impl Forwarder {
    /// Keeps the centre's receipt for this log at `size` if it holds: the centre's
    /// `edge-checkpoint` event, signed by the centre's log key and proven in its log,
    /// recording this log's own checkpoint at `size` with `root`.
    pub(super) async fn confirm(&self, v: &EdgeProgress, size: u64, root: Hash) {
        let Some(centre) = self.cfg.centre_key.as_deref() else {
            return;
        };
        let (Some(event), Some(receipt)) = (&v.event, &v.receipt) else {
            return;
        };
        let own = self.key.verifier();
        match receipt_holds(centre, own, event, receipt, size, root) {
            Ok(()) => {
                let stored = self
                    .app
                    .meta
                    .set_forward_confirmed(size, &format!("{receipt}\n{event}"), now_ms())
                    .await;
                match stored {
                    Ok(()) => self.status(|s| s.confirmed = s.confirmed.max(size)),
                    Err(e) => tracing::warn!(error = %e, "keeping the centre's receipt"),
                }
            }
            Err(e) => {
                metrics::counter!("kordon_forward_bad_receipts_total").increment(1);
                tracing::error!(size, error = %e, "the centre's receipt does not hold: nothing it covers is purged");
            }
        }
    }
}
