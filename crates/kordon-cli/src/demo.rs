//! `kordon demo`: the whole system on one machine with the embedded default (SQLite and a
//! local folder): a server on 127.0.0.1, a crossing point with simulated cameras and
//! officers recording real H.264 through ffmpeg for a few minutes of shift, with a gap or
//! two, and a line telling the newcomer where to look.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use kordon_agent::simulate::{Fault, SimOptions, simulate};
use kordon_server::config::Config;

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
    let config = Config {
        data: o.data.clone(),
        listen: o.listen,
        // Plain HTTP on this machine: the browser must keep the session cookie.
        cookie_insecure: o.listen.ip().is_loopback(),
        ..Config::load(None)?
    };
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
        checkpoint: "UA-KYIV-01".into(),
        faults: Fault::default_set(),
        work: o.data.join("demo-video"),
    };
    let report = simulate(&sim).await?;
    let package = demo_case(&url, &token, &report, &o.data).await?;
    let officer = report
        .cameras
        .first()
        .map(|c| c.1.clone())
        .unwrap_or_default();
    demo_users(&url, &token, &officer).await?;
    println!();
    println!(
        "crossing point UA-KYIV-01: {} cameras, {} segments of real H.264 uploaded, signed and logged",
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
        "  kordon gaps --server {url}                     # missing links and equivocation, per camera"
    );
    println!(
        "  kordon device status <camera> --server {url}   # one camera's chain, stops and problems"
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
        "  kordon-verify {} --verbose   # the demo case's evidence package (case DEMO-<run>), checked offline",
        package.display()
    );
    println!("  {url}/v1/devices    {url}/log/checkpoint");
    println!();
    println!("web interface: {url}/ui/  (password of every demo user: {DEMO_PASSWORD})");
    println!(
        "  supervisor, analyst, auditor, administrator, officer (officer {officer}: own recordings only)"
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

/// Opens case DEMO-<run> on the stopped camera's inspection and exports its evidence package.
async fn demo_case(
    url: &str,
    token: &str,
    report: &kordon_agent::simulate::SimReport,
    data: &std::path::Path,
) -> Result<std::path::PathBuf> {
    let http = reqwest::Client::new();
    let run = report
        .cameras
        .first()
        .and_then(|c| c.0.split("-cam").next())
        .context("no simulated camera")?
        .to_owned();
    let id = format!("DEMO-{run}");
    let calls = [
        (
            "/v1/cases".to_owned(),
            serde_json::json!({"id": id, "reference": "ДЕМО-1", "kind": "complaint", "description": "demo: complaint about the inspection during which the camera was stopped"}),
        ),
        (
            format!("/v1/cases/{id}/items"),
            serde_json::json!({"kind": "inspection", "inspection_id": format!("{run}-insp00")}),
        ),
        (format!("/v1/cases/{id}/export"), serde_json::json!({})),
    ];
    let mut last = serde_json::Value::Null;
    for (path, body) in calls {
        let res = http
            .post(format!("{url}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        last = crate::client::check(res).await?;
    }
    let file = last["file"].as_str().context("export answered no file")?;
    Ok(data.join("exports").join(file))
}

/// The password of the demo's users (demo data only; shown to the newcomer).
const DEMO_PASSWORD: &str = "kordon-demo-password";

/// One user per role, so the web interface can be seen as each of them.
async fn demo_users(url: &str, token: &str, officer: &str) -> Result<()> {
    let http = reqwest::Client::new();
    for (name, role) in [
        ("supervisor", "supervisor"),
        ("analyst", "analyst"),
        ("auditor", "auditor"),
        ("administrator", "administrator"),
        ("officer", "officer"),
    ] {
        let body = serde_json::json!({
            "name": name, "role": role, "password": DEMO_PASSWORD,
            "officer": (role == "officer").then_some(officer),
        });
        let res = http
            .post(format!("{url}/v1/users"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        crate::client::check(res).await?;
    }
    Ok(())
}
