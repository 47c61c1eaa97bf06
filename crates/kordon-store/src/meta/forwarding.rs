//! Forwarding from a crossing point to the centre (docs/spec/forwarding.md).
//!
//! At the crossing point: how far the centre has confirmed this log (only what a verified
//! receipt covers may be purged here), the items that could not be sent yet (holes,
//! retried on a schedule), and the change feed (`outbox`, filled by triggers) of the
//! records a national view needs. At the centre: the holes each crossing point reported,
//! and the records applied, row for row, as the crossing point holds them.

use std::collections::BTreeMap;

use sqlx::Row as _;

use super::backup::Kind;
use super::{Meta, MetaError};

/// An item of this log that could not be sent to the centre yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardHole {
    /// The entry's index in this log.
    pub idx: u64,
    /// The camera.
    pub device_id: String,
    /// The link's number.
    pub seq: u64,
    /// Why it was not sent (the last attempt's error).
    pub reason: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When it was first skipped, Unix ms.
    pub found_at: i64,
    /// When it is tried again, Unix ms.
    pub next_at: i64,
}

fn hole_from_row(r: &sqlx::any::AnyRow) -> Result<ForwardHole, sqlx::Error> {
    Ok(ForwardHole {
        idx: r.try_get::<i64, _>("idx")? as u64,
        device_id: r.try_get("device_id")?,
        seq: r.try_get::<i64, _>("seq")? as u64,
        reason: r.try_get("reason")?,
        attempts: r.try_get::<i64, _>("attempts")? as u32,
        found_at: r.try_get("found_at")?,
        next_at: r.try_get("next_at")?,
    })
}

/// An item a crossing point reported it could not send, as the centre holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeHole {
    /// The entry's index in the crossing point's log.
    pub idx: u64,
    /// SHA-256 of the link (hex).
    pub link_hash: String,
    /// Why, as the crossing point said.
    pub reason: String,
    /// When it was reported, Unix ms.
    pub reported_at: i64,
}

/// One value of a forwarded record's column.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer column.
    Int(i64),
    /// A text column.
    Text(String),
}

/// A row: column name → value.
pub type RecordRow = BTreeMap<String, Cell>;

/// Everything the crossing point holds under one change-feed key: each table's rows whose
/// key column is `id`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// `crossing_point`, `officer`, `assignment`, `inspection`, `gap_reason` or `case`.
    pub kind: String,
    /// Its key.
    pub id: String,
    /// Table → rows.
    pub tables: BTreeMap<String, Vec<RecordRow>>,
}

/// The tables (and their key column) each record kind is carried in. The order is the
/// order rows are written in.
pub const RECORD_KINDS: &[(&str, &[(&str, &str)])] = &[
    ("crossing_point", &[("crossing_points", "code")]),
    ("officer", &[("officers", "service_no")]),
    ("assignment", &[("assignments", "id")]),
    (
        "inspection",
        &[("inspections", "id"), ("inspection_officers", "id")],
    ),
    ("gap_reason", &[("gap_reasons", "id")]),
    ("case", &[("cases", "id"), ("case_items", "case_id")]),
];

fn tables_of(kind: &str) -> Result<&'static [(&'static str, &'static str)], MetaError> {
    RECORD_KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, t)| *t)
        .ok_or_else(|| MetaError::Invalid(format!("no record kind {kind:?}")))
}

impl Meta {
    /// How many entries of this log the centre has confirmed (0 if none).
    ///
    /// # Errors
    /// Database errors.
    pub async fn forward_confirmed(&self) -> Result<u64, MetaError> {
        let n: Option<i64> = sqlx::query_scalar("SELECT confirmed FROM forward_state WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(n.unwrap_or(0) as u64)
    }

    /// Records a verified receipt for `confirmed` entries (kept only if it is further).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_forward_confirmed(
        &self,
        confirmed: u64,
        receipt: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO forward_state (id, confirmed, receipt, updated_at) VALUES (1, $1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET confirmed = excluded.confirmed, receipt = excluded.receipt,
               updated_at = excluded.updated_at WHERE forward_state.confirmed < excluded.confirmed",
        )
        .bind(confirmed as i64)
        .bind(receipt)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records an item that could not be sent; answers whether it is new (an item already
    /// recorded keeps its first time and schedule).
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_forward_hole(&self, h: &ForwardHole) -> Result<bool, MetaError> {
        let r = sqlx::query(
            "INSERT INTO forward_holes (idx, device_id, seq, reason, attempts, found_at, next_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idx) DO NOTHING",
        )
        .bind(h.idx as i64)
        .bind(&h.device_id)
        .bind(h.seq as i64)
        .bind(&h.reason)
        .bind(i64::from(h.attempts))
        .bind(h.found_at)
        .bind(h.next_at)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The holes due for another attempt at `now`, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn due_forward_holes(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<ForwardHole>, MetaError> {
        let rows = sqlx::query(
            "SELECT * FROM forward_holes WHERE next_at <= $1 ORDER BY next_at, idx LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(hole_from_row).collect::<Result<_, _>>()?)
    }

    /// The holes, in index order (a page of `limit` after `after`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn forward_holes(
        &self,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<ForwardHole>, MetaError> {
        let rows = sqlx::query("SELECT * FROM forward_holes WHERE idx > $1 ORDER BY idx LIMIT $2")
            .bind(after.map_or(-1, |a| a as i64))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(hole_from_row).collect::<Result<_, _>>()?)
    }

    /// How many holes there are.
    ///
    /// # Errors
    /// Database errors.
    pub async fn forward_hole_count(&self) -> Result<u64, MetaError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM forward_holes")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    /// Whether entry `idx` is a hole.
    ///
    /// # Errors
    /// Database errors.
    pub async fn is_forward_hole(&self, idx: u64) -> Result<bool, MetaError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM forward_holes WHERE idx = $1")
            .bind(idx as i64)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// Another attempt failed: the reason and the next time.
    ///
    /// # Errors
    /// Database errors.
    pub async fn retry_forward_hole(
        &self,
        idx: u64,
        reason: &str,
        next_at: i64,
    ) -> Result<(), MetaError> {
        sqlx::query(
            "UPDATE forward_holes SET reason = $2, attempts = attempts + 1, next_at = $3 WHERE idx = $1",
        )
        .bind(idx as i64)
        .bind(reason)
        .bind(next_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The item reached the centre.
    ///
    /// # Errors
    /// Database errors.
    pub async fn close_forward_hole(&self, idx: u64) -> Result<(), MetaError> {
        sqlx::query("DELETE FROM forward_holes WHERE idx = $1")
            .bind(idx as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The change feed after `after`: `(seq, kind, id)` of changes older than
    /// `settled_before` (Unix ms; a PostgreSQL transaction that began earlier may still
    /// commit a lower number, so the newest are left for the next read), oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn outbox_after(
        &self,
        after: u64,
        settled_before: i64,
        limit: u32,
    ) -> Result<Vec<(u64, String, String)>, MetaError> {
        let rows = sqlx::query(
            "SELECT seq, kind, id FROM outbox WHERE seq > $1 AND at < $2 ORDER BY seq LIMIT $3",
        )
        .bind(after as i64)
        .bind(settled_before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>("seq")? as u64,
                    r.try_get("kind")?,
                    r.try_get("id")?,
                ))
            })
            .collect()
    }

    /// Drops the change feed up to `through` (what the centre has, or everything at a
    /// server that does not forward).
    ///
    /// # Errors
    /// Database errors.
    pub async fn prune_outbox(&self, through: u64) -> Result<u64, MetaError> {
        let r = sqlx::query("DELETE FROM outbox WHERE seq <= $1")
            .bind(through as i64)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }

    /// Everything held under record `kind` `id`.
    ///
    /// # Errors
    /// [`MetaError::Invalid`] for an unknown kind; database errors.
    pub async fn record(&self, kind: &str, id: &str) -> Result<Record, MetaError> {
        let mut tables = BTreeMap::new();
        for (table, key) in tables_of(kind)? {
            let columns = self.columns(table).await?;
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM {table} WHERE {key} = $1",
                names.join(", ")
            )))
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let mut row = RecordRow::new();
                for (i, (name, k)) in columns.iter().enumerate() {
                    let cell = match k {
                        Kind::Int => r.try_get::<Option<i64>, _>(i)?.map(Cell::Int),
                        _ => r.try_get::<Option<String>, _>(i)?.map(Cell::Text),
                    };
                    row.insert(name.clone(), cell.unwrap_or(Cell::Null));
                }
                out.push(row);
            }
            tables.insert((*table).to_owned(), out);
        }
        Ok(Record {
            kind: kind.to_owned(),
            id: id.to_owned(),
            tables,
        })
    }

    /// At the centre: makes each record exactly what the crossing point `origin` holds
    /// (its rows replaced, the coverage it touches recomputed) and moves the origin's
    /// record cursor to `through`, in one transaction. Answers false (and changes nothing)
    /// if the origin has not forwarded its log yet.
    ///
    /// # Errors
    /// [`MetaError::Invalid`] naming a record that does not fit (unknown kind, table or
    /// column, a row under another key, a value of the wrong type); database errors.
    pub async fn apply_records(
        &self,
        origin: &str,
        through: u64,
        records: &[Record],
    ) -> Result<bool, MetaError> {
        let mut schema = BTreeMap::new();
        for r in records {
            let tables = tables_of(&r.kind)?;
            for t in r.tables.keys() {
                if !tables.iter().any(|(name, _)| name == t) {
                    return Err(MetaError::Invalid(format!(
                        "record {} {}: no table {t:?} in that kind",
                        r.kind, r.id
                    )));
                }
            }
            for (t, _) in tables {
                if !schema.contains_key(*t) {
                    schema.insert(*t, self.columns(t).await?);
                }
            }
        }
        let mut tx = self.write_tx().await?;
        let moved = sqlx::query("UPDATE edges SET records = $2 WHERE origin = $1 AND records < $2")
            .bind(origin)
            .bind(through as i64)
            .execute(&mut *tx)
            .await?;
        let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM edges WHERE origin = $1")
            .bind(origin)
            .fetch_one(&mut *tx)
            .await?;
        if known == 0 {
            return Ok(false);
        }
        if moved.rows_affected() == 0 {
            // Already applied (a retry).
            return Ok(true);
        }
        for r in records {
            for (table, key) in tables_of(&r.kind)? {
                let Some(rows) = r.tables.get(*table) else {
                    continue;
                };
                let columns = &schema[*table];
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE {key} = $1"
                )))
                .bind(&r.id)
                .execute(&mut *tx)
                .await?;
                let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
                let insert = super::backup::insert_sql(table, &names);
                for row in rows {
                    let bad = |what: String| {
                        MetaError::Invalid(format!("record {} {}: {table}: {what}", r.kind, r.id))
                    };
                    if row.get(*key) != Some(&Cell::Text(r.id.clone())) {
                        return Err(bad(format!("a row whose {key} is not {:?}", r.id)));
                    }
                    if let Some(extra) = row.keys().find(|c| !names.contains(&c.as_str())) {
                        return Err(bad(format!("no column {extra:?}")));
                    }
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
                    for (name, k) in columns {
                        q = match (k, row.get(name).unwrap_or(&Cell::Null)) {
                            (Kind::Int, Cell::Null) => q.bind(None::<i64>),
                            (_, Cell::Null) => q.bind(None::<String>),
                            (Kind::Int, Cell::Int(v)) => q.bind(*v),
                            (Kind::Text, Cell::Text(v)) => q.bind(v.clone()),
                            _ => return Err(bad(format!("column {name}: wrong type"))),
                        };
                    }
                    q.execute(&mut *tx).await?;
                }
            }
            self.after_record(&mut tx, r).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Coverage the applied record changes is computed again.
    async fn after_record(
        &self,
        tx: &mut sqlx::AnyConnection,
        r: &Record,
    ) -> Result<(), MetaError> {
        let int = |row: &RecordRow, c: &str| match row.get(c) {
            Some(Cell::Int(v)) => Some(*v),
            _ => None,
        };
        let text = |row: &RecordRow, c: &str| match row.get(c) {
            Some(Cell::Text(v)) => Some(v.clone()),
            _ => None,
        };
        match r.kind.as_str() {
            "inspection" => {
                let version = r.tables.get("inspections").and_then(|rows| {
                    rows.iter()
                        .filter(|row| int(row, "latest") == Some(1))
                        .find_map(|row| int(row, "version"))
                });
                if let Some(v) = version {
                    super::inspections::stale_coverage_of(tx, &r.id, v).await?;
                }
            }
            "assignment" => {
                for row in r.tables.get("assignments").into_iter().flatten() {
                    if let (Some(officer), Some(start)) =
                        (text(row, "officer"), int(row, "start_ms"))
                    {
                        super::inspections::invalidate_officer(tx, &officer, start, i64::MAX)
                            .await?;
                    }
                }
            }
            "gap_reason" => {
                for row in r.tables.get("gap_reasons").into_iter().flatten() {
                    sqlx::query(
                        "UPDATE coverage SET generation = generation + 1 WHERE inspection_id = $1",
                    )
                    .bind(text(row, "inspection_id"))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// At the centre: the items `origin` reported it could not send.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_edge_holes(&self, origin: &str, holes: &[EdgeHole]) -> Result<(), MetaError> {
        let mut tx = self.write_tx().await?;
        for h in holes {
            sqlx::query(
                "INSERT INTO edge_holes (origin, idx, link_hash, reason, reported_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (origin, idx) DO UPDATE SET reason = excluded.reason",
            )
            .bind(origin)
            .bind(h.idx as i64)
            .bind(&h.link_hash)
            .bind(&h.reason)
            .bind(h.reported_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// At the centre: the reported holes of `origin` whose link has still not arrived
    /// (those that did are dropped), in index order after `after`, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn edge_holes(
        &self,
        origin: &str,
        after: Option<u64>,
        limit: u32,
    ) -> Result<Vec<EdgeHole>, MetaError> {
        sqlx::query(
            "DELETE FROM edge_holes WHERE origin = $1 AND EXISTS (SELECT 1 FROM links l WHERE l.hash = edge_holes.link_hash)",
        )
        .bind(origin)
        .execute(&self.pool)
        .await?;
        let rows = sqlx::query(
            "SELECT idx, link_hash, reason, reported_at FROM edge_holes WHERE origin = $1 AND idx > $2 ORDER BY idx LIMIT $3",
        )
        .bind(origin)
        .bind(after.map_or(-1, |a| a as i64))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EdgeHole {
                    idx: r.try_get::<i64, _>("idx")? as u64,
                    link_hash: r.try_get("link_hash")?,
                    reason: r.try_get("reason")?,
                    reported_at: r.try_get("reported_at")?,
                })
            })
            .collect()
    }
}
