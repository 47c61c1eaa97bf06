//! Access control over HTTP, against a real server: every role × operation pair through
//! the API (one request per operation, chosen so that only the permission check can
//! refuse it), API tokens and their revocation, CSRF, session idle and absolute timeouts,
//! login lockout, the TOTP second factor, cross-site login.

use std::time::{Duration, Instant};

use kordon_server::auth::{Op, Role, allowed, current_totp};
use reqwest::{Method, StatusCode, redirect::Policy};
use serde_json::{Value, json};

struct Server {
    url: String,
    admin: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn server(idle_s: u64, max_s: u64) -> Server {
    server_with(idle_s, max_s, Vec::new()).await
}

async fn server_with(idle_s: u64, max_s: u64, edges: Vec<String>) -> Server {
    let dir = tempfile::tempdir().expect("tmp");
    let config = kordon_server::config::Config {
        data: dir.path().join("data"),
        cookie_insecure: true,
        session_idle_s: idle_s,
        session_max_s: max_s,
        trusted_proxies: vec![std::net::IpAddr::from([127, 0, 0, 1])],
        edges,
        ..Default::default()
    };
    let app = kordon_server::open(config).await.expect("open");
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(kordon_server::serve_router(
        l,
        kordon_server::router(app),
        std::future::pending(),
    ));
    let admin = std::fs::read_to_string(dir.path().join("data/keys/admin-token"))
        .expect("admin token")
        .trim()
        .to_owned();
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    Server {
        url,
        admin,
        http,
        _dir: dir,
    }
}

const PASSWORD: &str = "correct horse battery";

impl Server {
    async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = auth {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let res = rb.send().await.expect("request");
        let st = res.status();
        let text = res.text().await.expect("body");
        (
            st,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn add_user(&self, name: &str, role: &str, extra: Value) -> Value {
        let mut body = json!({"name": name, "role": role, "password": PASSWORD});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let (st, v) = self
            .call(Method::POST, "/v1/users", Some(&self.admin), Some(&body))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        v
    }

    async fn token_of(&self, name: &str) -> (String, String) {
        let (st, v) = self
            .call(
                Method::POST,
                &format!("/v1/users/{name}/tokens"),
                Some(&self.admin),
                Some(&json!({"label": "test"})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        (
            v["token"].as_str().expect("token").to_owned(),
            v["id"].as_str().expect("id").to_owned(),
        )
    }

    /// Signs in through the login form; answers the session cookie (name=value).
    async fn login(&self, name: &str, password: &str, code: &str) -> Result<String, String> {
        self.login_from("127.0.0.1", name, password, code).await
    }

    /// A login from `client` (behind the trusted reverse proxy, which names it).
    async fn login_from(
        &self,
        client: &str,
        name: &str,
        password: &str,
        code: &str,
    ) -> Result<String, String> {
        let res = self
            .http
            .post(format!("{}/ui/login", self.url))
            .header("X-Forwarded-For", client)
            .form(&[("name", name), ("password", password), ("code", code)])
            .send()
            .await
            .expect("login");
        let cookie = res
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        match (res.status(), cookie) {
            (StatusCode::SEE_OTHER, Some(c)) => Ok(c),
            (st, _) => Err(format!("{st}: {}", res.text().await.unwrap_or_default())),
        }
    }

    /// A page as the holder of `cookie`: its status and body.
    async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.url))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await
            .expect("page");
        (res.status(), res.text().await.unwrap_or_default())
    }
}

/// The one request that exercises `op`, with a body valid enough that nothing but the
/// permission check can answer 403.
fn request(op: Op) -> (Method, String, Option<Value>) {
    let zeros = "0".repeat(64);
    let day = "from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z";
    match op {
        Op::ViewDashboard => (Method::GET, "/ui/".into(), None),
        Op::ViewReports => (Method::GET, format!("/v1/reports/coverage?{day}"), None),
        Op::Search => (
            Method::GET,
            "/v1/search/inspections?vehicle_plate=AA1234BB".into(),
            None,
        ),
        Op::ViewFootage => (Method::GET, format!("/v1/blobs/{zeros}?reason=test"), None),
        Op::ViewCustody => (Method::GET, "/v1/cases/NO-SUCH-CASE".into(), None),
        Op::Bookmark => (
            Method::POST,
            "/v1/bookmarks".into(),
            Some(json!({"inspection_id": "NO-SUCH", "at": "2026-01-01T10:00:00Z", "label": "x"})),
        ),
        Op::FileGapReason => (
            Method::POST,
            "/v1/inspections/NO-SUCH/gap-reasons".into(),
            Some(
                json!({"from": "2026-01-01T10:00:00Z", "to": "2026-01-01T10:01:00Z", "reason": "other", "text": "x"}),
            ),
        ),
        Op::DecideGapReason => (Method::POST, "/v1/gap-reasons/999999/approve".into(), None),
        Op::ReviewInspections => (
            Method::POST,
            "/v1/inspections/999999/reviews".into(),
            Some(json!({"outcome": "meets"})),
        ),
        Op::ManageCases => (
            Method::POST,
            "/v1/cases".into(),
            Some(
                json!({"id": "C-ACCESS", "reference": "R-1", "kind": "complaint", "description": "access test"}),
            ),
        ),
        Op::ExportCase => (Method::POST, "/v1/cases/NO-SUCH/export".into(), None),
        Op::ReleasePackage => (
            Method::POST,
            "/v1/cases/NO-SUCH/receipts".into(),
            Some(json!({"recipient": "court", "package_sha256": zeros})),
        ),
        Op::ImportInspections => (Method::POST, "/v1/inspections".into(), Some(json!([]))),
        Op::ManageReference => (
            Method::PUT,
            "/v1/crossing-points/UA-ACCESS".into(),
            Some(
                json!({"name_uk": "Тест", "name_latin": "Test", "tz": "Europe/Kyiv", "lanes": ["1"]}),
            ),
        ),
        Op::ManageDevices => (
            Method::POST,
            "/v1/devices/cam-access/enroll-token".into(),
            None,
        ),
        Op::AssignDevices => (
            Method::POST,
            "/v1/assignments".into(),
            Some(
                json!({"device": "cam-no-such", "officer": "UA-0", "crossing_point": "UA-ACCESS"}),
            ),
        ),
        Op::ManageUsers => (Method::GET, "/v1/users".into(), None),
        Op::RunJobs => (Method::POST, "/v1/retention/run".into(), None),
        Op::Redact => (
            Method::POST,
            "/v1/redactions".into(),
            Some(
                json!({"device": "cam-no-such", "from": "not a time", "to": "2026-01-01T10:00:00Z", "ops": {}, "reason": "access"}),
            ),
        ),
        Op::Share => (
            Method::POST,
            "/v1/shares".into(),
            Some(
                json!({"redaction": "no-such", "recipient": "x", "purpose": "y", "expires_at": "2026-01-01T10:00:00Z"}),
            ),
        ),
        Op::RequestPreservation => (
            Method::POST,
            "/v1/preservations".into(),
            Some(
                json!({"from": "2026-01-01T10:00:00Z", "to": "2026-01-01T11:00:00Z", "reason": "x"}),
            ),
        ),
        Op::DecidePreservation => (
            Method::POST,
            "/v1/preservations/no-such/decision".into(),
            Some(json!({"approve": true})),
        ),
        Op::SeeViewers => (Method::GET, "/ui/preservation".into(), None),
        Op::TakeOwnPackage => (Method::GET, "/v1/me/packages".into(), None),
    }
}

/// The routes between crossing points and the centre: each role, and a user of the
/// right role scoped to one crossing point, which they concern all of.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forwarding_routes_need_the_role_and_every_crossing_point() {
    let edge = kordon_core::note::SignerKey::ed25519_from_seed("edge.access/log", [3; 32])
        .expect("key")
        .verifier()
        .to_string();
    let s = server_with(1800, 43_200, vec![edge]).await;
    let mut callers = Vec::new();
    for role in Role::ALL {
        let name = format!("u-{}", role.as_str());
        let extra = if role == Role::Officer {
            json!({"officer": "UA-0"})
        } else {
            json!({})
        };
        s.add_user(&name, role.as_str(), extra).await;
        callers.push((role, false, s.token_of(&name).await.0));
        if matches!(role, Role::Administrator | Role::Supervisor) {
            let name = format!("u-{}-scoped", role.as_str());
            s.add_user(
                &name,
                role.as_str(),
                json!({"crossing_points": ["UA-ELSEWHERE"]}),
            )
            .await;
            callers.push((role, true, s.token_of(&name).await.0));
        }
    }
    let routes = [
        (Op::ManageDevices, Method::GET, "/v1/edges", None),
        (
            Op::ManageDevices,
            Method::GET,
            "/v1/edges/edge.access%2Flog",
            None,
        ),
        (
            Op::ManageDevices,
            Method::GET,
            "/v1/edges/edge.access%2Flog/holes",
            None,
        ),
        (
            Op::ManageDevices,
            Method::POST,
            "/v1/edges/records",
            Some(json!({"origin": "edge.access/log", "through": 1, "records": []})),
        ),
        (
            Op::ManageDevices,
            Method::POST,
            "/v1/edges/entries",
            Some(json!({"checkpoint": "not a note", "from": 0, "entries": []})),
        ),
        (Op::ViewDashboard, Method::GET, "/v1/forwarding/holes", None),
        // Last: it reads `edges` again, here from the (empty) environment.
        (Op::ManageDevices, Method::POST, "/v1/edges/reload", None),
    ];
    for (op, method, path, body) in &routes {
        for (role, scoped, token) in &callers {
            let (st, v) = s
                .call(method.clone(), path, Some(token), body.as_ref())
                .await;
            if allowed(*role, *op) && !scoped {
                assert!(
                    st != StatusCode::FORBIDDEN && st != StatusCode::UNAUTHORIZED,
                    "{role:?} may: {method} {path} answered {st} {v}"
                );
            } else {
                assert_eq!(
                    (st, v["error"].as_str()),
                    (StatusCode::FORBIDDEN, Some("forbidden")),
                    "{role:?} (scoped: {scoped}) may not: {method} {path} answered {v}"
                );
                if *scoped && allowed(*role, *op) {
                    assert!(
                        v["message"]
                            .as_str()
                            .is_some_and(|m| m.contains("every crossing point")),
                        "{v}"
                    );
                }
            }
        }
        let (st, _) = s.call(method.clone(), path, None, body.as_ref()).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{path} without credentials");
    }
}

/// Every route of release to others (redacted copies, shares, preservation, the officer's
/// packages), of the explanation queue and of cases (the API and the pages and forms), for every
/// role, about things that do not exist: a role that may gets "not there" or a refusal of
/// the input, never 403; a role that may not gets 403 whatever the input; nobody signed in
/// gets 401 (a page: the login).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_release_and_review_route_checks_the_role() {
    let s = server(1800, 43_200).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let name = format!("r-{}", role.as_str());
        let extra = if role == Role::Officer {
            json!({"officer": "UA-0"})
        } else {
            json!({})
        };
        s.add_user(&name, role.as_str(), extra).await;
        tokens.push((role, s.token_of(&name).await.0));
    }
    let range = "device=cam-none&from=2026-01-01T10%3A00%3A00Z&to=2026-01-01T10%3A05%3A00Z";
    let form = "csrf=x&ops=%7B%7D&reason=r&recipient=x&purpose=y&hours=1&from=2026-01-01T10%3A00&to=2026-01-01T11%3A00&decision=approve&comment=c";
    // (who may: any of these, method, path, a form body)
    let routes: Vec<(&[Op], Method, String, bool)> = vec![
        (
            &[Op::Redact],
            Method::GET,
            "/v1/redactions/no-such".into(),
            false,
        ),
        (
            &[Op::Redact],
            Method::GET,
            "/v1/redactions/no-such/video".into(),
            false,
        ),
        (&[Op::Share], Method::GET, "/v1/shares".into(), false),
        (
            &[Op::Share],
            Method::GET,
            "/v1/shares/no-such".into(),
            false,
        ),
        (
            &[Op::Share],
            Method::POST,
            "/v1/shares/no-such/revoke".into(),
            false,
        ),
        (
            &[Op::RequestPreservation, Op::DecidePreservation],
            Method::GET,
            "/v1/preservations".into(),
            false,
        ),
        (
            &[Op::TakeOwnPackage],
            Method::GET,
            "/v1/me/packages/x-1.zip".into(),
            false,
        ),
        (
            &[Op::Redact],
            Method::GET,
            format!("/ui/redact?{range}"),
            false,
        ),
        (
            &[Op::Redact],
            Method::GET,
            format!("/ui/redact/source.mp4?{range}"),
            false,
        ),
        (&[Op::Redact], Method::POST, "/ui/redact".into(), true),
        (
            &[Op::Redact],
            Method::GET,
            "/ui/redactions/no-such".into(),
            false,
        ),
        (
            &[Op::Share],
            Method::POST,
            "/ui/redactions/no-such/share".into(),
            true,
        ),
        (
            &[Op::Share],
            Method::POST,
            "/ui/shares/no-such/revoke".into(),
            true,
        ),
        (
            &[Op::RequestPreservation],
            Method::POST,
            "/ui/preservation".into(),
            true,
        ),
        (
            &[Op::DecidePreservation],
            Method::POST,
            "/ui/preservation/no-such".into(),
            true,
        ),
        (
            &[Op::FileGapReason, Op::DecideGapReason],
            Method::GET,
            "/ui/explanations".into(),
            false,
        ),
        (
            &[Op::DecideGapReason],
            Method::POST,
            "/ui/reasons/no-such/reject".into(),
            true,
        ),
        (
            &[Op::ReviewInspections],
            Method::GET,
            "/ui/review".into(),
            false,
        ),
        (
            &[Op::ReviewInspections],
            Method::POST,
            "/ui/inspections/no-such/review".into(),
            true,
        ),
        (&[Op::ViewCustody], Method::GET, "/ui/cases".into(), false),
        (&[Op::ManageCases], Method::POST, "/ui/cases".into(), true),
        (
            &[Op::ViewCustody],
            Method::GET,
            "/ui/cases/no-such".into(),
            false,
        ),
        (
            &[Op::ManageCases],
            Method::POST,
            "/ui/cases/no-such/items".into(),
            true,
        ),
        (
            &[Op::ManageCases],
            Method::POST,
            "/ui/cases/no-such/close".into(),
            true,
        ),
        (
            &[Op::ExportCase],
            Method::POST,
            "/ui/cases/no-such/export".into(),
            true,
        ),
        (
            &[Op::ReleasePackage],
            Method::POST,
            "/ui/cases/no-such/release".into(),
            true,
        ),
    ];
    for (ops, method, path, is_form) in &routes {
        let send = |token: Option<&str>| {
            let mut rb = s.http.request(method.clone(), format!("{}{path}", s.url));
            if let Some(t) = token {
                rb = rb.bearer_auth(t);
            }
            if *is_form {
                rb = rb
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form);
            }
            rb.send()
        };
        for (role, token) in &tokens {
            let st = send(Some(token)).await.expect("request").status();
            if ops.iter().any(|op| allowed(*role, *op)) {
                assert!(
                    st != StatusCode::FORBIDDEN && st != StatusCode::UNAUTHORIZED,
                    "{role:?} may: {method} {path} answered {st}"
                );
            } else {
                assert_eq!(
                    st,
                    StatusCode::FORBIDDEN,
                    "{role:?} may not: {method} {path}"
                );
            }
        }
        let st = send(None).await.expect("request").status();
        let want = if path.starts_with("/ui/") {
            StatusCode::SEE_OTHER
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(st, want, "{method} {path} without credentials");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_and_operation_pair_over_http() {
    let s = server(1800, 43_200).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let name = format!("u-{}", role.as_str());
        let extra = if role == Role::Officer {
            json!({"officer": "UA-0"})
        } else {
            json!({})
        };
        s.add_user(&name, role.as_str(), extra).await;
        tokens.push((role, s.token_of(&name).await.0));
    }
    // Every signed-in role reads the list of cameras; only an administrator rechecks one.
    for (role, token) in &tokens {
        let (st, v) = s.call(Method::GET, "/v1/devices", Some(token), None).await;
        assert_eq!(st, StatusCode::OK, "{role:?}: {v}");
        let (st, v) = s
            .call(
                Method::POST,
                "/v1/devices/cam-none/recheck",
                Some(token),
                Some(&json!({})),
            )
            .await;
        let want = if *role == Role::Administrator {
            (StatusCode::NOT_FOUND, Some("unknown_device"))
        } else {
            (StatusCode::FORBIDDEN, Some("forbidden"))
        };
        assert_eq!((st, v["error"].as_str()), want, "{role:?} rechecks: {v}");
    }
    let mut checked = 0;
    for op in Op::ALL {
        let (method, path, body) = request(op);
        for (role, token) in &tokens {
            let (st, v) = s
                .call(method.clone(), &path, Some(token), body.as_ref())
                .await;
            if allowed(*role, op) {
                assert!(
                    st != StatusCode::FORBIDDEN && st != StatusCode::UNAUTHORIZED,
                    "{role:?} may {op:?}: {method} {path} answered {st} {v}"
                );
            } else if path.starts_with("/ui/") {
                // A page, not JSON: people get a page saying why; an officer is sent to
                // their own timeline instead of the dashboard.
                let want = if *role == Role::Officer && op == Op::ViewDashboard {
                    StatusCode::SEE_OTHER
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(st, want, "{role:?} × {op:?}: {v}");
            } else {
                assert_eq!(
                    (st, v["error"].as_str()),
                    (StatusCode::FORBIDDEN, Some("forbidden")),
                    "{role:?} may not {op:?}: {method} {path} answered {v}"
                );
            }
            checked += 1;
        }
        // Nobody at all: 401 everywhere.
        let (st, _) = s.call(method.clone(), &path, None, body.as_ref()).await;
        if path.starts_with("/ui/") {
            assert_eq!(
                st,
                StatusCode::SEE_OTHER,
                "a page sends strangers to the login"
            );
        } else {
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{op:?} without credentials");
        }
    }
    assert_eq!(checked, Op::ALL.len() * Role::ALL.len());

    // The public log stays public: outsiders need no account.
    for path in ["/log/checkpoint", "/log/verifier-key"] {
        assert_eq!(
            s.call(Method::GET, path, None, None).await.0,
            StatusCode::OK,
            "{path}"
        );
    }
    // The cameras and their chains are not public (the keys are, in the log's enroll
    // events): any signed-in role reads them, nobody else.
    for path in [
        "/v1/devices",
        "/v1/devices/cam-access",
        "/v1/devices/cam-access/continuity",
    ] {
        let (st, v) = s.call(Method::GET, path, None, None).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized")),
            "{path}"
        );
    }
    // There is no operation that deletes or edits evidence or log entries.
    for (method, path) in [
        (Method::DELETE, format!("/v1/blobs/{}", "0".repeat(64))),
        (Method::DELETE, "/v1/devices/cam-access".to_owned()),
        (Method::PUT, "/log/tile/entries/000".to_owned()),
        (Method::DELETE, "/v1/cases/C-ACCESS".to_owned()),
    ] {
        let (st, _) = s.call(method.clone(), &path, Some(&s.admin), None).await;
        assert!(
            st == StatusCode::METHOD_NOT_ALLOWED || st == StatusCode::NOT_FOUND,
            "{method} {path}: {st}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_revocable_and_footage_needs_a_reason() {
    let s = server(1800, 43_200).await;
    s.add_user("customs-it", "integration", json!({})).await;
    let (token, id) = s.token_of("customs-it").await;
    let import = json!([]);
    let (st, _) = s
        .call(Method::POST, "/v1/inspections", Some(&token), Some(&import))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = s
        .call(
            Method::POST,
            &format!("/v1/users/customs-it/tokens/{id}/revoke"),
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = s
        .call(Method::POST, "/v1/inspections", Some(&token), Some(&import))
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (st, v) = s
        .call(
            Method::POST,
            &format!("/v1/users/customs-it/tokens/{id}/revoke"),
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{v}"
    );

    // Footage is opened only with a reason.
    let (st, v) = s
        .call(
            Method::GET,
            &format!("/v1/blobs/{}", "0".repeat(64)),
            Some(&s.admin),
            None,
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("reason_required"))
    );

    // Weak passwords and officers without a service number are refused, by name.
    for (body, says) in [
        (
            json!({"name": "x", "role": "auditor", "password": "short"}),
            "at least 12",
        ),
        (
            json!({"name": "x", "role": "officer", "password": PASSWORD}),
            "service number",
        ),
        (
            json!({"name": "x", "role": "officer", "officer": "UA-1", "password": PASSWORD, "totp": true}),
            "second factor",
        ),
        (
            json!({"name": "x", "role": "god", "password": PASSWORD}),
            "role must be",
        ),
    ] {
        let (st, v) = s
            .call(Method::POST, "/v1/users", Some(&s.admin), Some(&body))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert!(
            v["message"].as_str().is_some_and(|m| m.contains(says)),
            "{v}"
        );
    }
    // None of the refused users was stored.
    let (_, users) = s.call(Method::GET, "/v1/users", Some(&s.admin), None).await;
    assert_eq!(users["users"].as_array().map(Vec::len), Some(1), "{users}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_lockout_second_factor_and_cross_site_login() {
    let s = server(1800, 43_200).await;
    s.add_user("sup", "supervisor", json!({})).await;
    let cookie = s.login("sup", PASSWORD, "").await.expect("login");
    let (st, html) = s.page("/ui/", &cookie).await;
    assert_eq!(st, StatusCode::OK);
    let csrf = csrf_of(&html);
    let bookmark = json!({"inspection_id": "NO-SUCH", "at": "2026-01-01T10:00:00Z", "label": "x"});
    let post = |csrf: Option<&str>| {
        let mut rb = s
            .http
            .post(format!("{}/v1/bookmarks", s.url))
            .header(reqwest::header::COOKIE, &cookie)
            .json(&bookmark);
        if let Some(c) = csrf {
            rb = rb.header("X-CSRF-Token", c);
        }
        rb.send()
    };
    for bad in [None, Some("0000")] {
        let res = post(bad).await.expect("post");
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let v: Value = res.json().await.expect("json");
        assert!(
            v["message"].as_str().is_some_and(|m| m.contains("CSRF")),
            "{v}"
        );
    }
    let res = post(Some(&csrf)).await.expect("post");
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "with its token the request is judged on its merits"
    );

    // A login posted from another site is refused.
    let res = s
        .http
        .post(format!("{}/ui/login", s.url))
        .header(reqwest::header::ORIGIN, "https://evil.example")
        .form(&[("name", "sup"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Five wrong passwords from one address lock that address out of the account: then
    // even the right one is refused from there, with the same message as every failure.
    // Guessing cannot lock the holder out: from his own address he still signs in.
    s.add_user("aud", "auditor", json!({})).await;
    let guesser = "203.0.113.50";
    let mut messages = Vec::new();
    for _ in 0..5 {
        messages.push(
            s.login_from(guesser, "aud", "wrong password!", "")
                .await
                .expect_err("wrong"),
        );
    }
    let locked = s
        .login_from(guesser, "aud", PASSWORD, "")
        .await
        .expect_err("locked");
    assert!(locked.contains("locked"), "{locked}");
    assert_eq!(messages[0], locked, "one message for every failure");
    s.login("aud", PASSWORD, "")
        .await
        .expect("the holder signs in from his own address");

    // Guesses from many addresses (four each, under the per-address lock) throttle the
    // account as a whole after twenty in a row: then the right password is refused for
    // half a minute from anywhere, and the administrator sees the account locked.
    for i in 0..20 {
        let client = format!("198.51.100.{}", i / 4);
        s.login_from(&client, "aud", "wrong password!", "")
            .await
            .expect_err("wrong");
    }
    let throttled = s.login("aud", PASSWORD, "").await.expect_err("throttled");
    assert_eq!(messages[0], throttled, "one message for every failure");
    let (_, users) = s.call(Method::GET, "/v1/users", Some(&s.admin), None).await;
    let aud = users["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["name"] == "aud"))
        .expect("aud");
    assert_eq!(aud["locked"], true, "{aud}");
    // Other accounts are not affected.
    s.login("sup", PASSWORD, "")
        .await
        .expect("sup still signs in");

    // An analyst with a second factor needs the code.
    let v = s.add_user("ana", "analyst", json!({"totp": true})).await;
    let secret = v["totp_secret"].as_str().expect("secret").to_owned();
    assert!(s.login("ana", PASSWORD, "").await.is_err(), "no code");
    assert!(s.login("ana", PASSWORD, "123").await.is_err(), "wrong code");
    let code = current_totp(&secret).expect("code");
    s.login("ana", PASSWORD, &code)
        .await
        .expect("password and code");
    assert!(
        s.login("ana", PASSWORD, &code).await.is_err(),
        "the same code a second time (RFC 6238 §5.2)"
    );

    // Nobody else can issue a token in the name of an account with a second factor (it
    // would skip the code), not even the administrator; its holder can, signed in with
    // the code, for that account only.
    let v = s.add_user("tot", "analyst", json!({"totp": true})).await;
    let secret = v["totp_secret"].as_str().expect("secret").to_owned();
    let (st, v) = s
        .call(
            Method::POST,
            "/v1/users/tot/tokens",
            Some(&s.admin),
            Some(&json!({"label": "as tot"})),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("second factor")),
        "{v}"
    );
    let code = current_totp(&secret).expect("code");
    let tot = s
        .login("tot", PASSWORD, &code)
        .await
        .expect("password and code");
    let (_, html) = s.page("/ui/", &tot).await;
    let csrf = csrf_of(&html);
    let own = |name: &'static str| {
        s.http
            .post(format!("{}/v1/users/{name}/tokens", s.url))
            .header(reqwest::header::COOKIE, &tot)
            .header("X-CSRF-Token", &csrf)
            .json(&json!({"label": "own"}))
            .send()
    };
    let res = own("tot").await.expect("token");
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = own("sup").await.expect("token");
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "not for another account"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_and_after_their_lifetime() {
    let s = server(2, 4).await;
    s.add_user("sup", "supervisor", json!({})).await;

    // Idle: a session unused for longer than 2 s is gone.
    let idle = s.login("sup", PASSWORD, "").await.expect("login");
    assert_eq!(s.page("/ui/", &idle).await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    let (st, _) = s.page("/ui/", &idle).await;
    assert_eq!(
        st,
        StatusCode::SEE_OTHER,
        "idle session sent to the login page"
    );
    let (st, v) = {
        let res = s
            .http
            .get(format!("{}/v1/users", s.url))
            .header(reqwest::header::COOKIE, &idle)
            .send()
            .await
            .expect("api");
        (res.status(), res.text().await.unwrap_or_default())
    };
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");

    // Absolute: used every 0.5 s, it still ends 4 s after login.
    let busy = s.login("sup", PASSWORD, "").await.expect("login");
    let start = Instant::now();
    let mut ended_at = None;
    while start.elapsed() < Duration::from_secs(7) {
        let (st, _) = s.page("/ui/", &busy).await;
        if st != StatusCode::OK {
            ended_at = Some(start.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ended_at = ended_at.expect("the session ended");
    assert!(
        ended_at >= Duration::from_millis(3_500),
        "not before its lifetime: {ended_at:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_guessing_across_accounts_is_slowed_down() {
    let s = server(1800, 43_200).await;
    for n in ["a1", "a2", "a3"] {
        s.add_user(n, "auditor", json!({})).await;
    }
    // Behind the reverse proxy on this machine, the client is the one it names.
    let attempt = |client: &'static str, name: &'static str, password: &'static str| {
        s.http
            .post(format!("{}/ui/login", s.url))
            .header("X-Forwarded-For", client)
            .form(&[("name", name), ("password", password)])
            .send()
    };
    // Ten wrong passwords spread over three accounts: no account reaches its lockout.
    for i in 0..10 {
        let name = ["a1", "a2", "a3"][i % 3];
        let res = attempt("203.0.113.9", name, "not the password")
            .await
            .expect("login");
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    // The eleventh is refused before the password is looked at, even a right one.
    let res = attempt("203.0.113.9", "a1", PASSWORD).await.expect("login");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        res.text()
            .await
            .expect("body")
            .contains("too many failed logins")
    );
    // Another client is not affected, and the accounts are not locked.
    let res = attempt("198.51.100.7", "a1", PASSWORD)
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// An audit run (`POST /v1/audits`) is for those who may view footage, and its id covers
/// only its own starter's reads: another person's run id is `unknown_audit`.
#[tokio::test]
async fn audit_runs_by_role_and_only_for_their_own_starter() {
    let s = server(1800, 43_200).await;
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let name = format!("a-{}", role.as_str());
        let extra = if role == Role::Officer {
            json!({"officer": "UA-0"})
        } else {
            json!({"crossing_points": ["UA-ELSEWHERE"]})
        };
        s.add_user(&name, role.as_str(), extra).await;
        tokens.push((role, s.token_of(&name).await.0));
    }
    let mut runs = Vec::new();
    for (role, token) in &tokens {
        let (st, v) = s.call(Method::POST, "/v1/audits", Some(token), None).await;
        if allowed(*role, Op::ViewFootage) {
            assert_eq!(st, StatusCode::CREATED, "{role:?}: {v}");
            assert!(v["log_index"].is_u64(), "{v}");
            runs.push((token.clone(), v["id"].as_str().expect("id").to_owned()));
        } else {
            assert_eq!(
                (st, v["error"].as_str()),
                (StatusCode::FORBIDDEN, Some("forbidden")),
                "{role:?}: {v}"
            );
        }
    }
    assert!(runs.len() >= 2, "{} roles may audit", runs.len());
    let (st, _) = s.call(Method::POST, "/v1/audits", None, None).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // Someone else's run, or none: refused before any footage is looked at.
    let zeros = "0".repeat(64);
    let (st, v) = s
        .call(
            Method::GET,
            &format!("/v1/blobs/{zeros}?audit={}", runs[1].1),
            Some(&runs[0].0),
            None,
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_audit")),
        "{v}"
    );
    // One's own run passes that check (and then the segment is looked for: none here).
    let (st, v) = s
        .call(
            Method::GET,
            &format!("/v1/blobs/{zeros}?audit={}", runs[0].1),
            Some(&runs[0].0),
            None,
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found")),
        "{v}"
    );
}

/// The CSRF token a page carries in its forms.
fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the page carries the CSRF token")
        .to_owned()
}
