//! Links (segment manifests and device events): insert once per (device, seq), read back,
//! keep refused twins as evidence; and the bookkeeping of what the log holds (custody
//! events, log indexes, entries not yet confirmed by the log).

use sqlx::FromRow as _;
use sqlx::Row as _;

use kordon_core::chain::ChainOptions;
use kordon_core::link::{Link, LinkBody};

use super::{Engine, Meta, MetaError, chain, inspections};

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredLink {
    /// Link hash (hex).
    pub hash: String,
    /// The exact signed note.
    pub body: Vec<u8>,
    /// Position in the log, once integrated.
    pub log_index: Option<i64>,
}

/// A link to insert: verified by the caller against its device's key.
#[derive(Debug, Clone, Copy)]
pub struct NewLink<'a> {
    /// The link.
    pub link: &'a Link,
    /// The log's published size when the link is stored (its entry can only be at or
    /// above it).
    pub log_floor: u64,
    /// How the device's chain state is checked as the link is folded in.
    pub chain: ChainOptions,
}

/// What inserting a link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    /// New link stored.
    Inserted,
    /// The identical link was already stored (a retry).
    Duplicate(StoredLink),
    /// A different link holds this sequence number: equivocation.
    Conflict(StoredLink),
}

/// A log entry the database knows of but the log has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlogged {
    /// Entry hash, hex.
    pub hash: String,
    /// The entry bytes.
    pub body: Vec<u8>,
    /// The log's size when it was stored: if the log has it, it is at or above this
    /// index (0 for rows stored before this was recorded).
    pub log_floor: u64,
}

/// A stored link with what an export needs.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkRow {
    /// Device.
    pub device_id: String,
    /// Sequence number.
    #[sqlx(try_from = "i64")]
    pub seq: u64,
    /// Link hash, hex.
    pub hash: String,
    /// `segment` or the event kind.
    pub kind: String,
    /// Start, Unix ms.
    pub start_ms: i64,
    /// End, Unix ms.
    pub end_ms: i64,
    /// Blob hash of a segment, hex.
    pub blob_sha256: Option<String>,
    /// Segment size.
    pub size: Option<i64>,
    /// The exact signed note.
    pub body: Vec<u8>,
    /// Position in the log.
    pub log_index: Option<i64>,
    /// When it was received.
    pub received_at: i64,
    /// When its bytes were purged by retention.
    pub purged_at: Option<i64>,
    /// Hash of the tombstone custody event.
    pub tombstone: Option<String>,
}

/// A custody event to store ([`Meta::insert_custody`]).
#[derive(Debug, Clone, Copy)]
pub struct NewCustody<'a> {
    /// SHA-256 of the signed note, hex.
    pub hash: &'a str,
    /// Its action.
    pub action: &'a str,
    /// Its whole subject (the database's, which may name a person).
    pub subject: &'a str,
    /// The signed note, as logged.
    pub body: &'a [u8],
    /// The private part a version 2 note commits to.
    pub private: Option<&'a str>,
    /// When it was stored, Unix ms.
    pub created_at: i64,
    /// The log's published size now: its entry will be at or above it.
    pub log_floor: u64,
}

impl Meta {
    /// Every link of `device` from the first to the last that overlaps `[from, to)` (an
    /// event: whose time is in it), so
    /// that continuity across the range (events and gaps included) can be proven.
    ///
    /// # Errors
    /// Database errors.
    pub async fn links_covering(
        &self,
        device: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<LinkRow>, MetaError> {
        // No link of the device is longer than its longest: one overlapping the range
        // starts at or after `from - longest`.
        let longest: Option<i64> =
            sqlx::query_scalar("SELECT max_span_ms FROM devices WHERE id = $1")
                .bind(device)
                .fetch_optional(&self.pool)
                .await?;
        let rows = sqlx::query(
            "SELECT * FROM links WHERE device_id = $1 AND seq BETWEEN
               (SELECT MIN(seq) FROM links WHERE device_id = $1 AND start_ms >= $4 AND start_ms < $3 AND (end_ms > $2 OR (end_ms = start_ms AND start_ms >= $2)))
               AND (SELECT MAX(seq) FROM links WHERE device_id = $1 AND start_ms >= $4 AND start_ms < $3 AND (end_ms > $2 OR (end_ms = start_ms AND start_ms >= $2)))
             ORDER BY seq",
        )
        .bind(device)
        .bind(from)
        .bind(to)
        .bind(from.saturating_sub(longest.unwrap_or(0)))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(LinkRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The link stored under `(device, seq)`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn link(&self, device_id: &str, seq: u64) -> Result<Option<StoredLink>, MetaError> {
        let row = sqlx::query(
            "SELECT hash, body, log_index FROM links WHERE device_id = $1 AND seq = $2",
        )
        .bind(device_id)
        .bind(seq as i64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(StoredLink::from_row).transpose()?)
    }

    /// Inserts a link unless its sequence number is taken, and folds it into its
    /// device's chain state in the same transaction (`meta::chain`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_link(&self, l: &NewLink<'_>, now: i64) -> Result<InsertOutcome, MetaError> {
        let b = l.link.body();
        let (kind, blob, size, night, attested) = match b {
            LinkBody::Segment(s) => (
                "segment",
                Some(s.sha256.to_hex()),
                Some(s.size as i64),
                Some(i64::from(s.night)),
                Some(s.attested.as_str()),
            ),
            LinkBody::Event(e) => (e.kind.as_str(), None, None, None, None),
        };
        let hash = l.link.hash().to_hex();
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(match self.engine {
            Engine::Sqlite => "INSERT INTO links (device_id, seq, hash, kind, start_ms, end_ms, blob_sha256, size, night, attested, body, received_at, log_floor)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING",
            // The keys table holds the uniqueness the partitioned table cannot.
            Engine::Postgres => "WITH k AS (INSERT INTO link_keys (device_id, seq, hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1)
             INSERT INTO links (device_id, seq, hash, kind, start_ms, end_ms, blob_sha256, size, night, attested, body, received_at, log_floor)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM k",
        })
        .bind(b.device())
        .bind(b.seq() as i64)
        .bind(&hash)
        .bind(kind)
        .bind(b.start().0)
        .bind(b.end().0)
        .bind(blob)
        .bind(size)
        .bind(night)
        .bind(attested)
        .bind(l.link.bytes())
        .bind(now)
        .bind(l.log_floor as i64)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 1 {
            let (from, to) = chain::fold(&mut tx, l.link, now, &l.chain).await?;
            inspections::invalidate_device(&mut tx, b.device(), from, to).await?;
            sqlx::query("UPDATE devices SET max_span_ms = $2 WHERE id = $1 AND max_span_ms < $2")
                .bind(b.device())
                .bind(b.end().0.saturating_sub(b.start().0))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(InsertOutcome::Inserted);
        }
        drop(tx);
        match self.link(b.device(), b.seq()).await? {
            Some(existing) if existing.hash == hash => Ok(InsertOutcome::Duplicate(existing)),
            Some(existing) => Ok(InsertOutcome::Conflict(existing)),
            // The same bytes under another (device, seq) cannot happen: the hash covers both.
            None => Err(MetaError::Db(sqlx::Error::RowNotFound)),
        }
    }

    /// Keeps a refused, conflicting link as evidence (idempotent); answers whether it was
    /// new.
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_equivocation(
        &self,
        device_id: &str,
        seq: u64,
        hash: &str,
        body: &[u8],
        now: i64,
    ) -> Result<bool, MetaError> {
        let mut tx = self.write_tx().await?;
        let new = sqlx::query("INSERT INTO equivocations (device_id, seq, hash, body, received_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
            .bind(device_id)
            .bind(seq as i64)
            .bind(hash)
            .bind(body)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if new == 1 {
            chain::fold_equivocation(&mut tx, device_id, seq, hash).await?;
        }
        tx.commit().await?;
        Ok(new == 1)
    }

    /// The latest `limit` equivocations of a device as `(seq, hash)`, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn equivocations(
        &self,
        device_id: &str,
        limit: u32,
    ) -> Result<Vec<(u64, String)>, MetaError> {
        let rows = sqlx::query(
            "SELECT seq, hash FROM equivocations WHERE device_id = $1
             ORDER BY seq DESC, received_at DESC LIMIT $2",
        )
        .bind(device_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .rev()
            .map(|r| Ok((r.try_get::<i64, _>("seq")? as u64, r.try_get("hash")?)))
            .collect()
    }

    /// Stores a custody event note.
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_custody(&self, c: &NewCustody<'_>) -> Result<(), MetaError> {
        sqlx::query("INSERT INTO custody (hash, action, subject, body, created_at, log_floor, subject_key, private) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING")
            .bind(c.hash)
            .bind(c.action)
            .bind(c.subject)
            .bind(c.body)
            .bind(c.created_at)
            .bind(c.log_floor as i64)
            .bind(super::cases::subject_key(c.subject))
            .bind(c.private)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records where the log put an entry (a link or a custody event).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_log_index(&self, hash: &str, index: u64) -> Result<(), MetaError> {
        for sql in [
            "UPDATE links SET log_index = $1 WHERE hash = $2 AND log_index IS NULL",
            "UPDATE custody SET log_index = $1 WHERE hash = $2 AND log_index IS NULL",
        ] {
            sqlx::query(sql)
                .bind(index as i64)
                .bind(hash)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The log index of a link or custody event by its hash (hex).
    ///
    /// # Errors
    /// Database errors.
    pub async fn log_index_of(&self, hash: &str) -> Result<Option<u64>, MetaError> {
        let r = sqlx::query(
            "SELECT log_index FROM links WHERE hash = $1 AND log_index IS NOT NULL
             UNION ALL SELECT log_index FROM custody WHERE hash = $2 AND log_index IS NOT NULL",
        )
        .bind(hash)
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(r.map(|r| r.try_get::<i64, _>("log_index"))
            .transpose()?
            .map(|i| i as u64))
    }

    /// Entries stored but not yet confirmed by the log, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn unlogged(&self) -> Result<Vec<Unlogged>, MetaError> {
        let rows = sqlx::query(
            "SELECT hash, body, log_floor, received_at AS t FROM links WHERE log_index IS NULL
             UNION ALL SELECT hash, body, log_floor, created_at AS t FROM custody WHERE log_index IS NULL ORDER BY t",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Unlogged {
                    hash: r.try_get("hash")?,
                    body: r.try_get("body")?,
                    log_floor: r
                        .try_get::<Option<i64>, _>("log_floor")?
                        .map_or(0, |f| f.max(0) as u64),
                })
            })
            .collect()
    }

    /// The highest log index the database has recorded, if any.
    ///
    /// # Errors
    /// Database errors.
    pub async fn max_log_index(&self) -> Result<Option<u64>, MetaError> {
        let r = sqlx::query("SELECT MAX(i) AS m FROM (SELECT MAX(log_index) AS i FROM links UNION ALL SELECT MAX(log_index) AS i FROM custody) AS t")
            .fetch_one(&self.pool)
            .await?;
        Ok(r.try_get::<Option<i64>, _>("m")?.map(|v| v as u64))
    }
}
