//! Cameras: enrollment, revocation, uploads, assignment to officers, continuity.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The characters a device id is escaped of in a path: everything but what RFC 3986
/// leaves unreserved (so `/` and `:`, which device ids may hold, are `%2F` and `%3A`).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `/v1/devices/<device>` with the id escaped as one path segment: the prefix of every
/// per-device route, for every client.
#[must_use]
pub fn device_path(device: &str) -> String {
    format!(
        "/v1/devices/{}",
        percent_encoding::utf8_percent_encode(device, SEGMENT)
    )
}

/// `POST /v1/devices/{device}/enroll-token` → 201.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EnrollToken {
    /// The camera.
    pub device: String,
    /// The one-time token (shown once).
    pub token: String,
    /// When it stops working.
    pub expires_at: String,
}

/// Body of `POST /v1/enroll`: a camera presents its token and public key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The camera's id.
    pub device: String,
    /// The one-time token from `enroll-token`.
    pub token: String,
    /// C2SP verifier key (Ed25519 or ECDSA P-256) named after the device, or a dock's.
    pub key: String,
}

/// `POST /v1/enroll` → 201.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Enrolled {
    /// The camera.
    pub device: String,
    /// Its key as stored.
    pub key: String,
    /// The `enroll` custody event's index.
    pub log_index: u64,
}

/// `POST /v1/devices/{device}/revoke`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Revoked {
    /// The camera.
    pub device: String,
    /// Always true.
    pub revoked: bool,
    /// The `revoke` custody event's index.
    pub log_index: u64,
}

/// `GET /v1/devices/{device}`: the key and state (the key is public: it is in the log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Device {
    /// The camera.
    pub device: String,
    /// Its C2SP verifier key.
    pub key: String,
    /// When it enrolled.
    pub enrolled_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// The answer to an accepted link (`PUT .../segments/{seq}` or `.../events/{seq}`):
/// 201 the first time, 200 for a retry of the same link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    /// The camera.
    pub device: String,
    /// The link's sequence number.
    pub seq: u64,
    /// SHA-256 of the signed link (hex).
    pub link_hash: String,
    /// The link's index in the log.
    pub log_index: u64,
    /// `new` the first time, `existing` for a retry.
    pub stored: Stored,
}

/// Whether an upload stored something new.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stored {
    /// First time.
    New,
    /// A retry of a link already held.
    Existing,
}

/// Query of `GET /v1/blobs/{sha256}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlobQuery {
    /// Why the footage is opened: a case reference or a few words (custody trail).
    pub reason: Option<String>,
    /// Instead of a reason: the id of the caller's audit run (`POST /v1/audits`), whose
    /// one custody event covers every segment it reads.
    pub audit: Option<String>,
}

/// Body of `POST /v1/assignments`: hand a camera to an officer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The camera.
    pub device: String,
    /// The officer's service number.
    pub officer: String,
    /// The crossing point's code.
    pub crossing_point: String,
    /// When it was handed out, if entered afterwards (RFC 3339, not in the future).
    #[serde(default)]
    pub at: Option<String>,
}

/// Body of `POST /v1/assignments/return`: take a camera back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// The camera.
    pub device: String,
    /// When it was handed back, if entered afterwards (RFC 3339, not in the future).
    #[serde(default)]
    pub at: Option<String>,
}

/// A camera handed to an officer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Assignment {
    /// The assignment's id.
    pub id: String,
    /// The camera.
    pub device: String,
    /// The officer's service number.
    pub officer: String,
    /// The crossing point's code.
    pub crossing_point: String,
    /// Handed out.
    pub start: String,
    /// Handed back (none while worn).
    pub end: Option<String>,
}

/// `POST /v1/assignments` (201) and `POST /v1/assignments/return`: the assignment and
/// its custody event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssignmentLogged {
    /// The assignment.
    #[serde(flatten)]
    pub assignment: Assignment,
    /// The `assign` or `return` custody event's index.
    pub log_index: u64,
}

/// One problem of a camera's chain, with a stable `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainProblem {
    /// A link that does not parse.
    Malformed {
        /// Position in the chain as read.
        index: usize,
        /// Why.
        detail: String,
    },
    /// A link of another device.
    WrongDevice {
        /// Position.
        index: usize,
        /// The device it names.
        device: String,
    },
    /// A signature that does not verify.
    BadSignature {
        /// Position.
        index: usize,
        /// Its sequence number.
        seq: u64,
    },
    /// Signed by a dock but not marked `attested: dock`, or the reverse.
    AttestationMismatch {
        /// Sequence number.
        seq: u64,
        /// The signer's key name.
        signer: String,
    },
    /// Two different links under one sequence number.
    Equivocation {
        /// Sequence number.
        seq: u64,
        /// The link held (hex), when both are in the chain.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first: Option<String>,
        /// The other link (hex): the refused one.
        second: String,
    },
    /// Sequence numbers that never arrived.
    Missing {
        /// First missing.
        from: u64,
        /// Last missing.
        to: u64,
    },
    /// A link whose `prev` is not the hash of the link before it.
    BrokenPrev {
        /// Sequence number.
        seq: u64,
        /// The hash it should name (hex).
        expected: String,
        /// The hash it names (hex).
        found: String,
    },
    /// A link whose time is before its predecessor's.
    TimeBackwards {
        /// Sequence number.
        seq: u64,
        /// The predecessor's time.
        previous: String,
        /// This link's time.
        time: String,
    },
    /// Recording stopped without an event saying why.
    UnexplainedGap {
        /// The link before the gap.
        after_seq: u64,
        /// The link after it.
        before_seq: u64,
        /// Gap start.
        from: String,
        /// Gap end.
        to: String,
        /// Its length.
        seconds: f64,
    },
}

/// An event that ended recording (stop, power off, storage full, docked, recovered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Stop {
    /// Sequence number of the event link.
    pub seq: u64,
    /// When.
    pub time: String,
    /// The event kind (`record-stop`, `power-off`, ...).
    pub kind: String,
    /// What the camera said.
    pub detail: String,
}

/// A twin link refused because another holds its sequence number (kept as evidence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RefusedTwin {
    /// Sequence number.
    pub seq: u64,
    /// The refused link's hash (hex).
    pub refused_link: String,
}

/// A page of a growing list: the cursor after the last item and how many to answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Answer the items after this cursor (the `next` of the previous page).
    pub after: Option<String>,
    /// At most this many items (default 100, at most 1000).
    pub limit: Option<u32>,
}

impl Page {
    /// The number of items asked for, within 1..=1000.
    #[must_use]
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(100).clamp(1, 1000)
    }
}

/// `GET /v1/devices/{device}/continuity`: the chain state kept as links arrive. Its
/// problems are paged (`?after=<next>&limit=`, in chain order); its stops are the latest
/// 50, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Continuity {
    /// The camera.
    pub device: String,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Links received.
    pub links: usize,
    /// Of which segments.
    pub segments: usize,
    /// Seconds of footage.
    pub recorded_seconds: f64,
    /// Highest sequence number up to which the chain is complete and unbroken.
    pub head: Option<u64>,
    /// Highest sequence number received.
    pub last_link: Option<u64>,
    /// The latest 50 events that ended recording, oldest first.
    pub stops: Vec<Stop>,
    /// What is wrong with the chain: this page of it, in chain order.
    pub problems: Vec<ChainProblem>,
    /// How many problems the chain has in all.
    pub problems_total: u64,
    /// The cursor of the next page of problems, if there is one.
    pub next: Option<String>,
    /// Refused twin links.
    pub equivocations: Vec<RefusedTwin>,
    /// Who wore it: the latest 50 assignments, oldest first.
    pub assignments: Vec<Assignment>,
    /// What the camera last said of itself.
    pub health: DeviceHealth,
}

/// What a camera last said of itself (an agent with every upload, a body-worn system with
/// every clip) and when the server last heard from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeviceHealth {
    /// When the latest link arrived (RFC 3339), if any did.
    pub last_contact: Option<String>,
    /// Battery, percent.
    pub battery: Option<i64>,
    /// Free storage on the camera, MiB.
    pub free_mib: Option<i64>,
    /// Links waiting on the camera to be uploaded.
    pub backlog_links: Option<i64>,
    /// Their bytes.
    pub backlog_bytes: Option<i64>,
    /// In its dock, when known.
    pub docked: Option<bool>,
    /// Firmware or agent version.
    pub firmware: Option<String>,
    /// The latest segment's sound: `present`, `silent` or `none`.
    pub audio: Option<String>,
    /// When the camera last reported (RFC 3339).
    pub reported_at: Option<String>,
}

/// What a camera reports with every upload (header `Kordon-Health`,
/// `key=value;key=value`): not signed, advisory — the chain is the evidence.
pub const HEALTH_HEADER: &str = "kordon-health";

/// The `Kordon-Health` header's content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthReport {
    /// `battery`: percent.
    pub battery: Option<i64>,
    /// `free_mib`: free storage.
    pub free_mib: Option<i64>,
    /// `backlog_links`.
    pub backlog_links: Option<i64>,
    /// `backlog_bytes`.
    pub backlog_bytes: Option<i64>,
    /// `docked`: `1` or `0`.
    pub docked: Option<bool>,
    /// `firmware`: up to 64 printable characters.
    pub firmware: Option<String>,
}

impl HealthReport {
    /// The header value.
    pub fn to_header(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("battery", self.battery),
            ("free_mib", self.free_mib),
            ("backlog_links", self.backlog_links),
            ("backlog_bytes", self.backlog_bytes),
            ("docked", self.docked.map(i64::from)),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={v}"));
            }
        }
        if let Some(f) = &self.firmware {
            parts.push(format!("firmware={f}"));
        }
        parts.join(";")
    }

    /// Reads a header value; unknown keys and bad values are left out (it is advisory).
    pub fn parse(v: &str) -> Self {
        let mut r = HealthReport::default();
        for (k, v) in v.split(';').filter_map(|p| p.trim().split_once('=')) {
            let n = v.trim().parse::<i64>().ok().filter(|n| *n >= 0);
            match k.trim() {
                "battery" => r.battery = n.filter(|n| *n <= 100),
                "free_mib" => r.free_mib = n,
                "backlog_links" => r.backlog_links = n,
                "backlog_bytes" => r.backlog_bytes = n,
                "docked" => r.docked = n.filter(|n| *n <= 1).map(|n| n == 1),
                "firmware" => {
                    let f = v.trim();
                    r.firmware = (!f.is_empty()
                        && f.len() <= 64
                        && f.chars().all(|c| c.is_ascii_graphic() || c == ' '))
                    .then(|| f.to_owned());
                }
                _ => {}
            }
        }
        r
    }
}

/// One camera in `GET /v1/devices`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeviceSummary {
    /// The camera.
    pub device: String,
    /// Its key.
    pub key: Option<String>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Links received.
    pub links: usize,
    /// Of which segments.
    pub segments: usize,
    /// Seconds of footage.
    pub recorded_seconds: f64,
    /// Highest sequence number up to which the chain is complete.
    pub head: Option<u64>,
    /// Highest sequence number received.
    pub last_link: Option<u64>,
    /// How many problems its chain has.
    pub problems: usize,
    /// The officer wearing it now.
    pub assigned_to: Option<String>,
    /// What it last said of itself.
    pub health: DeviceHealth,
}

/// `GET /v1/devices`: one page of cameras by id (`?after=<next>&limit=`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeviceList {
    /// The cameras of this page.
    pub devices: Vec<DeviceSummary>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

impl std::fmt::Display for ChainProblem {
    /// The problem in words, as `kordon gaps` and `kordon device status` print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::Missing { from, to } => write!(f, "missing links seq {from}..={to}"),
            ChainProblem::UnexplainedGap {
                after_seq,
                before_seq,
                from,
                to,
                seconds,
            } => write!(
                f,
                "unexplained gap of {seconds} s between seq {after_seq} and {before_seq} ({from} to {to})"
            ),
            ChainProblem::BrokenPrev { seq, .. } => {
                write!(f, "link seq {seq} does not chain to its predecessor")
            }
            ChainProblem::TimeBackwards {
                seq,
                previous,
                time,
            } => write!(
                f,
                "link seq {seq} starts at {time} before its predecessor ended at {previous}"
            ),
            ChainProblem::Equivocation { seq, second, .. } => write!(
                f,
                "EQUIVOCATION at seq {seq}: a second, different link {second}"
            ),
            ChainProblem::BadSignature { seq, .. } => {
                write!(f, "link seq {seq} has a bad signature")
            }
            ChainProblem::Malformed { index, detail } => {
                write!(f, "malformed link at position {index}: {detail}")
            }
            ChainProblem::WrongDevice { index, device } => {
                write!(f, "link at position {index} is of another device {device}")
            }
            ChainProblem::AttestationMismatch { seq, signer } => write!(
                f,
                "link seq {seq} is signed by {signer}, which its attestation does not allow"
            ),
        }
    }
}

/// Body of `POST /v1/devices/{device}/recheck`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecheckRequest {
    /// Replace the kept state with the one recomputed when they differ.
    #[serde(default)]
    pub repair: bool,
}

/// `POST /v1/devices/{device}/recheck`: the device's chain recomputed from every stored
/// link (each signature checked again) and compared with the state kept as links arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Recheck {
    /// The camera.
    pub device: String,
    /// Links read.
    pub links: u64,
    /// Problems found from scratch.
    pub problems: u64,
    /// Where the kept state differs from the recomputed one (empty: they agree).
    pub differences: Vec<String>,
    /// Whether the kept state was replaced.
    pub repaired: bool,
}

#[cfg(test)]
mod health_tests {
    use super::HealthReport;

    #[test]
    fn the_health_header_round_trips_and_drops_what_is_wrong() {
        let r = HealthReport {
            battery: Some(87),
            free_mib: Some(1200),
            backlog_links: Some(3),
            backlog_bytes: Some(4096),
            docked: Some(false),
            firmware: Some("kordon-agent/0.1.0".into()),
        };
        assert_eq!(HealthReport::parse(&r.to_header()), r);
        let bad = HealthReport::parse("battery=180;free_mib=-1;docked=2;firmware=;x=1;garbage");
        assert_eq!(bad, HealthReport::default());
    }
}
