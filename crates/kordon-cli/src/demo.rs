//! `kordon demo`: the core formats end to end on the local disk, without a server.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use kordon_core::chain::{ChainOptions, verify_chain};
use kordon_core::checkpoint::Checkpoint;
use kordon_core::cosignature::cosign;
use kordon_core::hash::sha256;
use kordon_core::link::{Attestation, Event, EventKind, Link, LinkBody, Segment, genesis};
use kordon_core::merkle::{MemoryHashes, inclusion_proof};
use kordon_core::note::{Note, SignerKey};
use kordon_core::policy::Policy;
use kordon_core::time::Timestamp;
use kordon_core::tlog_proof::TlogProof;

fn random_seed() -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(seed)
}

/// Writes a file that only its owner can read (private keys).
fn write_secret(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// A simulated camera that signs the links of its chain.
struct Camera<'a> {
    device: &'a str,
    key: &'a SignerKey,
    links: Vec<Link>,
}

impl Camera<'_> {
    fn prev(&self) -> kordon_core::Hash {
        self.links
            .last()
            .map_or_else(|| genesis(self.device), Link::hash)
    }

    fn event(&mut self, t: i64, kind: EventKind, detail: &str) -> Result<()> {
        let body = LinkBody::Event(Event {
            device: self.device.into(),
            seq: self.links.len() as u64,
            time: Timestamp(t),
            kind,
            detail: detail.into(),
            prev: self.prev(),
        });
        self.links.push(Link::sign(body, self.key)?);
        Ok(())
    }

    fn segment(&mut self, t: i64, len_ms: i64) -> Result<()> {
        let video = format!("demo video bytes {} {t}", self.links.len()).into_bytes();
        let body = LinkBody::Segment(Segment {
            device: self.device.into(),
            seq: self.links.len() as u64,
            start: Timestamp(t),
            end: Timestamp(t + len_ms),
            size: video.len() as u64,
            sha256: sha256(&video),
            night: false,
            attested: Attestation::Device,
            prev: self.prev(),
        });
        self.links.push(Link::sign(body, self.key)?);
        Ok(())
    }
}

pub(crate) fn demo(data: &Path) -> Result<()> {
    let run = data.join(format!("demo-{}", std::process::id()));
    fs::create_dir_all(run.join("links")).with_context(|| format!("creating {}", run.display()))?;
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis(),
    )?;

    let device = "cam-demo-0001";
    let cam = SignerKey::ed25519_from_seed(device, random_seed()?)?;
    let log = SignerKey::ed25519_from_seed("kordon.local/demo", random_seed()?)?;
    let witness = SignerKey::cosigner_from_seed("witness.local/demo", random_seed()?)?;
    for (name, key) in [("camera", &cam), ("log", &log), ("witness", &witness)] {
        write_secret(&run.join(format!("{name}.key")), &key.to_key_string())?;
        fs::write(
            run.join(format!("{name}.pub")),
            format!("{}\n", key.verifier()),
        )?;
    }

    // A short shift: power on, record start, six 10-second segments, a stop by the wearer,
    // a minute later two more segments, power off.
    let mut camera = Camera {
        device,
        key: &cam,
        links: Vec::new(),
    };
    let mut t = now_ms - 3 * 60_000;
    camera.event(t, EventKind::PowerOn, "agent started")?;
    camera.event(t, EventKind::RecordStart, "shift start")?;
    for block in [6, 2] {
        for _ in 0..block {
            camera.segment(t, 10_000)?;
            t += 10_000;
        }
        if block == 6 {
            camera.event(t, EventKind::RecordStop, "wearer pressed stop")?;
            t += 60_000;
        }
    }
    camera.event(t, EventKind::PowerOff, "shift end")?;
    let links = camera.links;

    // Log them, publish a checkpoint, have the witness cosign it.
    let mut tree = MemoryHashes::new();
    for l in &links {
        fs::write(
            run.join(format!("links/{:04}.note", l.body().seq())),
            l.bytes(),
        )?;
        tree.push_entry(l.bytes());
    }
    let cp = Checkpoint {
        origin: log.verifier().name().into(),
        size: tree.size(),
        root: tree.root(),
        extensions: vec![],
    };
    let mut note = Note::new(&cp.to_text())?;
    note.sign(&log)?;
    note.push_signature(cosign(
        &witness,
        &cp.to_text(),
        u64::try_from(now_ms / 1000)?,
    )?)?;
    fs::write(run.join("checkpoint"), note.to_bytes())?;
    let policy_text = format!(
        "# Trust policy for this demo log\nlog {}\nwitness demo-witness {}\nquorum demo-witness\n",
        log.verifier(),
        witness.verifier()
    );
    fs::write(run.join("policy.txt"), &policy_text)?;

    // Verify everything back from disk, as an outsider would.
    let policy = Policy::parse(&policy_text)?;
    let mut raw = Vec::new();
    for l in &links {
        let seq = l.body().seq();
        let proof = TlogProof {
            extra: None,
            index: seq,
            path: inclusion_proof(&tree, seq, tree.size())?,
            checkpoint: note.to_bytes(),
        };
        let path = run.join(format!("links/{seq:04}.tlog-proof"));
        fs::write(&path, proof.to_bytes())?;
        let entry = fs::read(run.join(format!("links/{seq:04}.note")))?;
        TlogProof::parse(&fs::read(&path)?)?
            .verify(&entry, &policy)
            .with_context(|| format!("proof of link {seq}"))?;
        raw.push(entry);
    }
    let report = verify_chain(device, cam.verifier(), &raw, &ChainOptions::default());
    if !report.is_clean() {
        bail!("demo chain does not hold: {:?}", report.problems);
    }

    println!(
        "kordon demo: {} signed links of camera {device}",
        links.len()
    );
    println!(
        "  chain verified: head seq {}, no gaps, no broken links",
        report.head.unwrap_or(0)
    );
    println!("  log: {} entries, root {}", cp.size, cp.root);
    println!(
        "  checkpoint signed by {} and cosigned by {}",
        log.verifier().name(),
        witness.verifier().name()
    );
    println!(
        "  {} inclusion proofs (C2SP tlog-proof) verified against policy.txt",
        links.len()
    );
    println!("look at: {}", run.display());
    println!("  links/0002.note       a signed segment manifest (kordon.segment/v1)");
    println!("  links/0008.note       the wearer's stop event (kordon.event/v1)");
    println!("  links/0002.tlog-proof its inclusion proof; checkpoint; policy.txt");
    Ok(())
}
