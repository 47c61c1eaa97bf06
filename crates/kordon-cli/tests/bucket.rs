//! A crossing point whose segments and log live in an S3 bucket with Object Lock
//! (moto_server on 127.0.0.1, started and stopped here): `kordon demo` records into it,
//! the server mirrors every tile and its checkpoint there, and an auditor checks the
//! whole log and every segment from the bucket alone — finding exactly what the server's
//! own audit finds, and a tile replaced in the bucket.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{demo, fails, run, serve};
use kordon_store::blob::testing::Moto;

#[test]
fn the_log_and_the_footage_are_auditable_from_the_bucket_alone() {
    let moto = Moto::start();
    let s3 = moto.settings("kordon-ua-kyiv-01");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(kordon_store::blob::create_bucket(&s3))
        .expect("bucket");
    let env = kordon_store::blob::testing::server_env(&s3, 600);
    let kordon = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kordon"));
        c.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        c
    };

    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf8");
    demo(d, 4, &env);
    let local = std::fs::read_dir(data.join("blobs/sha256")).map_or(0, |r| r.count());
    assert_eq!(local, 0, "no segment in the local folder");

    // Serve it; the mirror catches up with the published checkpoint.
    let (_server, url) = serve(d, &env);
    let get = |u: String| -> Option<String> {
        rt.block_on(async {
            let r = reqwest::get(u).await.ok()?;
            r.status().is_success().then_some(())?;
            r.text().await.ok()
        })
    };
    let served = get(format!("{url}/log/checkpoint")).expect("checkpoint");
    let mirrored = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        let bucket = rt.block_on(async {
            let b = kordon_store::blob::S3BlobStore::open(
                s3.clone(),
                dir.path().join("spool-check"),
                0,
            )
            .await
            .ok()?;
            b.get_file("log/checkpoint").await.ok().flatten()
        });
        bucket.is_some_and(|b| b.as_ref() == served.as_bytes())
    });
    assert!(mirrored, "the bucket holds the served checkpoint");
    let key = get(format!("{url}/log/verifier-key")).expect("key");
    let key = key.trim();

    let (code_server, by_server) =
        run(kordon().args(["log", "verify", "--server", &url, "--data", d]));
    let (code_bucket, by_bucket) =
        run(kordon().args(["log", "verify", "--bucket", "--log-key", key]));
    assert!(by_bucket.contains("(from the bucket)"), "{by_bucket}");
    assert_eq!(
        (code_bucket, fails(&by_bucket)),
        (code_server, fails(&by_server)),
        "the bucket's audit finds exactly what the server's does:\n{by_bucket}\n---\n{by_server}"
    );
    assert!(
        !fails(&by_bucket).is_empty(),
        "the demo's injected faults are found: {by_bucket}"
    );

    // Someone with the bucket's credentials writes a new version of a tile: the audit from
    // the bucket says so (and the locked original version is still there).
    rt.block_on(async {
        use object_store::ObjectStore as _;
        let raw = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&s3.endpoint)
            .with_bucket_name(&s3.bucket)
            .with_region(&s3.region)
            .with_access_key_id(&s3.access_key_id)
            .with_secret_access_key(&s3.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_allow_http(true)
                    .with_default_headers(
                        [(
                            reqwest::header::HeaderName::from_static(
                                "x-amz-sdk-checksum-algorithm",
                            ),
                            reqwest::header::HeaderValue::from_static("SHA256"),
                        )]
                        .into_iter()
                        .collect(),
                    ),
            )
            .build()
            .expect("raw");
        let tile = object_store::path::Path::from("log/tile/0/000.p/".to_owned());
        let listed = raw
            .list_with_delimiter(Some(&tile))
            .await
            .expect("list tiles");
        // The widest partial tile is the one of the current tree.
        let first = listed
            .objects
            .iter()
            .max_by_key(|o| o.size)
            .expect("a partial hash tile");
        raw.put_opts(
            &first.location,
            object_store::PutPayload::from(vec![0u8; usize::try_from(first.size).expect("size")]),
            object_store::PutOptions::default(),
        )
        .await
        .expect("a new version can be written");
    });
    let (code, out) =
        run(kordon().args(["log", "verify", "--bucket", "--log-key", key, "--no-blobs"]));
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("does not match the hashes of the entries"),
        "{out}"
    );
}
