//! `GET /v1/users` answers a page at a time, by name, and the pages join up to everyone
//! (the national service has thousands of accounts; no request reads them all).

mod common;

use common::Server;
use kordon_api::users::UserList;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_listed_a_page_at_a_time() {
    let s = Server::start().await;
    let mut made: Vec<String> = Vec::new();
    for i in 0..7 {
        let name = format!("officer{i:02}");
        let (st, v) = s
            .json(s.http.post(format!("{}/v1/users", s.url)).json(&json!({
                "name": name, "role": "officer", "officer": format!("UA-{i}"),
                "password": "a long password here", "totp": false,
            })))
            .await;
        assert_eq!(st, 201, "{v}");
        made.push(name);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = after
            .as_ref()
            .map_or(String::new(), |a| format!("&after={a}"));
        let (st, v) = s
            .json(s.http.get(format!("{}/v1/users?limit=3{q}", s.url)))
            .await;
        assert_eq!(st, 200, "{v}");
        let list: UserList = serde_json::from_value(v).expect("list");
        assert!(list.users.len() <= 3, "a page holds at most the limit");
        pages += 1;
        seen.extend(list.users.into_iter().map(|u| u.name));
        match list.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let mut want = made.clone();
    want.extend(
        seen.iter()
            .filter(|n| !made.contains(n))
            .cloned()
            .collect::<Vec<_>>(),
    );
    want.sort();
    assert_eq!(seen, want, "every user once, by name");
    assert!(pages >= 3, "7 officers in pages of 3: {pages} pages");
    let (st, v) = s
        .json(s.http.get(format!("{}/v1/users?limit=0&bogus=1", s.url)))
        .await;
    assert_eq!((st, v["error"].as_str()), (400, Some("bad_query")), "{v}");
}
