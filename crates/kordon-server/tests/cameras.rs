//! Cameras in the field, against a real server: what a camera says of itself with its
//! uploads (`Kordon-Health`) shows in its continuity and on the camera page; a camera on
//! shift that goes quiet is listed and counted in `/metrics`; the camera page and the
//! mapping of a body-worn system's users need the role that hands cameras out and the
//! system's crossing point in scope.

mod common;

use common::Server;
use kordon_core::link::EventKind;
use kordon_server::auth::{Op, Role, allowed};
use kordon_store::meta::testing::TestCamera;
use kordon_store::now_ms;
use serde_json::{Value, json};

async fn metric(s: &Server, name: &str) -> Option<f64> {
    let text = s
        .http
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
}

async fn page(s: &Server, path: &str, token: &str) -> (u16, String) {
    let r = s
        .http
        .get(format!("{}{path}", s.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("page");
    (r.status().as_u16(), r.text().await.expect("html"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_and_cameras_silent_on_shift() {
    let s = Server::start_with(|c| {
        c.camera_silence_s = 1;
    })
    .await;
    let (st, v) = s
        .json(s.http.put(format!("{}/v1/crossing-points/UA-CAM-01", s.url)).json(
            &json!({"name_uk": "Тест", "name_latin": "Test", "tz": "Europe/Kyiv", "lanes": ["1"]}),
        ))
        .await;
    assert!(st < 300, "{v}");
    let mut quiet = TestCamera::new("cam-quiet");
    let mut idle = TestCamera::new("cam-idle");
    s.enroll(&quiet).await;
    s.enroll(&idle).await;
    // cam-quiet is handed out ten seconds ago and sends nothing; cam-idle stays in the cupboard.
    let at = kordon_core::time::Timestamp(now_ms() - 10_000).to_string();
    let (st, v) = s
        .json(s.http.post(format!("{}/v1/assignments", s.url)).json(
            &json!({"device": "cam-quiet", "officer": "UA-1", "crossing_point": "UA-CAM-01", "at": at}),
        ))
        .await;
    assert!(st < 300, "{v}");
    let mut counted = None;
    for _ in 0..50 {
        counted = metric(&s, "kordon_cameras_silent_on_shift").await;
        if counted == Some(1.0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(counted, Some(1.0));
    let (st, html) = page(&s, "/ui/cameras", &s.admin).await;
    assert_eq!(st, 200);
    let silent = html
        .split("id=\"silent\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("silent table");
    assert!(
        silent.contains("cam-quiet") && !silent.contains("cam-idle"),
        "{silent}"
    );

    // An upload with the camera's report: kept, shown, and the camera heard from.
    let now = now_ms();
    let link = quiet.event(EventKind::PowerOn, now - 1_000);
    let res = kordon_agent::api::link_request(&s.http, &s.url, &link, None)
        .header(
            kordon_api::devices::HEALTH_HEADER,
            "battery=55;free_mib=2048;backlog_links=4;backlog_bytes=8388608;docked=0;firmware=kordon-agent/9.9.9",
        )
        .send()
        .await
        .expect("put");
    assert_eq!(res.status().as_u16(), 201);
    let c = s.continuity("cam-quiet", "").await;
    assert_eq!(c.health.battery, Some(55));
    assert_eq!(c.health.backlog_links, Some(4));
    assert_eq!(c.health.docked, Some(false));
    assert_eq!(c.health.firmware.as_deref(), Some("kordon-agent/9.9.9"));
    assert!(c.health.last_contact.is_some());
    // A report with garbage in it changes nothing it cannot read.
    let link = quiet.event(EventKind::BatteryLow, now);
    let res = kordon_agent::api::link_request(&s.http, &s.url, &link, None)
        .header(
            kordon_api::devices::HEALTH_HEADER,
            format!("battery=900;firmware={}", "x".repeat(65)),
        )
        .send()
        .await
        .expect("put");
    assert_eq!(res.status().as_u16(), 201);
    let c = s.continuity("cam-quiet", "").await;
    assert_eq!(
        (c.health.battery, c.health.firmware.as_deref()),
        (Some(55), Some("kordon-agent/9.9.9"))
    );
    let (_, html) = page(&s, "/ui/cameras", &s.admin).await;
    let table = html.split("id=\"cameras\"").nth(1).expect("cameras table");
    assert!(
        table.contains("55 %")
            && table.contains("2048 MiB")
            && table.contains("kordon-agent/9.9.9"),
        "{table}"
    );
    let _ = idle.segment(now - 5_000, now);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_camera_page_and_user_mapping_need_the_role_and_the_crossing_point() {
    let s = Server::start_with(|c| {
        c.axis = Some(kordon_server::config::AxisConfig {
            crossing_point: "UA-AXIS-01".into(),
            // More free space than any disk has: every clip is answered 507.
            min_free_mib: 1 << 40,
            ..Default::default()
        });
    })
    .await;
    let add = |name: String, role: Role, scope: Option<&str>| {
        let mut body =
            json!({"name": name, "role": role.as_str(), "password": "correct horse battery"});
        if role == Role::Officer {
            body["officer"] = json!("UA-0");
        }
        if let Some(cp) = scope {
            body["crossing_points"] = json!([cp]);
        }
        body
    };
    let mut callers = Vec::new();
    for role in Role::ALL {
        for scope in [None, Some("UA-ELSEWHERE")] {
            if scope.is_some() && !matches!(role, Role::Administrator | Role::Supervisor) {
                continue;
            }
            let name = format!("u-{}-{}", role.as_str(), scope.is_some());
            let (st, v) = s
                .json(s.http.post(format!("{}/v1/users", s.url)).json(&add(
                    name.clone(),
                    role,
                    scope,
                )))
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
            callers.push((
                role,
                scope.is_some(),
                v["token"].as_str().expect("token").to_owned(),
            ));
        }
    }
    for (role, scoped, token) in &callers {
        let may = allowed(*role, Op::AssignDevices) && !scoped;
        let list = s
            .http
            .get(format!("{}/v1/axis/users", s.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("list");
        let map = s
            .http
            .put(format!("{}/v1/axis/users/no-such-user", s.url))
            .bearer_auth(token)
            .json(&json!({"officer": null}))
            .send()
            .await
            .expect("map");
        let (list_st, map_st) = (list.status().as_u16(), map.status().as_u16());
        let map_v: Value = map.json().await.unwrap_or(Value::Null);
        if may {
            assert_eq!((list_st, map_st), (200, 404), "{role:?}: {map_v}");
        } else {
            assert_eq!(
                (list_st, map_st),
                (403, 403),
                "{role:?} scoped {scoped}: {map_v}"
            );
        }
        // The camera page: the role; a scoped supervisor sees it, with what is in scope.
        let (st, _) = page(&s, "/ui/cameras", token).await;
        assert_eq!(
            st == 200,
            allowed(*role, Op::AssignDevices),
            "{role:?} scoped {scoped}: {st}"
        );
    }
    let anonymous = s
        .http
        .get(format!("{}/v1/axis/users", s.url))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status().as_u16(), 401);
    // The controller's own routes take only its token.
    for path in [
        "/axis/v1/AUTH_kordon/System/Capabilities.json",
        "/axis/v1/AUTH_kordon/Users",
    ] {
        let r = s
            .http
            .get(format!("{}{path}", s.url))
            .bearer_auth(&s.admin)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status().as_u16(), 401, "{path}");
    }
    let r = s
        .http
        .get(format!("{}/axis/auth/v1.0", s.url))
        .header("X-Auth-User", "axis")
        .header("X-Auth-Key", &s.admin)
        .send()
        .await
        .expect("auth");
    assert_eq!(
        r.status().as_u16(),
        401,
        "the admin token is not the controller's key"
    );

    // A full disk: the clip is answered 507 (the controller keeps it and retries) and
    // nothing of it is stored; the recording's start is.
    let key = std::fs::read_to_string(s.data.join("keys/axis-key")).expect("axis key");
    let r = s
        .http
        .get(format!("{}/axis/auth/v1.0", s.url))
        .header("X-Auth-User", "axis")
        .header("X-Auth-Key", key.trim())
        .send()
        .await
        .expect("auth");
    assert_eq!(r.status().as_u16(), 200);
    let token = r.headers()["x-auth-token"]
        .to_str()
        .expect("token")
        .to_owned();
    // The storage URL names `public_url` (left at its default here): the same path on
    // this test's server.
    let named = r.headers()["x-storage-url"].to_str().expect("url");
    assert_eq!(named, "http://127.0.0.1:8420/axis/v1/AUTH_kordon");
    let storage = format!("{}/axis/v1/AUTH_kordon", s.url);
    let put = |path: &str, meta: &[(&str, String)]| {
        let mut b = s
            .http
            .put(format!("{storage}/{path}"))
            .header("X-Auth-Token", &token);
        for (k, v) in meta {
            b = b.header(*k, v);
        }
        b
    };
    let user = "6f1c2b0a-1111-4a4a-9b9b-0000000000aa";
    for path in [format!("Users/{user}"), "Devices/B8A44F0000AA".to_owned()] {
        let st = put(&path, &[("X-Object-Meta-Name", "x".into())])
            .send()
            .await
            .expect("put")
            .status();
        assert_eq!(st.as_u16(), 201, "{path}");
    }
    let t0 = now_ms() - 600_000;
    let on = kordon_core::time::Timestamp(t0).to_string();
    let compact: String = on[..19]
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    let container = format!("{user}_B8A44F0000AA_{compact}Z");
    let st = put(
        &container,
        &[("X-Container-Meta-Triggerontimeiso", on.clone())],
    )
    .send()
    .await
    .expect("put")
    .status();
    assert_eq!(st.as_u16(), 201);
    let r = put(
        &format!("{container}/clip_1.mp4"),
        &[
            ("X-Object-Meta-Starttimeiso", on),
            (
                "X-Object-Meta-Stoptimeiso",
                kordon_core::time::Timestamp(t0 + 10_000).to_string(),
            ),
        ],
    )
    .body(vec![0u8; 4096])
    .send()
    .await
    .expect("clip");
    assert_eq!(r.status().as_u16(), 507);
    let c = s.continuity("B8A44F0000AA", "").await;
    assert_eq!((c.links, c.segments), (1, 0), "only the recording's start");
    // The administrator sees the system's users on the administration page.
    let (st, html) = page(&s, "/ui/admin", &s.admin).await;
    assert_eq!(st, 200);
    let table = html
        .split("id=\"axis-users\"")
        .nth(1)
        .expect("axis users table");
    assert!(table.contains(user), "{table}");
}
