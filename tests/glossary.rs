//! The glossary of `report.html`: in a generated report (a simulated run of two 30-second trials
//! under the example fault plan, so that every kind of table is there: trials, machines, timing,
//! across trials, causality, weather), every short heading of a table (an abbreviation or a word
//! with a meaning of its own, not a sentence) has a tooltip, and each tooltip's term has the same
//! definition in the glossary at the end of the page.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use regex::Regex;
use support::{TestDir, only_dir, succeeds_in};

/// Headings this long or longer are sentences that explain themselves.
const SENTENCE: usize = 30;

#[test]
fn every_abbreviation_in_the_tables_has_a_tooltip_and_a_glossary_entry() {
    let test = TestDir::new("glossary");
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/faults-example.yaml");
    let logs = test.join("logs");
    let plan = plan.to_str().expect("a UTF-8 path");
    let logs_arg = logs.to_str().expect("a UTF-8 path");
    succeeds_in(
        &test.path,
        &[
            "simulate",
            "--duration",
            "30",
            "--trials",
            "2",
            "--seed",
            "7",
            "--faults",
            plan,
            "--out",
            logs_arg,
        ],
    );
    let run = only_dir(&logs);
    let out = test.join("analysis");
    succeeds_in(
        &test.path,
        &[
            "analyze",
            run.to_str().expect("UTF-8"),
            "--out",
            out.to_str().expect("UTF-8"),
        ],
    );
    let page = std::fs::read_to_string(out.join("report.html")).expect("report.html");

    let thead = Regex::new(r"(?s)<thead>.*?</thead>").expect("regex");
    let th = Regex::new(r"(?s)<th[ >].*?</th>").expect("regex");
    let abbr = Regex::new(r#"<abbr title="([^"]*)">([^<]*)</abbr>"#).expect("regex");
    let tags = Regex::new("<[^>]*>").expect("regex");
    let mut tooltips: BTreeMap<String, String> = BTreeMap::new();
    let mut headings = 0;
    for head in thead.find_iter(&page) {
        for cell in th.find_iter(head.as_str()) {
            let cell = cell.as_str();
            let text = tags.replace_all(cell, "");
            let found: Vec<_> = abbr.captures_iter(cell).collect();
            headings += 1;
            assert!(
                !found.is_empty() || text.chars().count() >= SENTENCE,
                "the heading {text:?} has no tooltip: {cell}"
            );
            for c in found {
                tooltips.insert(c[2].to_owned(), c[1].to_owned());
            }
        }
    }
    assert!(
        headings > 80,
        "only {headings} headings: a table is missing"
    );
    // Headings of every kind of table, and the abbreviations the issue names.
    for term in [
        "miss",
        "ok",
        "late&gt;1 period",
        "same instant",
        "recv%",
        "p95",
        "clk",
        "growth/min",
        "tick max",
        "jumps over 5",
        "HLC counter max",
    ] {
        assert!(
            tooltips.contains_key(term),
            "no tooltip for {term}: {tooltips:?}"
        );
    }
    assert!(
        tooltips.contains_key("drift"),
        "no tooltip for the drift columns: {tooltips:?}"
    );
    let glossary = &page[page.find("<h2 id=\"glossary\">").expect("a glossary")..];
    for (term, title) in &tooltips {
        assert!(
            glossary.contains(&format!("<dt>{term}</dt><dd>{title}</dd>")),
            "the glossary has no entry {term}: {title}"
        );
    }
    let entries = glossary.matches("<dt>").count();
    assert_eq!(
        entries,
        tooltips.len(),
        "the glossary lists only the terms the page uses"
    );
}
