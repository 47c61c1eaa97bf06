//! kordon's chain links: the signed segment manifest (`kordon.segment/v1`) and the signed
//! device event (`kordon.event/v1`). Both are C2SP signed notes whose text is a version
//! line followed by `key: value` lines in a fixed order; `docs/spec/links.md` is the
//! normative description.
//!
//! Every link names the hash of the previous link of the same device (`prev`); the hash
//! of a link is SHA-256 of its *whole* signed note (text, empty line and signature line),
//! and the first link (`seq: 0`) names [`genesis`]. Segments and events share one sequence
//! counter, so a missing number always means a missing link.

use std::fmt;

use crate::hash::{Hash, sha256, sha256_parts};
use crate::note::{Note, NoteError, SignNoteError, SignerKey, VerifierKey};
use crate::time::Timestamp;

mod audio;
pub use audio::Audio;

/// First line of a segment manifest without an `audio` field (written before audio).
pub const SEGMENT_V1: &str = "kordon.segment/v1";
/// First line of a segment manifest that states its audio and may be `attested: system`.
pub const SEGMENT_V2: &str = "kordon.segment/v2";
/// First line of a device event.
pub const EVENT_V1: &str = "kordon.event/v1";
/// Whether a note's first line (without its newline) is one of the link versions.
pub fn is_link_version(first_line: &[u8]) -> bool {
    [SEGMENT_V1, SEGMENT_V2, EVENT_V1]
        .iter()
        .any(|v| v.as_bytes() == first_line)
}

/// The largest link note, signature included.
pub const MAX_LINK_BYTES: usize = 4096;
/// The longest event detail.
pub const MAX_DETAIL_BYTES: usize = 512;
/// The longest device id.
pub const MAX_DEVICE_ID_BYTES: usize = 64;

/// Who vouches for a segment's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Attestation {
    /// Signed by the camera at capture.
    Device,
    /// Signed by a dock that imported it from a camera that cannot sign.
    Dock,
    /// Received from a body-worn system's controller (e.g. an Axis system controller) and
    /// signed by the crossing point server that received it (`kordon.segment/v2` only).
    System,
}

impl Attestation {
    /// The spelling in a manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Attestation::Device => "device",
            Attestation::Dock => "dock",
            Attestation::System => "system",
        }
    }
}

/// A segment manifest (`kordon.segment/v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Device id (serial) of the camera that recorded it.
    pub device: String,
    /// Position in the device's chain.
    pub seq: u64,
    /// First instant of video, UTC.
    pub start: Timestamp,
    /// Last instant of video, UTC; not before `start`.
    pub end: Timestamp,
    /// Size of the segment file in bytes.
    pub size: u64,
    /// SHA-256 of the segment file.
    pub sha256: Hash,
    /// Recorded in night (IR) mode.
    pub night: bool,
    /// Its sound; [`Audio::Unstated`] is written as `kordon.segment/v1`, anything else as
    /// `kordon.segment/v2`.
    pub audio: Audio,
    /// Who signed it.
    pub attested: Attestation,
    /// Hash of the previous link, or [`genesis`] for `seq` 0.
    pub prev: Hash,
}

/// What a device event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Recording started.
    RecordStart,
    /// Recording stopped (the detail says who or what stopped it).
    RecordStop,
    /// The device or agent started.
    PowerOn,
    /// Clean shutdown.
    PowerOff,
    /// Battery below the warning level.
    BatteryLow,
    /// Local storage (nearly) full.
    StorageFull,
    /// Put in the dock.
    Docked,
    /// Taken from the dock.
    Undocked,
    /// Tamper sensor or integrity alarm.
    TamperAlarm,
    /// Night (IR) mode switched on.
    NightOn,
    /// Night (IR) mode switched off.
    NightOff,
    /// The clock was set; the event's time is the new clock.
    ClockSync,
    /// Restarted after a crash or power loss; the detail says what was recovered.
    Recovered,
}

const EVENT_KINDS: [(EventKind, &str); 13] = [
    (EventKind::RecordStart, "record-start"),
    (EventKind::RecordStop, "record-stop"),
    (EventKind::PowerOn, "power-on"),
    (EventKind::PowerOff, "power-off"),
    (EventKind::BatteryLow, "battery-low"),
    (EventKind::StorageFull, "storage-full"),
    (EventKind::Docked, "docked"),
    (EventKind::Undocked, "undocked"),
    (EventKind::TamperAlarm, "tamper-alarm"),
    (EventKind::NightOn, "night-on"),
    (EventKind::NightOff, "night-off"),
    (EventKind::ClockSync, "clock-sync"),
    (EventKind::Recovered, "recovered"),
];

impl EventKind {
    /// The spelling in an event note.
    pub fn as_str(self) -> &'static str {
        EVENT_KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, s)| s)
    }

    /// Parses the spelling.
    pub fn parse(s: &str) -> Option<Self> {
        EVENT_KINDS.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
    }

    /// Whether the event explains why no video follows it until the next segment.
    pub fn ends_recording(self) -> bool {
        matches!(
            self,
            EventKind::RecordStop
                | EventKind::PowerOff
                | EventKind::StorageFull
                | EventKind::Docked
                | EventKind::Recovered
        )
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A device event (`kordon.event/v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Device id.
    pub device: String,
    /// Position in the device's chain (same counter as segments).
    pub seq: u64,
    /// When it happened, UTC.
    pub time: Timestamp,
    /// What happened.
    pub kind: EventKind,
    /// Human-readable detail, 1–512 bytes, no leading or trailing space.
    pub detail: String,
    /// Hash of the previous link, or [`genesis`] for `seq` 0.
    pub prev: Hash,
}

/// The body of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkBody {
    /// A segment manifest.
    Segment(Segment),
    /// A device event.
    Event(Event),
}

/// Why a link was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The signed note is malformed.
    #[error("link note: {0}")]
    Note(#[from] NoteError),
    /// Larger than [`MAX_LINK_BYTES`].
    #[error("link is {0} bytes, more than {MAX_LINK_BYTES}")]
    TooLarge(usize),
    /// The first line is not a known version.
    #[error("unknown link version {0:?}")]
    UnknownVersion(String),
    /// A line is not the field expected there.
    #[error("line {line}: expected field {expected:?}")]
    MissingField {
        /// 1-based line number in the text.
        line: usize,
        /// The field that belongs there.
        expected: &'static str,
    },
    /// A field's value is not valid.
    #[error("field {field:?}: {reason}")]
    BadValue {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Lines after the last field.
    #[error("line {0}: unexpected line after the last field")]
    TrailingLine(usize),
    /// A link carries exactly one signature.
    #[error("link has {0} signatures, expected exactly one")]
    SignatureCount(usize),
    /// The signature does not verify with the key given.
    #[error("link signature does not verify with key {0}")]
    BadSignature(String),
    /// The signing key cannot sign this link.
    #[error("signing: {0}")]
    Sign(#[from] SignNoteError),
}

/// The `prev` value of a device's first link: `SHA-256("kordon.chain/v1 genesis\n" ||
/// device id || "\n")`.
pub fn genesis(device: &str) -> Hash {
    sha256_parts(&[b"kordon.chain/v1 genesis\n", device.as_bytes(), b"\n"])
}

/// Whether `id` is a valid device id: 1–64 bytes of `A-Z a-z 0-9 . _ - : /`.
pub fn is_valid_device_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_DEVICE_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:/".contains(&b))
}

fn bad(field: &'static str, reason: impl Into<String>) -> LinkError {
    LinkError::BadValue {
        field,
        reason: reason.into(),
    }
}

struct Fields<'a> {
    lines: std::iter::Enumerate<std::str::Split<'a, char>>,
}

impl<'a> Fields<'a> {
    fn next(&mut self, key: &'static str) -> Result<&'a str, LinkError> {
        let (i, line) = self.lines.next().ok_or(LinkError::MissingField {
            line: 0,
            expected: key,
        })?;
        line.strip_prefix(key)
            .and_then(|r| r.strip_prefix(": "))
            .ok_or(LinkError::MissingField {
                line: i + 1,
                expected: key,
            })
    }

    fn u64(&mut self, key: &'static str) -> Result<u64, LinkError> {
        let v = self.next(key)?;
        crate::checkpoint::parse_decimal(v)
            .ok_or_else(|| bad(key, "not a decimal number without leading zeros"))
    }

    fn time(&mut self, key: &'static str) -> Result<Timestamp, LinkError> {
        Timestamp::parse(self.next(key)?).map_err(|e| bad(key, e.to_string()))
    }

    fn hash(&mut self, key: &'static str) -> Result<Hash, LinkError> {
        Hash::from_hex(self.next(key)?).map_err(|e| bad(key, e.to_string()))
    }

    fn finish(mut self) -> Result<(), LinkError> {
        match self.lines.next() {
            None => Ok(()),
            Some((i, _)) => Err(LinkError::TrailingLine(i + 1)),
        }
    }
}

fn fmt_time(field: &'static str, t: Timestamp) -> Result<String, LinkError> {
    t.format().map_err(|e| bad(field, e.to_string()))
}

impl LinkBody {
    /// Parses a link note text.
    ///
    /// # Errors
    /// [`LinkError`] naming the line or field.
    pub fn parse(text: &str) -> Result<Self, LinkError> {
        let body = text.strip_suffix('\n').ok_or(LinkError::MissingField {
            line: 1,
            expected: "version",
        })?;
        let mut lines = body.split('\n').enumerate();
        let version = lines.next().map(|(_, l)| l).unwrap_or_default();
        let mut f = Fields { lines };
        let device = f.next("device")?;
        if !is_valid_device_id(device) {
            return Err(bad(
                "device",
                "must be 1-64 characters of A-Z a-z 0-9 . _ - : /",
            ));
        }
        let device = device.to_owned();
        let seq = f.u64("seq")?;
        let body = match version {
            SEGMENT_V1 | SEGMENT_V2 => {
                let start = f.time("start")?;
                let end = f.time("end")?;
                if end < start {
                    return Err(bad("end", "is before start"));
                }
                let size = f.u64("size")?;
                let sha256 = f.hash("sha256")?;
                let night = match f.next("night")? {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(bad("night", "must be yes or no")),
                };
                let v2 = version == SEGMENT_V2;
                let audio = if v2 {
                    match f.next("audio")? {
                        "present" => Audio::Present,
                        "silent" => Audio::Silent,
                        "none" => Audio::None,
                        _ => return Err(bad("audio", "must be present, silent or none")),
                    }
                } else {
                    Audio::Unstated
                };
                let attested = match f.next("attested")? {
                    "device" => Attestation::Device,
                    "dock" => Attestation::Dock,
                    "system" if v2 => Attestation::System,
                    _ if v2 => return Err(bad("attested", "must be device, dock or system")),
                    _ => return Err(bad("attested", "must be device or dock")),
                };
                let prev = f.hash("prev")?;
                LinkBody::Segment(Segment {
                    device,
                    seq,
                    start,
                    end,
                    size,
                    sha256,
                    night,
                    audio,
                    attested,
                    prev,
                })
            }
            EVENT_V1 => {
                let time = f.time("time")?;
                let kind = f.next("kind")?;
                let kind = EventKind::parse(kind)
                    .ok_or_else(|| bad("kind", format!("unknown event kind {kind:?}")))?;
                let detail = f.next("detail")?;
                check_detail(detail)?;
                let prev = f.hash("prev")?;
                LinkBody::Event(Event {
                    device,
                    seq,
                    time,
                    kind,
                    detail: detail.to_owned(),
                    prev,
                })
            }
            other => return Err(LinkError::UnknownVersion(other.chars().take(64).collect())),
        };
        f.finish()?;
        Ok(body)
    }

    /// The note text of this body.
    ///
    /// # Errors
    /// [`LinkError::BadValue`] if a field cannot be written (bad device id or detail, time
    /// outside 0000–9999, end before start).
    pub fn to_text(&self) -> Result<String, LinkError> {
        if !is_valid_device_id(self.device()) {
            return Err(bad(
                "device",
                "must be 1-64 characters of A-Z a-z 0-9 . _ - : /",
            ));
        }
        Ok(match self {
            LinkBody::Segment(s) => {
                if s.end < s.start {
                    return Err(bad("end", "is before start"));
                }
                let (version, audio) = match s.audio {
                    Audio::Unstated if s.attested == Attestation::System => {
                        return Err(bad("audio", "attested: system needs kordon.segment/v2"));
                    }
                    Audio::Unstated => (SEGMENT_V1, String::new()),
                    a => (SEGMENT_V2, format!("audio: {}\n", a.as_str())),
                };
                format!(
                    "{version}\ndevice: {}\nseq: {}\nstart: {}\nend: {}\nsize: {}\nsha256: {}\nnight: {}\n{audio}attested: {}\nprev: {}\n",
                    s.device,
                    s.seq,
                    fmt_time("start", s.start)?,
                    fmt_time("end", s.end)?,
                    s.size,
                    s.sha256.to_hex(),
                    if s.night { "yes" } else { "no" },
                    s.attested.as_str(),
                    s.prev.to_hex()
                )
            }
            LinkBody::Event(e) => {
                check_detail(&e.detail)?;
                format!(
                    "{EVENT_V1}\ndevice: {}\nseq: {}\ntime: {}\nkind: {}\ndetail: {}\nprev: {}\n",
                    e.device,
                    e.seq,
                    fmt_time("time", e.time)?,
                    e.kind,
                    e.detail,
                    e.prev.to_hex()
                )
            }
        })
    }

    /// The device id.
    pub fn device(&self) -> &str {
        match self {
            LinkBody::Segment(s) => &s.device,
            LinkBody::Event(e) => &e.device,
        }
    }

    /// The sequence number.
    pub fn seq(&self) -> u64 {
        match self {
            LinkBody::Segment(s) => s.seq,
            LinkBody::Event(e) => e.seq,
        }
    }

    /// The previous link's hash.
    pub fn prev(&self) -> Hash {
        match self {
            LinkBody::Segment(s) => s.prev,
            LinkBody::Event(e) => e.prev,
        }
    }

    /// When the link begins (segment start, event time).
    pub fn start(&self) -> Timestamp {
        match self {
            LinkBody::Segment(s) => s.start,
            LinkBody::Event(e) => e.time,
        }
    }

    /// When the link ends (segment end, event time).
    pub fn end(&self) -> Timestamp {
        match self {
            LinkBody::Segment(s) => s.end,
            LinkBody::Event(e) => e.time,
        }
    }
}

fn check_detail(d: &str) -> Result<(), LinkError> {
    if d.is_empty() || d.len() > MAX_DETAIL_BYTES || d.trim() != d {
        return Err(bad(
            "detail",
            "must be 1-512 bytes without leading or trailing space",
        ));
    }
    Ok(())
}

/// A parsed link: its body, its exact bytes and their hash. Parsing does not check the
/// signature; [`Link::verify`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    body: LinkBody,
    note: Note,
    bytes: Vec<u8>,
    hash: Hash,
}

impl Link {
    /// Builds and signs a link.
    ///
    /// # Errors
    /// [`LinkError`] if the body cannot be written or the key cannot sign.
    pub fn sign(body: LinkBody, key: &SignerKey) -> Result<Self, LinkError> {
        let mut note = Note::new(&body.to_text()?)?;
        note.sign(key)?;
        let bytes = note.to_bytes();
        if bytes.len() > MAX_LINK_BYTES {
            return Err(LinkError::TooLarge(bytes.len()));
        }
        let hash = sha256(&bytes);
        Ok(Link {
            body,
            note,
            bytes,
            hash,
        })
    }

    /// Parses a link's signed note strictly: size, note syntax, exactly one signature,
    /// known version, every field in order and canonical.
    ///
    /// # Errors
    /// [`LinkError`] naming the problem.
    pub fn parse(bytes: &[u8]) -> Result<Self, LinkError> {
        if bytes.len() > MAX_LINK_BYTES {
            return Err(LinkError::TooLarge(bytes.len()));
        }
        let note = Note::parse(bytes)?;
        if note.signatures().len() != 1 {
            return Err(LinkError::SignatureCount(note.signatures().len()));
        }
        let body = LinkBody::parse(note.text())?;
        Ok(Link {
            body,
            note,
            bytes: bytes.to_vec(),
            hash: sha256(bytes),
        })
    }

    /// Checks the signature with `key` (name and key id must match the signature line).
    ///
    /// # Errors
    /// [`LinkError::BadSignature`].
    pub fn verify(&self, key: &VerifierKey) -> Result<(), LinkError> {
        self.note
            .verify(std::slice::from_ref(key))
            .map(|_| ())
            .map_err(|_| LinkError::BadSignature(format!("{}+{:08x}", key.name(), key.key_id())))
    }

    /// The body.
    pub fn body(&self) -> &LinkBody {
        &self.body
    }

    /// The exact signed-note bytes (this is what the log stores as a leaf).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SHA-256 of the bytes: what the next link names as `prev`.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// Name of the key that signed it.
    pub fn signer_name(&self) -> &str {
        self.note
            .signatures()
            .first()
            .map_or("", |s| s.name.as_str())
    }
}

#[cfg(test)]
mod tests;
