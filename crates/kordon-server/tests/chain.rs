//! A camera's chain as the server keeps it: links arriving out of order and late, a
//! device id with `/`, problems paged, a twin refused, a link from the future refused,
//! `recheck` finding (and repairing) a kept state someone changed behind its back, and a
//! camera that names another camera's bytes made to send them.

mod common;

use common::Server;
use kordon_api::devices::device_path;
use kordon_core::link::{EventKind, Link};
use kordon_store::meta::testing::TestCamera;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_is_kept_as_links_arrive_in_any_order() {
    let s = Server::start().await;
    let device = "dock-1/cam-2";
    let mut cam = TestCamera::new(device);
    // A device id with '/' is one (escaped) path segment.
    s.enroll(&cam).await;
    let base = format!("{}{}", s.url, device_path(device));

    // Six events an hour ago, a minute apart; they arrive 0, 3, 1, 5, 2 (4 is lost).
    let t0 = kordon_store::now_ms() - 3_600_000;
    let links: Vec<Link> = (0..6)
        .map(|i| cam.event(EventKind::NightOn, t0 + i * 60_000))
        .collect();
    for i in [0usize, 3, 1, 5, 2] {
        let (st, v) = s.put(&links[i]).await;
        assert_eq!(st, 201, "link {i}: {v}");
    }
    let c = s.continuity(device, "").await;
    assert_eq!((c.links, c.head, c.last_link), (5, Some(3), Some(5)));
    assert_eq!(c.problems_total, 1, "{:?}", c.problems);
    assert_eq!(c.problems[0].to_string(), "missing links seq 4..=4");

    // A twin of link 2 is refused and becomes a problem; the problems page one at a time.
    let twin = cam.event_with(2, links[1].hash(), EventKind::TamperAlarm, t0 + 121_000);
    let (st, v) = s.put(&twin).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (409, Some("equivocation")),
        "{v}"
    );
    // The twin is evidence in the public log, once however often the camera sends it.
    let (st, _) = s.put(&twin).await;
    assert_eq!(st, 409);
    let trail = s
        .http
        .get(format!("{}/ui/custody", s.url))
        .query(&[("subject", format!("device {device}"))])
        .bearer_auth(&s.admin)
        .send()
        .await
        .expect("trail")
        .text()
        .await
        .expect("page");
    let logged = format!("refused twin {}", twin.hash().to_hex());
    assert_eq!(trail.matches(&logged).count(), 1, "{trail}");
    let first = s.continuity(device, "?limit=1").await;
    assert_eq!((first.problems.len(), first.problems_total), (1, 2));
    let next = first.next.clone().expect("a second page");
    let second = s
        .continuity(device, &format!("?limit=1&after={next}"))
        .await;
    assert_eq!(second.problems.len(), 1);
    assert_eq!(second.next, None);
    assert_ne!(first.problems, second.problems);
    let (st, v) = s
        .json(s.http.get(format!("{base}/continuity?after=x")))
        .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("bad_query")), "{v}");

    // A link ending an hour ahead of the server's clock is refused; nothing is stored.
    let mut ahead = TestCamera::new(device);
    ahead.prev = links[5].hash();
    ahead.next = 6;
    let future = ahead.event(EventKind::NightOff, kordon_store::now_ms() + 3_600_000);
    let (st, v) = s.put(&future).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("link_in_future")),
        "{v}"
    );
    assert_eq!(s.continuity(device, "").await.links, 5);

    // The lost link turns up: the hole closes, the head moves on.
    let (st, v) = s.put(&links[4]).await;
    assert_eq!(st, 201, "{v}");
    let c = s.continuity(device, "").await;
    assert_eq!((c.links, c.head, c.problems_total), (6, Some(5), 1));

    // The kept state agrees with a recomputation from the links.
    let r = s.recheck(device, false).await;
    assert_eq!((r.links, r.problems), (6, 1));
    assert!(r.differences.is_empty(), "{:?}", r.differences);

    // Someone with database access removes the equivocation and the counters: recheck
    // names both, and repair puts them back.
    {
        use sqlx::Connection as _;
        sqlx::any::install_default_drivers();
        let db = s.data.join("kordon.db");
        let mut c = sqlx::AnyConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("db");
        sqlx::query("DELETE FROM chain_problems")
            .execute(&mut c)
            .await
            .expect("delete");
        sqlx::query("UPDATE chain_state SET links = 99, problems = 0")
            .execute(&mut c)
            .await
            .expect("update");
    }
    let r = s.recheck(device, false).await;
    assert!(!r.repaired);
    let diff = r.differences.join("\n");
    assert!(diff.contains("links: kept 99, recomputed 6"), "{diff}");
    assert!(diff.contains("not kept: EQUIVOCATION at seq 2"), "{diff}");
    let r = s.recheck(device, true).await;
    assert!(r.repaired, "{r:?}");
    assert!(s.recheck(device, false).await.differences.is_empty());
    let c = s.continuity(device, "").await;
    assert_eq!((c.links, c.problems_total), (6, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_with_a_cursor_and_loses_nothing() {
    let s = Server::start().await;
    // Five inspections, two starting at the same moment (the cursor breaks the tie by id).
    let starts = ["10:00", "10:05", "10:05", "10:20", "11:00"];
    let records: Vec<Value> = starts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            json!({
                "inspection_id": format!("I-{i}"),
                "crossing_point": "UA-KYIV-01",
                "lane": "1",
                "officers": "UA-1",
                "start": format!("2026-11-30T{t}:00Z"),
                "end": format!("2026-11-30T{t}:30Z"),
                "vehicle_plate": "AA1234BB",
                "declaration_no": format!("D-{i}"),
                "kind": "vehicle",
                "outcome": "cleared",
            })
        })
        .collect();
    s.import(&records).await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = format!(
            "{}/v1/search/inspections?vehicle_plate=AA1234BB&limit=2",
            s.url
        );
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let res = s
            .http
            .get(url)
            .bearer_auth(&s.admin)
            .send()
            .await
            .expect("search");
        assert_eq!(res.status(), 200);
        let v: kordon_api::inspections::InspectionList = res.json().await.expect("list");
        pages += 1;
        seen.extend(v.inspections.iter().map(|i| i.inspection_id.clone()));
        match v.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ["I-0", "I-1", "I-2", "I-3", "I-4"]);
    assert_eq!(pages, 3);
}

/// A camera cannot claim footage it never recorded by naming the SHA-256 of bytes another
/// camera stored: the body is read and checked all the same (issue 15, finding 5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_cannot_claim_another_cameras_bytes_by_their_hash() {
    let s = Server::start().await;
    let (mut owner, mut thief) = (TestCamera::new("cam-owner"), TestCamera::new("cam-thief"));
    s.enroll(&owner).await;
    s.enroll(&thief).await;
    let now = kordon_store::now_ms() - 600_000;
    let bytes = b"the owner's footage".to_vec();
    let send = |link: kordon_core::link::Link, body: Vec<u8>| {
        let len = body.len() as u64;
        let rb = kordon_agent::api::link_request(&s.http, &s.url, &link, Some((body.into(), len)));
        async move {
            let r = rb.send().await.expect("upload");
            let st = r.status().as_u16();
            (st, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (st, v) = send(owner.segment_over(now, now + 10_000, &bytes), bytes.clone()).await;
    assert_eq!(st, 201, "{v}");

    // The thief's manifest names the owner's bytes; its body is empty, then wrong.
    let claim = thief.segment_over(now, now + 10_000, &bytes);
    let (st, v) = send(claim.clone(), Vec::new()).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("size_mismatch")),
        "{v}"
    );
    let mut other = bytes.clone();
    other[0] ^= 1;
    let (st, v) = send(claim.clone(), other).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("hash_mismatch")),
        "{v}"
    );
    assert_eq!(
        s.continuity("cam-thief", "").await.links,
        0,
        "nothing stored"
    );

    // Sending the very bytes is the only way in (two cameras can record the same bytes
    // only by having them), and a retry of that link is answered without reading again.
    let (st, v) = send(claim.clone(), bytes.clone()).await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = send(claim, Vec::new()).await;
    assert_eq!((st, v["stored"].as_str()), (200, Some("existing")), "{v}");
    assert_eq!(s.continuity("cam-owner", "").await.links, 1);
}
