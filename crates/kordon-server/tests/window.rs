//! Coverage read from the links of an inspection's window (`Meta::links_around` and the
//! chain state kept at ingest) equals coverage computed from the whole chain verified from
//! scratch: random chains with silences, stops and lost links, uploaded in random order,
//! and inspections anywhere in them and after them — computed by the background job
//! (`jobs::coverage`) before any read asks.

mod common;

use std::collections::HashMap;

use common::Server;
use kordon_analytics::coverage::{Assignment, CameraTimeline, coverage};
use kordon_analytics::span::Span;
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::link::{EventKind, Link};
use kordon_core::note::VerifierKey;
use kordon_core::time::Timestamp;
use kordon_store::meta::testing::{Rng, TestCamera};
use serde_json::json;

const MIN: i64 = 60_000;

/// A link and, for a segment, its bytes.
type Upload = (Link, Option<Vec<u8>>);

fn ms(rfc3339: &str) -> i64 {
    Timestamp::parse(rfc3339).expect("time").0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_from_a_window_equals_coverage_from_the_whole_chain() {
    let s = Server::start().await;
    let mut rng = Rng(7);
    for case in 0..10 {
        let (device, officer) = (format!("cam-w{case}"), format!("UA-W{case}"));
        let mut cam = TestCamera::new(&device);
        s.enroll(&cam).await;
        let t0 = kordon_store::now_ms() / MIN * MIN - 2 * 86_400_000;
        let (st, v) = s
            .json(
                s.http
                    .post(format!("{}/v1/assignments", s.url))
                    .json(&json!({
                        "device": device, "officer": officer, "crossing_point": "UA-KYIV-01",
                        "at": Timestamp(t0 - 60 * MIN).to_string(),
                    })),
            )
            .await;
        assert_eq!(st, 201, "{v}");

        // The chain: 10 s segments, now and then a stop (and silence), a silence with no
        // event, a night segment.
        let mut t = t0;
        let mut links: Vec<Upload> = Vec::new();
        for _ in 0..20 + rng.below(40) {
            match rng.below(10) {
                0 => {
                    links.push((cam.event(EventKind::RecordStop, t), None));
                    t += 2 * MIN;
                    continue;
                }
                1 => t += MIN,
                _ => {}
            }
            let bytes = format!("{device} segment at {t}").into_bytes();
            links.push((cam.segment_over(t, t + 10_000, &bytes), Some(bytes)));
            t += 10_000;
        }
        // Uploaded in random order; about one in eight is lost.
        let mut arrivals: Vec<(u64, &Upload)> =
            links.iter().map(|l| (rng.below(1000), l)).collect();
        arrivals.sort_by_key(|a| a.0);
        let mut uploaded = Vec::new();
        for (_, (link, bytes)) in arrivals {
            if rng.below(8) == 0 {
                continue;
            }
            let body = bytes.clone().map(|b| {
                let len = b.len() as u64;
                (b.into(), len)
            });
            let res = kordon_agent::api::link_request(&s.http, &s.url, link, body)
                .send()
                .await
                .expect("upload");
            assert_eq!(res.status(), 201);
            uploaded.push(link.bytes().to_vec());
        }

        // Inspections anywhere in the chain's time and after its end.
        let mut spans = Vec::new();
        let records: Vec<_> = (0..6)
            .map(|i| {
                let start = t0 + rng.below((t - t0 + 5 * MIN) as u64) as i64;
                let span = Span::new(start, start + MIN + rng.below(9 * MIN as u64) as i64);
                spans.push(span);
                json!({
                    "inspection_id": format!("I-{case}-{i}"),
                    "crossing_point": "UA-KYIV-01", "lane": "1", "officers": officer,
                    "start": Timestamp(span.start).to_string(),
                    "end": Timestamp(span.end).to_string(),
                    "vehicle_plate": "AA1234BB", "declaration_no": "D-1",
                    "kind": "vehicle", "outcome": "cleared",
                })
            })
            .collect();
        s.import(&records).await;
        // The background job computes and stores them before anything reads them.
        let meta = kordon_store::meta::Meta::open_sqlite(&s.data.join("kordon.db"))
            .await
            .expect("meta");
        let mut waited = 0;
        while !meta.stale_coverage("", 10).await.expect("stale").is_empty() {
            assert!(waited < 300, "coverage still stale after 30 s");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            waited += 1;
        }

        // From scratch: the whole chain verified, its timeline, the same coverage.
        let key = VerifierKey::parse(&cam.vkey()).expect("key");
        let whole = CameraTimeline::from_chain(&verify_chain(
            &device,
            &key,
            &uploaded,
            &ChainOptions::default(),
        ));
        let cameras = HashMap::from([(device.clone(), whole)]);
        let assignment = Assignment {
            camera: device.clone(),
            officer: officer.clone(),
            span: Span::new(t0 - 60 * MIN, i64::MAX),
        };
        for (i, span) in spans.iter().enumerate() {
            let want = coverage(
                *span,
                std::slice::from_ref(&officer),
                std::slice::from_ref(&assignment),
                &cameras,
            );
            let (st, got) = s
                .json(
                    s.http
                        .get(format!("{}/v1/inspections/I-{case}-{i}/coverage", s.url)),
                )
                .await;
            assert_eq!(st, 200, "{got}");
            let got: kordon_api::inspections::InspectionCoverage =
                serde_json::from_value(got).expect("coverage");
            let gaps: Vec<(i64, i64, String)> = got
                .uncovered
                .iter()
                .map(|u| (ms(&u.from), ms(&u.to), u.class.clone()))
                .collect();
            let want_gaps: Vec<(i64, i64, String)> = want
                .uncovered
                .iter()
                .map(|(s, c)| (s.start, s.end, c.as_str().to_owned()))
                .collect();
            assert_eq!(gaps, want_gaps, "case {case} inspection {i}");
            assert_eq!(
                got.covered_seconds,
                want.covered_ms as f64 / 1000.0,
                "case {case} inspection {i}"
            );
            assert_eq!(
                got.stops.len(),
                want.stops.len(),
                "case {case} inspection {i}"
            );
        }
    }
}
