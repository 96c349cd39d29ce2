//! The architecture, kept true by a test: each layer of `src/` imports only the layers below it,
//! no two modules import each other in a circle, the pure core touches no I/O, only `net` uses
//! mio, signals and process control, only `cli` takes over the terminal (crossterm) and only
//! `report` and `cli` draw with ratatui, only `net` and `cli` read the OS clock, and no source
//! file outgrows one sitting.
//!
//! docs/ARCHITECTURE.md explains the layers; this file is their definition. The test reads the
//! sources as text, without comments and string literals, and follows every path that starts at
//! `crate::` or `super::` (in a `use` or inline, over several lines, with nested groups such as
//! `crate::{core::{wire, route}, net}`) to the module it names.

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

/// What the pure core never names: files, sockets, processes, threads, the environment, standard
/// input and output, the OS clock, and the drivers' crates.
const NOT_IN_CORE: [&str; 14] = [
    "std::fs",
    "std::net",
    "std::process",
    "std::thread",
    "std::env",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::stderr",
    "std::time::Instant",
    "std::time::SystemTime",
    "mio",
    "signal_hook",
    "signal_hook_mio",
    "nix",
];

/// Macros that print, which the core never calls.
const PRINTING: [&str; 4] = ["println!", "eprintln!", "print!", "eprint!"];

/// What only `net` names: the event loop, signals and control of child processes.
const ONLY_IN_NET: [&str; 5] = [
    "mio",
    "signal_hook",
    "signal_hook_mio",
    "nix",
    "std::os::unix::process",
];

/// The terminal: only `cli` (the live view's screen and keyboard) takes it over.
const ONLY_IN_CLI: [&str; 2] = ["crossterm", "ratatui::crossterm"];

/// The terminal UI crate, which draws into a buffer: `report` renders the live view with it,
/// `cli` puts it on the screen.
const TERMINAL_UI: &str = "ratatui";

/// The OS clock, read only by the drivers (`net`) and the subcommands (`cli`, which time what
/// they do for the user); everything below takes time as an argument.
const OS_CLOCK: [&str; 3] = ["Instant::now", "SystemTime::now", "thread::sleep"];

/// One source file of the library: its module path (`["core", "wire", "frame"]`) and its code
/// without comments and string literals, white space folded.
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

/// The code with comments (doc comments included), string literals and char literals blanked
/// out, so a doc link such as ``[`crate::net`]`` or a message naming a path is not an import.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    while i < chars.len() {
        let c = chars[i];
        if at(i, "//") {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if at(i, "/*") {
            let mut depth = 0;
            while i < chars.len() {
                if at(i, "/*") {
                    depth += 1;
                    i += 2;
                } else if at(i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (at(i + 1, "\"") || at(i + 1, "#\"") || at(i + 1, "##\"")) {
            // A raw string: r"..", r#".."#, r##".."##.
            let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
            let end: String = std::iter::once('"')
                .chain("#".repeat(hashes).chars())
                .collect();
            i += 2 + hashes;
            while i < chars.len() && !at(i, &end) {
                i += 1;
            }
            i += end.len();
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && chars.get(i + 1) == Some(&'\\') {
            // An escaped char literal: '\n', '\'', '\u{..}'.
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            i += 3;
            out.push_str("' '");
        } else {
            // Anything else, lifetimes ('a) included.
            out.push(c);
            i += 1;
        }
    }
    fold_space(&out)
}

/// White space folded to single spaces and removed around `::`, braces and commas, so a path
/// split over lines reads as one.
fn fold_space(code: &str) -> String {
    let mut folded = code.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [
        (":: ", "::"),
        (" ::", "::"),
        ("{ ", "{"),
        (" }", "}"),
        (" ,", ","),
        (", ", ","),
    ] {
        while folded.contains(from) {
            folded = folded.replace(from, to);
        }
    }
    folded
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
                code: code_only(&text),
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

/// Reads one use-tree at the start of `text` (`a::b`, `a::{b, c::{d, e}}`, `a::*`) under
/// `prefix`, adding every path it names to `out`; returns how many bytes it read.
fn use_tree(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    if text.starts_with('*') {
        out.push(prefix.to_vec());
        return 1;
    }
    if let Some(group) = text.strip_prefix('{') {
        let mut rest = group;
        loop {
            rest = rest.trim_start_matches(',');
            if let Some(after) = rest.strip_prefix('}') {
                return text.len() - after.len();
            }
            let n = use_tree(rest, prefix, out);
            if n == 0 {
                // Not a path: the group ends where it stops making sense.
                return text.len() - rest.len();
            }
            rest = &rest[n..];
        }
    }
    let name = ident(text);
    if name.is_empty() {
        return 0;
    }
    let mut path = prefix.to_vec();
    path.push(name.to_string());
    let n = match text[name.len()..].strip_prefix("::") {
        Some(rest) => match use_tree(rest, &path, out) {
            0 => 0,
            n => 2 + n,
        },
        None => 0,
    };
    if n == 0 {
        out.push(path);
        // A rename (`Write as _`, `fmt as f`) belongs to the path it renames.
        if let Some(alias) = text[name.len()..].strip_prefix(" as ") {
            return name.len() + " as ".len() + ident(alias).len();
        }
    }
    name.len() + n
}

/// Every path in `code` that starts at the root `root` (`crate`, `std`, `mio`, ...), expanded and
/// without the root: `crate::{a, b::c}` gives `[a]` and `[b, c]`. A root counts only where it
/// starts a path (not `foo_crate::`, not the `mio` of `signal_hook_mio::`).
fn paths_from(code: &str, root: &str) -> Vec<Vec<String>> {
    let needle = format!("{root}::");
    let mut out = Vec::new();
    for (at, _) in code.match_indices(&needle) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '$') {
            continue;
        }
        use_tree(&code[at + needle.len()..], &[], &mut out);
    }
    out
}

/// Every module path (from the crate root) that the code of `module` imports: its `crate::`
/// paths, and its `super::` paths resolved (`super::super::x` in `a::b::c` is `a::x`; `super` in
/// a layer's own `mod.rs` is the crate root).
fn imports(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut out = paths_from(code, "crate");
    for path in paths_from(code, "super") {
        // `paths_from` read the first `super`; the rest of the chain is in the path.
        let ups = 1 + path.iter().take_while(|p| *p == "super").count();
        let rest = path.iter().skip(ups - 1).cloned();
        let base = module.len().saturating_sub(ups);
        out.push(module[..base].iter().cloned().chain(rest).collect());
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Whether `code` names the path `text` (such as `std::fs` or `mio`) from its root.
fn names(code: &str, text: &str) -> bool {
    let want: Vec<&str> = text.split("::").collect();
    paths_from(code, want[0])
        .iter()
        .any(|p| p.len() + 1 >= want.len() && want[1..].iter().zip(p).all(|(w, p)| w == p))
}

/// The modules of the import graph: every source's first two segments (`core::wire` for
/// `core::wire::frame`), so a module's children and tests are part of it.
fn nodes(sources: &[Source]) -> BTreeSet<String> {
    sources.iter().map(|s| node_of(&s.module, None)).collect()
}

/// The node a module path belongs to: `a::b` when that is a module (of `known`, or any two
/// segments when `known` is `None`), else the layer `a` (`crate::check::check_trial` is in
/// `check`).
fn node_of(path: &[String], known: Option<&BTreeSet<String>>) -> String {
    if path.len() >= 2 {
        let two = format!("{}::{}", path[0], path[1]);
        if known.is_none_or(|k| k.contains(&two)) {
            return two;
        }
    }
    path[0].clone()
}

/// Every import in `sources` that does not go down a layer (or stay in its own).
fn upward_imports(sources: &[Source]) -> Vec<String> {
    let mut upward = Vec::new();
    for s in sources {
        let own = &s.module[0];
        let Some(own_rank) = rank(own) else { continue };
        for path in imports(&s.module, &s.code) {
            let layer = &path[0];
            let verdict = match rank(layer) {
                Some(r) if layer == own || r < own_rank => continue,
                Some(_) => "",
                None => ", which is no layer",
            };
            let line = format!(
                "{} ({own}) imports {}{verdict}",
                s.path.display(),
                path.join("::")
            );
            if !upward.contains(&line) {
                upward.push(line);
            }
        }
    }
    upward
}

/// The import graph between nodes (see [`node_of`]).
fn import_graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let known = nodes(sources);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in sources {
        let from = node_of(&s.module, Some(&known));
        for path in imports(&s.module, &s.code) {
            let to = node_of(&path, Some(&known));
            // A module may use its own layer's root (a folder's mod.rs) and itself.
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

/// What each source names that its layer may not: I/O in the core, drivers' crates outside
/// `net`, the terminal outside `cli` and its UI crate below `report`, the OS clock below `net`
/// and `cli`.
fn forbidden_uses(sources: &[Source]) -> Vec<String> {
    let mut found = Vec::new();
    for s in sources {
        let layer = s.module[0].as_str();
        let mut bad: Vec<&str> = Vec::new();
        if layer == "core" && !s.is_test {
            bad.extend(NOT_IN_CORE.iter().filter(|w| names(&s.code, w)));
            bad.extend(PRINTING.iter().filter(|w| s.code.contains(*w)));
        }
        if layer != "net" {
            bad.extend(ONLY_IN_NET.iter().filter(|w| names(&s.code, w)));
        }
        if layer != "cli" {
            bad.extend(ONLY_IN_CLI.iter().filter(|w| names(&s.code, w)));
        }
        if layer != "report" && layer != "cli" && names(&s.code, TERMINAL_UI) {
            bad.push(TERMINAL_UI);
        }
        if layer != "net" && layer != "cli" {
            bad.extend(OS_CLOCK.iter().filter(|w| s.code.contains(*w)));
        }
        for word in bad {
            let line = format!("{} ({layer}) uses {word}", s.path.display());
            if !found.contains(&line) {
                found.push(line);
            }
        }
    }
    found
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
fn each_layer_uses_only_what_it_may() {
    let found = forbidden_uses(&sources());
    assert!(
        found.is_empty(),
        "outside their layer:\n{}",
        found.join("\n")
    );
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
        code: code_only(code),
        lines: code.lines().count(),
        is_test: false,
    }
}

fn joined(paths: Vec<Vec<String>>) -> Vec<String> {
    paths.into_iter().map(|p| p.join("::")).collect()
}

#[test]
fn the_parser_reads_every_form_of_path() {
    let code = code_only(
        "use crate::{check, core::{wire::Kind, route}};\n\
         let x = crate::rundir::records::RunRecord::default();\n\
         use crate::\n    config::Config;\n\
         use crate::sim::*;\n\
         /// See [`crate::cli`]. /* crate::report */\n\
         let s = \"crate::net::router\"; let r = r#\"crate::net\"#; let c = '\"';\n\
         let y = foo_crate::bar; let z = $crate::baz;\n",
    );
    assert_eq!(
        joined(paths_from(&code, "crate")),
        [
            "check",
            "core::wire::Kind",
            "core::route",
            "rundir::records::RunRecord::default",
            "config::Config",
            "sim",
        ]
    );
    let module = [
        "core".to_string(),
        "machine".to_string(),
        "tests".to_string(),
    ];
    let code = code_only("use super::*; use super::super::wire::Kind; super::Machine::new();");
    assert_eq!(
        joined(imports(&module, &code)),
        [
            "core::machine",
            "core::wire::Kind",
            "core::machine::Machine::new"
        ]
    );
    // `super` in a layer's own mod.rs is the crate root.
    let layer = ["check".to_string()];
    assert_eq!(
        joined(imports(&layer, &code_only("use super::cli::args;"))),
        ["cli::args"]
    );
    // Groups of std paths, and a crate root only where a path starts.
    let code = code_only(
        "use std::{fmt as f, io::{self, Write as _}, fs}; use signal_hook_mio::v1_0::Signals;",
    );
    assert!(names(&code, "std::fs") && names(&code, "std::io") && !names(&code, "std::net"));
    assert!(names(&code, "signal_hook_mio") && !names(&code, "mio"));
}

#[test]
fn the_checks_catch_what_they_are_for() {
    // Upward, sideways between the two drivers, through super from a layer's root, and down.
    let sources = [
        fake(
            "check::rules",
            "use crate::{core::wire, cli::args::RunArgs};",
        ),
        fake("sim", "let x = crate::net::router::Router::new();"),
        fake("report", "use super::cli::analyze;"),
        fake("report::html", "use crate::analysis::RunAnalysis;"),
    ];
    assert_eq!(
        upward_imports(&sources),
        [
            "src/check/rules.rs (check) imports cli::args::RunArgs",
            "src/sim.rs (sim) imports net::router::Router::new",
            "src/report.rs (report) imports cli::analyze",
        ]
    );
    // A circle through three modules of one layer, one step of it through a sibling's `super`.
    let circle = [
        fake("core::machine", "use crate::core::event::Record;"),
        fake("core::event", "use super::wire::Kind;"),
        fake("core::wire", "use crate::core::machine::Message;"),
    ];
    assert_eq!(
        find_circle(&import_graph(&circle)).map(|c| c.join(" -> ")),
        Some("core::event -> core::wire -> core::machine -> core::event".to_string())
    );
    // A sibling through `super` is an edge; a child using its layer's root (a function of
    // check/mod.rs) is not, since a folder's root and its children are one module to the reader.
    let siblings = [
        fake("check", "use rules::clocks; mod rules;"),
        fake("check::rules", "use crate::check::check_trial;"),
        fake("check::load", "use super::rules::clocks;"),
    ];
    let graph = import_graph(&siblings);
    assert_eq!(
        graph["check::load"],
        BTreeSet::from(["check::rules".to_string()])
    );
    assert!(!graph.contains_key("check::rules"));
    let tree = [
        fake("core::machine", "use crate::core::event::Record;"),
        fake(
            "core::machine::tests",
            "use super::*; use crate::core::machine::Machine;",
        ),
        fake("core::event", "use super::wire::Kind;"),
    ];
    assert_eq!(find_circle(&import_graph(&tree)), None);
    // I/O in the core, a driver's crate outside net, the OS clock in a pure layer.
    let uses = [
        fake("core::wire", "use std::{fmt, fs::File}; println!(\"x\");"),
        fake("cli::run", "use nix::unistd::Pid; let t = Instant::now();"),
        fake("analysis", "let t = std::time::Instant::now();"),
        fake("net::client", "use mio::Poll; let t = Instant::now();"),
        fake(
            "report::live",
            "use ratatui::crossterm::event; use ratatui::widgets::Table;",
        ),
        fake("analysis::live", "use ratatui::text::Line;"),
        fake("cli::watch", "use ratatui::crossterm::event::Event;"),
    ];
    assert_eq!(
        forbidden_uses(&uses),
        [
            "src/core/wire.rs (core) uses std::fs",
            "src/core/wire.rs (core) uses println!",
            "src/cli/run.rs (cli) uses nix",
            "src/analysis.rs (analysis) uses Instant::now",
            "src/report/live.rs (report) uses ratatui::crossterm",
            "src/analysis/live.rs (analysis) uses ratatui",
        ]
    );
}
