//! Every measured figure in the docs says when it was measured, or comes from a script.
//!
//! A time or a rate measured on some machine (a tick's lateness, a hop's latency, how long a
//! simulation took, a benchmark's throughput) is true only of that machine, that build and that
//! day. So each sentence of README.md and docs/*.md that quotes one must carry, in its paragraph,
//! list item or table (a table's lead-in paragraph included) or in its section's heading, a date
//! (`2026-12-06`), or name `scripts/measure-docs.sh`, which remeasures the figures and prints them
//! in the docs' words.
//!
//! What counts as a measured figure is a number with a unit of time or of throughput (`130 µs`,
//! `0.2 to 0.7 s`, `66.6 M frames/s`, "tens of microseconds") in a sentence that says it was
//! measured: "measured", "median", "p50", "took 0.05 s", "on this 2-core machine", "under load",
//! "callgrind" and the like. Code spans and fenced blocks are left out, so options, configuration
//! values and example output (`--stall-ms 500`, `fixed:100us`) never count, nor do definitions in
//! prose ("sampled every 100 ms"), which carry no such word.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

const SCRIPT: &str = "scripts/measure-docs.sh";

/// A number (or a range of two) with a unit of time or throughput, or such a figure in words.
static FIGURE: LazyLock<Regex> = LazyLock::new(|| {
    let num = r"\d[\d,]*(?:\.\d+)?";
    Regex::new(&format!(
        r"(?:^|[^\w.]){num}(?:\s?(?:-|to)\s?{num})?\s?(?:ns|µs|us|ms|s|M frames/s|M events/s|events per second|M instructions|M parses/s)(?:$|[^\w/])|\b(?:tens|hundreds) (?:to hundreds )?of (?:(?:micro|milli)?seconds|µs|ms)"
    ))
    .unwrap()
});

/// Words that say a figure was measured rather than chosen.
static MEASURED: LazyLock<Regex> = LazyLock::new(|| {
    let num = r"\d[\d,]*(?:\.\d+)?";
    Regex::new(&format!(
        r"(?i)\bmeasured\b|\bmeasures\b|\bmedian\b|\bp50\b|\bp99\b|under load|\bthis (?:2-core|2-vCPU|shared)[\w -]*(?:machine|VM)\b|\bthis machine\b|\bloaded machine\b|fastest of|callgrind|criterion|on loopback|\breal (?:loopback|hop|network)|\btook (?:about )?{num}|\btakes about {num}|{num}\s?s in all|\bruns? (?:some )?(?:tens|hundreds)"
    ))
    .unwrap()
});

/// "is measured", "are measured": how a figure is defined, not a figure that was measured.
static PASSIVE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:is|are|be|being) measured\b").unwrap());

/// What dates a figure: a date, or the script that remeasures it.
static DATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\b20\d\d-\d\d-\d\d\b|{}", regex::escape(SCRIPT))).unwrap()
});

/// An inline code span: an option, a value or a command, never prose.
static CODE_SPAN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"`[^`]*`").unwrap());

/// What a block of Markdown is: a table's rows are one sentence each.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Paragraph,
    Item,
    Table,
}

/// A paragraph, a list item (with its continuation lines) or a table, with its line numbers and
/// the heading of its section. Fenced code is no block.
struct Block<'a> {
    kind: Kind,
    lines: Vec<(usize, &'a str)>,
    heading: &'a str,
}

fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out: Vec<Block> = Vec::new();
    let mut current: Option<Block> = None;
    let mut fenced = false;
    let mut heading = "";
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let ends_block = line.starts_with("```") || fenced || line.starts_with('#');
        if ends_block || line.trim().is_empty() {
            out.extend(current.take());
            if line.starts_with("```") {
                fenced = !fenced;
            } else if !fenced && line.starts_with('#') {
                heading = line;
            }
            continue;
        }
        let kind = if line.starts_with('|') {
            Kind::Table
        } else if is_item(line) {
            Kind::Item
        } else {
            Kind::Paragraph
        };
        let continues = match &current {
            Some(block) => {
                kind != Kind::Item
                    && (block.kind == kind || (block.kind == Kind::Item && kind == Kind::Paragraph))
            }
            None => false,
        };
        if !continues {
            out.extend(current.take());
            current = Some(Block {
                kind,
                lines: Vec::new(),
                heading,
            });
        }
        if let Some(block) = current.as_mut() {
            block.lines.push((number, line));
        }
    }
    out.extend(current);
    out
}

fn is_item(line: &str) -> bool {
    let rest = line.trim_start_matches(|c: char| c.is_ascii_digit());
    line.starts_with("- ")
        || line.starts_with("* ")
        || (rest.len() < line.len() && rest.starts_with(". "))
}

/// The sentences of a block, each with the line it starts on; a table row is one sentence, and
/// code spans are blanked.
fn sentences(block: &Block) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut sentence = String::new();
    let mut start = 0;
    for &(number, line) in &block.lines {
        let line = CODE_SPAN.replace_all(line, "``");
        if block.kind == Kind::Table {
            out.push((number, line.into_owned()));
            continue;
        }
        if sentence.is_empty() {
            start = number;
        }
        for word in line.split_whitespace() {
            sentence.push_str(word);
            sentence.push(' ');
            if word.ends_with(['.', ';', ':']) && !word.ends_with("..") {
                out.push((start, std::mem::take(&mut sentence)));
                start = number;
            }
        }
    }
    if !sentence.trim().is_empty() {
        out.push((start, sentence));
    }
    out
}

/// Whether a sentence quotes a measured figure.
fn quotes_measured_figure(sentence: &str) -> bool {
    let unpassive = PASSIVE.replace_all(sentence, "");
    FIGURE.is_match(sentence) && MEASURED.is_match(&unpassive)
}

/// The measured figures of one document that carry no date: `(line, sentence)`.
fn undated(text: &str) -> Vec<(usize, String)> {
    let blocks = blocks(text);
    let mut out = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let mut context: String = block
            .lines
            .iter()
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join(" ");
        context.push(' ');
        context.push_str(block.heading);
        // A table's rows are measured when its lead-in says so ("measured on this machine:").
        let mut measured_table = false;
        if let Some(before) = i.checked_sub(1).map(|j| &blocks[j]) {
            let leads_in = before
                .lines
                .last()
                .is_some_and(|(_, l)| l.trim_end().ends_with(':'));
            if block.kind == Kind::Table || leads_in {
                let lead: Vec<&str> = before.lines.iter().map(|(_, l)| *l).collect();
                let lead = lead.join(" ");
                measured_table =
                    block.kind == Kind::Table && MEASURED.is_match(&PASSIVE.replace_all(&lead, ""));
                context.push(' ');
                context.push_str(&lead);
            }
        }
        if DATED.is_match(&context) {
            continue;
        }
        for (line, sentence) in sentences(block) {
            let figure = FIGURE.is_match(&sentence);
            if quotes_measured_figure(&sentence) || (measured_table && figure) {
                out.push((line, sentence.trim().to_string()));
            }
        }
    }
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every docs/*.md, sorted.
fn documents() -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = fs::read_dir(root().join("docs"))
        .expect("docs/ is readable")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root().join("README.md"));
    docs
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[test]
fn every_measured_figure_in_the_docs_has_a_date_or_its_script() {
    let mut problems = Vec::new();
    for path in documents() {
        let name = path
            .strip_prefix(root())
            .unwrap_or(&path)
            .display()
            .to_string();
        for (line, sentence) in undated(&read(&path)) {
            problems.push(format!("{name}:{line}: {sentence}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} measured figure(s) without a date (YYYY-MM-DD) or `{SCRIPT}` in their paragraph, table \
         or section heading; say when and on what each was measured, or let the script print it:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_script_names_only_sections_the_docs_have() {
    // The script prints each figure under `[docs/FILE.md, "Section"; ...]`: every section it
    // names must be a heading of that file, so that a reader finds the sentence it remeasures.
    let script = read(&root().join(SCRIPT));
    let tag = Regex::new(r#"(docs/[A-Z]+\.md), \\?"([^"\\]+)\\?""#).unwrap();
    let mut named = 0;
    for found in tag.captures_iter(&script) {
        let (file, section) = (&found[1], &found[2]);
        let text = read(&root().join(file));
        let heading = text.lines().any(|l| {
            l.starts_with('#')
                && l.trim_start_matches('#')
                    .trim()
                    .trim_matches('`')
                    .contains(section)
        });
        assert!(
            heading,
            "{SCRIPT} names the section \"{section}\" of {file}, which has no such heading"
        );
        named += 1;
    }
    assert!(
        named >= 5,
        "{SCRIPT} names only {named} sections of the docs"
    );
}

#[test]
fn the_script_is_executable_bash_that_parses() {
    use std::os::unix::fs::PermissionsExt;
    let path = root().join(SCRIPT);
    let mode = fs::metadata(&path)
        .unwrap_or_else(|e| panic!("{SCRIPT}: {e}"))
        .permissions()
        .mode();
    assert!(
        mode & 0o111 != 0,
        "{SCRIPT} is not executable (mode {mode:o})"
    );
    let parsed = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash runs");
    assert!(
        parsed.status.success(),
        "bash -n {SCRIPT}: {}",
        String::from_utf8_lossy(&parsed.stderr)
    );
}

#[test]
fn the_detector_finds_measured_figures() {
    for sentence in [
        "a real run on this machine under load had 6 (tick lateness p50 130-150 µs, p99 about 3 ms)",
        "The sweep below simulates 50 trials of 60 s at each rate of machine 1. It took 0.05 s:",
        "takes about 0.4 to 0.75 s on this 2-core machine, depending on its load.",
        "A real machine's tick runs some tens to hundreds of microseconds after its deadline",
        "measured a real run at rates 100, 200, 300 for 2 s: hop latency p50 356-438 µs",
        "went from 188 M to 354 M instructions, counted by callgrind",
        "on this machine a tick runs tens to hundreds of µs late",
    ] {
        assert!(quotes_measured_figure(sentence), "missed: {sentence}");
    }
}

#[test]
fn the_detector_leaves_definitions_and_options_alone() {
    for sentence in [
        "``, the router gives up after 500 ms.",
        "The clocks are compared every 100 ms from the latest first row.",
        "a clock 250 ms ahead that gains 100 µs a second",
        "its summary's hop latencies are measured on its own clock likewise: 250 ms more.",
        "a trial of T seconds has exactly 60 ticks in 60 s at 1 tick/s",
        "the median of the jumps, in clock units",
    ] {
        assert!(!quotes_measured_figure(sentence), "flagged: {sentence}");
    }
}

#[test]
fn a_date_in_the_paragraph_the_table_lead_in_or_the_heading_dates_a_figure() {
    let undated_text = "# Speed\n\nIt took 0.05 s on this 2-core machine.\n";
    assert_eq!(undated(undated_text).len(), 1);
    for dated in [
        "# Speed\n\nIt took 0.05 s on this 2-core machine (2026-12-06).\n",
        "# Speed (2026-12-06)\n\nIt took 0.05 s on this 2-core machine.\n",
        "# Speed\n\nIt took 0.05 s (`scripts/measure-docs.sh` prints it).\n",
        "# Speed\n\nMeasured 2026-12-06:\n\n| case | time |\n|---|---|\n| a | median 86 µs |\n",
    ] {
        assert_eq!(undated(dated), Vec::new(), "{dated}");
    }
    // A fenced block is not prose, and a date in another paragraph dates nothing here.
    assert!(undated("```\ntook 5 ms, median 3 ms\n```\n").is_empty());
    assert_eq!(
        undated("Measured 2026-12-06.\n\nIt took 0.05 s on this machine.\n").len(),
        1
    );
    // The rows of a table whose lead-in says they were measured are measured figures.
    let table = "Measured on this machine:\n\n| seed | diff |\n|---|---|\n| 11 | from 0.60 s |\n";
    assert_eq!(
        undated(table),
        vec![(5, "| 11 | from 0.60 s |".to_string())]
    );
}
