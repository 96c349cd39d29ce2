//! The recorded drawings: for every case of the sketch's tests, each file's length and 64-bit
//! FNV-1a hash, as the drawings of the whole trial made them before the sketch (see the table's
//! comment), and the checks of a drawing against them; `CLOCKLAB_PRINT_FINGERPRINTS=1` prints
//! the table afresh instead (the module docs of `sketch::tests` say how to re-record).

use crate::report::TrialPlots;

/// The environment variable that makes [`check`] print the current table instead of failing.
const PRINT: &str = "CLOCKLAB_PRINT_FINGERPRINTS";

/// What a drawing's bytes were: their length and their 64-bit FNV-1a hash (shown as the table
/// writes it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Fingerprint {
    /// The length in bytes.
    len: usize,
    /// The FNV-1a hash, 64 bits.
    fnv1a: u64,
}

/// The fingerprint of `len` bytes hashing to `fnv1a`: a row of [`RECORDED`].
const fn fp(len: usize, fnv1a: u64) -> Fingerprint {
    Fingerprint { len, fnv1a }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fp({}, {:#018x})", self.len, self.fnv1a)
    }
}

impl Fingerprint {
    /// The fingerprint of `text`'s bytes.
    pub(super) fn of(text: &str) -> Fingerprint {
        let fnv1a = text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        fp(text.len(), fnv1a)
    }
}

/// The name the interactive diagram goes by in the table: it is a section of the report's page,
/// not a file of its own.
const INTERACTIVE: &str = "(interactive diagram)";

/// One case's drawings: each plot's file and the interactive diagram, with their fingerprints.
#[derive(Debug)]
pub(super) struct Case {
    /// The case, as the test names it.
    name: &'static str,
    /// Each file's name and fingerprint in the order the trial's drawings list them, the
    /// interactive diagram last.
    files: &'static [(&'static str, Fingerprint)],
}

/// Each file of `plots` with its fingerprint, as [`Case::files`] lists them.
fn files(plots: &TrialPlots) -> Vec<(String, Fingerprint)> {
    plots
        .plots
        .iter()
        .map(|p| (p.file.clone(), Fingerprint::of(&p.svg)))
        .chain([(INTERACTIVE.to_owned(), Fingerprint::of(&plots.interactive))])
        .collect()
}

/// `plots`' table entry for the case `name`, as Rust to paste into [`RECORDED`].
fn entry(name: &str, plots: &TrialPlots) -> String {
    let mut out = format!("\n    Case {{\n        name: {name:?},\n        files: &[\n");
    for (file, print) in files(plots) {
        out += &format!("            ({file:?}, {print:?}),\n");
    }
    out + "        ],\n    },\n"
}

/// Checks that each of `drawn` (how it was drawn, and the drawings) has the fingerprints
/// recorded for the case `name`; with `CLOCKLAB_PRINT_FINGERPRINTS` set, prints the first's table
/// entry instead.
pub(super) fn check(name: &str, drawn: &[(&str, &TrialPlots)]) {
    if std::env::var_os(PRINT).is_some() {
        if let Some((_, plots)) = drawn.first() {
            print!("{}", entry(name, plots));
        }
        return;
    }
    let Some(case) = RECORDED.iter().find(|c| c.name == name) else {
        panic!("no fingerprints are recorded for the case {name:?}: run the test with {PRINT}=1");
    };
    for (how, plots) in drawn {
        let got = files(plots);
        let drawn_files: Vec<&str> = got.iter().map(|(file, _)| file.as_str()).collect();
        let recorded_files: Vec<&str> = case.files.iter().map(|&(file, _)| file).collect();
        assert_eq!(
            drawn_files, recorded_files,
            "{name}, {how}: the files drawn are not the ones recorded"
        );
        for ((file, print), (_, recorded)) in got.iter().zip(case.files) {
            assert_eq!(
                print, recorded,
                "{name}, {how}: {file} is not the one recorded; if the change is meant, \
                 re-record the table with {PRINT}=1 (the module docs of sketch::tests say how)"
            );
        }
    }
}

#[test]
fn the_hash_is_fnv1a_64() {
    // The published test vectors of FNV-1a, 64 bits.
    assert_eq!(Fingerprint::of(""), fp(0, 0xcbf29ce484222325));
    assert_eq!(Fingerprint::of("a"), fp(1, 0xaf63dc4c8601ec8c));
    assert_eq!(Fingerprint::of("foobar"), fp(6, 0x85944171f73967e8));
}

#[test]
fn each_case_is_recorded_once_with_its_five_plots_diagram_and_page() {
    let mut names: Vec<&str> = RECORDED.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), RECORDED.len(), "a case recorded twice");
    for case in RECORDED {
        let files: Vec<&str> = case.files.iter().map(|&(file, _)| file).collect();
        assert_eq!(files.len(), 7, "{case:?}");
        assert_eq!(files[6], INTERACTIVE, "{case:?}");
    }
}

/// The drawings of main at 05e1130, recorded 2026-12-06 from the whole-trial drawing code that
/// the sketch replaced (`plots::oracle`, `spacetime::oracle`, `interactive::oracle`, since
/// deleted), which the sketch then drew byte for byte in every case; in the order that
/// `CLOCKLAB_PRINT_FINGERPRINTS=1 cargo test --lib report::sketch -- --nocapture
/// --test-threads 1` prints them.
const RECORDED: &[Case] = &[
    Case {
        name: "faults",
        files: &[
            ("run-2-trial-3-clock.svg", fp(63675, 0xa040dca6d09549fd)),
            ("run-2-trial-3-lag.svg", fp(64230, 0x3061e5e49854700c)),
            ("run-2-trial-3-queue.svg", fp(70037, 0xc27e5a65cef19204)),
            ("run-2-trial-3-drift.svg", fp(78537, 0x46f0bcee456f9f67)),
            ("run-2-trial-3-jumps.svg", fp(24404, 0xfaf4606fc10632e6)),
            ("run-2-trial-3-spacetime.svg", fp(21367, 0x5312396bf12cc3d2)),
            ("(interactive diagram)", fp(15876, 0xf6c7c56340c6d6db)),
        ],
    },
    Case {
        name: "faults, 3 to 10 s",
        files: &[
            ("run-2-trial-3-clock.svg", fp(63675, 0xa040dca6d09549fd)),
            ("run-2-trial-3-lag.svg", fp(64230, 0x3061e5e49854700c)),
            ("run-2-trial-3-queue.svg", fp(70037, 0xc27e5a65cef19204)),
            ("run-2-trial-3-drift.svg", fp(78537, 0x46f0bcee456f9f67)),
            ("run-2-trial-3-jumps.svg", fp(24404, 0xfaf4606fc10632e6)),
            ("run-2-trial-3-spacetime.svg", fp(26499, 0xf028d3a9e9ef7d86)),
            ("(interactive diagram)", fp(15813, 0x5c971e5fbd9027eb)),
        ],
    },
    Case {
        name: "faults, 14 to 20.5 s",
        files: &[
            ("run-2-trial-3-clock.svg", fp(63675, 0xa040dca6d09549fd)),
            ("run-2-trial-3-lag.svg", fp(64230, 0x3061e5e49854700c)),
            ("run-2-trial-3-queue.svg", fp(70037, 0xc27e5a65cef19204)),
            ("run-2-trial-3-drift.svg", fp(78537, 0x46f0bcee456f9f67)),
            ("run-2-trial-3-jumps.svg", fp(24404, 0xfaf4606fc10632e6)),
            ("run-2-trial-3-spacetime.svg", fp(20045, 0xf923818911ed35f9)),
            ("(interactive diagram)", fp(15814, 0x9253ef99070058e3)),
        ],
    },
    Case {
        name: "three",
        files: &[
            ("run-2-trial-1-clock.svg", fp(41389, 0xe050303e55b03b67)),
            ("run-2-trial-1-lag.svg", fp(42443, 0x32a6677783ad716a)),
            ("run-2-trial-1-queue.svg", fp(39433, 0xc28a44647ca1c46f)),
            ("run-2-trial-1-drift.svg", fp(43983, 0x744c2220682ce8f6)),
            ("run-2-trial-1-jumps.svg", fp(16089, 0xa8c6f6fea530ecb6)),
            ("run-2-trial-1-spacetime.svg", fp(7627, 0xcf425535ee2b6fbb)),
            ("(interactive diagram)", fp(1335, 0x384e9fc76a5f6b99)),
        ],
    },
    Case {
        name: "window 2 to 6.5 s",
        files: &[
            ("run-2-trial-3-clock.svg", fp(54348, 0x5d02b6fc9b93e20b)),
            ("run-2-trial-3-lag.svg", fp(47609, 0x1a1ba4a6242fb20e)),
            ("run-2-trial-3-queue.svg", fp(48741, 0xd6a894db1900fdb4)),
            ("run-2-trial-3-drift.svg", fp(75029, 0x9711ff29ded972dd)),
            ("run-2-trial-3-jumps.svg", fp(20818, 0x2e0c85a0ecb37200)),
            ("run-2-trial-3-spacetime.svg", fp(15584, 0xc19fef790c25cb5b)),
            ("(interactive diagram)", fp(11866, 0xef9ff36f2a247d62)),
        ],
    },
    Case {
        name: "window 100 to 200 s",
        files: &[
            ("run-2-trial-3-clock.svg", fp(54348, 0x5d02b6fc9b93e20b)),
            ("run-2-trial-3-lag.svg", fp(47609, 0x1a1ba4a6242fb20e)),
            ("run-2-trial-3-queue.svg", fp(48741, 0xd6a894db1900fdb4)),
            ("run-2-trial-3-drift.svg", fp(75029, 0x9711ff29ded972dd)),
            ("run-2-trial-3-jumps.svg", fp(20818, 0x2e0c85a0ecb37200)),
            ("run-2-trial-3-spacetime.svg", fp(5320, 0x4e4632532f583421)),
            ("(interactive diagram)", fp(11870, 0xfdf7cd3b85da76d4)),
        ],
    },
    Case {
        name: "a jump at row 1",
        files: &[
            ("run-2-trial-3-clock.svg", fp(44274, 0xa93d7bf282093600)),
            ("run-2-trial-3-lag.svg", fp(42597, 0x1af7f18f597300be)),
            ("run-2-trial-3-queue.svg", fp(52915, 0x6c15687a4b8e3e1b)),
            ("run-2-trial-3-drift.svg", fp(53115, 0x3a511010940f4475)),
            ("run-2-trial-3-jumps.svg", fp(29734, 0x9a5bfd4307ce9386)),
            ("run-2-trial-3-spacetime.svg", fp(14939, 0x123384b64b77baae)),
            ("(interactive diagram)", fp(18091, 0xaaf3751f5eece80b)),
        ],
    },
    Case {
        name: "a jump at row 3",
        files: &[
            ("run-2-trial-3-clock.svg", fp(44312, 0xda07168e6af2f56d)),
            ("run-2-trial-3-lag.svg", fp(42653, 0x9f0dad46b1a00105)),
            ("run-2-trial-3-queue.svg", fp(52915, 0x6c15687a4b8e3e1b)),
            ("run-2-trial-3-drift.svg", fp(53034, 0x9cc1c14b98c8e6f1)),
            ("run-2-trial-3-jumps.svg", fp(29734, 0x9a5bfd4307ce9386)),
            ("run-2-trial-3-spacetime.svg", fp(14933, 0xc7653bfdd33c8329)),
            ("(interactive diagram)", fp(18085, 0x045d6654ac97e4c0)),
        ],
    },
    Case {
        name: "a jump at row 86",
        files: &[
            ("run-2-trial-3-clock.svg", fp(44558, 0x91e1f2246f9de2fb)),
            ("run-2-trial-3-lag.svg", fp(42794, 0xd3585832c1189183)),
            ("run-2-trial-3-queue.svg", fp(52915, 0x6c15687a4b8e3e1b)),
            ("run-2-trial-3-drift.svg", fp(56840, 0x215f49f6fb061020)),
            ("run-2-trial-3-jumps.svg", fp(29734, 0x9a5bfd4307ce9386)),
            ("run-2-trial-3-spacetime.svg", fp(12955, 0x34e2b55483dbf324)),
            ("(interactive diagram)", fp(17918, 0xf1857f5e35bc25b7)),
        ],
    },
    Case {
        name: "a jump at row 89",
        files: &[
            ("run-2-trial-3-clock.svg", fp(44557, 0x45455a327b6e0351)),
            ("run-2-trial-3-lag.svg", fp(42800, 0xb7d4fb0f0452d409)),
            ("run-2-trial-3-queue.svg", fp(52915, 0x6c15687a4b8e3e1b)),
            ("run-2-trial-3-drift.svg", fp(56806, 0x618fc1e0200a2fd2)),
            ("run-2-trial-3-jumps.svg", fp(29734, 0x9a5bfd4307ce9386)),
            ("run-2-trial-3-spacetime.svg", fp(11267, 0xd82b95a84d5c2d8f)),
            ("(interactive diagram)", fp(17915, 0xd729c4bcdce6f781)),
        ],
    },
    Case {
        name: "a jump, slow",
        files: &[
            ("run-2-trial-3-clock.svg", fp(40761, 0x74e90758007ef822)),
            ("run-2-trial-3-lag.svg", fp(41161, 0x5abb5efb6d3cf2c4)),
            ("run-2-trial-3-queue.svg", fp(81557, 0x1367045923b812e0)),
            ("run-2-trial-3-drift.svg", fp(74833, 0xc365bc2a0373c6f0)),
            ("run-2-trial-3-jumps.svg", fp(29648, 0xba4c0232e9f24a35)),
            ("run-2-trial-3-spacetime.svg", fp(6915, 0x144ff98940259734)),
            ("(interactive diagram)", fp(17341, 0xc90b0a17084f1831)),
        ],
    },
    Case {
        name: "past the caps",
        files: &[
            ("run-2-trial-3-clock.svg", fp(78182, 0x9b115f1ca6ec9583)),
            ("run-2-trial-3-lag.svg", fp(68229, 0xf3c5e8efbceca9a8)),
            ("run-2-trial-3-queue.svg", fp(78217, 0x7f88494c0ff6d33f)),
            ("run-2-trial-3-drift.svg", fp(60853, 0x9a030761c4c9f89e)),
            ("run-2-trial-3-jumps.svg", fp(41716, 0x5501da7d6652d680)),
            ("run-2-trial-3-spacetime.svg", fp(20726, 0xc7ea1cfb7b54c213)),
            ("(interactive diagram)", fp(303561, 0x32e53e596faf00eb)),
        ],
    },
    Case {
        name: "no jump",
        files: &[
            ("run-2-trial-3-clock.svg", fp(59094, 0x18dd84bae25850b7)),
            ("run-2-trial-3-lag.svg", fp(54827, 0xbff570c5bd65af10)),
            ("run-2-trial-3-queue.svg", fp(70156, 0xa555d60e3853737f)),
            ("run-2-trial-3-drift.svg", fp(48294, 0xaa89d64a4e41a86a)),
            ("run-2-trial-3-jumps.svg", fp(7515, 0x1c8259d78d758ad2)),
            ("run-2-trial-3-spacetime.svg", fp(16406, 0x7a1c51a2801e7b76)),
            ("(interactive diagram)", fp(59777, 0xc8f4f3ea8e8589a5)),
        ],
    },
    Case {
        name: "no jump, slow",
        files: &[
            ("run-2-trial-3-clock.svg", fp(28462, 0xaf01c52dddb19180)),
            ("run-2-trial-3-lag.svg", fp(30029, 0x6e93b4c3e9b55516)),
            ("run-2-trial-3-queue.svg", fp(29701, 0x883e263b62a6ee49)),
            ("run-2-trial-3-drift.svg", fp(35886, 0xc8c1fa6679fce239)),
            ("run-2-trial-3-jumps.svg", fp(6046, 0xb1aeb4a02220e5ef)),
            ("run-2-trial-3-spacetime.svg", fp(7729, 0x5938345f1b1345d2)),
            ("(interactive diagram)", fp(10367, 0xfd6a38f2cc8db1e1)),
        ],
    },
    Case {
        name: "no rows",
        files: &[
            ("run-2-trial-1-clock.svg", fp(27575, 0x834964301d4ea593)),
            ("run-2-trial-1-lag.svg", fp(27594, 0x9da7ed3c8fadeb8d)),
            ("run-2-trial-1-queue.svg", fp(27587, 0x69d195a719064940)),
            ("run-2-trial-1-drift.svg", fp(27638, 0xafee011452174263)),
            ("run-2-trial-1-jumps.svg", fp(4823, 0x50dfe17011bd9f0d)),
            ("run-2-trial-1-spacetime.svg", fp(5264, 0x64abf471e77394a1)),
            ("(interactive diagram)", fp(760, 0xb83197b074456670)),
        ],
    },
    Case {
        name: "seed 1 at [2.0, 3.0, 5.0]/s",
        files: &[
            ("run-2-trial-3-clock.svg", fp(54358, 0x455198789a731c3e)),
            ("run-2-trial-3-lag.svg", fp(46637, 0xcb281fe6916a562c)),
            ("run-2-trial-3-queue.svg", fp(48737, 0x60279a5db5908fa6)),
            ("run-2-trial-3-drift.svg", fp(69202, 0xa1ae0f9173765c6d)),
            ("run-2-trial-3-jumps.svg", fp(22132, 0x79d1d054514eb0db)),
            ("run-2-trial-3-spacetime.svg", fp(16097, 0xed7234fbe25a8b96)),
            ("(interactive diagram)", fp(11896, 0xf1a5f81d90bf4dad)),
        ],
    },
    Case {
        name: "seed 2 at [1.0, 4.0, 9.0]/s",
        files: &[
            ("run-2-trial-3-clock.svg", fp(58141, 0x842a6cb06bfe72a1)),
            ("run-2-trial-3-lag.svg", fp(52638, 0x4c9dc3a888b81498)),
            ("run-2-trial-3-queue.svg", fp(44295, 0x7caaee18c202c90d)),
            ("run-2-trial-3-drift.svg", fp(56829, 0xe469c4b7d5f46c5d)),
            ("run-2-trial-3-jumps.svg", fp(20222, 0x28f7d10aff78323b)),
            ("run-2-trial-3-spacetime.svg", fp(22672, 0xf3411da03636b263)),
            ("(interactive diagram)", fp(17105, 0x5b7ed14ce4222cf4)),
        ],
    },
    Case {
        name: "seed 3 at [5.0, 5.0, 5.0]/s",
        files: &[
            ("run-2-trial-3-clock.svg", fp(55673, 0xbaba87fe04a15087)),
            ("run-2-trial-3-lag.svg", fp(51514, 0x41aba69e5a71874c)),
            ("run-2-trial-3-queue.svg", fp(56002, 0x6de6db49679618aa)),
            ("run-2-trial-3-drift.svg", fp(53787, 0xfa7b261fab5cd9db)),
            ("run-2-trial-3-jumps.svg", fp(6386, 0x7e95bbee7eeb0b30)),
            ("run-2-trial-3-spacetime.svg", fp(16562, 0x7c7b676506d8802b)),
            ("(interactive diagram)", fp(17278, 0xd516478d65e58b5c)),
        ],
    },
];
