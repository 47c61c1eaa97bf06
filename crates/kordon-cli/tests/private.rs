//! The data folder is its owner's alone (issue 15): the database (password hashes,
//! second-factor secrets), the keys and the footage are not readable by other users of
//! the machine — created so, and closed again at start if someone opened them up (a log
//! key others could read stops the start instead: it may be known).

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use kordon_store::meta::testing::TestCamera;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_is_private_and_made_so_again_at_start() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let at = data.to_str().expect("utf-8");
    let http = reqwest::Client::new();
    {
        let (_server, url) = common::serve(at, &[]);
        let mut cam = TestCamera::new("cam-private-01");
        common::enroll(&http, &url, &common::admin_token(&data), &cam).await;
        assert_eq!(common::upload(&http, &url, &mut cam, 0).await.0, 201);
    }
    assert_eq!(mode(&data), 0o700, "the data folder");
    assert_eq!(mode(&data.join("keys")), 0o700);
    let blobs = files(&data.join("blobs"));
    assert!(!blobs.is_empty(), "a segment is stored");
    for f in files(&data.join("keys"))
        .into_iter()
        .chain(blobs)
        .chain([data.join("kordon.db")])
    {
        assert_eq!(mode(&f) & 0o077, 0, "{} is private", f.display());
    }

    // Someone opens the folder and the database up; the next start closes them again.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(
        data.join("kordon.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    drop(common::serve(at, &[]));
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("kordon.db")), 0o600);

    // A log key others could read may be known to them: the server does not start on it.
    let key = data.join("keys/log.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let (code, out) = common::kordon(&["serve", "--data", at, "--listen", "127.0.0.1:0"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("log.key is readable by others; chmod 600 it"),
        "{out}"
    );
}
