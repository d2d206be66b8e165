//! Conventions of the test suite that a reviewer would otherwise have to remember
//! (docs/testing.md): no test may pass or fail by how fast the machine is.
//!
//! Every assertion that reads a wall-clock duration (`elapsed`) must either run on tokio's
//! paused clock (`#[tokio::test(start_paused = true)]`), or carry a `// timing:` comment
//! just above it that says why no machine, ten times faster or slower, moves it across its
//! bound (a lower bound on a wait the code must make, a bound far from both outcomes...).

use std::path::{Path, PathBuf};

/// Lines above a flagged assertion searched for its `// timing:` comment.
const EXPLANATION_REACH: usize = 12;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether line `i` belongs to an assertion (the assert may open a line or two above, in
/// the same statement).
fn in_assertion(lines: &[&str], i: usize) -> bool {
    for j in (i.saturating_sub(2)..=i).rev() {
        if j < i && lines[j].trim_end().ends_with(';') {
            return false;
        }
        if lines[j].contains("assert") {
            return true;
        }
    }
    false
}

/// The attribute of the test function enclosing line `i`, if any.
fn test_attribute<'a>(lines: &[&'a str], i: usize) -> Option<&'a str> {
    lines[..i].iter().rev().map(|l| l.trim()).find(|l| {
        l.starts_with("#[tokio::test") || l.starts_with("#[test]") || l.starts_with("proptest!")
    })
}

/// Unexplained wall-clock assertions in one file's test code, as `path:line: text`.
fn unexplained(path: &Path, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    // In library sources only the `#[cfg(test)]` part is test code.
    let first_test_line = if path.components().any(|c| c.as_os_str() == "tests") {
        0
    } else {
        match lines.iter().position(|l| l.trim() == "#[cfg(test)]") {
            Some(n) => n,
            None => return Vec::new(),
        }
    };
    let mut found = Vec::new();
    for i in first_test_line..lines.len() {
        let line = lines[i];
        if !line.contains("elapsed") || !in_assertion(&lines, i) {
            continue;
        }
        if test_attribute(&lines, i).is_some_and(|a| a.contains("start_paused")) {
            continue;
        }
        let explained = lines[i.saturating_sub(EXPLANATION_REACH)..i]
            .iter()
            .any(|l| l.trim_start().starts_with("// timing:"));
        if !explained {
            found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
        }
    }
    found
}

#[test]
fn every_wall_clock_assertion_runs_on_a_paused_clock_or_says_why_it_is_safe() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("tests"), &mut files);
    rust_files(&root.join("connector/src"), &mut files);
    files.sort();
    let this_file = root.join("tests/conventions.rs");
    let found: Vec<String> = files
        .iter()
        .filter(|p| **p != this_file)
        .flat_map(|p| unexplained(p, &std::fs::read_to_string(p).unwrap()))
        .collect();
    assert!(
        found.is_empty(),
        "assertions on wall-clock time with neither a paused clock nor a `// timing:` \
         comment saying why machine speed cannot move them (docs/testing.md):\n{}",
        found.join("\n")
    );
}

/// The check finds what it is for: an unexplained bound fails it, a paused clock or an
/// explanation passes.
#[test]
fn the_check_tells_a_timed_assertion_from_an_explained_one() {
    let path = Path::new("tests/example.rs");
    let timed = "#[tokio::test]\nasync fn t() {\n    let started = Instant::now();\n    run().await;\n    assert!(started.elapsed() < Duration::from_secs(2));\n}\n";
    assert_eq!(unexplained(path, timed).len(), 1);
    let paused = timed.replace("#[tokio::test]", "#[tokio::test(start_paused = true)]");
    assert!(unexplained(path, &paused).is_empty());
    let explained = timed.replace(
        "    run().await;\n",
        "    run().await;\n    // timing: a lower bound on a wait the code must make\n",
    );
    assert!(unexplained(path, &explained).is_empty());
    let multi_line =
        "#[test]\nfn t() {\n    assert!(\n        started.elapsed() >= WAIT,\n    );\n}\n";
    assert_eq!(unexplained(path, multi_line).len(), 1);
    // A figure printed after an assertion is not part of it.
    let printed = "#[test]\nfn t() {\n    assert!(ok);\n    eprintln!(\"{elapsed:?}\");\n}\n";
    assert!(unexplained(path, printed).is_empty());
    // Library code outside `#[cfg(test)]` is not test code.
    let library = "fn f() {\n    debug_assert!(start.elapsed() < LIMIT);\n}\n";
    assert!(unexplained(Path::new("connector/src/x.rs"), library).is_empty());
}
