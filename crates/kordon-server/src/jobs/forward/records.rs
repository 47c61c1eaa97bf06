//! The records a national view needs, sent after the log: crossing points, officers,
//! assignments, inspections, gap reasons and their decisions, cases and the footage they
//! hold. Triggers in the database note every change in the change feed (`outbox`); the
//! forwarder sends each changed record whole (every row this server holds under its key)
//! from the position the centre holds, so a lost answer or a restart only sends some
//! again, and the centre replaces what it held with the same rows.

use kordon_api::edges::{RecordIn, RecordsApplied, RecordsIn};
use kordon_store::now_ms;

use super::{Forwarder, Result, local};

/// Changes read from the feed per request.
const RECORDS_PER_STEP: u32 = 200;

/// How long a change waits before it is sent: a PostgreSQL transaction that began before
/// it may still commit a lower position in the feed.
pub(super) const SETTLE_MS: i64 = 2_000;

/// What a records step leaves.
pub(super) enum Left {
    /// Nothing.
    Nothing,
    /// Changes too young to send yet: look again once they settle.
    Settling,
    /// More changes, to send right away.
    More,
}

impl Forwarder {
    /// Sends the changes after `after` (the centre's position); answers the new position
    /// and what is left.
    pub(super) async fn records(&self, after: u64) -> Result<(u64, Left)> {
        let meta = &self.app.meta;
        let changes = meta
            .outbox_after(after, now_ms() - SETTLE_MS, RECORDS_PER_STEP)
            .await
            .map_err(local)?;
        let Some(through) = changes.last().map(|c| c.0) else {
            let young = !meta
                .outbox_after(after, i64::MAX, 1)
                .await
                .map_err(local)?
                .is_empty();
            return Ok((after, if young { Left::Settling } else { Left::Nothing }));
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut records = Vec::new();
        for (_, kind, id) in changes.iter() {
            if seen.insert((kind.as_str(), id.as_str())) {
                let r = meta.record(kind, id).await.map_err(local)?;
                records.push(RecordIn {
                    kind: r.kind,
                    id: r.id,
                    tables: serde_json::from_value(serde_json::to_value(r.tables).map_err(local)?)
                        .map_err(local)?,
                });
            }
        }
        let body = RecordsIn {
            origin: self.key.verifier().name().to_owned(),
            through,
            records,
        };
        let v: RecordsApplied = self
            .call(self.http.post(self.url("/v1/edges/records")).json(&body))
            .await?;
        meta.prune_outbox(v.records).await.map_err(local)?;
        metrics::counter!("kordon_forward_records_total").increment(seen.len() as u64);
        let left = if changes.len() == RECORDS_PER_STEP as usize {
            Left::More
        } else {
            Left::Nothing
        };
        Ok((v.records, left))
    }
}
