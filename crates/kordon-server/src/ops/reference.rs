//! Reference data: crossing points (names in Ukrainian and Latin script, IANA time zone,
//! lanes) and officers (service number, name, crossing point). Every change is a signed
//! custody event in the log.

use kordon_api::reference::{
    CrossingPoint, CrossingPointChanged, CrossingPointIn, CrossingPointList, Officer,
    OfficerChanged, OfficerIn, OfficerList,
};
use kordon_store::meta::{CrossingPointRow, OfficerRow};
use kordon_store::now_ms;

use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::state::App;

fn text(field: &'static str, v: &str, max: usize) -> Result<String, ApiError> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(
            "bad_request",
            format!("{field} must be 1-{max} characters"),
        ));
    }
    Ok(v.to_owned())
}

fn code(field: &'static str, v: &str) -> Result<String, ApiError> {
    let v = text(field, v, 64)?;
    if v.chars().any(char::is_whitespace) || v.contains(';') {
        return Err(ApiError::BadRequest(
            "bad_request",
            format!("{field} must not contain spaces or ';'"),
        ));
    }
    Ok(v)
}

/// Adds or changes a crossing point.
pub(crate) async fn put_crossing_point(
    app: &App,
    who: &Principal,
    c: &str,
    b: CrossingPointIn,
) -> Result<CrossingPointChanged, ApiError> {
    who.require(Op::ManageReference)?;
    if jiff::tz::TimeZone::get(&b.tz).is_err() {
        return Err(ApiError::BadRequest(
            "bad_tz",
            format!("{:?} is not an IANA time zone (e.g. Europe/Kyiv)", b.tz),
        ));
    }
    let row = CrossingPointRow {
        code: code("code", c)?,
        name_uk: text("name_uk", &b.name_uk, 200)?,
        name_latin: text("name_latin", &b.name_latin, 200)?,
        tz: b.tz,
        lanes: b
            .lanes
            .iter()
            .map(|l| code("lane", l))
            .collect::<Result<_, _>>()?,
    };
    let changed = app.meta.put_crossing_point(&row, now_ms()).await?;
    let mut log_index = None;
    if changed {
        let detail = format!(
            "{} / {} ({}), lanes {}",
            row.name_uk,
            row.name_latin,
            row.tz,
            row.lanes.join(",")
        );
        log_index = Some(
            app.custody(
                &who.name,
                "crossing-point-set",
                &format!("crossing-point {}", row.code),
                &detail,
            )
            .await?,
        );
    }
    Ok(CrossingPointChanged {
        code: row.code,
        changed,
        log_index,
    })
}

/// Every crossing point (reference data: no login needed).
pub(crate) async fn crossing_points(app: &App) -> Result<CrossingPointList, ApiError> {
    let rows = app.meta.crossing_points().await?;
    Ok(CrossingPointList {
        crossing_points: rows
            .into_iter()
            .map(|c| CrossingPoint {
                code: c.code,
                name_uk: c.name_uk,
                name_latin: c.name_latin,
                tz: c.tz,
                lanes: c.lanes,
            })
            .collect(),
    })
}

/// Adds or changes an officer.
pub(crate) async fn put_officer(
    app: &App,
    who: &Principal,
    n: &str,
    b: OfficerIn,
) -> Result<OfficerChanged, ApiError> {
    who.require(Op::ManageReference)?;
    if !app
        .meta
        .crossing_points()
        .await?
        .iter()
        .any(|c| c.code == b.crossing_point)
    {
        return Err(ApiError::BadRequest(
            "unknown_crossing_point",
            format!("no crossing point {:?}", b.crossing_point),
        ));
    }
    let row = OfficerRow {
        service_no: code("service_no", n)?,
        name: text("name", &b.name, 200)?,
        crossing_point: b.crossing_point,
    };
    let changed = app.meta.put_officer(&row, now_ms()).await?;
    let mut log_index = None;
    if changed {
        let detail = format!("{} at {}", row.name, row.crossing_point);
        log_index = Some(
            app.custody(
                &who.name,
                "officer-set",
                &format!("officer {}", row.service_no),
                &detail,
            )
            .await?,
        );
    }
    Ok(OfficerChanged {
        service_no: row.service_no,
        changed,
        log_index,
    })
}

/// Every officer.
pub(crate) async fn officers(app: &App, who: &Principal) -> Result<OfficerList, ApiError> {
    who.require(Op::ViewDashboard)?;
    let rows = app.meta.officers().await?;
    Ok(OfficerList {
        officers: rows
            .into_iter()
            .filter(|o| who.sees_crossing_point(&o.crossing_point))
            .map(|o| Officer {
                service_no: o.service_no,
                name: o.name,
                crossing_point: o.crossing_point,
            })
            .collect(),
    })
}
