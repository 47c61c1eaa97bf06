//! The subset of the OpenStack Swift API an AXIS Body Worn system controller uses to push
//! recordings to a content destination (`docs/axis.md`; the vendor's specification is
//! AxisCommunications/body-worn-integration-api, Apache-2.0): the names and JSON bodies
//! it sends and reads. No IO.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The Swift account kordon's storage URL names.
pub const ACCOUNT: &str = "AUTH_kordon";

/// The connection file an administrator imports into AXIS Body Worn Manager.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionFile {
    /// Always `1.0`.
    pub connection_file_version: String,
    /// Shown in the manager.
    pub site_name: String,
    /// `kordon`.
    pub application_name: String,
    /// kordon's version.
    pub application_version: String,
    /// kordon serves no NTP.
    #[serde(rename = "ContentDestinationAsNTPServer")]
    pub content_destination_as_ntp_server: bool,
    /// Where the controller gets its token (`GET` with `X-Auth-User`, `X-Auth-Key`).
    #[serde(rename = "AuthenticationTokenURI")]
    pub authentication_token_uri: Vec<String>,
    /// The HTTPS server's certificates (base64 DER); empty for HTTP.
    #[serde(
        rename = "HTTPSCertificate",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub https_certificate: Vec<String>,
    /// `X-Auth-Key`.
    #[serde(rename = "BlobAPIKey")]
    pub blob_api_key: String,
    /// `X-Auth-User`.
    #[serde(rename = "BlobAPIUserName")]
    pub blob_api_user_name: String,
    /// `mp4`: clips a browser plays without conversion.
    pub container_type: String,
    /// kordon stores and reads only what it needs.
    pub full_store_and_read_support: bool,
    /// kordon refuses end-to-end encryption (`docs/axis.md`, "Encryption").
    pub want_encryption: bool,
    /// Empty: no encryption.
    pub public_key: String,
    /// Empty: no encryption.
    pub public_key_id: String,
}

/// `System/Capabilities.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Capabilities {
    /// What the controller may read.
    #[serde(rename = "Read")]
    pub read: ReadCapabilities,
    /// What kordon stores.
    #[serde(rename = "Store")]
    pub store: StoreCapabilities,
    /// Stored and read back.
    #[serde(rename = "StoreAndRead")]
    pub store_and_read: StoreAndReadCapabilities,
}

/// `Read` capabilities.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ReadCapabilities {
    /// `System/Categories.json` is published.
    pub read_categories: bool,
}

/// `Store` capabilities.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct StoreCapabilities {
    /// Bookmarks and categories.
    pub store_bookmarks: bool,
    /// Rejected-content containers.
    pub store_rejected_content: bool,
    /// The users' own ids (kordon maps a user whose id is a service number).
    #[serde(rename = "StoreUserIDKey")]
    pub store_user_id_key: bool,
    /// Clips with in-stream signatures, kept byte for byte.
    pub store_signed_video: bool,
    /// GNSS trails.
    #[serde(rename = "StoreGNSSTrackRecording")]
    pub store_gnss_track_recording: bool,
}

/// `StoreAndRead` capabilities.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct StoreAndReadCapabilities {
    /// The `System/<SystemID>` object.
    #[serde(rename = "StoreReadSystemID")]
    pub store_read_system_id: bool,
}

impl Capabilities {
    /// Everything kordon supports.
    pub fn kordon() -> Self {
        Capabilities {
            read: ReadCapabilities {
                read_categories: true,
            },
            store: StoreCapabilities {
                store_bookmarks: true,
                store_rejected_content: true,
                store_user_id_key: true,
                store_signed_video: true,
                store_gnss_track_recording: true,
            },
            store_and_read: StoreAndReadCapabilities {
                store_read_system_id: true,
            },
        }
    }
}

/// One entry of `System/Categories.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Category {
    /// What users see.
    pub name: String,
    /// Stable id.
    pub id: String,
}

/// A GNSS trail object (`…_gpstrail.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct GnssTrail {
    /// The points.
    pub coordinate_entries: Vec<GnssEntry>,
}

/// One point of a trail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GnssEntry {
    /// `POINT(<longitude> <latitude>)`.
    #[serde(rename = "LocationWKT")]
    pub location_wkt: String,
    /// Seconds since the recording's start.
    #[serde(rename = "SecondsFromStart", default)]
    pub seconds_from_start: f64,
    /// RFC 3339, UTC.
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
}

impl GnssEntry {
    /// `(longitude, latitude)` in degrees, if the point is well-formed and on Earth.
    pub fn lon_lat(&self) -> Option<(f64, f64)> {
        let inner = self
            .location_wkt
            .trim()
            .strip_prefix("POINT")
            .or_else(|| self.location_wkt.trim().strip_prefix("Point"))?
            .trim()
            .strip_prefix('(')?
            .strip_suffix(')')?;
        let mut it = inner.split_whitespace().map(str::parse::<f64>);
        let (lon, lat) = (it.next()?.ok()?, it.next()?.ok()?);
        (it.next().is_none() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat))
            .then_some((lon, lat))
    }
}

/// A recording container's name: `<UserUUID>_<BWCSerialNumber>_<YYYYMMDDTHHMMSSZ>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingName<'a> {
    /// The wearer's UUID.
    pub user: &'a str,
    /// The camera's serial.
    pub serial: &'a str,
    /// TriggerOnTime as written.
    pub trigger_on: &'a str,
}

impl<'a> RecordingName<'a> {
    /// Parses a container name; `None` for the system containers and anything else.
    pub fn parse(name: &'a str) -> Option<Self> {
        let mut it = name.split('_');
        let (user, serial, trigger_on) = (it.next()?, it.next()?, it.next()?);
        let time_ok = trigger_on.len() == 16
            && trigger_on.as_bytes()[8] == b'T'
            && trigger_on.ends_with('Z')
            && trigger_on[..8]
                .bytes()
                .chain(trigger_on[9..15].bytes())
                .all(|b| b.is_ascii_digit());
        (it.next().is_none() && !user.is_empty() && !serial.is_empty() && time_ok).then_some(
            RecordingName {
                user,
                serial,
                trigger_on,
            },
        )
    }
}

/// What an object in a recording container is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A video clip (`.mp4` or `.mkv`).
    Clip,
    /// An end-to-end encryption key (`.key`).
    Key,
    /// A bookmark or category (`bookmark_…`).
    Bookmark,
    /// A GNSS trail (`…_gpstrail.json`).
    Gnss,
}

impl ObjectKind {
    /// The kind of an object name, if known.
    pub fn of(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        Some(if lower.starts_with("bookmark_") {
            ObjectKind::Bookmark
        } else if lower.ends_with("_gpstrail.json") {
            ObjectKind::Gnss
        } else if lower.ends_with(".mp4") || lower.ends_with(".mkv") {
            ObjectKind::Clip
        } else if lower.ends_with(".key") {
            ObjectKind::Key
        } else {
            return None;
        })
    }
}

/// A user of the body-worn system and the officer it is mapped to
/// (`GET /v1/axis/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AxisUser {
    /// The system's UUID of the user (names the recordings).
    pub uuid: String,
    /// Display name in the body-worn system.
    pub name: String,
    /// The user's own id in the system (a service number maps the user by itself).
    pub user_id: String,
    /// Active in the system.
    pub active: bool,
    /// The officer's service number, if mapped: the recordings of this user become
    /// assignments of the camera to this officer.
    pub officer: Option<String>,
}

/// A page of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AxisUsers {
    /// The users, by UUID.
    pub users: Vec<AxisUser>,
    /// Cursor of the next page, if any.
    pub next: Option<String>,
}

/// `PUT /v1/axis/users/{uuid}`: map a user to an officer, or (`null`) unmap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MapUser {
    /// The officer's service number.
    pub officer: Option<String>,
}

/// A metadata header's value as the controller meant it (values are URL-encoded UTF-8).
pub fn decode_value(v: &str) -> String {
    percent_encoding::percent_decode_str(v)
        .decode_utf8_lossy()
        .into_owned()
}

/// What a header value keeps as it is: the unreserved characters of RFC 3986.
const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A metadata value as a header carries it (URL-encoded UTF-8).
pub fn encode_value(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, KEEP).to_string()
}

/// Whether a container holds rejected content (`RejectedContent_<time>_<UUID>`).
pub fn is_rejected_container(name: &str) -> bool {
    name.starts_with("RejectedContent_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_points() {
        let r = RecordingName::parse(
            "6f1c2b0a-1111-4a4a-9b9b-000000000001_B8A44F3A0001_20261203T070000Z",
        )
        .expect("recording");
        assert_eq!(r.serial, "B8A44F3A0001");
        assert_eq!(r.trigger_on, "20261203T070000Z");
        for bad in [
            "Users",
            "a_b_20261203T0700Z",
            "a_b_20261203X070000Z",
            "a_b_c_20261203T070000Z",
        ] {
            assert_eq!(RecordingName::parse(bad), None, "{bad}");
        }
        assert_eq!(
            ObjectKind::of("20261203T070000Z_1234.mp4"),
            Some(ObjectKind::Clip)
        );
        assert_eq!(
            ObjectKind::of("bookmark_20261203T070100Z_7"),
            Some(ObjectKind::Bookmark)
        );
        assert_eq!(
            ObjectKind::of("20261203_070000_1234_B8A4_gpstrail.json"),
            Some(ObjectKind::Gnss)
        );
        assert_eq!(ObjectKind::of("x.key"), Some(ObjectKind::Key));
        assert_eq!(ObjectKind::of("notes.txt"), None);
        let p = |w: &str| {
            GnssEntry {
                location_wkt: w.into(),
                seconds_from_start: 0.0,
                timestamp: String::new(),
            }
            .lon_lat()
        };
        assert_eq!(
            p("POINT(13.221184 55.718409)"),
            Some((13.221184, 55.718409))
        );
        assert_eq!(p("POINT(200 10)"), None);
        assert_eq!(p("POINT(1)"), None);
        assert_eq!(p("LINESTRING(1 2, 3 4)"), None);
    }
}
