//! `[axis]`: kordon as the content destination of an AXIS Body Worn system
//! (`docs/axis.md`).

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// A category the body-worn system offers its users (`System/Categories.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AxisCategory {
    /// Stable id.
    pub id: String,
    /// What users see.
    pub name: String,
}

/// The system controller's connection to this server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AxisConfig {
    /// The user name the system controller authenticates with (`X-Auth-User`); its key is
    /// `keys/axis-key` in the data folder, created at the first start.
    pub user: String,
    /// The site name the connection file gives AXIS Body Worn Manager.
    pub site_name: String,
    /// How the system controller reaches this server (scheme, host and port; behind a TLS
    /// proxy, its `https://` address).
    pub public_url: String,
    /// The crossing point whose officers wear these cameras (recordings become
    /// assignments there).
    pub crossing_point: String,
    /// Clips received at once; one more is answered `503` (the controller retries).
    pub max_uploads: usize,
    /// Below this much free space (MiB) in the data folder, uploads are answered `507`.
    pub min_free_mib: u64,
    /// The categories users can give a recording.
    pub categories: Vec<AxisCategory>,
}

impl Default for AxisConfig {
    fn default() -> Self {
        let category = |id: &str, name: &str| AxisCategory {
            id: id.into(),
            name: name.into(),
        };
        AxisConfig {
            user: "axis".into(),
            site_name: "kordon".into(),
            public_url: "http://127.0.0.1:8420".into(),
            crossing_point: String::new(),
            max_uploads: 4,
            min_free_mib: 1024,
            categories: vec![
                category("inspection", "Огляд / Inspection"),
                category("complaint", "Скарга / Complaint"),
                category("seizure", "Вилучення / Seizure"),
                category("incident", "Інцидент / Incident"),
            ],
        }
    }
}

impl AxisConfig {
    /// `[axis]` from the environment: `KORDON_AXIS_USER` turns it on, with
    /// `KORDON_AXIS_URL`, `KORDON_AXIS_SITE`, `KORDON_AXIS_CROSSING_POINT`.
    pub(super) fn from_env(current: Option<AxisConfig>) -> Result<Option<AxisConfig>, ConfigError> {
        let Ok(user) = std::env::var("KORDON_AXIS_USER") else {
            return Ok(current);
        };
        let mut a = current.unwrap_or_default();
        a.user = user;
        for (name, field) in [
            ("KORDON_AXIS_URL", &mut a.public_url),
            ("KORDON_AXIS_SITE", &mut a.site_name),
            ("KORDON_AXIS_CROSSING_POINT", &mut a.crossing_point),
        ] {
            if let Ok(v) = std::env::var(name) {
                *field = v;
            }
        }
        Ok(Some(a))
    }

    /// What is wrong with it, if anything.
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let bad = |name, message: &str| {
            Err(ConfigError::Invalid {
                name,
                message: message.into(),
            })
        };
        if self.user.is_empty()
            || self
                .user
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return bad("axis.user", "1 or more characters without spaces");
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return bad("axis.public_url", "an http:// or https:// address");
        }
        if self.crossing_point.is_empty() {
            return bad(
                "axis.crossing_point",
                "the code of the crossing point whose officers wear these cameras",
            );
        }
        if self.max_uploads == 0 {
            return bad("axis.max_uploads", "at least 1");
        }
        Ok(())
    }
}
