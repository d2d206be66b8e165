//! OpenMetadata's filter-pattern semantics: a regex matches from the start of the name
//! (Python's `re.match`), case-insensitively; when `includes` is non-empty it alone decides,
//! otherwise `excludes` drops what it matches. Several patterns (the connection's and the
//! source config's) must all let a name through.

use regex::{Regex, RegexBuilder};

use crate::config::FilterPattern;

#[derive(Debug, Clone, Default)]
pub struct NameFilter {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    includes: Vec<Regex>,
    excludes: Vec<Regex>,
}

impl NameFilter {
    /// Compiles the given patterns. Config loading has already checked that every regex
    /// compiles, so an error here means a caller skipped validation.
    pub fn new<'a>(
        patterns: impl IntoIterator<Item = &'a FilterPattern>,
    ) -> Result<Self, regex::Error> {
        let compile = |list: &[String]| -> Result<Vec<Regex>, regex::Error> {
            list.iter()
                .map(|p| {
                    RegexBuilder::new(&format!("^(?:{p})"))
                        .case_insensitive(true)
                        .build()
                })
                .collect()
        };
        let rules = patterns
            .into_iter()
            .filter(|p| !p.includes.is_empty() || !p.excludes.is_empty())
            .map(|p| {
                Ok(Rule {
                    includes: compile(&p.includes)?,
                    excludes: compile(&p.excludes)?,
                })
            })
            .collect::<Result<_, regex::Error>>()?;
        Ok(Self { rules })
    }

    /// True when the name passes every pattern.
    pub fn allows(&self, name: &str) -> bool {
        self.rules.iter().all(|rule| {
            if name.is_empty() {
                return false;
            }
            if !rule.includes.is_empty() {
                return rule.includes.iter().any(|r| r.is_match(name));
            }
            !rule.excludes.iter().any(|r| r.is_match(name))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(includes: &[&str], excludes: &[&str]) -> FilterPattern {
        FilterPattern {
            includes: includes.iter().map(|s| s.to_string()).collect(),
            excludes: excludes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn no_pattern_allows_everything() {
        let f = NameFilter::new([]).unwrap();
        assert!(f.allows("anything") && f.allows(""));
    }

    #[test]
    fn includes_match_from_the_start_case_insensitively() {
        let f = NameFilter::new([&fp(&["sales"], &[])]).unwrap();
        assert!(f.allows("Sales Dashboard"));
        assert!(f.allows("SALES"));
        assert!(!f.allows("Q3 Sales"), "re.match anchors at the start");
        let f = NameFilter::new([&fp(&[".*sales"], &[])]).unwrap();
        assert!(f.allows("Q3 Sales"));
    }

    #[test]
    fn includes_take_precedence_over_excludes() {
        let f = NameFilter::new([&fp(&["sales"], &["sales"])]).unwrap();
        assert!(f.allows("sales report"));
        assert!(!f.allows("finance"));
    }

    #[test]
    fn excludes_drop_matches() {
        let f = NameFilter::new([&fp(&[], &["tmp", ".*draft"])]).unwrap();
        assert!(!f.allows("tmp_workbook"));
        assert!(!f.allows("My Draft"));
        assert!(f.allows("Revenue"));
    }

    #[test]
    fn every_pattern_must_allow_and_empty_names_are_filtered() {
        let f = NameFilter::new([&fp(&["a"], &[]), &fp(&[], &["ab"])]).unwrap();
        assert!(f.allows("ac"));
        assert!(!f.allows("ab"));
        assert!(!f.allows("b"));
        assert!(!f.allows(""));
    }
}
