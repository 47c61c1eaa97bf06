//! Each device's chain state, kept as links arrive: counters, the head, and every problem
//! of the chain keyed by its anchor (`kordon_core::chain::ChainProblem::anchor`).
//!
//! A link's arrival changes only the problems anchored between the last segment before
//! it and the first segment after it; those few links are read back and checked again
//! with `kordon_core::chain::window_problems` in the transaction that stores the link.
//! The device's `chain_state` row is written first, which on PostgreSQL locks it: two
//! links of one camera are folded in one after the other, each seeing the other's row.
//! A link therefore costs the same whatever the length of the chain, and no read needs
//! more than this state and the links of the window it shows.

use kordon_core::chain::{ChainOptions, ChainProblem, window_problems};
use kordon_core::hash::Hash;
use kordon_core::link::{EventKind, Link, LinkBody};
use sqlx::Row as _;

use super::problems::{ProblemCursor, insert_problems, problem_of};
use super::{Meta, MetaError};

/// What is kept of one device's chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainState {
    /// Links stored.
    pub links: u64,
    /// Of which segments.
    pub segments: u64,
    /// Sum of the segments' lengths, milliseconds.
    pub recorded_ms: i64,
    /// Highest sequence number stored.
    pub last_seq: u64,
    /// Latest end (segment) or time (event), Unix ms.
    pub max_end_ms: i64,
    /// When the latest link arrived, Unix ms.
    pub last_received_ms: i64,
    /// Every link from 0 up to here is present and correctly chained.
    pub head: Option<u64>,
    /// How many problems the chain has (equivocations included).
    pub problems: u64,
}

impl ChainState {
    /// What a recheck compares, by name (`last_received_ms` is not in the links).
    #[must_use]
    pub fn fields(&self) -> [(&'static str, String); 6] {
        [
            ("links", self.links.to_string()),
            ("segments", self.segments.to_string()),
            ("recorded_ms", self.recorded_ms.to_string()),
            ("last_seq", self.last_seq.to_string()),
            ("max_end_ms", self.max_end_ms.to_string()),
            ("head", format!("{:?}", self.head)),
        ]
    }
}

/// The event kinds that end recording, as stored in `links.kind`.
const STOPS: &str = "('record-stop', 'power-off', 'storage-full', 'docked', 'recovered')";

/// The head from the problems stored: one below the first hole or broken link, else the
/// last link.
async fn head_of(
    tx: &mut sqlx::AnyConnection,
    device: &str,
    last_seq: u64,
) -> Result<Option<u64>, MetaError> {
    let first_bad: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(from_seq) FROM chain_problems WHERE device_id = $1 AND kind IN ('missing', 'broken_prev')",
    )
    .bind(device)
    .fetch_one(&mut *tx)
    .await?;
    let end = first_bad.map_or(last_seq + 1, |b| (b as u64).min(last_seq + 1));
    Ok(end.checked_sub(1))
}

fn parse(body: &[u8]) -> Result<Link, MetaError> {
    Link::parse(body).map_err(|e| MetaError::Invalid(format!("stored link: {e}")))
}

/// Folds a link just inserted into its device's chain state, in the inserting
/// transaction. Answers the time range whose coverage the link can change: from the
/// earlier of its own start and its predecessor's to the start of the next segment after
/// it (`i64::MAX` when none: it may be the latest link).
pub(super) async fn fold(
    tx: &mut sqlx::AnyConnection,
    link: &Link,
    now: i64,
    opts: &ChainOptions,
) -> Result<(i64, i64), MetaError> {
    let b = link.body();
    let (device, n) = (b.device(), b.seq());
    let (segment, length) = match b {
        LinkBody::Segment(s) => (1i64, s.end.0 - s.start.0),
        LinkBody::Event(_) => (0, 0),
    };
    let greater = |c: &str| {
        format!(
            "{c} = CASE WHEN excluded.{c} > chain_state.{c} THEN excluded.{c} ELSE chain_state.{c} END"
        )
    };
    let last_seq: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "INSERT INTO chain_state (device_id, links, segments, recorded_ms, last_seq, max_end_ms, last_received_ms, head, problems)
         VALUES ($1, 1, $2, $3, $4, $5, $6, NULL, 0)
         ON CONFLICT (device_id) DO UPDATE SET links = chain_state.links + 1,
           segments = chain_state.segments + excluded.segments,
           recorded_ms = chain_state.recorded_ms + excluded.recorded_ms, {}, {}, {}
         RETURNING last_seq",
        greater("last_seq"),
        greater("max_end_ms"),
        greater("last_received_ms")
    )))
    .bind(device)
    .bind(segment)
    .bind(length)
    .bind(n as i64)
    .bind(b.end().0)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let last_seq = last_seq as u64;

    let lo: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM links WHERE device_id = $1 AND seq < $2 AND kind = 'segment' ORDER BY seq DESC LIMIT 1",
    )
    .bind(device)
    .bind(n as i64)
    .fetch_optional(&mut *tx)
    .await?;
    let hi: Option<i64> = sqlx::query_scalar(
        "SELECT seq FROM links WHERE device_id = $1 AND seq > $2 AND kind = 'segment' ORDER BY seq LIMIT 1",
    )
    .bind(device)
    .bind(n as i64)
    .fetch_optional(&mut *tx)
    .await?;
    let (lo, hi) = (
        lo.map_or(0, |l| l as u64),
        hi.map_or(last_seq, |h| h as u64),
    );
    let rows = sqlx::query(
        "SELECT body FROM links WHERE device_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
    )
    .bind(device)
    .bind(lo as i64)
    .bind(hi as i64)
    .fetch_all(&mut *tx)
    .await?;
    let links = rows
        .iter()
        .map(|r| parse(&r.try_get::<Vec<u8>, _>("body")?))
        .collect::<Result<Vec<_>, _>>()?;
    let problems = window_problems(device, &links, lo, opts);
    let deleted = sqlx::query(
        "DELETE FROM chain_problems WHERE device_id = $1 AND anchor >= $2 AND anchor <= $3 AND kind <> 'equivocation'",
    )
    .bind(device)
    .bind(if lo == 0 { 0 } else { lo as i64 + 1 })
    .bind(hi as i64)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let inserted = insert_problems(tx, device, &problems).await?;
    let head = head_of(tx, device, last_seq).await?;
    sqlx::query(
        "UPDATE chain_state SET head = $2, problems = problems + $3 - $4 WHERE device_id = $1",
    )
    .bind(device)
    .bind(head.map(|h| h as i64))
    .bind(inserted as i64)
    .bind(deleted as i64)
    .execute(&mut *tx)
    .await?;

    let before = links.iter().rfind(|l| l.body().seq() < n);
    let from = before.map_or(b.start().0, |p| p.body().start().0.min(b.start().0));
    let to = links
        .iter()
        .find(|l| l.body().seq() > n && matches!(l.body(), LinkBody::Segment(_)))
        .map_or(i64::MAX, |l| l.body().start().0);
    Ok((from, to))
}

/// Records an equivocation (a twin refused under `seq`) among the chain's problems.
pub(super) async fn fold_equivocation(
    tx: &mut sqlx::AnyConnection,
    device: &str,
    seq: u64,
    twin: &str,
) -> Result<(), MetaError> {
    let kept: Option<String> =
        sqlx::query_scalar("SELECT hash FROM links WHERE device_id = $1 AND seq = $2")
            .bind(device)
            .bind(seq as i64)
            .fetch_optional(&mut *tx)
            .await?;
    let (Some(kept), Ok(second)) = (kept, Hash::from_hex(twin)) else {
        return Ok(());
    };
    let first = Hash::from_hex(&kept).map_err(|e| MetaError::Invalid(e.to_string()))?;
    let n = insert_problems(
        tx,
        device,
        &[ChainProblem::Equivocation { seq, first, second }],
    )
    .await?;
    sqlx::query("UPDATE chain_state SET problems = problems + $2 WHERE device_id = $1")
        .bind(device)
        .bind(n as i64)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

fn state_of(r: &sqlx::any::AnyRow) -> Result<ChainState, MetaError> {
    let u = |c: &str| -> Result<u64, MetaError> { Ok(r.try_get::<i64, _>(c)?.max(0) as u64) };
    Ok(ChainState {
        links: u("links")?,
        segments: u("segments")?,
        recorded_ms: r.try_get("recorded_ms")?,
        last_seq: u("last_seq")?,
        max_end_ms: r.try_get("max_end_ms")?,
        last_received_ms: r.try_get("last_received_ms")?,
        head: r.try_get::<Option<i64>, _>("head")?.map(|h| h as u64),
        problems: u("problems")?,
    })
}

impl Meta {
    /// A device's chain state (`None` before its first link).
    ///
    /// # Errors
    /// Database errors.
    pub async fn chain_state(&self, device: &str) -> Result<Option<ChainState>, MetaError> {
        let r = sqlx::query("SELECT * FROM chain_state WHERE device_id = $1")
            .bind(device)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(state_of).transpose()
    }

    /// The devices whose chains have problems (issued or not), by id, at most `limit`,
    /// each with the kinds of its problems and how many of each: a row per troubled
    /// camera, not per link.
    ///
    /// # Errors
    /// Database errors.
    pub async fn troubled_devices(
        &self,
        limit: u32,
    ) -> Result<Vec<(String, Vec<(String, u64)>)>, MetaError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT device_id FROM chain_state WHERE problems > 0 ORDER BY device_id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let kinds = self.problem_kinds(&id).await?;
            out.push((id, kinds));
        }
        Ok(out)
    }

    /// The kinds of a device's chain problems and how many of each.
    ///
    /// # Errors
    /// Database errors.
    pub async fn problem_kinds(&self, device: &str) -> Result<Vec<(String, u64)>, MetaError> {
        sqlx::query(
            "SELECT kind, COUNT(*) AS n FROM chain_problems WHERE device_id = $1 GROUP BY kind ORDER BY kind",
        )
        .bind(device)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get::<i64, _>("n")? as u64)))
        .collect()
    }

    /// Devices by id after `after`, at most `limit`, with their chain state.
    ///
    /// # Errors
    /// Database errors.
    pub async fn devices_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<(super::Device, Option<ChainState>)>, MetaError> {
        let rows = sqlx::query(
            "SELECT d.id, d.vkey, d.enrolled_at, d.revoked_at, c.links, c.segments, c.recorded_ms,
                    c.last_seq, c.max_end_ms, c.last_received_ms, c.head, c.problems
             FROM devices d LEFT JOIN chain_state c ON c.device_id = d.id
             WHERE d.id > $1 ORDER BY d.id LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let d = <super::Device as sqlx::FromRow<_>>::from_row(r)?;
                let has_state = r.try_get::<Option<i64>, _>("links")?.is_some();
                Ok((d, if has_state { Some(state_of(r)?) } else { None }))
            })
            .collect()
    }

    /// A device's problems in their key order (anchor, kind, first sequence, twin hash),
    /// after `after`, at most `limit`.
    ///
    /// # Errors
    /// Database errors; a row that does not decode.
    pub async fn chain_problems(
        &self,
        device: &str,
        after: Option<&ProblemCursor>,
        limit: u32,
    ) -> Result<Vec<ChainProblem>, MetaError> {
        // Row values compare column by column; every kind sorts after the empty one.
        let start = ProblemCursor::before_anchor(0);
        let after = after.unwrap_or(&start);
        let rows = sqlx::query(
            "SELECT * FROM chain_problems WHERE device_id = $1
               AND (anchor, kind, from_seq, COALESCE(hash_b, '')) > ($2, $3, $4, $5)
             ORDER BY anchor, kind, from_seq, COALESCE(hash_b, '') LIMIT $6",
        )
        .bind(device)
        .bind(after.anchor as i64)
        .bind(after.kind.clone())
        .bind(after.from_seq as i64)
        .bind(after.hash_b.clone())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(problem_of).collect()
    }

    /// The latest `limit` events of a device that ended recording, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn latest_stops(&self, device: &str, limit: u32) -> Result<Vec<Link>, MetaError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT body FROM links WHERE device_id = $1 AND kind <> 'segment' AND kind IN {STOPS}
             ORDER BY seq DESC LIMIT $2"
        )))
        .bind(device)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .rev()
            .map(|r| parse(&r.try_get::<Vec<u8>, _>("body")?))
            .collect()
    }

    /// Whether the latest link of a device is an event that ended recording.
    ///
    /// # Errors
    /// Database errors.
    pub async fn ends_stopped(&self, device: &str, last_seq: u64) -> Result<bool, MetaError> {
        let kind: Option<String> =
            sqlx::query_scalar("SELECT kind FROM links WHERE device_id = $1 AND seq = $2")
                .bind(device)
                .bind(last_seq as i64)
                .fetch_optional(&self.pool)
                .await?;
        Ok(kind
            .and_then(|k| EventKind::parse(&k))
            .is_some_and(EventKind::ends_recording))
    }

    /// The links of a device a view of `[from, to)` needs, in sequence order: from the
    /// last segment that starts before `from` (or the first link) to the first link that
    /// starts at or after `to` (or the last). Read by time through `links_device_time`;
    /// for a chain whose times rise with its sequence numbers this is every link the
    /// window's coverage depends on (holes, stops and the silence before it included).
    ///
    /// # Errors
    /// Database errors; a stored link that does not parse.
    pub async fn links_around(
        &self,
        device: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Link>, MetaError> {
        let lo: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM links WHERE device_id = $1 AND kind = 'segment' AND start_ms < $2 ORDER BY start_ms DESC LIMIT 1",
        )
        .bind(device)
        .bind(from)
        .fetch_optional(&self.pool)
        .await?;
        let hi: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM links WHERE device_id = $1 AND start_ms >= $2 ORDER BY start_ms LIMIT 1",
        )
        .bind(device)
        .bind(to)
        .fetch_optional(&self.pool)
        .await?;
        let rows = sqlx::query(
            "SELECT body FROM links WHERE device_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
        )
        .bind(device)
        .bind(lo.unwrap_or(0))
        .bind(hi.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| parse(&r.try_get::<Vec<u8>, _>("body")?))
            .collect()
    }

    /// A page of a device's stored links `(seq, body, received_at)` after `after`, in
    /// sequence order: what a recheck streams.
    ///
    /// # Errors
    /// Database errors.
    pub async fn chain_page(
        &self,
        device: &str,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<(u64, Vec<u8>, i64)>, MetaError> {
        let rows = sqlx::query(
            "SELECT seq, body, received_at FROM links WHERE device_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(device)
        .bind(after.map_or(-1, |a| a as i64))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>("seq")? as u64,
                    r.try_get("body")?,
                    r.try_get("received_at")?,
                ))
            })
            .collect()
    }

    /// Replaces a device's chain state and problems with ones computed from scratch.
    ///
    /// # Errors
    /// Database errors.
    pub async fn replace_chain_state(
        &self,
        device: &str,
        state: &ChainState,
        problems: &[ChainProblem],
    ) -> Result<(), MetaError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM chain_problems WHERE device_id = $1")
            .bind(device)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM chain_state WHERE device_id = $1")
            .bind(device)
            .execute(&mut *tx)
            .await?;
        let n = insert_problems(&mut tx, device, problems).await?;
        sqlx::query("INSERT INTO chain_state (device_id, links, segments, recorded_ms, last_seq, max_end_ms, last_received_ms, head, problems) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(device)
            .bind(state.links as i64)
            .bind(state.segments as i64)
            .bind(state.recorded_ms)
            .bind(state.last_seq as i64)
            .bind(state.max_end_ms)
            .bind(state.last_received_ms)
            .bind(state.head.map(|h| h as i64))
            .bind(n as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Devices with links but no chain state (stored before the state was kept).
    ///
    /// # Errors
    /// Database errors.
    pub async fn devices_without_chain_state(&self) -> Result<Vec<String>, MetaError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM devices d WHERE NOT EXISTS (SELECT 1 FROM chain_state c WHERE c.device_id = d.id)
               AND EXISTS (SELECT 1 FROM links l WHERE l.device_id = d.id) ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
