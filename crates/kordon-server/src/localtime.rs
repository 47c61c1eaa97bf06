//! Times as people enter and read them: RFC 3339 in, the crossing point's local time out
//! (zone named). Stored and computed times are Unix milliseconds, UTC.

use std::collections::HashMap;

use kordon_core::time::Timestamp;

use crate::error::ApiError;
use crate::state::App;

/// Unix ms of an RFC 3339 time with an offset; the error names the field.
pub(crate) fn rfc3339(field: &str, v: &str) -> Result<i64, String> {
    let t = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{field} {v:?} is not RFC 3339 with an offset: {e}"))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// An instant in a zone, e.g. `2026-11-28T10:00:00+02:00[Europe/Kyiv]`.
pub(crate) fn local(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| Timestamp(ms).to_string(),
        |t| {
            t.to_zoned_datetime(tz.clone())
                .round(jiff::Unit::Second)
                .map_or_else(|_| Timestamp(ms).to_string(), |z| z.to_string())
        },
    )
}

/// The crossing points' time zones (UTC for one not in the reference data).
pub(crate) async fn zones(app: &App) -> Result<HashMap<String, jiff::tz::TimeZone>, ApiError> {
    let mut out = HashMap::new();
    for c in app.meta.crossing_points().await? {
        if let Ok(tz) = jiff::tz::TimeZone::get(&c.tz) {
            out.insert(c.code, tz);
        }
    }
    Ok(out)
}
