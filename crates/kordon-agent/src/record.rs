//! Recording: ffmpeg cuts the source into fragmented-MP4 segments; each closed segment is
//! hashed, its manifest signed and chained, and both are spooled durably before the next.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use kordon_core::link::{Attestation, EventKind};
use kordon_core::time::Timestamp;

use crate::device::{Device, now};

/// How to record.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// `testsrc`, `file:<path>`, an `rtsp://` URL or a `/dev/video*` device.
    pub source: String,
    /// Segment length in seconds.
    pub segment_seconds: u32,
    /// Stop after this many seconds (default: until interrupted).
    pub duration: Option<u64>,
    /// File whose content (`1`/`0`) is the camera's night (IR) signal; without it the
    /// agent measures frame brightness.
    pub night_file: Option<PathBuf>,
    /// Upload while recording.
    pub upload: bool,
    /// Frame size and rate of the test pattern.
    pub size: String,
    /// Frames per second of the test pattern.
    pub fps: u32,
    /// Raise `storage-full` when less than this many MiB are free in the spool.
    pub min_free_mib: u64,
    /// Where batteries are described (`/sys/class/power_supply`).
    pub power_supply: PathBuf,
    /// File whose content (`1`/`0`) says whether the camera sits in its dock.
    pub dock_file: Option<PathBuf>,
    /// Where the sound comes from.
    pub audio: AudioInput,
}

/// The camera's microphone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioInput {
    /// The source's own audio track (a file or RTSP stream; a 1 kHz beep each second
    /// for `testsrc`); a source without one records `audio: none`.
    Source,
    /// An ALSA capture device (`default`, `hw:1,0`).
    Alsa(String),
    /// A PulseAudio source.
    Pulse(String),
    /// A camera without a microphone: every manifest says `audio: none`.
    None,
}

impl AudioInput {
    /// Parses `source`, `alsa:<device>`, `pulse:<device>` or `none`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "source" => AudioInput::Source,
            "none" => AudioInput::None,
            _ => match s.split_once(':')? {
                ("alsa", d) if !d.is_empty() => AudioInput::Alsa(d.into()),
                ("pulse", d) if !d.is_empty() => AudioInput::Pulse(d.into()),
                _ => return None,
            },
        })
    }
}

/// Watches the wall clock against the monotonic clock: a jump of more than 2 s (the clock
/// was set) is a signed `clock-sync` event, and segment times follow the new clock.
struct ClockWatch {
    mono: std::time::Instant,
    wall: i64,
}

impl ClockWatch {
    fn new() -> Self {
        ClockWatch {
            mono: std::time::Instant::now(),
            wall: now().0,
        }
    }

    /// The jump in milliseconds since the last call, if the clock was set.
    fn jump(&mut self) -> Option<i64> {
        let expected = self.wall + i64::try_from(self.mono.elapsed().as_millis()).unwrap_or(0);
        let actual = now().0;
        self.mono = std::time::Instant::now();
        self.wall = actual;
        let d = actual - expected;
        (d.abs() > 2000).then_some(d)
    }
}

fn flag(path: Option<&Path>) -> Option<bool> {
    path.map(|p| std::fs::read_to_string(p).is_ok_and(|v| matches!(v.trim(), "1" | "on" | "yes")))
}

/// Device health watched while recording: free spool space and battery. Each warning is
/// a signed event, raised once when the condition starts; nothing is ever deleted to make
/// room.
#[derive(Default)]
struct Health {
    storage_low: bool,
    battery_low: bool,
}

/// An event noticed while a segment was open, written after that segment is sealed.
type Noticed = (EventKind, String, Timestamp);

impl Health {
    fn check(&mut self, dev: &Device, o: &RecordOptions, out: &mut Vec<Noticed>) {
        let free = fs4::available_space(dev.spool.dir()).unwrap_or(u64::MAX) >> 20;
        let low = free < o.min_free_mib;
        if low && !self.storage_low {
            let detail =
                format!("{free} MiB free in the spool; nothing is deleted, upload to free space");
            out.push((EventKind::StorageFull, detail, now()));
        }
        self.storage_low = low;
        let battery = crate::device::battery_percent(&o.power_supply);
        let low = battery.is_some_and(|b| b <= 15);
        if low && !self.battery_low {
            out.push((
                EventKind::BatteryLow,
                format!("battery at {}%", battery.unwrap_or(0)),
                now(),
            ));
        }
        self.battery_low = low;
    }
}

/// Writes the noticed events that happened before the end of the last sealed segment
/// (all of them when `all`), each no earlier than the start of the link before it, so a
/// segment never starts before an event that precedes it in the chain.
fn flush(dev: &Device, noticed: &mut Vec<Noticed>, all: bool) -> Result<()> {
    let head = dev
        .spool
        .head()?
        .and_then(|(_, _, b)| kordon_core::link::Link::parse(&b).ok());
    let limit = head.as_ref().map(|l| l.body().end());
    noticed.sort_by_key(|n| n.2);
    let (now_due, later): (Vec<Noticed>, Vec<Noticed>) = noticed
        .drain(..)
        .partition(|n| all || limit.is_none_or(|l| n.2 <= l));
    *noticed = later;
    let mut floor = head.map(|l| l.body().start());
    for (kind, detail, time) in now_due {
        let time = match floor {
            Some(f) if f > time && kind != EventKind::ClockSync => f,
            _ => time,
        };
        dev.event_at(kind, &detail, time)?;
        floor = Some(time);
    }
    Ok(())
}

/// ffmpeg's inputs and stream maps: video from the source, audio as [`AudioInput`] says,
/// encoded AAC (mono, 48 kHz) into the same fragments as the video.
fn input_args(o: &RecordOptions) -> Vec<String> {
    let mut args = video_input(o);
    let second = |format: &str, input: &str| ["-f", format, "-i", input].map(String::from);
    let audio_map = match &o.audio {
        AudioInput::None => None,
        AudioInput::Source if o.source == "testsrc" => {
            args.extend(second(
                "lavfi",
                "sine=frequency=1000:beep_factor=4:sample_rate=48000",
            ));
            Some("1:a:0")
        }
        AudioInput::Source => Some("0:a:0?"),
        AudioInput::Alsa(d) => {
            args.extend(second("alsa", d));
            Some("1:a:0")
        }
        AudioInput::Pulse(d) => {
            args.extend(second("pulse", d));
            Some("1:a:0")
        }
    };
    args.extend(["-map", "0:v:0"].map(String::from));
    match audio_map {
        Some(m) => args.extend(
            [
                "-map", m, "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-ar", "48000",
            ]
            .map(String::from),
        ),
        None => args.push("-an".into()),
    }
    args
}

fn video_input(o: &RecordOptions) -> Vec<String> {
    let s = &o.source;
    if s == "testsrc" {
        vec![
            "-re".into(),
            "-f".into(),
            "lavfi".into(),
            "-i".into(),
            format!("testsrc2=size={}:rate={}", o.size, o.fps),
        ]
    } else if let Some(path) = s.strip_prefix("file:") {
        vec!["-re".into(), "-i".into(), path.into()]
    } else if s.starts_with("rtsp://") {
        vec![
            "-rtsp_transport".into(),
            "tcp".into(),
            "-i".into(),
            s.clone(),
        ]
    } else {
        vec!["-f".into(), "v4l2".into(), "-i".into(), s.clone()]
    }
}

/// The night signal, or brightness of the segment's first frame (mean luma below 50 of 255).
async fn is_night(file: &Path, night_file: Option<&Path>) -> bool {
    if let Some(f) = night_file {
        return std::fs::read_to_string(f).is_ok_and(|v| matches!(v.trim(), "1" | "on" | "night"));
    }
    let out = tokio::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args([
            "-frames:v",
            "1",
            "-vf",
            "scale=64:36,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-",
            "-f",
            "null",
            "-",
        ])
        .output()
        .await;
    let Ok(out) = out else { return false };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("lavfi.signalstats.YAVG=")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .is_some_and(|y| y < 50.0)
}

/// Files left in the work folder by a crash: kept, never deleted, and reported by a
/// signed `recovered` event.
pub fn recover(dev: &Device) -> Result<usize> {
    let mut n = 0;
    let mut kept = Vec::new();
    for e in std::fs::read_dir(dev.spool.work())? {
        let p = e?.path();
        if p.extension().is_some_and(|x| x == "mp4") {
            let size = std::fs::metadata(&p)?.len();
            let dest = dev.spool.keep_recovered(&p)?;
            kept.push(format!(
                "{} ({size} bytes)",
                dest.file_name().and_then(|f| f.to_str()).unwrap_or("?")
            ));
            n += 1;
        } else {
            std::fs::remove_file(&p)?;
        }
    }
    if !kept.is_empty() {
        let detail = format!(
            "interrupted recording; partial segment kept in spool/recovered: {}",
            kept.join(", ")
        );
        dev.event(
            EventKind::Recovered,
            &detail.chars().take(500).collect::<String>(),
        )?;
    }
    Ok(n)
}

struct ListReader {
    path: PathBuf,
    done: usize,
}

impl ListReader {
    /// New complete lines of ffmpeg's segment list: `(file, start s, end s)`.
    fn new_lines(&mut self) -> Vec<(String, f64, f64)> {
        let Ok(text) = std::fs::read_to_string(&self.path) else {
            return vec![];
        };
        let lines: Vec<&str> = text
            .split_inclusive('\n')
            .filter(|l| l.ends_with('\n'))
            .collect();
        let mut out = Vec::new();
        for l in &lines[self.done.min(lines.len())..] {
            let mut f = l.trim().split(',');
            if let (Some(name), Some(s), Some(e)) = (f.next(), f.next(), f.next())
                && let (Ok(s), Ok(e)) = (s.parse(), e.parse())
            {
                out.push((name.to_owned(), s, e));
            }
        }
        self.done = lines.len();
        out
    }
}

/// Records until the duration is reached or the process is interrupted.
///
/// # Errors
/// If ffmpeg cannot be started or the spool cannot be written.
pub async fn record(dev: &Device, o: &RecordOptions) -> Result<()> {
    let recovered = recover(dev)?;
    if recovered > 0 {
        eprintln!("kordon-agent: kept {recovered} interrupted segment(s) from the last run");
    }
    dev.event(EventKind::PowerOn, "agent started")?;
    dev.event(EventKind::RecordStart, &format!("source {}", o.source))?;
    // Health is checked before the clock of the first segment starts.
    let mut health = Health::default();
    let mut noticed: Vec<Noticed> = Vec::new();
    health.check(dev, o, &mut noticed);
    flush(dev, &mut noticed, false)?;
    let work = dev.spool.work();
    let list = work.join("list.csv");
    let gop = o.fps.max(1) * 2;
    let mut cmd = tokio::process::Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin"])
        .args(input_args(o))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-g",
            &gop.to_string(),
            "-sc_threshold",
            "0",
        ])
        .args([
            "-force_key_frames",
            &format!("expr:gte(t,n_forced*{})", o.segment_seconds),
        ])
        .args([
            "-f",
            "segment",
            "-segment_time",
            &o.segment_seconds.to_string(),
            "-segment_format",
            "mp4",
        ])
        .args([
            "-segment_format_options",
            "movflags=+frag_keyframe+empty_moov+default_base_moof",
            "-reset_timestamps",
            "1",
        ])
        .arg("-segment_list")
        .arg(&list)
        .args(["-segment_list_type", "csv"])
        .arg(work.join("%09d.mp4"))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    // -nostdin: stop with SIGINT (ffmpeg finishes the open segment and writes its list line).
    let mut child = cmd.spawn().context("starting ffmpeg (is it installed?)")?;
    let mut t0 = now();
    let mut clock = ClockWatch::new();
    let mut docked = flag(o.dock_file.as_deref()).unwrap_or(false);
    let pid = child.id();
    let mut reader = ListReader {
        path: list,
        done: 0,
    };
    let mut night: Option<bool> = None;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let deadline = o
        .duration
        .map(|d| tokio::time::Instant::now() + Duration::from_secs(d));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut failures = 0u32;
    let mut next_upload = tokio::time::Instant::now();
    let mut ended: Option<std::process::ExitStatus> = None;
    let reason: String;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = tokio::signal::ctrl_c() => { reason = "stopped by the wearer".into(); break; }
            _ = term.recv() => { reason = "stopped by the system (SIGTERM)".into(); break; }
            status = child.wait() => {
                let status = status?;
                ended = Some(status);
                reason = format!("source ended (ffmpeg {status})");
                break;
            }
        }
        if seal(dev, &mut reader, &work, t0, &mut night, o).await? > 0 {
            // Events noticed while the sealed segments were open follow them in the chain.
            flush(dev, &mut noticed, false)?;
            health.check(dev, o, &mut noticed);
        }
        if let Some(ms) = clock.jump() {
            noticed.push((
                EventKind::ClockSync,
                format!("wall clock set by {ms:+} ms"),
                now(),
            ));
            t0 = Timestamp(t0.0 + ms);
        }
        if let Some(d) = flag(o.dock_file.as_deref())
            && d != docked
        {
            let kind = if d {
                EventKind::Docked
            } else {
                EventKind::Undocked
            };
            noticed.push((kind, "dock signal".into(), now()));
            docked = d;
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            reason = "recording duration reached".into();
            break;
        }
        if o.upload && tokio::time::Instant::now() >= next_upload {
            let p = crate::upload::pass(&http, &dev.settings.server, &dev.spool, false).await?;
            failures = if p.unreachable { failures + 1 } else { 0 };
            next_upload = tokio::time::Instant::now() + crate::upload::backoff(failures);
        }
    }
    if ended.is_none() {
        if let Some(pid) = pid {
            // SIGINT: ffmpeg closes the current segment cleanly and lists it.
            let _ = std::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(Duration::from_secs(15), child.wait()).await {
            Ok(status) => ended = Some(status?),
            Err(_) => child.kill().await?,
        }
    }
    seal(dev, &mut reader, &work, t0, &mut night, o).await?;
    flush(dev, &mut noticed, true)?;
    dev.event(EventKind::RecordStop, &reason)?;
    dev.event(EventKind::PowerOff, "clean shutdown")?;
    if o.upload {
        crate::upload::pass(&http, &dev.settings.server, &dev.spool, true).await?;
    }
    if let Some(status) = ended
        && !status.success()
        && status.code() != Some(255)
    {
        bail!("ffmpeg ended with {status}");
    }
    Ok(())
}

/// Signs and spools every segment ffmpeg has closed since the last call; returns how many.
async fn seal(
    dev: &Device,
    reader: &mut ListReader,
    work: &Path,
    t0: Timestamp,
    night: &mut Option<bool>,
    o: &RecordOptions,
) -> Result<usize> {
    let mut n = 0;
    for (name, s, e) in reader.new_lines() {
        let file = work.join(&name);
        if !file.exists() {
            continue;
        }
        let is_night = is_night(&file, o.night_file.as_deref()).await;
        if *night != Some(is_night) {
            if night.is_some() {
                let kind = if is_night {
                    EventKind::NightOn
                } else {
                    EventKind::NightOff
                };
                let at = Timestamp(t0.0 + (s * 1000.0).round() as i64);
                let why = if o.night_file.is_some() {
                    "night signal"
                } else {
                    "frame brightness"
                };
                dev.event_at(kind, why, at)?;
            }
            *night = Some(is_night);
        }
        let start = Timestamp(t0.0 + (s * 1000.0).round() as i64);
        let end = Timestamp(t0.0 + (e * 1000.0).round() as i64);
        dev.segment(
            &dev.settings.device,
            &file,
            start,
            end,
            is_night,
            Attestation::Device,
        )?;
        n += 1;
    }
    Ok(n)
}
