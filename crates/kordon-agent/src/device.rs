//! The device's identity and chain: its key, its settings, and the signing of the next
//! link after the spool's head.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use kordon_core::Hash;
use kordon_core::link::{Attestation, Audio, Event, EventKind, Link, LinkBody, Segment, genesis};
use kordon_core::note::SignerKey;
use kordon_core::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::spool::Spool;

/// `agent.toml` in the agent folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Server URL.
    pub server: String,
    /// This device's id (the camera's serial, or the dock's id in dock mode).
    pub device: String,
}

/// A device: key, settings, spool.
pub struct Device {
    /// Its settings.
    pub settings: Settings,
    /// Its signing key (Ed25519 or ECDSA P-256).
    pub key: SignerKey,
    /// Its spool.
    pub spool: Spool,
}

/// Wall-clock time now.
pub fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    )
}

fn write_secret(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

impl Device {
    /// Creates the folder, the key (never overwriting one) and the settings.
    ///
    /// # Errors
    /// If a key already exists or the folder cannot be written.
    pub fn create(dir: &Path, settings: Settings, key_name: &str, p256: bool) -> Result<Device> {
        std::fs::create_dir_all(dir)?;
        let key_path = dir.join("device.key");
        if key_path.exists() {
            bail!(
                "{} already exists: this device has a key; never replace it",
                key_path.display()
            );
        }
        let mut seed = [0u8; 32];
        let key = loop {
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let k = if p256 {
                SignerKey::ecdsa_p256_from_scalar(key_name, seed)
            } else {
                SignerKey::ed25519_from_seed(key_name, seed)
            };
            // A random scalar is out of range with negligible probability; draw again then.
            if let Ok(k) = k {
                break k;
            }
        };
        write_secret(&key_path, &key.to_key_string())?;
        std::fs::write(dir.join("agent.toml"), toml::to_string(&settings)?)?;
        Ok(Device {
            settings,
            key,
            spool: Spool::open(dir.join("spool"))?,
        })
    }

    /// Opens an initialised agent folder.
    ///
    /// # Errors
    /// If it was not initialised, or its key file is readable by others.
    pub fn open(dir: &Path) -> Result<Device> {
        use std::os::unix::fs::PermissionsExt as _;
        let key_path = dir.join("device.key");
        let meta = std::fs::metadata(&key_path)
            .with_context(|| format!("{}: run kordon-agent init first", key_path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            bail!("{} is readable by others; chmod 600 it", key_path.display());
        }
        let key = SignerKey::parse(std::fs::read_to_string(&key_path)?.trim())
            .with_context(|| format!("{}", key_path.display()))?;
        let settings: Settings = toml::from_str(&std::fs::read_to_string(dir.join("agent.toml"))?)
            .context("agent.toml")?;
        Ok(Device {
            settings,
            key,
            spool: Spool::open(dir.join("spool"))?,
        })
    }

    fn next(&self, device: &str) -> Result<(u64, Hash)> {
        Ok(match self.spool.head()? {
            Some((seq, hash, _)) => (seq + 1, hash),
            None => (0, genesis(device)),
        })
    }

    /// Signs and spools an event. Its time is the clock, but never before the end of the
    /// previous link: segment times are derived from ffmpeg's stream clock, which can run
    /// a few milliseconds ahead of the wall clock read when ffmpeg started.
    ///
    /// # Errors
    /// Signing or IO errors.
    pub fn event(&self, kind: EventKind, detail: &str) -> Result<Link> {
        let last_end = self
            .spool
            .head()?
            .and_then(|(_, _, bytes)| Link::parse(&bytes).ok())
            .map(|l| l.body().end());
        let time = match last_end {
            Some(end) if end > now() && kind != EventKind::ClockSync => end,
            _ => now(),
        };
        self.event_at(kind, detail, time)
    }

    /// Signs and spools an event that happened at `time` (for events noticed while a
    /// segment was open, written once that segment is sealed).
    ///
    /// # Errors
    /// Signing or IO errors.
    pub fn event_at(&self, kind: EventKind, detail: &str, time: Timestamp) -> Result<Link> {
        let (seq, prev) = self.next(&self.settings.device)?;
        let body = LinkBody::Event(Event {
            device: self.settings.device.clone(),
            seq,
            time,
            kind,
            detail: detail.into(),
            prev,
        });
        let link = Link::sign(body, &self.key)?;
        self.spool.add(&link, None)?;
        Ok(link)
    }

    /// Hashes a closed segment file, signs its manifest and moves it into the spool.
    ///
    /// # Errors
    /// Signing or IO errors.
    pub fn segment(
        &self,
        device: &str,
        file: &Path,
        start: Timestamp,
        end: Timestamp,
        night: bool,
        attested: Attestation,
    ) -> Result<Link> {
        let audio = probe_audio(file)?;
        let (sha256, size) = hash_file(file)?;
        let (seq, prev) = self.next(device)?;
        let body = LinkBody::Segment(Segment {
            device: device.into(),
            seq,
            start,
            end,
            size,
            sha256,
            night,
            audio,
            attested,
            prev,
        });
        let link = Link::sign(body, &self.key)?;
        self.spool.add(&link, Some(file))?;
        Ok(link)
    }
}

/// What a segment file says of its sound, measured by ffmpeg as `kordon_core::audio`
/// prescribes (the same rule the server and anyone checking later use). A file ffmpeg
/// cannot read as media (a recording cut by power loss) has no sound anyone can hear:
/// `none`, and it is signed all the same: footage is never held back for its audio.
///
/// # Errors
/// If ffmpeg cannot be run.
pub fn probe_audio(file: &Path) -> Result<Audio> {
    let out = std::process::Command::new("ffmpeg")
        .args(kordon_core::audio::probe_args(&file.to_string_lossy()))
        .stdin(std::process::Stdio::null())
        .output()
        .context("running ffmpeg (is it installed?)")?;
    Ok(
        kordon_core::audio::from_probe(&String::from_utf8_lossy(&out.stderr))
            .unwrap_or(Audio::None),
    )
}

/// The lowest capacity (percent) of any battery under `dir`, if there is one.
pub fn battery_percent(dir: &Path) -> Option<u32> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| std::fs::read_to_string(p.join("type")).is_ok_and(|t| t.trim() == "Battery"))
        .filter_map(|p| {
            std::fs::read_to_string(p.join("capacity"))
                .ok()?
                .trim()
                .parse()
                .ok()
        })
        .min()
}

/// What the camera says of itself with every upload (`Kordon-Health`): battery (from
/// `/sys/class/power_supply`), free spool space, upload backlog, agent version.
pub fn health_report(spool: &crate::spool::Spool) -> kordon_api::devices::HealthReport {
    let (links, bytes) = spool.backlog().unwrap_or((0, 0));
    kordon_api::devices::HealthReport {
        battery: battery_percent(Path::new("/sys/class/power_supply")).map(i64::from),
        free_mib: fs4::available_space(spool.dir())
            .ok()
            .map(|b| i64::try_from(b >> 20).unwrap_or(i64::MAX)),
        backlog_links: i64::try_from(links).ok(),
        backlog_bytes: i64::try_from(bytes).ok(),
        docked: None,
        firmware: Some(format!("kordon-agent/{}", env!("CARGO_PKG_VERSION"))),
    }
}

/// SHA-256 and size of a file, streamed.
///
/// # Errors
/// IO errors.
pub fn hash_file(path: &Path) -> Result<(Hash, u64)> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut f = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let r = f.read(&mut buf)?;
        if r == 0 {
            break;
        }
        n += r as u64;
        h.update(&buf[..r]);
    }
    Ok((Hash(h.finalize().into()), n))
}
