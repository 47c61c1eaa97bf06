//! Inspection records, the search index over them, bookmarks, and stored coverage.
//!
//! Corrections are new versions; the latest version of each inspection is flagged
//! (`latest`) and its officers are indexed in `inspection_officers`, so that searches and
//! the coverage invalidation touch only the rows they need, also at millions of
//! inspections.
//!
//! Stored coverage: each latest inspection has a `coverage` row whose `generation` is
//! bumped by everything its coverage depends on (a link of a camera assigned to one of
//! its officers at or after the link's time, an assignment or return of one of its
//! officers, a new version). A result is written back only with the generation it was
//! computed at, so a change that lands during a recomputation is never lost.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::sql::Sql;

use sqlx::FromRow as _;

use super::{Assignment, Meta, MetaError};

/// One version of an inspection record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectionRow {
    /// Inspection id from the customs system.
    pub id: String,
    /// Crossing point code.
    pub crossing_point: String,
    /// Lane.
    pub lane: String,
    /// Officers' service numbers.
    pub officers: Vec<String>,
    /// Start, Unix ms.
    pub start_ms: i64,
    /// End, Unix ms.
    pub end_ms: i64,
    /// Vehicle plate as given.
    pub plate: String,
    /// Plate normalised for search.
    pub plate_norm: String,
    /// Declaration number.
    pub declaration: String,
    /// Declarant (person or company lodging the declaration), when the customs system
    /// sends it; empty otherwise.
    pub declarant: String,
    /// `documents`, `vehicle` or `goods`.
    pub kind: String,
    /// `cleared`, `violation` or `refused`.
    pub outcome: String,
}

/// What storing an inspection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InspectionOutcome {
    /// First version stored.
    New,
    /// Identical to the latest version: nothing stored.
    Unchanged,
    /// Different from the latest version: stored as version `n`.
    Corrected(i64),
}

/// The latest version of an inspection with its stored coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestInspection {
    /// The record.
    pub row: InspectionRow,
    /// Its version.
    pub version: i64,
    /// Generation of its coverage inputs.
    pub generation: i64,
    /// The stored coverage (opaque to the store), when it is current.
    pub coverage: Option<String>,
}

fn inspection_from_row(r: &AnyRow) -> Result<InspectionRow, sqlx::Error> {
    let officers: String = r.try_get("officers")?;
    Ok(InspectionRow {
        id: r.try_get("id")?,
        crossing_point: r.try_get("crossing_point")?,
        lane: r.try_get("lane")?,
        officers: officers
            .split(';')
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .collect(),
        start_ms: r.try_get("start_ms")?,
        end_ms: r.try_get("end_ms")?,
        plate: r.try_get("plate")?,
        plate_norm: r.try_get("plate_norm")?,
        declaration: r.try_get("declaration")?,
        declarant: r.try_get("declarant")?,
        kind: r.try_get("kind")?,
        outcome: r.try_get("outcome")?,
    })
}

fn latest_from_row(r: &AnyRow) -> Result<LatestInspection, sqlx::Error> {
    let generation: Option<i64> = r.try_get("generation")?;
    let computed: Option<i64> = r.try_get("computed")?;
    Ok(LatestInspection {
        row: inspection_from_row(r)?,
        version: r.try_get("version")?,
        generation: generation.unwrap_or(0),
        coverage: if computed.is_some() && computed == generation {
            r.try_get("result")?
        } else {
            None
        },
    })
}

/// The columns of a latest inspection joined with its coverage row.
const LATEST: &str = "SELECT i.*, c.generation, c.computed, c.result FROM inspections i LEFT JOIN coverage c ON c.inspection_id = i.id WHERE i.latest = 1";

/// What to look for among inspections; every field given must match.
#[derive(Debug, Clone, Default)]
pub struct InspectionQuery {
    /// Starts at or after (Unix ms).
    pub from: Option<i64>,
    /// Starts before.
    pub to: Option<i64>,
    /// Crossing point code.
    pub crossing_point: Option<String>,
    /// Lane.
    pub lane: Option<String>,
    /// One of the officers.
    pub officer: Option<String>,
    /// A camera assigned to one of its officers during it.
    pub device: Option<String>,
    /// Inspection id.
    pub id: Option<String>,
    /// Declaration number.
    pub declaration: Option<String>,
    /// Normalised vehicle plate.
    pub plate_norm: Option<String>,
    /// Text in the label of a bookmark on it.
    pub bookmark: Option<String>,
    /// Only those after this `(start_ms, id)` in the search order (a page's cursor).
    pub after: Option<(i64, String)>,
}

/// A bookmark on an inspection or on a camera's footage at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark {
    /// Id.
    pub id: String,
    /// The inspection it marks, if any.
    pub inspection_id: Option<String>,
    /// The camera whose footage it marks, if any.
    pub device_id: Option<String>,
    /// The moment, Unix ms.
    pub at_ms: i64,
    /// What the person wrote.
    pub label: String,
    /// Who made it.
    pub created_by: String,
}

fn bookmark_from_row(r: &AnyRow) -> Result<Bookmark, sqlx::Error> {
    Ok(Bookmark {
        id: r.try_get("id")?,
        inspection_id: r.try_get("inspection_id")?,
        device_id: r.try_get("device_id")?,
        at_ms: r.try_get("at_ms")?,
        label: r.try_get("label")?,
        created_by: r.try_get("created_by")?,
    })
}

/// `LIKE` pattern matching `text` anywhere, with the wildcards in it escaped (`\`).
fn contains_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for ch in text.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// Marks stale the coverage of the latest inspections of an officer that overlap
/// `[from, to)`.
pub(super) async fn invalidate_officer(
    tx: &mut sqlx::AnyConnection,
    officer: &str,
    from: i64,
    to: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE coverage SET generation = generation + 1 WHERE inspection_id IN
           (SELECT id FROM inspection_officers WHERE officer = $1 AND end_ms > $2 AND start_ms < $3)",
    )
    .bind(officer)
    .bind(from)
    .bind(to)
    .execute(tx)
    .await?;
    Ok(())
}

/// Marks stale the coverage of every latest inspection that a new link of `device`,
/// touching time from `from` to `to`, can change: those of officers the camera was
/// assigned to, overlapping the assignment and that time.
pub(super) async fn invalidate_device(
    tx: &mut sqlx::AnyConnection,
    device: &str,
    from: i64,
    to: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE coverage SET generation = generation + 1 WHERE inspection_id IN
           (SELECT o.id FROM assignments a JOIN inspection_officers o
              ON o.officer = a.officer AND o.end_ms > $2 AND o.start_ms <= $3 AND o.end_ms > a.start_ms
             AND (a.end_ms IS NULL OR o.start_ms < a.end_ms)
            WHERE a.device_id = $1 AND (a.end_ms IS NULL OR a.end_ms > $2) AND a.start_ms <= $3)",
    )
    .bind(device)
    .bind(from)
    .bind(to)
    .execute(tx)
    .await?;
    Ok(())
}

/// Marks stale what an assignment's change (hand-out or return) can change.
/// Version `version` of inspection `id` is the one whose coverage counts, to be computed.
pub(super) async fn stale_coverage_of(
    tx: &mut sqlx::AnyConnection,
    id: &str,
    version: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO coverage (inspection_id, version, generation) VALUES ($1, $2, 1)
         ON CONFLICT (inspection_id) DO UPDATE SET version = excluded.version,
           generation = coverage.generation + 1, computed = NULL, result = NULL",
    )
    .bind(id)
    .bind(version)
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn invalidate_assignment(
    tx: &mut sqlx::AnyConnection,
    a: &Assignment,
) -> Result<(), sqlx::Error> {
    invalidate_officer(tx, &a.officer, a.start_ms, i64::MAX).await
}

impl Meta {
    /// Stores an inspection: new, unchanged (idempotent retry) or a correction (a new
    /// version; earlier versions are kept).
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_inspection(
        &self,
        i: &InspectionRow,
        now: i64,
    ) -> Result<InspectionOutcome, MetaError> {
        Ok(self.put_inspections(std::slice::from_ref(i), now).await?[0])
    }

    /// Stores a batch of inspections in one transaction (see [`Meta::put_inspection`]).
    ///
    /// # Errors
    /// Database errors (then nothing of the batch is stored).
    pub async fn put_inspections(
        &self,
        batch: &[InspectionRow],
        now: i64,
    ) -> Result<Vec<InspectionOutcome>, MetaError> {
        let mut tx = self.write_tx().await?;
        let mut out = Vec::with_capacity(batch.len());
        for i in batch {
            let latest = sqlx::query("SELECT * FROM inspections WHERE id = $1 AND latest = 1")
                .bind(&i.id)
                .fetch_optional(&mut *tx)
                .await?;
            let version = match &latest {
                Some(r) if inspection_from_row(r)? == *i => {
                    out.push(InspectionOutcome::Unchanged);
                    continue;
                }
                Some(r) => r.try_get::<i64, _>("version")? + 1,
                None => 1,
            };
            if let Some(r) = &latest {
                let old = inspection_from_row(r)?;
                sqlx::query("UPDATE inspections SET latest = 0 WHERE id = $1 AND latest = 1")
                    .bind(&i.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM inspection_officers WHERE id = $1")
                    .bind(&old.id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO inspections (id, version, crossing_point, lane, officers, start_ms, end_ms, plate, plate_norm, declaration, declarant, kind, outcome, received_at, latest)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1)",
            )
            .bind(&i.id)
            .bind(version)
            .bind(&i.crossing_point)
            .bind(&i.lane)
            .bind(i.officers.join(";"))
            .bind(i.start_ms)
            .bind(i.end_ms)
            .bind(&i.plate)
            .bind(&i.plate_norm)
            .bind(&i.declaration)
            .bind(&i.declarant)
            .bind(&i.kind)
            .bind(&i.outcome)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for o in &i.officers {
                sqlx::query("INSERT INTO inspection_officers (officer, id, start_ms, end_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                    .bind(o)
                    .bind(&i.id)
                    .bind(i.start_ms)
                    .bind(i.end_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            stale_coverage_of(&mut tx, &i.id, version).await?;
            out.push(if version == 1 {
                InspectionOutcome::New
            } else {
                InspectionOutcome::Corrected(version)
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The latest version of every inspection starting in `[from, to)`, by start,
    /// optionally only at one crossing point or of one officer, with stored coverage.
    ///
    /// # Errors
    /// Database errors.
    pub async fn inspections(
        &self,
        from: i64,
        to: i64,
        crossing_point: Option<&str>,
        officer: Option<&str>,
    ) -> Result<Vec<LatestInspection>, MetaError> {
        let q = InspectionQuery {
            from: Some(from),
            to: Some(to),
            crossing_point: crossing_point.map(str::to_owned),
            officer: officer.map(str::to_owned),
            ..InspectionQuery::default()
        };
        self.search_inspections(&q, i64::MAX).await
    }

    /// The latest version of one inspection.
    ///
    /// # Errors
    /// Database errors.
    pub async fn inspection(&self, id: &str) -> Result<Option<LatestInspection>, MetaError> {
        let mut b = Sql::new(LATEST);
        b.push(" AND i.id = ").push_bind(id.to_owned());
        let r = b.build()?.fetch_optional(&self.pool).await?;
        Ok(r.as_ref().map(latest_from_row).transpose()?)
    }

    /// Inspections whose stored coverage is out of date (never computed, or something it
    /// depends on changed since), by id after `after`, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn stale_coverage(&self, after: &str, limit: u32) -> Result<Vec<String>, MetaError> {
        let rows = sqlx::query_scalar(
            "SELECT inspection_id FROM coverage WHERE (computed IS NULL OR computed <> generation)
               AND inspection_id > $1 ORDER BY inspection_id LIMIT $2",
        )
        .bind(after.to_owned())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Writes back a computed coverage if nothing it depends on changed since
    /// `generation`; returns whether it was stored.
    ///
    /// # Errors
    /// Database errors.
    pub async fn store_coverage(
        &self,
        id: &str,
        generation: i64,
        result: &str,
    ) -> Result<bool, MetaError> {
        let r = sqlx::query(
            "UPDATE coverage SET computed = generation, result = $1 WHERE inspection_id = $2 AND generation = $3",
        )
        .bind(result)
        .bind(id)
        .bind(generation)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Every assignment of the officer that overlaps `[from, to)`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn assignments_of(
        &self,
        officer: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Assignment>, MetaError> {
        let rows = sqlx::query("SELECT * FROM assignments WHERE officer = $1 AND start_ms < $2 AND (end_ms IS NULL OR end_ms > $3) ORDER BY start_ms")
            .bind(officer)
            .bind(to)
            .bind(from)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(Assignment::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Every assignment that overlaps `[from, to)`, by start.
    ///
    /// # Errors
    /// Database errors.
    pub async fn assignments_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<Assignment>, MetaError> {
        let rows = sqlx::query("SELECT * FROM assignments WHERE start_ms < $1 AND (end_ms IS NULL OR end_ms > $2) ORDER BY start_ms, id")
            .bind(to)
            .bind(from)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(Assignment::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The latest version of every inspection matching `q`, by start, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn search_inspections(
        &self,
        q: &InspectionQuery,
        limit: i64,
    ) -> Result<Vec<LatestInspection>, MetaError> {
        let mut b = Sql::new(LATEST);
        if let Some(v) = q.from {
            b.push(" AND i.start_ms >= ").push_bind(v);
        }
        if let Some(v) = q.to {
            b.push(" AND i.start_ms < ").push_bind(v);
        }
        for (col, v) in [
            ("i.crossing_point", &q.crossing_point),
            ("i.lane", &q.lane),
            ("i.id", &q.id),
            ("i.declaration", &q.declaration),
            ("i.plate_norm", &q.plate_norm),
        ] {
            if let Some(v) = v {
                b.push(format!(" AND {col} = ")).push_bind(v.clone());
            }
        }
        if let Some(o) = &q.officer {
            b.push(" AND i.id IN (SELECT id FROM inspection_officers WHERE officer = ")
                .push_bind(o.clone())
                .push(")");
        }
        if let Some(d) = &q.device {
            b.push(
                " AND i.id IN (SELECT o.id FROM assignments a JOIN inspection_officers o
                   ON o.officer = a.officer AND o.end_ms > a.start_ms
                  AND (a.end_ms IS NULL OR o.start_ms < a.end_ms) WHERE a.device_id = ",
            )
            .push_bind(d.clone())
            .push(")");
        }
        if let Some(t) = &q.bookmark {
            b.push(" AND i.id IN (SELECT inspection_id FROM bookmarks WHERE label ")
                .push(self.like())
                .push(" ")
                .push_bind(contains_pattern(t))
                .push(" ESCAPE '\\')");
        }
        if let Some((start, id)) = &q.after {
            b.push(" AND (i.start_ms > ")
                .push_bind(*start)
                .push(" OR (i.start_ms = ")
                .push_bind(*start)
                .push(" AND i.id > ")
                .push_bind(id.clone())
                .push("))");
        }
        b.push(" ORDER BY i.start_ms, i.id LIMIT ").push_bind(limit);
        let rows = b.build()?.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(latest_from_row).collect::<Result<_, _>>()?)
    }

    /// Adds a bookmark.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_bookmark(&self, b: &Bookmark, now: i64) -> Result<(), MetaError> {
        sqlx::query("INSERT INTO bookmarks (id, inspection_id, device_id, at_ms, label, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&b.id)
            .bind(&b.inspection_id)
            .bind(&b.device_id)
            .bind(b.at_ms)
            .bind(&b.label)
            .bind(&b.created_by)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Bookmarks whose label contains `text` (all when empty), of one camera when given,
    /// by moment.
    ///
    /// # Errors
    /// Database errors.
    pub async fn bookmarks(
        &self,
        text: &str,
        device: Option<&str>,
    ) -> Result<Vec<Bookmark>, MetaError> {
        let mut b = Sql::new("SELECT * FROM bookmarks WHERE label ");
        b.push(self.like())
            .push(" ")
            .push_bind(contains_pattern(text))
            .push(" ESCAPE '\\'");
        if let Some(d) = device {
            b.push(" AND device_id = ").push_bind(d.to_owned());
        }
        b.push(" ORDER BY at_ms, id LIMIT 1000");
        let rows = b.build()?.fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(bookmark_from_row)
            .collect::<Result<_, _>>()?)
    }
}
