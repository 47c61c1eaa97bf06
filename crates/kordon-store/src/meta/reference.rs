//! Reference data: crossing points and officers.

use sqlx::Row as _;

use super::{Meta, MetaError};

/// A crossing point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossingPointRow {
    /// Code, e.g. `UA-KYIV-01`.
    pub code: String,
    /// Name in Ukrainian.
    pub name_uk: String,
    /// Name in Latin script.
    pub name_latin: String,
    /// IANA time zone.
    pub tz: String,
    /// Lanes.
    pub lanes: Vec<String>,
}

/// An officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerRow {
    /// Service number.
    pub service_no: String,
    /// Full name.
    pub name: String,
    /// Crossing point code.
    pub crossing_point: String,
}

impl Meta {
    /// Creates or changes a crossing point; returns whether anything changed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_crossing_point(
        &self,
        c: &CrossingPointRow,
        now: i64,
    ) -> Result<bool, MetaError> {
        if self.crossing_points().await?.iter().any(|x| x == c) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO crossing_points (code, name_uk, name_latin, tz, lanes, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (code) DO UPDATE SET name_uk = excluded.name_uk, name_latin = excluded.name_latin, tz = excluded.tz, lanes = excluded.lanes, updated_at = excluded.updated_at",
        )
        .bind(&c.code)
        .bind(&c.name_uk)
        .bind(&c.name_latin)
        .bind(&c.tz)
        .bind(c.lanes.join(";"))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Every crossing point, by code.
    ///
    /// # Errors
    /// Database errors.
    pub async fn crossing_points(&self) -> Result<Vec<CrossingPointRow>, MetaError> {
        let rows = sqlx::query("SELECT * FROM crossing_points ORDER BY code")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let lanes: String = r.try_get("lanes")?;
                Ok(CrossingPointRow {
                    code: r.try_get("code")?,
                    name_uk: r.try_get("name_uk")?,
                    name_latin: r.try_get("name_latin")?,
                    tz: r.try_get("tz")?,
                    lanes: lanes
                        .split(';')
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                })
            })
            .collect()
    }

    /// Creates or changes an officer; returns whether anything changed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn put_officer(&self, o: &OfficerRow, now: i64) -> Result<bool, MetaError> {
        if self.officers().await?.iter().any(|x| x == o) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO officers (service_no, name, crossing_point, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (service_no) DO UPDATE SET name = excluded.name, crossing_point = excluded.crossing_point, updated_at = excluded.updated_at",
        )
        .bind(&o.service_no)
        .bind(&o.name)
        .bind(&o.crossing_point)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Every officer, by service number.
    ///
    /// # Errors
    /// Database errors.
    pub async fn officers(&self) -> Result<Vec<OfficerRow>, MetaError> {
        let rows = sqlx::query("SELECT * FROM officers ORDER BY service_no")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(OfficerRow {
                    service_no: r.try_get("service_no")?,
                    name: r.try_get("name")?,
                    crossing_point: r.try_get("crossing_point")?,
                })
            })
            .collect()
    }
}
