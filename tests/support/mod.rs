//! What the integration tests share: a temporary directory per test, the real `clocklab` binary as
//! a child process that is killed on drop and whose output shows in the test's output, bounded
//! waits for observable events, a lenient peek at logs still being written, and a raw TCP peer.
//!
//! Every wait has a deadline and says what it waited for when it runs out; the only sleeps are
//! the short poll intervals inside those waits.
#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use clocklab::core::wire::{self, Header, Kind, Parsed, Welcome};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

pub mod heap;
pub mod manual;

/// How often waits look again.
pub const POLL: Duration = Duration::from_millis(10);
/// A generous bound for anything that should take well under a second.
pub const SOON: Duration = Duration::from_secs(10);

/// The clocklab executable cargo built for these tests.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_clocklab")
}

/// Polls `probe` until it returns a value, panicking with `what` once `timeout` has passed.
pub fn wait_until<T>(what: &str, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        thread::sleep(POLL);
    }
}

/// A directory of its own for one test: `<temp>/clocklab-<pid>-<test>`, emptied when created and
/// removed on drop unless the test failed (then it is kept, and its path is in the output).
pub struct TestDir {
    /// The directory.
    pub path: PathBuf,
}

impl TestDir {
    /// Creates the directory for the test `name`.
    pub fn new(name: &str) -> TestDir {
        let path = std::env::temp_dir().join(format!("clocklab-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create the test directory");
        println!("[test] directory {}", path.display());
        TestDir { path }
    }

    /// A path inside the directory.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// Writes a configuration for `machines` machines with short timeouts (`router_extra` adds
    /// lines under `router:`, each indented by two spaces) and returns its path.
    pub fn config(&self, machines: u16, router_extra: &str) -> PathBuf {
        let text = format!(
            "router:\n  host: 127.0.0.1\n  port: 0\n  stall_timeout: 0.5\n  start_delay: 0.2\n{router_extra}\
             machines:\n  count: {machines}\n  action_range: 10\n\
             run:\n  stop_grace: 3\n  log_dir: {}\n",
            self.join("logs").display()
        );
        let path = self.join("config.yaml");
        std::fs::write(&path, text).expect("write the test configuration");
        path
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("[test] kept {} for inspection", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A line a child printed.
#[derive(Clone, Debug)]
pub struct Line {
    /// Whether it came on standard error.
    pub stderr: bool,
    /// The line, without its newline.
    pub text: String,
}

/// A running clocklab process. Its output is echoed, prefixed with its role, into the test's
/// output (the reader threads inherit the test's capture) and kept for `wait_for_line`. Dropping
/// it kills the process if it is still running and reaps it.
pub struct Proc {
    /// What it is, e.g. `router` or `machine 1`.
    pub role: String,
    child: Child,
    lines: Receiver<Line>,
    /// Every line received so far.
    pub seen: Vec<Line>,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Starts `clocklab ARGS...` as `role`.
    pub fn start<I, S>(role: &str, args: I) -> Proc
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(bin());
        cmd.args(args).env("RUST_LOG", "info");
        Proc::spawn(role, cmd)
    }

    /// Starts `clocklab ARGS...` as `role` inside the network namespace `netns`
    /// (`ip netns exec`, which runs clocklab in its own place: the pid is clocklab's).
    pub fn start_in_netns<I, S>(role: &str, netns: &str, args: I) -> Proc
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", netns, bin()])
            .args(args)
            .env("RUST_LOG", "info");
        Proc::spawn(role, cmd)
    }

    /// Starts `cmd` as `role`, its output piped, echoed and kept as for [`Proc::start`].
    pub(super) fn spawn(role: &str, mut cmd: Command) -> Proc {
        cmd.stdin(Stdio::null());
        Proc::spawn_with_stdin(role, cmd)
    }

    /// Starts `cmd` as [`Proc::spawn`] does, but with the standard input `cmd` was given (a pipe
    /// the test writes to and keeps open, say).
    pub(super) fn spawn_with_stdin(role: &str, mut cmd: Command) -> Proc {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {role}: {e}"));
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        forward(role.to_string(), false, out, tx.clone());
        forward(format!("{role} (stderr)"), true, err, tx);
        println!("[test] started {role} (pid {})", child.id());
        Proc {
            role: role.to_string(),
            child,
            lines: rx,
            seen: Vec::new(),
            status: None,
        }
    }

    /// The pipe to its standard input, when it was started with one.
    pub fn stdin(&mut self) -> Option<&mut std::process::ChildStdin> {
        self.child.stdin.as_mut()
    }

    /// The process id.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("pid fits i32"))
    }

    /// Sends `signal` to the process.
    pub fn signal(&mut self, signal: Signal) {
        assert!(
            self.try_status().is_none(),
            "{} has already exited; cannot send {signal}",
            self.role
        );
        kill(self.pid(), signal).unwrap_or_else(|e| panic!("{signal} to {}: {e}", self.role));
        println!("[test] sent {signal} to {}", self.role);
    }

    /// Waits for a line (on either stream) containing `needle` and returns it.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.text.contains(needle)) {
            return line.text.clone();
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.text.contains(needle);
                    self.seen.push(line);
                    if found {
                        return self.seen[self.seen.len() - 1].text.clone();
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "timed out after {timeout:?} waiting for {} to print {needle:?}",
                    self.role
                ),
                Err(RecvTimeoutError::Disconnected) => {
                    let exit = self.describe_exit();
                    panic!(
                        "{} closed its output ({exit}) without printing {needle:?}",
                        self.role
                    )
                }
            }
        }
    }

    /// Reads the router's `router listening on ADDR` line and returns ADDR.
    pub fn listening_addr(&mut self) -> SocketAddr {
        let line = self.wait_for_line(clocklab::cli::common::LISTENING, SOON);
        let rest = line
            .split_once(clocklab::cli::common::LISTENING)
            .map(|(_, a)| a.trim())
            .unwrap_or_default();
        rest.parse()
            .unwrap_or_else(|e| panic!("{}: {rest:?} is not an address: {e}", self.role))
    }

    fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().expect("try_wait");
        }
        self.status
    }

    fn describe_exit(&mut self) -> String {
        match self.try_status() {
            Some(s) => format!("exited: {s}"),
            None => "still running".into(),
        }
    }

    /// Waits for the process to exit and returns how.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let role = self.role.clone();
        let status = wait_until(&format!("{role} to exit"), timeout, || self.try_status());
        println!("[test] {role} exited: {status}");
        status
    }

    /// Waits for the process to exit and returns its exit code (panics if a signal ended it).
    pub fn wait_code(&mut self, timeout: Duration) -> i32 {
        let status = self.wait_exit(timeout);
        status
            .code()
            .unwrap_or_else(|| panic!("{} ended by a signal: {status}", self.role))
    }

    /// Everything the process printed, once its output has closed: call after it exited.
    pub fn output(&mut self) -> String {
        let deadline = Instant::now() + SOON;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}'s output did not close within {SOON:?}", self.role)
                }
            }
        }
        let mut text = String::new();
        for line in &self.seen {
            text.push_str(&line.text);
            text.push('\n');
        }
        text
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            println!("[test] killing {} (pid {})", self.role, self.child.id());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Echoes each line of `stream` as `[prefix] line` and sends it on `tx`.
fn forward(
    prefix: String,
    stderr: bool,
    stream: impl Read + Send + 'static,
    tx: mpsc::Sender<Line>,
) {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(text) = line else { break };
            println!("[{prefix}] {text}");
            // The test may have stopped listening; the echo above still shows the line.
            let _ = tx.send(Line { stderr, text });
        }
    });
}

/// Runs `clocklab ARGS...` to completion (bounded) and returns its exit code and all its output.
pub fn run_to_end<I, S>(role: &str, args: I, timeout: Duration) -> (i32, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut proc = Proc::start(role, args);
    let code = proc.wait_code(timeout);
    (code, proc.output())
}

/// `clocklab server` on a free port for `machines` machines, writing into `run_dir`; returns it
/// with the address it listens on.
pub fn start_server(config: &Path, machines: u16, run_dir: &Path) -> (Proc, SocketAddr) {
    let mut server = Proc::start(
        "router",
        [
            OsStr::new("server"),
            OsStr::new("--config"),
            config.as_os_str(),
            OsStr::new("--port"),
            OsStr::new("0"),
            OsStr::new("--machines"),
            OsStr::new(&machines.to_string()),
            OsStr::new("--run-dir"),
            run_dir.as_os_str(),
        ],
    );
    let addr = server.listening_addr();
    (server, addr)
}

/// `clocklab client 127.0.0.1 <port>` registering with the router at `router`.
pub fn start_client(
    config: &Path,
    port: u16,
    router: SocketAddr,
    rate: f64,
    seed: u64,
    log_dir: &Path,
) -> Proc {
    Proc::start(
        &format!("client 127.0.0.1:{port}"),
        [
            OsStr::new("client"),
            OsStr::new("127.0.0.1"),
            OsStr::new(&port.to_string()),
            OsStr::new("--config"),
            config.as_os_str(),
            OsStr::new("--router"),
            OsStr::new(&router.to_string()),
            OsStr::new("--rate"),
            OsStr::new(&rate.to_string()),
            OsStr::new("--seed"),
            OsStr::new(&seed.to_string()),
            OsStr::new("--log-dir"),
            log_dir.as_os_str(),
        ],
    )
}

/// The complete rows (fields split at commas, header left out) of a log that may still be
/// written: a last line without its newline is left out. No file yet means no rows.
pub fn peek_rows(path: &Path) -> Vec<Vec<String>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => return Vec::new(),
    };
    complete
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Waits until the log at `path` has at least `rows` complete rows; returns how many it has.
pub fn wait_for_rows(path: &Path, rows: usize, timeout: Duration) -> usize {
    wait_until(
        &format!("{} to hold {rows} rows", path.display()),
        timeout,
        || Some(peek_rows(path).len()).filter(|&n| n >= rows),
    )
}

/// The one directory `run` created under `out`, once it exists.
pub fn run_dir_under(out: &Path) -> PathBuf {
    wait_until(
        &format!("`run` to create its directory under {}", out.display()),
        SOON,
        || {
            let mut dirs: Vec<PathBuf> = std::fs::read_dir(out)
                .ok()?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            (dirs.len() == 1).then(|| dirs.remove(0))
        },
    )
}

/// Reads and parses a YAML file written by clocklab.
pub fn read_yaml<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A frame read by [`RawPeer`], owned.
#[derive(Clone, Debug)]
pub struct OwnedFrame {
    /// Its header.
    pub header: Header,
    /// Its payload.
    pub payload: Vec<u8>,
    /// The WELCOME body, for a WELCOME.
    pub welcome: Option<Welcome>,
}

/// A hand-driven TCP connection to the router, speaking (or not) the frame format.
pub struct RawPeer {
    /// What it does, for messages.
    pub what: String,
    stream: TcpStream,
    inbuf: Vec<u8>,
}

impl RawPeer {
    /// Connects to the router.
    pub fn connect(addr: SocketAddr, what: &str) -> RawPeer {
        let stream =
            TcpStream::connect(addr).unwrap_or_else(|e| panic!("{what}: connect {addr}: {e}"));
        stream
            .set_read_timeout(Some(SOON))
            .expect("set a read timeout");
        RawPeer {
            what: what.to_string(),
            stream,
            inbuf: Vec::new(),
        }
    }

    /// Writes `bytes` in full.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("{}: write: {e}", self.what));
    }

    /// The next frame from the router, or `None` at end of stream (with no partial frame left).
    pub fn next_frame(&mut self) -> Option<OwnedFrame> {
        loop {
            match wire::parse(&self.inbuf) {
                Ok(Parsed::Complete { frame, len }) => {
                    let owned = OwnedFrame {
                        header: frame.header(),
                        payload: frame.payload().to_vec(),
                        welcome: frame.welcome(),
                    };
                    self.inbuf.drain(..len);
                    return Some(owned);
                }
                Ok(Parsed::Incomplete { .. }) => {}
                Err(e) => panic!("{}: the router sent an invalid frame: {e}", self.what),
            }
            let mut chunk = [0u8; 4096];
            let n = self
                .stream
                .read(&mut chunk)
                .unwrap_or_else(|e| panic!("{}: read (waiting for a frame): {e}", self.what));
            if n == 0 {
                assert!(
                    self.inbuf.is_empty(),
                    "{}: the stream ended inside a frame ({} bytes)",
                    self.what,
                    self.inbuf.len()
                );
                return None;
            }
            self.inbuf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads frames until an ERROR, skipping data frames (the router may have forwarded some
    /// before it refused us); then checks that the router closed the stream. Returns the reason.
    pub fn expect_error_then_close(&mut self) -> String {
        let reason = loop {
            let frame = self
                .next_frame()
                .unwrap_or_else(|| panic!("{}: the router closed without an ERROR", self.what));
            match frame.header.kind {
                Kind::Error => break String::from_utf8(frame.payload).expect("UTF-8 reason"),
                kind if kind.is_data() => continue,
                kind => panic!("{}: expected ERROR, got {kind}", self.what),
            }
        };
        println!("[test] {}: ERROR {reason:?}", self.what);
        assert!(
            self.next_frame().is_none(),
            "{}: the router sent a frame after its ERROR",
            self.what
        );
        reason
    }
}

impl RawPeer {
    /// The socket, e.g. to read from it on a thread of its own (`try_clone`).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Sends HELLO with `name`.
    pub fn register(&mut self, name: &str) {
        self.send(&wire::hello(name, 1).expect("a valid name"));
    }

    /// Reads frames until a WELCOME and returns the id it assigns.
    pub fn welcome_id(&mut self) -> u16 {
        loop {
            let frame = self
                .next_frame()
                .unwrap_or_else(|| panic!("{}: closed before WELCOME", self.what));
            if let Some(w) = frame.welcome {
                return w.id;
            }
        }
    }
}

/// A field of `/proc/<pid>/status` in KiB (e.g. `VmRSS`, `VmHWM`, the peak).
pub fn proc_status_kib(pid: Pid, field: &str) -> u64 {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{path} has no {field}"));
    line.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{path}: {line:?}"))
}

/// A thread that reads `stream` to its end (or until `frames` data frames came), counting data
/// frames and noting an ERROR's reason; returns (data frames, the ERROR's reason if one came).
pub fn count_frames(stream: TcpStream, frames: u64) -> thread::JoinHandle<(u64, Option<String>)> {
    thread::spawn(move || {
        let mut stream = stream;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
        let mut buf = vec![0u8; 1 << 20];
        let (mut start, mut end, mut count) = (0usize, 0usize, 0u64);
        loop {
            loop {
                match wire::parse(&buf[start..end]) {
                    Ok(Parsed::Complete { frame, len }) => {
                        if frame.kind() == Kind::Error {
                            let reason = frame.error_reason().unwrap_or_default().to_string();
                            return (count, Some(reason));
                        }
                        if frame.kind().is_data() {
                            count += 1;
                        }
                        start += len;
                    }
                    Ok(Parsed::Incomplete { .. }) => break,
                    Err(e) => panic!("the router sent an invalid frame: {e}"),
                }
            }
            if count >= frames {
                return (count, None);
            }
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
            match stream.read(&mut buf[end..]) {
                Ok(0) | Err(_) => return (count, None),
                Ok(n) => end += n,
            }
        }
    })
}

impl Proc {
    /// Waits for the first line, after the first `from` lines seen, that contains any of
    /// `needles`. Returns it and how many lines had been seen up to and including it.
    pub fn wait_for_any_line(
        &mut self,
        from: usize,
        needles: &[&str],
        timeout: Duration,
    ) -> (String, usize) {
        let found = |line: &Line| needles.iter().any(|n| line.text.contains(n));
        if let Some(i) = self.seen.iter().skip(from).position(found) {
            return (self.seen[from + i].text.clone(), from + i + 1);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let hit = found(&line);
                    self.seen.push(line);
                    if hit {
                        return (self.seen[self.seen.len() - 1].text.clone(), self.seen.len());
                    }
                }
                Err(_) => panic!(
                    "timed out after {timeout:?} waiting for {} to print any of {needles:?}",
                    self.role
                ),
            }
        }
    }
}

/// Runs `ip ARGS` (iproute2, for the tests in network namespaces): what it printed, or on failure
/// why it could not run.
pub fn ip(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The words of a `clocklab` command line, built option by option in the order given, e.g.
/// `Cmd::new("run").config(&c).out(&o).port(0).seed(7).rates("40,60").duration("2")`: one
/// spelling of the options that the `run` and `simulate` tests share, instead of an array each.
#[derive(Clone, Debug)]
pub struct Cmd {
    words: Vec<std::ffi::OsString>,
}

impl Cmd {
    /// `clocklab COMMAND`, with no options yet.
    pub fn new(command: &str) -> Cmd {
        Cmd {
            words: vec![command.into()],
        }
    }

    /// Adds `NAME VALUE` (e.g. `--trials 2`).
    pub fn opt(mut self, name: &str, value: impl AsRef<OsStr>) -> Cmd {
        self.words.push(name.into());
        self.words.push(value.as_ref().to_os_string());
        self
    }

    /// Adds the words `extra` as they are (a switch such as `--no-logs`, or several options).
    pub fn words<S: AsRef<OsStr>>(mut self, extra: impl IntoIterator<Item = S>) -> Cmd {
        self.words
            .extend(extra.into_iter().map(|w| w.as_ref().to_os_string()));
        self
    }

    /// `--config PATH`.
    pub fn config(self, path: &Path) -> Cmd {
        self.opt("--config", path)
    }

    /// `--out DIR`.
    pub fn out(self, dir: &Path) -> Cmd {
        self.opt("--out", dir)
    }

    /// `--port PORT` (0: the router takes a free port).
    pub fn port(self, port: u16) -> Cmd {
        self.opt("--port", port.to_string())
    }

    /// `--seed SEED`.
    pub fn seed(self, seed: u64) -> Cmd {
        self.opt("--seed", seed.to_string())
    }

    /// `--rates RATES` (ticks per second, comma-separated).
    pub fn rates(self, rates: &str) -> Cmd {
        self.opt("--rates", rates)
    }

    /// `--duration SECONDS`.
    pub fn duration(self, seconds: &str) -> Cmd {
        self.opt("--duration", seconds)
    }

    /// `--faults FILE`, when there is a plan.
    pub fn faults(self, plan: Option<&Path>) -> Cmd {
        match plan {
            Some(plan) => self.opt("--faults", plan),
            None => self,
        }
    }

    /// Starts the command as `role`, as [`Proc::start`] does.
    pub fn start(&self, role: &str) -> Proc {
        Proc::start(role, self)
    }

    /// Runs the command to its end, as [`run_to_end`] does: its exit code and all its output.
    pub fn run_to_end(&self, role: &str, timeout: Duration) -> (i32, String) {
        run_to_end(role, self, timeout)
    }
}

impl<'a> IntoIterator for &'a Cmd {
    type Item = &'a std::ffi::OsString;
    type IntoIter = std::slice::Iter<'a, std::ffi::OsString>;

    fn into_iter(self) -> Self::IntoIter {
        self.words.iter()
    }
}

/// Every file under `dir`, as paths relative to it, in the order a walk meets them.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot list {}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out
}

/// How the tables show a figure: a whole number as it is, else with 2 decimals.
pub fn cell(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// The trial of `src/analysis/causality/tests.rs`, `three()`, as the rows of its three logs
/// (no header; times from 1000 s):
///
/// ```text
/// m1  a1 int(0) L1   a2 send→2 #1 (100 ms) L2   a3 int(300) L3   a4 recv 3#1 (400) L4
/// m2  b1 int(50) L1  b2 recv 1#1 (150) L3    b3 bcast #1 (200) L4   b4 int(250) L5
/// m3  c1 send→1 #1 (20) L1   c2 recv 2#1 (260) L5   c3 int(300) L6
/// ```
pub const THREE_LOGS: [&str; 3] = [
    "1,internal,1000.000000,1,0,,,\n1,send,1000.100000,2,0,2,2,1\n\
     1,internal,1000.300000,3,0,,,\n1,receive,1000.400000,4,0,3,1,1\n",
    "2,internal,1000.050000,1,0,,,\n2,receive,1000.150000,3,0,1,2,1\n\
     2,broadcast,1000.200000,4,0,,4,1\n2,internal,1000.250000,5,0,,,\n",
    "3,send,1000.020000,1,0,1,1,1\n3,receive,1000.260000,5,0,2,4,1\n\
     3,internal,1000.300000,6,0,,,\n",
];

/// The one entry under `out` (a command's output directory holds one run directory); panics,
/// listing them, if there is not exactly one.
pub fn only_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    assert_eq!(
        dirs.len(),
        1,
        "one directory in {}: {dirs:?}",
        out.display()
    );
    dirs.into_iter().next().expect("one directory")
}

/// Runs `clocklab ARGS...` in `dir` to its end and returns its standard output; panics with its
/// status and output if it fails. (In a directory without `config/config.yaml`, the built-in
/// defaults are in force.)
pub fn succeeds_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(bin())
        .current_dir(dir)
        .args(args)
        .output()
        .expect("start clocklab");
    assert!(
        out.status.success(),
        "clocklab {args:?} failed: {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}
