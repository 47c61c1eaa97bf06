//! `kordon-agent`: runs on (or next to) a body camera. It creates the device key and
//! enrolls, records through ffmpeg into signed, hash-chained segments, keeps them in a
//! durable spool, uploads them when the server is reachable, and imports files from
//! cameras that cannot sign (dock mode). It depends on `kordon-core` and an HTTP client
//! only: no server code runs on a camera.

use kordon_agent::{device, dock, record, simulate, upload};

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};

use device::{Device, Settings};

#[derive(Parser)]
#[command(
    name = "kordon-agent",
    version,
    about = "kordon's camera agent: record, sign, spool, upload"
)]
struct Cli {
    /// The agent's folder: key, settings, spool.
    #[arg(
        long,
        global = true,
        env = "KORDON_AGENT_DIR",
        default_value = "kordon-agent"
    )]
    dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the device key and enroll with the server using a one-time token.
    Init {
        /// Server URL.
        #[arg(long)]
        server: String,
        /// One-time enrollment token (from `kordon device enroll`).
        #[arg(long, env = "KORDON_ENROLL_TOKEN", hide_env_values = true)]
        token: String,
        /// Camera id (serial).
        #[arg(long)]
        device: String,
        /// ECDSA P-256 key instead of Ed25519 (what secure elements sign with).
        #[arg(long)]
        p256: bool,
        /// Dock mode: this agent signs for a camera that cannot, with a key named after the dock.
        #[arg(long)]
        dock: Option<String>,
    },
    /// Record segments from a source and upload them.
    Record {
        /// `testsrc`, `file:<path>`, `rtsp://...` or `/dev/videoN`.
        #[arg(long, default_value = "testsrc")]
        source: String,
        /// Segment length in seconds.
        #[arg(long, default_value_t = 10)]
        segment_seconds: u32,
        /// Stop after this many seconds.
        #[arg(long)]
        duration: Option<u64>,
        /// File with the camera's night (IR) signal, `1` or `0`.
        #[arg(long)]
        night_file: Option<PathBuf>,
        /// Only spool; do not upload.
        #[arg(long)]
        no_upload: bool,
        /// Test pattern frame size.
        #[arg(long, default_value = "640x360")]
        size: String,
        /// Test pattern frame rate.
        #[arg(long, default_value_t = 15)]
        fps: u32,
        /// Raise a storage-full event below this much free spool space (MiB).
        #[arg(long, default_value_t = 512)]
        min_free_mib: u64,
        /// Where the battery is described.
        #[arg(long, default_value = "/sys/class/power_supply")]
        power_supply: PathBuf,
        /// File with the dock signal, `1` when the camera sits in its dock.
        #[arg(long)]
        dock_file: Option<PathBuf>,
        /// The microphone: `source` (the audio of the file or RTSP source; a beep for
        /// `testsrc`), `alsa:<device>`, `pulse:<device>`, or `none` for a camera without one.
        #[arg(long, default_value = "source", value_parser = parse_audio)]
        audio: record::AudioInput,
    },
    /// Upload what is spooled (once, or until the backlog is empty with --wait).
    Upload {
        /// Keep retrying with backoff until everything is confirmed.
        #[arg(long)]
        wait: bool,
    },
    /// Chain head, spool and backlog.
    Status,
    /// Simulate a crossing point: cameras, shifts, night, faults; real H.264 through ffmpeg.
    Simulate {
        /// Server URL.
        #[arg(long, default_value = "http://127.0.0.1:8420")]
        server: String,
        /// The server's administrator token.
        #[arg(long, env = "KORDON_TOKEN", hide_env_values = true)]
        admin_token: String,
        /// Number of cameras.
        #[arg(long, default_value_t = 4)]
        cameras: usize,
        /// Length of the shift in minutes (it ends now).
        #[arg(long, default_value_t = 5)]
        minutes: u64,
        /// Segment length in seconds.
        #[arg(long, default_value_t = 10)]
        segment_seconds: u64,
        /// Crossing point code.
        #[arg(long, default_value = "UA-KYIV-01")]
        crossing_point: String,
        /// Inject the usual faults: camera 0 stopped by its wearer, 1 loses segments, 2 crashes, 3 equivocates, 4 has its microphone covered.
        #[arg(long)]
        faults: bool,
        /// Inject a fault into one camera: `<index>=<stop|lose|crash|equivocate|mute>` (repeatable).
        #[arg(long = "fault", value_parser = parse_fault)]
        fault: Vec<(usize, simulate::Fault)>,
    },
    /// Import the files of a camera that cannot sign (mounted folder).
    Dock {
        /// The camera's folder.
        #[arg(long)]
        from: PathBuf,
    },
}

fn main() {
    let cli = Cli::parse();
    let code = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => match rt.block_on(run(cli)) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("kordon-agent: {e:#}");
                1
            }
        },
        Err(e) => {
            eprintln!("kordon-agent: {e}");
            1
        }
    };
    std::process::exit(code);
}

async fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Init {
            server,
            token,
            device,
            p256,
            dock,
        } => {
            if !kordon_core::link::is_valid_device_id(&device) {
                bail!("{device:?} is not a valid device id (1-64 of A-Z a-z 0-9 . _ - : /)");
            }
            let server = server.trim_end_matches('/').to_owned();
            let key_name = dock.as_deref().unwrap_or(&device);
            let dev = Device::create(
                &cli.dir,
                Settings {
                    server: server.clone(),
                    device: device.clone(),
                },
                key_name,
                p256,
            )?;
            let body = kordon_api::devices::EnrollRequest {
                device: device.clone(),
                token,
                key: dev.key.verifier().to_string(),
            };
            let res = reqwest::Client::new()
                .post(format!("{server}/v1/enroll"))
                .json(&body)
                .send()
                .await
                .context("contacting the server")?;
            let _: kordon_api::devices::Enrolled = kordon_agent::api::answer(res)
                .await
                .context("enrollment refused")?;
            println!("device {device} enrolled with key {}", dev.key.verifier());
            Ok(0)
        }
        Command::Record {
            source,
            segment_seconds,
            duration,
            night_file,
            no_upload,
            size,
            fps,
            min_free_mib,
            power_supply,
            dock_file,
            audio,
        } => {
            let dev = Device::open(&cli.dir)?;
            let o = record::RecordOptions {
                source,
                segment_seconds,
                duration,
                night_file,
                upload: !no_upload,
                size,
                fps,
                min_free_mib,
                power_supply,
                dock_file,
                audio,
            };
            record::record(&dev, &o).await?;
            Ok(0)
        }
        Command::Upload { wait } => {
            let dev = Device::open(&cli.dir)?;
            let http = reqwest::Client::new();
            let mut failures = 0;
            loop {
                let p = upload::pass(&http, &dev.settings.server, &dev.spool, true).await?;
                let (left, _) = dev.spool.backlog()?;
                println!(
                    "confirmed {}, refused {}, waiting {left}",
                    p.confirmed, p.rejected
                );
                if left == 0 || !wait {
                    return Ok(if left == 0 { 0 } else { 3 });
                }
                failures += 1;
                tokio::time::sleep(upload::backoff(failures)).await;
            }
        }
        Command::Status => {
            let dev = Device::open(&cli.dir)?;
            let head = dev.spool.head()?;
            let (n, bytes) = dev.spool.backlog()?;
            let contact = std::fs::read_to_string(dev.spool.dir().join("last-contact"))
                .unwrap_or_else(|_| "never".into());
            println!(
                "device {} (key {})",
                dev.settings.device,
                dev.key.verifier()
            );
            match head {
                Some((seq, h, _)) => println!("chain head: seq {seq}, link {h}"),
                None => println!("chain head: none yet"),
            }
            println!(
                "upload backlog: {n} links, {:.1} MiB; server {}; last contact: {contact}",
                bytes as f64 / 1048576.0,
                dev.settings.server
            );
            Ok(0)
        }
        Command::Simulate {
            server,
            admin_token,
            cameras,
            minutes,
            segment_seconds,
            crossing_point,
            faults,
            fault,
        } => {
            let o = simulate::SimOptions {
                server: server.trim_end_matches('/').to_owned(),
                admin_token,
                cameras,
                minutes,
                segment_seconds,
                crossing_point,
                first_officer: 1000,
                faults: if faults {
                    simulate::Fault::default_set()
                } else {
                    fault
                },
                work: cli.dir.join("simulation"),
            };
            let r = simulate::simulate(&o).await?;
            println!(
                "simulated {} cameras, {} segments uploaded",
                r.cameras.len(),
                r.segments
            );
            for (device, officer, what) in &r.cameras {
                println!("  {device}  officer {officer}  {what}");
            }
            Ok(0)
        }
        Command::Dock { from } => {
            let dev = Device::open(&cli.dir)?;
            let r = dock::dock(&dev, &from)?;
            println!(
                "imported {} file(s) ({} without a timestamp in the file), skipped {} already imported",
                r.imported, r.without_timestamp, r.skipped
            );
            let p = upload::pass(
                &reqwest::Client::new(),
                &dev.settings.server,
                &dev.spool,
                true,
            )
            .await?;
            println!("uploaded {}, refused {}", p.confirmed, p.rejected);
            Ok(0)
        }
    }
}

fn parse_audio(s: &str) -> Result<record::AudioInput, String> {
    record::AudioInput::parse(s)
        .ok_or_else(|| format!("{s:?}: expected source, alsa:<device>, pulse:<device> or none"))
}

fn parse_fault(s: &str) -> Result<(usize, simulate::Fault), String> {
    let (i, f) = s
        .split_once('=')
        .ok_or("expected <camera index>=<stop|lose|crash|equivocate|mute>")?;
    let i = i
        .parse()
        .map_err(|_| format!("{i:?} is not a camera index"))?;
    let f = simulate::Fault::parse(f)
        .ok_or_else(|| format!("{f:?} is not one of stop, lose, crash, equivocate, mute"))?;
    Ok((i, f))
}
