//! The small findings of the security review (issue 15, "Low"), each as it was seen:
//! every error is the API's JSON (an unknown route, a path that does not parse, a body
//! over the limit), every answer carries the security headers, kordon's own names and
//! megabyte passwords are refused, and a release receipt must name a package exported
//! here.

mod common;

use common::Server;
use serde_json::{Value, json};

async fn raw(rb: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = rb.send().await.expect("request");
    let st = r.status().as_u16();
    let h = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    (
        st,
        h,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_json_headers_are_set_and_small_holes_are_closed() {
    let s = Server::start().await;
    let url = &s.url;

    // Errors the framework answers are the API's JSON with a stable code.
    for (rb, status, code) in [
        (
            s.http.get(format!("{url}/v1/no-such-route")),
            404,
            "not_found",
        ),
        (s.http.get(format!("{url}/nothing/here")), 404, "not_found"),
        (
            s.http
                .put(format!("{url}/v1/devices/cam-1/segments/not-a-number"))
                .body("x"),
            400,
            "bad_request",
        ),
        (
            s.http
                .post(format!("{url}/v1/users"))
                .bearer_auth(&s.admin)
                .header("content-type", "application/json")
                .body(vec![b' '; 3 << 20]),
            413,
            "too_large",
        ),
        (
            s.http.delete(format!("{url}/v1/devices")),
            405,
            "method_not_allowed",
        ),
    ] {
        let (st, h, v) = raw(rb).await;
        assert_eq!((st, v["error"].as_str()), (status, Some(code)), "{v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        assert_eq!(h["content-type"], "application/json");
    }

    // Officers' names are personal data: not for anyone without an account.
    let (st, _, v) = raw(s.http.get(format!("{url}/v1/officers"))).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (401, Some("unauthorized")),
        "{v}"
    );
    let (st, _, v) = raw(s
        .http
        .get(format!("{url}/v1/officers"))
        .bearer_auth(&s.admin))
    .await;
    assert_eq!(st, 200, "{v}");

    // Security headers on pages, API answers and errors; caches keep nothing but what a
    // route allows (the log's full tiles).
    for path in [
        "/ui/login",
        "/v1/devices",
        "/v1/no-such-route",
        "/log/checkpoint",
    ] {
        let (_, h, _) = raw(s.http.get(format!("{url}{path}"))).await;
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let csp = h["content-security-policy"].to_str().expect("csp");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert!(h.contains_key("cache-control"), "{path}");
    }
    let (_, h, _) = raw(s
        .http
        .get(format!("{url}/v1/devices"))
        .bearer_auth(&s.admin))
    .await;
    assert_eq!(h["cache-control"], "no-store");

    // kordon's own names, and passwords of a megabyte.
    for name in ["admin", "retention"] {
        let (st, v) = s
            .json(s.http.post(format!("{url}/v1/users")).json(&json!({
                "name": name, "role": "auditor", "password": "a long enough password",
            })))
            .await;
        assert_eq!(st, 400, "{name}: {v}");
        assert!(
            v["message"]
                .as_str()
                .is_some_and(|m| m.contains("kordon's own")),
            "{v}"
        );
    }
    let huge = "p".repeat(1 << 20);
    let (st, v) = s
        .json(s.http.post(format!("{url}/v1/users")).json(&json!({
            "name": "auditor1", "role": "auditor", "password": huge,
        })))
        .await;
    assert_eq!(st, 400, "{v}");
    let started = std::time::Instant::now();
    let r = s
        .http
        .post(format!("{url}/ui/login"))
        .form(&[
            ("name", "auditor1"),
            ("password", huge.as_str()),
            ("code", ""),
        ])
        .send()
        .await
        .expect("login");
    assert!(!r.status().is_redirection(), "no session for it");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "refused before hashing"
    );

    // A release receipt names a package this server exported of that case.
    let (st, v) = s
        .json(s.http.post(format!("{url}/v1/cases")).json(&json!({
            "id": "C-1", "reference": "R", "kind": "complaint", "description": "d",
        })))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = s
        .json(
            s.http
                .post(format!("{url}/v1/cases/C-1/receipts"))
                .json(&json!({
                    "recipient": "court", "package_sha256": "0".repeat(64),
                })),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unknown_package")),
        "{v}"
    );

    // Signing out with a forged form is refused, not half done (cookie cleared, session
    // alive): the session and its cookie stay, and a real sign-out ends both.
    let (st, v) = s
        .json(s.http.post(format!("{url}/v1/users")).json(&json!({
            "name": "auditor2", "role": "auditor", "password": "a long enough password",
        })))
        .await;
    assert_eq!(st, 201, "{v}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = http
        .post(format!("{url}/ui/login"))
        .form(&[
            ("name", "auditor2"),
            ("password", "a long enough password"),
            ("code", ""),
        ])
        .send()
        .await
        .expect("login");
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let r = http
        .post(format!("{url}/ui/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status().as_u16(), 403);
    assert!(
        !r.headers().contains_key("set-cookie"),
        "the cookie is not cleared"
    );
    let r = http
        .get(format!("{url}/ui/custody?subject=case%20C-1"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(
        r.status().as_u16(),
        200,
        "the session is alive, as the browser thinks"
    );
    // A new password ends what the old one signed in; a disabled account cannot sign in.
    let put = |password: &str| {
        s.http.post(format!("{url}/v1/users")).json(&json!({
            "name": "auditor3", "role": "auditor", "password": password,
        }))
    };
    let (st, v) = s.json(put("the first long password")).await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = s
        .json(
            s.http
                .post(format!("{url}/v1/users/auditor3/tokens"))
                .json(&json!({"label": "t"})),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    let token = v["token"].as_str().expect("token").to_owned();
    let sign_in = |password: &'static str| {
        http.post(format!("{url}/ui/login"))
            .form(&[("name", "auditor3"), ("password", password), ("code", "")])
            .send()
    };
    let r = sign_in("the first long password").await.expect("login");
    assert_eq!(r.status().as_u16(), 303);
    let session = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let reads = |rb: reqwest::RequestBuilder| async move {
        rb.send().await.expect("read").status().as_u16()
    };
    assert_eq!(
        reads(s.http.get(format!("{url}/v1/devices")).bearer_auth(&token)).await,
        200
    );
    let (st, v) = s.json(put("the second long password")).await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(
        reads(s.http.get(format!("{url}/v1/devices")).bearer_auth(&token)).await,
        401,
        "the token ended"
    );
    assert_eq!(
        reads(
            http.get(format!("{url}/v1/devices"))
                .header("cookie", &session)
        )
        .await,
        401,
        "the session ended"
    );
    let (st, v) = s
        .json(s.http.post(format!("{url}/v1/users/auditor3/disable")))
        .await;
    assert_eq!(st, 200, "{v}");
    let r = sign_in("the second long password").await.expect("login");
    assert_eq!(
        r.status().as_u16(),
        403,
        "a disabled account cannot sign in"
    );
    let (st, v) = s
        .json(s.http.post(format!("{url}/v1/users/auditor3/enable")))
        .await;
    assert_eq!(st, 200, "{v}");
    let r = sign_in("the second long password").await.expect("login");
    assert_eq!(r.status().as_u16(), 303, "enabled again");

    // Login timing tells no names apart: a name that does not exist costs exactly the one
    // Argon2id check a wrong password for a real account does.
    let checks = || async {
        let text = http
            .get(format!("{url}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        text.lines()
            .find_map(|l| l.strip_prefix("kordon_password_checks_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    for (name, password) in [
        ("nobody-by-this-name", "some password"),
        ("auditor3", "a wrong password"),
    ] {
        let before = checks().await;
        let r = http
            .post(format!("{url}/ui/login"))
            .form(&[("name", name), ("password", password)])
            .send()
            .await
            .expect("login");
        assert_eq!(r.status().as_u16(), 403, "{name}");
        assert_eq!(checks().await - before, 1.0, "{name}: one password check");
    }

    // X-Forwarded-For from a peer that is not a configured proxy is the client's own
    // claim: eleven failures from here are one client's, whatever each one claims.
    let mut last = 0;
    for i in 0..11 {
        let r = s
            .http
            .post(format!("{url}/ui/login"))
            .header("X-Forwarded-For", format!("198.51.100.{i}"))
            .form(&[
                ("name", format!("nobody{i}")),
                ("password", "wrong password".into()),
            ])
            .send()
            .await
            .expect("login");
        last = r.status().as_u16();
    }
    assert_eq!(last, 429, "the forwarded addresses were not believed");
}
