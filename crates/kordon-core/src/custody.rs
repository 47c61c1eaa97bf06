//! Custody events: what people and services did with evidence — enrollment, assignment
//! and return of cameras, revocations, views, exports, holds. The server signs each with
//! its log key and appends it to the log, so custody is as tamper-evident as the footage.
//!
//! Version 1 (`kordon.custody/v1`, [`Custody`]) put the whole event into the public log.
//! Version 2 ([`Sealed`]) puts there only what an outsider needs — time, action, subject
//! ids, the details that are public evidence themselves — and a salted SHA-256 commitment
//! to the rest (actor, full subject, detail), which stays in the server's database as the
//! private part and is opened in evidence packages ([`Sealed::open`]). Both versions stay
//! valid ([`Event`]). Normative text: `docs/spec/custody.md`.

use crate::hash::{Hash, sha256};
use crate::link::{LinkError, is_valid_device_id};
use crate::time::Timestamp;

/// First line of a version 1 custody event.
pub const CUSTODY_V1: &str = "kordon.custody/v1";
/// First line of a version 2 custody event (the public entry).
pub const CUSTODY_V2: &str = "kordon.custody/v2";
/// First line of a version 2 event's private part.
pub const CUSTODY_PRIVATE_V2: &str = "kordon.custody-private/v2";
/// The actions whose detail is public evidence itself and is kept in the public entry
/// of version 2 (`public:`): a device's key, what retention or the scrubber did to a
/// segment, an equivocation's two hashes, an export's contents digest, a crossing
/// point's checkpoint, a count, a derived file's sources and result. Every other detail is only in the private part.
pub const PUBLIC_DETAIL_ACTIONS: &[&str] = &[
    "enroll",
    "tombstone",
    "quarantine",
    "equivocation",
    "case-export",
    "edge-checkpoint",
    "chain-recheck",
    "derive",
];
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
        let vals = fields(
            text,
            CUSTODY_V1,
            &["time", "actor", "action", "subject", "detail"],
        )?;
        let time = parse_time(vals[0])?;
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

/// The `key: value` lines of `text` after its `version` line, in exactly this order.
fn fields<'a>(
    text: &'a str,
    version: &str,
    keys: &[&'static str],
) -> Result<Vec<&'a str>, LinkError> {
    let body = text.strip_suffix('\n').ok_or(LinkError::MissingField {
        line: 1,
        expected: "version",
    })?;
    let lines: Vec<&str> = body.split('\n').collect();
    if lines.first() != Some(&version) {
        return Err(LinkError::UnknownVersion(
            lines.first().unwrap_or(&"").chars().take(64).collect(),
        ));
    }
    if lines.len() > keys.len() + 1 {
        return Err(LinkError::TrailingLine(keys.len() + 2));
    }
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            lines
                .get(i + 1)
                .and_then(|line| line.strip_prefix(key))
                .and_then(|r| r.strip_prefix(": "))
                .ok_or(LinkError::MissingField {
                    line: i + 2,
                    expected: key,
                })
        })
        .collect()
}

fn parse_time(v: &str) -> Result<Timestamp, LinkError> {
    Timestamp::parse(v).map_err(|e| LinkError::BadValue {
        field: "time",
        reason: e.to_string(),
    })
}

fn canonical<T>(made: Result<String, LinkError>, text: &str, value: T) -> Result<T, LinkError> {
    if made? != text {
        return Err(LinkError::BadValue {
            field: "custody",
            reason: "not in canonical form".into(),
        });
    }
    Ok(value)
}

/// The subject as a version 2 public entry shows it: a subject that names a person
/// (`user <name>`, `officer <service number>`) by an opaque id instead — `u-` or `o-` and
/// the first 16 hex digits of SHA-256(`key` ‖ subject), with a `key` only the server
/// holds, so the same person has the same id in every entry and nobody can compute it
/// from a name. Every other subject (devices, segments, cases, inspections, crossing
/// points) is kept as it is.
pub fn public_subject(subject: &str, key: &[u8; 32]) -> String {
    let opaque = |kind: &str, tag: &str| {
        let h = crate::hash::sha256_parts(&[key, subject.as_bytes()]).to_hex();
        format!("{kind} {tag}-{}", &h[..16])
    };
    if subject.starts_with("user ") {
        opaque("user", "u")
    } else if subject.starts_with("officer ") {
        opaque("officer", "o")
    } else {
        subject.to_owned()
    }
}

/// The public entry of a version 2 custody event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// When it happened, UTC.
    pub time: Timestamp,
    /// What was done (as in version 1).
    pub action: String,
    /// What it was done to, by identifiers that name no person.
    pub subject: String,
    /// The detail, for the [`PUBLIC_DETAIL_ACTIONS`] only.
    pub public: Option<String>,
    /// SHA-256 of the private part.
    pub commit: Hash,
}

impl Custody {
    /// Seals the event as version 2: answers the public entry's note text and the private
    /// part. `public_subject` is the subject by identifiers that name no person (the full
    /// one goes into the private part); `salt` must be fresh random bytes per event (it
    /// keeps anyone from testing a guess against the commitment).
    ///
    /// # Errors
    /// [`LinkError::BadValue`] for a field that cannot be written.
    pub fn seal(
        &self,
        public_subject: &str,
        salt: [u8; 32],
    ) -> Result<(String, String), LinkError> {
        self.to_text()?;
        let private = format!(
            "{CUSTODY_PRIVATE_V2}\nsalt: {}\nactor: {}\nsubject: {}\ndetail: {}\n",
            Hash(salt).to_hex(),
            self.actor,
            self.subject,
            self.detail
        );
        let sealed = Sealed {
            time: self.time,
            action: self.action.clone(),
            subject: public_subject.to_owned(),
            public: PUBLIC_DETAIL_ACTIONS
                .contains(&self.action.as_str())
                .then(|| self.detail.clone()),
            commit: sha256(private.as_bytes()),
        };
        Ok((sealed.to_text()?, private))
    }
}

impl Sealed {
    /// The note text.
    ///
    /// # Errors
    /// [`LinkError::BadValue`] for a field that cannot be written.
    pub fn to_text(&self) -> Result<String, LinkError> {
        check("subject", &self.subject)?;
        let time = self.time.format().map_err(|e| LinkError::BadValue {
            field: "time",
            reason: e.to_string(),
        })?;
        // The action's own rules are version 1's.
        Custody {
            time: self.time,
            actor: "-".into(),
            action: self.action.clone(),
            subject: self.subject.clone(),
            detail: "-".into(),
        }
        .to_text()?;
        let public = match &self.public {
            Some(p) => {
                check("public", p)?;
                format!("public: {p}\n")
            }
            None => String::new(),
        };
        Ok(format!(
            "{CUSTODY_V2}\ntime: {time}\naction: {}\nsubject: {}\n{public}commit: {}\n",
            self.action,
            self.subject,
            self.commit.to_hex()
        ))
    }

    /// Parses a public entry strictly (fixed field order, canonical values).
    ///
    /// # Errors
    /// [`LinkError`] naming the line or field.
    pub fn parse(text: &str) -> Result<Self, LinkError> {
        let with_public = text
            .split('\n')
            .nth(4)
            .is_some_and(|l| l.starts_with("public: "));
        let vals = if with_public {
            fields(
                text,
                CUSTODY_V2,
                &["time", "action", "subject", "public", "commit"],
            )?
        } else {
            fields(text, CUSTODY_V2, &["time", "action", "subject", "commit"])?
        };
        let commit = Hash::from_hex(vals[vals.len() - 1]).map_err(|e| LinkError::BadValue {
            field: "commit",
            reason: e.to_string(),
        })?;
        let s = Sealed {
            time: parse_time(vals[0])?,
            action: vals[1].to_owned(),
            subject: vals[2].to_owned(),
            public: with_public.then(|| vals[3].to_owned()),
            commit,
        };
        canonical(s.to_text(), text, s)
    }

    /// Opens the entry with its private part: checks the commitment and answers the
    /// whole event (actor, full subject and detail from the private part).
    ///
    /// # Errors
    /// [`LinkError::BadValue`] if the private part is not the one committed to, not in
    /// canonical form, or its detail differs from the public one.
    pub fn open(&self, private: &str) -> Result<Custody, LinkError> {
        if sha256(private.as_bytes()) != self.commit {
            return Err(LinkError::BadValue {
                field: "commit",
                reason: "the private part is not the one the log entry commits to".into(),
            });
        }
        let vals = fields(
            private,
            CUSTODY_PRIVATE_V2,
            &["salt", "actor", "subject", "detail"],
        )?;
        let c = Custody {
            time: self.time,
            actor: vals[1].to_owned(),
            action: self.action.clone(),
            subject: vals[2].to_owned(),
            detail: vals[3].to_owned(),
        };
        if self.public.as_ref().is_some_and(|p| *p != c.detail) {
            return Err(LinkError::BadValue {
                field: "public",
                reason: "the public detail differs from the committed one".into(),
            });
        }
        let salt = Hash::from_hex(vals[0]).map_err(|e| LinkError::BadValue {
            field: "salt",
            reason: e.to_string(),
        })?;
        let remade = c.seal(&self.subject, salt.0).map(|(_, p)| p);
        canonical(remade, private, c)
    }
}

/// A custody event of either version, as read from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The whole event, public.
    V1(Custody),
    /// The public entry; the rest is committed to.
    V2(Sealed),
}

impl Event {
    /// Parses a custody note text of either version.
    ///
    /// # Errors
    /// [`LinkError`] naming the line or field.
    pub fn parse(text: &str) -> Result<Self, LinkError> {
        if text.starts_with(&format!("{CUSTODY_V2}\n")) {
            Sealed::parse(text).map(Event::V2)
        } else {
            Custody::parse(text).map(Event::V1)
        }
    }

    /// When it happened.
    pub fn time(&self) -> Timestamp {
        match self {
            Event::V1(c) => c.time,
            Event::V2(s) => s.time,
        }
    }

    /// What was done.
    pub fn action(&self) -> &str {
        match self {
            Event::V1(c) => &c.action,
            Event::V2(s) => &s.action,
        }
    }

    /// The subject as the log shows it.
    pub fn subject(&self) -> &str {
        match self {
            Event::V1(c) => &c.subject,
            Event::V2(s) => &s.subject,
        }
    }

    /// The detail as the log shows it (version 2: only for the public-detail actions).
    pub fn public_detail(&self) -> Option<&str> {
        match self {
            Event::V1(c) => Some(&c.detail),
            Event::V2(s) => s.public.as_deref(),
        }
    }

    /// The whole event: version 1 as it is; version 2 opened with its private part if
    /// given (without it, `None`).
    ///
    /// # Errors
    /// As [`Sealed::open`].
    pub fn open(&self, private: Option<&str>) -> Result<Option<Custody>, LinkError> {
        match (self, private) {
            (Event::V1(c), _) => Ok(Some(c.clone())),
            (Event::V2(s), Some(p)) => s.open(p).map(Some),
            (Event::V2(_), None) => Ok(None),
        }
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

    #[test]
    fn version_2_commits_to_what_it_does_not_show() {
        let c = Custody {
            time: Timestamp(1_795_849_200_000),
            actor: "analyst-petrenko".into(),
            action: "view".into(),
            subject: "segment ab".into(),
            detail: "reason: complaint of traveller Ivanenko, plate AA1234BB".into(),
        };
        let (public, private) = c.seal("segment ab", [7; 32]).expect("seal");
        assert!(
            !public.contains("petrenko") && !public.contains("AA1234BB"),
            "{public}"
        );
        let sealed = Sealed::parse(&public).expect("parse");
        assert_eq!(sealed.public, None);
        assert_eq!(sealed.open(&private), Ok(c.clone()));
        assert_eq!(Event::parse(&public), Ok(Event::V2(sealed.clone())));
        // Another salt, another commitment: a guess cannot be tested without the salt.
        let (other, _) = c.seal("segment ab", [8; 32]).expect("seal");
        assert_ne!(other, public);
        // A changed private part does not open it.
        let changed = private.replace("AA1234BB", "BB4321AA");
        assert!(sealed.open(&changed).is_err());
        assert!(Sealed::parse(&public.replace("action: view", "action: View")).is_err());
        assert!(Sealed::parse(&format!("{public}x: y\n")).is_err());

        // The public-detail actions keep their detail in the log, and it must match.
        let e = Custody {
            action: "enroll".into(),
            detail: "cam-01+1234abcd+AAAA".into(),
            ..c
        };
        let (public, private) = e.seal("device cam-01", [1; 32]).expect("seal");
        let sealed = Sealed::parse(&public).expect("parse");
        assert_eq!(sealed.public.as_deref(), Some("cam-01+1234abcd+AAAA"));
        assert_eq!(
            sealed.open(&private).map(|o| o.detail),
            Ok(e.detail.clone())
        );
        let mut lying = sealed.clone();
        lying.public = Some("cam-01+ffffffff+BBBB".into());
        assert!(lying.open(&private).is_err());
        // Version 1 still parses as what it is.
        let v1 = e.to_text().expect("v1");
        assert_eq!(Event::parse(&v1), Ok(Event::V1(e)));
    }
}
