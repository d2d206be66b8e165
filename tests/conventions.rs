//! Conventions that a reviewer would otherwise have to remember: no test may pass or fail
//! by how fast the machine is (docs/testing.md), and the library's modules import each
//! other in one direction only (docs/architecture.md).
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

// ---------------------------------------------------------------- module graph

/// `connector/src/a/b.rs` and `connector/src/a/b/mod.rs` -> `a::b`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts.join("::")
}

/// Which modules each module's non-test code names through `crate::` or `super::` paths,
/// between modules that are not each other's ancestor.
fn module_edges(src: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.retain(|f| f.file_name().is_some_and(|n| n != "main.rs"));
    let modules: std::collections::BTreeSet<String> =
        files.iter().map(|f| module_of(src, f)).collect();
    let path = regex::Regex::new(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)").unwrap();
    let mut edges = Vec::new();
    for file in &files {
        let from = module_of(src, file);
        let text = std::fs::read_to_string(file).unwrap();
        let code = text
            .split("#[cfg(test)]\nmod tests")
            .next()
            .unwrap_or_default();
        for m in path.captures_iter(code) {
            let mut base: Vec<&str> = if &m[1] == "crate" {
                Vec::new()
            } else {
                from.split("::").filter(|p| !p.is_empty()).collect()
            };
            if &m[1] == "super" {
                base.pop();
            }
            let segments: Vec<&str> = m[2].trim_start_matches("::").split("::").collect();
            let target = (1..=segments.len()).rev().find_map(|k| {
                let candidate = base
                    .iter()
                    .chain(&segments[..k])
                    .copied()
                    .collect::<Vec<_>>()
                    .join("::");
                modules.contains(&candidate).then_some(candidate)
            });
            if let Some(to) = target {
                let related = to == from
                    || from.starts_with(&format!("{to}::"))
                    || to.starts_with(&format!("{from}::"))
                    || to.is_empty()
                    || from.is_empty();
                if !related {
                    edges.push((from.clone(), to));
                }
            }
        }
    }
    edges
}

/// A cycle in `edges`, if any, as the modules along it.
fn find_cycle(edges: &[(String, String)]) -> Option<Vec<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, b) in edges {
        graph.entry(a).or_default().insert(b);
    }
    fn visit<'a>(
        node: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        done: &mut BTreeSet<&'a str>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, done, stack) {
                return Some(c);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, &graph, &mut done, &mut Vec::new()))
}

/// Edges between siblings: `a::x::f -> a::y` is `a::x -> a::y` (and at the top level,
/// `status -> sigma`), so a cycle through any module's children shows.
fn sibling_edges(edges: &[(String, String)]) -> Vec<(String, String)> {
    edges
        .iter()
        .filter_map(|(a, b)| {
            let (a, b): (Vec<&str>, Vec<&str>) = (a.split("::").collect(), b.split("::").collect());
            let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            (common < a.len() && common < b.len())
                .then(|| (a[..=common].join("::"), b[..=common].join("::")))
        })
        .collect()
}

/// No import circles: neither between the library's files nor between the children of any
/// module (the top-level modules included). A circle means two modules are one concern,
/// or a shared type lives in the wrong one.
#[test]
fn the_module_graph_has_no_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("connector/src");
    let edges = module_edges(&src);
    assert!(
        edges.len() > 50,
        "the check sees the imports: {}",
        edges.len()
    );
    assert_eq!(
        find_cycle(&edges),
        None,
        "files import each other in a circle"
    );
    assert_eq!(
        find_cycle(&sibling_edges(&edges)),
        None,
        "modules import each other in a circle"
    );
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let e = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    let edges = [
        e("status", "sigma::source"),
        e("sigma::source::status", "status"),
    ];
    assert_eq!(find_cycle(&edges), None, "no file-level circle");
    assert_eq!(
        find_cycle(&sibling_edges(&edges)),
        Some(vec!["sigma".into(), "status".into(), "sigma".into()])
    );
}
