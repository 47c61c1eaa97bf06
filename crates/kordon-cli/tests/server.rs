//! `kordon serve` as a real process on 127.0.0.1 with real files: enrollment, upload of
//! real MP4 segments made by ffmpeg, every refusal, continuity, the log read back over
//! HTTP and checked by the independent `tlog_tiles` crate and by `kordon log verify`,
//! tampering on disk, and `kill -9` in the middle of a stream of uploads.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use kordon_core::Hash;
use kordon_core::checkpoint;
use kordon_core::hash::sha256;
use kordon_core::link::{Attestation, Audio, Event, EventKind, Link, LinkBody, Segment, genesis};
use kordon_core::merkle::{self, leaf_hash};
use kordon_core::note::{SignerKey, VerifierKey};
use kordon_core::tiles::{TileId, decode_bundle, tiles_for_size};
use kordon_core::time::Timestamp;
use serde_json::{Value, json};

struct Server {
    child: Child,
    url: String,
    data: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

async fn start(data: &Path) -> Server {
    start_with_env(data, &[]).await
}

/// The index the server gives a link by its hash, after checking the inclusion proof
/// against `cp`.
async fn proven_index(
    http: &reqwest::Client,
    url: &str,
    l: &Link,
    cp: &kordon_core::checkpoint::Checkpoint,
) -> u64 {
    let (st, p) = json_of(
        http.get(format!("{url}/v1/log/inclusion?hash={}", l.hash().to_hex()))
            .send()
            .await
            .expect("proof"),
    )
    .await;
    assert_eq!(st, 200, "link {} not found: {p}", l.hash());
    let index = p["index"].as_u64().expect("index");
    let proof: Vec<Hash> = p["proof"]
        .as_array()
        .expect("proof")
        .iter()
        .map(|h| Hash::from_base64(h.as_str().expect("str")).expect("hash"))
        .collect();
    merkle::verify_inclusion(&leaf_hash(l.bytes()), index, cp.size, &proof, &cp.root)
        .expect("inclusion");
    index
}

fn token(data: &Path) -> String {
    std::fs::read_to_string(data.join("keys/admin-token"))
        .expect("token")
        .trim()
        .to_owned()
}

/// A test camera that signs its chain.
struct Camera {
    key: SignerKey,
    links: Vec<Link>,
    t: i64,
}

impl Camera {
    fn new(id: &str, seed: u8) -> Self {
        Camera {
            key: SignerKey::ed25519_from_seed(id, [seed; 32]).expect("key"),
            links: Vec::new(),
            t: 1_795_849_200_000,
        }
    }

    fn id(&self) -> &str {
        self.key.verifier().name()
    }

    fn prev(&self) -> Hash {
        self.links
            .last()
            .map_or_else(|| genesis(self.id()), Link::hash)
    }

    fn segment(&mut self, bytes: &[u8], len_ms: i64) -> Link {
        let body = LinkBody::Segment(Segment {
            device: self.id().into(),
            seq: self.links.len() as u64,
            start: Timestamp(self.t),
            end: Timestamp(self.t + len_ms),
            size: bytes.len() as u64,
            sha256: sha256(bytes),
            night: false,
            audio: Audio::Unstated,
            attested: Attestation::Device,
            prev: self.prev(),
        });
        self.t += len_ms;
        let l = Link::sign(body, &self.key).expect("sign");
        self.links.push(l.clone());
        l
    }

    fn event(&mut self, kind: EventKind) -> Link {
        let body = LinkBody::Event(Event {
            device: self.id().into(),
            seq: self.links.len() as u64,
            time: Timestamp(self.t),
            kind,
            detail: "test".into(),
            prev: self.prev(),
        });
        let l = Link::sign(body, &self.key).expect("sign");
        self.links.push(l.clone());
        l
    }
}

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn enroll(http: &reqwest::Client, s: &Server, cam: &Camera) {
    let (st, v) = json_of(
        http.post(format!("{}/v1/devices/{}/enroll-token", s.url, cam.id()))
            .bearer_auth(token(&s.data))
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let body =
        json!({"device": cam.id(), "token": v["token"], "key": cam.key.verifier().to_string()});
    let (st, v) = json_of(
        http.post(format!("{}/v1/enroll", s.url))
            .json(&body)
            .send()
            .await
            .expect("enroll"),
    )
    .await;
    assert_eq!(st, 201, "{v}");
}

async fn put_segment(
    http: &reqwest::Client,
    url: &str,
    link: &Link,
    bytes: Vec<u8>,
) -> Result<(u16, Value), reqwest::Error> {
    let b = link.body();
    let res = http
        .put(format!(
            "{url}/v1/devices/{}/segments/{}",
            b.device(),
            b.seq()
        ))
        .header(
            "Kordon-Manifest",
            base64::engine::general_purpose::STANDARD.encode(link.bytes()),
        )
        .body(bytes)
        .send()
        .await?;
    Ok(json_of(res).await)
}

async fn put_event(
    http: &reqwest::Client,
    url: &str,
    link: &Link,
) -> Result<(u16, Value), reqwest::Error> {
    let b = link.body();
    let res = http
        .put(format!(
            "{url}/v1/devices/{}/events/{}",
            b.device(),
            b.seq()
        ))
        .body(link.bytes().to_vec())
        .send()
        .await?;
    Ok(json_of(res).await)
}

/// Real H.264 fragmented MP4 from ffmpeg's test sources.
fn mp4(dir: &Path, i: usize) -> Vec<u8> {
    let sources = ["testsrc", "testsrc2", "smptebars", "rgbtestsrc"];
    let out = dir.join(format!("seg{i}.mp4"));
    let status = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i"])
        .arg(format!(
            "{}=size=320x240:rate=15",
            sources[i % sources.len()]
        ))
        .args([
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "15",
        ])
        .args([
            "-movflags",
            "+frag_keyframe+empty_moov+default_base_moof",
            "-f",
            "mp4",
            "-y",
        ])
        .arg(&out)
        .status()
        .expect("ffmpeg is installed (scripts/test installs it)");
    assert!(status.success());
    std::fs::read(out).expect("mp4")
}

/// `kordon log verify` against the server at `url`, with the token of its data folder
/// `data`, then `extra`.
fn log_verify(url: &str, data: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["log", "verify", "--server", url, "--data"];
    args.push(data.to_str().expect("utf8"));
    args.extend_from_slice(extra);
    kordon(&args)
}

fn kordon(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kordon"))
        .args(args)
        .output()
        .expect("run kordon");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Footage is read as a person with a reason, like every viewer: the admin token and a reason.
async fn get_blob(http: &reqwest::Client, s: &Server, sha_hex: &str) -> Vec<u8> {
    let url = format!("{}/v1/blobs/{sha_hex}?reason=test", s.url);
    let res = http
        .get(&url)
        .bearer_auth(token(&s.data))
        .send()
        .await
        .expect("get");
    assert!(res.status().is_success(), "{url}: {}", res.status());
    res.bytes().await.expect("body").to_vec()
}

async fn get_bytes(http: &reqwest::Client, url: &str) -> Vec<u8> {
    let res = http.get(url).send().await.expect("get");
    assert!(res.status().is_success(), "{url}: {}", res.status());
    res.bytes().await.expect("body").to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cameras_upload_real_segments_and_the_log_verifies() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let s = start(&data).await;
    let http = reqwest::Client::new();
    let mut cam = Camera::new("cam-e2e-01", 1);
    enroll(&http, &s, &cam).await;

    let videos: Vec<Vec<u8>> = (0..3).map(|i| mp4(dir.path(), i)).collect();
    let mut links = vec![
        cam.event(EventKind::PowerOn),
        cam.event(EventKind::RecordStart),
    ];
    for l in &links {
        assert_eq!(put_event(&http, &s.url, l).await.expect("put").0, 201);
    }
    for v in &videos {
        let l = cam.segment(v, 2000);
        let (st, body) = put_segment(&http, &s.url, &l, v.clone())
            .await
            .expect("put");
        assert_eq!(st, 201, "{body}");
        assert_eq!(body["stored"], "new");
        links.push(l);
    }
    // A retry gets the same answer and stores nothing new.
    let (st, again) = put_segment(&http, &s.url, &links[2], videos[0].clone())
        .await
        .expect("retry");
    assert_eq!((st, again["stored"].as_str()), (200, Some("existing")));
    let stop = cam.event(EventKind::RecordStop);
    assert_eq!(put_event(&http, &s.url, &stop).await.expect("put").0, 201);

    let (st, c) = json_of(
        http.get(format!("{}/v1/devices/cam-e2e-01/continuity", s.url))
            .bearer_auth(token(&s.data))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(
        (
            c["links"].as_u64(),
            c["segments"].as_u64(),
            c["head"].as_u64()
        ),
        (Some(6), Some(3), Some(5))
    );
    assert_eq!(c["problems"], json!([]));

    // The stored bytes are the camera's bytes.
    let blob = get_blob(&http, &s, &sha256(&videos[1]).to_hex()).await;
    assert_eq!(blob, videos[1]);

    // Read the log back over HTTP and check it with tlog_tiles, independently.
    let key = VerifierKey::parse(
        String::from_utf8(get_bytes(&http, &format!("{}/log/verifier-key", s.url)).await)
            .expect("utf8")
            .trim(),
    )
    .expect("key");
    let cp_bytes = get_bytes(&http, &format!("{}/log/checkpoint", s.url)).await;
    let (cp, _) = checkpoint::open(&cp_bytes, &key).expect("checkpoint verifies");
    let theirs = tlog_tiles::Checkpoint::from_bytes(
        kordon_core::note::Note::parse(&cp_bytes)
            .expect("note")
            .text()
            .as_bytes(),
    )
    .expect("tlog_tiles parses it");
    assert_eq!(theirs.size(), cp.size);
    let mut entries = Vec::new();
    for id in tiles_for_size(cp.size).iter().filter(|t| t.level.is_none()) {
        let data = get_bytes(&http, &format!("{}/log/{}", s.url, id.path())).await;
        entries.extend(
            decode_bundle(&data)
                .expect("bundle")
                .into_iter()
                .map(<[u8]>::to_vec),
        );
    }
    // tlog_tiles computes the root from its own stored hashes over the entries.
    let mut stored: Vec<tlog_tiles::Hash> = Vec::new();
    struct Reader<'a>(&'a Vec<tlog_tiles::Hash>);
    impl tlog_tiles::HashReader for Reader<'_> {
        fn read_hashes(&self, idx: &[u64]) -> Result<Vec<tlog_tiles::Hash>, tlog_tiles::Error> {
            Ok(idx.iter().map(|i| self.0[*i as usize]).collect())
        }
    }
    for (n, e) in entries.iter().enumerate() {
        let new = tlog_tiles::stored_hashes(n as u64, e, &Reader(&stored)).expect("stored hashes");
        stored.extend(new);
    }
    let root = tlog_tiles::tree_hash(entries.len() as u64, &Reader(&stored)).expect("root");
    assert_eq!(
        root.0, cp.root.0,
        "tlog_tiles computes the same root from the served entries"
    );
    // Every link is an entry, byte for byte, and its proof holds.
    for l in links.iter().chain([&stop]) {
        let i = entries
            .iter()
            .position(|e| e == l.bytes())
            .expect("link is logged");
        assert_eq!(proven_index(&http, &s.url, l, &cp).await, i as u64);
    }
    // A partial tile beyond the published size is not served.
    let beyond = TileId {
        level: None,
        index: 0,
        width: (cp.size + 1) as u16,
    };
    assert_eq!(
        http.get(format!("{}/log/{}", s.url, beyond.path()))
            .send()
            .await
            .expect("get")
            .status(),
        404
    );

    // The auditor agrees, then catches a byte flipped in a stored segment.
    let (code, out) = log_verify(&s.url, &s.data, &["--log-key", &key.to_string()]);
    assert_eq!(code, 0, "{out}");
    let blob_path = data
        .join("blobs/sha256")
        .join(&sha256(&videos[2]).to_hex()[..2])
        .join(sha256(&videos[2]).to_hex());
    let mut bytes = std::fs::read(&blob_path).expect("blob");
    bytes[1000] ^= 0x01;
    std::fs::write(&blob_path, bytes).expect("tamper");
    let (code, out) = log_verify(&s.url, &s.data, &["--log-key", &key.to_string()]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("device cam-e2e-01 seq 4: stored segment has SHA-256"),
        "{out}"
    );
    assert!(out.contains("1 problem(s)"), "{out}");

    // The CLI shows the chain state.
    let (code, out) = kordon(&[
        "device",
        "status",
        "cam-e2e-01",
        "--server",
        &s.url,
        "--token",
        &token(&s.data),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("segments: 3"), "{out}");
    assert!(out.contains("record-stop"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_with_clear_errors_and_leave_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let s = start(&data).await;
    let http = reqwest::Client::new();
    let mut cam = Camera::new("cam-bad-01", 2);
    enroll(&http, &s, &cam).await;
    let video = mp4(dir.path(), 0);
    let seg = cam.segment(&video, 2000);

    // Unknown device, forged signature, wrong path, malformed manifest.
    let mut stranger = Camera::new("cam-unknown", 3);
    let l = stranger.segment(&video, 2000);
    let (st, v) = put_segment(&http, &s.url, &l, video.clone())
        .await
        .expect("put");
    assert_eq!((st, v["error"].as_str()), (404, Some("unknown_device")));
    let mut forger = Camera {
        key: SignerKey::ed25519_from_seed("cam-bad-01", [99; 32]).expect("key"),
        links: vec![],
        t: cam.t,
    };
    let forged = forger.segment(&video, 2000);
    let (st, v) = put_segment(&http, &s.url, &forged, video.clone())
        .await
        .expect("put");
    assert_eq!(
        (st, v["error"].as_str()),
        (403, Some("bad_signature")),
        "{v}"
    );
    let res = http
        .put(format!("{}/v1/devices/cam-bad-01/segments/7", s.url))
        .header(
            "Kordon-Manifest",
            base64::engine::general_purpose::STANDARD.encode(seg.bytes()),
        )
        .body(video.clone())
        .send()
        .await
        .expect("put");
    let (st, v) = json_of(res).await;
    assert_eq!((st, v["error"].as_str()), (400, Some("link_mismatch")));
    let res = http
        .put(format!("{}/v1/devices/cam-bad-01/segments/0", s.url))
        .header("Kordon-Manifest", "not base64!")
        .body(video.clone())
        .send()
        .await
        .expect("put");
    assert_eq!(json_of(res).await.1["error"], "malformed_manifest");
    let (st, v) = put_event(&http, &s.url, &seg).await.expect("put");
    assert_eq!((st, v["error"].as_str()), (400, Some("not_an_event")));
    let res = http
        .put(format!("{}/v1/devices/cam-bad-01/events/0", s.url))
        .body("garbage\n\n— x AAAA\n")
        .send()
        .await
        .expect("put");
    let (st, v) = json_of(res).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("malformed_link")),
        "{v}"
    );

    // Body that does not match the manifest: shorter, longer, other bytes.
    let (st, v) = put_segment(&http, &s.url, &seg, video[..video.len() - 1].to_vec())
        .await
        .expect("put");
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("size_mismatch")),
        "{v}"
    );
    let mut other = video.clone();
    other[500] ^= 0xff;
    let (st, v) = put_segment(&http, &s.url, &seg, other).await.expect("put");
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("hash_mismatch")),
        "{v}"
    );
    assert_eq!(
        std::fs::read_dir(data.join("blobs/tmp"))
            .expect("tmp")
            .count(),
        0,
        "no half-written blob left"
    );
    let hex = sha256(&video).to_hex();
    assert!(
        !data
            .join("blobs/sha256")
            .join(&hex[..2])
            .join(&hex)
            .exists(),
        "refused bytes were stored"
    );
    let (_, c) = json_of(
        http.get(format!("{}/v1/devices/cam-bad-01/continuity", s.url))
            .bearer_auth(token(&s.data))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(c["links"], 0, "a refused upload stores no link");

    // The real upload works; a different link under the same number is equivocation.
    assert_eq!(
        put_segment(&http, &s.url, &seg, video.clone())
            .await
            .expect("put")
            .0,
        201
    );
    let mut twin = Camera {
        key: cam.key.clone(),
        links: vec![],
        t: cam.t + 5000,
    };
    let other_video = mp4(dir.path(), 1);
    let twin_link = twin.segment(&other_video, 2000);
    let (st, v) = put_segment(&http, &s.url, &twin_link, other_video)
        .await
        .expect("put");
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("equivocation")),
        "{v}"
    );
    let (_, c) = json_of(
        http.get(format!("{}/v1/devices/cam-bad-01/continuity", s.url))
            .bearer_auth(token(&s.data))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(
        c["equivocations"][0]["refused_link"],
        twin_link.hash().to_hex()
    );
    let (code, out) = kordon(&["gaps", "--server", &s.url, "--token", &token(&s.data)]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("EQUIVOCATION at seq 0"), "{out}");

    // A missing link shows as a gap in the sequence.
    let _skipped = cam.event(EventKind::BatteryLow);
    let after = cam.event(EventKind::RecordStop);
    assert_eq!(put_event(&http, &s.url, &after).await.expect("put").0, 201);
    let (code, out) = kordon(&[
        "device",
        "status",
        "cam-bad-01",
        "--server",
        &s.url,
        "--token",
        &token(&s.data),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("missing links seq 1..=1"), "{out}");
    // Recomputed from every stored link, the chain is what was kept as they arrived.
    let (code, out) = kordon(&[
        "device",
        "recheck",
        "cam-bad-01",
        "--server",
        &s.url,
        "--token",
        &token(&s.data),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("2 problems found")
            && out.contains("the kept state agrees with the recomputation"),
        "{out}"
    );

    // Oversized declared size.
    let mut big = Camera {
        key: cam.key.clone(),
        links: cam.links.clone(),
        t: cam.t,
    };
    let huge = LinkBody::Segment(Segment {
        device: "cam-bad-01".into(),
        seq: 3,
        start: Timestamp(big.t),
        end: Timestamp(big.t + 1000),
        size: 3 << 30,
        sha256: sha256(b"x"),
        night: false,
        audio: Audio::Unstated,
        attested: Attestation::Device,
        prev: big.prev(),
    });
    let huge = Link::sign(huge, &big.key).expect("sign");
    big.links.push(huge.clone());
    let (st, v) = put_segment(&http, &s.url, &huge, vec![0; 10])
        .await
        .expect("put");
    assert_eq!((st, v["error"].as_str()), (413, Some("too_large")), "{v}");

    // Revoked devices are refused; the admin API needs the token.
    let res = http
        .post(format!("{}/v1/devices/cam-bad-01/revoke", s.url))
        .send()
        .await
        .expect("post");
    assert_eq!(json_of(res).await.0, 401);
    let (code, out) = kordon(&[
        "device",
        "revoke",
        "cam-bad-01",
        "--server",
        &s.url,
        "--data",
        data.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{out}");
    let next = cam.event(EventKind::PowerOff);
    let (st, v) = put_event(&http, &s.url, &next).await.expect("put");
    assert_eq!((st, v["error"].as_str()), (403, Some("device_revoked")));

    // Enrollment tokens are single-use.
    let (_, t) = json_of(
        http.post(format!("{}/v1/devices/cam-bad-02/enroll-token", s.url))
            .bearer_auth(token(&data))
            .send()
            .await
            .expect("token"),
    )
    .await;
    let k2 = SignerKey::ecdsa_p256_from_scalar("cam-bad-02", [5; 32]).expect("p256 key");
    let body =
        json!({"device": "cam-bad-02", "token": t["token"], "key": k2.verifier().to_string()});
    assert_eq!(
        json_of(
            http.post(format!("{}/v1/enroll", s.url))
                .json(&body)
                .send()
                .await
                .expect("enroll")
        )
        .await
        .0,
        201
    );
    let (st, v) = json_of(
        http.post(format!("{}/v1/enroll", s.url))
            .json(&body)
            .send()
            .await
            .expect("enroll"),
    )
    .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("token_invalid")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_are_custody_events_in_the_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let s = start(&data).await;
    let http = reqwest::Client::new();
    let cam = Camera::new("cam-asg-01", 4);
    enroll(&http, &s, &cam).await;
    let d = data.to_str().expect("utf8");
    let (code, out) = kordon(&[
        "assign",
        "--device",
        "cam-asg-01",
        "--officer",
        "UA-1234",
        "--crossing-point",
        "UA-KYIV-01",
        "--server",
        &s.url,
        "--data",
        d,
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = kordon(&[
        "assign",
        "--device",
        "cam-asg-01",
        "--officer",
        "UA-9",
        "--crossing-point",
        "UA-KYIV-01",
        "--server",
        &s.url,
        "--data",
        d,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("still assigned to officer UA-1234"), "{out}");
    let (code, out) = kordon(&[
        "return",
        "--device",
        "cam-asg-01",
        "--server",
        &s.url,
        "--data",
        d,
    ]);
    assert_eq!(code, 0, "{out}");
    let (_, c) = json_of(
        http.get(format!("{}/v1/devices/cam-asg-01/continuity", s.url))
            .bearer_auth(token(&s.data))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(c["assignments"][0]["officer"], "UA-1234");
    assert!(c["assignments"][0]["end"].is_string());
    // enroll-token, enroll, assign, return: four custody events, all in the log.
    let cp = get_bytes(&http, &format!("{}/log/checkpoint", s.url)).await;
    let text = String::from_utf8(cp).expect("utf8");
    assert_eq!(text.lines().nth(1), Some("4"), "{text}");
    let bundle = get_bytes(&http, &format!("{}/log/tile/entries/000.p/4", s.url)).await;
    let entries = decode_bundle(&bundle).expect("bundle");
    let actions: Vec<String> = entries
        .iter()
        .map(|e| {
            String::from_utf8_lossy(e)
                .lines()
                .find_map(|l| l.strip_prefix("action: ").map(str::to_owned))
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(actions, vec!["enroll-token", "enroll", "assign", "return"]);
    let (code, out) = log_verify(&s.url, &s.data, &[]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_uploads_loses_nothing_that_was_confirmed() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let video = mp4(dir.path(), 2);
    let http = reqwest::Client::new();
    let mut cams: Vec<Camera> = (0..4)
        .map(|i| Camera::new(&format!("cam-kill-{i}"), 10 + i as u8))
        .collect();
    {
        let s = start(&data).await;
        for c in &cams {
            enroll(&http, &s, c).await;
        }
    }
    let mut confirmed: Vec<(Link, u64)> = Vec::new();
    let mut checkpoints: Vec<(u64, Hash)> = Vec::new();
    // 3 kills here; `scripts/soak log` runs 100.
    let rounds: u64 = std::env::var("KORDON_KILL_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    for round in 0..rounds {
        let done: std::collections::HashSet<Hash> =
            confirmed.iter().map(|(c, _)| c.hash()).collect();
        // Superseded partial tiles are removed at once, so kills land in clean-ups too.
        let s = start_with_env(&data, &[("KORDON_LOG_PARTIAL_GRACE_S", "0".into())]).await;
        // Every camera re-sends what was not confirmed, then keeps recording.
        let mut tasks = Vec::new();
        for cam in cams.iter_mut() {
            let todo: Vec<Link> = cam
                .links
                .iter()
                .filter(|l| !done.contains(&l.hash()))
                .cloned()
                .collect();
            let mut fresh = Vec::new();
            for i in 0..40 {
                fresh.push(if i % 4 == 0 {
                    cam.segment(&video, 2000)
                } else {
                    cam.event(EventKind::BatteryLow)
                });
            }
            let (http, url, video) = (http.clone(), s.url.clone(), video.clone());
            tasks.push(tokio::spawn(async move {
                let mut ok = Vec::new();
                for l in todo.into_iter().chain(fresh) {
                    let r = match l.body() {
                        LinkBody::Segment(_) => put_segment(&http, &url, &l, video.clone()).await,
                        LinkBody::Event(_) => put_event(&http, &url, &l).await,
                    };
                    match r {
                        Ok((200 | 201, v)) => ok.push((l, v["log_index"].as_u64().expect("index"))),
                        _ => break,
                    }
                }
                ok
            }));
        }
        // Watch checkpoints while the uploads run, then pull the plug.
        let mut rnd = [0u8; 2];
        getrandom::fill(&mut rnd).expect("random");
        let deadline = tokio::time::Instant::now()
            + Duration::from_millis(
                150 + u64::from(u16::from_le_bytes(rnd)) % 600 + round.min(10) * 50,
            );
        while tokio::time::Instant::now() < deadline {
            if let Ok(r) = http.get(format!("{}/log/checkpoint", s.url)).send().await
                && let Ok(b) = r.bytes().await
                && let Ok(n) = kordon_core::note::Note::parse(&b)
                && let Ok(cp) = kordon_core::checkpoint::Checkpoint::parse(n.text())
            {
                checkpoints.push((cp.size, cp.root));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut s = s;
        s.child.kill().expect("kill -9");
        s.child.wait().expect("wait");
        for t in tasks {
            confirmed.extend(t.await.expect("task"));
        }
    }
    assert!(
        confirmed.len() > 20,
        "only {} uploads confirmed",
        confirmed.len()
    );

    let s = start_with_env(&data, &[("KORDON_LOG_PARTIAL_GRACE_S", "0".into())]).await;
    let cp_bytes = get_bytes(&http, &format!("{}/log/checkpoint", s.url)).await;
    let key = VerifierKey::parse(
        String::from_utf8(get_bytes(&http, &format!("{}/log/verifier-key", s.url)).await)
            .expect("utf8")
            .trim(),
    )
    .expect("key");
    let (cp, _) = checkpoint::open(&cp_bytes, &key).expect("checkpoint");
    for (l, index) in &confirmed {
        assert_eq!(
            proven_index(&http, &s.url, l, &cp).await,
            *index,
            "confirmed link {} lost or moved",
            l.hash()
        );
    }
    let blob = get_blob(&http, &s, &sha256(&video).to_hex()).await;
    assert_eq!(blob, video);
    checkpoints.sort();
    checkpoints.dedup();
    for (size, root) in &checkpoints {
        let (st, p) = json_of(
            http.get(format!(
                "{}/v1/log/consistency?old={size}&new={}",
                s.url, cp.size
            ))
            .send()
            .await
            .expect("proof"),
        )
        .await;
        assert_eq!(st, 200, "{p}");
        let proof: Vec<Hash> = p["proof"]
            .as_array()
            .expect("proof")
            .iter()
            .map(|h| Hash::from_base64(h.as_str().expect("s")).expect("h"))
            .collect();
        merkle::verify_consistency(*size, cp.size, &proof, root, &cp.root)
            .expect("every checkpoint seen before a crash is a prefix of the log");
    }
    let size_of = |b: Vec<u8>| -> u64 {
        String::from_utf8(b)
            .expect("utf8")
            .lines()
            .nth(1)
            .expect("size")
            .parse()
            .expect("n")
    };
    let before = size_of(get_bytes(&http, &format!("{}/log/checkpoint", s.url)).await);
    let key_text = key.to_string();
    let (code, out) = log_verify(&s.url, &s.data, &["--log-key", &key_text]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("segments checked"), "{out}");
    // The audit read every stored segment as one audit run: one custody event in all.
    let after = size_of(get_bytes(&http, &format!("{}/log/checkpoint", s.url)).await);
    assert_eq!(after, before + 1, "one custody event per audit run");
    // A daily audit from a saved state: the first run reads everything (one more audit
    // run), the next only that run's custody event, and no segment, so no audit run.
    let state = dir.path().join("audit.state");
    let st = state.to_str().expect("utf8");
    let daily = || log_verify(&s.url, &s.data, &["--log-key", &key_text, "--state", st]);
    let (code, out) = daily();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "audit state saved to {} (size {after})",
            state.display()
        )),
        "{out}"
    );
    let (code, out) = daily();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "from the audit at size {after}: 1 entries read, 0 devices, 0 segments checked"
        )),
        "{out}"
    );
    let last = size_of(get_bytes(&http, &format!("{}/log/checkpoint", s.url)).await);
    assert_eq!(last, after + 1, "nothing read, nothing recorded");
    // An audit run is the caller's own, and real.
    let token = std::fs::read_to_string(data.join("keys/admin-token")).expect("token");
    let res = http
        .get(format!(
            "{}/v1/blobs/{}?audit=not-a-run",
            s.url,
            sha256(&video).to_hex()
        ))
        .bearer_auth(token.trim())
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
    let v: serde_json::Value = res.json().await.expect("json");
    assert_eq!(v["error"], "unknown_audit", "{v}");
    // What the kills left of superseded partial tiles is swept at start: only the
    // partials of the published tree remain.
    let mut left = Vec::new();
    for _ in 0..100 {
        left = kordon_log::partial_tiles(&data.join("log"))
            .into_iter()
            .filter(|id| {
                let count = id.level.map_or(cp.size, |l| cp.size >> (8 * u32::from(l)));
                id.index * 256 + u64::from(id.width) < count
            })
            .collect();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(left.is_empty(), "superseded partials left: {left:?}");
    println!(
        "crash loop: {rounds} kills, {} confirmed uploads all at their index in the final log of {} entries, {} checkpoints seen all its prefixes",
        confirmed.len(),
        cp.size,
        checkpoints.len()
    );
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_witness(dir: &Path, name: &str, log_key: &str) -> (Proc, String, VerifierKey) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_kordon"))
        .args(["witness", "serve", "--data"])
        .arg(dir)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--name",
            name,
            "--log",
            log_key,
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn witness");
    let p = Proc(child);
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
            && dir.join("witness.key").exists()
        {
            let key = SignerKey::parse(
                std::fs::read_to_string(dir.join("witness.key"))
                    .expect("key")
                    .trim(),
            )
            .expect("parse");
            return (p, url, key.verifier().clone());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("witness did not start");
}

async fn start_with_env(data: &Path, env: &[(&str, String)]) -> Server {
    start_on(data, free_port(), env).await
}

async fn start_on(data: &Path, port: u16, env: &[(&str, String)]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kordon"));
    cmd.args(["serve", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http
            .get(format!("{url}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Server {
                child,
                url,
                data: data.to_path_buf(),
            };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not become ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_witnesses_cosign_and_a_dead_witness_does_not_stop_ingest() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let http = reqwest::Client::new();
    let log_vkey = {
        let s = start(&data).await;
        String::from_utf8(get_bytes(&http, &format!("{}/log/verifier-key", s.url)).await)
            .expect("utf8")
            .trim()
            .to_owned()
    };
    let (w1, url1, k1) =
        start_witness(&dir.path().join("w1"), "ombudsman.example/w1", &log_vkey).await;
    let (w2, url2, k2) =
        start_witness(&dir.path().join("w2"), "prosecutor.example/w2", &log_vkey).await;
    let witnesses = format!("{url1}={k1},{url2}={k2}");
    let s = start_with_env(&data, &[("KORDON_WITNESSES", witnesses)]).await;
    let mut cam = Camera::new("cam-wit-01", 21);
    enroll(&http, &s, &cam).await;
    for _ in 0..5 {
        let e = cam.event(EventKind::BatteryLow);
        assert_eq!(put_event(&http, &s.url, &e).await.expect("put").0, 201);
    }
    let policy = kordon_core::policy::Policy::parse(&format!(
        "log {log_vkey}\nwitness w1 {k1}\nwitness w2 {k2}\ngroup both all w1 w2\nquorum both\n"
    ))
    .expect("policy");
    let mut ok = None;
    for _ in 0..100 {
        let cp = get_bytes(&http, &format!("{}/log/checkpoint", s.url)).await;
        if let Ok(sat) = policy.check(&cp) {
            ok = Some(sat);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sat = ok.expect("checkpoint cosigned by both witnesses");
    assert_eq!(sat.witnesses, vec!["w1", "w2"]);
    assert_eq!(sat.checkpoint.size, 7);

    // A witness refuses what does not extend what it cosigned.
    let log_key = SignerKey::parse(
        std::fs::read_to_string(data.join("keys/log.key"))
            .expect("key")
            .trim(),
    )
    .expect("parse");
    let fork = kordon_core::checkpoint::Checkpoint {
        origin: log_key.verifier().name().into(),
        size: 9,
        root: Hash([7; 32]),
        extensions: vec![],
    };
    let mut n = kordon_core::note::Note::new(&fork.to_text()).expect("note");
    n.sign(&log_key).expect("sign");
    let body = |old: u64, proof: &[Hash], note: &[u8]| {
        let mut b = format!("old {old}\n");
        for h in proof {
            b.push_str(&h.to_base64());
            b.push('\n');
        }
        b.push('\n');
        let mut v = b.into_bytes();
        v.extend_from_slice(note);
        v
    };
    let post = |b: Vec<u8>| http.post(format!("{url1}/add-checkpoint")).body(b).send();
    let r = post(body(3, &[], &n.to_bytes())).await.expect("post");
    assert_eq!(r.status().as_u16(), 409);
    assert_eq!(r.headers()["content-type"], "text/x.tlog.size");
    assert_eq!(r.text().await.expect("body").trim(), "7");
    let r = post(body(7, &[Hash([1; 32])], &n.to_bytes()))
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 422, "a fork is refused");
    let r = post(body(10, &[], &n.to_bytes())).await.expect("post");
    assert_eq!(r.status().as_u16(), 400);
    let stranger = SignerKey::ed25519_from_seed(log_key.verifier().name(), [3; 32]).expect("key");
    let mut forged = kordon_core::note::Note::new(&fork.to_text()).expect("note");
    forged.sign(&stranger).expect("sign");
    assert_eq!(
        post(body(7, &[], &forged.to_bytes()))
            .await
            .expect("post")
            .status()
            .as_u16(),
        403
    );
    let other = kordon_core::checkpoint::Checkpoint {
        origin: "other.example/log".into(),
        ..fork
    };
    let mut o = kordon_core::note::Note::new(&other.to_text()).expect("note");
    o.sign(&stranger).expect("sign");
    assert_eq!(
        post(body(0, &[], &o.to_bytes()))
            .await
            .expect("post")
            .status()
            .as_u16(),
        404
    );

    // One witness dies: ingest goes on, the other keeps cosigning.
    drop(w2);
    let e = cam.event(EventKind::PowerOff);
    assert_eq!(put_event(&http, &s.url, &e).await.expect("put").0, 201);
    let one = kordon_core::policy::Policy::parse(&format!(
        "log {log_vkey}\nwitness w1 {k1}\nwitness w2 {k2}\ngroup any1 any w1 w2\nquorum any1\n"
    ))
    .expect("policy");
    let mut cosigned_by = Vec::new();
    for _ in 0..100 {
        let cp = get_bytes(&http, &format!("{}/log/checkpoint", s.url)).await;
        if let Ok(sat) = one.check(&cp)
            && sat.checkpoint.size == 8
        {
            cosigned_by = sat.witnesses;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(cosigned_by, vec!["w1"]);
    drop(w1);
}

/// Sends an upload by hand: headers and the first `send` bytes of `body`, then either
/// closes the sending side (`close`) or stalls; returns the status line and body.
async fn raw_upload(url: &str, link: &Link, body: &[u8], send: usize, close: bool) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let b = link.body();
    let head = format!(
        "PUT /v1/devices/{}/segments/{} HTTP/1.1\r\nHost: {addr}\r\nKordon-Manifest: {}\r\nContent-Length: {}\r\n\r\n",
        b.device(),
        b.seq(),
        base64::engine::general_purpose::STANDARD.encode(link.bytes()),
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(&body[..send]).await.expect("part of the body");
    if close {
        s.shutdown().await.expect("half-close");
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_and_stalled_uploads_store_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let s = start_with_env(&data, &[("KORDON_UPLOAD_IDLE_TIMEOUT_S", "1".into())]).await;
    let http = reqwest::Client::new();
    let mut cam = Camera::new("cam-trunc-01", 31);
    enroll(&http, &s, &cam).await;
    let video = mp4(dir.path(), 3);
    let link = cam.segment(&video, 2000);

    let answer = raw_upload(&s.url, &link, &video, video.len() / 2, true).await;
    assert!(
        answer.is_empty() || answer.contains("upload_interrupted"),
        "{answer}"
    );
    let answer = raw_upload(&s.url, &link, &video, video.len() / 3, false).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("\"error\":\"upload_interrupted\"") && answer.contains("no data for 1 s"),
        "{answer}"
    );

    assert_eq!(
        std::fs::read_dir(data.join("blobs/tmp"))
            .expect("tmp")
            .count(),
        0,
        "nothing half-written"
    );
    let (_, c) = json_of(
        http.get(format!("{}/v1/devices/cam-trunc-01/continuity", s.url))
            .bearer_auth(token(&s.data))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(c["links"], 0);
    // The whole upload then goes through.
    assert_eq!(
        put_segment(&http, &s.url, &link, video)
            .await
            .expect("put")
            .0,
        201
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    // Blobs on a small file system of their own (needs root, as CI and the dev machines run).
    std::fs::create_dir_all(data.join("blobs")).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(data.join("blobs"))
        .status()
        .expect("mount");
    assert!(
        mounted.success(),
        "mounting a 4 MiB tmpfs failed: this test needs root"
    );
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _guard = Unmount(data.join("blobs"));

    let s = start(&data).await;
    let http = reqwest::Client::new();
    let mut cam = Camera::new("cam-full-01", 41);
    enroll(&http, &s, &cam).await;
    let mut confirmed = Vec::new();
    let mut refused = None;
    for i in 0..8u8 {
        let mut chunk = vec![i; 1 << 20];
        chunk[0..8].copy_from_slice(b"segment!");
        let l = cam.segment(&chunk, 2000);
        match put_segment(&http, &s.url, &l, chunk.clone())
            .await
            .expect("put")
        {
            (201, _) => confirmed.push((l, chunk)),
            (st, v) => {
                refused = Some((st, v));
                break;
            }
        }
    }
    let (st, v) = refused.expect("the 4 MiB file system filled up");
    assert_eq!(
        (st, v["error"].as_str()),
        (507, Some("storage_full")),
        "{v}"
    );
    assert!(
        confirmed.len() >= 2,
        "{} uploads before the disk was full",
        confirmed.len()
    );
    assert_eq!(
        std::fs::read_dir(data.join("blobs/tmp"))
            .expect("tmp")
            .count(),
        0,
        "no partial file left"
    );
    for (l, bytes) in &confirmed {
        let LinkBody::Segment(seg) = l.body() else {
            panic!("segment")
        };
        assert_eq!(&get_blob(&http, &s, &seg.sha256.to_hex()).await, bytes);
    }
    assert!(
        http.get(format!("{}/readyz", s.url))
            .send()
            .await
            .expect("ready")
            .status()
            .is_success()
    );
    let (code, out) = log_verify(&s.url, &s.data, &[]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_verify_catches_edits_to_the_log_on_disk() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let s = start(&data).await;
    let http = reqwest::Client::new();
    let mut cam = Camera::new("cam-edit-01", 51);
    enroll(&http, &s, &cam).await;
    for _ in 0..3 {
        let e = cam.event(EventKind::BatteryLow);
        assert_eq!(put_event(&http, &s.url, &e).await.expect("put").0, 201);
    }
    let key = String::from_utf8(get_bytes(&http, &format!("{}/log/verifier-key", s.url)).await)
        .expect("utf8")
        .trim()
        .to_owned();
    let audit = |key: &str| log_verify(&s.url, &s.data, &["--log-key", key]);
    let (code, out) = audit(&key);
    assert_eq!(code, 0, "{out}");

    // Someone with access to the server's disk edits a logged event ("battery-low" → "battery-lOw").
    let bundle = data.join("log").join(
        TileId {
            level: None,
            index: 0,
            width: 5,
        }
        .path(),
    );
    let mut bytes = std::fs::read(&bundle).expect("bundle");
    let pos = bytes
        .windows(11)
        .rposition(|w| w == b"battery-low")
        .expect("event text")
        + 9;
    bytes[pos] = b'O';
    std::fs::write(&bundle, bytes).expect("edit");
    let (code, out) = audit(&key);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("entries give root"), "{out}");
    assert!(out.contains("entry 4: malformed link"), "{out}");

    // A checkpoint signed by a key the auditor does not trust is refused outright.
    let other = SignerKey::ed25519_from_seed("kordon.local/log", [1; 32]).expect("key");
    let (code, out) = audit(&other.verifier().to_string());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("checkpoint does not verify with the log key"),
        "{out}"
    );
}

/// `t` (Unix ms) as RFC 3339 in UTC+02:00, as the customs IT system writes it.
fn kyiv(t: i64) -> String {
    Timestamp(t + 2 * 3_600_000)
        .to_string()
        .replace('Z', "+02:00")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspections_import_and_coverage_with_a_late_upload() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let s = start(&data).await;
    let http = reqwest::Client::new();
    let d = data.to_str().expect("utf8");
    let mut cam = Camera::new("cam-insp-01", 61);
    enroll(&http, &s, &cam).await;
    let (code, out) = kordon(&[
        "assign",
        "--device",
        "cam-insp-01",
        "--officer",
        "UA-1",
        "--crossing-point",
        "UA-KYIV-01",
        "--server",
        &s.url,
        "--data",
        d,
    ]);
    assert_eq!(code, 0, "{out}");
    // The camera records from t: 0-10 s, 10-20 s (arrives late), stop at 20 s, 40-60 s.
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
        + 5_000;
    cam.t = t;
    let video = mp4(dir.path(), 0);
    let s0 = cam.segment(&video, 10_000);
    let late_video = mp4(dir.path(), 1);
    let late = cam.segment(&late_video, 10_000);
    let stop = cam.event(EventKind::RecordStop);
    cam.t = t + 40_000;
    let start_again = cam.event(EventKind::RecordStart);
    let v2 = mp4(dir.path(), 2);
    let s3 = cam.segment(&v2, 10_000);
    let v3 = mp4(dir.path(), 3);
    let s4 = cam.segment(&v3, 10_000);
    assert_eq!(
        put_segment(&http, &s.url, &s0, video).await.expect("put").0,
        201
    );
    for e in [&stop, &start_again] {
        assert_eq!(put_event(&http, &s.url, e).await.expect("put").0, 201);
    }
    assert_eq!(
        put_segment(&http, &s.url, &s3, v2).await.expect("put").0,
        201
    );
    assert_eq!(
        put_segment(&http, &s.url, &s4, v3).await.expect("put").0,
        201
    );

    let csv = format!(
        "inspection_id,crossing_point,lane,officers,start,end,vehicle_plate,declaration_no,kind,outcome\n\
         I-1,UA-KYIV-01,3,UA-1,{a},{b},аа 1234 вх,UA100/281126/000001,vehicle,cleared\n\
         I-bad,UA-KYIV-01,3,UA-1,{b},{a},AA1234BX,D2,vehicle,cleared\n\
         I-bad2,UA-KYIV-01,3,UA-1,{a},{b},AA1234BX,D3,boat,cleared\n\
         I-short,UA-KYIV-01,3\n\
         I-2,UA-KYIV-01,1,UA-2;UA-3,{a},{b},KA0001TH,D4,goods,violation\n",
        a = kyiv(t + 5_000),
        b = kyiv(t + 55_000)
    );
    let file = dir.path().join("inspections.csv");
    std::fs::write(&file, &csv).expect("csv");
    let f = file.to_str().expect("utf8");
    let (code, out) = kordon(&["inspections", "import", f, "--server", &s.url, "--data", d]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("line 3: end is not after start"), "{out}");
    assert!(
        out.contains("line 4: kind \"boat\" is not documents, vehicle or goods"),
        "{out}"
    );
    assert!(out.contains("line 5: 3 fields, expected 10"), "{out}");
    assert!(
        out.contains("2 new, 0 unchanged, 0 corrected (new version), 3 refused"),
        "{out}"
    );
    let (_, out) = kordon(&["inspections", "import", f, "--server", &s.url, "--data", d]);
    assert!(
        out.contains("0 new, 2 unchanged, 0 corrected"),
        "idempotent: {out}"
    );
    std::fs::write(
        &file,
        csv.replace("vehicle,cleared\nI-bad,", "vehicle,violation\nI-bad,"),
    )
    .expect("csv");
    let (_, out) = kordon(&["inspections", "import", f, "--server", &s.url, "--data", d]);
    assert!(
        out.contains("0 new, 1 unchanged, 1 corrected"),
        "a correction is a new version: {out}"
    );

    let range = ["--from", &kyiv(t - 60_000), "--to", &kyiv(t + 600_000)];
    let report = |fmt: &str| {
        let mut args = vec![
            "report", "coverage", "--format", fmt, "--server", &s.url, "--data", d,
        ];
        args.extend_from_slice(&range);
        kordon(&args)
    };
    let (code, out) = report("csv");
    assert_eq!(code, 0, "{out}");
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(
        rows[0],
        "inspection_id,crossing_point,lane,officers,start,end,covered_seconds,duration_seconds,coverage,night_seconds,uncovered"
    );
    let i1 = rows.iter().find(|r| r.starts_with("I-1,")).expect("I-1");
    let f1: Vec<&str> = i1.split(',').collect();
    assert_eq!((f1[6], f1[7], f1[8]), ("20.0", "50.0", "0.4000"), "{i1}");
    assert_eq!(
        f1[10],
        format!(
            "{}/{}/missing_segments;{}/{}/stopped_by_wearer",
            Timestamp(t + 10_000),
            Timestamp(t + 20_000),
            Timestamp(t + 20_000),
            Timestamp(t + 40_000)
        )
    );
    let i2 = rows.iter().find(|r| r.starts_with("I-2,")).expect("I-2");
    assert!(
        i2.contains(",0.0,50.0,0.0000,") && i2.ends_with("/not_assigned"),
        "{i2}"
    );

    // The late segment arrives: coverage is recomputed from the chain.
    assert_eq!(
        put_segment(&http, &s.url, &late, late_video)
            .await
            .expect("put")
            .0,
        201
    );
    let (_, v) = json_of(
        http.get(format!("{}/v1/inspections/I-1/coverage", s.url))
            .bearer_auth(token(&s.data))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(v["covered_seconds"], 30.0, "{v}");
    assert_eq!(v["version"], 2);
    assert_eq!(v["outcome"], "violation");
    assert_eq!(v["uncovered"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["uncovered"][0]["class"], "stopped_by_wearer");
    let (code, out) = report("table");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("60.0%"), "{out}");
    // The gap in the table is in the crossing point's clock time, like the start column.
    let from_local = v["uncovered"][0]["from_local"]
        .as_str()
        .expect("from_local");
    assert!(
        out.contains(&format!("{}–", &from_local[11..19])) && out.contains("stopped_by_wearer"),
        "{from_local}: {out}"
    );

    // The officer explains the remaining gap; it stays flagged until a supervisor approves.
    let (from, to) = (kyiv(t + 20_000), kyiv(t + 40_000));
    let gap = [
        "gap",
        "reason",
        "--inspection",
        "I-1",
        "--from",
        &from,
        "--to",
        &to,
        "--reason",
        "exemption",
        "--text",
        "meal break agreed with the shift",
    ];
    let mut args = gap.to_vec();
    args.extend_from_slice(&["--server", &s.url, "--data", d]);
    let (code, out) = kordon(&args);
    assert_eq!(code, 0, "{out}");
    let id = out.split_whitespace().nth(2).expect("id").to_owned();
    let coverage_now = || async {
        json_of(
            http.get(format!("{}/v1/inspections/I-1/coverage", s.url))
                .bearer_auth(token(&s.data))
                .send()
                .await
                .expect("get"),
        )
        .await
        .1
    };
    let v = coverage_now().await;
    assert_eq!(
        (
            v["unexplained_gaps"].as_u64(),
            v["uncovered"][0]["reason"]["status"].as_str()
        ),
        (Some(1), Some("pending")),
        "{v}"
    );
    // Decided by a supervisor, not by whoever filed it (here the administrator token).
    let (st, v) = json_of(
        http.post(format!("{}/v1/users", s.url))
            .bearer_auth(token(&s.data))
            .json(&json!({"name": "shift-sup", "role": "supervisor", "password": "a long enough password"}))
            .send()
            .await
            .expect("user"),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = json_of(
        http.post(format!("{}/v1/users/shift-sup/tokens", s.url))
            .bearer_auth(token(&s.data))
            .json(&json!({"label": "test"}))
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let sup = v["token"].as_str().expect("token").to_owned();
    // One explanation of a time at once: another waits for the first's decision.
    let (code, out) = kordon(&args);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("already explains this time"), "{out}");
    // A rejection says why, and the officer may explain again.
    let (st, v) = json_of(
        http.post(format!("{}/v1/gap-reasons/{id}/reject", s.url))
            .bearer_auth(&sup)
            .send()
            .await
            .expect("reject"),
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("comment_required")),
        "{v}"
    );
    let (code, out) = kordon(&[
        "gap",
        "reject",
        &id,
        "--comment",
        "which break? name who agreed it",
        "--server",
        &s.url,
        "--token",
        &sup,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rejected"), "{out}");
    assert_eq!(coverage_now().await["unexplained_gaps"].as_u64(), Some(1));
    let (code, out) = kordon(&args);
    assert_eq!(code, 0, "explained again after the rejection: {out}");
    let id = out.split_whitespace().nth(2).expect("id").to_owned();
    let (code, out) = kordon(&["gap", "approve", &id, "--server", &s.url, "--data", d]);
    assert_eq!(code, 1, "the filer does not decide: {out}");
    assert!(out.contains("another supervisor decides it"), "{out}");
    let (code, out) = kordon(&["gap", "approve", &id, "--server", &s.url, "--token", &sup]);
    assert_eq!(code, 0, "{out}");
    let v = coverage_now().await;
    assert_eq!(
        (
            v["unexplained_gaps"].as_u64(),
            v["uncovered"][0]["reason"]["reason"].as_str()
        ),
        (Some(0), Some("exemption")),
        "{v}"
    );
    let (code, out) = kordon(&[
        "gap",
        "reject",
        &id,
        "--comment",
        "late",
        "--server",
        &s.url,
        "--token",
        &sup,
    ]);
    assert_eq!(code, 1, "a decided reason cannot be decided again: {out}");
    let bad = [
        "gap",
        "reason",
        "--inspection",
        "I-1",
        "--from",
        &kyiv(t - 60_000),
        "--to",
        &to,
        "--reason",
        "other",
        "--text",
        "x",
        "--server",
        &s.url,
        "--data",
        d,
    ];
    let (code, out) = kordon(&bad);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("within the inspection"), "{out}");
    let (code, out) = kordon(&["log", "verify", "--server", &s.url, "--no-blobs"]);
    assert_eq!(code, 0, "{out}");

    // Per local day (the crossing point's zone) and per lane.
    let (code, out) = kordon(&[
        "crossing-point",
        "set",
        "UA-KYIV-01",
        "--name-uk",
        "Київ",
        "--name-latin",
        "Kyiv",
        "--tz",
        "Europe/Kyiv",
        "--lanes",
        "1,3",
        "--server",
        &s.url,
        "--data",
        d,
    ]);
    assert_eq!(code, 0, "{out}");
    let day = kyiv(t + 5_000)[..10].to_owned();
    let mut args = vec![
        "report",
        "daily",
        "--format",
        "csv",
        "--server",
        s.url.as_str(),
        "--data",
        d,
    ];
    args.extend_from_slice(&range);
    let (code, out) = kordon(&args);
    assert_eq!(code, 0, "{out}");
    let header: Vec<&str> = out.lines().next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let ua1 = out
        .lines()
        .find(|l| l.contains(",UA-1,"))
        .expect("UA-1 row");
    let f: Vec<&str> = ua1.split(',').collect();
    assert_eq!(
        (
            f[col("day")],
            f[col("time_zone")],
            f[col("inspections")],
            f[col("covered_seconds")],
            f[col("unexplained_gaps")]
        ),
        (day.as_str(), "Europe/Kyiv", "1", "30", "0"),
        "{out}"
    );
    assert_eq!(
        out.lines()
            .filter(|l| l.contains(",UA-2,") || l.contains(",UA-3,"))
            .count(),
        2,
        "two officers on I-2: {out}"
    );
    let mut args = vec![
        "report",
        "clearance",
        "--format",
        "csv",
        "--server",
        s.url.as_str(),
        "--data",
        d,
    ];
    args.extend_from_slice(&range);
    let (code, out) = kordon(&args);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 3, "lanes 1 and 3: {out}");
    assert!(
        out.lines().skip(1).all(|l| l.contains(",50,50,50")),
        "{out}"
    );

    // Search: the plate in another spelling, an officer, a declaration.
    let found = |args: &[&str]| {
        let mut a = vec![
            "search",
            "--format",
            "json",
            "--server",
            s.url.as_str(),
            "--data",
            d,
        ];
        a.extend_from_slice(args);
        let (code, out) = kordon(&a);
        assert_eq!(code, 0, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        v["inspections"]
            .as_array()
            .expect("list")
            .iter()
            .map(|i| i["inspection_id"].as_str().unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(found(&["--plate", "AA-1234 bx"]), vec!["I-1"]);
    assert_eq!(found(&["--officer", "UA-3"]), vec!["I-2"]);
    assert_eq!(found(&["--officer", "UA-1"]), vec!["I-1"]);
    assert_eq!(
        found(&["--declaration", "D4", "--crossing-point", "UA-KYIV-01"]),
        vec!["I-2"]
    );
    assert_eq!(found(&["--plate", "ZZ999"]), Vec::<String>::new());
    // By camera: the camera was UA-1's, so I-1 only.
    assert_eq!(found(&["--device", "cam-insp-01"]), vec!["I-1"]);
    assert_eq!(found(&["--device", "cam-nobody"]), Vec::<String>::new());

    // Bookmarks: on an inspection, then found by their text; each is a custody event.
    let at = kyiv(t + 30_000);
    let (code, out) = kordon(&[
        "bookmark",
        "add",
        "--inspection",
        "I-2",
        "--at",
        &at,
        "driver argued at the gate",
        "--server",
        &s.url,
        "--data",
        d,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("log index"), "{out}");
    assert_eq!(
        found(&["--bookmark", "ARGUED"]),
        vec!["I-2"],
        "case-insensitive"
    );
    assert_eq!(
        found(&["--bookmark", "50%"]),
        Vec::<String>::new(),
        "wildcards are text"
    );
    let (code, out) = kordon(&[
        "bookmark", "list", "--text", "gate", "--format", "csv", "--server", &s.url, "--data", d,
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("driver argued at the gate"), "{out}");
    for (body, status, code) in [
        (
            serde_json::json!({"at": at, "label": "x"}),
            400,
            "bad_request",
        ),
        (
            serde_json::json!({"inspection_id": "I-404", "at": at, "label": "x"}),
            404,
            "not_found",
        ),
        (
            serde_json::json!({"inspection_id": "I-2", "at": "yesterday", "label": "x"}),
            400,
            "bad_request",
        ),
        (
            serde_json::json!({"inspection_id": "I-2", "at": at, "label": "x", "extra": 1}),
            400,
            "bad_json",
        ),
    ] {
        let res = http
            .post(format!("{}/v1/bookmarks", s.url))
            .bearer_auth(token(&data))
            .json(&body)
            .send()
            .await
            .expect("post");
        let (st, v) = json_of(res).await;
        assert_eq!(
            (st, v["error"].as_str().unwrap_or("")),
            (status, code),
            "{body}: {v}"
        );
    }
    let res = http
        .get(format!("{}/v1/search/inspections?plat=AA", s.url))
        .bearer_auth(token(&s.data))
        .send()
        .await
        .expect("get");
    let (st, v) = json_of(res).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("bad_query")),
        "unknown parameter: {v}"
    );

    // Gaps and shifts, filtered by officer.
    let range = [kyiv(t - 60_000), kyiv(t + 120_000)];
    let report_json = |kind: &str, extra: &[&str]| {
        let mut a = vec![
            "report",
            kind,
            "--from",
            &range[0],
            "--to",
            &range[1],
            "--format",
            "json",
            "--server",
            s.url.as_str(),
            "--data",
            d,
        ];
        a.extend_from_slice(extra);
        let (code, out) = kordon(&a);
        assert_eq!(code, 0, "{out}");
        serde_json::from_str::<serde_json::Value>(&out).expect("json")
    };
    let g = report_json("gaps", &["--officer", "UA-1"]);
    let ids: Vec<&str> = g["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .filter_map(|x| x["inspection_id"].as_str())
        .collect();
    assert!(!ids.is_empty() && ids.iter().all(|i| *i == "I-1"), "{g}");
    assert!(
        g["stops_in_inspections"]
            .as_array()
            .expect("stops")
            .iter()
            .any(|x| x["kind"] == "record-stop" && x["camera"] == "cam-insp-01"),
        "{g}"
    );
    let sh = report_json("shifts", &["--officer", "UA-1"]);
    assert_eq!(sh["shifts"].as_array().map(Vec::len), Some(1), "{sh}");
    assert_eq!(sh["shifts"][0]["camera"], "cam-insp-01", "{sh}");
    assert_eq!(sh["shifts"][0]["inspections"], 1, "{sh}");
    let (code, out) = kordon(&[
        "report", "gaps", "--from", &range[1], "--to", &range[0], "--server", &s.url, "--data", d,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("to is not after from"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_data_changes_are_custody_events() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let s = start(&data).await;
    let d = data.to_str().expect("utf8");
    let r = ["--server", s.url.as_str(), "--data", d];
    let run = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(&r);
        kordon(&a)
    };
    let (code, out) = run(&[
        "crossing-point",
        "set",
        "UA-YAH-01",
        "--name-uk",
        "Ягодин",
        "--name-latin",
        "Yahodyn",
        "--tz",
        "Europe/Kyiv",
        "--lanes",
        "1,2,3",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("saved (custody event logged)"), "{out}");
    let (_, out) = run(&[
        "crossing-point",
        "set",
        "UA-YAH-01",
        "--name-uk",
        "Ягодин",
        "--name-latin",
        "Yahodyn",
        "--tz",
        "Europe/Kyiv",
        "--lanes",
        "1,2,3",
    ]);
    assert!(out.contains("unchanged"), "{out}");
    let (code, out) = run(&[
        "crossing-point",
        "set",
        "UA-X",
        "--name-uk",
        "X",
        "--name-latin",
        "X",
        "--tz",
        "Europe/Atlantis",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bad_tz"), "{out}");
    let (code, out) = run(&[
        "officer",
        "set",
        "UA-1234",
        "--name",
        "Олена Коваль",
        "--crossing-point",
        "UA-YAH-01",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&[
        "officer",
        "set",
        "UA-9",
        "--name",
        "X",
        "--crossing-point",
        "UA-NOWHERE",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("unknown_crossing_point"), "{out}");
    let (_, out) = run(&["crossing-point", "list"]);
    assert!(
        out.contains("UA-YAH-01  Ягодин / Yahodyn  Europe/Kyiv"),
        "{out}"
    );
    let (_, out) = run(&["officer", "list"]);
    assert!(out.contains("UA-1234  Олена Коваль  UA-YAH-01"), "{out}");
    // Two changes, two custody events in the log, verified by the auditor.
    let http = reqwest::Client::new();
    let text =
        String::from_utf8(get_bytes(&http, &format!("{}/log/tile/entries/000.p/2", s.url)).await)
            .expect("utf8");
    assert!(
        text.contains("action: crossing-point-set") && text.contains("action: officer-set"),
        "{text}"
    );
    let (code, out) = log_verify(&s.url, &s.data, &[]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_export_release_retention_and_scrub_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let s = start(&data).await;
    let http = reqwest::Client::new();
    let d = data.to_str().expect("utf8");
    let mut cam = Camera::new("cam-case-01", 71);
    enroll(&http, &s, &cam).await;
    for i in 0..3 {
        let video = mp4(dir.path(), i);
        let l = cam.segment(&video, 10_000);
        assert_eq!(
            put_segment(&http, &s.url, &l, video).await.expect("put").0,
            201
        );
    }
    let run = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--server", s.url.as_str(), "--data", d]);
        kordon(&a)
    };
    let (code, out) = run(&[
        "case",
        "open",
        "K-1",
        "--reference",
        "ADV-12/2026",
        "--kind",
        "lawyer_request",
        "--description",
        "defence request",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&[
        "case",
        "open",
        "K-1",
        "--reference",
        "x",
        "--kind",
        "complaint",
        "--description",
        "y",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("409") && out.contains("already exists"),
        "{out}"
    );
    let (code, out) = run(&["case", "export", "K-1", "--out", "/dev/null"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("empty_case"), "{out}");
    let (code, out) = run(&[
        "case",
        "add",
        "K-1",
        "--device",
        "cam-case-01",
        "--seq",
        "1",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&[
        "case",
        "add",
        "K-1",
        "--note",
        "requested by letter of 28.11.2026",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(&["case", "add", "K-1"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("say what to add"), "{out}");
    let pkg = dir.path().join("k1.zip");
    let p = pkg.to_str().expect("utf8");
    let (code, out) = run(&["case", "export", "K-1", "--out", p]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("verify with: kordon-verify"), "{out}");
    let report = kordon_verify::verify_package(
        &pkg,
        &kordon_verify::VerifyOptions {
            threads: 2,
            ..Default::default()
        },
    )
    .expect("zip");
    assert!(
        report.holds(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    assert_eq!(
        report
            .lines
            .iter()
            .filter(|l| l.subject.starts_with("segments/"))
            .count(),
        1,
        "only the held segment"
    );
    let (code, out) = run(&[
        "case",
        "release",
        "K-1",
        "--recipient",
        "адвокат Петренко",
        "--package",
        p,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("recorded (log index"), "{out}");
    let (code, out) = run(&["case", "show", "K-1"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("\"held\": true") && out.contains("letter of 28.11.2026"),
        "{out}"
    );
    // Retention with the default 30 days keeps everything just uploaded.
    let (code, out) = run(&["retention"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("retention: 0 purged"), "{out}");
    // Scrub: clean, then one blob corrupted on disk.
    let (code, out) = run(&["scrub", "--now"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 blobs checked, 0 did not match"), "{out}");
    let blob = std::fs::read_dir(data.join("blobs/sha256"))
        .expect("dir")
        .flatten()
        .flat_map(|e| std::fs::read_dir(e.path()).expect("dir").flatten())
        .map(|e| e.path())
        .next()
        .expect("a blob");
    let mut b = std::fs::read(&blob).expect("read");
    b[0] ^= 1;
    std::fs::write(&blob, b).expect("write");
    let (code, out) = run(&["scrub", "--now"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("3 blobs checked, 1 did not match"), "{out}");
    // The quarantine is a custody event in the log.
    let (code, out) = kordon(&["log", "verify", "--server", &s.url, "--no-blobs"]);
    assert_eq!(code, 0, "{out}");
}

/// A camera enrolled at `s` and two real segments, the first uploaded.
async fn camera_with_first_segment(
    http: &reqwest::Client,
    s: &Server,
    dir: &Path,
    id: &str,
    seed: u8,
) -> (Camera, Vec<Vec<u8>>) {
    let mut cam = Camera::new(id, seed);
    enroll(http, s, &cam).await;
    let videos: Vec<Vec<u8>> = (0..2).map(|i| mp4(dir, i)).collect();
    let first = cam.segment(&videos[0], 2000);
    let (st, v) = put_segment(http, &s.url, &first, videos[0].clone())
        .await
        .expect("put");
    assert_eq!(st, 201, "{v}");
    (cam, videos)
}

/// The same upload once the store is back: stored, and the camera's chain is whole.
async fn retry_succeeds(http: &reqwest::Client, s: &Server, link: &Link, bytes: &[u8]) {
    let (st, v) = put_segment(http, &s.url, link, bytes.to_vec())
        .await
        .expect("put");
    assert_eq!(st, 201, "{v}");
    let (_, c) = json_of(
        http.get(format!(
            "{}/v1/devices/{}/continuity",
            s.url,
            link.body().device()
        ))
        .bearer_auth(token(&s.data))
        .send()
        .await
        .expect("continuity"),
    )
    .await;
    assert_eq!(
        (c["head"].as_u64(), c["problems"].clone()),
        (Some(1), json!([])),
        "{c}"
    );
}

/// An upload while a store is away: answered within 30 s with `503 unavailable`, naming
/// the store and saying to try again.
async fn refused_for_now(
    http: &reqwest::Client,
    url: &str,
    link: &Link,
    bytes: &[u8],
    store: &str,
) {
    let started = std::time::Instant::now();
    let (st, v) = put_segment(http, url, link, bytes.to_vec())
        .await
        .expect("an answer, not a hang");
    assert_eq!((st, v["error"].as_str()), (503, Some("unavailable")), "{v}");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains(store) && m.contains("try again")),
        "{v}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "answered in {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_store_outage_is_a_retryable_error_and_the_retry_succeeds() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let moto = kordon_store::blob::testing::Moto::start();
    let moto_port = moto.port;
    let s3 = moto.settings("kordon-outage");
    kordon_store::blob::create_bucket(&s3)
        .await
        .expect("bucket");
    let env = kordon_store::blob::testing::server_env(&s3, 30 * 86_400);
    let s = start_with_env(&data, &env).await;
    let http = reqwest::Client::new();
    let (mut cam, videos) = camera_with_first_segment(&http, &s, dir.path(), "cam-s3-01", 31).await;

    // The store goes away mid-shift: the camera is told to retry, nothing is half-stored.
    drop(moto);
    let second = cam.segment(&videos[1], 2000);
    refused_for_now(&http, &s.url, &second, &videos[1], "object store").await;
    let (_, c) = json_of(
        http.get(format!("{}/v1/devices/cam-s3-01/continuity", s.url))
            .bearer_auth(token(&s.data))
            .send()
            .await
            .expect("continuity"),
    )
    .await;
    assert_eq!(c["head"], 0, "only the first segment is recorded: {c}");
    assert_eq!(
        std::fs::read_dir(data.join("spool"))
            .expect("spool")
            .count(),
        0,
        "nothing left in the spool"
    );

    // The store is back: the same upload, retried, goes through.
    let _moto = kordon_store::blob::testing::Moto::start_on(moto_port);
    kordon_store::blob::create_bucket(&s3)
        .await
        .expect("bucket again");
    retry_succeeds(&http, &s, &second, &videos[1]).await;
    assert_eq!(
        get_blob(&http, &s, &sha256(&videos[1]).to_hex()).await,
        videos[1]
    );
}

/// A TCP relay to the PostgreSQL server that can be cut (every connection dropped, new
/// ones refused, as when the database restarts) and restored: fault injection only.
struct Relay {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    async fn start(port: u16, to: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("relay bind");
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut a, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut b) = tokio::net::TcpStream::connect(to).await {
                        let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
                    }
                });
            }
        });
        Relay { task: Some(task) }
    }

    /// Drops every connection and stops listening.
    async fn cut(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_a_retryable_error_and_the_retry_succeeds() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let url = kordon_store::meta::testing::fresh_database().await;
    let (head, rest) = url.rsplit_once('@').expect("user@host");
    let (hostport, db) = rest.split_once('/').expect("host/db");
    let pg: std::net::SocketAddr = tokio::net::lookup_host(hostport)
        .await
        .expect("resolve")
        .next()
        .expect("address");
    let relay_port = free_port();
    let mut relay = Relay::start(relay_port, pg).await;
    let env = [(
        "KORDON_DATABASE_URL",
        format!("{head}@127.0.0.1:{relay_port}/{db}"),
    )];
    let s = start_with_env(&data, &env).await;
    let http = reqwest::Client::new();
    let (mut cam, videos) = camera_with_first_segment(&http, &s, dir.path(), "cam-pg-01", 41).await;

    // The database goes away mid-shift: the camera is told to retry.
    relay.cut().await;
    let second = cam.segment(&videos[1], 2000);
    refused_for_now(&http, &s.url, &second, &videos[1], "metadata database").await;
    let ready = http
        .get(format!("{}/readyz", s.url))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503, "not ready without its database");

    // The database is back: the same upload, retried, goes through, and nothing
    // confirmed before is lost.
    let _relay = Relay::start(relay_port, pg).await;
    retry_succeeds(&http, &s, &second, &videos[1]).await;
    for v in &videos {
        assert_eq!(get_blob(&http, &s, &sha256(v).to_hex()).await, *v);
    }
    let (code, out) = log_verify(&s.url, &data, &[]);
    assert_eq!(code, 0, "{out}");
}

/// Polls `url` (with the token of `data`) until `done` holds for its JSON, for up to a
/// minute; answers the last JSON.
async fn until(
    http: &reqwest::Client,
    url: &str,
    data: &Path,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        if let Ok(r) = http.get(url).bearer_auth(token(data)).send().await {
            last = r.json().await.unwrap_or(Value::Null);
            if done(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never got there: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crossing_point_forwards_to_the_centre_across_a_lost_link() {
    let dir = tempfile::tempdir().expect("tmp");
    let (centre_data, edge_data) = (dir.path().join("centre"), dir.path().join("edge"));
    let http = reqwest::Client::new();
    let centre_port = free_port();
    // The centre makes its keys on first start; the edge is given an administrator's
    // token there. Then the centre goes away: the link is down from the edge's start.
    // The centre's own log has its own name (origin), not the crossing point's.
    let centre_origin = ("KORDON_ORIGIN", "centre.kordon.local/log".to_owned());
    drop(
        start_on(
            &centre_data,
            centre_port,
            std::slice::from_ref(&centre_origin),
        )
        .await,
    );
    let forward = [
        (
            "KORDON_FORWARD_URL",
            format!("http://127.0.0.1:{centre_port}"),
        ),
        ("KORDON_FORWARD_TOKEN", token(&centre_data)),
    ];
    let edge = start_with_env(&edge_data, &forward).await;
    let mut cam = Camera::new("cam-edge-01", 51);
    enroll(&http, &edge, &cam).await;
    let videos: Vec<Vec<u8>> = (0..10).map(|i| mp4(dir.path(), i % 4)).collect();
    let upload = async |cam: &mut Camera, i: usize| {
        let l = cam.segment(&videos[i], 2000);
        let (st, v) = put_segment(&http, &edge.url, &l, videos[i].clone())
            .await
            .expect("put");
        assert_eq!(st, 201, "the edge keeps ingesting: {v}");
    };
    for i in 0..4 {
        upload(&mut cam, i).await;
    }
    let status = until(
        &http,
        &format!("{}/v1/forwarding", edge.url),
        &edge_data,
        |v| {
            v["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("not reachable"))
        },
    )
    .await;
    assert_eq!(status["connected"], false, "{status}");
    assert_eq!(status["forwarded"], 0, "{status}");

    // The link comes up: the centre, told the edge's log key, catches up.
    let edge_key =
        String::from_utf8(get_bytes(&http, &format!("{}/log/verifier-key", edge.url)).await)
            .expect("key")
            .trim()
            .to_owned();
    let origin = edge_key.split('+').next().expect("name").to_owned();
    let centre_env = [("KORDON_EDGES", edge_key.clone()), centre_origin];
    let centre = start_on(&centre_data, centre_port, &centre_env).await;
    let continuity = format!("{}/v1/devices/cam-edge-01/continuity", centre.url);
    until(&http, &continuity, &centre_data, |c| c["head"] == 3).await;

    // Cut it mid-transfer: more segments, the centre stops, the edge keeps ingesting.
    for i in 4..8 {
        upload(&mut cam, i).await;
    }
    drop(centre);
    for i in 8..10 {
        upload(&mut cam, i).await;
    }
    let centre = start_on(&centre_data, centre_port, &centre_env).await;
    let c = until(&http, &continuity, &centre_data, |c| c["head"] == 9).await;
    let (_, d) = json_of(
        http.get(format!("{}/v1/devices/cam-edge-01", centre.url))
            .bearer_auth(token(&centre_data))
            .send()
            .await
            .expect("device"),
    )
    .await;
    assert_eq!(
        d["key"].as_str(),
        Some(cam.key.verifier().to_string().as_str()),
        "enrolled at the centre with the camera's own key: {d}"
    );
    assert_eq!(c["problems"], json!([]), "{c}");
    // The centre ends with exactly the edge's data: every segment's bytes, and the
    // edge's whole log up to its latest checkpoint, which the centre's log records.
    for v in &videos {
        assert_eq!(get_blob(&http, &centre, &sha256(v).to_hex()).await, *v);
    }
    let edge_cp =
        String::from_utf8(get_bytes(&http, &format!("{}/log/checkpoint", edge.url)).await)
            .expect("cp");
    let edge_size: u64 = edge_cp
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("size");
    let held = until(
        &http,
        &format!("{}/v1/edges/{}", centre.url, origin.replace('/', "%2F")),
        &centre_data,
        |v| v["size"].as_u64() >= Some(edge_size),
    )
    .await;
    let held_cp = held["checkpoint"].as_str().expect("checkpoint");
    let edge_now =
        String::from_utf8(get_bytes(&http, &format!("{}/log/checkpoint", edge.url)).await)
            .expect("cp");
    let size_of = |cp: &str| cp.lines().nth(1).map(str::to_owned);
    let root_at = |cp: &str| cp.lines().nth(2).map(str::to_owned);
    assert_eq!(
        (size_of(held_cp), root_at(held_cp)),
        (size_of(&edge_now), root_at(&edge_now)),
        "the centre holds the edge's tree: {held_cp} vs {edge_now}"
    );
    let edge_verifier = VerifierKey::parse(&edge_key).expect("edge key");
    checkpoint::open(held_cp.as_bytes(), &edge_verifier).expect("signed by the edge");
    for (url, data) in [(&centre.url, &centre_data), (&edge.url, &edge_data)] {
        let (code, out) = log_verify(url, data, &[]);
        assert_eq!(code, 0, "{out}");
    }
    let fwd = until(
        &http,
        &format!("{}/v1/forwarding", edge.url),
        &edge_data,
        |v| v["connected"] == true,
    )
    .await;
    // Segments stored new at the centre by this process: never a retry counted twice
    // (one answer may have been lost when the centre stopped mid-transfer).
    assert!(
        fwd["segments"]
            .as_u64()
            .is_some_and(|n| (1..=10).contains(&n)),
        "{fwd}"
    );

    // Both dashboards show the link.
    let page = |url: String, data: PathBuf| {
        let http = http.clone();
        async move {
            let res = http
                .get(url)
                .bearer_auth(token(&data))
                .send()
                .await
                .expect("page");
            assert!(res.status().is_success(), "{}", res.status());
            res.text().await.expect("html")
        }
    };
    let edge_page = page(format!("{}/ui/", edge.url), edge_data.clone()).await;
    assert!(
        edge_page.contains("Передавання до центру") && edge_page.contains(r#"data-stat="link">є<"#),
        "{edge_page}"
    );
    let centre_page = page(format!("{}/ui/", centre.url), centre_data.clone()).await;
    assert!(
        centre_page.contains(&format!(r#"data-edge="{origin}""#)),
        "{centre_page}"
    );

    // The edge cannot rewrite what the centre holds: a different entry 0, signed with
    // the edge's own key, is refused.
    let key = SignerKey::parse(
        std::fs::read_to_string(edge_data.join("keys/log.key"))
            .expect("key")
            .trim(),
    )
    .expect("key");
    // A one-entry log whose checkpoint `signer` signs, sent as its first batch.
    let send_forged = |signer: SignerKey| {
        let (http, url, token) = (http.clone(), centre.url.clone(), token(&centre_data));
        async move {
            let entry = b"a different first entry";
            let mut tree = kordon_core::merkle::MemoryHashes::new();
            tree.push_entry(entry);
            let cp = checkpoint::Checkpoint {
                origin: signer.verifier().name().to_owned(),
                size: 1,
                root: tree.root(),
                extensions: vec![],
            };
            let mut note = kordon_core::note::Note::new(&cp.to_text()).expect("note");
            note.sign(&signer).expect("sign");
            let res = http
                .post(format!("{url}/v1/edges/entries"))
                .bearer_auth(token)
                .json(&json!({
                    "checkpoint": String::from_utf8(note.to_bytes()).expect("utf8"),
                    "from": 0,
                    "entries": [base64::engine::general_purpose::STANDARD.encode(entry)],
                }))
                .send()
                .await
                .expect("post");
            json_of(res).await
        }
    };
    let (st, v) = send_forged(key).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("edge_rewritten")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("rewritten")),
        "{v}"
    );
    // Nor can a log the centre was not told of forward at all.
    let stranger = SignerKey::ed25519_from_seed("stranger.example/kordon", [9; 32]).expect("key");
    assert_eq!(send_forged(stranger).await.0, 403);
}
