//! Cases and what they hold, legal holds, retention (purge bookkeeping) and the links and
//! custody events an evidence package is made of.

use sqlx::FromRow as _;
use sqlx::Row as _;

use super::sql::Sql;
use super::{Engine, LinkRow, Meta, MetaError};

/// A case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Id.
    pub id: String,
    /// Reference number (court, complaint, request).
    pub reference: String,
    /// `complaint`, `lawyer_request`, `law_enforcement_request` or `internal_review`.
    pub kind: String,
    /// What it is about.
    pub description: String,
    /// Who opened it.
    pub opened_by: String,
    /// When, Unix ms.
    pub opened_at: i64,
    /// When it was closed (it then holds nothing), Unix ms.
    pub closed_at: Option<i64>,
    /// The crossing point it belongs to; `None` for a national case.
    pub crossing_point: Option<String>,
}

/// Something a case holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseItem {
    /// Position in the case (1, 2, ...).
    pub item: i64,
    /// `inspection`, `segment`, `range` or `note`.
    pub kind: String,
    /// The inspection, for `inspection`.
    pub inspection_id: Option<String>,
    /// The camera whose footage it holds.
    pub device_id: Option<String>,
    /// Start of the held footage, Unix ms.
    pub from_ms: Option<i64>,
    /// End of it.
    pub to_ms: Option<i64>,
    /// Note or description.
    pub text: String,
    /// Who added it.
    pub added_by: String,
}

/// A stored custody event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CustodyRow {
    /// Note hash, hex.
    pub hash: String,
    /// Action.
    pub action: String,
    /// Subject.
    pub subject: String,
    /// The signed note.
    pub body: Vec<u8>,
    /// Position in the log.
    pub log_index: Option<i64>,
    /// The private part a version 2 event commits to (`None` for version 1).
    pub private: Option<String>,
}

impl CustodyRow {
    /// The whole event: a version 1 note as it is, a version 2 one opened with its
    /// private part (checked against the entry's commitment).
    ///
    /// # Errors
    /// The note does not parse, or the private part is missing or does not open it.
    pub fn event(&self) -> Result<kordon_core::custody::Custody, String> {
        let note = kordon_core::note::Note::parse(&self.body).map_err(|e| e.to_string())?;
        kordon_core::custody::Event::parse(note.text())
            .and_then(|e| e.open(self.private.as_deref()))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "a version 2 event without its private part".to_owned())
    }
}

fn case_of(r: &sqlx::any::AnyRow) -> Result<Case, sqlx::Error> {
    Ok(Case {
        id: r.try_get("id")?,
        reference: r.try_get("reference")?,
        kind: r.try_get("kind")?,
        description: r.try_get("description")?,
        opened_by: r.try_get("opened_by")?,
        opened_at: r.try_get("opened_at")?,
        closed_at: r.try_get("closed_at")?,
        crossing_point: r.try_get("crossing_point")?,
    })
}

/// SQL: footage of camera `?1` over `[?2, ?3)` overlaps an inspection of one of its
/// officers (assigned then) that ended with `outcome`.
const INSPECTION_OVERLAP: &str = "SELECT 1 FROM assignments a
   JOIN inspection_officers o ON o.officer = a.officer AND o.start_ms < $3 AND o.end_ms > $2
   JOIN inspections i ON i.id = o.id AND i.latest = 1
  WHERE a.device_id = $1 AND a.start_ms < $3 AND (a.end_ms IS NULL OR a.end_ms > $2)";

impl Meta {
    /// Opens a case.
    ///
    /// # Errors
    /// [`MetaError::Assignment`] (conflict) if the id is taken; database errors.
    pub async fn open_case(&self, c: &Case) -> Result<(), MetaError> {
        let r = sqlx::query("INSERT INTO cases (id, reference, kind, description, opened_by, opened_at, crossing_point) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING")
            .bind(&c.id)
            .bind(&c.reference)
            .bind(&c.kind)
            .bind(&c.description)
            .bind(&c.opened_by)
            .bind(c.opened_at)
            .bind(c.crossing_point.clone())
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(MetaError::Assignment(format!(
                "case {} already exists",
                c.id
            )));
        }
        Ok(())
    }

    /// A case and its items.
    ///
    /// # Errors
    /// Database errors.
    pub async fn case(&self, id: &str) -> Result<Option<(Case, Vec<CaseItem>)>, MetaError> {
        let Some(r) = sqlx::query("SELECT * FROM cases WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let case = case_of(&r)?;
        let rows = sqlx::query("SELECT * FROM case_items WHERE case_id = $1 ORDER BY item")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(CaseItem {
                    item: r.try_get("item")?,
                    kind: r.try_get("kind")?,
                    inspection_id: r.try_get("inspection_id")?,
                    device_id: r.try_get("device_id")?,
                    from_ms: r.try_get("from_ms")?,
                    to_ms: r.try_get("to_ms")?,
                    text: r.try_get("text")?,
                    added_by: r.try_get("added_by")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(Some((case, items)))
    }

    /// The cases of `crossing_points` (every case when empty: a national user), newest
    /// first, opened before the cursor `(opened_at, id)`, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn cases_page(
        &self,
        crossing_points: &[String],
        before: Option<(i64, &str)>,
        limit: u32,
    ) -> Result<Vec<Case>, MetaError> {
        let mut b = super::sql::Sql::new("SELECT * FROM cases WHERE 1 = 1");
        if !crossing_points.is_empty() {
            b.push(" AND crossing_point IN ").push_list(crossing_points);
        }
        if let Some(before) = before {
            b.push_page("opened_at", "id", before, false);
        }
        b.push(" ORDER BY opened_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = b.build()?.fetch_all(&self.pool).await?;
        Ok(rows.iter().map(case_of).collect::<Result<_, _>>()?)
    }

    /// Closes an open case: from now on it holds nothing. Answers whether it was open.
    ///
    /// # Errors
    /// Database errors.
    pub async fn close_case(&self, id: &str, by: &str, now: i64) -> Result<bool, MetaError> {
        let r = sqlx::query(
            "UPDATE cases SET closed_at = $1, closed_by = $2 WHERE id = $3 AND closed_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Adds items to a case (numbered after the existing ones); returns their numbers.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_case_items(
        &self,
        case_id: &str,
        items: &[CaseItem],
        now: i64,
    ) -> Result<Vec<i64>, MetaError> {
        let mut tx = self.write_tx().await?;
        let mut next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(item), 0) + 1 FROM case_items WHERE case_id = $1",
        )
        .bind(case_id)
        .fetch_one(&mut *tx)
        .await?;
        let mut out = Vec::new();
        for i in items {
            sqlx::query("INSERT INTO case_items (case_id, item, kind, inspection_id, device_id, from_ms, to_ms, text, added_by, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(case_id)
                .bind(next)
                .bind(&i.kind)
                .bind(&i.inspection_id)
                .bind(&i.device_id)
                .bind(i.from_ms)
                .bind(i.to_ms)
                .bind(&i.text)
                .bind(&i.added_by)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            out.push(next);
            next += 1;
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Whether footage of `device` over `[from, to)` is under legal hold: held by a case,
    /// or overlapping an inspection of its officer that found a violation.
    ///
    /// # Errors
    /// Database errors.
    pub async fn is_held(&self, device: &str, from: i64, to: i64) -> Result<bool, MetaError> {
        let q = format!(
            "EXISTS (SELECT 1 FROM case_items ci JOIN cases c ON c.id = ci.case_id AND c.closed_at IS NULL
                      WHERE ci.device_id = $1 AND ci.from_ms < $3 AND ci.to_ms > $2)
                 OR EXISTS ({INSPECTION_OVERLAP} AND i.outcome = 'violation')"
        );
        self.device_span_query(q, device, from, to).await
    }

    /// Evaluates a condition whose `$1`, `$2`, `$3` are a device and a time span.
    async fn device_span_query(
        &self,
        condition: String,
        device: &str,
        from: i64,
        to: i64,
    ) -> Result<bool, MetaError> {
        let yes: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CASE WHEN {condition} THEN 1 ELSE 0 END"
        )))
        .bind(device)
        .bind(from)
        .bind(to)
        .fetch_one(&self.pool)
        .await?;
        Ok(yes == 1)
    }

    /// Whether footage of `device` over `[from, to)` overlaps any inspection of its officer
    /// (the `inspection` retention category).
    ///
    /// # Errors
    /// Database errors.
    pub async fn overlaps_inspection(
        &self,
        device: &str,
        from: i64,
        to: i64,
    ) -> Result<bool, MetaError> {
        self.device_span_query(format!("EXISTS ({INSPECTION_OVERLAP})"), device, from, to)
            .await
    }

    /// Segments whose bytes are still stored and that were received before `before`,
    /// oldest first, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn purge_candidates(
        &self,
        before: i64,
        limit: i64,
    ) -> Result<Vec<LinkRow>, MetaError> {
        let rows = sqlx::query("SELECT * FROM links WHERE kind = 'segment' AND purged_at IS NULL AND received_at < $1 ORDER BY received_at, device_id, seq LIMIT $2")
            .bind(before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(LinkRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Records that a segment's bytes were purged, under the tombstone `tombstone`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn mark_purged(
        &self,
        device: &str,
        seq: u64,
        tombstone: &str,
        now: i64,
    ) -> Result<(), MetaError> {
        sqlx::query("UPDATE links SET purged_at = $1, tombstone = $2 WHERE device_id = $3 AND seq = $4 AND purged_at IS NULL")
            .bind(now)
            .bind(tombstone)
            .bind(device)
            .bind(seq as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether a segment whose bytes are still kept uses this blob.
    ///
    /// # Errors
    /// Database errors.
    pub async fn blob_in_use(&self, sha256: &str) -> Result<bool, MetaError> {
        let yes: i64 = sqlx::query_scalar(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM links WHERE blob_sha256 = $1 AND purged_at IS NULL) THEN 1 ELSE 0 END",
        )
        .bind(sha256)
        .fetch_one(&self.pool)
        .await?;
        Ok(yes == 1)
    }

    /// Every blob that should be stored (of segments not purged), with its size.
    ///
    /// # Errors
    /// Database errors.
    pub async fn stored_blobs(&self) -> Result<Vec<(String, i64)>, MetaError> {
        let rows = sqlx::query("SELECT blob_sha256, MAX(size) AS size FROM links WHERE kind = 'segment' AND purged_at IS NULL AND blob_sha256 IS NOT NULL GROUP BY blob_sha256 ORDER BY blob_sha256")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get("blob_sha256")?, r.try_get("size")?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    /// Records a quarantined blob; returns false if it already was.
    ///
    /// # Errors
    /// Database errors.
    pub async fn quarantine(
        &self,
        sha256: &str,
        detail: &str,
        now: i64,
    ) -> Result<bool, MetaError> {
        let r = sqlx::query("INSERT INTO quarantine (sha256, found_at, detail) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(sha256)
            .bind(now)
            .bind(detail)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Custody events about any of `subjects` exactly, in log order.
    ///
    /// # Errors
    /// Database errors.
    pub async fn custody_about(&self, subjects: &[String]) -> Result<Vec<CustodyRow>, MetaError> {
        let mut out = Vec::new();
        // Through the subject index, 500 subjects a query.
        for chunk in subjects.chunks(500) {
            let mut b = Sql::new("SELECT * FROM custody WHERE subject IN ");
            b.push_list(chunk);
            for r in b.build()?.fetch_all(&self.pool).await? {
                out.push(CustodyRow::from_row(&r)?);
            }
        }
        out.sort_by_key(|c| c.log_index);
        Ok(out)
    }
}

/// What a custody subject is about: its first two words (`device cam-1` of `device cam-1
/// seq 5`), or all of it.
pub(super) fn subject_key(subject: &str) -> &str {
    let mut spaces = subject.match_indices(' ');
    match (spaces.next(), spaces.next()) {
        (Some(_), Some((second, _))) => &subject[..second],
        _ => subject,
    }
}

impl Meta {
    /// One page of the custody trail of `key` (a subject's first two words, e.g. `device
    /// cam-1`: the events about it and about its segments), newest first, logged before
    /// `before`, at most `limit`: read through the `custody_trail` index, whatever the
    /// trail's length.
    ///
    /// # Errors
    /// Database errors.
    pub async fn custody_trail(
        &self,
        key: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<CustodyRow>, MetaError> {
        self.custody_trail_of(key, None, before, limit).await
    }

    /// [`Meta::custody_trail`] of one action only (all when `None`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn custody_trail_of(
        &self,
        key: &str,
        action: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<CustodyRow>, MetaError> {
        // Through `custody_trail` or, for one action, `custody_trail_action`: a page
        // reads its own rows, however long the trail.
        let mut b = super::sql::Sql::new("SELECT * FROM custody WHERE subject_key = ");
        b.push_bind(subject_key(key).to_owned());
        if let Some(a) = action {
            b.push(" AND action = ").push_bind(a.to_owned());
        }
        b.push(" AND log_index < ")
            .push_bind(before.unwrap_or(i64::MAX))
            .push(" ORDER BY log_index DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = b.build()?.fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(CustodyRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Custody events of `action` whose detail (public or private) mentions `text`, in
    /// log order.
    ///
    /// # Errors
    /// Database errors.
    pub async fn custody_mentioning(
        &self,
        action: &str,
        text: &str,
    ) -> Result<Vec<CustodyRow>, MetaError> {
        let rows = sqlx::query(match self.engine {
            Engine::Sqlite => "SELECT * FROM custody WHERE action = $1 AND (instr(CAST(body AS TEXT), $2) > 0 OR instr(private, $2) > 0) ORDER BY log_index",
            Engine::Postgres => "SELECT * FROM custody WHERE action = $1 AND (strpos(convert_from(body, 'UTF8'), $2) > 0 OR strpos(private, $2) > 0) ORDER BY log_index",
        })
            .bind(action)
            .bind(text)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(CustodyRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The segment link whose blob has this hash (the first, if the same bytes were
    /// uploaded twice).
    ///
    /// # Errors
    /// Database errors.
    pub async fn link_by_blob(&self, sha256: &str) -> Result<Option<LinkRow>, MetaError> {
        let r =
            sqlx::query("SELECT * FROM links WHERE blob_sha256 = $1 ORDER BY received_at LIMIT 1")
                .bind(sha256)
                .fetch_optional(&self.pool)
                .await?;
        Ok(r.as_ref().map(LinkRow::from_row).transpose()?)
    }
}
