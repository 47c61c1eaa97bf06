//! The public log carries no personal data (issue 15, finding 3): after a day's work that
//! names people, plates, declarations, reasons, case texts and a recipient, everything
//! `GET /log/...` serves — the checkpoint and every entry bundle and hash tile of the tree
//! — is scanned for each of them and holds none. The custody events are there (version 2:
//! action, time, subject ids, a commitment), the private parts open them in the evidence
//! package, and a release receipt opens its recipient to the package's holder.

mod common;

use common::Server;
use kordon_core::tiles::{TILE_WIDTH, decode_bundle, tiles_for_size};
use kordon_core::time::Timestamp;
use kordon_store::meta::testing::TestCamera;
use serde_json::json;

/// What the day's work below writes that names a person or an investigation.
const SECRETS: &[&str] = &[
    "ivanenko.o",
    "Петренко Іван Степанович",
    "BC7777XX",
    "UA100200/2026/123456",
    "complaint by traveller Sydorenko",
    "ЄРДР 12026000000000123",
    "bribery alleged by Sydorenko",
    "prosecutor Kovalenko",
    "Sydorenko's bag opened",
    "battery died near Sydorenko's car",
    "laptop of Ivanenko",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_log_names_no_person_plate_reason_or_recipient() {
    let s = Server::start().await;
    let url = &s.url;
    let t0 = kordon_store::now_ms() / 60_000 * 60_000 - 3_600_000;
    let ok = |(st, v): (u16, serde_json::Value)| {
        assert!((200..300).contains(&st), "{st}: {v}");
        v
    };

    ok(s.json(s.http.put(format!("{url}/v1/crossing-points/UA-KYIV-01")).json(
        &json!({"name_uk": "Київ", "name_latin": "Kyiv", "tz": "Europe/Kyiv", "lanes": ["1"]}),
    ))
    .await);
    ok(s.json(
        s.http
            .put(format!("{url}/v1/officers/UA-K77"))
            .json(&json!({"name": SECRETS[1], "crossing_point": "UA-KYIV-01"})),
    )
    .await);
    ok(s.json(s.http.post(format!("{url}/v1/users")).json(&json!({
        "name": SECRETS[0], "role": "analyst", "password": "correct horse battery", "crossing_points": [],
    })))
    .await);
    ok(s.json(
        s.http
            .post(format!("{url}/v1/users/{}/tokens", SECRETS[0]))
            .json(&json!({"label": SECRETS[10]})),
    )
    .await);

    let mut cam = TestCamera::new("cam-k77");
    s.enroll(&cam).await;
    ok(
        s.json(s.http.post(format!("{url}/v1/assignments")).json(&json!({
            "device": "cam-k77", "officer": "UA-K77", "crossing_point": "UA-KYIV-01",
            "at": Timestamp(t0 - 60_000).to_string(),
        })))
        .await,
    );
    let bytes = b"the footage".to_vec();
    let link = cam.segment_over(t0, t0 + 10_000, &bytes);
    let r = kordon_agent::api::link_request(&s.http, url, &link, Some((bytes.clone().into(), 11)))
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status().as_u16(), 201);
    s.import(&[json!({
        "inspection_id": "I-1", "crossing_point": "UA-KYIV-01", "lane": "1", "officers": "UA-K77",
        "start": Timestamp(t0 + 1_000).to_string(), "end": Timestamp(t0 + 9_000).to_string(),
        "vehicle_plate": SECRETS[2], "declaration_no": SECRETS[3], "kind": "vehicle", "outcome": "cleared",
    })])
    .await;

    // The acts that write people's words: a search, a view with its reason, a bookmark,
    // a gap reason, a case with its reference and description, a release.
    ok(
        s.json(s.http.get(format!("{url}/v1/search/inspections")).query(&[
            ("vehicle_plate", SECRETS[2]),
            ("declaration_no", SECRETS[3]),
        ]))
        .await,
    );
    let sha = kordon_core::sha256(&bytes).to_hex();
    let r = s
        .http
        .get(format!("{url}/v1/blobs/{sha}"))
        .query(&[("reason", SECRETS[4])])
        .bearer_auth(&s.admin)
        .send()
        .await
        .expect("view");
    assert_eq!(r.status().as_u16(), 200);
    ok(
        s.json(s.http.post(format!("{url}/v1/bookmarks")).json(&json!({
            "inspection_id": "I-1", "at": Timestamp(t0 + 5_000).to_string(), "label": SECRETS[8],
        })))
        .await,
    );
    ok(s.json(
        s.http
            .post(format!("{url}/v1/inspections/I-1/gap-reasons"))
            .json(&json!({
                "from": Timestamp(t0 + 1_000).to_string(), "to": Timestamp(t0 + 2_000).to_string(),
                "reason": "malfunction", "text": SECRETS[9],
            })),
    )
    .await);
    ok(s.json(s.http.post(format!("{url}/v1/cases")).json(&json!({
        "id": "K-1", "reference": SECRETS[5], "kind": "complaint", "description": SECRETS[6],
        "crossing_point": "UA-KYIV-01",
    })))
    .await);
    ok(s.json(
        s.http
            .post(format!("{url}/v1/cases/K-1/items"))
            .json(&json!({"kind": "inspection", "inspection_id": "I-1"})),
    )
    .await);
    let export = ok(s
        .json(s.http.post(format!("{url}/v1/cases/K-1/export")))
        .await);
    let package_sha = export["sha256"].as_str().expect("sha").to_owned();
    ok(s.json(
        s.http
            .post(format!("{url}/v1/cases/K-1/receipts"))
            .json(&json!({"recipient": SECRETS[7], "package_sha256": package_sha})),
    )
    .await);
    ok(s.json(
        s.http
            .post(format!("{url}/v1/users/{}/disable", SECRETS[0])),
    )
    .await);

    // Everything the public log serves, read as an outsider reads it: no account.
    let get = |path: String| {
        let http = s.http.clone();
        async move {
            let r = http.get(path).send().await.expect("log");
            assert_eq!(r.status().as_u16(), 200);
            r.bytes().await.expect("bytes").to_vec()
        }
    };
    let checkpoint = get(format!("{url}/log/checkpoint")).await;
    let size: u64 = String::from_utf8_lossy(&checkpoint)
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("size");
    let mut served = vec![checkpoint];
    let mut entries = Vec::new();
    for tile in tiles_for_size(size) {
        let bytes = get(format!("{url}/log/{}", tile.path())).await;
        if tile.level.is_none() {
            entries.extend(
                decode_bundle(&bytes)
                    .expect("bundle")
                    .into_iter()
                    .map(<[u8]>::to_vec),
            );
        }
        served.push(bytes);
    }
    assert_eq!(entries.len() as u64, size);
    assert!(size < 10 * TILE_WIDTH);
    let sealed = entries
        .iter()
        .filter(|e| e.starts_with(b"kordon.custody/v2\n"))
        .count();
    assert!(
        sealed >= 12,
        "the day's custody events are in the log: {sealed}"
    );
    for secret in SECRETS {
        for bytes in &served {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "the public log serves {secret:?}"
            );
        }
    }

    // The package opens what it needs: its custody events' private parts hold the case's
    // texts, and each opens its event.
    let file = export["file"].as_str().expect("file");
    let r = s
        .http
        .get(format!("{url}/v1/exports/{file}"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .expect("download");
    let zip = r.bytes().await.expect("zip").to_vec();
    for opened in [SECRETS[5], SECRETS[6]] {
        assert!(
            zip.windows(opened.len()).any(|w| w == opened.as_bytes()),
            "the package opens {opened:?}"
        );
    }
    // The receipt opens the recipient to whoever holds the package.
    let (st, v) = s
        .json(s.http.get(format!("{url}/v1/receipts/{package_sha}")))
        .await;
    assert_eq!(st, 200, "{v}");
    let private = v["receipts"][0]["private"].as_str().expect("private part");
    assert!(private.contains(SECRETS[7]), "{private}");
}
