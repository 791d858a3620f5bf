//! The shape of the crate, checked: which top-level module may use which.
//!
//! Reads `src/` and collects every `crate::<module>` a top-level module names (outside its
//! tests). The flow is one way — `cli` → `app` → `http` → `state` → services → `store`/`blobs`
//! → `domain` — so the graph must have no cycle, and the layers below `http` must never
//! reach back up into `http`, `app` or `cli`. `fuzz` is a test harness of the parsers and is
//! left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Modules that wire or translate; nothing else may use them.
const UPPER: [&str; 3] = ["cli", "app", "http"];
/// What the bottom layers may use (besides themselves).
const ALLOWED_BELOW: [(&str, &[&str]); 3] =
    [("domain", &[]), ("store", &["domain"]), ("blobs", &[])];

fn module_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = Graph::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|ext| ext != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).expect("below src");
            let first = relative
                .iter()
                .next()
                .expect("a file name")
                .to_string_lossy();
            let top = first.trim_end_matches(".rs").to_owned();
            if ["lib", "main", "layering", "fuzz"].contains(&top.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            let uses = graph.entry(top.clone()).or_default();
            for used in named_modules(code) {
                if used != top {
                    uses.insert(used);
                }
            }
        }
    }
    graph
}

/// The top-level modules `code` names: `crate::x` paths and `use crate::{x, y::z}` groups.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The first name of each item at the group's own depth: `{a::{B, C}, d}` → a, d.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        let name = ident(&group[i..]);
                        if !name.is_empty() {
                            found.insert(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found.retain(|name| name.chars().next().is_some_and(|c| c.is_ascii_lowercase()));
    found
}

fn cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_form_no_cycle() {
    let graph = module_graph();
    assert!(
        graph.len() > 10,
        "the crate's modules were not found: {graph:?}"
    );
    assert_eq!(
        cycle(&graph),
        None,
        "an import cycle between top-level modules"
    );
}

#[test]
fn nothing_below_http_reaches_up() {
    for (module, uses) in module_graph() {
        if UPPER.contains(&module.as_str()) {
            continue;
        }
        for upper in UPPER {
            assert!(
                !uses.contains(upper),
                "{module} uses {upper}, a layer above it"
            );
        }
    }
}

#[test]
fn the_bottom_layers_use_only_what_is_below_them() {
    let graph = module_graph();
    for (module, allowed) in ALLOWED_BELOW {
        let uses = graph.get(module).cloned().unwrap_or_default();
        let extra: Vec<_> = uses
            .iter()
            .filter(|u| !allowed.contains(&u.as_str()))
            .collect();
        assert!(extra.is_empty(), "{module} uses {extra:?}");
    }
}

#[test]
fn the_checks_see_a_cycle_and_a_grouped_use() {
    assert_eq!(
        named_modules("use crate::{store::{Store, Row}, domain};\nlet x = crate::http::f();"),
        BTreeSet::from(["store".to_owned(), "domain".to_owned(), "http".to_owned()])
    );
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(from, to)| (from.to_owned(), BTreeSet::from([to.to_owned()])))
        .collect();
    assert!(cycle(&graph).is_some());
}
