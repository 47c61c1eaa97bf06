//! Quality review: each week, a random sample of every officer's inspections at a
//! crossing point (`review_percent`, at least one per officer who worked) and the
//! inspections the anomaly reports flag, for a supervisor to watch and judge against a
//! checklist. Every outcome is a custody event `review`.

use std::collections::{BTreeMap, BTreeSet};

use kordon_analytics::aggregate;
use kordon_api::inspections::{ReviewIn, ReviewLogged};
use kordon_store::meta::Review;
use kordon_store::now_ms;

use super::{new_id, one_line};
use crate::auth::{Op, Principal};
use crate::error::ApiError;
use crate::state::App;

/// What a review checks, in the order the form asks.
pub(crate) const CHECKLIST: [&str; 5] = [
    "filmed_throughout",
    "sound_clear",
    "announced_recording",
    "procedure_followed",
    "conduct_proper",
];

/// The outcomes of a review.
pub(crate) const OUTCOMES: [&str; 3] = ["meets", "concerns", "breach"];

/// Why an inspection is in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Why {
    /// Drawn in the week's random sample.
    Drawn,
    /// Flagged by the anomaly reports (unexplained gaps on one plate or declarant, a gap
    /// as the inspection began, an officer's repeated unexplained gaps).
    Flagged,
}

/// One inspection to review.
pub(crate) struct Item {
    pub(crate) id: String,
    pub(crate) start_ms: i64,
    pub(crate) why: Why,
    pub(crate) reviews: Vec<Review>,
}

/// One officer's week.
pub(crate) struct OfficerWeek {
    pub(crate) officer: String,
    /// Inspections he worked.
    pub(crate) inspections: usize,
    /// Their coverage by recording, 0..1.
    pub(crate) coverage: f64,
    /// The inspections to review (drawn or flagged).
    pub(crate) items: Vec<Item>,
}

/// The review queue of crossing point `cp` for the inspections starting in `[from, to)`
/// (a week): per officer, what to review and what was.
pub(crate) async fn queue(
    app: &App,
    who: &Principal,
    cp: &str,
    from: i64,
    to: i64,
) -> Result<Vec<OfficerWeek>, ApiError> {
    who.require(Op::ReviewInspections)?;
    if !who.sees_crossing_point(cp) {
        return Err(ApiError::Forbidden(format!("{cp} is outside your scope")));
    }
    let data = super::reports::load_for(app, who, from, to, Some(cp), None).await?;
    let facts = data.facts();
    let a = aggregate::anomalies(&facts);
    let mut flagged: BTreeSet<String> = a
        .plates
        .iter()
        .chain(&a.declarants)
        .flat_map(|c| c.inspections.iter().cloned())
        .collect();
    flagged.extend(a.early_gaps.iter().map(|g| g.inspection.clone()));
    for (_, _, ids) in aggregate::repeated_unexplained(&facts, 2) {
        flagged.extend(ids);
    }
    let pairs: Vec<(&str, &str)> = data
        .rows
        .iter()
        .flat_map(|x| {
            x.li.row
                .officers
                .iter()
                .map(move |o| (o.as_str(), x.li.row.id.as_str()))
        })
        .collect();
    let drawn: BTreeSet<String> =
        kordon_analytics::review::sample(&app.opaque_key, app.config.review_percent, &pairs)
            .into_iter()
            .collect();
    let ids: Vec<&str> = data
        .rows
        .iter()
        .map(|x| x.li.row.id.as_str())
        .filter(|id| drawn.contains(*id) || flagged.contains(*id))
        .collect();
    let reviews = app.meta.reviews_of(&ids).await?;
    let mut by: BTreeMap<String, OfficerWeek> = BTreeMap::new();
    for x in &data.rows {
        let r = &x.li.row;
        for o in &r.officers {
            let w = by.entry(o.clone()).or_insert_with(|| OfficerWeek {
                officer: o.clone(),
                inspections: 0,
                coverage: 0.0,
                items: Vec::new(),
            });
            w.inspections += 1;
            // Summed as milliseconds first, turned into a ratio below.
            w.coverage += x.coverage.covered_ms as f64;
            let why = if flagged.contains(&r.id) {
                Some(Why::Flagged)
            } else if drawn.contains(&r.id) {
                Some(Why::Drawn)
            } else {
                None
            };
            if let Some(why) = why {
                w.items.push(Item {
                    id: r.id.clone(),
                    start_ms: r.start_ms,
                    why,
                    reviews: reviews.get(&r.id).cloned().unwrap_or_default(),
                });
            }
        }
    }
    for w in by.values_mut() {
        let total: i64 = data
            .rows
            .iter()
            .filter(|x| x.li.row.officers.contains(&w.officer))
            .map(|x| x.coverage.duration_ms)
            .sum();
        w.coverage = if total > 0 {
            w.coverage / total as f64
        } else {
            0.0
        };
    }
    Ok(by.into_values().collect())
}

/// A supervisor records his review of an inspection: a custody event `review`.
pub(crate) async fn record(
    app: &App,
    who: &Principal,
    id: &str,
    b: ReviewIn,
) -> Result<ReviewLogged, ApiError> {
    who.require(Op::ReviewInspections)?;
    let i = app
        .meta
        .inspection(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no inspection {id}")))?
        .row;
    if !who.sees_crossing_point(&i.crossing_point) {
        return Err(ApiError::Forbidden(format!(
            "inspection {id} is at {}, outside your scope",
            i.crossing_point
        )));
    }
    if who.officer.as_ref().is_some_and(|o| i.officers.contains(o)) {
        return Err(ApiError::Forbidden(
            "you worked this inspection: another supervisor reviews it".into(),
        ));
    }
    if !OUTCOMES.contains(&b.outcome.as_str()) {
        return Err(ApiError::BadRequest(
            "bad_review",
            format!("outcome must be one of {}", OUTCOMES.join(", ")),
        ));
    }
    if let Some(x) = b
        .checklist
        .iter()
        .find(|c| !CHECKLIST.contains(&c.as_str()))
    {
        return Err(ApiError::BadRequest(
            "bad_review",
            format!("{x:?} is not on the checklist ({})", CHECKLIST.join(", ")),
        ));
    }
    let note = if b.note.trim().is_empty() {
        if b.outcome != "meets" {
            return Err(ApiError::BadRequest(
                "bad_review",
                "a review that finds concerns or a breach says what in its note".into(),
            ));
        }
        String::new()
    } else {
        one_line("note", &b.note, 400)?
    };
    let checklist: Vec<&str> = CHECKLIST
        .iter()
        .copied()
        .filter(|c| b.checklist.iter().any(|x| x == c))
        .collect();
    let r = Review {
        id: new_id(8)?,
        inspection_id: id.to_owned(),
        reviewer: who.name.clone(),
        reviewed_at: now_ms(),
        outcome: b.outcome.clone(),
        checklist: checklist.join(";"),
        note,
    };
    app.meta.add_review(&r).await?;
    let log_index = app
        .custody(
            &who.name,
            "review",
            &format!("inspection {id}"),
            &format!("{}; holds: {}; {}", r.outcome, r.checklist, r.note),
        )
        .await?;
    Ok(ReviewLogged {
        id: r.id,
        log_index,
    })
}
