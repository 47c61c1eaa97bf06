//! The fleet simulator: virtual cameras at a crossing point producing real H.264 segments
//! through ffmpeg (a test pattern tinted per camera, with a box whose position encodes the
//! segment number; dimmed in night mode), with shifts (assignment and return), night
//! periods and injected faults, all uploaded through the normal ingest path.
//!
//! Faults are given per camera (`--fault 2=crash`): `stop` (stopped by its wearer for a
//! minute mid-shift), `lose` (two segments never arrive), `crash` (power loss, recovered
//! after 30 s), `equivocate` (signs a second, different segment under a number already
//! used), `mute` (the microphone covered: silent audio for 30 % of the shift).
//! `--faults` is the set 0=stop, 1=lose, 2=crash, 3=equivocate, 4=mute. Other cameras
//! record cleanly.
//!
//! The cameras speak: each segment's sound is the camera's number and the time, spoken by
//! ffmpeg's `flite` voice over pink noise, encoded AAC in the same fragmented MP4.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use kordon_api::devices::{
    AssignRequest, AssignmentLogged, EnrollRequest, EnrollToken, Enrolled, ReturnRequest,
};
use kordon_api::inspections::{ImportResults, ImportStatus, InspectionIn, Officers};
use kordon_api::reference::{CrossingPointChanged, CrossingPointIn, OfficerChanged, OfficerIn};
use kordon_core::Hash;
use kordon_core::link::{Attestation, Event, EventKind, Link, LinkBody, Segment, genesis};
use kordon_core::note::SignerKey;
use kordon_core::time::Timestamp;

use crate::device::{hash_file, now};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Server URL.
    pub server: String,
    /// Administrator token of the server.
    pub admin_token: String,
    /// Number of cameras.
    pub cameras: usize,
    /// Length of the simulated shift, minutes (ending now).
    pub minutes: u64,
    /// Segment length, seconds.
    pub segment_seconds: u64,
    /// Crossing point code.
    pub crossing_point: String,
    /// Service number of the first camera's officer (`UA-<n>`, the next cameras' officers
    /// follow): crossing points simulated side by side need their own officers.
    pub first_officer: u32,
    /// Fault per camera index (see the module documentation).
    pub faults: Vec<(usize, Fault)>,
    /// Folder for the generated video.
    pub work: std::path::PathBuf,
}

/// A fault the simulator can inject into one camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Stopped by its wearer for a minute mid-shift.
    Stop,
    /// Two segments never arrive.
    Lose,
    /// Power loss, recovered after 30 s.
    Crash,
    /// A second, different segment under a used number.
    Equivocate,
    /// The microphone covered: silent audio for 30 % of the shift.
    Mute,
}

impl Fault {
    /// Parses `stop`, `lose`, `crash` or `equivocate`.
    pub fn parse(s: &str) -> Option<Fault> {
        Some(match s {
            "stop" => Fault::Stop,
            "lose" => Fault::Lose,
            "crash" => Fault::Crash,
            "equivocate" => Fault::Equivocate,
            "mute" => Fault::Mute,
            _ => return None,
        })
    }

    fn describe(self) -> &'static str {
        match self {
            Fault::Stop => "stopped by the wearer for 60 s mid-shift",
            Fault::Lose => "lost two segments",
            Fault::Crash => "crashed, recovered after 30 s",
            Fault::Equivocate => "equivocated on one segment",
            Fault::Mute => "microphone covered for 30 % of the shift",
        }
    }

    /// The `--faults` set: 0 stop, 1 lose, 2 crash, 3 equivocate, 4 mute.
    pub fn default_set() -> Vec<(usize, Fault)> {
        vec![
            (0, Fault::Stop),
            (1, Fault::Lose),
            (2, Fault::Crash),
            (3, Fault::Equivocate),
            (4, Fault::Mute),
        ]
    }
}

/// What was injected, for the report.
#[derive(Debug, Clone, Default)]
pub struct SimReport {
    /// `(device, officer, what was injected)`.
    pub cameras: Vec<(String, String, String)>,
    /// Segments uploaded.
    pub segments: usize,
    /// The simulated shift's time range (RFC 3339, whole minutes around it), for reports.
    pub from: String,
    /// End of it.
    pub to: String,
}

struct Cam {
    id: String,
    key: SignerKey,
    links: Vec<Link>,
    /// Segment files to upload with their links, by sequence number.
    files: Vec<(u64, std::path::PathBuf)>,
    /// Extra links sent after the chain (equivocation).
    extra: Vec<(Link, std::path::PathBuf)>,
    /// When its shift ended.
    shift_end: i64,
}

impl Cam {
    fn prev(&self) -> Hash {
        self.links
            .last()
            .map_or_else(|| genesis(&self.id), Link::hash)
    }

    fn event(&mut self, t: i64, kind: EventKind, detail: &str) -> Result<()> {
        let body = LinkBody::Event(Event {
            device: self.id.clone(),
            seq: self.links.len() as u64,
            time: Timestamp(t),
            kind,
            detail: detail.into(),
            prev: self.prev(),
        });
        self.links.push(Link::sign(body, &self.key)?);
        Ok(())
    }

    fn segment(&mut self, file: &Path, start: i64, len_ms: i64, night: bool) -> Result<Link> {
        let audio = crate::device::probe_audio(file)?;
        let (sha256, size) = hash_file(file)?;
        let seq = self.links.len() as u64;
        let body = LinkBody::Segment(Segment {
            device: self.id.clone(),
            seq,
            start: Timestamp(start),
            end: Timestamp(start + len_ms),
            size,
            sha256,
            night,
            audio,
            attested: Attestation::Device,
            prev: self.prev(),
        });
        let l = Link::sign(body, &self.key)?;
        self.links.push(l.clone());
        self.files.push((seq, file.to_path_buf()));
        Ok(l)
    }
}

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

/// How a simulated segment looks and sounds.
struct Look {
    night: bool,
    /// The microphone is covered: digital silence instead of speech over noise.
    muted: bool,
}

/// Makes one real H.264 + AAC fragmented-MP4 segment, with the device id, sequence number
/// and start time burned in when a font is available, and the camera number and time
/// spoken.
fn make_video(
    out: &Path,
    cam: usize,
    id: &str,
    seq: u64,
    start: Timestamp,
    seconds: u64,
    look: &Look,
) -> Result<()> {
    let night = look.night;
    let hue = (cam * 67) % 360;
    let x = (seq * 13) % 140;
    let mut vf = format!("hue=h={hue},drawbox=x={x}:y=50:w=20:h=20:color=white@0.9:t=fill");
    if Path::new(FONT).exists() {
        let when = start.to_string().replace(':', ".");
        vf.push_str(&format!(
            ",drawtext=fontfile={FONT}:fontsize=9:fontcolor=white:box=1:boxcolor=black@0.6:x=2:y=2:text='{id} #{seq}',drawtext=fontfile={FONT}:fontsize=9:fontcolor=white:box=1:boxcolor=black@0.6:x=2:y=105:text='{when}'"
        ));
    }
    if night {
        vf.push_str(",eq=brightness=-0.45:saturation=0");
    }
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size=160x120:rate=5:duration={seconds}"),
        ])
        .args(sound_args(cam, start, seconds, look.muted))
        .args([
            "-vf",
            &vf,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "10",
        ])
        .args([
            "-metadata",
            &format!("comment=kordon simulated camera {cam} segment {seq}"),
        ])
        .args([
            "-movflags",
            "+frag_keyframe+empty_moov+default_base_moof",
            "-f",
            "mp4",
            "-y",
        ])
        .arg(out)
        .status()
        .context("running ffmpeg (is it installed?)")?;
    if !status.success() {
        bail!("ffmpeg failed making {}", out.display());
    }
    Ok(())
}

/// The audio inputs and encoding of a simulated segment (input 1, and 2 for the noise).
fn sound_args(cam: usize, start: Timestamp, seconds: u64, muted: bool) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    if muted {
        a.extend(["-f", "lavfi", "-i"].map(String::from));
        a.push(format!("anullsrc=r=48000:cl=mono:d={seconds}"));
        a.extend(["-map", "0:v", "-map", "1:a"].map(String::from));
    } else {
        let t = start.to_string();
        let clock = t.get(11..19).unwrap_or("").replace(':', " ");
        a.extend(["-f", "lavfi", "-i"].map(String::from));
        a.push(format!("flite=text='camera {cam}, {clock}':voice=kal"));
        a.extend(["-f", "lavfi", "-i"].map(String::from));
        a.push(format!(
            "anoisesrc=color=pink:amplitude=0.02:d={seconds}:r=48000"
        ));
        a.push("-filter_complex".into());
        a.push(format!(
            "[1:a]aresample=48000,apad,atrim=0:{seconds}[v];[v][2:a]amix=inputs=2:duration=longest:normalize=0[a]"
        ));
        a.extend(["-map", "0:v", "-map", "[a]"].map(String::from));
    }
    a.extend(["-c:a", "aac", "-b:a", "48k", "-ac", "1", "-ar", "48000"].map(String::from));
    a
}

async fn admin<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    o: &SimOptions,
    path: &str,
    body: &B,
) -> Result<T> {
    let res = http
        .post(format!("{}{path}", o.server))
        .bearer_auth(&o.admin_token)
        .json(body)
        .send()
        .await?;
    crate::api::answer(res)
        .await
        .with_context(|| format!("POST {path}"))
}

/// The crossing point (Kyiv time) and its officers, as reference data.
async fn put_reference(http: &reqwest::Client, o: &SimOptions) -> Result<()> {
    let put = |path: String| {
        http.put(format!("{}{path}", o.server))
            .bearer_auth(&o.admin_token)
    };
    let cp = CrossingPointIn {
        name_uk: "Київ (навчальний)".into(),
        name_latin: "Kyiv (training)".into(),
        tz: "Europe/Kyiv".into(),
        lanes: vec!["1".into(), "2".into()],
    };
    let res = put(format!("/v1/crossing-points/{}", o.crossing_point))
        .json(&cp)
        .send()
        .await?;
    let _: CrossingPointChanged = crate::api::answer(res).await?;
    for c in 0..o.cameras {
        let officer = OfficerIn {
            name: format!("Officer {}", c + 1),
            crossing_point: o.crossing_point.clone(),
        };
        let res = put(format!("/v1/officers/UA-{}", o.first_officer as usize + c))
            .json(&officer)
            .send()
            .await?;
        let _: OfficerChanged = crate::api::answer(res).await?;
    }
    Ok(())
}

async fn put(
    http: &reqwest::Client,
    server: &str,
    link: &Link,
    file: Option<&Path>,
    health: Option<&kordon_api::devices::HealthReport>,
) -> Result<u16> {
    let segment = match file {
        Some(f) => {
            let bytes = tokio::fs::read(f).await?;
            let len = bytes.len() as u64;
            Some((reqwest::Body::from(bytes), len))
        }
        None => None,
    };
    let mut req = crate::api::link_request(http, server, link, segment);
    if let Some(h) = health {
        req = req.header(kordon_api::devices::HEALTH_HEADER, h.to_header());
    }
    Ok(req.send().await?.status().as_u16())
}

/// Runs the simulation.
///
/// # Errors
/// If ffmpeg or the server fail.
pub async fn simulate(o: &SimOptions) -> Result<SimReport> {
    let http = reqwest::Client::new();
    std::fs::create_dir_all(&o.work)?;
    let mut run = [0u8; 3];
    getrandom::fill(&mut run).map_err(|e| anyhow::anyhow!("{e}"))?;
    let run = hex::encode(run);
    let seg_ms = (o.segment_seconds * 1000) as i64;
    let count = (o.minutes * 60 / o.segment_seconds).max(4);
    let t_start = now().0 - count as i64 * seg_ms - 60_000;
    let mut report = SimReport::default();
    let mut cams = Vec::new();
    put_reference(&http, o).await?;
    for c in 0..o.cameras {
        let id = format!("sim-{run}-cam{c:02}");
        let officer = format!("UA-{}", o.first_officer as usize + c);
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("{e}"))?;
        let key = SignerKey::ed25519_from_seed(&id, seed)?;
        let token: EnrollToken = admin(
            &http,
            o,
            &format!("{}/enroll-token", kordon_api::devices::device_path(&id)),
            &(),
        )
        .await?;
        let enrolled = http
            .post(format!("{}/v1/enroll", o.server))
            .json(&EnrollRequest {
                device: id.clone(),
                token: token.token,
                key: key.verifier().to_string(),
            })
            .send()
            .await?;
        let _: Enrolled = crate::api::answer(enrolled)
            .await
            .with_context(|| format!("enrolling {id}"))?;
        let assign = AssignRequest {
            device: id.clone(),
            officer: officer.clone(),
            crossing_point: o.crossing_point.clone(),
            at: Some(Timestamp(t_start).to_string()),
        };
        let _: AssignmentLogged = admin(&http, o, "/v1/assignments", &assign).await?;
        let fault = o.faults.iter().find(|(i, _)| *i == c).map(|(_, f)| *f);
        let what = fault.map_or("clean", Fault::describe);
        report.cameras.push((id.clone(), officer, what.to_owned()));
        cams.push((
            c,
            fault,
            Cam {
                id,
                key,
                links: Vec::new(),
                files: Vec::new(),
                extra: Vec::new(),
                shift_end: t_start,
            },
        ));
    }
    eprintln!(
        "simulating {} cameras x {count} segments of {} s (real H.264 via ffmpeg) ...",
        o.cameras, o.segment_seconds
    );
    for (c, fault, cam) in &mut cams {
        let mut t = t_start;
        cam.event(t, EventKind::PowerOn, "agent started")?;
        cam.event(t, EventKind::RecordStart, "shift start")?;
        let mut night = false;
        let mut lost = Vec::new();
        for i in 0..count {
            let frac = i as f64 / count as f64;
            let want_night = (0.6..0.8).contains(&frac);
            if want_night != night {
                cam.event(
                    t,
                    if want_night {
                        EventKind::NightOn
                    } else {
                        EventKind::NightOff
                    },
                    "night signal",
                )?;
                night = want_night;
            }
            if *fault == Some(Fault::Stop) && i == count * 3 / 10 {
                cam.event(t, EventKind::RecordStop, "wearer pressed stop")?;
                t += 60_000;
                cam.event(t, EventKind::RecordStart, "wearer pressed record")?;
            }
            if *fault == Some(Fault::Crash) && i == count * 7 / 10 {
                t += 30_000;
                cam.event(t, EventKind::Recovered, "power loss; restarted")?;
                cam.event(t, EventKind::PowerOn, "agent started")?;
                cam.event(t, EventKind::RecordStart, "resumed after restart")?;
            }
            let file = o
                .work
                .join(format!("{}-{:05}.mp4", cam.id, cam.links.len()));
            let look = Look {
                night,
                muted: *fault == Some(Fault::Mute) && (0.2..0.5).contains(&frac),
            };
            make_video(
                &file,
                *c,
                &cam.id,
                cam.links.len() as u64,
                Timestamp(t),
                o.segment_seconds,
                &look,
            )?;
            let link = cam.segment(&file, t, seg_ms, night)?;
            if *fault == Some(Fault::Lose) && (i == count / 2 || i == count / 2 + 1) {
                lost.push(link.body().seq());
            }
            if *fault == Some(Fault::Equivocate) && i == count * 4 / 10 {
                let other = o
                    .work
                    .join(format!("{}-{:05}-twin.mp4", cam.id, link.body().seq()));
                make_video(
                    &other,
                    *c + 1,
                    &cam.id,
                    link.body().seq() + 1000,
                    Timestamp(t),
                    o.segment_seconds,
                    &look,
                )?;
                let (sha256, size) = hash_file(&other)?;
                let LinkBody::Segment(mut twin) = link.body().clone() else {
                    bail!("segment expected")
                };
                twin.sha256 = sha256;
                twin.size = size;
                cam.extra
                    .push((Link::sign(LinkBody::Segment(twin), &cam.key)?, other));
            }
            t += seg_ms;
        }
        cam.event(t, EventKind::RecordStop, "shift end")?;
        cam.event(t, EventKind::PowerOff, "clean shutdown")?;
        cam.shift_end = t;
        cam.files.retain(|(seq, _)| !lost.contains(seq));
        cam.links.retain(|l| !lost.contains(&l.body().seq()));
    }
    let pb = indicatif::ProgressBar::new(cams.iter().map(|(_, _, c)| c.links.len() as u64).sum());
    pb.set_style(
        indicatif::ProgressStyle::with_template("upload [{bar:40}] {pos}/{len} links")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for (c, _, cam) in &cams {
        for (k, l) in cam.links.iter().enumerate() {
            let file = cam
                .files
                .iter()
                .find(|(s, _)| *s == l.body().seq())
                .map(|(_, f)| f.as_path());
            // What the camera says of itself: each later camera starts the shift with
            // less charge, the last one ends it nearly flat.
            let health = kordon_api::devices::HealthReport {
                battery: Some((80 - 15 * *c as i64 - k as i64 / 4).max(3)),
                free_mib: Some(30_000),
                backlog_links: Some(0),
                backlog_bytes: Some(0),
                docked: Some(false),
                firmware: Some(format!("kordon-sim/{}", env!("CARGO_PKG_VERSION"))),
            };
            let st = put(&http, &o.server, l, file, Some(&health)).await?;
            if !(200..300).contains(&st) {
                bail!("upload of {} seq {} answered {st}", cam.id, l.body().seq());
            }
            if file.is_some() {
                report.segments += 1;
            }
            pb.inc(1);
        }
        for (l, f) in &cam.extra {
            let st = put(&http, &o.server, l, Some(f), None).await?;
            if st != 409 {
                bail!(
                    "the equivocating upload of {} answered {st}, expected 409",
                    cam.id
                );
            }
        }
        let back = ReturnRequest {
            device: cam.id.clone(),
            at: Some(Timestamp(cam.shift_end).to_string()),
        };
        let _: AssignmentLogged = admin(&http, o, "/v1/assignments/return", &back).await?;
    }
    pb.finish_and_clear();
    // One inspection per officer over the whole shift, as the customs IT system would
    // send it; the first two share a vehicle (spelt in Cyrillic and in Latin letters).
    let inspections: Vec<InspectionIn> = cams
        .iter()
        .map(|(c, _, cam)| {
            let plate = match c {
                0 => "АА 1234 ВВ".to_owned(),
                1 => "aa1234bb".to_owned(),
                _ => format!("KA {:04} KA", c),
            };
            InspectionIn {
                inspection_id: format!(
                    "{}-insp{c:02}",
                    cam.id.split("-cam").next().unwrap_or("sim")
                ),
                crossing_point: o.crossing_point.clone(),
                lane: format!("{}", c % 2 + 1),
                officers: Officers::List(vec![format!("UA-{}", o.first_officer as usize + c)]),
                start: Timestamp(t_start).to_string(),
                end: Timestamp(cam.shift_end).to_string(),
                vehicle_plate: plate,
                declaration_no: format!("UA100000/2026/{:06}", c),
                kind: "vehicle".into(),
                outcome: "cleared".into(),
                declarant: None,
            }
        })
        .collect();
    let res: ImportResults = admin(&http, o, "/v1/inspections", &inspections).await?;
    let last = cams.iter().map(|c| c.2.shift_end).max().unwrap_or(t_start);
    report.from = Timestamp(t_start - t_start.rem_euclid(60_000)).to_string();
    report.to = Timestamp(last - last.rem_euclid(60_000) + 60_000).to_string();
    if let Some(r) = res.results.iter().find(|r| r.status == ImportStatus::Error) {
        bail!(
            "inspection refused: {}",
            r.error.as_deref().unwrap_or_default()
        );
    }
    Ok(report)
}
