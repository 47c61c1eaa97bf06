//! PostgreSQL time partitions of `links`: one per calendar month (UTC) of `start_ms`,
//! created ahead of time so that a year of segment rows is a dozen tables whose indexes
//! each fit in memory, and a query over a shift or a day touches one or two of them.

use sqlx::Executor as _;

use super::{Engine, Meta, MetaError};

/// Months before and after now that always have their partition.
const MONTHS_BEHIND: i32 = 1;
const MONTHS_AHEAD: i32 = 2;

/// The month `[start, end)` in Unix ms containing `ms`, shifted by `offset` months, and its
/// partition name `links_pYYYYMM`.
fn month(ms: i64, offset: i32) -> Result<(String, i64, i64), MetaError> {
    let bad = |e: jiff::Error| MetaError::Invalid(format!("partition month: {e}"));
    let t = jiff::Timestamp::from_millisecond(ms).map_err(bad)?;
    let first = t
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .first_of_month()
        .checked_add(jiff::Span::new().months(offset))
        .map_err(bad)?;
    let next = first
        .checked_add(jiff::Span::new().months(1))
        .map_err(bad)?;
    let at = |d: jiff::civil::Date| -> Result<i64, MetaError> {
        Ok(d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map_err(bad)?
            .timestamp()
            .as_millisecond())
    };
    Ok((
        format!("links_p{:04}{:02}", first.year(), first.month()),
        at(first)?,
        at(next)?,
    ))
}

impl Meta {
    /// On PostgreSQL, makes sure the monthly partitions of `links` around `now` exist (a
    /// month back, two ahead); rows already in the default partition for a month being
    /// created are moved into it in the same transaction. Nothing to do on SQLite.
    ///
    /// # Errors
    /// Database errors.
    pub async fn ensure_partitions(&self, now: i64) -> Result<(), MetaError> {
        let (_, from, _) = month(now, -MONTHS_BEHIND)?;
        let (_, _, to) = month(now, MONTHS_AHEAD)?;
        self.ensure_partitions_between(from, to - 1).await
    }

    /// On PostgreSQL, makes sure every month from the one holding `from_ms` to the one
    /// holding `to_ms` has its partition (see [`Meta::ensure_partitions`]).
    ///
    /// # Errors
    /// Database errors.
    pub async fn ensure_partitions_between(
        &self,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<(), MetaError> {
        if self.engine != Engine::Postgres {
            return Ok(());
        }
        let mut at = from_ms;
        while at <= to_ms {
            let (name, from, to) = month(at, 0)?;
            at = to;
            let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                .bind(&name)
                .fetch_one(&self.pool)
                .await?;
            if exists {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            // One creator at a time; another server may be doing the same.
            tx.execute("LOCK TABLE links_default IN ACCESS EXCLUSIVE MODE")
                .await?;
            let range = format!("start_ms >= {from} AND start_ms < {to}");
            tx.execute(sqlx::AssertSqlSafe(format!(
                "CREATE TEMP TABLE moving ON COMMIT DROP AS SELECT * FROM links_default WHERE {range};
                 DELETE FROM links_default WHERE {range};
                 CREATE TABLE IF NOT EXISTS {name} PARTITION OF links FOR VALUES FROM ({from}) TO ({to});
                 INSERT INTO links SELECT * FROM moving;"
            )))
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::month;

    #[test]
    fn months_are_utc_calendar_months() {
        // 2026-11-28T23:00:00Z
        let now = 1_795_906_800_000;
        let (name, from, to) = month(now, 0).expect("month");
        assert_eq!(name, "links_p202611");
        assert_eq!(from, 1_793_491_200_000); // 2026-11-01T00:00:00Z
        assert_eq!(to, 1_796_083_200_000); // 2026-12-01T00:00:00Z
        assert_eq!(month(now, 2).expect("month").0, "links_p202701");
        assert_eq!(month(now, -11).expect("month").0, "links_p202512");
    }
}
