//! Verifying an evidence package: one function per step, in the order of
//! `docs/spec/evidence-package.md` ("What a verifier checks").

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kordon_core::derive::{DERIVE_ACTION, Derivation};
use kordon_core::hash::{Hash, sha256};
use kordon_core::link::{Link, LinkBody};
use kordon_core::note::VerifierKey;
use kordon_core::package::{self, Contents};
use kordon_core::policy::Policy;
use kordon_core::timestamp::TsaChain;
use kordon_core::tlog_proof::TlogProof;

use crate::{OpenError, Outcome, Report};

use crate::archive::{MAX_PROOF, Zip, hash_members};

/// Verifies one log entry's proof in the package; answers its log index.
fn proven(z: &mut Zip, entry: &[u8], policy: &Policy) -> Result<u64, String> {
    let h = sha256(entry);
    let path = package::proof_path(&h);
    let bytes = z
        .read(&path)
        .map_err(|e| format!("its proof {path} is {e}"))?;
    let p = TlogProof::parse(&bytes).map_err(|e| format!("its proof {path} is malformed: {e}"))?;
    p.verify(entry, policy)
        .map_err(|e| format!("its proof {path} does not hold: {e}"))?;
    Ok(p.index)
}

/// What a verification is given besides the package.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// A tlog-policy obtained independently; without it the package's own `policy.txt` is
    /// used (and the report says so).
    pub policy: Option<&'a str>,
    /// The RFC 3161 authorities the caller trusts; without any, the package's time-stamps
    /// are checked against the certificates it names (and the report says so).
    pub tsa: &'a [TsaChain],
    /// Threads hashing media (at least 1).
    pub threads: usize,
    /// Also run each joined file's operation again with the `ffmpeg` on this machine and
    /// compare the bytes (`docs/spec/derived.md`).
    pub rederive: bool,
}

/// Verifies the package at `path` under `o`.
///
/// # Errors
/// [`OpenError`] when the file is not a readable zip; everything else is a line.
pub fn verify_package(path: &Path, o: &VerifyOptions) -> Result<Report, OpenError> {
    let (trusted_policy, trusted_tsa, threads) = (o.policy, o.tsa, o.threads);
    let mut z = Zip::open(path)?;
    let names: BTreeSet<String> = z.names().into_iter().collect();
    let mut v = Verification {
        r: Report {
            policy_given: trusted_policy.is_some(),
            ..Report::default()
        },
        names,
        footage: Vec::new(),
        stated: BTreeMap::new(),
    };
    // 0. The archive is one reading: no member twice, no bytes outside its directory that
    // a player reading local headers would see.
    v.structure(&mut z);
    // 1. The checkpoint satisfies the policy.
    let Some(policy) = v.policy_and_checkpoint(&mut z, trusted_policy) else {
        return Ok(v.r);
    };
    // 2. The export event is the log's and names the contents list.
    let listed = v.export_and_contents(&mut z, &policy);
    // 3. Every listed member is there with its hash and size; nothing else is.
    let files = v.members(&mut z, path, &listed, threads);
    // 4. Every custody event is the log's and proven.
    let facts = v.custody_events(&mut z, &policy);
    // 5. Every device key is enrolled in the log.
    let keys = v.device_keys(&mut z, &facts.enrolled);
    // 6. Every link is its camera's, proven, and the chains hold together;
    // 7. every segment file is what its link states (or a tombstone says it was purged).
    v.links_and_segments(&mut z, &policy, &keys, &files, &facts, &listed);
    // 8. Every derived file is the one a derivation in the log states, made from the
    // package's segments (a redacted copy: from the segments its links state).
    crate::derived::check(&mut v.r, &mut z, &files, &facts.derivations, &v.stated);
    if o.rederive {
        crate::derived::rederive(&mut v.r, &mut z, &files, &facts.derivations);
    }
    // 9. The RFC 3161 time-stamps: each over a checkpoint of this log consistent with the
    // package's, from a trusted TSA; the earliest trusted time of the footage.
    crate::timestamps::check(&mut v.r, &mut z, &v.names, &policy, trusted_tsa, &v.footage);
    Ok(v.r)
}

/// A verification under way.
struct Verification {
    r: Report,
    names: BTreeSet<String>,
    /// The footage links verified: where each is in the log and the time it states.
    footage: Vec<crate::timestamps::Logged>,
    /// The SHA-256 each verified segment link states, by its segment's path.
    stated: BTreeMap<String, Hash>,
}

/// What the custody events prove: enrolled keys per device, tombstones by subject,
/// derivations.
struct Facts {
    enrolled: BTreeMap<String, BTreeSet<String>>,
    tombstones: BTreeMap<String, String>,
    derivations: Vec<Derivation>,
}

impl Verification {
    /// Step 0: the archive's structure. A zip can be read two ways — by its central
    /// directory (this verifier) and by its local headers (many players and tools); both
    /// must give the same members.
    fn structure(&mut self, z: &mut Zip) {
        let r = &mut self.r;
        let whole = if z.archive.offset() != 0 {
            Err(format!(
                "{} bytes before the archive, outside its directory",
                z.archive.offset()
            ))
        } else {
            z.archive
                .validate_header_consistency()
                .map(|()| "one member per name, no bytes outside its directory".to_owned())
                .map_err(|e| format!("is not one consistent zip: {e} (an added or altered member a player would read instead)"))
        };
        r.check("package.zip", whole);
    }

    /// Step 1: the policy to check against, and the checkpoint under it.
    fn policy_and_checkpoint(&mut self, z: &mut Zip, trusted: Option<&str>) -> Option<Policy> {
        let r = &mut self.r;
        let own = z.read(package::POLICY).ok();
        let policy_text = match (trusted, &own) {
            (Some(p), Some(o)) if p.as_bytes() != o.as_slice() => {
                r.push(
                    Outcome::Note,
                    package::POLICY,
                    "differs from the policy you gave; yours is used",
                );
                p.to_owned()
            }
            (Some(p), _) => p.to_owned(),
            (None, Some(o)) => {
                r.push(Outcome::Note, package::POLICY, "no --policy given: the signatures were checked against the keys the package itself names, so nothing was checked about WHO signed (give the policy you trust: --policy FILE)");
                String::from_utf8_lossy(o).into_owned()
            }
            (None, None) => {
                r.push(
                    Outcome::Fail,
                    package::POLICY,
                    "missing, and no --policy given: nothing to check signatures against",
                );
                return None;
            }
        };
        let policy = match Policy::parse(&policy_text) {
            Ok(p) => p,
            Err(e) => {
                r.push(
                    Outcome::Fail,
                    package::POLICY,
                    format!("not a valid tlog-policy: {e}"),
                );
                return None;
            }
        };
        let checkpoint = z.read(package::CHECKPOINT);
        r.check(
            package::CHECKPOINT,
            checkpoint
                .as_ref()
                .map_err(|e| format!("is {e}"))
                .and_then(|c| {
                    policy
                        .check(c)
                        .map_err(|e| format!("does not satisfy the policy: {e}"))
                })
                .map(|s| {
                    format!(
                        "signed by the log, witness quorum met, tree size {}",
                        s.checkpoint.size
                    )
                }),
        );
        Some(policy)
    }

    /// Step 2: the export event (signed, proven, naming the contents list's digest) and
    /// the contents list; answers the listed members.
    fn export_and_contents(
        &mut self,
        z: &mut Zip,
        policy: &Policy,
    ) -> BTreeMap<String, (Hash, u64)> {
        let r = &mut self.r;
        let export = z.read(package::EXPORT_EVENT).and_then(|b| {
            let (e, _) = crate::logged_event(&b, policy.logs(), None)?;
            if e.action() != package::EXPORT_ACTION {
                return Err(format!("is a {:?} event, not an export", e.action()));
            }
            let (case, digest) = e
                .public_detail()
                .and_then(package::contents_of_export)
                .ok_or_else(|| "does not name a contents list".to_owned())?;
            let index = proven(z, &b, policy)?;
            Ok((case.to_owned(), digest, index, e.time()))
        });
        let contents = z.read(package::CONTENTS).and_then(|b| {
            let t = String::from_utf8(b).map_err(|_| "is not UTF-8".to_owned())?;
            Contents::parse(&t).map_err(|e| e.to_string())
        });
        r.check(
            package::EXPORT_EVENT,
            export
                .as_ref()
                .map(|(case, _, i, t)| {
                    format!(
                        "export of case {case} at {t}, signed by the log, in the log at index {i}"
                    )
                })
                .map_err(Clone::clone),
        );
        let list = |c: &Contents| {
            c.entries
                .iter()
                .map(|e| (e.path.clone(), (e.sha256, e.size)))
                .collect()
        };
        match (&contents, &export) {
            (Ok(c), Ok((case, digest, _, _))) => {
                let ok = c.digest() == *digest && c.case == *case;
                r.check(
                    package::CONTENTS,
                    if ok {
                        Ok(format!("{} files, exactly as recorded in the log at export", c.entries.len()))
                    } else {
                        Err("does not match the export event in the log: files were added, removed or changed after export".into())
                    },
                );
                list(c)
            }
            (Err(e), _) => {
                r.push(Outcome::Fail, package::CONTENTS, format!("is {e}"));
                BTreeMap::new()
            }
            (Ok(c), Err(_)) => list(c),
        }
    }

    /// Step 3: every member not listed is a failure; every listed one is hashed (media on
    /// all cores) and compared with the list. Answers the hashes found.
    fn members(
        &mut self,
        z: &mut Zip,
        path: &Path,
        listed: &BTreeMap<String, (Hash, u64)>,
        threads: usize,
    ) -> BTreeMap<String, (Hash, u64)> {
        let r = &mut self.r;
        for n in self
            .names
            .iter()
            .filter(|n| !package::is_proof_file(n) && !listed.contains_key(*n))
        {
            r.push(
                Outcome::Fail,
                n.clone(),
                "is not in the contents list: added after export",
            );
        }
        // A proof proves a listed member or the export event, and is small; anything else
        // under proofs/ was added.
        let mut provable: BTreeSet<String> = listed
            .values()
            .map(|(h, _)| package::proof_path(h))
            .collect();
        if let Ok(e) = z.read(package::EXPORT_EVENT) {
            provable.insert(package::proof_path(&sha256(&e)));
        }
        for n in self.names.iter().filter(|n| n.starts_with(package::PROOFS)) {
            let size = z.archive.by_name(n).map_or(u64::MAX, |f| f.size());
            if !provable.contains(n) {
                r.push(
                    Outcome::Fail,
                    n.clone(),
                    "proves nothing in the contents list: added after export",
                );
            } else if size > MAX_PROOF {
                r.push(
                    Outcome::Fail,
                    n.clone(),
                    format!("is {size} bytes, not a proof (at most {MAX_PROOF})"),
                );
            }
        }
        let media: Vec<String> = listed
            .keys()
            .filter(|p| p.starts_with("segments/") || p.starts_with(crate::derived::DERIVED))
            .cloned()
            .collect();
        let hashed = hash_members(path, &media, threads);
        let mut file_hash: BTreeMap<String, (Hash, u64)> = BTreeMap::new();
        for (p, (want, size)) in listed {
            let got = match hashed.get(p) {
                Some(g) => g.clone(),
                None => z.read(p).map(|b| (sha256(&b), b.len() as u64)),
            };
            match got {
                Err(e) => r.push(
                    Outcome::Fail,
                    p.clone(),
                    format!("listed in the contents but {e}"),
                ),
                Ok((h, s)) => {
                    if hashed.contains_key(p) {
                        r.media_bytes += s;
                    }
                    if (h, s) != (*want, *size) {
                        r.push(Outcome::Fail, p.clone(), format!("SHA-256 {} ({s} bytes) differs from the contents list ({}, {size} bytes): changed after export", h.to_hex(), want.to_hex()));
                    }
                    file_hash.insert(p.clone(), (h, s));
                }
            }
        }
        file_hash
    }

    /// Step 4: every custody event is named by its hash, signed by the log and proven;
    /// answers the enrollments and tombstones they prove.
    fn custody_events(&mut self, z: &mut Zip, policy: &Policy) -> Facts {
        let mut facts = Facts {
            enrolled: BTreeMap::new(),
            tombstones: BTreeMap::new(),
            derivations: Vec::new(),
        };
        for p in self.names.iter().filter(|n| n.starts_with("custody/")) {
            let res = if let Some(named) = p
                .strip_prefix("custody/")
                .and_then(|n| n.strip_suffix(".private"))
            {
                // A private part opens the event beside it, checked there.
                if self.names.contains(&format!("custody/{named}.note")) {
                    continue;
                }
                Err("opens no custody event in the package".to_owned())
            } else {
                self.custody_event(z, policy, p, &mut facts)
            };
            self.r.check(p.clone(), res);
        }
        facts
    }

    /// One custody event of step 4 (and its private part, if the package has it).
    fn custody_event(
        &self,
        z: &mut Zip,
        policy: &Policy,
        p: &str,
        facts: &mut Facts,
    ) -> Result<String, String> {
        let b = z.read(p)?;
        let named = p.trim_start_matches("custody/").trim_end_matches(".note");
        if named != sha256(&b).to_hex() {
            return Err("its name is not the SHA-256 of its bytes".to_owned());
        }
        let private_path = format!("custody/{named}.private");
        let private = if self.names.contains(&private_path) {
            let bytes = z.read(&private_path)?;
            Some(String::from_utf8(bytes).map_err(|_| format!("{private_path} is not UTF-8"))?)
        } else {
            None
        };
        let (e, whole) = crate::logged_event(&b, policy.logs(), private.as_deref())?;
        let i = proven(z, &b, policy)?;
        if let Some(detail) = e.public_detail() {
            if e.action() == "enroll"
                && let Some(d) = e.subject().strip_prefix("device ")
            {
                facts
                    .enrolled
                    .entry(d.to_owned())
                    .or_default()
                    .insert(detail.to_owned());
            }
            if e.action() == DERIVE_ACTION {
                facts
                    .derivations
                    .push(Derivation::parse(detail).ok_or_else(|| {
                        format!("a derivation whose detail cannot be read: {detail:?}")
                    })?);
            }
            if e.action() == package::TOMBSTONE_ACTION {
                facts
                    .tombstones
                    .insert(e.subject().to_owned(), detail.to_owned());
            }
        }
        Ok(match whole {
            Some(c) => format!(
                "{} {} by {} at {}, in the log at index {i}",
                c.action, c.subject, c.actor, c.time
            ),
            None => format!(
                "{} {} at {} (who and why are committed to, not opened here), in the log at index {i}",
                e.action(),
                e.subject(),
                e.time()
            ),
        })
    }

    /// Step 5: every device key is one an enrollment event in the log names for it.
    fn device_keys(
        &mut self,
        z: &mut Zip,
        enrolled: &BTreeMap<String, BTreeSet<String>>,
    ) -> BTreeMap<String, VerifierKey> {
        let mut keys = BTreeMap::new();
        for p in self
            .names
            .iter()
            .filter(|n| n.starts_with("devices/") && n.ends_with(".vkey"))
        {
            let device = p
                .trim_start_matches("devices/")
                .trim_end_matches(".vkey")
                .to_owned();
            let res = z.read(p).and_then(|b| {
                let s = String::from_utf8(b).map_err(|_| "is not UTF-8".to_owned())?;
                let k = VerifierKey::parse(s.trim())
                    .map_err(|e| format!("is not a verifier key: {e}"))?;
                if !enrolled
                    .get(&device)
                    .is_some_and(|e| e.contains(&k.to_string()))
                {
                    return Err(format!(
                        "no enrollment event in the log names this key for {device}"
                    ));
                }
                keys.insert(device.clone(), k);
                Ok(format!("key of {device}, enrolled in the log"))
            });
            self.r.check(p.clone(), res);
        }
        keys
    }

    /// Steps 6 and 7: each camera's links (signed, proven, filed under their own name,
    /// chained) and the segment file each segment link states.
    fn links_and_segments(
        &mut self,
        z: &mut Zip,
        policy: &Policy,
        keys: &BTreeMap<String, VerifierKey>,
        files: &BTreeMap<String, (Hash, u64)>,
        facts: &Facts,
        listed: &BTreeMap<String, (Hash, u64)>,
    ) {
        let mut by_device: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
        for p in self.names.iter().filter(|n| n.starts_with("links/")) {
            let device = p.split('/').nth(1).unwrap_or("").to_owned();
            if let Ok(b) = z.read(p) {
                by_device.entry(device).or_default().push((p.clone(), b));
            }
        }
        let mut segment_files: BTreeSet<String> = self
            .names
            .iter()
            .filter(|n| n.starts_with("segments/"))
            .cloned()
            .collect();
        for (device, links) in &by_device {
            let Some(key) = keys.get(device) else {
                self.r.push(
                    Outcome::Fail,
                    format!("links/{device}"),
                    format!("no enrolled key for {device}: its links cannot be checked"),
                );
                continue;
            };
            crate::chain::check(&mut self.r, device, key, links);
            for (path, bytes) in links {
                let Ok(link) = Link::parse(bytes) else {
                    continue;
                };
                if link.verify(key).is_err() {
                    continue;
                }
                if !self.link(z, policy, device, path, &link, bytes) {
                    continue;
                }
                if let LinkBody::Segment(s) = link.body() {
                    let file = package::segment_path(device, s.seq);
                    segment_files.remove(&file);
                    self.stated.insert(file.clone(), s.sha256);
                    self.segment(&file, s, files, facts, device);
                }
            }
        }
        for f in segment_files {
            if listed.contains_key(&f) {
                self.r.push(
                    Outcome::Fail,
                    f,
                    "is not the segment of any verified chain link",
                );
            }
        }
    }

    /// Step 6, one link: filed under its own name and proven in the log.
    fn link(
        &mut self,
        z: &mut Zip,
        policy: &Policy,
        device: &str,
        path: &str,
        link: &Link,
        bytes: &[u8],
    ) -> bool {
        let seq = link.body().seq();
        if path != package::link_path(device, seq) {
            self.r.push(
                Outcome::Fail,
                path,
                format!("holds link {seq}: filed under the wrong name"),
            );
            return false;
        }
        let what = match link.body() {
            LinkBody::Segment(s) => format!("segment {}..{}", s.start, s.end),
            LinkBody::Event(e) => {
                format!("event {} at {} ({})", e.kind.as_str(), e.time, e.detail)
            }
        };
        let res = proven(z, bytes, policy);
        if let Ok(i) = res {
            let (time, end) = match link.body() {
                LinkBody::Segment(s) => (s.end, format!("recorded until {}", s.end)),
                LinkBody::Event(e) => (e.time, format!("an event at {}", e.time)),
            };
            self.footage.push(crate::timestamps::Logged {
                index: i,
                time,
                what: format!("{path} ({end})"),
            });
        }
        self.r.check(
            path,
            res.map(|i| format!("{what}, signed by {device}, in the log at index {i}")),
        )
    }

    /// Step 7: a segment file has the hash and size its link states, or a tombstone in
    /// the log says retention purged it, or — in a redacted package — a redacted copy in
    /// it was derived from it and the original was withheld.
    fn segment(
        &mut self,
        file: &str,
        s: &kordon_core::link::Segment,
        files: &BTreeMap<String, (Hash, u64)>,
        facts: &Facts,
        device: &str,
    ) {
        let seq = s.seq;
        let res = match files.get(file) {
            Some((h, size)) if *h == s.sha256 && *size == s.size => Ok(format!(
                "{size} bytes, SHA-256 as signed by the camera in link {seq}"
            )),
            Some((h, size)) => Err(format!(
                "SHA-256 {} ({size} bytes) is not the {} ({} bytes) that link {seq} states: not the camera's recording",
                h.to_hex(),
                s.sha256.to_hex(),
                s.size
            )),
            None => {
                let purged = (facts
                    .tombstones
                    .get(&package::tombstone_subject(device, seq)))
                .filter(|d| d.contains(&s.sha256.to_hex()))
                .map(|d| format!("purged by retention, not missing: tombstone in the log ({d})"));
                match purged
                    .or_else(|| crate::derived::withheld(&facts.derivations, device, seq, files))
                {
                    Some(note) => return self.r.push(Outcome::Note, file, note),
                    None => Err(format!(
                        "missing: link {seq} states a segment that is not in the package and no tombstone says it was purged"
                    )),
                }
            }
        };
        self.r.check(file, res);
    }
}
