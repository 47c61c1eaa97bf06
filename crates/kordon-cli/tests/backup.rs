//! `kordon backup` while the server runs, the check that recomputes the log root, tamper
//! cases (a tile, a database row, a missing file), and `kordon restore` into an empty
//! folder — refused over an existing database or from a backup that does not hold —
//! after which the restored server serves the same log.

mod common;

use std::path::Path;

use common::{demo, fails, kordon, serve};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

/// A forger who also rewrites `backup.json` so that the file hashes agree.
fn relist(backup: &Path, file: &str) {
    use sha2::Digest as _;
    let bytes = std::fs::read(backup.join(file)).expect("file");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("backup.json")).expect("manifest"))
            .expect("json");
    m["files"][file] = hex::encode(sha2::Sha256::digest(&bytes)).into();
    std::fs::write(backup.join("backup.json"), m.to_string()).expect("write");
}

#[test]
fn backup_while_serving_check_tamper_and_restore() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    demo(d, 3, &[]);

    // Online: the server keeps running while the backup is taken.
    let (server, url) = serve(d, &[]);
    let (code, audit_before) = kordon(&["log", "verify", "--server", &url, "--data", d]);
    let backup = dir.path().join("backup");
    let b = backup.to_str().expect("utf8");
    let (code_b, out) = kordon(&["backup", "--data", d, "--out", b]);
    assert_eq!(code_b, 0, "{out}");
    assert!(
        out.contains("the log root recomputed from the tiles matches"),
        "{out}"
    );
    let (c, out) = kordon(&["backup", "--data", d, "--out", b]);
    assert_eq!(c, 1, "a backup never writes over another: {out}");
    assert!(out.contains("is not empty"), "{out}");
    drop(server);

    // Tampering, each on its own copy.
    let tampered = |name: &str, edit: &dyn Fn(&Path)| -> (i32, String) {
        let t = dir.path().join(name);
        copy_dir(&backup, &t);
        edit(&t);
        kordon(&["backup", "--check", t.to_str().expect("utf8")])
    };
    let bundle = "log/tile/entries/000.p";
    let (c, out) = tampered("tile", &|t| {
        let f = std::fs::read_dir(t.join(bundle))
            .expect("bundle dir")
            .next()
            .expect("a partial bundle")
            .expect("entry")
            .path();
        let mut bytes = std::fs::read(&f).expect("bundle");
        let at = bytes.len() / 2;
        bytes[at] ^= 0x20;
        std::fs::write(&f, bytes).expect("write");
    });
    assert_eq!(c, 2, "{out}");
    let f = fails(&out);
    assert!(
        f.iter()
            .any(|l| l.contains(bundle) && l.contains("the backup listed")),
        "{out}"
    );
    assert!(
        f.iter().any(|l| l.contains("entries give root")) || f.iter().any(|l| l.contains("entry ")),
        "the log check itself catches it too: {out}"
    );

    // One byte of the database changed where `needle` last occurs, `at` bytes in.
    let flip = |needle: &'static [u8], at: usize, to: u8| {
        move |t: &Path| {
            let db = t.join("kordon.db");
            let mut bytes = std::fs::read(&db).expect("db");
            let found = bytes
                .windows(needle.len())
                .rposition(|w| w == needle)
                .expect("the text to change");
            bytes[found + at] = to;
            std::fs::write(&db, bytes).expect("write");
            relist(t, "kordon.db");
        }
    };
    let (c, out) = tampered("row", &flip(b"\ndetail: officer U", 10, b'O'));
    assert_eq!(c, 2, "{out}");
    assert_eq!(fails(&out).len(), 1, "{out}");
    assert!(
        out.contains("database row at log index")
            && out.contains("its private part is not what the log's entry commits to"),
        "the assignment's detail is in the private part the entry commits to: {out}"
    );

    let (c, out) = tampered("body", &flip(b"\naction: assign", 9, b'A'));
    assert_eq!(c, 2, "{out}");
    assert!(
        out.contains("database row at log index") && out.contains("differs from the log's entry"),
        "{out}"
    );

    let (c, out) = tampered("missing", &|t| {
        std::fs::remove_file(t.join("log/checkpoint")).expect("rm");
    });
    assert_ne!(c, 0, "{out}");
    assert!(out.contains("log/checkpoint"), "{out}");

    // Restore: never over a database, never from a backup that does not hold.
    let (c, out) = kordon(&["restore", b, "--data", d]);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("already holds a database"), "{out}");
    let bad = dir.path().join("row");
    let fresh = dir.path().join("fresh");
    let (c, out) = kordon(&[
        "restore",
        bad.to_str().expect("utf8"),
        "--data",
        fresh.to_str().expect("utf8"),
    ]);
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("nothing was restored"), "{out}");
    assert!(!fresh.join("kordon.db").exists());

    let restored = dir.path().join("restored");
    let r = restored.to_str().expect("utf8");
    let (c, out) = kordon(&["restore", b, "--data", r]);
    assert_eq!(c, 0, "{out}");
    std::os::unix::fs::symlink(data.join("blobs"), restored.join("blobs")).expect("blobs");
    let (_server, url) = serve(r, &[]);
    let served = get_text(&format!("{url}/log/checkpoint"));
    let backed_up = std::fs::read_to_string(backup.join("log/checkpoint")).expect("cp");
    assert_eq!(
        served.lines().take(3).collect::<Vec<_>>(),
        backed_up.lines().take(3).collect::<Vec<_>>(),
        "the restored server serves the backed-up tree"
    );
    let (code_after, audit_after) = kordon(&["log", "verify", "--server", &url, "--data", r]);
    assert_eq!(
        (code_after, fails(&audit_after)),
        (code, fails(&audit_before)),
        "the restored log audits exactly as the original did"
    );
}

/// A GET with a tiny runtime (the test is synchronous).
fn get_text(url: &str) -> String {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            reqwest::get(url)
                .await
                .expect("get")
                .text()
                .await
                .expect("text")
        })
}

/// `kordon` with `KORDON_DATABASE_URL` set.
fn kordon_pg(url: &str, args: &[&str]) -> (i32, String) {
    common::run(
        std::process::Command::new(env!("CARGO_BIN_EXE_kordon"))
            .args(args)
            .env("KORDON_DATABASE_URL", url),
    )
}

#[test]
fn postgres_backup_is_a_checked_sqlite_copy_and_restores_into_an_empty_database() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (pg, pg_restored) = rt.block_on(async {
        (
            kordon_store::meta::testing::fresh_database().await,
            kordon_store::meta::testing::fresh_database().await,
        )
    });
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    let env = [("KORDON_DATABASE_URL", pg.clone())];
    demo(d, 2, &env);
    assert!(
        !data.join("kordon.db").exists(),
        "the metadata is in PostgreSQL"
    );
    let (server, url) = serve(d, &env);
    let (code, audit_before) = kordon(&["log", "verify", "--server", &url, "--data", d]);

    let backup = dir.path().join("backup");
    let b = backup.to_str().expect("utf8");
    let (c, out) = kordon_pg(&pg, &["backup", "--data", d, "--out", b]);
    assert_eq!(c, 0, "{out}");
    assert!(
        out.contains("the database's logged rows are the log's entries"),
        "{out}"
    );
    drop(server);

    // Into a PostgreSQL database that holds data: refused, nothing written.
    let other = dir.path().join("other");
    let (c, out) = kordon_pg(
        &pg,
        &["restore", b, "--data", other.to_str().expect("utf8")],
    );
    assert_eq!(c, 1, "{out}");
    assert!(out.contains("never merges"), "{out}");
    assert!(!other.join("keys/log.key").exists());

    // Into an empty one: the restored server audits exactly as the original did.
    let restored = dir.path().join("restored");
    let r = restored.to_str().expect("utf8");
    let (c, out) = kordon_pg(&pg_restored, &["restore", b, "--data", r]);
    assert_eq!(c, 0, "{out}");
    assert!(!restored.join("kordon.db").exists(), "{out}");
    std::os::unix::fs::symlink(data.join("blobs"), restored.join("blobs")).expect("blobs");
    let (_server, url) = serve(r, &[("KORDON_DATABASE_URL", pg_restored)]);
    let (code_after, audit_after) = kordon(&["log", "verify", "--server", &url, "--data", r]);
    assert_eq!(
        (code_after, fails(&audit_after)),
        (code, fails(&audit_before)),
        "{audit_after}"
    );
}
