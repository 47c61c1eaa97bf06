//! The web interface end to end in real headless Chromium: `kordon demo` makes a crossing
//! point's worth of real footage and one user per role, `kordon serve` serves it, and
//! `tests/browser/e2e.mjs` (playwright-core driving Debian's chromium) signs in as each
//! role and checks what is shown and what is refused, plays footage across a segment
//! boundary, files, rejects, files again and approves a gap explanation, follows the
//! dashboard's queues, switches language, checks a custody proof and prints the trail;
//! every page is checked with axe-core, for English on Ukrainian pages and at phone width.
//! Screenshots of the main pages are saved in `target/ui-screenshots/`.
//!
//! Needs `chromium`, `node` and `npm` (scripts/test installs them); installs
//! playwright-core from the lock file when it is missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{demo, run, serve};

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// `tests/browser` with playwright-core and axe-core installed from its lock file.
fn browser_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if !dir.join("node_modules/playwright-core").exists()
        || !dir.join("node_modules/axe-core").exists()
    {
        let (code, out) = run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir));
        assert_eq!(code, 0, "npm ci: {out}");
    }
    dir
}

#[test]
fn every_role_in_a_real_browser() {
    assert!(
        Path::new(&chromium()).exists() && have("node") && have("npm"),
        "the browser tests need chromium, node and npm: scripts/test installs them \
         (apt-get install chromium nodejs npm)"
    );
    let browser = browser_dir();
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    let kordon = env!("CARGO_BIN_EXE_kordon");

    let out = demo(d, 5, &[]);
    let cams: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("sim-").map(|_| l.trim()))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(cams.len(), 5, "{out}");
    let password = out
        .split("password of every demo user: ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .expect("demo password")
        .to_owned();
    let run_id = cams[0].split("-cam").next().expect("run").to_owned();

    let (server, url) = serve(d, &[("KORDON_COOKIE_INSECURE", "true".into())]);

    // A supervisor of another crossing point, made the way an administrator would.
    let (code, out) = run(Command::new(kordon)
        .args([
            "user",
            "add",
            "far",
            "--role",
            "supervisor",
            "--crossing-points",
            "UA-LVIV-01",
            "--server",
            &url,
            "--data",
            d,
        ])
        .env("KORDON_PASSWORD", &password));
    assert_eq!(code, 0, "{out}");

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots");
    let (code, out) = run(Command::new("node")
        .arg(browser.join("e2e.mjs"))
        .current_dir(&browser)
        .env("KORDON_URL", &url)
        .env("KORDON_PASSWORD", &password)
        .env("OWN_CAMERA", cams[0])
        .env("OTHER_CAMERA", cams[4])
        .env("RUN", &run_id)
        .env("SHOTS", &shots)
        .env("CHROMIUM", chromium()));
    println!("{out}");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    for step in [
        "footage plays continuously across a segment boundary",
        "a day without recordings says so instead of refusing",
        "the dashboard's queues each hold an item and their counts lead to it",
        "the timeline starts from today's shifts",
        "an equivocating camera's timeline says so in words",
        "a rejection needs a comment; the officer is told and explains again; it is approved",
        "no one decides on his own explanation",
        "supervisor reviews an inspection of the week's sample; the outcome is a custody event",
        "the inspection page plays every officer's camera in step, with speed, frame step, a still and a clip kept as a bookmark",
        "the custody trail is filtered and prints as a PDF for a court file",
        "supervisor opens a case on a complaint about an inspection and fills it",
        "analyst makes the evidence package and records its release to a named recipient",
        "supervisor closes the case: it holds nothing any more",
        "every page was checked with axe-core, in Ukrainian and on a phone",
        "the interface switches between Ukrainian and English",
        "auditor sees who viewed the footage and why",
        "supervisor redacts two boxes, a sound span and a blurred span",
        "the recipient opens the link with the code and downloads the package",
        "a share past its expiry refuses its link",
        "an officer asks for his footage to be preserved",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("ok ") && l.contains(step)),
            "{step}: {out}"
        );
    }
    for name in [
        "dashboard",
        "timeline",
        "inspection",
        "search",
        "custody",
        "admin",
        "redact",
        "shared",
        "preservation",
    ] {
        let f = shots.join(format!("{name}.png"));
        let len = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "screenshot {} is {len} bytes", f.display());
    }
    // The package the recipient downloaded holds under kordon-verify, and not with one
    // byte of the redacted copy changed.
    let pkg = shots.join("shared-package.zip");
    let verify = |p: &Path| {
        let r = kordon_verify::verify_package(
            p,
            &kordon_verify::VerifyOptions {
                threads: 1,
                ..Default::default()
            },
        )
        .expect("a zip");
        let lines: Vec<String> = r.lines.iter().map(ToString::to_string).collect();
        (r.holds(), lines)
    };
    let (holds, lines) = verify(&pkg);
    assert!(holds, "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("derived by redaction")),
        "{lines:#?}"
    );
    let mut files = common::read_zip(&pkg);
    let copy = files
        .keys()
        .find(|k| k.contains(".redacted-"))
        .expect("the copy")
        .clone();
    if let Some(b) = files.get_mut(&copy) {
        let at = b.len() / 3;
        b[at] ^= 0x20;
    }
    let tampered = dir.path().join("tampered.zip");
    common::write_zip(&tampered, &files);
    let (holds, lines) = verify(&tampered);
    assert!(
        !holds && lines.iter().any(|l| l.starts_with(&format!("FAIL {copy}"))),
        "{lines:#?}"
    );
    drop(server);
}
