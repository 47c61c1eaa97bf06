//! The S3 blob store against a real S3-compatible server (moto_server, which enforces
//! Object Lock), started on 127.0.0.1 for this test and stopped after it: create-only
//! writes, checked uploads, range reads, COMPLIANCE retention that refuses deletion until
//! it expires, legal holds, a bucket without Object Lock refused, the server gone.

use std::time::Duration;

use bytes::Bytes;
use kordon_core::Hash;
use kordon_store::blob::testing::Moto;
use kordon_store::blob::{BlobError, PutOutcome, S3BlobStore, create_bucket};
use object_store::ObjectStore as _;
use sha2::{Digest as _, Sha256};

fn body(bytes: &[u8]) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
    futures_util::stream::iter(
        bytes
            .chunks(1000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    )
}

fn sha(bytes: &[u8]) -> Hash {
    Hash(Sha256::digest(bytes).into())
}

async fn read_all(store: &S3BlobStore, h: &Hash, range: Option<std::ops::Range<u64>>) -> Vec<u8> {
    use futures_util::StreamExt as _;
    let mut r = store.read(h, range).await.expect("read").expect("stored");
    let mut out = Vec::new();
    while let Some(c) = r.body.next().await {
        out.extend_from_slice(&c.expect("chunk"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_with_object_lock() {
    let m = Moto::start();
    let dir = tempfile::tempdir().expect("tmp");
    let s = m.settings("kordon-evidence");
    create_bucket(&s).await.expect("bucket");

    // A bucket without Object Lock is refused, by name.
    let plain = m.settings("no-lock");
    let res = reqwest::Client::new()
        .put(format!("{}/no-lock", plain.endpoint))
        .send()
        .await
        .expect("create plain bucket");
    assert!(res.status().is_success(), "{}", res.status());
    let err = S3BlobStore::open(plain, dir.path().join("spool-plain"), 60)
        .await
        .expect_err("no Object Lock");
    assert!(err.to_string().contains("no Object Lock"), "{err}");

    let store = S3BlobStore::open(s.clone(), dir.path().join("spool"), 2)
        .await
        .expect("open");
    let video: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let h = sha(&video);
    assert_eq!(
        store
            .put_stream(video.len() as u64, h, body(&video))
            .await
            .expect("put"),
        PutOutcome::Stored
    );
    assert!(store.contains(&h).await);
    assert_eq!(
        store.size(&h).await.expect("size"),
        Some(video.len() as u64)
    );
    assert_eq!(read_all(&store, &h, None).await, video);
    assert_eq!(
        read_all(&store, &h, Some(1000..1010)).await,
        &video[1000..1010]
    );
    assert!(store.verify(&h).await.expect("verify"));
    assert_eq!(
        store
            .put_stream(video.len() as u64, h, body(&video))
            .await
            .expect("again"),
        PutOutcome::AlreadyStored
    );

    // Bytes that do not match the manifest are not stored, and nothing is left behind.
    let mut forged = video.clone();
    forged[10] ^= 1;
    let err = store
        .put_stream(forged.len() as u64, sha(&video[..100]), body(&forged))
        .await
        .expect_err("mismatch");
    assert!(matches!(err, BlobError::HashMismatch { .. }), "{err}");
    assert!(!store.contains(&sha(&video[..100])).await);
    assert_eq!(
        std::fs::read_dir(dir.path().join("spool"))
            .expect("spool")
            .count(),
        0,
        "spool cleaned"
    );

    // Straight through the storage API, with the same credentials: no overwrite ...
    let raw = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&s.endpoint)
        .with_bucket_name(&s.bucket)
        .with_region(&s.region)
        .with_access_key_id(&s.access_key_id)
        .with_secret_access_key(&s.secret_access_key)
        .with_allow_http(true)
        .with_virtual_hosted_style_request(false)
        .build()
        .expect("raw client");
    let hex = h.to_hex();
    let key = object_store::path::Path::from(format!("sha256/{}/{hex}", &hex[..2]));
    let overwrite = raw
        .put_opts(
            &key,
            object_store::PutPayload::from_static(b"forged"),
            object_store::PutOptions {
                mode: object_store::PutMode::Create,
                ..Default::default()
            },
        )
        .await;
    assert!(overwrite.is_err(), "create-only overwrite refused");
    assert_eq!(read_all(&store, &h, None).await, video);
    // ... and the locked version cannot be deleted, by kordon's purge either.
    let err = store.purge(&h).await.expect_err("locked");
    assert!(matches!(err, BlobError::Locked(_)), "{err}");
    assert_eq!(read_all(&store, &h, None).await, video, "nothing lost");

    // A legal hold outlives the retention; released, the purge goes through.
    let held: Vec<u8> = b"held footage".repeat(100);
    let hh = sha(&held);
    store
        .put_stream(held.len() as u64, hh, body(&held))
        .await
        .expect("put held");
    store.legal_hold(&hh, true).await.expect("hold");
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    // Retention expired: the first one purges now.
    store.purge(&h).await.expect("purge after expiry");
    assert!(!store.contains(&h).await);
    let err = store.purge(&hh).await.expect_err("held");
    assert!(matches!(err, BlobError::Locked(_)), "{err}");
    assert!(store.contains(&hh).await);
    store.legal_hold(&hh, false).await.expect("release");
    store.purge(&hh).await.expect("purge after release");
    assert!(!store.contains(&hh).await);

    // The server gone: a clear, retryable error, and nothing left in the spool.
    drop(m);
    let other: Vec<u8> = b"late segment".repeat(50);
    let err = store
        .put_stream(other.len() as u64, sha(&other), body(&other))
        .await
        .expect_err("server down");
    assert!(matches!(err, BlobError::Store(_)), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("spool"))
            .expect("spool")
            .count(),
        0
    );
}
