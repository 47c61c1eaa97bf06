//! A kordon server in this process on 127.0.0.1, with its administrator token, for
//! tests that speak HTTP to it.

#![allow(dead_code)]

use kordon_api::devices::{Continuity, Recheck, device_path};
use kordon_core::link::Link;
use kordon_store::meta::testing::TestCamera;
use serde_json::{Value, json};

pub struct Server {
    pub url: String,
    pub admin: String,
    pub data: std::path::PathBuf,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server whose configuration `f` changes first.
    pub async fn start_with(f: impl FnOnce(&mut kordon_server::config::Config)) -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        let data = dir.path().join("data");
        let mut config = kordon_server::config::Config {
            data: data.clone(),
            ..Default::default()
        };
        f(&mut config);
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
        let admin = std::fs::read_to_string(data.join("keys/admin-token"))
            .expect("admin token")
            .trim()
            .to_owned();
        Server {
            url,
            admin,
            data,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    pub async fn json(&self, rb: reqwest::RequestBuilder) -> (u16, Value) {
        let res = rb.bearer_auth(&self.admin).send().await.expect("request");
        let st = res.status().as_u16();
        (st, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn put(&self, link: &Link) -> (u16, Value) {
        let res = kordon_agent::api::link_request(&self.http, &self.url, link, None)
            .send()
            .await
            .expect("put");
        let st = res.status().as_u16();
        (st, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn continuity(&self, device: &str, query: &str) -> Continuity {
        let url = format!("{}{}/continuity{query}", self.url, device_path(device));
        let (st, v) = self.json(self.http.get(url)).await;
        assert_eq!(st, 200, "{v}");
        serde_json::from_value(v).expect("continuity")
    }

    pub async fn recheck(&self, device: &str, repair: bool) -> Recheck {
        let url = format!("{}{}/recheck", self.url, device_path(device));
        let (st, v) = self
            .json(self.http.post(url).json(&json!({ "repair": repair })))
            .await;
        assert_eq!(st, 200, "{v}");
        serde_json::from_value(v).expect("recheck")
    }

    /// Enrolls `cam` through the API.
    pub async fn enroll(&self, cam: &TestCamera) {
        let base = format!("{}{}", self.url, device_path(&cam.device));
        let (st, v) = self
            .json(self.http.post(format!("{base}/enroll-token")))
            .await;
        assert_eq!(st, 201, "{v}");
        let token = v["token"].as_str().expect("token").to_owned();
        let (st, v) = self
            .json(
                self.http
                    .post(format!("{}/v1/enroll", self.url))
                    .json(&json!({
                        "device": cam.device, "token": token, "key": cam.vkey()
                    })),
            )
            .await;
        assert_eq!(st, 201, "{v}");
    }

    /// Imports inspection records through the API.
    pub async fn import(&self, records: &[Value]) {
        let (st, v) = self
            .json(
                self.http
                    .post(format!("{}/v1/inspections", self.url))
                    .json(records),
            )
            .await;
        assert_eq!(st, 200, "{v}");
    }
}
