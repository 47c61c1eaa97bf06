//! The chain state the store keeps as links arrive equals the chain verified from
//! scratch: for random chains (segments, stops, silences, clocks running back) arriving
//! in random order, with losses, duplicates and forks, on SQLite and on PostgreSQL.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use kordon_core::chain::{ChainOptions, ChainProblem, verify_chain};
use kordon_core::hash::sha256;
use kordon_core::link::{EventKind, Link, LinkBody};
use kordon_store::meta::testing::TestCamera;
use kordon_store::meta::{InsertOutcome, Meta, NewLink};
use proptest::collection::vec;
use proptest::prelude::*;

const T0: i64 = 1_795_867_200_000;

/// One generated case.
#[derive(Debug, Clone)]
struct Case {
    /// Per link: 0–5 a segment, 6 a segment after a minute of silence, 7 a stop, 8 an
    /// event that does not stop recording, 9 a segment starting before the last ended.
    kinds: Vec<u8>,
    /// Arrival keys (sorted by), or in order when `None`.
    order: Option<Vec<u32>>,
    /// A link is lost when its value is 0.
    lost: Vec<u8>,
    /// `(which link, how)`: 0 a twin arriving after it, 1 a twin with a wrong `prev`
    /// arriving before it.
    forks: Vec<(u8, u8)>,
    /// Links sent twice.
    dups: Vec<u8>,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        vec(0u8..10, 1..40),
        proptest::option::of(vec(any::<u32>(), 40)),
        vec(0u8..8, 40),
        vec((any::<u8>(), 0u8..2), 0..4),
        vec(any::<u8>(), 0..5),
    )
        .prop_map(|(kinds, order, lost, forks, dups)| Case {
            kinds,
            order,
            lost,
            forks,
            dups,
        })
}

/// The true chain of a case.
fn chain(cam: &mut TestCamera, kinds: &[u8]) -> Vec<Link> {
    let mut t = T0;
    kinds
        .iter()
        .map(|k| match k {
            7 => cam.event(EventKind::RecordStop, t),
            8 => cam.event(EventKind::NightOn, t),
            _ => {
                let start = match k {
                    6 => t + 60_000,
                    9 => t - 5_000,
                    _ => t,
                };
                t = start + 10_000;
                cam.segment(start, t)
            }
        })
        .collect()
}

/// Sends a case's links to the store; answers the twins it refused.
async fn run(m: &Meta, device: &str, case: &Case) -> (TestCamera, Vec<Link>) {
    let mut cam = TestCamera::new(device);
    let truth = chain(&mut cam, &case.kinds);
    let mut arrivals: Vec<(u64, Link)> = Vec::new();
    for (i, l) in truth.iter().enumerate() {
        if case.lost[i] != 0 {
            let key = case
                .order
                .as_ref()
                .map_or(2 * i as u64, |o| u64::from(o[i]));
            arrivals.push((key, l.clone()));
        }
    }
    for &(which, how) in &case.forks {
        let l = &truth[usize::from(which) % truth.len()];
        let b = l.body();
        let seq = b.seq();
        let (twin, key) = match how {
            0 => (
                cam.event_with(seq, b.prev(), EventKind::TamperAlarm, b.start().0 + 1),
                u64::MAX,
            ),
            _ => (
                cam.segment_with(seq, sha256(b"elsewhere"), b.start().0, b.end().0 + 1),
                0,
            ),
        };
        arrivals.push((key, twin));
    }
    arrivals.sort_by_key(|a| a.0);
    for &d in &case.dups {
        if !arrivals.is_empty() {
            let again = arrivals[usize::from(d) % arrivals.len()].clone();
            arrivals.push(again);
        }
    }
    let mut twins = Vec::new();
    for (_, l) in &arrivals {
        let new = NewLink {
            link: l,
            log_floor: 0,
            chain: ChainOptions::default(),
        };
        match m.insert_link(&new, T0).await.expect("insert") {
            InsertOutcome::Inserted | InsertOutcome::Duplicate(_) => {}
            InsertOutcome::Conflict(_) => {
                let b = l.body();
                m.record_equivocation(device, b.seq(), &l.hash().to_hex(), l.bytes(), T0)
                    .await
                    .expect("twin");
                if !twins.iter().any(|t: &Link| t.hash() == l.hash()) {
                    twins.push(l.clone());
                }
            }
        }
    }
    (cam, twins)
}

fn sorted(mut p: Vec<ChainProblem>) -> Vec<String> {
    let mut s: Vec<String> = p.drain(..).map(|p| format!("{p:?}")).collect();
    s.sort();
    s
}

async fn state_equals_recomputation(m: &Meta, device: &str, case: &Case) {
    let (cam, twins) = run(m, device, case).await;
    let mut raw: Vec<Vec<u8>> = m
        .chain_page(device, None, 10_000)
        .await
        .expect("links")
        .into_iter()
        .map(|p| p.1)
        .collect();
    raw.extend(twins.iter().map(|t| t.bytes().to_vec()));
    let key = kordon_core::note::VerifierKey::parse(&cam.vkey()).expect("key");
    let report = verify_chain(device, &key, &raw, &ChainOptions::default());
    let state = m
        .chain_state(device)
        .await
        .expect("state")
        .unwrap_or_default(); // none when every link was lost
    let stored = m
        .chain_problems(device, None, 10_000)
        .await
        .expect("problems");
    // Read again a page of 1, 2 and 3 at a time: the pages join up to the whole list, even
    // where one link's arrival made several problems (one anchor).
    for size in 1..=3 {
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = m
                .chain_problems(device, after.as_ref(), size)
                .await
                .expect("page");
            let Some(last) = page.last() else { break };
            after = kordon_store::meta::ProblemCursor::after(last);
            let cursor = after.as_ref().expect("anchored").to_string();
            assert_eq!(cursor.parse().ok(), after, "cursor {cursor} reads back");
            paged.extend(page);
        }
        assert_eq!(paged, stored, "pages of {size}");
    }
    assert_eq!(sorted(stored), sorted(report.problems.clone()));
    assert_eq!(state.head, report.head, "head");
    assert_eq!(state.problems as usize, report.problems.len());
    assert_eq!(state.links as usize, report.links.len());
    let segments: Vec<_> = report
        .links
        .iter()
        .filter_map(|l| match l.body() {
            LinkBody::Segment(s) => Some(s.end.0 - s.start.0),
            LinkBody::Event(_) => None,
        })
        .collect();
    assert_eq!(state.segments as usize, segments.len());
    assert_eq!(state.recorded_ms, segments.iter().sum::<i64>());
    if let Some(last) = report.links.last() {
        assert_eq!(state.last_seq, last.body().seq());
        let max_end = report.links.iter().map(|l| l.body().end().0).max();
        assert_eq!(Some(state.max_end_ms), max_end);
    }
}

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A store shared by the cases of one engine (each case has its own camera).
struct Env {
    rt: tokio::runtime::Runtime,
    meta: Meta,
    _dir: Option<tempfile::TempDir>,
}

impl Env {
    fn check(&self, case: &Case) {
        let device = format!("cam-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.rt
            .block_on(state_equals_recomputation(&self.meta, &device, case));
    }
}

fn sqlite() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let dir = tempfile::tempdir().expect("tmp");
        let meta = rt
            .block_on(Meta::open_sqlite(&dir.path().join("m.db")))
            .expect("open");
        Env {
            rt,
            meta,
            _dir: Some(dir),
        }
    })
}

fn postgres() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let meta = rt.block_on(async {
            let url = kordon_store::meta::testing::fresh_database().await;
            Meta::open_postgres(&url).await.expect("open")
        });
        Env {
            rt,
            meta,
            _dir: None,
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_state_equals_recomputation(case in cases()) {
        sqlite().check(&case);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn postgres_state_equals_recomputation(case in cases()) {
        postgres().check(&case);
    }
}
