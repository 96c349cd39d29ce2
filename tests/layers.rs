//! The architecture, kept true by a test: each layer of `src/` imports only the layers below it,
//! no two modules import each other in a circle, the pure core touches no I/O, only `net` uses
//! mio, signals and child-process control, and no source file outgrows one sitting.
//!
//! docs/ARCHITECTURE.md explains the layers; this file is their definition. The test reads the
//! sources as text: every `crate::a::b` path and every `super::b` path outside comments counts as
//! an import, whether in a `use` or inline.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first; a module may import its own layer and those of a lower rank. Two
/// layers of one rank (the two drivers) may not import each other.
const LAYERS: [(&str, u8); 9] = [
    ("core", 0),
    ("config", 1),
    ("rundir", 2),
    ("net", 3),
    ("sim", 3),
    ("check", 4),
    ("analysis", 5),
    ("report", 6),
    ("cli", 7),
];

/// The longest a source file may be; test files (`tests.rs`, `tests/`) apart.
const MAX_LINES: usize = 500;

/// What the pure core never names: files, sockets, processes, threads, the OS clock, the drivers'
/// crates.
const NOT_IN_CORE: [&str; 12] = [
    "std::fs",
    "std::net",
    "std::process",
    "std::thread",
    "std::io::stdin",
    "std::io::stdout",
    "Instant::now",
    "SystemTime",
    "mio::",
    "signal_hook",
    "nix::",
    "println!",
];

/// What only `net` names: the event loop, signals and process control.
const ONLY_IN_NET: [&str; 4] = ["mio::", "signal_hook", "nix::", "std::os::unix::process"];

/// One source file of the library: its module path (`["core", "wire"]`) and its text without
/// comments.
struct Source {
    path: PathBuf,
    module: Vec<String>,
    code: String,
    lines: usize,
    is_test: bool,
}

fn rank(layer: &str) -> Option<u8> {
    LAYERS.iter().find(|(name, _)| *name == layer).map(|l| l.1)
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `src/core/wire/frame.rs` is module `core::wire::frame`; `mod.rs` stands for its folder.
fn module_of(src: &Path, path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The text with `//` comments (doc comments included) removed, so a doc link such as
/// ``[`crate::net`]`` is not an import. String literals that contain `//` are rare enough here
/// that cutting them short changes no path.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != "main.rs" && n != "lib.rs")
        })
        .map(|path| {
            let text = fs::read_to_string(&path).expect("a readable source file");
            let module = module_of(&src, &path);
            Source {
                is_test: module.iter().any(|m| m == "tests"),
                code: without_comments(&text),
                lines: text.lines().count(),
                module,
                path,
            }
        })
        .collect()
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The module paths (up to two segments: `core::wire`) that `code` imports with `crate::`,
/// including each member of a group such as `crate::{check, core::wire}`.
fn crate_paths(code: &str) -> BTreeSet<Vec<String>> {
    let mut paths = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // One level of grouping is all the sources use: `crate::{a, b::c}`.
            let end = group.find('}').unwrap_or(group.len());
            for member in group[..end].split(',') {
                paths.insert(two_segments(member.trim()));
            }
        } else {
            paths.insert(two_segments(rest));
        }
    }
    paths.retain(|p| !p.is_empty());
    paths
}

/// `a::b::c...` as `[a, b]` (or `[a]` when `b` is not a module name: a type or a group).
fn two_segments(path: &str) -> Vec<String> {
    let first = ident(path);
    if first.is_empty() {
        return Vec::new();
    }
    let mut out = vec![first.to_string()];
    if let Some(rest) = path[first.len()..].strip_prefix("::") {
        let second = ident(rest);
        if second
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase())
        {
            out.push(second.to_string());
        }
    }
    out
}

/// The sibling modules that `code`, in module `module`, reaches with `super::name`.
fn super_paths(module: &[String], code: &str) -> BTreeSet<Vec<String>> {
    let mut paths = BTreeSet::new();
    if module.len() < 2 {
        return paths;
    }
    let parent = &module[..module.len() - 1];
    for (at, _) in code.match_indices("super::") {
        let name = ident(&code[at + "super::".len()..]);
        if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            let mut path = parent.to_vec();
            path.push(name.to_string());
            paths.insert(path);
        }
    }
    paths
}

/// The node of the import graph a module belongs to: its first two segments (`core::wire` for
/// `core::wire::frame`), so a module's own children and tests are part of it.
fn node(module: &[String]) -> String {
    module
        .iter()
        .take(2)
        .cloned()
        .collect::<Vec<_>>()
        .join("::")
}

#[test]
fn every_source_file_belongs_to_a_layer() {
    for s in sources() {
        assert!(
            rank(&s.module[0]).is_some(),
            "{}: module {} is in no layer of tests/layers.rs (add it to LAYERS and to \
             docs/ARCHITECTURE.md)",
            s.path.display(),
            s.module.join("::")
        );
    }
}

/// Every import in `sources` that does not go down a layer (or stay in its own).
fn upward_imports(sources: &[Source]) -> Vec<String> {
    let mut upward = Vec::new();
    for s in sources {
        let own = &s.module[0];
        let Some(own_rank) = rank(own) else { continue };
        for path in crate_paths(&s.code) {
            let layer = &path[0];
            match rank(layer) {
                Some(r) if layer == own || r < own_rank => {}
                Some(_) => upward.push(format!(
                    "{} ({own}) imports crate::{}",
                    s.path.display(),
                    path.join("::")
                )),
                None => upward.push(format!(
                    "{} imports crate::{}, which is no layer",
                    s.path.display(),
                    path.join("::")
                )),
            }
        }
    }
    upward
}

/// The import graph between nodes (see [`node`]).
fn import_graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in sources {
        let from = node(&s.module);
        let imports = crate_paths(&s.code)
            .into_iter()
            .chain(super_paths(&s.module, &s.code));
        for path in imports {
            let to = node(&path);
            // A module may use its own parent's items (`super::*` in tests, a folder's mod.rs).
            if to != from && !from.starts_with(&format!("{to}::")) {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

/// A circle in `edges`, as the nodes along it (the first repeated at the end), if there is one.
fn find_circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // Depth-first search for a back edge; the stack at that point is the circle.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut circle = stack[at..].to_vec();
            circle.push(node.to_string());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, done, stack) {
                return Some(circle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, edges, &mut done, &mut Vec::new()))
}

#[test]
fn layers_import_only_downward() {
    let upward = upward_imports(&sources());
    assert!(
        upward.is_empty(),
        "imports that do not go down a layer:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_import_circle_between_modules() {
    if let Some(circle) = find_circle(&import_graph(&sources())) {
        panic!("an import circle: {}", circle.join(" -> "));
    }
}

#[test]
fn the_core_is_pure() {
    let mut found = Vec::new();
    for s in sources()
        .iter()
        .filter(|s| s.module[0] == "core" && !s.is_test)
    {
        for word in NOT_IN_CORE {
            if s.code.contains(word) {
                found.push(format!("{} uses {word}", s.path.display()));
            }
        }
    }
    assert!(found.is_empty(), "I/O in the core:\n{}", found.join("\n"));
}

#[test]
fn only_net_drives_sockets_signals_and_processes() {
    let mut found = Vec::new();
    for s in sources().iter().filter(|s| s.module[0] != "net") {
        for word in ONLY_IN_NET {
            if s.code.contains(word) {
                found.push(format!("{} uses {word}", s.path.display()));
            }
        }
    }
    assert!(found.is_empty(), "outside net:\n{}", found.join("\n"));
}

#[test]
fn no_source_file_is_over_500_lines() {
    let long: Vec<String> = sources()
        .iter()
        .filter(|s| !s.is_test && s.lines > MAX_LINES)
        .map(|s| format!("{}: {} lines", s.path.display(), s.lines))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split them by what they own):\n{}",
        long.join("\n")
    );
}

/// A made-up source file, for the tests of the checks themselves.
fn fake(module: &str, code: &str) -> Source {
    Source {
        path: PathBuf::from(format!("src/{}.rs", module.replace("::", "/"))),
        module: module.split("::").map(str::to_string).collect(),
        code: without_comments(code),
        lines: code.lines().count(),
        is_test: false,
    }
}

#[test]
fn the_checks_catch_what_they_are_for() {
    // An upward import, a sideways one between the two drivers, and a downward one.
    let sources = [
        fake("check::rules", "use crate::cli::args::RunArgs;"),
        fake("sim", "let x = crate::net::router::Router::new();"),
        fake("report", "use crate::analysis::RunAnalysis;"),
    ];
    assert_eq!(
        upward_imports(&sources),
        [
            "src/check/rules.rs (check) imports crate::cli::args",
            "src/sim.rs (sim) imports crate::net::router",
        ]
    );
    // A circle through three modules of one layer, one through a child's `super::`, and none.
    let circle = [
        fake("core::machine", "use crate::core::event::Record;"),
        fake("core::event", "use super::wire::Kind;"),
        fake("core::wire", "use crate::core::machine::Message;"),
    ];
    assert_eq!(
        find_circle(&import_graph(&circle)).map(|c| c.join(" -> ")),
        Some("core::event -> core::wire -> core::machine -> core::event".to_string())
    );
    let tree = [
        fake("core::machine", "use crate::core::event::Record;"),
        fake(
            "core::machine::tests",
            "use super::*; use crate::core::machine::Machine;",
        ),
        fake("core::event", "use super::wire::Kind;"),
    ];
    assert_eq!(find_circle(&import_graph(&tree)), None);
}

#[test]
fn the_checks_see_imports() {
    // The parser itself: a group, an inline path, a type after a layer, a doc link ignored.
    let code = without_comments(
        "use crate::{check, core::wire::Kind};\n\
         let x = crate::rundir::records::RunRecord::default();\n\
         use crate::config::Config;\n\
         /// See [`crate::cli`].\n",
    );
    let paths: Vec<String> = crate_paths(&code).iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["check", "config", "core::wire", "rundir::records"]);
    let module = vec!["core".to_string(), "machine".to_string()];
    let sup: Vec<String> = super_paths(&module, "use super::wire::Kind; use super::*;")
        .iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(sup, ["core::wire"]);
    assert_eq!(node(&module), "core::machine");
}
