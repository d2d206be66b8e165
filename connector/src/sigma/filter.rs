//! OpenMetadata's filter-pattern semantics (2.0.7's `metadata.utils.filters._filter`): a regex
//! matches from the start of the name (Python's `re.match`), case-insensitively; a name passes
//! when it matches one of `includes` (if any are given) and none of `excludes`: an exclude
//! wins over an include. Several patterns (the connection's and the source config's) must all
//! let a name through. `tests/data/filter-cases.json` is the table both this module and
//! OpenMetadata's own function are tested against (`python/tests/test_filters.py`).

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
            let included =
                rule.includes.is_empty() || rule.includes.iter().any(|r| r.is_match(name));
            included && !rule.excludes.iter().any(|r| r.is_match(name))
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
    fn excludes_win_over_includes() {
        let f = NameFilter::new([&fp(&["sales"], &["sales emea"])]).unwrap();
        assert!(f.allows("sales report"));
        assert!(!f.allows("Sales EMEA weekly"), "matches both: excluded");
        assert!(!f.allows("finance"));
    }

    /// The table OpenMetadata 2.0.7's own `_filter` is checked against in
    /// `python/tests/test_filters.py`: both implementations give every row's answer.
    #[test]
    fn the_shared_table_of_cases_agrees() {
        let table: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/data/filter-cases.json")).unwrap();
        let cases = table["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let strings = |key: &str| -> Vec<String> {
                case["pattern"][key]
                    .as_array()
                    .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                    .unwrap_or_default()
            };
            let pattern = FilterPattern {
                includes: strings("includes"),
                excludes: strings("excludes"),
            };
            let f = NameFilter::new([&pattern]).unwrap();
            for (name, kept) in case["names"].as_object().unwrap() {
                assert_eq!(
                    f.allows(name),
                    kept.as_bool().unwrap(),
                    "{name:?} under {:?}",
                    case["pattern"]
                );
            }
        }
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
