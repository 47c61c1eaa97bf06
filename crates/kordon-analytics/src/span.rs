//! Half-open time intervals in milliseconds and normalised sets of them.

/// `[start, end)` in Unix milliseconds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Span {
    /// First millisecond in the interval.
    pub start: i64,
    /// First millisecond after it.
    pub end: i64,
}

impl Span {
    /// A span; empty when `end <= start`.
    pub fn new(start: i64, end: i64) -> Span {
        Span { start, end }
    }

    /// Its length in milliseconds (0 when empty).
    pub fn len(&self) -> i64 {
        (self.end - self.start).max(0)
    }

    /// Whether it holds no instant.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    /// The common part.
    pub fn intersect(&self, o: &Span) -> Span {
        Span {
            start: self.start.max(o.start),
            end: self.end.min(o.end),
        }
    }
}

/// A set of instants: sorted, disjoint, non-adjacent, non-empty spans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanSet(Vec<Span>);

impl SpanSet {
    /// The empty set.
    pub fn new() -> Self {
        SpanSet(Vec::new())
    }

    /// The set of the given spans (in any order, overlapping or not).
    pub fn from_spans(spans: impl IntoIterator<Item = Span>) -> Self {
        let mut v: Vec<Span> = spans.into_iter().filter(|s| !s.is_empty()).collect();
        v.sort();
        let mut out: Vec<Span> = Vec::with_capacity(v.len());
        for s in v {
            match out.last_mut() {
                Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
                _ => out.push(s),
            }
        }
        SpanSet(out)
    }

    /// The spans, in order.
    pub fn spans(&self) -> &[Span] {
        &self.0
    }

    /// Total length in milliseconds.
    pub fn len(&self) -> i64 {
        self.0.iter().map(Span::len).sum()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Union.
    pub fn union(&self, o: &SpanSet) -> SpanSet {
        SpanSet::from_spans(self.0.iter().chain(o.0.iter()).copied())
    }

    /// Intersection with one span, in O(log n + k).
    pub fn clip(&self, w: &Span) -> SpanSet {
        let first = self.0.partition_point(|s| s.end <= w.start);
        SpanSet(
            self.0[first..]
                .iter()
                .take_while(|s| s.start < w.end)
                .map(|s| s.intersect(w))
                .filter(|s| !s.is_empty())
                .collect(),
        )
    }

    /// The end of the last span that ends at or before `t`, in O(log n).
    pub fn last_end_before(&self, t: i64) -> Option<i64> {
        let n = self.0.partition_point(|s| s.end <= t);
        n.checked_sub(1).map(|i| self.0[i].end)
    }

    /// Intersection.
    pub fn intersect(&self, o: &SpanSet) -> SpanSet {
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < self.0.len() && j < o.0.len() {
            let x = self.0[i].intersect(&o.0[j]);
            if !x.is_empty() {
                out.push(x);
            }
            if self.0[i].end < o.0[j].end {
                i += 1;
            } else {
                j += 1;
            }
        }
        SpanSet(out)
    }

    /// What of `self` is not in `o`.
    pub fn subtract(&self, o: &SpanSet) -> SpanSet {
        let mut out = Vec::new();
        let mut j = 0;
        for s in &self.0 {
            let mut cur = s.start;
            while j < o.0.len() && o.0[j].end <= cur {
                j += 1;
            }
            let mut k = j;
            while k < o.0.len() && o.0[k].start < s.end {
                if o.0[k].start > cur {
                    out.push(Span::new(cur, o.0[k].start));
                }
                cur = cur.max(o.0[k].end);
                k += 1;
            }
            if cur < s.end {
                out.push(Span::new(cur, s.end));
            }
        }
        SpanSet(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set(v: &[(i64, i64)]) -> SpanSet {
        SpanSet::from_spans(v.iter().map(|(a, b)| Span::new(*a, *b)))
    }

    #[test]
    fn normalises_and_subtracts() {
        assert_eq!(
            set(&[(5, 7), (0, 2), (2, 3), (6, 9)]),
            set(&[(0, 3), (5, 9)])
        );
        assert_eq!(
            set(&[(0, 10)]).subtract(&set(&[(2, 3), (5, 12)])),
            set(&[(0, 2), (3, 5)])
        );
        assert_eq!(
            set(&[(0, 10), (20, 30)]).intersect(&set(&[(5, 25)])),
            set(&[(5, 10), (20, 25)])
        );
    }

    fn membership(s: &SpanSet, t: i64) -> bool {
        s.spans().iter().any(|x| x.start <= t && t < x.end)
    }

    proptest! {
        #[test]
        fn set_operations_agree_with_pointwise_membership(
            a in prop::collection::vec((0i64..60, 0i64..12), 0..8),
            b in prop::collection::vec((0i64..60, 0i64..12), 0..8),
        ) {
            let a = SpanSet::from_spans(a.iter().map(|(s, l)| Span::new(*s, s + l)));
            let b = SpanSet::from_spans(b.iter().map(|(s, l)| Span::new(*s, s + l)));
            let (u, i, d) = (a.union(&b), a.intersect(&b), a.subtract(&b));
            for t in 0..75 {
                let (x, y) = (membership(&a, t), membership(&b, t));
                prop_assert_eq!(membership(&u, t), x || y);
                prop_assert_eq!(membership(&i, t), x && y);
                prop_assert_eq!(membership(&d, t), x && !y);
            }
            prop_assert_eq!(i.len() + d.len(), a.len());
            let w = Span::new(10, 40);
            for t in 0..75 {
                prop_assert_eq!(membership(&a.clip(&w), t), membership(&a, t) && (10..40).contains(&t));
            }
            for t in [0i64, 13, 37, 80] {
                let want = a.spans().iter().filter(|s| s.end <= t).map(|s| s.end).max();
                prop_assert_eq!(a.last_end_before(t), want);
            }
        }
    }
}
