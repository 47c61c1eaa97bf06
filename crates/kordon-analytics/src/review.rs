//! Which inspections a supervisor reviews: a random sample of each officer's inspections
//! of a week at a configurable rate — at least one per officer who worked — plus those
//! the anomaly reports flag.
//!
//! "Random" is a keyed hash: an inspection is drawn when `SHA-256(label, key, id)` falls
//! under the rate. The draw is the same on every reading (the queue does not change on
//! reload, and nothing is stored to keep it), and nobody without the server's key can
//! tell in advance which inspections will be drawn.

use std::collections::BTreeMap;

use kordon_core::hash::sha256_parts;

/// The domain of the keyed hash.
const LABEL: &[u8] = b"kordon review sample v1\0";

/// An inspection's draw: a number in `[0, 1)`, uniform over inspection ids.
#[must_use]
pub fn draw(key: &[u8; 32], inspection: &str) -> f64 {
    let h = sha256_parts(&[LABEL, key, inspection.as_bytes()]);
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    (u64::from_be_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// The sample of `inspections` (`(officer, inspection id)`, an inspection once per
/// officer who worked it): those whose draw is under `percent` %, and for an officer none
/// of whose inspections was drawn, the one with the lowest draw. Sorted, without repeats.
#[must_use]
pub fn sample(key: &[u8; 32], percent: u32, inspections: &[(&str, &str)]) -> Vec<String> {
    let rate = f64::from(percent.min(100)) / 100.0;
    let mut lowest: BTreeMap<&str, (f64, &str)> = BTreeMap::new();
    let mut out = Vec::new();
    for (officer, id) in inspections {
        let d = draw(key, id);
        if d < rate {
            out.push((*id).to_owned());
        }
        let e = lowest.entry(officer).or_insert((d, id));
        if d < e.0 {
            *e = (d, id);
        }
    }
    for (officer, (_, id)) in &lowest {
        let drawn = inspections
            .iter()
            .any(|(o, i)| o == officer && out.iter().any(|x| x == i));
        if !drawn {
            out.push((*id).to_owned());
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn the_rate_is_kept_over_many_inspections() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("I-{i}")).collect();
        let all: Vec<(&str, &str)> = ids.iter().map(|i| ("UA-1", i.as_str())).collect();
        let n = sample(&KEY, 5, &all).len();
        assert!((400..=600).contains(&n), "5 % of 10 000 drew {n}");
        assert_eq!(sample(&KEY, 0, &all).len(), 1, "at least one per officer");
        assert_eq!(sample(&KEY, 100, &all).len(), 10_000);
    }

    #[test]
    fn every_officer_who_worked_has_one_and_the_draw_is_stable() {
        let all = [("UA-1", "A"), ("UA-2", "B"), ("UA-2", "C"), ("UA-3", "C")];
        let s = sample(&KEY, 0, &all);
        assert!(s.contains(&"A".to_owned()));
        assert!(s.contains(&"B".to_owned()) || s.contains(&"C".to_owned()));
        assert_eq!(s, sample(&KEY, 0, &all), "the same draw on every reading");
        assert_ne!(
            (0..50)
                .map(|i| draw(&KEY, &format!("I-{i}")) < 0.5)
                .collect::<Vec<_>>(),
            (0..50)
                .map(|i| draw(&[8; 32], &format!("I-{i}")) < 0.5)
                .collect::<Vec<_>>(),
            "another key draws differently"
        );
    }
}
