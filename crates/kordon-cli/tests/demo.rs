//! `kordon demo` end to end: the real binary writes a chain, a checkpoint, proofs and a
//! policy, and an outsider's check (kordon-core only, reading the files) agrees.

use std::process::Command;

use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::note::VerifierKey;
use kordon_core::policy::Policy;
use kordon_core::tlog_proof::TlogProof;

#[test]
fn demo_writes_files_that_verify_on_their_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_kordon"))
        .args(["demo", "--data"])
        .arg(dir.path())
        .output()
        .expect("run kordon");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        stdout.contains("12 inclusion proofs (C2SP tlog-proof) verified"),
        "{stdout}"
    );

    let run = std::fs::read_dir(dir.path())
        .expect("ls")
        .next()
        .expect("one run")
        .expect("entry")
        .path();
    let policy = Policy::parse(&std::fs::read_to_string(run.join("policy.txt")).expect("policy"))
        .expect("parses");
    let cam = VerifierKey::parse(
        std::fs::read_to_string(run.join("camera.pub"))
            .expect("pub")
            .trim(),
    )
    .expect("key");
    let mut links = Vec::new();
    for seq in 0..12 {
        let entry = std::fs::read(run.join(format!("links/{seq:04}.note"))).expect("link");
        let proof = TlogProof::parse(
            &std::fs::read(run.join(format!("links/{seq:04}.tlog-proof"))).expect("proof"),
        )
        .expect("parses");
        proof.verify(&entry, &policy).expect("proof holds");
        links.push(entry);
    }
    let report = verify_chain("cam-demo-0001", &cam, &links, &ChainOptions::default());
    assert!(report.is_clean(), "{:?}", report.problems);
    // The stop event explains the one-minute pause: there are 8 segments and no gap.
    assert_eq!(report.links.len(), 12);

    // Private keys are readable by their owner only.
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(run.join("camera.key"))
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "camera.key is readable by others: {mode:o}"
    );

    // Dropping a link is seen.
    links.remove(5);
    let report = verify_chain("cam-demo-0001", &cam, &links, &ChainOptions::default());
    assert!(!report.is_clean());
}
