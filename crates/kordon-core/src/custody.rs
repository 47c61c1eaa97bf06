//! Custody events (`kordon.custody/v1`): what people and services did with evidence —
//! enrollment, assignment and return of cameras, revocations, views, exports, holds.
//! The server signs each with its log key and appends it to the log, so custody is as
//! tamper-evident as the footage. Normative text: `docs/spec/custody.md`.

use crate::link::{LinkError, is_valid_device_id};
use crate::time::Timestamp;

/// First line of a custody event.
pub const CUSTODY_V1: &str = "kordon.custody/v1";
/// Longest value of a custody field.
pub const MAX_FIELD_BYTES: usize = 512;

/// A custody event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Custody {
    /// When it happened, UTC.
    pub time: Timestamp,
    /// Who did it (user name, service, device id).
    pub actor: String,
    /// What was done: a lowercase word with `-` (`enroll`, `assign`, `return`, `revoke`, `view`, ...).
    pub action: String,
    /// What it was done to (e.g. `device cam-01`, `segment <sha256>`).
    pub subject: String,
    /// Further detail.
    pub detail: String,
}

fn check(field: &'static str, v: &str) -> Result<(), LinkError> {
    if v.is_empty() || v.len() > MAX_FIELD_BYTES || v.trim() != v || v.contains('\n') {
        return Err(LinkError::BadValue {
            field,
            reason: "must be 1-512 bytes on one line without leading or trailing space".into(),
        });
    }
    Ok(())
}

impl Custody {
    /// The note text.
    ///
    /// # Errors
    /// [`LinkError::BadValue`] for a field that cannot be written.
    pub fn to_text(&self) -> Result<String, LinkError> {
        if !is_valid_device_id(&self.actor) && self.actor.chars().any(char::is_whitespace) {
            return Err(LinkError::BadValue {
                field: "actor",
                reason: "must not contain spaces".into(),
            });
        }
        for (f, v) in [
            ("actor", &self.actor),
            ("subject", &self.subject),
            ("detail", &self.detail),
        ] {
            check(f, v)?;
        }
        if self.action.is_empty()
            || !self
                .action
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-')
        {
            return Err(LinkError::BadValue {
                field: "action",
                reason: "must be lowercase letters and '-'".into(),
            });
        }
        let time = self.time.format().map_err(|e| LinkError::BadValue {
            field: "time",
            reason: e.to_string(),
        })?;
        Ok(format!(
            "{CUSTODY_V1}\ntime: {time}\nactor: {}\naction: {}\nsubject: {}\ndetail: {}\n",
            self.actor, self.action, self.subject, self.detail
        ))
    }

    /// Parses a custody note text strictly (fixed field order, canonical values).
    ///
    /// # Errors
    /// [`LinkError`] naming the line or field.
    pub fn parse(text: &str) -> Result<Self, LinkError> {
        let body = text.strip_suffix('\n').ok_or(LinkError::MissingField {
            line: 1,
            expected: "version",
        })?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.first() != Some(&CUSTODY_V1) {
            return Err(LinkError::UnknownVersion(
                lines.first().unwrap_or(&"").chars().take(64).collect(),
            ));
        }
        let keys = ["time", "actor", "action", "subject", "detail"];
        if lines.len() > keys.len() + 1 {
            return Err(LinkError::TrailingLine(keys.len() + 2));
        }
        let mut vals = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let line = lines.get(i + 1).ok_or(LinkError::MissingField {
                line: i + 2,
                expected: key,
            })?;
            let v = line
                .strip_prefix(key)
                .and_then(|r| r.strip_prefix(": "))
                .ok_or(LinkError::MissingField {
                    line: i + 2,
                    expected: key,
                })?;
            vals.push(v);
        }
        let time = Timestamp::parse(vals[0]).map_err(|e| LinkError::BadValue {
            field: "time",
            reason: e.to_string(),
        })?;
        let c = Custody {
            time,
            actor: vals[1].to_owned(),
            action: vals[2].to_owned(),
            subject: vals[3].to_owned(),
            detail: vals[4].to_owned(),
        };
        if c.to_text()? != text {
            return Err(LinkError::BadValue {
                field: "custody",
                reason: "not in canonical form".into(),
            });
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let c = Custody {
            time: Timestamp(1_795_849_200_000),
            actor: "supervisor-ua-kyiv".into(),
            action: "assign".into(),
            subject: "device cam-01".into(),
            detail: "officer 1234 at UA-KYIV".into(),
        };
        let text = c.to_text().expect("text");
        assert_eq!(Custody::parse(&text), Ok(c.clone()));
        assert!(Custody::parse(&text.replace("action: assign", "action: Assign")).is_err());
        assert!(Custody::parse(&text.replace("detail: ", "detail:  ")).is_err());
        assert!(Custody::parse(&format!("{text}x: y\n")).is_err());
        let bad = Custody {
            actor: "two words".into(),
            ..c
        };
        assert!(bad.to_text().is_err());
    }
}
