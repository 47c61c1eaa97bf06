//! `kordon demo`: the whole system on one machine with the embedded default (SQLite and a
//! local folder): a server on 127.0.0.1, a crossing point with simulated cameras and
//! officers recording real H.264 through ffmpeg for a few minutes of shift, with a gap or
//! two, and a line telling the newcomer where to look.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use kordon_agent::simulate::{Fault, SimOptions, simulate};
use kordon_api::Created;
use kordon_api::cases::{CaseIn, Exported, ItemIn, ItemsAdded};
use kordon_api::inspections::{GapReasonIn, GapReasonState, InspectionCoverage};
use kordon_api::release::{
    BoxIn, KeyIn, OpsIn, PreservationIn, PreservationOut, RedactionIn, RedactionOut, ShareCreated,
    ShareIn, SpanIn,
};
use kordon_api::users::{Token, TokenIn, UserCreated, UserIn};
use kordon_server::config::Config;

use crate::client::Client;

/// The crossing point the demo's cameras, inspections and case belong to.
const DEMO_CP: &str = "UA-KYIV-01";

pub(crate) struct DemoOptions {
    pub data: PathBuf,
    pub listen: std::net::SocketAddr,
    pub cameras: usize,
    pub minutes: u64,
    pub serve: bool,
}

pub(crate) async fn demo(o: DemoOptions) -> Result<()> {
    if std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_err()
    {
        bail!("ffmpeg is not installed: run scripts/demo, or apt-get install ffmpeg");
    }
    // The environment's KORDON_* settings apply (e.g. KORDON_S3_* for a bucket).
    let mut config = Config {
        data: o.data.clone(),
        listen: o.listen,
        // Plain HTTP on this machine: the browser must keep the session cookie.
        cookie_insecure: o.listen.ip().is_loopback(),
        ..Config::load(None)?
    };
    // Two witnesses of their own, both required, unless the environment names others.
    let _witnesses = if config.witnesses.is_empty() {
        let log = kordon_server::log_key(&o.data, &config.origin)
            .with_context(|| format!("the log key in {}", o.data.display()))?;
        let (running, witnesses) = start_witnesses(&o.data, &log.verifier().to_string())?;
        config.witnesses = witnesses;
        config.witness_quorum = 0;
        Some(running)
    } else {
        None
    };
    // A time-stamping authority of its own, unless the environment names real ones.
    let _tsa = if config.tsa.is_empty() {
        let (running, tsa) = start_tsa(&o.data)?;
        config.tsa = vec![tsa];
        // A few minutes of demo: a token every 10 s shows the footage's time, not the export's.
        config.tsa_interval_s = 10;
        Some(running)
    } else {
        None
    };
    // The crossing point's C2PA certificate, from a throw-away demo CA, unless configured.
    if config.c2pa.is_none() {
        let dir = o.data.join("c2pa");
        super::localca::issue(
            &dir,
            &format!("{DEMO_CP} crossing point (demo)"),
            super::localca::Leaf::C2pa,
        )?;
        config.c2pa = Some(kordon_server::config::C2paConfig {
            chain: dir.join("chain.pem"),
            key: dir.join("leaf.key"),
        });
    }
    let listener = tokio::net::TcpListener::bind(o.listen)
        .await
        .with_context(|| format!("listening on {}", o.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = kordon_server::open(config)
        .await
        .with_context(|| format!("opening {}", o.data.display()))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(kordon_server::run(listener, app, async {
        let _ = stopped.await;
    }));
    let token_path = o.data.join("keys/admin-token");
    let token = std::fs::read_to_string(&token_path)?.trim().to_owned();
    println!("kordon server on {url} (data in {})", o.data.display());

    let sim = SimOptions {
        server: url.clone(),
        admin_token: token.clone(),
        cameras: o.cameras,
        minutes: o.minutes,
        segment_seconds: 10,
        crossing_point: DEMO_CP.into(),
        first_officer: 1000,
        faults: Fault::default_set(),
        work: o.data.join("demo-video"),
    };
    let report = simulate(&sim).await?;
    let client = Client::with(&url, Some(token.clone()));
    let package = demo_case(&client, &report, &o.data).await?;
    let officer = report
        .cameras
        .first()
        .map(|c| c.1.clone())
        .unwrap_or_default();
    demo_users(&client, &officer).await?;
    demo_explanation(&client, &url, &report).await?;
    let shared = demo_release(&client, &package, &officer).await?;
    println!();
    println!(
        "crossing point {DEMO_CP}: {} cameras, {} segments of real H.264 uploaded, signed and logged",
        report.cameras.len(),
        report.segments
    );
    for (device, officer, what) in &report.cameras {
        println!("  {device}  officer {officer}  {what}");
    }
    println!();
    println!(
        "administrator token (keep it secret; also in {}):",
        token_path.display()
    );
    println!("  {token}");
    println!();
    println!("where to look:");
    println!(
        "  export KORDON_DATA={}   # the commands below read the administrator token from there",
        o.data.display()
    );
    println!(
        "  kordon gaps --server {url}                     # missing links and equivocation, per camera"
    );
    println!(
        "  kordon device status <camera> --server {url}   # one camera's chain, stops and problems"
    );
    println!(
        "  kordon device recheck <camera> --server {url}  # that chain recomputed from its links, compared with the kept state"
    );
    println!(
        "  kordon log verify --server {url}               # audit the whole log and every segment"
    );
    println!(
        "  kordon report gaps --from {from} --to {to} --server {url}   # every gap, its class, the anomalies",
        from = report.from,
        to = report.to
    );
    println!(
        "  kordon report coverage --from {from} --to {to} --server {url}",
        from = report.from,
        to = report.to
    );
    println!(
        "  kordon-verify {} --verbose   # the demo case's evidence package (case DEMO-<run>), checked offline (exit 3: against its own keys; a court gives --policy, and --tsa with the chain of each time-stamping authority it trusts, e.g. {})",
        package.display(),
        o.data.join("tsa/chain.pem").display()
    );
    println!("  {url}/log/checkpoint    {url}/v1/devices (signed in)");
    println!();
    println!("web interface: {url}/ui/  (password of every demo user: {DEMO_PASSWORD})");
    println!(
        "  supervisor, analyst, auditor, administrator, officer (officer {officer}: own recordings only), officer2 (filed an explanation waiting for the supervisor)"
    );
    println!(
        "  a redacted copy of the case's inspection shared with a demo recipient: {url}{}  code {}",
        shared.link, shared.code
    );
    println!(
        "  a preservation request of officer {officer} waits for a supervisor: {url}/ui/preservation"
    );
    if o.serve {
        println!();
        println!("serving until Ctrl-C ...");
        let _ = tokio::signal::ctrl_c().await;
    }
    let _ = stop.send(());
    server.await??;
    Ok(())
}

/// The demo's witnesses and time-stamping authority: processes of their own, killed when
/// the demo ends.
struct Helpers(Vec<std::process::Child>);

impl Drop for Helpers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `kordon tsa serve` on a free port with its folder `<data>/tsa` (made there
/// before the server opens, so its chain is known).
fn start_tsa(data: &std::path::Path) -> Result<(Helpers, kordon_server::config::TsaConfig)> {
    let exe = std::env::current_exe().context("the kordon program's path")?;
    let dir = data.join("tsa");
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let running = Helpers(vec![
        std::process::Command::new(&exe)
            .args(["tsa", "serve", "--dir"])
            .arg(&dir)
            .args(["--listen", &addr.to_string()])
            .stdout(std::process::Stdio::null())
            .spawn()
            .context("starting the demo TSA")?,
    ]);
    let up = (0..400).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        std::net::TcpStream::connect(addr).is_ok()
    });
    if !up {
        bail!("the demo TSA did not start on {addr} (is openssl installed?)");
    }
    println!(
        "time-stamping authority (demo, not a trusted time source) on http://{addr}, chain {}",
        dir.join("chain.pem").display()
    );
    Ok((
        running,
        kordon_server::config::TsaConfig {
            name: "demo-tsa".into(),
            url: format!("http://{addr}"),
            chain: dir.join("chain.pem"),
        },
    ))
}

/// Starts two witnesses of the log `log_key`, each its own process with its own key in
/// `<data>/witness-<n>` (made here first, so its verifier key is known), on free ports.
fn start_witnesses(
    data: &std::path::Path,
    log_key: &str,
) -> Result<(Helpers, Vec<kordon_server::config::WitnessConfig>)> {
    let log = kordon_core::note::VerifierKey::parse(log_key)?;
    let exe = std::env::current_exe().context("the kordon program's path")?;
    let mut running = Helpers(Vec::new());
    let mut configs = Vec::new();
    for n in 1..=2 {
        let dir = data.join(format!("witness-{n}"));
        let name = format!("witness{n}.demo.kordon/witness");
        let key = kordon_witness::Witness::open(&dir, &name, vec![log.clone()])
            .with_context(|| format!("witness key in {}", dir.display()))?
            .verifier()
            .to_string();
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        running.0.push(
            std::process::Command::new(&exe)
                .args(["witness", "serve", "--data"])
                .arg(&dir)
                .args([
                    "--listen",
                    &addr.to_string(),
                    "--name",
                    &name,
                    "--log",
                    log_key,
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .context("starting a witness")?,
        );
        let up = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(25));
            std::net::TcpStream::connect(addr).is_ok()
        });
        if !up {
            bail!("witness {n} did not start on {addr}");
        }
        println!("witness {n} on http://{addr} with key {key}");
        configs.push(kordon_server::config::WitnessConfig {
            url: format!("http://{addr}"),
            key,
        });
    }
    Ok((running, configs))
}

/// Opens case DEMO-<run> on the stopped camera's inspection and exports its evidence package.
async fn demo_case(
    c: &Client,
    report: &kordon_agent::simulate::SimReport,
    data: &std::path::Path,
) -> Result<std::path::PathBuf> {
    let run = report
        .cameras
        .first()
        .and_then(|c| c.0.split("-cam").next())
        .context("no simulated camera")?
        .to_owned();
    let id = format!("DEMO-{run}");
    let case = CaseIn {
        id: id.clone(),
        reference: "ДЕМО-1".into(),
        kind: "complaint".into(),
        description: "demo: complaint about the inspection during which the camera was stopped"
            .into(),
        crossing_point: Some(DEMO_CP.into()),
    };
    let _: Created = c.post("/v1/cases", &case).await?;
    let item = ItemIn {
        kind: "inspection".into(),
        inspection_id: Some(format!("{run}-insp00")),
        ..ItemIn::default()
    };
    let _: ItemsAdded = c.post(&format!("/v1/cases/{id}/items"), &item).await?;
    let e: Exported = c.post_empty(&format!("/v1/cases/{id}/export")).await?;
    Ok(data.join("exports").join(e.file))
}

/// A redacted copy of the demo case's footage (a blurred box that moves, a bleep), shared
/// with a demo recipient, and a preservation request of the officer waiting for a
/// supervisor: every release queue has something to look at.
async fn demo_release(
    c: &Client,
    package: &std::path::Path,
    officer: &str,
) -> Result<ShareCreated> {
    let case = package
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".zip"))
        .and_then(|n| n.rsplit_once('-'))
        .map(|(c, _)| c.to_owned())
        .context("the demo package's name")?;
    let v: kordon_api::cases::Case = c.get(&format!("/v1/cases/{case}")).await?;
    let item = v.items.first().context("the demo case holds nothing")?;
    let (Some(device), Some(from), Some(to)) = (&item.device, &item.from, &item.to) else {
        anyhow::bail!("the demo case's item names no footage");
    };
    let key = |t_ms, x, y| KeyIn {
        t_ms,
        x,
        y,
        w: 48,
        h: 36,
    };
    let body = RedactionIn {
        device: device.clone(),
        from: from.clone(),
        to: to.clone(),
        inspection: item.inspection_id.clone(),
        ops: OpsIn {
            boxes: vec![BoxIn {
                style: "blur".into(),
                keys: vec![key(0, 10, 10), key(20_000, 100, 70)],
            }],
            bleep: vec![SpanIn {
                from_ms: 2_000,
                to_ms: 5_000,
            }],
            ..OpsIn::default()
        },
        reason: "demo: a copy for the complainant, other travellers hidden".into(),
    };
    let mut r: RedactionOut = c.post("/v1/redactions", &body).await?;
    while r.state == "rendering" {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        r = c.get(&format!("/v1/redactions/{}", r.id)).await?;
    }
    let expires = kordon_core::time::Timestamp(kordon_store::now_ms() + 30 * 86_400_000);
    let share = ShareIn {
        redaction: Some(r.id),
        case: None,
        recipient: "Олена Коваль, адвокатка (демо)".into(),
        purpose: "demo: скарга ДЕМО-1".into(),
        expires_at: expires.to_string(),
    };
    let shared: ShareCreated = c.post("/v1/shares", &share).await?;
    let request = PreservationIn {
        officer: Some(officer.to_owned()),
        from: from.clone(),
        to: to.clone(),
        reason: "demo: скарга на огляд, прошу зберегти записи".into(),
    };
    let _: PreservationOut = c.post("/v1/preservations", &request).await?;
    Ok(shared)
}

/// The officer who lost two segments explains the gap (as user `officer2`, with his own
/// token): the supervisor's queue of explanations has one waiting for a decision.
async fn demo_explanation(
    c: &Client,
    url: &str,
    report: &kordon_agent::simulate::SimReport,
) -> Result<()> {
    let Some((device, officer, _)) = report.cameras.get(1) else {
        return Ok(());
    };
    let body = UserIn {
        name: "officer2".into(),
        role: "officer".into(),
        crossing_points: Vec::new(),
        officer: Some(officer.clone()),
        password: DEMO_PASSWORD.into(),
        totp: false,
    };
    let _: UserCreated = c.post("/v1/users", &body).await?;
    let t: Token = c
        .post(
            "/v1/users/officer2/tokens",
            &TokenIn {
                label: "demo".into(),
            },
        )
        .await?;
    let own = Client::with(url, t.token);
    let run = device.split("-cam").next().unwrap_or_default();
    for n in 0..report.cameras.len() {
        let id = format!("{run}-insp{n:02}");
        let v: InspectionCoverage = c.get(&format!("/v1/inspections/{id}/coverage")).await?;
        if !v.officers.contains(officer) {
            continue;
        }
        if let Some(g) = v.uncovered.first() {
            let b = GapReasonIn {
                from: g.from.clone(),
                to: g.to.clone(),
                reason: "malfunction".into(),
                text: "демо: камера не передала два фрагменти, прошу перевірити".into(),
            };
            let _: GapReasonState = own
                .post(&format!("/v1/inspections/{id}/gap-reasons"), &b)
                .await?;
            return Ok(());
        }
    }
    Ok(())
}

/// The password of the demo's users (demo data only; shown to the newcomer).
const DEMO_PASSWORD: &str = "kordon-demo-password";

/// One user per role, so the web interface can be seen as each of them.
async fn demo_users(c: &Client, officer: &str) -> Result<()> {
    for (name, role) in [
        ("supervisor", "supervisor"),
        ("analyst", "analyst"),
        ("auditor", "auditor"),
        ("administrator", "administrator"),
        ("officer", "officer"),
    ] {
        let body = UserIn {
            name: name.into(),
            role: role.into(),
            crossing_points: Vec::new(),
            officer: (role == "officer").then(|| officer.to_owned()),
            password: DEMO_PASSWORD.into(),
            totp: false,
        };
        let _: UserCreated = c.post("/v1/users", &body).await?;
    }
    Ok(())
}
