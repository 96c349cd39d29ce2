//! The interactive space-time diagram of `report.html` in a real browser: headless Chromium loads
//! the report of a hand-worked trial with an event (and a second one) in the URL fragment, runs
//! the page's script, and dumps the DOM; exactly the events `analysis::causality` puts in the
//! selected event's causal past and future carry the highlight, the panel shows its clocks and
//! the pair's relation, and nothing in the page is fetched.
//!
//! Needs `chromium` (or `chromium-browser`) on PATH; `.ci/run` installs it where it is missing.
//! Without it these tests fail and say so.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clocklab::analysis::causality::{Causality, EventRef, reconstruct};
use clocklab::analysis::{TrialInput, hlc, load::load_run};
use regex::Regex;
use support::TestDir;

const HEADER: &str = "machine,event,system_time,logical_clock,queue_len,peer,msg_clock,seq\n";

/// The browser on PATH, or a failure that says what to install.
fn browser() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "no browser: tests/browser.rs needs `chromium` or `chromium-browser` on PATH \
         (apt-get install chromium; .ci/run installs it where it is missing)"
    );
}

/// Kills the browser if a test gives up on it.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The DOM of `page#fragment` after its script ran, from headless Chromium.
fn dump_dom(test: &TestDir, page: &Path, fragment: &str) -> String {
    let out = test.join(format!(
        "dom-{}.html",
        fragment.replace(['&', '=', ':'], "_")
    ));
    let file = std::fs::File::create(&out).expect("create the DOM file");
    let child = Command::new(browser())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!(
            "--user-data-dir={}",
            test.join("profile").display()
        ))
        .args(["--virtual-time-budget=2000", "--dump-dom"])
        .arg(format!("file://{}#{fragment}", page.display()))
        .stdout(file)
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut browser = Browser(child);
    let status = support::wait_until("chromium to dump the DOM", Duration::from_secs(60), || {
        browser.0.try_wait().expect("wait for chromium")
    });
    assert!(status.success(), "chromium failed: {status}");
    std::fs::read_to_string(&out).expect("read the DOM")
}

/// Every event mark of the dumped DOM: its name (`mK:N`) and its classes.
fn marks(dom: &str) -> BTreeMap<String, Vec<String>> {
    let tag = Regex::new(r"<circle [^>]*data-ev=[^>]*>").expect("regex");
    let attr = |t: &str, name: &str| {
        Regex::new(&format!(r#"\b{name}="([^"]*)""#))
            .expect("regex")
            .captures(t)
            .map(|c| c[1].to_owned())
    };
    tag.find_iter(dom)
        .map(|m| {
            let t = m.as_str();
            let name = attr(t, "data-ev").expect("data-ev");
            let classes = attr(t, "class").unwrap_or_default();
            (name, classes.split(' ').map(str::to_owned).collect())
        })
        .collect()
}

/// The text of the element with class `class` (tags stripped).
fn text_of(dom: &str, class: &str) -> String {
    let at = dom
        .find(&format!("class=\"{class}\">"))
        .unwrap_or_else(|| panic!("no element of class {class} in the DOM"));
    let rest = &dom[at + class.len() + 9..];
    // The element ends at the </div> that closes it, past any divs inside it.
    let (mut depth, mut end) = (1, 0);
    while depth > 0 {
        let open = rest[end..].find("<div").map(|i| end + i);
        let close = end + rest[end..].find("</div>").expect("the element's end");
        match open {
            Some(o) if o < close => (depth, end) = (depth + 1, o + 4),
            _ => (depth, end) = (depth - 1, close + 6),
        }
    }
    let inner = &rest[..end - 6];
    Regex::new("<[^>]*>")
        .expect("regex")
        .replace_all(inner, "")
        .replace("&lt;", "<")
}

/// The event `mK:N` names: machine id K, its N-th event.
fn event(trial: &TrialInput, name: &str) -> EventRef {
    let (m, n) = name[1..].split_once(':').expect("mK:N");
    let id: u16 = m.parse().expect("machine id");
    EventRef {
        machine: trial
            .machines
            .iter()
            .position(|x| x.id == id)
            .expect("machine"),
        index: n.parse::<usize>().expect("event number") - 1,
    }
}

/// A report of the hand-worked trial, its loaded input and its causality.
fn report(test: &TestDir) -> (PathBuf, TrialInput, Causality) {
    let run = test.join("run");
    std::fs::create_dir_all(&run).expect("run directory");
    for (i, rows) in support::THREE_LOGS.iter().enumerate() {
        let path = run.join(format!("machine-{}.csv", i + 1));
        std::fs::write(path, format!("{HEADER}{rows}")).expect("write a log");
    }
    let out = Command::new(support::bin())
        .arg("analyze")
        .arg(&run)
        .arg("--out")
        .arg(test.join("analysis"))
        .output()
        .expect("start clocklab");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let input = load_run(&run).expect("load the run");
    let trial = input.trials.into_iter().next().expect("one trial");
    let c = reconstruct(&trial).expect("causality");
    (test.join("analysis/report.html"), trial, c)
}

/// Checks that, with `selected` chosen, exactly its causal past and future (by `c`) carry the
/// `past` and `future` classes, every other event `conc`, and the panel shows its clocks.
fn check_selection(trial: &TrialInput, c: &Causality, dom: &str, selected: &str) {
    let sel = event(trial, selected);
    let marks = marks(dom);
    assert_eq!(
        marks.len(),
        c.counts.iter().sum::<usize>(),
        "one mark per event"
    );
    for (name, classes) in &marks {
        let e = event(trial, name);
        let expected = if e == sel {
            "sel"
        } else if c.happened_before(e, sel) {
            "past"
        } else if c.happened_before(sel, e) {
            "future"
        } else {
            "conc"
        };
        for class in ["sel", "past", "future", "conc"] {
            assert_eq!(
                classes.iter().any(|k| k == class),
                class == expected,
                "{name} with {selected} selected: classes {classes:?}, expected {expected}"
            );
        }
    }
    let panel = text_of(dom, "panel");
    let vector: Vec<String> = c.vector(sel).iter().map(u32::to_string).collect();
    assert!(
        panel.contains(&format!("vector clock [{}]", vector.join(", "))),
        "{panel}"
    );
    let lamport = trial.machines[sel.machine].records[sel.index].logical_clock;
    assert!(
        panel.contains(&format!("Lamport clock {lamport} ")),
        "{panel}"
    );
    let h = hlc::timestamps(trial, c)[sel.machine][sel.index];
    assert!(
        panel.contains(&format!("(l = {} µs, c = {})", h.l, h.c)),
        "{panel}"
    );
}

/// The trial, drawn (times in ms after 1000 s; L is the Lamport clock):
///
/// ```text
/// m1  a1 int(0) L1   a2 send→2 (100) L2   a3 int(300) L3   a4 recv c1 (400) L4
/// m2  b1 int(50) L1  b2 recv a2 (150) L3  b3 bcast (200) L4  b4 int(250) L5
/// m3  c1 send→1 (20) L1   c2 recv b3 (260) L5   c3 int(300) L6
/// ```
///
/// Worked on paper: b2 = m2:2 has vector clock [2, 2, 0]; its causal past is a1 a2 b1, its
/// future b3 b4 c2 c3 (b3 reaches c2; m1 never takes the broadcast), and a3 a4 c1 are
/// concurrent with it. c1 = m3:1 (L1) is concurrent with b2 (L3): a false ordering.
#[test]
fn a_click_rings_the_causal_past_and_future_and_names_a_false_ordering() {
    let test = TestDir::new("browser-false-ordering");
    let (page, trial, c) = report(&test);
    let dom = dump_dom(&test, &page, "trial=1&event=m2:2&pair=m3:1");
    check_selection(&trial, &c, &dom, "m2:2");
    let marks = marks(&dom);
    let with = |class: &str| -> Vec<&str> {
        marks
            .iter()
            .filter(|(_, k)| k.iter().any(|x| x == class))
            .map(|(n, _)| n.as_str())
            .collect()
    };
    // The paper's answer, beside the one analysis::causality gives above.
    assert_eq!(with("past"), ["m1:1", "m1:2", "m2:1"]);
    assert_eq!(with("future"), ["m2:3", "m2:4", "m3:2", "m3:3"]);
    assert_eq!(with("conc"), ["m1:3", "m1:4", "m3:1"]);
    assert_eq!(with("pair"), ["m3:1"]);
    assert_eq!(
        text_of(&dom, "relation"),
        "m2:2 and m3:1 are concurrent: neither happened before the other. Yet their Lamport \
         clocks order them (m3:1 1 < m2:2 3): a false ordering."
    );
}

/// c2 = m3:2 has vector clock [2, 3, 2]: its past is a1 a2 b1 b2 b3 c1, its future c3; a1 = m1:1
/// happened before it. a3 = m1:3 and b2 = m2:2 are concurrent with equal Lamport clocks (3).
/// `jumps=1` in the fragment turns on the marks of clock jumps larger than 1.
#[test]
fn a_pair_in_causal_order_a_concurrent_pair_with_equal_clocks_and_marked_jumps() {
    let test = TestDir::new("browser-pairs");
    let (page, trial, c) = report(&test);
    let dom = dump_dom(&test, &page, "trial=1&event=m3:2&pair=m1:1");
    check_selection(&trial, &c, &dom, "m3:2");
    assert!(c.happened_before(event(&trial, "m1:1"), event(&trial, "m3:2")));
    assert_eq!(
        text_of(&dom, "relation"),
        "m1:1 happened before m3:2 (Lamport 1 < 5, as it must be)."
    );
    let dom = dump_dom(&test, &page, "trial=1&event=m1:3&pair=m2:2&jumps=1");
    check_selection(&trial, &c, &dom, "m1:3");
    // jumps=1 marks the jumps larger than 1: b2 (1 to 3) and c2 (1 to 5).
    let jumped: Vec<String> = marks(&dom)
        .into_iter()
        .filter(|(_, k)| k.iter().any(|x| x == "jump"))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(jumped, ["m2:2", "m3:2"]);
    assert!(text_of(&dom, "relation").contains(
        "are concurrent: neither happened before the other. Their Lamport clocks are equal (3)"
    ));
}

/// The page fetches nothing: no `src` or `href` names anything over http(s), in the file or in
/// the DOM its script built; and no event selected without a fragment.
#[test]
fn the_page_fetches_nothing() {
    let test = TestDir::new("browser-fetches-nothing");
    let (page, _, _) = report(&test);
    let fetch = Regex::new(r#"(?i)\b(src|href)\s*=\s*["']?[^"'>]*http"#).expect("regex");
    let file = std::fs::read_to_string(&page).expect("report.html");
    assert!(
        !fetch.is_match(&file),
        "report.html fetches: {:?}",
        fetch.find(&file)
    );
    let dom = dump_dom(&test, &page, "");
    assert!(
        !fetch.is_match(&dom),
        "the DOM fetches: {:?}",
        fetch.find(&dom)
    );
    assert!(marks(&dom).values().all(|k| k == &["ev"]));
    assert_eq!(text_of(&dom, "panel"), "No event selected.");
}
