//! The spool: where links and segment bytes wait, durably, until the server confirmed
//! them.
//!
//! ```text
//! <dir>/pending/<seq>.note   signed link, not yet confirmed
//! <dir>/pending/<seq>.seg    its segment bytes (segments only)
//! <dir>/sent/<seq>.note      confirmed: the server logged it (bytes deleted then)
//! <dir>/rejected/<seq>.*     refused for good by the server (kept, never deleted)
//! <dir>/recovered/           partial files found after a crash (kept, never deleted)
//! ```
//!
//! Every file is written to a temporary name, fsynced, renamed, and the directory
//! fsynced, so after power loss a link is either fully in the spool or not at all, and a
//! link is never in `pending/` without its bytes. Sequence numbers come from the highest
//! link ever spooled, so one is never reused.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use kordon_core::Hash;
use kordon_core::link::Link;

/// The spool folder.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn seq_of(p: &Path) -> Option<u64> {
    p.file_stem()?.to_str()?.parse().ok()
}

/// One link waiting for upload.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Sequence number.
    pub seq: u64,
    /// The signed note.
    pub note: PathBuf,
    /// The segment bytes, for segments.
    pub segment: Option<PathBuf>,
}

impl Spool {
    /// Opens (creating) the spool under `dir`.
    ///
    /// # Errors
    /// IO errors.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        for sub in ["pending", "sent", "rejected", "recovered", "work"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        Ok(Spool { dir })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the recorder writes segments in progress.
    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }

    fn name(seq: u64, ext: &str) -> String {
        format!("{seq:012}.{ext}")
    }

    /// The last link spooled (sequence number, hash and bytes), if any.
    ///
    /// # Errors
    /// IO errors.
    pub fn head(&self) -> io::Result<Option<(u64, Hash, Vec<u8>)>> {
        let mut best: Option<(u64, PathBuf)> = None;
        for sub in ["pending", "sent", "rejected"] {
            for e in fs::read_dir(self.dir.join(sub))? {
                let p = e?.path();
                if p.extension().is_some_and(|x| x == "note")
                    && let Some(seq) = seq_of(&p)
                    && best.as_ref().is_none_or(|(b, _)| seq > *b)
                {
                    best = Some((seq, p));
                }
            }
        }
        match best {
            None => Ok(None),
            Some((seq, p)) => {
                let bytes = fs::read(p)?;
                Ok(Some((seq, kordon_core::sha256(&bytes), bytes)))
            }
        }
    }

    fn write_durable(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let tmp = path.with_extension("tmp");
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    }

    /// Adds a signed link; for a segment, `bytes_from` is moved in beside it first.
    ///
    /// # Errors
    /// IO errors (the link does not count as recorded then).
    pub fn add(&self, link: &Link, bytes_from: Option<&Path>) -> io::Result<()> {
        let seq = link.body().seq();
        let pending = self.dir.join("pending");
        if let Some(src) = bytes_from {
            File::open(src)?.sync_all()?;
            fs::rename(src, pending.join(Self::name(seq, "seg")))?;
        }
        self.write_durable(&pending.join(Self::name(seq, "note")), link.bytes())?;
        sync_dir(&pending)?;
        if let Some(src) = bytes_from
            && let Some(parent) = src.parent()
        {
            sync_dir(parent)?;
        }
        Ok(())
    }

    /// Links waiting for upload, oldest first.
    ///
    /// # Errors
    /// IO errors.
    pub fn pending(&self) -> io::Result<Vec<Pending>> {
        let dir = self.dir.join("pending");
        let mut out = Vec::new();
        for e in fs::read_dir(&dir)? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "note")
                && let Some(seq) = seq_of(&p)
            {
                let seg = dir.join(Self::name(seq, "seg"));
                out.push(Pending {
                    seq,
                    note: p,
                    segment: seg.exists().then_some(seg),
                });
            }
        }
        out.sort_by_key(|p| p.seq);
        Ok(out)
    }

    /// The server confirmed `p`: keep the note in `sent/`, delete the bytes.
    ///
    /// # Errors
    /// IO errors.
    pub fn confirm(&self, p: &Pending) -> io::Result<()> {
        let sent = self.dir.join("sent");
        fs::rename(&p.note, sent.join(Self::name(p.seq, "note")))?;
        sync_dir(&sent)?;
        sync_dir(&self.dir.join("pending"))?;
        if let Some(seg) = &p.segment {
            fs::remove_file(seg)?;
        }
        Ok(())
    }

    /// The server refused `p` for good: keep everything in `rejected/` with the reason.
    ///
    /// # Errors
    /// IO errors.
    pub fn reject(&self, p: &Pending, reason: &str) -> io::Result<()> {
        let rej = self.dir.join("rejected");
        fs::rename(&p.note, rej.join(Self::name(p.seq, "note")))?;
        if let Some(seg) = &p.segment {
            fs::rename(seg, rej.join(Self::name(p.seq, "seg")))?;
        }
        self.write_durable(&rej.join(Self::name(p.seq, "reason")), reason.as_bytes())?;
        sync_dir(&rej)
    }

    /// Moves a leftover file (an interrupted segment) into `recovered/`; returns its new path.
    ///
    /// # Errors
    /// IO errors.
    pub fn keep_recovered(&self, path: &Path) -> io::Result<PathBuf> {
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::other("no file name"))?;
        let dest = self.dir.join("recovered").join(name);
        fs::rename(path, &dest)?;
        sync_dir(&self.dir.join("recovered"))?;
        Ok(dest)
    }

    /// Number of links and bytes waiting.
    ///
    /// # Errors
    /// IO errors.
    pub fn backlog(&self) -> io::Result<(usize, u64)> {
        let mut bytes = 0;
        let p = self.pending()?;
        for x in &p {
            bytes += fs::metadata(&x.note)?.len();
            if let Some(s) = &x.segment {
                bytes += fs::metadata(s)?.len();
            }
        }
        Ok((p.len(), bytes))
    }
}
