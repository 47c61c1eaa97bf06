//! Release to others (issue 19), against the real binary on the demo's footage: a redacted
//! copy (a blurred box that moves, a black box, a bleep) rendered by ffmpeg and checked
//! pixel by pixel and by ear; bad operations refused by name; shared with a named
//! recipient whose link opens once with its code, whose downloads are custody events and
//! whose package `kordon-verify` accepts — and refuses with one byte changed; revoked and
//! expired links refused; an officer's preservation request decided (never by himself)
//! and holding his footage past retention; the officer sees who viewed it.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{read_zip, write_zip};

struct Api {
    url: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self
            .http
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.url),
            )
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request");
        let st = r.status();
        let text = r.text().await.expect("body");
        (
            st,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A page as the recipient (his share cookie, if any): status, cookie set, body.
    async fn recipient(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        form: Option<&[(&str, &str)]>,
    ) -> (StatusCode, Option<String>, String) {
        let mut rb = self.http.request(
            method.parse().expect("method"),
            format!("{}{path}", self.url),
        );
        if let Some(c) = cookie {
            rb = rb.header(reqwest::header::COOKIE, c);
        }
        if let Some(f) = form {
            // Only codes are posted: letters, digits and dashes need no escaping.
            let body: Vec<String> = f.iter().map(|(k, v)| format!("{k}={v}")).collect();
            rb = rb
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body.join("&"));
        }
        let r = rb.send().await.expect("request");
        let cookie = r
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        (r.status(), cookie, r.text().await.unwrap_or_default())
    }
}

impl Api {
    /// Asks `path` until `done` holds of the answer (a minute at most).
    async fn until(&self, token: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..240 {
            let (st, v) = self.call(token, "GET", path, None).await;
            assert_eq!(st, StatusCode::OK, "{path}: {v}");
            if done(&v) {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("{path} did not get there in a minute");
    }
}

/// ffmpeg's measure of a filter over `file` (the stderr line holding `key`).
fn measure(file: &Path, args: &[&str], key: &str) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-i"])
        .arg(file)
        .args(args)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg");
    let err = String::from_utf8_lossy(&out.stderr);
    err.lines()
        .filter_map(|l| l.split(key).nth(1))
        .filter_map(|v| v.split_whitespace().next()?.parse().ok())
        .next()
        .unwrap_or_else(|| panic!("no {key} in {err}"))
}

fn verify(pkg: &Path) -> (bool, Vec<String>) {
    let files = read_zip(pkg);
    let policy = String::from_utf8(files["policy.txt"].clone()).expect("policy");
    let r = kordon_verify::verify_package(
        pkg,
        &kordon_verify::VerifyOptions {
            policy: Some(&policy),
            threads: 1,
            ..Default::default()
        },
    )
    .expect("a zip");
    (r.holds(), r.lines.iter().map(ToString::to_string).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    scenario(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    scenario(true).await;
}

/// A redacted copy is shared, verified, revoked and expired, and an officer's footage
/// preserved, with the metadata in SQLite or PostgreSQL.
async fn scenario(postgres: bool) {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let data = d.join("data");
    let data_s = data.to_str().expect("utf8");
    let mut env: Vec<(&str, String)> = Vec::new();
    if postgres {
        env.push((
            "KORDON_DATABASE_URL",
            kordon_store::meta::testing::fresh_database().await,
        ));
    }
    common::demo(data_s, 2, &env);
    let zero = "0".to_owned();
    env.extend([
        ("KORDON_RETENTION_DAYS", zero.clone()),
        ("KORDON_RETENTION_INSPECTION_DAYS", zero.clone()),
        ("KORDON_TEST_RETENTION_FLOOR_DAYS", zero),
        ("KORDON_RETENTION_INTERVAL_S", "86400".to_owned()),
    ]);
    let (server, url) = common::serve(data_s, &env);
    let admin = common::admin_token(&data);
    let mut api = Api {
        url,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    };
    let case = std::fs::read_dir(data.join("exports"))
        .expect("exports")
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .find(|n| n.ends_with(".zip"))
        .and_then(|n| n.rsplit_once('-').map(|(c, _)| c.to_owned()))
        .expect("the demo's case");
    let (_, c) = api
        .call(&admin, "GET", &format!("/v1/cases/{case}"), None)
        .await;
    let item = &c["items"][0];
    let (device, from, to) = (
        item["device"].as_str().expect("device").to_owned(),
        item["from"].as_str().expect("from").to_owned(),
        item["to"].as_str().expect("to").to_owned(),
    );
    let mut tokens = std::collections::HashMap::new();
    for who in ["supervisor", "officer", "analyst", "auditor"] {
        let (st, v) = api
            .call(
                &admin,
                "POST",
                &format!("/v1/users/{who}/tokens"),
                Some(json!({"label": "release test"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        tokens.insert(who, v["token"].as_str().expect("token").to_owned());
    }
    let sup = &tokens["supervisor"];
    let ops = json!({
        "boxes": [
            {"style": "blur", "keys": [{"t_ms": 0, "x": 10, "y": 10, "w": 40, "h": 30}, {"t_ms": 6000, "x": 70, "y": 40, "w": 40, "h": 30}]},
            {"style": "black", "keys": [{"t_ms": 1000, "x": 100, "y": 70, "w": 32, "h": 24}]}
        ],
        "bleep": [{"from_ms": 1000, "to_ms": 3000}]
    });
    let redaction = |ops: Value| json!({"device": device, "from": from, "to": to, "inspection": c["items"][0]["inspection_id"], "ops": ops, "reason": "complaint ДЕМО-1: copy for the complainant"});

    // Bad operations are refused by name; nothing is logged for them.
    let mut outside = ops.clone();
    outside["boxes"][1]["keys"][0]["x"] = json!(140);
    let (st, v) = api
        .call(sup, "POST", "/v1/redactions", Some(redaction(outside)))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_redaction")),
        "{v}"
    );
    assert_eq!(
        v["message"], "box 2 at 1.000 s reaches outside the 160×120 frame",
        "{v}"
    );
    let mut grey = ops.clone();
    grey["boxes"][0]["style"] = json!("grey");
    let (st, v) = api
        .call(sup, "POST", "/v1/redactions", Some(redaction(grey)))
        .await;
    assert_eq!(
        (st, v["message"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("box 1: style \"grey\" is not black or blur")
        ),
        "{v}"
    );
    let (st, v) = api
        .call(
            &tokens["officer"],
            "POST",
            "/v1/redactions",
            Some(redaction(ops.clone())),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "an officer does not redact: {v}");

    // From the command line: the same operations from a JSON file; bad ones refused in
    // one line.
    let ops_file = d.join("ops.json");
    let cli = |ops: &Value, out: &Path| {
        std::fs::write(&ops_file, ops.to_string()).expect("ops");
        common::kordon(&[
            "redact",
            "--device",
            &device,
            "--from",
            &from,
            "--to",
            &to,
            "--reason",
            "cli test",
            "--ops",
            ops_file.to_str().expect("utf8"),
            "--out",
            out.to_str().expect("utf8"),
            "--server",
            &api.url,
            "--data",
            data_s,
        ])
    };
    let (code, out) = cli(
        &json!({"mute": [{"from_ms": 0, "to_ms": 2000}]}),
        &d.join("cli.mp4"),
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("the originals are untouched") && d.join("cli.mp4").exists(),
        "{out}"
    );
    let (code, out) = cli(
        &json!({"blur": [{"from_ms": 5000, "to_ms": 1000}]}),
        &d.join("no.mp4"),
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.trim().lines().count(), 1, "{out}");
    assert!(
        out.contains("blur 5.000 s to 1.000 s is empty or outside the copy"),
        "{out}"
    );

    // The copy: rendered, logged, the originals untouched.
    let (st, r) = api
        .call(sup, "POST", "/v1/redactions", Some(redaction(ops)))
        .await;
    assert_eq!(
        (st, r["state"].as_str()),
        (StatusCode::ACCEPTED, Some("rendering")),
        "{r}"
    );
    // Rendered in the background; its progress is reported until it is ready.
    let r = api
        .until(
            sup,
            &format!("/v1/redactions/{}", r["id"].as_str().expect("id")),
            |v| v["state"] != "rendering",
        )
        .await;
    assert_eq!(r["state"], "ready", "{r}");
    let id = r["id"].as_str().expect("id");
    let video = api
        .http
        .get(format!("{}/v1/redactions/{id}/video", api.url))
        .bearer_auth(sup)
        .send()
        .await
        .expect("video");
    assert_eq!(video.status(), StatusCode::OK);
    let copy = d.join("copy.mp4");
    std::fs::write(&copy, video.bytes().await.expect("bytes")).expect("write");
    assert_eq!(
        kordon_core::sha256(&std::fs::read(&copy).expect("read")).to_hex(),
        r["sha256"].as_str().expect("sha")
    );
    // The black box holds black (luma ≈ 16) where the test pattern is bright.
    let black = measure(
        &copy,
        &[
            "-ss",
            "2",
            "-frames:v",
            "1",
            "-vf",
            "crop=28:20:102:72,signalstats,metadata=print:key=lavfi.signalstats.YAVG",
        ],
        "lavfi.signalstats.YAVG=",
    );
    assert!(black < 20.0, "luma {black} inside the black box");
    // The bleep: the 1 kHz tone at 0.25 (-12 dBFS) replaces the speech.
    let bleep = measure(
        &copy,
        &["-af", "atrim=1.2:2.8,volumedetect"],
        "max_volume: ",
    );
    assert!(
        (-13.0..=-11.0).contains(&bleep),
        "max volume {bleep} dB in the bleep"
    );

    // Shared with a named recipient: the link opens once with its code.
    let expires = kordon_core::time::Timestamp(kordon_store::now_ms() + 3_600_000).to_string();
    let share_body = |expires: &str| json!({"redaction": id, "recipient": "Олена Коваль, адвокатка", "purpose": "скарга ДЕМО-1", "expires_at": expires});
    let (st, s) = api
        .call(sup, "POST", "/v1/shares", Some(share_body(&expires)))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{s}");
    let ready = api
        .until(
            sup,
            &format!("/v1/shares/{}", s["id"].as_str().expect("id")),
            |v| v["state"] != "preparing",
        )
        .await;
    assert_eq!(ready["state"], "waiting", "{ready}");
    let (link, code) = (
        s["link"].as_str().expect("link"),
        s["code"].as_str().expect("code"),
    );
    let (st, _, page) = api.recipient("GET", link, None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("id=\"code-form\""), "{page}");
    let (st, _, _) = api
        .recipient("GET", &format!("{link}/package.zip"), None, None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "no download without the code");
    let (st, _, page) = api
        .recipient("POST", link, None, Some(&[("code", "0000-0000-0000")]))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(page.contains("4 attempt(s) left"), "{page}");
    let (st, cookie, _) = api
        .recipient("POST", link, None, Some(&[("code", &code.to_uppercase())]))
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let cookie = cookie.expect("the recipient's session");
    let (st, _, _) = api
        .recipient("POST", link, None, Some(&[("code", code)]))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "the code opens once");
    let (st, _, page) = api.recipient("GET", link, Some(&cookie), None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        page.contains("Олена Коваль, адвокатка") && page.contains("class=\"ok\" id=\"verdict\""),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "kordon-verify --policy policy.txt share-{}.zip",
            s["id"].as_str().expect("id")
        )),
        "{page}"
    );
    let res = api
        .http
        .get(format!("{}{link}/package.zip", api.url))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .expect("download");
    assert_eq!(res.status(), StatusCode::OK);
    let pkg = d.join("shared.zip");
    std::fs::write(&pkg, res.bytes().await.expect("zip")).expect("write");
    assert_eq!(
        kordon_core::sha256(&std::fs::read(&pkg).expect("read")).to_hex(),
        ready["sha256"].as_str().expect("sha")
    );

    // The recipient checks it: derived by redaction from logged segments, originals withheld.
    let (holds, lines) = verify(&pkg);
    assert!(holds, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(".redacted-") && l.contains("derived by redaction")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("withheld: the original is not released")),
        "{lines:#?}"
    );
    let files = read_zip(&pkg);
    assert!(
        !files.keys().any(|k| k.starts_with("segments/")),
        "no original leaves: {:?}",
        files.keys()
    );
    assert!(
        files.keys().any(|k| k.starts_with("redactions/")),
        "{:?}",
        files.keys()
    );
    let custody_text: String = files
        .iter()
        .filter(|(k, _)| k.starts_with("custody/"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect();
    assert!(
        !custody_text.contains("Олена") && !custody_text.contains("supervisor"),
        "no names in the package's log entries"
    );
    // One byte of the copy changed: refused.
    let mut bad = files.clone();
    let name = bad
        .keys()
        .find(|k| k.contains(".redacted-"))
        .expect("copy")
        .clone();
    let bytes = bad.get_mut(&name).expect("copy");
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    let tampered = d.join("tampered.zip");
    write_zip(&tampered, &bad);
    let (holds, lines) = verify(&tampered);
    assert!(!holds);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&format!("FAIL {name}: SHA-256")) && l.contains("is not the")),
        "{lines:#?}"
    );
    // A watermark names the recipient on the shared copy (the copy differs from the
    // unshared redaction), and the downloads are in the custody trail.
    assert_ne!(
        kordon_core::sha256(&files[&name]).to_hex(),
        r["sha256"].as_str().expect("sha")
    );
    let sid = s["id"].as_str().expect("id");
    let res = api
        .http
        .get(format!("{}/ui/custody?subject=share%20{sid}", api.url))
        .bearer_auth(&tokens["auditor"])
        .send()
        .await
        .expect("trail");
    let trail = res.text().await.expect("trail");
    for action in [
        "share-download",
        "share-open",
        "share-refused",
        "derive",
        "case-export",
        "share",
    ] {
        assert!(
            trail.contains(&format!(r#"data-action="{action}""#)),
            "{action} in {trail}"
        );
    }

    // Revoked: the link refuses, even with the session.
    let (st, v) = api
        .call(sup, "POST", &format!("/v1/shares/{sid}/revoke"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, _, page) = api
        .recipient("GET", &format!("{link}/package.zip"), Some(&cookie), None)
        .await;
    assert_eq!(st, StatusCode::GONE);
    assert!(page.contains("was revoked"), "{page}");
    // Expired: a share that lives two seconds.
    let soon = kordon_core::time::Timestamp(kordon_store::now_ms() + 2_000).to_string();
    let (st, s2) = api
        .call(sup, "POST", "/v1/shares", Some(share_body(&soon)))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{s2}");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (st, _, page) = api
        .recipient("GET", s2["link"].as_str().expect("link"), None, None)
        .await;
    assert_eq!(st, StatusCode::GONE);
    assert!(page.contains("expired at"), "{page}");
    let (_, list) = api.call(sup, "GET", "/v1/shares", None).await;
    let states: Vec<&str> = list["shares"]
        .as_array()
        .expect("shares")
        .iter()
        .filter(|x| x["id"] == s["id"] || x["id"] == s2["id"])
        .filter_map(|s| s["state"].as_str())
        .collect();
    assert_eq!(states, ["expired", "revoked"], "{list}");

    // A case's whole evidence package shared with a prosecutor over the network: the
    // originals in it, its playable files watermarked with the recipient. An analyst's
    // (cases are his); a supervisor may not; one thing at a time.
    let prosecutor = "Прокуратура Київської області";
    let case_share = json!({"case": case, "recipient": prosecutor, "purpose": "провадження 42", "expires_at": expires});
    let (st, _) = api
        .call(sup, "POST", "/v1/shares", Some(case_share.clone()))
        .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "a supervisor does not share a case"
    );
    let mut both = case_share.clone();
    both["redaction"] = json!(id);
    let (st, v) = api
        .call(&tokens["analyst"], "POST", "/v1/shares", Some(both))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, cs) = api
        .call(&tokens["analyst"], "POST", "/v1/shares", Some(case_share))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{cs}");
    let ready = api
        .until(
            &tokens["analyst"],
            &format!("/v1/shares/{}", cs["id"].as_str().expect("id")),
            |v| v["state"] != "preparing",
        )
        .await;
    assert_eq!(
        (ready["state"].as_str(), ready["case"].as_str()),
        (Some("waiting"), Some(case.as_str())),
        "{ready}"
    );
    let clink = cs["link"].as_str().expect("link");
    let (st, ccookie, _) = api
        .recipient(
            "POST",
            clink,
            None,
            Some(&[("code", cs["code"].as_str().expect("code"))]),
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let ccookie = ccookie.expect("session");
    let (_, _, page) = api.recipient("GET", clink, Some(&ccookie), None).await;
    assert!(
        page.contains("id=\"case\"") && page.contains("class=\"ok\" id=\"verdict\""),
        "{page}"
    );
    let res = api
        .http
        .get(format!("{}{clink}/package.zip", api.url))
        .header(reqwest::header::COOKIE, &ccookie)
        .send()
        .await
        .expect("download");
    let cpkg = d.join("case-share.zip");
    std::fs::write(&cpkg, res.bytes().await.expect("zip")).expect("write");
    let (holds, lines) = verify(&cpkg);
    assert!(holds, "{lines:#?}");
    let cfiles = read_zip(&cpkg);
    assert!(
        cfiles.keys().any(|k| k.starts_with("segments/")),
        "the originals are in it"
    );
    assert!(
        cfiles.keys().any(|k| k.contains(".redacted-")),
        "{:?}",
        cfiles.keys()
    );
    let recipe = cfiles
        .iter()
        .find(|(k, _)| k.starts_with("redactions/"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .expect("the watermark's redaction");
    assert!(
        recipe.contains(&format!("watermark {prosecutor} · share ")) && !recipe.contains("box "),
        "{recipe}"
    );
    // The officer's defence: he asks; he cannot decide; a supervisor must comment to refuse.
    let off = &tokens["officer"];
    let (st, p) = api
        .call(
            off,
            "POST",
            "/v1/preservations",
            Some(json!({"from": from, "to": to, "reason": "скарга на мене, хочу зберегти запис"})),
        )
        .await;
    assert_eq!(
        (st, p["state"].as_str()),
        (StatusCode::CREATED, Some("pending")),
        "{p}"
    );
    let pid = p["id"].as_str().expect("id");
    let (st, _) = api
        .call(
            off,
            "POST",
            &format!("/v1/preservations/{pid}/decision"),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "not his own decision");
    let (st, v) = api
        .call(
            off,
            "POST",
            "/v1/preservations",
            Some(json!({"officer": "UA-9999", "from": from, "to": to, "reason": "x"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "only his own footage: {v}");
    // Scope: a supervisor of another crossing point reaches none of it; an analyst does
    // not decide; a supervisor does not decide what he filed himself.
    let (st, v) = api
        .call(&admin, "POST", "/v1/users", Some(json!({"name": "far", "role": "supervisor", "crossing_points": ["UA-LVIV-01"], "password": "correct horse battery"})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, v) = api
        .call(
            &admin,
            "POST",
            "/v1/users/far/tokens",
            Some(json!({"label": "t"})),
        )
        .await;
    let far = v["token"].as_str().expect("token").to_owned();
    let sid2 = s2["id"].as_str().expect("id");
    let range = format!("device={device}&from={from}&to={to}").replace(':', "%3A");
    for (method, path, body, want) in [
        (
            "GET",
            format!("/v1/shares/{sid2}"),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            format!("/ui/redactions/{id}"),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "GET",
            format!("/ui/redact?{range}"),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "GET",
            format!("/ui/redact/source.mp4?{range}"),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "GET",
            "/ui/preservation?officer=UA-1000".to_owned(),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "POST",
            "/v1/redactions".to_owned(),
            Some(redaction(json!({"mute": [{"from_ms": 0, "to_ms": 1000}]}))),
            StatusCode::FORBIDDEN,
        ),
        (
            "GET",
            format!("/v1/redactions/{id}"),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "GET",
            format!("/v1/redactions/{id}/video"),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            "POST",
            "/v1/shares".to_owned(),
            Some(share_body(&expires)),
            StatusCode::FORBIDDEN,
        ),
        (
            "POST",
            format!("/v1/shares/{sid2}/revoke"),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/v1/preservations".to_owned(),
            Some(json!({"officer": "UA-1000", "from": from, "to": to, "reason": "x"})),
            StatusCode::FORBIDDEN,
        ),
        (
            "POST",
            format!("/v1/preservations/{pid}/decision"),
            Some(json!({"approve": true})),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (st, v) = api.call(&far, method, &path, body).await;
        assert_eq!(st, want, "far supervisor {method} {path}: {v}");
    }
    let (_, v) = api.call(&far, "GET", "/v1/shares", None).await;
    assert_eq!(v["shares"], json!([]), "{v}");
    let (_, v) = api.call(&far, "GET", "/v1/preservations", None).await;
    assert_eq!(v["requests"], json!([]), "{v}");
    let (st, _) = api
        .call(
            &tokens["analyst"],
            "POST",
            &format!("/v1/preservations/{pid}/decision"),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "an analyst does not decide");
    let (st, own) = api
        .call(sup, "POST", "/v1/preservations", Some(json!({"officer": "UA-1000", "from": from, "to": to, "reason": "filed by the supervisor"})))
        .await;
    assert_eq!(st, StatusCode::CREATED, "{own}");
    let own_id = own["id"].as_str().expect("id");
    let (st, _) = api
        .call(
            sup,
            "POST",
            &format!("/v1/preservations/{own_id}/decision"),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "not his own filing");
    let (st, v) = api
        .call(
            sup,
            "POST",
            &format!("/v1/preservations/{pid}/decision"),
            Some(json!({"approve": false})),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("comment_required")),
        "{v}"
    );
    let (st, v) = api
        .call(
            sup,
            "POST",
            &format!("/v1/preservations/{pid}/decision"),
            Some(json!({"approve": true, "comment": "зберегти до розгляду"})),
        )
        .await;
    assert_eq!(
        (st, v["state"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{v}"
    );
    let held_by = v["case"].as_str().expect("a case").to_owned();
    let (st, _) = api
        .call(
            sup,
            "POST",
            &format!("/v1/preservations/{pid}/decision"),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "decided once");
    let (_, mine) = api.call(off, "GET", "/v1/preservations", None).await;
    let mine = mine["requests"].as_array().expect("requests");
    assert!(
        mine.iter()
            .any(|r| r["id"] == pid && r["state"] == "approved"),
        "{mine:?}"
    );

    // Past retention (0 days), with the demo's own case closed, only his request holds
    // his camera's footage: it stays, the rest goes.
    let (st, v) = api
        .call(&admin, "POST", &format!("/v1/cases/{case}/close"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, run) = api.call(&admin, "POST", "/v1/retention/run", None).await;
    assert_eq!(st, StatusCode::OK, "{run}");
    assert!(
        run["held"].as_u64().unwrap_or(0) > 0 && run["purged"].as_u64().unwrap_or(0) > 0,
        "{run}"
    );
    let (_, kept) = api
        .call(sup, "GET", &format!("/v1/cases/{held_by}"), None)
        .await;
    assert!(
        kept["items"].as_array().is_some_and(|i| i
            .iter()
            .any(|i| i["device"] == device.as_str() && i["held"] == true)),
        "{kept}"
    );
    let seg = files
        .iter()
        .filter(|(k, _)| k.starts_with("links/"))
        .find_map(
            |(_, b)| match kordon_core::link::Link::parse(b).ok()?.body() {
                kordon_core::link::LinkBody::Segment(s) => Some(s.sha256.to_hex()),
                _ => None,
            },
        )
        .expect("a segment link");
    // It outlived retention, byte for byte what the camera signed: redacting and sharing
    // changed nothing of it.
    let res = api
        .http
        .get(format!(
            "{}/v1/blobs/{seg}?reason=preservation%20check",
            api.url
        ))
        .bearer_auth(sup)
        .send()
        .await
        .expect("segment");
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "his footage outlived retention"
    );
    let bytes = res.bytes().await.expect("bytes");
    assert_eq!(
        kordon_core::sha256(&bytes).to_hex(),
        seg,
        "the original unchanged"
    );

    // A case names his inspection: he may take its evidence package for his defence.
    let (st, v) = api.call(off, "GET", "/v1/me/packages", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let file = v["packages"][0]["file"]
        .as_str()
        .expect("the demo case's package")
        .to_owned();
    assert_eq!(v["packages"][0]["case"], case.as_str(), "{v}");
    let res = api
        .http
        .get(format!("{}/v1/me/packages/{file}", api.url))
        .bearer_auth(off)
        .send()
        .await
        .expect("package");
    assert_eq!(res.status(), StatusCode::OK);
    let got = res.bytes().await.expect("zip");
    assert_eq!(
        got.as_ref(),
        std::fs::read(data.join("exports").join(&file))
            .expect("file")
            .as_slice()
    );
    let (st, _) = api
        .call(off, "GET", "/v1/me/packages/other-1.zip", None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "only a case naming him");

    // He sees who viewed it (the supervisor just did).
    let res = api
        .http
        .get(format!("{}/ui/preservation", api.url))
        .bearer_auth(off)
        .send()
        .await
        .expect("page");
    let page = res.text().await.expect("page");
    assert!(
        page.contains("id=\"viewers\"") && page.contains("<td>supervisor</td>"),
        "{page}"
    );

    // Killed while copies render: at the next start the unfinished ones say so; none is
    // left "rendering" for ever, and none half-written is served.
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (st, v) = api
            .call(
                sup,
                "POST",
                "/v1/redactions",
                Some(redaction(json!({"mute": [{"from_ms": 0, "to_ms": 1000}]}))),
            )
            .await;
        assert_eq!(st, StatusCode::ACCEPTED, "{v}");
        ids.push(v["id"].as_str().expect("id").to_owned());
    }
    drop(server);
    let (_server, url) = common::serve(data_s, &env);
    api.url = url;
    let mut interrupted = 0;
    for id in &ids {
        let (_, v) = api
            .call(sup, "GET", &format!("/v1/redactions/{id}"), None)
            .await;
        match v["state"].as_str() {
            Some("ready") => {}
            Some("failed") => {
                assert_eq!(v["error"], "interrupted by a restart; make it again", "{v}");
                let (st, _) = api
                    .call(sup, "GET", &format!("/v1/redactions/{id}/video"), None)
                    .await;
                assert_eq!(st, StatusCode::CONFLICT, "a failed copy is not served");
                interrupted += 1;
            }
            _ => panic!("{v}"),
        }
    }
    assert!(
        interrupted >= 1,
        "the queue was killed before its last render finished"
    );
    let left: Vec<String> = std::fs::read_dir(data.join("redactions"))
        .expect("redactions")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.ends_with(".work"))
        .collect();
    assert!(left.is_empty(), "half-written renders left: {left:?}");
}
