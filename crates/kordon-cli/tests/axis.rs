//! An AXIS Body Worn system controller, emulated from the vendor's public specification
//! (AxisCommunications/body-worn-integration-api: a subset of OpenStack Swift), pushes a
//! shift into a real `kordon serve`: it imports the connection file, authenticates, reads
//! the capabilities and categories (checking their MD5 `Etag`), registers its system,
//! users and cameras, uploads two recordings with several clips (one carrying ONVIF
//! in-stream signatures), a bookmark and a GNSS trail, retries after `503 busy`, is
//! refused with `400` for an unknown camera and for encrypted content, and marks the
//! containers complete. Then the clips are in the camera's chain (signed by the server,
//! `attested: system`), in the timeline, in an inspection's coverage (a gap between the
//! recordings explained by the wearer's stop), in search, and in an evidence package that
//! `kordon-verify` checks, byte for byte.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{admin_token, kordon};
use kordon_core::time::Timestamp;
use md5::Digest as _;
use reqwest::StatusCode;
use serde_json::{Value, json};

const SYSTEM_ID: &str = "0b6f2c35-0f0e-4b53-a1a7-3a9d6b1c2d01";
const USER: &str = "6f1c2b0a-1111-4a4a-9b9b-000000000001";
const CAMERA: &str = "B8A44F000001";

/// The controller: a token and the storage URL it was given.
struct Controller {
    http: reqwest::Client,
    token: String,
    storage: String,
}

fn url_encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Controller {
    /// `GET <auth URI>` with the connection file's user and key.
    async fn connect(
        http: &reqwest::Client,
        auth: &str,
        user: &str,
        key: &str,
    ) -> Result<Self, StatusCode> {
        let r = http
            .get(auth)
            .header("X-Auth-User", user)
            .header("X-Auth-Key", key)
            .send()
            .await
            .expect("auth");
        if r.status() != StatusCode::OK {
            return Err(r.status());
        }
        let h = |n: &str| {
            r.headers()
                .get(n)
                .expect(n)
                .to_str()
                .expect("ascii")
                .to_owned()
        };
        Ok(Controller {
            http: http.clone(),
            token: h("x-auth-token"),
            storage: h("x-storage-url"),
        })
    }

    fn req(
        &self,
        method: reqwest::Method,
        path: &str,
        kind: &str,
        meta: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut b = self
            .http
            .request(method, format!("{}/{path}", self.storage))
            .header("X-Auth-Token", &self.token);
        for (k, v) in meta {
            // Go's canonical header form, as the controller sends it.
            let key = format!(
                "X-{kind}-Meta-{}{}",
                &k[..1].to_uppercase(),
                k[1..].to_lowercase()
            );
            b = b.header(key, url_encode(v));
        }
        b
    }

    async fn get(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let r = self
            .req(reqwest::Method::GET, path, "Object", &[])
            .send()
            .await
            .expect("get");
        let etag = r
            .headers()
            .get("etag")
            .map(|v| v.to_str().expect("ascii").to_owned())
            .unwrap_or_default();
        (r.status(), etag, r.bytes().await.expect("body").to_vec())
    }

    async fn container(
        &self,
        method: reqwest::Method,
        name: &str,
        meta: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let r = self
            .req(method, name, "Container", meta)
            .send()
            .await
            .expect("container");
        let st = r.status();
        (st, r.json().await.unwrap_or(Value::Null))
    }

    async fn put(
        &self,
        path: &str,
        meta: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, Value, Option<String>) {
        let r = self
            .req(reqwest::Method::PUT, path, "Object", meta)
            .body(body)
            .send()
            .await
            .expect("put");
        let st = r.status();
        let retry = r
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().expect("ascii").to_owned());
        (st, r.json().await.unwrap_or(Value::Null), retry)
    }

    /// As the controller does: a busy answer is tried again (here after a second).
    async fn put_retrying(
        &self,
        path: &str,
        meta: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, usize) {
        for retries in 0..30 {
            let (st, _, _) = self.put(path, meta, body.clone()).await;
            if st != StatusCode::SERVICE_UNAVAILABLE {
                return (st, retries);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        panic!("still busy after 30 tries: {path}");
    }

    async fn head(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap) {
        let r = self
            .req(reqwest::Method::HEAD, path, "Object", &[])
            .send()
            .await
            .expect("head");
        (r.status(), r.headers().clone())
    }
}

/// Metadata as the request builder takes it.
fn refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

fn iso(ms: i64) -> String {
    Timestamp(ms).to_string()
}

/// A 10 s MP4 clip as a body-worn camera writes it; `speech` adds a voice track.
fn clip(dir: &Path, name: &str, speech: Option<&str>) -> Vec<u8> {
    let out = dir.join(name);
    let mut cmd = Command::new("ffmpeg");
    cmd.args([
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=10:duration=10",
    ]);
    if let Some(text) = speech {
        cmd.args(["-f", "lavfi", "-i"])
            .arg(format!("flite=text='{text}':voice=kal"))
            .args([
                "-af", "apad", "-t", "10", "-c:a", "aac", "-ac", "1", "-ar", "48000",
            ]);
    }
    cmd.args([
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        "-y",
    ])
    .arg(&out);
    assert!(cmd.status().expect("ffmpeg").success());
    std::fs::read(&out).expect("clip")
}

fn testdata(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(rel),
    )
    .expect("testdata")
}

struct Api {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            b = b.json(&body);
        }
        let r = b.send().await.expect("api");
        let st = r.status();
        (st, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_axis_system_controller_pushes_a_shift_that_becomes_evidence() {
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let data_s = data.to_str().expect("utf8").to_owned();
    let port = common::port();
    let config = tmp.path().join("kordon.toml");
    std::fs::write(
        &config,
        format!(
            "data = \"{data_s}\"\nlisten = \"127.0.0.1:{port}\"\n\n[axis]\nuser = \"scu\"\nsite_name = \"UA-AXIS-01\"\npublic_url = \"http://127.0.0.1:{port}\"\ncrossing_point = \"UA-AXIS-01\"\nmax_uploads = 1\n"
        ),
    )
    .expect("config");
    let config_s = config.to_str().expect("utf8");

    // The administrator writes the connection file (before the first start, too).
    let (code, out) = kordon(&["axis", "connection-file", "--config", config_s]);
    assert_eq!(code, 0, "{out}");
    let file: Value = serde_json::from_str(&out).expect("connection file");
    assert_eq!(file["ConnectionFileVersion"], "1.0");
    assert_eq!(file["ContainerType"], "mp4");
    assert_eq!(file["WantEncryption"], false);
    assert_eq!(file["BlobAPIUserName"], "scu");
    assert!(
        file.get("HTTPSCertificate").is_none(),
        "plain HTTP carries no certificate: {file}"
    );
    assert!(out.len() < 64 << 10);
    let auth_uri = file["AuthenticationTokenURI"][0]
        .as_str()
        .expect("uri")
        .to_owned();
    let key = file["BlobAPIKey"].as_str().expect("key").to_owned();
    let (code, out) = kordon(&[
        "axis",
        "connection-file",
        "--config",
        config_s,
        "--https-certificate",
        "/nonexistent",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("is not https://"), "{out}");

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kordon"));
    cmd.args(["serve", "--config", config_s])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null());
    let _server = common::Killed(cmd.spawn().expect("serve"));
    common::wait_for(port);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let api = Api {
        http: http.clone(),
        url: url.clone(),
        token: admin_token(&data),
    };
    let (st, v) = api
        .call(
            reqwest::Method::PUT,
            "/v1/crossing-points/UA-AXIS-01",
            Some(json!({"name_uk": "Тест", "name_latin": "Test", "tz": "Europe/Kyiv", "lanes": ["1"]})),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let (st, v) = api
        .call(
            reqwest::Method::PUT,
            "/v1/officers/UA-900",
            Some(json!({"name": "Петренко", "crossing_point": "UA-AXIS-01"})),
        )
        .await;
    assert!(st.is_success(), "{v}");

    // Wrong credentials, then the right ones.
    assert_eq!(
        Controller::connect(&http, &auth_uri, "scu", "wrong")
            .await
            .err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let scu = Controller::connect(&http, &auth_uri, "scu", &key)
        .await
        .expect("token");
    assert!(
        scu.storage.starts_with(&format!("{url}/axis/v1/")),
        "{}",
        scu.storage
    );
    let forged = Controller {
        http: http.clone(),
        token: "0".repeat(64),
        storage: scu.storage.clone(),
    };
    assert_eq!(
        forged.get("System/Capabilities.json").await.0,
        StatusCode::UNAUTHORIZED
    );

    // Capabilities and categories, each with the MD5 of its body as Etag.
    for f in ["System/Capabilities.json", "System/Categories.json"] {
        let (st, etag, body) = scu.get(f).await;
        assert_eq!(st, StatusCode::OK, "{f}");
        assert_eq!(
            etag,
            hex::encode(md5::Md5::digest(&body)),
            "{f}: object corrupt"
        );
    }
    let caps: Value =
        serde_json::from_slice(&scu.get("System/Capabilities.json").await.2).expect("json");
    for (group, cap) in [
        ("Store", "StoreSignedVideo"),
        ("Store", "StoreBookmarks"),
        ("Store", "StoreGNSSTrackRecording"),
        ("Store", "StoreRejectedContent"),
        ("Store", "StoreUserIDKey"),
        ("StoreAndRead", "StoreReadSystemID"),
        ("Read", "ReadCategories"),
    ] {
        assert_eq!(caps[group][cap], true, "{cap}: {caps}");
    }
    assert_eq!(scu.get("Users/anything").await.0, StatusCode::FORBIDDEN);

    // The system, a user (his own id is a service number: mapped by itself), a camera.
    for c in ["System", "Users", "Devices"] {
        assert!(
            scu.container(reqwest::Method::PUT, c, &[])
                .await
                .0
                .is_success()
        );
    }
    let (st, _, _) = scu
        .put(
            &format!("System/{SYSTEM_ID}"),
            &[("ConnectionId", "conn-1"), ("SystemName", "Kyiv W800")],
            vec![],
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, h) = scu.head(&format!("System/{SYSTEM_ID}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        h.get("x-object-meta-connectionid")
            .map(|v| v.to_str().expect("ascii")),
        Some("conn-1")
    );
    let (st, _, _) = scu
        .put(
            &format!("Users/{USER}"),
            &[
                ("Active", "True"),
                ("Name", "Петренко Іван"),
                ("UserID", "UA-900"),
            ],
            vec![],
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _, _) = scu
        .put(
            &format!("Devices/{CAMERA}"),
            &[("Active", "True"), ("Name", "W101 #1"), ("Model", "W101")],
            vec![],
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);

    let t0 = (kordon_store::now_ms() / 1000 - 900) * 1000;
    let name = |t: i64, cam: &str| {
        let s = iso(t);
        let compact: String = s[..19]
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == 'T')
            .collect();
        format!("{USER}_{cam}_{compact}Z")
    };
    let rec_meta = |on: i64, off: i64| {
        vec![
            ("BWCSerialNumber".to_owned(), CAMERA.to_owned()),
            ("SCUSerialNumber".to_owned(), "ACCC8E000042".to_owned()),
            ("FirmwareVersion".to_owned(), "11.5.64".to_owned()),
            ("UserID".to_owned(), USER.to_owned()),
            ("TriggerOn".to_owned(), "ButtonPress".to_owned()),
            ("TriggerOnTimeISO".to_owned(), iso(on)),
            ("StartTimeISO".to_owned(), iso(on)),
            ("StopTimeISO".to_owned(), iso(off)),
            ("TriggerOffTimeISO".to_owned(), iso(off)),
            ("TimeZone".to_owned(), "Europe/Kyiv".to_owned()),
            ("BWCModel".to_owned(), "W101".to_owned()),
            ("Status".to_owned(), "Transferring".to_owned()),
        ]
    };

    // An unknown camera is never storable.
    let (st, v) = scu
        .container(
            reqwest::Method::PUT,
            &name(t0, "B8A44FFFFFFF"),
            &[("Status", "Transferring")],
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("axis_unknown_camera")),
        "{v}"
    );

    // Recording 1: three clips, the middle one signed in the stream.
    let rec1 = name(t0, CAMERA);
    let m1 = rec_meta(t0, t0 + 30_000);
    let m1r = refs(&m1);
    assert_eq!(
        scu.container(reqwest::Method::PUT, &rec1, &m1r).await.0,
        StatusCode::CREATED
    );
    let clips = [
        clip(
            tmp.path(),
            "a.mp4",
            Some("camera one. lane two. please open the trunk"),
        ),
        testdata("onvif-media-signing/signed_bodycam_h264.mp4"),
        clip(tmp.path(), "c.mp4", Some("thank you. you may go")),
    ];
    let clip_meta = |i: i64| {
        let (s, e) = (t0 + i * 10_000, t0 + (i + 1) * 10_000);
        vec![
            ("StartTimeISO".to_owned(), iso(s)),
            ("StopTimeISO".to_owned(), iso(e)),
            ("ContainerType".to_owned(), "mp4".to_owned()),
        ]
    };
    let clip_name = |i: i64| {
        format!(
            "{}_{:04}.mp4",
            iso(t0 + i * 10_000).replace([':', '-'], ""),
            17 + i
        )
    };
    // The first clip trickles in; the second, sent meanwhile, finds the server busy.
    let slow = {
        let (http, token, url) = (
            http.clone(),
            scu.token.clone(),
            format!("{}/{rec1}/{}", scu.storage, clip_name(0)),
        );
        let bytes = clips[0].clone();
        let meta = clip_meta(0);
        tokio::spawn(async move {
            let (a, b) = bytes.split_at(bytes.len() / 2);
            let (a, b) = (
                bytes::Bytes::copy_from_slice(a),
                bytes::Bytes::copy_from_slice(b),
            );
            let body = futures_util::stream::unfold(0, move |i| {
                let (a, b) = (a.clone(), b.clone());
                async move {
                    match i {
                        0 => Some((Ok::<_, std::io::Error>(a), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(1500)).await;
                            Some((Ok(b), 2))
                        }
                        _ => None,
                    }
                }
            });
            let mut r = http.put(url).header("X-Auth-Token", token);
            for (k, v) in meta {
                r = r.header(format!("X-Object-Meta-{k}"), v);
            }
            r.body(reqwest::Body::wrap_stream(body))
                .send()
                .await
                .expect("slow put")
                .status()
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let m = clip_meta(1);
    let mr = refs(&m);
    let (st, v, retry) = scu
        .put(&format!("{rec1}/{}", clip_name(1)), &mr, clips[1].clone())
        .await;
    assert_eq!(
        (st, retry.as_deref()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("5")),
        "{v}"
    );
    assert_eq!(slow.await.expect("slow"), StatusCode::CREATED);
    let (st, retries) = scu
        .put_retrying(&format!("{rec1}/{}", clip_name(1)), &mr, clips[1].clone())
        .await;
    assert_eq!((st, retries), (StatusCode::CREATED, 0));
    let m = clip_meta(2);
    let mr = refs(&m);
    assert_eq!(
        scu.put_retrying(&format!("{rec1}/{}", clip_name(2)), &mr, clips[2].clone())
            .await
            .0,
        StatusCode::CREATED
    );
    // A retry of a stored clip stores nothing twice; other bytes under its name are refused.
    assert_eq!(
        scu.put(&format!("{rec1}/{}", clip_name(2)), &mr, clips[2].clone())
            .await
            .0,
        StatusCode::CREATED
    );
    let (st, v, _) = scu
        .put(&format!("{rec1}/{}", clip_name(2)), &mr, clips[0].clone())
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("axis_object_exists")),
        "{v}"
    );
    // A clip without times, an encryption key, are never storable.
    let (st, v, _) = scu
        .put(&format!("{rec1}/x_1.mp4"), &[], clips[2].clone())
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("axis_no_duration")),
        "{v}"
    );
    let (st, v, _) = scu
        .put(
            &format!("{rec1}/x_1.key"),
            &[("FileType", "key")],
            b"wrapped".to_vec(),
        )
        .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("axis_encryption_refused")),
        "{v}"
    );
    // A bookmark with its category, and the GNSS trail.
    let bm_at = iso(t0 + 12_000);
    let (st, _, _) = scu
        .put(
            &format!("{rec1}/bookmark_{}_1", bm_at.replace([':', '-'], "")),
            &[
                ("CategoryID", "inspection"),
                ("CategoryName", "Огляд / Inspection"),
                ("Tags", "lane:2"),
                ("StartTime", &bm_at),
            ],
            "Водій відмовився відкрити багажник".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let trail = json!({"CoordinateEntries": [
        {"LocationWKT": "POINT(30.5234 50.4501)", "SecondsFromStart": 1.0, "Timestamp": iso(t0 + 1_000)},
        {"LocationWKT": "POINT(30.5236 50.4502)", "SecondsFromStart": 15.0, "Timestamp": iso(t0 + 15_000)},
    ]});
    let (st, v, _) = scu
        .put(
            &format!("{rec1}/20261203_070000_0017_{CAMERA}_gpstrail.json"),
            &[("FileType", "json")],
            trail.to_string().into_bytes(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = scu
        .container(
            reqwest::Method::POST,
            &rec1,
            &[("Status", "Complete"), ("TriggerOff", "ButtonPress")],
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");

    // Recording 2, half a minute after the wearer stopped: one clip.
    let rec2 = name(t0 + 60_000, CAMERA);
    let m2 = rec_meta(t0 + 60_000, t0 + 70_000);
    let m2r = refs(&m2);
    assert_eq!(
        scu.container(reqwest::Method::PUT, &rec2, &m2r).await.0,
        StatusCode::CREATED
    );
    let m = [
        ("StartTimeISO", iso(t0 + 60_000)),
        ("StopTimeISO", iso(t0 + 70_000)),
    ];
    let mr: Vec<(&str, &str)> = m.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        scu.put_retrying(&format!("{rec2}/{}", clip_name(6)), &mr, clips[2].clone())
            .await
            .0,
        StatusCode::CREATED
    );
    let (st, _) = scu
        .container(
            reqwest::Method::POST,
            &rec2,
            &[("Status", "Complete"), ("TriggerOff", "Undock")],
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    // After Complete, a repeated Complete changes nothing.
    assert!(
        scu.container(reqwest::Method::POST, &rec2, &[("Status", "Complete")])
            .await
            .0
            .is_success()
    );

    // Rejected content is never refused.
    let rejected = "RejectedContent_UnknownTime_5d1e0f3a-2222-4b4b-8c8c-000000000009";
    assert!(
        scu.container(
            reqwest::Method::PUT,
            rejected,
            &[("RejectedContentReason", "corrupt header")]
        )
        .await
        .0
        .is_success()
    );
    assert_eq!(
        scu.put(
            &format!("{rejected}/broken.mp4"),
            &[],
            b"not a video".to_vec()
        )
        .await
        .0,
        StatusCode::CREATED
    );

    // The camera's chain: start, 3 clips, stop, start, 1 clip, stop — signed by the server.
    let (st, c) = api
        .call(
            reqwest::Method::GET,
            &format!("/v1/devices/{CAMERA}/continuity"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["segments"], 4, "{c}");
    assert_eq!(c["links"], 8, "{c}");
    assert_eq!(c["problems"], json!([]), "{c}");

    // The wearer became an assignment; an inspection over recording 1 is covered, one
    // reaching into the pause has the gap the wearer's stop explains.
    let (st, v) = api
        .call(
            reqwest::Method::POST,
            "/v1/inspections",
            Some(json!([
                {"inspection_id": "AXIS-1", "crossing_point": "UA-AXIS-01", "lane": "1", "officers": ["UA-900"],
                 "start": iso(t0 + 2_000), "end": iso(t0 + 28_000), "vehicle_plate": "AA1234BB",
                 "declaration_no": "UA100000/2026/000001", "kind": "vehicle", "outcome": "cleared"},
                {"inspection_id": "AXIS-2", "crossing_point": "UA-AXIS-01", "lane": "1", "officers": ["UA-900"],
                 "start": iso(t0 + 25_000), "end": iso(t0 + 65_000), "vehicle_plate": "AA1234BB",
                 "declaration_no": "UA100000/2026/000002", "kind": "vehicle", "outcome": "cleared"}
            ])),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let (_, cov) = api
        .call(
            reqwest::Method::GET,
            "/v1/inspections/AXIS-1/coverage",
            None,
        )
        .await;
    assert_eq!(cov["coverage"], 1.0, "{cov}");
    let (_, cov) = api
        .call(
            reqwest::Method::GET,
            "/v1/inspections/AXIS-2/coverage",
            None,
        )
        .await;
    let classes: Vec<(&str, f64)> = cov["uncovered"]
        .as_array()
        .expect("uncovered")
        .iter()
        .map(|u| {
            (
                u["class"].as_str().unwrap_or(""),
                u["seconds"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    assert_eq!(classes, vec![("stopped_by_wearer", 30.0)], "{cov}");

    // The bookmark is found, the trail shown with the footage, the clips on the timeline.
    let (_, b) = api
        .call(
            reqwest::Method::GET,
            &format!("/v1/bookmarks?q={}", url_encode("багажник")),
            None,
        )
        .await;
    let labels: Vec<&str> = b["bookmarks"]
        .as_array()
        .expect("bookmarks")
        .iter()
        .filter_map(|x| x["label"].as_str())
        .collect();
    assert_eq!(
        labels,
        vec!["[Огляд / Inspection] Водій відмовився відкрити багажник (lane:2)"],
        "{b}"
    );
    let day = &iso(t0)[..10];
    let page = http
        .get(format!("{url}/ui/timeline?device={CAMERA}&date={day}"))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    let sha_b = hex::encode(sha2::Sha256::digest(&clips[1]));
    assert!(
        page.contains(&format!("/v1/blobs/{sha_b}")),
        "the signed clip is on the timeline"
    );
    // In Ukrainian (the default) with a decimal comma.
    assert!(
        page.contains("50,4501") && page.contains("30,5234"),
        "the GNSS trail is shown"
    );
    let served = http
        .get(format!("{url}/v1/blobs/{sha_b}?reason=axis%20test"))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("blob")
        .bytes()
        .await
        .expect("bytes");
    assert!(
        served[..] == clips[1][..],
        "the signed clip is kept byte for byte"
    );

    // Camera health from the recordings' metadata: firmware, docked, sound.
    let (code, out) = kordon(&[
        "device", "status", CAMERA, "--server", &url, "--data", &data_s,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("docked yes")
            && out.contains("firmware 11.5.64")
            && out.contains("sound present"),
        "{out}"
    );
    let cameras = http
        .get(format!("{url}/ui/cameras"))
        .bearer_auth(&api.token)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        cameras.contains(CAMERA) && cameras.contains("11.5.64"),
        "the camera list shows it"
    );

    // An evidence package of the inspection verifies, clips byte for byte.
    let (st, v) = api
        .call(
            reqwest::Method::POST,
            "/v1/cases",
            Some(json!({"id": "AXIS-CASE", "reference": "R-AXIS", "kind": "complaint", "description": "axis", "crossing_point": "UA-AXIS-01"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = api
        .call(
            reqwest::Method::POST,
            "/v1/cases/AXIS-CASE/items",
            Some(json!({"kind": "inspection", "inspection_id": "AXIS-1", "text": ""})),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let (st, exported) = api
        .call(
            reqwest::Method::POST,
            "/v1/cases/AXIS-CASE/export",
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{exported}");
    let pkg = data
        .join("exports")
        .join(exported["file"].as_str().expect("file"));
    let report = kordon_verify::verify_package(
        &pkg,
        &kordon_verify::VerifyOptions {
            threads: 2,
            ..Default::default()
        },
    )
    .expect("zip");
    assert_eq!(
        report.failures().count(),
        0,
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    let mut z = zip::ZipArchive::new(std::fs::File::open(&pkg).expect("open")).expect("zip");
    let mut notes = String::new();
    let mut has_signed = false;
    for i in 0..z.len() {
        let mut f = z.by_index(i).expect("member");
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut f, &mut b).expect("read");
        if b == clips[1] {
            has_signed = true;
        }
        if let Ok(t) = String::from_utf8(b)
            && t.contains("kordon.segment/v2")
        {
            notes.push_str(&t);
        }
    }
    assert!(
        has_signed,
        "the signed clip is in the package byte for byte"
    );
    assert!(
        notes.contains("audio: present") && notes.contains("audio: none"),
        "{notes}"
    );
    assert!(notes.contains("attested: system"), "{notes}");
    assert!(!notes.contains("attested: device"), "{notes}");
}
