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
    let reason = json!({
        "from": Timestamp(t0 + 10_000).to_string(), "to": Timestamp(t0 + 20_000).to_string(),
        "reason": "malfunction", "text": "the battery",
    });
    let file = |token: String| {
        let rb = s
            .http
            .post(format!("{url}/v1/inspections/I-UA-KYIV-01/gap-reasons"))
            .json(&reason);
        async move { call(&token, rb).await }
    };

    // An officer explains only his own inspections.
    let (st, v) = file(other.clone()).await;
    assert_eq!(st, 403, "another officer's inspection: {v}");
    let (st, v) = file(k1.clone()).await;
    assert_eq!(st, 201, "{v}");
    let mine = v["id"].as_str().expect("id").to_owned();
    // Decided by a supervisor of that crossing point who did not file it.
    let (st, v) = decide(&s, &lviv_sup, &mine).await;
    assert_eq!(st, 403, "a supervisor of another crossing point: {v}");
    let (st, v) = file(kyiv_sup.clone()).await;
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
