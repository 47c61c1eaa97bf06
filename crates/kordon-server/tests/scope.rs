//! Cases and their packages stay within the crossing point they belong to (issue 15):
//! an analyst scoped to Lviv cannot read, fill, export, download, release or close a
//! Kyiv case, nor put Kyiv's inspection or footage into a Lviv case; an auditor scoped to
//! Lviv cannot read a Kyiv case; inside their own scope all of it works.

mod common;

use common::Server;
use kordon_core::time::Timestamp;
use kordon_store::meta::testing::TestCamera;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

/// A user's API token.
async fn user(s: &Server, name: &str, role: &str, cps: &[&str]) -> String {
    let (st, v) = s
        .json(s.http.post(format!("{}/v1/users", s.url)).json(&json!({
            "name": name, "role": role, "password": PASSWORD, "crossing_points": cps,
        })))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = s
        .json(
            s.http
                .post(format!("{}/v1/users/{name}/tokens", s.url))
                .json(&json!({"label": "test"})),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    v["token"].as_str().expect("token").to_owned()
}

/// A JSON POST to `path` as the holder of `token`: status and JSON body.
async fn post(s: &Server, token: &str, path: &str, body: &Value) -> (u16, Value) {
    call(token, s.http.post(format!("{}{path}", s.url)).json(body)).await
}

/// A request as the holder of `token`: status and JSON body.
async fn call(token: &str, rb: reqwest::RequestBuilder) -> (u16, Value) {
    let r = rb.bearer_auth(token).send().await.expect("request");
    let st = r.status().as_u16();
    (st, r.json().await.unwrap_or(Value::Null))
}

/// A page of the web interface as the holder of `token`: status and HTML.
async fn page(s: &Server, token: &str, path: &str) -> (u16, String) {
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("page");
    (r.status().as_u16(), r.text().await.expect("html"))
}

/// An officer's API token.
async fn officer(s: &Server, name: &str, no: &str) -> String {
    let (st, v) = s
        .json(s.http.post(format!("{}/v1/users", s.url)).json(&json!({
            "name": name, "role": "officer", "password": PASSWORD, "officer": no,
        })))
        .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = s
        .json(
            s.http
                .post(format!("{}/v1/users/{name}/tokens", s.url))
                .json(&json!({"label": "t"})),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    v["token"].as_str().expect("token").to_owned()
}

/// A gap reason approved by the holder of `token`.
async fn decide(s: &Server, token: &str, id: &str) -> (u16, Value) {
    call(
        token,
        s.http
            .post(format!("{}/v1/gap-reasons/{id}/approve", s.url)),
    )
    .await
}

/// A crossing point with a camera worn there and one inspection filmed by it.
async fn crossing_point(s: &Server, cp: &str, cam: &str, officer: &str, t0: i64) -> TestCamera {
    let (st, v) = s
        .json(
            s.http
                .put(format!("{}/v1/crossing-points/{cp}", s.url))
                .json(
                    &json!({"name_uk": cp, "name_latin": cp, "tz": "Europe/Kyiv", "lanes": ["1"]}),
                ),
        )
        .await;
    assert!(st == 200 || st == 201, "{v}");
    let mut c = TestCamera::new(cam);
    s.enroll(&c).await;
    let (st, v) = s
        .json(
            s.http
                .post(format!("{}/v1/assignments", s.url))
                .json(&json!({
                    "device": cam, "officer": officer, "crossing_point": cp,
                    "at": Timestamp(t0 - 60_000).to_string(),
                })),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    for i in 0..6 {
        let bytes = format!("{cam} segment {i}").into_bytes();
        let link = c.segment_over(t0 + i * 10_000, t0 + (i + 1) * 10_000, &bytes);
        let len = bytes.len() as u64;
        let r = kordon_agent::api::link_request(&s.http, &s.url, &link, Some((bytes.into(), len)))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status().as_u16(), 201);
    }
    s.import(&[json!({
        "inspection_id": format!("I-{cp}"), "crossing_point": cp, "lane": "1", "officers": officer,
        "start": Timestamp(t0 + 5_000).to_string(), "end": Timestamp(t0 + 50_000).to_string(),
        "vehicle_plate": "AA1234BB", "declaration_no": "D-1", "kind": "vehicle", "outcome": "cleared",
    })])
    .await;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_and_packages_stay_in_their_crossing_point() {
    let s = Server::start().await;
    let t0 = kordon_store::now_ms() / 60_000 * 60_000 - 3_600_000;
    crossing_point(&s, "UA-KYIV-01", "cam-kyiv", "UA-K1", t0).await;
    crossing_point(&s, "UA-LVIV-01", "cam-lviv", "UA-L1", t0).await;
    let national = user(&s, "national", "analyst", &[]).await;
    let lviv = user(&s, "lviv", "analyst", &["UA-LVIV-01"]).await;
    let auditor = user(&s, "lviv-audit", "auditor", &["UA-LVIV-01"]).await;
    let url = &s.url;
    let open = |id: &str, cp: Option<&str>| json!({"id": id, "reference": "R-1", "kind": "complaint", "description": "a complaint", "crossing_point": cp});
    let inspection = |id: &str| json!({"kind": "inspection", "inspection_id": id});

    // Kyiv's case, opened and filled by a national analyst, exported.
    let (st, v) = post(&s, &national, "/v1/cases", &open("K-1", Some("UA-KYIV-01"))).await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = post(
        &s,
        &national,
        "/v1/cases/K-1/items",
        &inspection("I-UA-KYIV-01"),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = call(&national, s.http.post(format!("{url}/v1/cases/K-1/export"))).await;
    assert_eq!(st, 200, "{v}");
    let kyiv_zip = v["file"].as_str().expect("file").to_owned();
    let sha = v["sha256"].as_str().expect("sha").to_owned();

    // Lviv's analyst reaches none of it.
    let refused = [
        ("read", s.http.get(format!("{url}/v1/cases/K-1"))),
        (
            "fill",
            s.http
                .post(format!("{url}/v1/cases/K-1/items"))
                .json(&json!({"kind": "note", "text": "x"})),
        ),
        ("export", s.http.post(format!("{url}/v1/cases/K-1/export"))),
        (
            "download",
            s.http.get(format!("{url}/v1/exports/{kyiv_zip}")),
        ),
        (
            "release",
            s.http
                .post(format!("{url}/v1/cases/K-1/receipts"))
                .json(&json!({"recipient": "court", "package_sha256": sha})),
        ),
        ("close", s.http.post(format!("{url}/v1/cases/K-1/close"))),
    ];
    for (what, rb) in refused {
        let (st, v) = call(&lviv, rb).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (403, Some("forbidden")),
            "{what}: {v}"
        );
    }
    // The pages too: Lviv's list does not hold Kyiv's case, nor opens it.
    let (st, html) = page(&s, &lviv, "/ui/cases").await;
    assert!(st == 200 && !html.contains("K-1"), "{html}");
    assert_eq!(page(&s, &lviv, "/ui/cases/K-1").await.0, 403);
    let (st, html) = page(&s, &national, "/ui/cases").await;
    assert!(st == 200 && html.contains(r#"data-case="K-1""#), "{html}");
    let (st, v) = call(&auditor, s.http.get(format!("{url}/v1/cases/K-1"))).await;
    assert_eq!(st, 403, "a Lviv auditor reads no Kyiv case: {v}");

    // Nor can it be opened in Kyiv's name, or be national.
    let (st, v) = post(&s, &lviv, "/v1/cases", &open("L-X", Some("UA-KYIV-01"))).await;
    assert_eq!(st, 403, "{v}");

    // Its own case: opened in Lviv (the one crossing point of its scope), Lviv footage in,
    // Kyiv's inspection and camera out.
    let (st, v) = post(&s, &lviv, "/v1/cases", &open("L-1", None)).await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = call(&lviv, s.http.get(format!("{url}/v1/cases/L-1"))).await;
    assert_eq!(
        (st, v["crossing_point"].as_str()),
        (200, Some("UA-LVIV-01")),
        "{v}"
    );
    let (st, v) = post(
        &s,
        &lviv,
        "/v1/cases/L-1/items",
        &inspection("I-UA-KYIV-01"),
    )
    .await;
    assert_eq!(st, 403, "another crossing point's inspection: {v}");
    let range = json!({"kind": "range", "device": "cam-kyiv", "from": Timestamp(t0).to_string(), "to": Timestamp(t0 + 30_000).to_string()});
    let (st, v) = post(&s, &lviv, "/v1/cases/L-1/items", &range).await;
    assert_eq!(st, 403, "another crossing point's footage: {v}");
    let (st, v) = post(
        &s,
        &lviv,
        "/v1/cases/L-1/items",
        &inspection("I-UA-LVIV-01"),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = call(&lviv, s.http.post(format!("{url}/v1/cases/L-1/export"))).await;
    assert_eq!(st, 200, "{v}");
    let lviv_zip = v["file"].as_str().expect("file").to_owned();
    let r = s
        .http
        .get(format!("{url}/v1/exports/{lviv_zip}"))
        .bearer_auth(&lviv)
        .send()
        .await
        .expect("download");
    assert_eq!(r.status().as_u16(), 200);
    let zip = r.bytes().await.expect("zip");
    let members = String::from_utf8_lossy(&zip);
    assert!(
        !members.contains("cam-kyiv"),
        "the Lviv package names no Kyiv camera"
    );
    // The national analyst reaches both.
    let (st, _) = call(&national, s.http.get(format!("{url}/v1/cases/L-1"))).await;
    assert_eq!(st, 200);
}

/// Scope and ownership on the handlers the review found open (issue 15, finding 4).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasons_reports_bookmarks_trails_and_timelines_keep_to_scope() {
    let s = Server::start().await;
    let t0 = kordon_store::now_ms() / 60_000 * 60_000 - 3_600_000;
    let mut kyiv_cam = crossing_point(&s, "UA-KYIV-01", "cam-kyiv", "UA-K1", t0).await;
    crossing_point(&s, "UA-LVIV-01", "cam-lviv", "UA-L1", t0).await;
    let url = &s.url;
    let k1 = officer(&s, "k1", "UA-K1").await;
    let other = officer(&s, "k2", "UA-K2").await;
    let kyiv_sup = user(&s, "kyiv-sup", "supervisor", &["UA-KYIV-01"]).await;
    let kyiv_sup2 = user(&s, "kyiv-sup2", "supervisor", &["UA-KYIV-01"]).await;
    let lviv_sup = user(&s, "lviv-sup", "supervisor", &["UA-LVIV-01"]).await;
    let lviv = user(&s, "lviv", "analyst", &["UA-LVIV-01"]).await;
    // Two times of the inspection: a time is explained by one reason at once.
    let reason = |from: i64| {
        json!({
            "from": Timestamp(t0 + from).to_string(), "to": Timestamp(t0 + from + 10_000).to_string(),
            "reason": "malfunction", "text": "the battery",
        })
    };
    let file_at = |token: String, from: i64| {
        let rb = s
            .http
            .post(format!("{url}/v1/inspections/I-UA-KYIV-01/gap-reasons"))
            .json(&reason(from));
        async move { call(&token, rb).await }
    };
    let file = |token: String| file_at(token, 10_000);

    // An officer explains only his own inspections.
    let (st, v) = file(other.clone()).await;
    assert_eq!(st, 403, "another officer's inspection: {v}");
    let (st, v) = file(k1.clone()).await;
    assert_eq!(st, 201, "{v}");
    let mine = v["id"].as_str().expect("id").to_owned();
    // The queue of Kyiv's supervisors holds it; Lviv's does not.
    let (st, html) = page(&s, &lviv_sup, "/ui/explanations").await;
    assert!(st == 200 && !html.contains(&mine), "{html}");
    let (_, html) = page(&s, &kyiv_sup2, "/ui/explanations").await;
    assert!(html.contains(&format!(r#"data-reason="{mine}""#)), "{html}");
    // Decided by a supervisor of that crossing point who did not file it.
    let (st, v) = decide(&s, &lviv_sup, &mine).await;
    assert_eq!(st, 403, "a supervisor of another crossing point: {v}");
    let (st, v) = file(kyiv_sup.clone()).await;
    assert_eq!(st, 409, "the officer's explanation of that time waits: {v}");
    let (st, v) = file_at(kyiv_sup.clone(), 30_000).await;
    assert_eq!(st, 201, "{v}");
    let own = v["id"].as_str().expect("id").to_owned();
    let (st, v) = decide(&s, &kyiv_sup, &own).await;
    assert_eq!(st, 403, "his own filing: {v}");
    let (st, v) = decide(&s, &kyiv_sup2, &own).await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = decide(&s, &kyiv_sup, &mine).await;
    assert_eq!(st, 200, "{v}");

    // Shift reports and bookmarks show only what is in scope.
    let (st, v) = call(
        &lviv,
        s.http.get(format!(
            "{url}/v1/reports/shifts?from={}&to={}",
            Timestamp(t0 - 86_400_000),
            Timestamp(t0 + 86_400_000)
        )),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let text = v.to_string();
    assert!(
        text.contains("UA-LVIV-01") && !text.contains("UA-KYIV-01"),
        "{v}"
    );
    for (inspection, label) in [("I-UA-KYIV-01", "kyiv mark"), ("I-UA-LVIV-01", "lviv mark")] {
        let (st, v) = s
            .json(s.http.post(format!("{url}/v1/bookmarks")).json(&json!({
                "inspection_id": inspection, "at": Timestamp(t0 + 15_000).to_string(), "label": label,
            })))
            .await;
        assert_eq!(st, 201, "{v}");
    }
    let (st, v) = call(&lviv, s.http.get(format!("{url}/v1/bookmarks?q=mark"))).await;
    assert_eq!(st, 200, "{v}");
    let labels: Vec<&str> = v["bookmarks"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|b| b["label"].as_str())
        .collect();
    assert_eq!(labels, ["lviv mark"], "{v}");

    // A custody trail of another crossing point's camera.
    let trail = |token: String, device: &str| {
        let rb = s
            .http
            .get(format!("{url}/ui/custody?subject=device%20{device}"));
        async move {
            rb.bearer_auth(token)
                .send()
                .await
                .expect("page")
                .status()
                .as_u16()
        }
    };
    assert_eq!(trail(lviv_sup.clone(), "cam-kyiv").await, 403);
    assert_eq!(trail(lviv_sup.clone(), "cam-lviv").await, 200);

    // The Kyiv camera handed back and worn by another officer the same day: the first
    // officer's timeline lists his six segments, not the other's three.
    let (st, v) = s
        .json(
            s.http
                .post(format!("{url}/v1/assignments/return"))
                .json(&json!({
                    "device": "cam-kyiv", "at": Timestamp(t0 + 70_000).to_string(),
                })),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, v) = s
        .json(s.http.post(format!("{url}/v1/assignments")).json(&json!({
            "device": "cam-kyiv", "officer": "UA-K2", "crossing_point": "UA-KYIV-01",
            "at": Timestamp(t0 + 80_000).to_string(),
        })))
        .await;
    assert_eq!(st, 201, "{v}");
    for i in 0..3 {
        let start = t0 + 90_000 + i * 10_000;
        let bytes = format!("the other officer's segment {i}").into_bytes();
        let link = kyiv_cam.segment_over(start, start + 10_000, &bytes);
        let len = bytes.len() as u64;
        let r = kordon_agent::api::link_request(&s.http, url, &link, Some((bytes.into(), len)))
            .send()
            .await
            .expect("upload");
        assert_eq!(r.status().as_u16(), 201);
    }
    let date = jiff::Timestamp::from_millisecond(t0)
        .expect("time")
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Kyiv").expect("zone"))
        .date();
    let timeline = |token: String| {
        let rb = s
            .http
            .get(format!("{url}/ui/timeline?device=cam-kyiv&date={date}"))
            .bearer_auth(token);
        async move {
            let r = rb.send().await.expect("timeline");
            assert_eq!(r.status().as_u16(), 200);
            r.text()
                .await
                .expect("page")
                .matches("class=\"play\"")
                .count()
        }
    };
    assert_eq!(timeline(k1.clone()).await, 6, "his own segments only");
    assert_eq!(
        timeline(kyiv_sup.clone()).await,
        9,
        "his supervisor sees the whole day"
    );
}

/// A scoped user reaches no byte of another crossing point's footage by any route: every
/// `GET` of the API (from its OpenAPI document, so a new route is walked without a change
/// here) and every page of the web interface, with Kyiv's camera, inspection, case,
/// package, segment, officer and crossing point in every parameter, as a Lviv analyst,
/// auditor, supervisor and officer. No answer carries a byte of Kyiv's footage, nor a
/// Kyiv segment's hash the request did not name. The national analyst walking the same
/// routes does get the footage: the walk can see it where it is allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_reaches_another_crossing_points_footage() {
    let s = Server::start().await;
    let t0 = kordon_store::now_ms() / 60_000 * 60_000 - 3_600_000;
    crossing_point(&s, "UA-KYIV-01", "cam-kyiv", "UA-K1", t0).await;
    crossing_point(&s, "UA-LVIV-01", "cam-lviv", "UA-L1", t0).await;
    let national = user(&s, "national", "analyst", &[]).await;
    let url = &s.url;
    let (st, v) = post(
        &s,
        &national,
        "/v1/cases",
        &json!({"id": "K-1", "reference": "R-1", "kind": "complaint", "description": "d", "crossing_point": "UA-KYIV-01"}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let item = json!({"kind": "inspection", "inspection_id": "I-UA-KYIV-01"});
    let (st, v) = post(&s, &national, "/v1/cases/K-1/items", &item).await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = call(&national, s.http.post(format!("{url}/v1/cases/K-1/export"))).await;
    assert_eq!(st, 200, "{v}");
    let zip = v["file"].as_str().expect("file").to_owned();

    let footage: Vec<Vec<u8>> = (0..6)
        .map(|i| format!("cam-kyiv segment {i}").into_bytes())
        .collect();
    let hashes: Vec<String> = footage
        .iter()
        .map(|b| kordon_core::sha256(b).to_hex())
        .collect();
    let (from, to) = (
        Timestamp(t0 - 86_400_000).to_string(),
        Timestamp(t0 + 86_400_000).to_string(),
    );
    let path_value = |path: &str, name: &str| -> String {
        match name {
            "sha256" => hashes[0].clone(),
            "id" if path.starts_with("/v1/cases") => "K-1".into(),
            "id" => "I-UA-KYIV-01".into(),
            "device" => "cam-kyiv".into(),
            "file" => zip.clone(),
            "index" | "seq" => "1".into(),
            "code" | "origin" => "UA-KYIV-01".into(),
            "service_no" => "UA-K1".into(),
            other => panic!("no Kyiv value for path parameter {other} of {path}"),
        }
    };
    let query_value = |name: &str| -> Option<String> {
        Some(match name {
            "reason" => "walk".into(),
            "from" => from.clone(),
            "to" => to.clone(),
            "crossing_point" => "UA-KYIV-01".into(),
            "officer" => "UA-K1".into(),
            "device" => "cam-kyiv".into(),
            "inspection_id" => "I-UA-KYIV-01".into(),
            "vehicle_plate" => "AA1234BB".into(),
            "declaration_no" => "D-1".into(),
            "lane" => "1".into(),
            "q" | "bookmark" => "kyiv".into(),
            "hash" => hashes[0].clone(),
            "old" => "1".into(),
            "new" => "2".into(),
            _ => return None,
        })
    };
    let doc = serde_json::to_value(kordon_server::routes::openapi()).expect("openapi");
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(op) = item.get("get") else { continue };
        let mut p = path.clone();
        let mut query = Vec::new();
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().expect("name");
            if param["in"] == "path" {
                p = p.replace(&format!("{{{name}}}"), &path_value(path, name));
            } else if let Some(v) = query_value(name) {
                query.push((name.to_owned(), v));
            }
        }
        routes.push((p, query));
    }
    assert!(routes.len() >= 25, "the API's GET routes: {routes:?}");
    let page = |path: &str, pairs: &[(&str, &str)]| {
        let pairs = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        (path.to_owned(), pairs.collect::<Vec<_>>())
    };
    let day = Timestamp(t0).to_string()[..10].to_owned();
    let segment = format!("segment {}", hashes[0]);
    routes.extend([
        page("/ui/", &[]),
        page("/ui/timeline", &[("device", "cam-kyiv"), ("date", &day)]),
        page("/ui/timeline", &[("officer", "UA-K1"), ("date", &day)]),
        page(
            "/ui/search",
            &[
                ("crossing_point", "UA-KYIV-01"),
                ("vehicle_plate", "AA1234BB"),
                ("from", &from),
                ("to", &to),
            ],
        ),
        page("/ui/inspections/I-UA-KYIV-01", &[]),
        page("/ui/custody", &[("subject", "device cam-kyiv")]),
        page("/ui/custody", &[("subject", &segment)]),
        page("/ui/admin", &[]),
    ]);

    let walk = |token: String| {
        let routes = routes.clone();
        let http = s.http.clone();
        let url = url.clone();
        async move {
            let mut answers = Vec::new();
            for (path, query) in routes {
                let res = http
                    .get(format!("{url}{path}"))
                    .query(&query)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("request");
                let status = res.status().as_u16();
                let asked = format!("{path}?{query:?}");
                answers.push((asked, status, res.bytes().await.expect("body").to_vec()));
            }
            answers
        }
    };
    let holds = |body: &[u8], needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);

    let lviv = [
        user(&s, "l-analyst", "analyst", &["UA-LVIV-01"]).await,
        user(&s, "l-auditor", "auditor", &["UA-LVIV-01"]).await,
        user(&s, "l-supervisor", "supervisor", &["UA-LVIV-01"]).await,
        officer(&s, "l-officer", "UA-L1").await,
    ];
    for (who, token) in ["analyst", "auditor", "supervisor", "officer"]
        .iter()
        .zip(lviv)
    {
        for (route, status, body) in walk(token).await {
            for bytes in &footage {
                assert!(
                    !holds(&body, bytes),
                    "{who} {route} ({status}) carries Kyiv footage"
                );
            }
            for h in hashes.iter().filter(|h| !route.contains(h.as_str())) {
                assert!(
                    !holds(&body, h.as_bytes()),
                    "{who} {route} ({status}) names a Kyiv segment"
                );
            }
        }
    }

    // Officers' names too are listed only within scope.
    for (no, cp) in [("UA-K1", "UA-KYIV-01"), ("UA-L1", "UA-LVIV-01")] {
        let (st, v) = s
            .json(
                s.http
                    .put(format!("{url}/v1/officers/{no}"))
                    .json(&json!({"name": format!("officer {no}"), "crossing_point": cp})),
            )
            .await;
        assert!(st == 200 || st == 201, "{v}");
    }
    let l_analyst = user(&s, "l-analyst2", "analyst", &["UA-LVIV-01"]).await;
    let (st, v) = call(&l_analyst, s.http.get(format!("{url}/v1/officers"))).await;
    assert_eq!(st, 200, "{v}");
    let text = v.to_string();
    assert!(
        text.contains("UA-LVIV-01") && !text.contains("UA-KYIV-01"),
        "{v}"
    );

    // Where it is allowed, the same walk finds the footage.
    let found = walk(national).await;
    assert!(
        found.iter().any(|(r, st, body)| *st == 200
            && r.starts_with("/v1/blobs/")
            && holds(body, &footage[0])),
        "the national analyst gets the segment"
    );
    assert!(
        found.iter().any(|(r, st, body)| *st == 200
            && r.starts_with("/v1/exports/")
            && holds(body, &footage[0])),
        "and the package with it"
    );
}

/// A quality review: by a supervisor of the inspection's crossing point who did not work
/// it, with a note when it finds concerns; each one a custody event about the inspection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_keep_to_scope_and_say_why() {
    let s = Server::start().await;
    let t0 = kordon_store::now_ms() / 60_000 * 60_000 - 3_600_000;
    crossing_point(&s, "UA-KYIV-01", "cam-kyiv", "UA-K1", t0).await;
    let kyiv_sup = user(&s, "kyiv-sup", "supervisor", &["UA-KYIV-01"]).await;
    let lviv_sup = user(&s, "lviv-sup", "supervisor", &["UA-LVIV-01"]).await;
    let analyst = user(&s, "an", "analyst", &[]).await;
    let path = "/v1/inspections/I-UA-KYIV-01/reviews";
    let concerns = json!({"outcome": "concerns", "checklist": ["filmed_throughout"]});
    for (token, want) in [(&lviv_sup, 403), (&analyst, 403)] {
        let (st, v) = post(&s, token, path, &concerns).await;
        assert_eq!(st, want, "{v}");
    }
    let (st, v) = post(&s, &kyiv_sup, path, &concerns).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("bad_review")), "{v}");
    let (st, v) = post(&s, &kyiv_sup, path, &json!({"outcome": "fine"})).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("bad_review")), "{v}");
    let bad_item = json!({"outcome": "meets", "checklist": ["smiled"]});
    let (st, v) = post(&s, &kyiv_sup, path, &bad_item).await;
    assert!(
        st == 400 && v["message"].as_str().is_some_and(|m| m.contains("smiled")),
        "{v}"
    );
    let mut noted = concerns.clone();
    noted["note"] = json!("the person was not told of the recording");
    let (st, v) = post(&s, &kyiv_sup, path, &noted).await;
    assert_eq!(st, 201, "{v}");
    let index = v["log_index"].as_u64().expect("index");
    let (st, v) = post(&s, &kyiv_sup, "/v1/inspections/no-such/reviews", &noted).await;
    assert_eq!(st, 404, "{v}");
    // The custody trail of the inspection holds it.
    let (_, trail) = page(
        &s,
        &analyst,
        "/ui/custody?subject=inspection%20I-UA-KYIV-01",
    )
    .await;
    assert!(
        trail.contains(r#"data-action="review""#)
            && trail.contains(&format!(r#"data-index="{index}""#)),
        "{trail}"
    );
    // The week's queue: Kyiv's supervisor sees the inspection reviewed; Lviv's sees no
    // Kyiv inspection.
    let (st, html) = page(&s, &kyiv_sup, "/ui/review").await;
    assert!(
        st == 200
            && html.contains(r#"data-inspection="I-UA-KYIV-01""#)
            && html.contains(r#"data-reviewed="true""#),
        "{html}"
    );
    let (st, html) = page(&s, &lviv_sup, "/ui/review").await;
    assert!(st == 200 && !html.contains("I-UA-KYIV-01"), "{html}");
}
