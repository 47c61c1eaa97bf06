//! Release to others: redacted copies, shares with named recipients, and officers' requests
//! that their footage be preserved.

use sqlx::FromRow as _;

use super::{Meta, MetaError};

/// A redacted copy made of a camera's footage.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RedactionRow {
    /// Id.
    pub id: String,
    /// The crossing point whose footage it is.
    pub crossing_point: String,
    /// The inspection it was made from, if any.
    pub inspection_id: Option<String>,
    /// The camera.
    pub device_id: String,
    /// First source segment.
    pub first_seq: i64,
    /// Last source segment.
    pub last_seq: i64,
    /// Start of the first source segment, Unix ms (time 0 of the operations).
    pub from_ms: i64,
    /// End of the last.
    pub to_ms: i64,
    /// The operations, `kordon.redaction/v1` text.
    pub ops: String,
    /// Their SHA-256, hex.
    pub ops_sha256: String,
    /// Why it was made.
    pub reason: String,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// `rendering`, `ready` or `failed`.
    pub state: String,
    /// Why it failed.
    pub error: Option<String>,
    /// SHA-256 of the rendered copy, hex, once ready.
    pub result_sha256: Option<String>,
    /// Its size.
    pub size: Option<i64>,
    /// Its `derive` custody event, hex.
    pub event_hash: Option<String>,
}

/// A share: a redacted copy handed to a named recipient.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ShareRow {
    /// Id (in the link the recipient gets).
    pub id: String,
    /// The crossing point of the footage.
    pub crossing_point: String,
    /// The redacted copy shared, or
    pub redaction_id: Option<String>,
    /// the case whose evidence package is shared.
    pub case_id: Option<String>,
    /// Who receives it.
    pub recipient: String,
    /// Why.
    pub purpose: String,
    /// SHA-256 of the one-time code, hex.
    pub code_sha256: String,
    /// Who shared it.
    pub created_by: String,
    /// When.
    pub created_at: i64,
    /// Until when the link works.
    pub expires_at: i64,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
    /// By whom.
    pub revoked_by: Option<String>,
    /// Wrong codes given in a row.
    pub failures: i64,
    /// When the code was used.
    pub opened_at: Option<i64>,
    /// SHA-256 of the recipient's session secret, hex.
    pub session_sha256: Option<String>,
    /// `preparing`, `ready` or `failed`.
    pub state: String,
    /// Why it failed.
    pub error: Option<String>,
    /// SHA-256 of the redacted package, hex, once ready.
    pub file_sha256: Option<String>,
    /// Its size.
    pub size: Option<i64>,
    /// What `kordon-verify`'s checks said of it when it was made: `holds`, or the
    /// failures, one a line.
    pub verdict: Option<String>,
    /// Downloads so far.
    pub downloads: i64,
}

/// The tables whose rows a background render finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renders {
    /// Redacted copies.
    Redactions,
    /// Shares' packages.
    Shares,
}

/// An officer's request that footage of his be preserved.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Preservation {
    /// Id.
    pub id: String,
    /// The officer (service number).
    pub officer: String,
    /// His crossing point.
    pub crossing_point: String,
    /// Start of the range, Unix ms.
    pub from_ms: i64,
    /// End of it.
    pub to_ms: i64,
    /// Why.
    pub reason: String,
    /// The user who asked.
    pub requested_by: String,
    /// When.
    pub requested_at: i64,
    /// `pending`, `approved` or `refused`.
    pub state: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<i64>,
    /// The decider's comment.
    pub comment: Option<String>,
    /// The case that holds the footage, once approved.
    pub case_id: Option<String>,
}

impl Meta {
    /// The cameras `officer` wore during `[from, to)`: his assignments overlapping it
    /// (through the `assignments_officer` index), at most 1000.
    ///
    /// # Errors
    /// Database errors.
    pub async fn worn_by(
        &self,
        officer: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<super::Assignment>, MetaError> {
        let rows = sqlx::query(
            "SELECT * FROM assignments WHERE officer = $1 AND start_ms < $3
               AND (end_ms IS NULL OR end_ms > $2) ORDER BY start_ms LIMIT 1000",
        )
        .bind(officer)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(super::Assignment::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The cases that hold an inspection `officer` worked (newest item first, at most
    /// 200): driven by the case items, few, each joined to the officer's inspections by
    /// their primary key.
    ///
    /// # Errors
    /// Database errors.
    pub async fn cases_naming(&self, officer: &str) -> Result<Vec<String>, MetaError> {
        Ok(sqlx::query_scalar(
            "SELECT ci.case_id FROM case_items ci
               JOIN inspection_officers io ON io.officer = $1 AND io.id = ci.inspection_id
              WHERE ci.kind = 'inspection'
              GROUP BY ci.case_id ORDER BY MAX(ci.added_at) DESC LIMIT 200",
        )
        .bind(officer)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores a redaction.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_redaction(&self, r: &RedactionRow) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO redactions (id, crossing_point, inspection_id, device_id, first_seq, last_seq, from_ms, to_ms, ops, ops_sha256, reason, created_by, created_at, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'rendering')",
        )
        .bind(&r.id)
        .bind(&r.crossing_point)
        .bind(&r.inspection_id)
        .bind(&r.device_id)
        .bind(r.first_seq)
        .bind(r.last_seq)
        .bind(r.from_ms)
        .bind(r.to_ms)
        .bind(&r.ops)
        .bind(&r.ops_sha256)
        .bind(&r.reason)
        .bind(&r.created_by)
        .bind(r.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A redaction rendered: its copy and `derive` event.
    ///
    /// # Errors
    /// Database errors.
    pub async fn redaction_ready(
        &self,
        id: &str,
        sha256: &str,
        size: i64,
        event: &str,
    ) -> Result<(), MetaError> {
        sqlx::query(
            "UPDATE redactions SET state = 'ready', result_sha256 = $1, size = $2, event_hash = $3 WHERE id = $4",
        )
        .bind(sha256)
        .bind(size)
        .bind(event)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A share's package written.
    ///
    /// # Errors
    /// Database errors.
    pub async fn share_ready(
        &self,
        id: &str,
        sha256: &str,
        size: i64,
        verdict: &str,
    ) -> Result<(), MetaError> {
        sqlx::query(
            "UPDATE shares SET state = 'ready', file_sha256 = $1, size = $2, verdict = $3 WHERE id = $4",
        )
            .bind(sha256)
            .bind(size)
            .bind(verdict)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A render that failed (`table` is `redactions` or `shares`), or — with no id — every
    /// render a restart interrupted.
    ///
    /// # Errors
    /// Database errors.
    pub async fn render_failed(
        &self,
        table: Renders,
        id: Option<&str>,
        error: &str,
    ) -> Result<u64, MetaError> {
        let (t, busy) = match table {
            Renders::Redactions => ("redactions", "rendering"),
            Renders::Shares => ("shares", "preparing"),
        };
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {t} SET state = 'failed', error = $1 WHERE state = '{busy}' AND ($2 IS NULL OR id = $2)"
        )))
        .bind(error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// A redaction by id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn redaction(&self, id: &str) -> Result<Option<RedactionRow>, MetaError> {
        Ok(sqlx::query("SELECT * FROM redactions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| RedactionRow::from_row(&r))
            .transpose()?)
    }

    /// The redactions made of an inspection's footage, newest first (at most 100).
    ///
    /// # Errors
    /// Database errors.
    pub async fn redactions_of(&self, inspection: &str) -> Result<Vec<RedactionRow>, MetaError> {
        let rows = sqlx::query(
            "SELECT * FROM redactions WHERE inspection_id = $1 ORDER BY created_at DESC LIMIT 100",
        )
        .bind(inspection)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(RedactionRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Stores a share.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_share(&self, s: &ShareRow) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO shares (id, crossing_point, redaction_id, case_id, recipient, purpose, code_sha256, created_by, created_at, expires_at, failures, state, downloads)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 'preparing', 0)",
        )
        .bind(&s.id)
        .bind(&s.crossing_point)
        .bind(&s.redaction_id)
        .bind(&s.case_id)
        .bind(&s.recipient)
        .bind(&s.purpose)
        .bind(&s.code_sha256)
        .bind(&s.created_by)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A share by id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn share(&self, id: &str) -> Result<Option<ShareRow>, MetaError> {
        Ok(sqlx::query("SELECT * FROM shares WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| ShareRow::from_row(&r))
            .transpose()?)
    }

    /// A page of shares, newest first: those created before `before` (Unix ms), at most
    /// `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn shares(
        &self,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ShareRow>, MetaError> {
        let rows = sqlx::query(
            "SELECT * FROM shares WHERE created_at < $1 ORDER BY created_at DESC LIMIT $2",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(ShareRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The shares of one redacted copy, newest first (at most 100).
    ///
    /// # Errors
    /// Database errors.
    pub async fn shares_of(&self, redaction: &str) -> Result<Vec<ShareRow>, MetaError> {
        let rows = sqlx::query(
            "SELECT * FROM shares WHERE redaction_id = $1 ORDER BY created_at DESC LIMIT 100",
        )
        .bind(redaction)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(ShareRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Records a wrong code; answers how many in a row.
    ///
    /// # Errors
    /// Database errors.
    pub async fn share_failed(&self, id: &str) -> Result<i64, MetaError> {
        Ok(sqlx::query_scalar(
            "UPDATE shares SET failures = failures + 1 WHERE id = $1 RETURNING failures",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Uses the one-time code: binds the recipient's session, once. Answers whether this
    /// call did it (the code was not used before).
    ///
    /// # Errors
    /// Database errors.
    pub async fn open_share(&self, id: &str, session: &str, now: i64) -> Result<bool, MetaError> {
        let done = sqlx::query(
            "UPDATE shares SET opened_at = $1, session_sha256 = $2, failures = 0
             WHERE id = $3 AND opened_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(session)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Counts a download.
    ///
    /// # Errors
    /// Database errors.
    pub async fn share_downloaded(&self, id: &str) -> Result<(), MetaError> {
        sqlx::query("UPDATE shares SET downloads = downloads + 1 WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes a share; answers whether it was live.
    ///
    /// # Errors
    /// Database errors.
    pub async fn revoke_share(&self, id: &str, by: &str, now: i64) -> Result<bool, MetaError> {
        let done = sqlx::query(
            "UPDATE shares SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Files a preservation request (state `pending`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_preservation(&self, p: &Preservation) -> Result<(), MetaError> {
        sqlx::query(
            "INSERT INTO preservation_requests (id, officer, crossing_point, from_ms, to_ms, reason, requested_by, requested_at, state)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending')",
        )
        .bind(&p.id)
        .bind(&p.officer)
        .bind(&p.crossing_point)
        .bind(p.from_ms)
        .bind(p.to_ms)
        .bind(&p.reason)
        .bind(&p.requested_by)
        .bind(p.requested_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A preservation request by id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn preservation(&self, id: &str) -> Result<Option<Preservation>, MetaError> {
        Ok(
            sqlx::query("SELECT * FROM preservation_requests WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| Preservation::from_row(&r))
                .transpose()?,
        )
    }

    /// A page of preservation requests, newest first: of one officer, or in one state;
    /// those filed before `before`, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn preservations(
        &self,
        officer: Option<&str>,
        state: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<Preservation>, MetaError> {
        let rows = sqlx::query(
            "SELECT * FROM preservation_requests
             WHERE ($1 IS NULL OR officer = $1) AND ($2 IS NULL OR state = $2) AND requested_at < $3
             ORDER BY requested_at DESC LIMIT $4",
        )
        .bind(officer)
        .bind(state)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(Preservation::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// Decides a pending request; answers whether it was pending.
    ///
    /// # Errors
    /// Database errors.
    pub async fn decide_preservation(
        &self,
        id: &str,
        state: &str,
        by: &str,
        comment: &str,
        case: Option<&str>,
        now: i64,
    ) -> Result<bool, MetaError> {
        let done = sqlx::query(
            "UPDATE preservation_requests SET state = $1, decided_by = $2, decided_at = $3, comment = $4, case_id = $5
             WHERE id = $6 AND state = 'pending'",
        )
        .bind(state)
        .bind(by)
        .bind(now)
        .bind(comment)
        .bind(case)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
