//! A storage error costs a request, not the log: through the log's storage seam a
//! fault-injecting store fails a tile or checkpoint write; the change that needed it is
//! refused `503 unavailable` (retryable) and `/readyz` answers 503 naming a failing
//! storage; once the fault clears the next change is logged, `/readyz` is 200 again, the
//! refused change (stored before the log refused it) is logged by the relog job without a
//! restart, exactly once, and nothing acknowledged before is lost.

use std::sync::Arc;

use kordon_log::{Fault, FaultyStorage};
use reqwest::StatusCode;

struct Running {
    url: String,
    http: reqwest::Client,
    token: String,
}

async fn start(app: Arc<kordon_server::App>, data: &std::path::Path) -> Running {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(kordon_server::run(l, app, std::future::pending()));
    let token = std::fs::read_to_string(data.join("keys/admin-token"))
        .expect("admin token")
        .trim()
        .to_owned();
    Running {
        url,
        http: reqwest::Client::new(),
        token,
    }
}

impl Running {
    /// A change that appends one custody event: an enrollment token.
    async fn change(&self, device: &str) -> (StatusCode, serde_json::Value) {
        let res = self
            .http
            .post(format!("{}/v1/devices/{device}/enroll-token", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        (res.status(), res.json().await.expect("json"))
    }

    async fn ready(&self) -> (StatusCode, String) {
        let res = reqwest::get(format!("{}/readyz", self.url))
            .await
            .expect("readyz");
        (res.status(), res.text().await.expect("text"))
    }

    async fn size(&self) -> u64 {
        let cp = reqwest::get(format!("{}/log/checkpoint", self.url))
            .await
            .expect("checkpoint")
            .text()
            .await
            .expect("text");
        cp.lines().nth(1).expect("size line").parse().expect("size")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_log_write_refuses_the_change_and_the_log_goes_on() {
    for fault in [Fault::Tiles, Fault::Checkpoint] {
        let dir = tempfile::tempdir().expect("tmp");
        let data = dir.path().join("data");
        let config = kordon_server::config::Config {
            data: data.clone(),
            ..Default::default()
        };
        std::fs::create_dir_all(data.join("log")).expect("log dir");
        let storage = Arc::new(FaultyStorage::new(data.join("log")));
        let app = kordon_server::open_on(config.clone(), storage.clone())
            .await
            .expect("open");
        let s = start(app.clone(), &data).await;
        for i in 0..5 {
            let (st, v) = s.change(&format!("cam-{i}")).await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
        let acknowledged = s.size().await;
        let before = app.log.reader().entries(0, acknowledged).expect("entries");
        assert_eq!(s.ready().await.0, StatusCode::OK);

        storage.set(fault);
        let (st, v) = s.change("cam-refused").await;
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{fault:?}: {v}");
        assert_eq!(v["error"], "unavailable", "{v}");
        assert!(
            v["message"]
                .as_str()
                .is_some_and(|m| m.contains("injected fault") && m.contains("try again")),
            "{v}"
        );
        let (st, text) = s.ready().await;
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
        assert!(text.contains("log storage failing"), "{text}");
        assert_eq!(s.size().await, acknowledged, "nothing published meanwhile");

        // The fault clears: the next change is logged, the server is ready again, and the
        // refused change is logged by the relog job, without a restart.
        storage.set(Fault::None);
        let (st, v) = s.change("cam-after").await;
        assert_eq!(st, StatusCode::CREATED, "{fault:?}: {v}");
        assert_eq!(s.ready().await.0, StatusCode::OK, "{fault:?}");
        let mut size = s.size().await;
        for _ in 0..50 {
            if size == acknowledged + 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            size = s.size().await;
        }
        assert_eq!(
            size,
            acknowledged + 2,
            "{fault:?}: the refused change logged"
        );
        let after = app.log.reader().entries(0, size).expect("entries");
        assert_eq!(
            after[..before.len()],
            before[..],
            "acknowledged entries unchanged"
        );
        let naming = |device: &str| {
            after
                .iter()
                .filter(|e| String::from_utf8_lossy(e).contains(device))
                .count()
        };
        assert_eq!(naming("cam-refused"), 1, "{fault:?}: logged once");
        assert_eq!(naming("cam-after"), 1, "{fault:?}");

        // A restart on the same data finds nothing left to log.
        drop(s);
        let app2 = kordon_server::open(config).await.expect("reopen");
        let s2 = start(app2.clone(), &data).await;
        assert_eq!(s2.ready().await.0, StatusCode::OK, "{fault:?}");
        assert_eq!(s2.size().await, acknowledged + 2, "{fault:?}");
        let (st, v) = s2.change("cam-new").await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        assert_eq!(s2.size().await, acknowledged + 3);
    }
}

/// After a crash between the append and the database recording where the entry went,
/// the restart finds the entry in the log's tail (from the row's `log_floor` on) and
/// records its index: nothing is appended twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_finds_a_logged_entry_the_database_missed_in_the_tail() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let config = kordon_server::config::Config {
        data: data.clone(),
        ..Default::default()
    };
    let app = kordon_server::open(config.clone()).await.expect("open");
    let s = start(app.clone(), &data).await;
    for i in 0..300 {
        assert_eq!(s.change(&format!("cam-{i}")).await.0, StatusCode::CREATED);
    }
    let size = s.size().await;
    // The entry reaches the log; the process dies before the database records its index.
    let body = b"kordon.custody/v1\nstored, logged, index never recorded\n".to_vec();
    let index = app.log.append(body.clone()).await.expect("append");
    assert_eq!(index, size);
    let hash = kordon_core::sha256(&body).to_hex();
    app.meta
        .insert_custody(&kordon_store::meta::NewCustody {
            hash: &hash,
            action: "test",
            subject: "test",
            body: &body,
            private: None,
            created_at: 0,
            log_floor: size - 10,
        })
        .await
        .expect("row");
    drop(s);

    let app2 = kordon_server::open(config).await.expect("restart");
    assert_eq!(app2.log.published().size, size + 1, "not appended twice");
    assert_eq!(
        app2.meta.log_index_of(&hash).await.expect("index"),
        Some(size),
        "its index is recorded"
    );
    assert!(app2.meta.unlogged().await.expect("unlogged").is_empty());
}
