//! Processes started as a person starts them by hand: in a working directory of their own and
//! without `RUST_LOG`, so what they print is what a person sees; and the README's commands.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Line, Proc, bin};

impl Proc {
    /// Starts `clocklab ARGS...` as `role` in `cwd`, with `RUST_LOG` removed from its environment.
    pub fn start_plain<I, S>(role: &str, cwd: &Path, args: I) -> Proc
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(bin());
        cmd.args(args).current_dir(cwd).env_remove("RUST_LOG");
        println!("[test] {role} runs in {}", cwd.display());
        Proc::spawn(role, cmd)
    }

    /// Waits until `n` lines (on either stream) have contained `needle`, and returns the last.
    pub fn wait_for_nth_line(&mut self, needle: &str, n: usize, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let found: Vec<&Line> = self
                .seen
                .iter()
                .filter(|l| l.text.contains(needle))
                .collect();
            if found.len() >= n {
                return found[n - 1].text.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(e) => panic!(
                    "{} printed {needle:?} {} times, not {n} ({e:?} after {timeout:?})",
                    self.role,
                    found.len()
                ),
            }
        }
    }

    /// The lines it printed on standard output so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        let out = self.seen.iter().filter(|l| !l.stderr);
        out.map(|l| l.text.clone()).collect()
    }
}

/// The commands of the README's "By hand" block, each as the arguments after
/// `cargo run --release --`, comments left out.
pub fn readme_manual_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md");
    let section = readme
        .split_once("### By hand")
        .map(|(_, rest)| rest)
        .expect("README.md has a section \"By hand\"");
    let block = section
        .split_once("```sh\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("the section \"By hand\" has a ```sh block");
    block
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(|line| {
            let args = line
                .strip_prefix("cargo run --release --")
                .unwrap_or_else(|| panic!("not a `cargo run --release --` command: {line}"));
            args.split_whitespace().map(str::to_string).collect()
        })
        .collect()
}
