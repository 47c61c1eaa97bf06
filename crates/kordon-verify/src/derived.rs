//! Step 8 of `docs/spec/evidence-package.md`: derived files (`docs/spec/derived.md`).

use std::collections::BTreeMap;

use kordon_core::derive::{self, Derivation};
use kordon_core::hash::Hash;
use kordon_core::package;

use crate::Report;

/// Where derived files are in a package.
pub(crate) const DERIVED: &str = "derived/";

/// Step 8: a derived file is the result a `derive` event in the log states, and that
/// event's sources are in the package: the segments of its range in order, or for a
/// credentialed file the joined file it was made from.
pub(crate) fn check(
    r: &mut Report,
    files: &BTreeMap<String, (Hash, u64)>,
    derivations: &[Derivation],
) {
    for (p, (h, size)) in files.iter().filter(|(p, _)| p.starts_with(DERIVED)) {
        let named: Vec<&Derivation> = derivations.iter().filter(|d| d.path() == *p).collect();
        let res = if named.is_empty() {
            Err("no derivation in the log names this file".to_owned())
        } else if let Some(d) = named.iter().find(|d| d.result == *h && d.size == *size) {
            // A credentialed file's one source is the joined file of its range; a joined
            // file's are the range's segments.
            let sources: Vec<Hash> = if d.operation == derive::C2PA_SIGN {
                files
                    .get(&derive::derived_path(&d.device, d.first, d.last))
                    .map(|(h, _)| vec![*h])
                    .unwrap_or_default()
            } else {
                (d.first..=d.last)
                    .filter_map(|seq| files.get(&package::segment_path(&d.device, seq)))
                    .map(|(h, _)| *h)
                    .collect()
            };
            if sources.len() as u64 == d.sources
                && derive::sources_digest(&sources) == d.sources_sha256
            {
                Ok(format!(
                    "derived by {} with {} from {} source(s) in this package (camera {}, {}..={}), as logged",
                    d.operation, d.tool, d.sources, d.device, d.first, d.last
                ))
            } else {
                Err(format!(
                    "the derivation in the log used {} source(s) of camera {} ({}..={}) that are not the {} in this package",
                    d.sources,
                    d.device,
                    d.first,
                    d.last,
                    sources.len()
                ))
            }
        } else {
            Err(format!(
                "SHA-256 {} ({size} bytes) is not the {} ({} bytes) the derivation in the log states: not the file derived from the segments",
                h.to_hex(),
                named[0].result.to_hex(),
                named[0].size
            ))
        };
        r.check(p.clone(), res);
    }
}
