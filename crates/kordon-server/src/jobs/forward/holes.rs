//! Items that could not be sent: recorded, named in the custody trail, tried again on a
//! schedule, never in the way of the items after them.

use kordon_store::meta::ForwardHole;
use kordon_store::now_ms;

use super::{Forwarder, HOLES_PER_STEP, Item, RECOVERED_ACTION, Result, SKIP_ACTION, local};

impl Forwarder {
    /// Records an item that could not be sent (once: a custody event names it and why).
    pub(super) async fn skip(&self, index: u64, item: &Item, reason: &str) -> Result<()> {
        let (device, seq) = item.camera();
        let device = device.to_owned();
        let now = now_ms();
        let hole = ForwardHole {
            idx: index,
            device_id: device.clone(),
            seq,
            reason: reason.to_owned(),
            attempts: 1,
            found_at: now,
            next_at: now + self.retry_ms(1),
        };
        if self.app.meta.add_forward_hole(&hole).await.map_err(local)? {
            tracing::warn!(
                index,
                device,
                seq,
                reason,
                "an item could not be forwarded; the items after it go on"
            );
            metrics::counter!("kordon_forward_skipped_total").increment(1);
            self.app
                .custody(
                    "forwarder",
                    SKIP_ACTION,
                    &format!("device {device}"),
                    &format!("entry {index}, link {seq}: {reason}"),
                )
                .await
                .map_err(local)?;
        }
        Ok(())
    }

    /// The wait before attempt `attempts + 1`: `retry_s`, doubling, at most 6 hours.
    fn retry_ms(&self, attempts: u32) -> i64 {
        let first = self.cfg.retry_s.max(1) as i64 * 1000;
        (first << attempts.saturating_sub(1).min(12)).min(6 * 3_600_000)
    }

    /// Tries the holes that are due again; answers whether more are due.
    pub(super) async fn retry_holes(&self) -> Result<bool> {
        let due = self
            .app
            .meta
            .due_forward_holes(now_ms(), HOLES_PER_STEP)
            .await
            .map_err(local)?;
        for h in &due {
            let reader = self.app.log.reader();
            let idx = h.idx;
            let entry = tokio::task::spawn_blocking(move || reader.entries(idx, idx + 1))
                .await
                .map_err(local)?
                .map_err(local)?;
            let Some(item) = entry.first().and_then(|e| Item::of(e)) else {
                continue;
            };
            match self.send(&item).await {
                Ok(()) => {
                    self.app.meta.close_forward_hole(idx).await.map_err(local)?;
                    tracing::info!(index = idx, device = %h.device_id, seq = h.seq, "a skipped item reached the centre");
                    self.app
                        .custody(
                            "forwarder",
                            RECOVERED_ACTION,
                            &format!("device {}", h.device_id),
                            &format!("entry {idx}, link {}", h.seq),
                        )
                        .await
                        .map_err(local)?;
                }
                Err(e) if e.is_items() => {
                    let next = now_ms() + self.retry_ms(h.attempts + 1);
                    self.app
                        .meta
                        .retry_forward_hole(idx, &e.to_string(), next)
                        .await
                        .map_err(local)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(due.len() == HOLES_PER_STEP as usize)
    }
}
