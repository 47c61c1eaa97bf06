//! The interface's words in Ukrainian and English.

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// Українська (the default).
    Uk,
    /// English.
    En,
}

impl Lang {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Uk => "uk",
            Lang::En => "en",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Lang> {
        match s {
            "uk" => Some(Lang::Uk),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The words, `key<TAB>Ukrainian<TAB>English` per line (`#` starts a comment): one file
/// that translators and the browser test (which looks for English on Ukrainian pages)
/// read too.
const WORDS_TSV: &str = include_str!("words.tsv");

/// `(key, Ukrainian, English)` by key.
static WORDS: std::sync::LazyLock<
    std::collections::HashMap<&'static str, (&'static str, &'static str)>,
> = std::sync::LazyLock::new(|| words().map(|(k, uk, en)| (k, (uk, en))).collect());

fn words() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    WORDS_TSV
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            Some((f.next()?, f.next()?, f.next()?))
        })
}

/// Whether the table has `key`.
pub(crate) fn has(key: &str) -> bool {
    WORDS.contains_key(key)
}

/// The word for `key` in `lang` (the key itself if unknown, so a gap shows).
pub(crate) fn t(lang: Lang, key: &str) -> &str {
    WORDS.get(key).map_or(key, |w| match lang {
        Lang::Uk => w.0,
        Lang::En => w.1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_once_in_both_languages() {
        let lines = WORDS_TSV
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        assert!(
            lines.clone().all(|l| l.split('\t').count() == 3),
            "a line without three fields"
        );
        assert_eq!(WORDS.len(), lines.count(), "a key twice");
        for (k, uk, en) in words() {
            assert!(
                !uk.is_empty() && !en.is_empty() && (uk != en || k == "app"),
                "{k}"
            );
        }
        assert_eq!(t(Lang::En, "search"), "Search");
        assert_eq!(t(Lang::Uk, "search"), "Пошук");
    }
}
