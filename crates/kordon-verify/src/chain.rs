//! Step 6 of `docs/spec/evidence-package.md`: each camera's links as one chain.

use kordon_core::chain::{ChainOptions, ChainProblem, verify_chain};
use kordon_core::note::VerifierKey;

use crate::{Outcome, Report};

/// Step 6, the chain of one camera as a whole.
pub(crate) fn check(r: &mut Report, device: &str, key: &VerifierKey, links: &[(String, Vec<u8>)]) {
    let raw: Vec<&[u8]> = links.iter().map(|(_, b)| b.as_slice()).collect();
    let chain = verify_chain(device, key, &raw, &ChainOptions::default());
    let first = chain.links.first().map_or(0, |l| l.body().seq());
    for p in &chain.problems {
        let (outcome, msg) = match p {
            ChainProblem::Missing { from: 0, to } if *to + 1 == first => continue,
            ChainProblem::UnexplainedGap { from, to, .. } => (
                Outcome::Note,
                format!("no recording from {from} to {to} and no event explains it"),
            ),
            ChainProblem::BadSignature { index, seq } => (
                Outcome::Fail,
                format!(
                    "{} (seq {seq}) is not signed by the camera's enrolled key",
                    links[*index].0
                ),
            ),
            ChainProblem::Malformed { index, error } => (
                Outcome::Fail,
                format!("{} is not a valid link: {error}", links[*index].0),
            ),
            ChainProblem::WrongDevice { index, device: d } => (
                Outcome::Fail,
                format!("{} is a link of {d}", links[*index].0),
            ),
            ChainProblem::Missing { from, to } => (
                // The contents list (checked against the log above) says what the
                // server exported; a link it never had is a hole in the evidence,
                // shown as such, not a change to the package.
                Outcome::Note,
                format!(
                    "links {from}..={to} never reached the log (the camera's chain shows they existed): no footage for that stretch"
                ),
            ),
            ChainProblem::BrokenPrev { seq, .. } => (
                Outcome::Fail,
                format!("link {seq} does not name the link before it: the chain is broken"),
            ),
            other => (Outcome::Fail, format!("{other:?}")),
        };
        r.push(outcome, format!("camera {device}"), msg);
    }
}
