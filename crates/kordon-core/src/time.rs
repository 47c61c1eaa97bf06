//! UTC instants with millisecond precision, written `YYYY-MM-DDTHH:MM:SS.mmmZ`.
//!
//! This is the only time format inside kordon's signed notes: RFC 3339 restricted to UTC
//! (`Z`), exactly three fractional digits, years 0000–9999. One instant has one spelling,
//! so a signed note has one byte form. This module converts; it never reads a clock.

use std::fmt;

use ::time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Milliseconds since 1970-01-01T00:00:00.000Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(pub i64);

/// Why a timestamp string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Not of the shape `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    #[error("expected UTC time as YYYY-MM-DDTHH:MM:SS.mmmZ")]
    Shape,
    /// The shape is right but the date or time does not exist (e.g. February 30).
    #[error("no such date or time")]
    Invalid,
    /// Outside the years 0000–9999.
    #[error("time outside the years 0000-9999")]
    OutOfRange,
}

impl Timestamp {
    /// Parses the one accepted spelling.
    ///
    /// # Errors
    /// [`TimeError`] naming what is wrong.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let b = s.as_bytes();
        const SHAPE: &[u8; 24] = b"dddd-dd-ddTdd:dd:dd.dddZ";
        if b.len() != SHAPE.len() {
            return Err(TimeError::Shape);
        }
        for (c, want) in b.iter().zip(SHAPE) {
            let ok = if *want == b'd' {
                c.is_ascii_digit()
            } else {
                c == want
            };
            if !ok {
                return Err(TimeError::Shape);
            }
        }
        let num = |r: std::ops::Range<usize>| -> u32 {
            b[r].iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
        };
        let year = num(0..4) as i32;
        let month = Month::try_from(num(5..7) as u8).map_err(|_| TimeError::Invalid)?;
        let date = Date::from_calendar_date(year, month, num(8..10) as u8)
            .map_err(|_| TimeError::Invalid)?;
        let time = Time::from_hms_milli(
            num(11..13) as u8,
            num(14..16) as u8,
            num(17..19) as u8,
            num(20..23) as u16,
        )
        .map_err(|_| TimeError::Invalid)?;
        let dt = PrimitiveDateTime::new(date, time).assume_utc();
        Ok(Timestamp((dt.unix_timestamp_nanos() / 1_000_000) as i64))
    }

    /// The UTC date and time, or `None` outside the years 0000–9999.
    pub fn to_datetime(self) -> Option<OffsetDateTime> {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000).ok()?;
        (0..=9999).contains(&dt.year()).then_some(dt)
    }

    /// The canonical spelling.
    ///
    /// # Errors
    /// [`TimeError::OutOfRange`] outside the years 0000–9999.
    pub fn format(self) -> Result<String, TimeError> {
        let dt = self
            .to_datetime()
            .ok_or(TimeError::OutOfRange)?
            .to_offset(UtcOffset::UTC);
        Ok(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        ))
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.format() {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "@{}ms", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_one_spelling() {
        let t = Timestamp::parse("2026-11-28T18:01:30.250Z").expect("valid");
        assert_eq!(t.0, 1_795_888_890_250);
        assert_eq!(t.format().expect("in range"), "2026-11-28T18:01:30.250Z");
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00.000Z"),
            Ok(Timestamp(0))
        );
        assert_eq!(
            Timestamp(-1).format().expect("in range"),
            "1969-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn refuses_other_spellings() {
        for bad in [
            "2026-11-28T18:01:30Z",
            "2026-11-28T18:01:30.25Z",
            "2026-11-28T18:01:30.250+00:00",
            "2026-11-28 18:01:30.250Z",
            "2026-11-28t18:01:30.250z",
            "+2026-11-28T18:01:30.250Z",
            "２026-11-28T18:01:30.250Z",
        ] {
            assert_eq!(Timestamp::parse(bad), Err(TimeError::Shape), "{bad}");
        }
        for bad in [
            "2026-02-30T00:00:00.000Z",
            "2026-13-01T00:00:00.000Z",
            "2026-11-28T24:00:00.000Z",
            "2026-11-28T23:60:00.000Z",
            "2026-12-31T23:59:60.000Z",
        ] {
            assert_eq!(Timestamp::parse(bad), Err(TimeError::Invalid), "{bad}");
        }
        assert_eq!(Timestamp(i64::MAX).format(), Err(TimeError::OutOfRange));
    }
}
