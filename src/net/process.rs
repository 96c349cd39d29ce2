//! The processes of a run of real processes, seen from the parent: starting a child in its own
//! process group, reading the router's stdout line by line, forwarding every child's stderr to
//! the parent's a whole line at a time, waiting for one of the router's lines with a bound,
//! stopping every child in order (SIGTERM to the router, a grace period, then kill), the
//! SIGINT/SIGTERM flag the parent stops on, and the `pause` faults ([`PauseSignals`]: SIGSTOP at
//! a window's start, SIGCONT at its end; a stopped child is always continued before it is asked
//! to stop, or it could not exit), and which machines share a client process ([`group_machines`]).
//! `run` keeps the trial; this module keeps the processes.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::rundir::records::ProcessRecord;

mod groups;
mod limits;
mod pause;
pub use groups::{ALONE_UP_TO, default_per_process, group_machines};
pub use limits::{OpenFilesError, open_files_needed, raise_open_files};
pub use pause::{PauseSignals, PauseStep};

/// Why `run` could not watch for signals, or its processes did not start the model.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The SIGINT or SIGTERM handler could not be installed.
    #[error("cannot handle signals: {0}")]
    Signals(#[source] std::io::Error),
    /// The router's output ended (it exited) before the line awaited.
    #[error("the router exited before the model started (see its message above)")]
    RouterExited,
    /// One of the processes exited before the line awaited.
    #[error("{role} exited before the model started ({status}; see its message above)")]
    Exited {
        /// The process's role, such as `router` or `machine 2 (m2)`.
        role: String,
        /// How it ended.
        status: ExitStatus,
    },
    /// Ctrl-C or SIGTERM came before the line awaited.
    #[error("interrupted before the model started")]
    Interrupted,
    /// The line awaited did not come in time.
    #[error(
        "the model did not start within {} s (waiting for the router to say {awaited:?})",
        .timeout.as_secs()
    )]
    Timeout {
        /// How long `run` waited.
        timeout: Duration,
        /// The start of the line awaited, trimmed.
        awaited: String,
    },
}

impl From<ProcessError> for String {
    fn from(e: ProcessError) -> String {
        e.to_string()
    }
}

/// A flag that turns true on SIGINT or SIGTERM: the parent's cue to stop in order.
pub fn stop_flag() -> Result<Arc<AtomicBool>, ProcessError> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(ProcessError::Signals)?;
    }
    Ok(stop)
}

/// The longest line [`forward_lines`] writes in one piece; a longer one goes out in pieces of
/// this size.
pub const MAX_LINE: usize = 64 * 1024;

/// Copies `from` to `to` a line at a time, each line with one `write_all` (on the parent's
/// stderr, one locked write), so that the lines of children that share a stderr never mix
/// mid-line, however their writes were cut: a child's `eprintln!` may take several writes for
/// one line. A last line without its newline gets one. A line longer than [`MAX_LINE`] goes out
/// in pieces of that size. What `to` cannot take is dropped, and reading goes on to the end, so
/// a child never blocks on a full pipe.
pub fn forward_lines(from: impl Read, mut to: impl Write) {
    let mut reader = BufReader::new(from);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
        {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
        if !line.ends_with(b"\n") && line.len() < MAX_LINE {
            // The end of the stream, in the middle of a line.
            line.push(b'\n');
        }
        let _ = to.write_all(&line);
    }
}

/// A child process, its role, the thread forwarding its stderr, and how it ended once it has.
#[derive(Debug)]
pub struct Proc {
    role: String,
    child: Child,
    stderr: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
    killed: bool,
    /// Stopped by [`Proc::pause`] and not continued since.
    paused: bool,
}

impl Proc {
    /// Starts `cmd` in a process group of its own (so a Ctrl-C at the terminal reaches only the
    /// parent, which stops the children in order) as `role`, with stdin and stdout closed and
    /// stderr forwarded to the parent's by [`forward_lines`].
    pub fn spawn_quiet(role: String, mut cmd: Command) -> std::io::Result<Proc> {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        Ok(Proc::new(role, child))
    }

    /// Starts `cmd` as [`Proc::spawn_quiet`] does, but with a pipe to its stdin, open as long as
    /// the parent lives (a child told to stop on its stdin's end outlives no parent), and every
    /// line of its stdout sent on the receiver answered, and logged at debug level.
    pub fn spawn_with_lines(
        role: String,
        mut cmd: Command,
    ) -> std::io::Result<(Proc, Receiver<String>)> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()?;
        // Piped just above, so it is there.
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let (tx, rx) = mpsc::channel();
        let name = role.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                log::debug!("{name}: {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok((Proc::new(role, child), rx))
    }

    /// Wraps a child spawned with a piped stderr, which a thread of its own forwards.
    fn new(role: String, mut child: Child) -> Proc {
        let stderr = child
            .stderr
            .take()
            .map(|from| std::thread::spawn(move || forward_lines(from, io::stderr())));
        Proc {
            role,
            child,
            stderr,
            status: None,
            killed: false,
            paused: false,
        }
    }

    /// How it exited, if it has (without waiting).
    pub fn poll(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            let status = self.child.try_wait().ok().flatten();
            self.reaped(status);
        }
        self.status
    }

    /// Records how it ended; once it has, waits for the last of its stderr to be forwarded, so
    /// that its last words come before anything the parent says about its end.
    fn reaped(&mut self, status: Option<ExitStatus>) {
        self.status = status;
        if self.status.is_some()
            && let Some(forwarder) = self.stderr.take()
        {
            let _ = forwarder.join();
        }
    }

    /// Sends it SIGTERM unless it has exited.
    pub fn terminate(&mut self) {
        self.signal(Signal::SIGTERM);
    }

    /// Stops it (SIGSTOP) unless it has exited: it neither runs nor reads until
    /// [`Proc::resume`]. Returns whether the signal went out.
    pub fn pause(&mut self) -> bool {
        let sent = self.signal(Signal::SIGSTOP);
        self.paused |= sent;
        sent
    }

    /// Continues it (SIGCONT) if [`Proc::pause`] stopped it. Returns whether the signal went out.
    pub fn resume(&mut self) -> bool {
        if !self.paused {
            return false;
        }
        self.paused = false;
        self.signal(Signal::SIGCONT)
    }

    /// Whether it is stopped by [`Proc::pause`].
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Sends `signal` unless it has exited; whether it went out.
    fn signal(&mut self, signal: Signal) -> bool {
        // The pid came from a child we spawned and have not reaped, so it is ours.
        self.poll().is_none() && kill(Pid::from_raw(self.child.id() as i32), signal).is_ok()
    }

    /// What `run.yaml` records of it.
    pub fn record(&self) -> ProcessRecord {
        let (exit, code) = match self.status {
            Some(s) if self.killed => (format!("killed after the grace period ({s})"), s.code()),
            Some(s) => (s.to_string(), s.code()),
            None => ("still running when the record was written".into(), None),
        };
        ProcessRecord {
            role: self.role.clone(),
            pid: self.child.id(),
            exit,
            code,
        }
    }
}

/// Stops a run's processes in order: SIGCONT to every one that is paused (a stopped machine could
/// not answer the BYE), SIGTERM to the first (the router, which says BYE to every machine), then
/// waits up to `wait` for every process, and kills those still running.
pub fn stop_in_order(procs: &mut [Proc], wait: Duration) {
    for p in procs.iter_mut() {
        p.resume();
    }
    if let Some(router) = procs.first_mut() {
        router.terminate();
    }
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline && procs.iter_mut().any(|p| p.poll().is_none()) {
        std::thread::sleep(Duration::from_millis(20));
    }
    for p in procs.iter_mut().filter(|p| p.status.is_none()) {
        eprintln!(
            "{} did not exit within the grace period: killing it",
            p.role
        );
        let _ = p.child.kill();
        p.killed = true;
        let status = p.child.wait().ok();
        p.reaped(status);
    }
}

/// Waits up to `timeout` for the router's line starting with `prefix` and returns the rest of it,
/// trimmed. Fails if any of `procs` exits first, or `stop` turns true.
pub fn wait_for_line(
    lines: &Receiver<String>,
    prefix: &str,
    procs: &mut [Proc],
    stop: &AtomicBool,
    timeout: Duration,
) -> Result<String, ProcessError> {
    let deadline = Instant::now() + timeout;
    loop {
        match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return Ok(rest.trim().to_string());
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(ProcessError::RouterExited);
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        for p in procs.iter_mut() {
            if let Some(status) = p.poll() {
                return Err(ProcessError::Exited {
                    role: p.role.clone(),
                    status,
                });
            }
        }
        if stop.load(Ordering::SeqCst) {
            return Err(ProcessError::Interrupted);
        }
        if Instant::now() >= deadline {
            return Err(ProcessError::Timeout {
                timeout,
                awaited: prefix.trim().to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    /// A reader that hands out at most `step` bytes a read, so lines arrive in pieces.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// A writer that keeps each write apart.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl Write for &mut Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn each_line_goes_out_whole_in_one_write_however_it_arrived() {
        let text =
            b"machine 1: connection to the router lost\n\nsecond line\nno newline at the end";
        for step in [1, 3, 7, text.len()] {
            let mut writes = Writes::default();
            forward_lines(Trickle { bytes: text, step }, &mut writes);
            let want: Vec<&[u8]> = vec![
                b"machine 1: connection to the router lost\n",
                b"\n",
                b"second line\n",
                b"no newline at the end\n",
            ];
            assert_eq!(writes.0, want, "step {step}");
        }
    }

    #[test]
    fn a_line_longer_than_the_limit_goes_out_in_pieces_of_the_limit() {
        let mut text = vec![b'x'; MAX_LINE + 10];
        text.push(b'\n');
        let mut writes = Writes::default();
        forward_lines(
            Trickle {
                bytes: &text,
                step: 1000,
            },
            &mut writes,
        );
        let lengths: Vec<usize> = writes.0.iter().map(Vec::len).collect();
        assert_eq!(lengths, [MAX_LINE, 11]);
        assert_eq!(writes.0.concat(), text);
    }

    /// A writer that fails every write: forwarding goes on to the end of the stream.
    struct Closed(usize);

    impl Write for &mut Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            self.0 += 1;
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_stderr_does_not_stop_the_draining() {
        let mut closed = Closed(0);
        let text = b"a\nb\nc\n";
        let mut from = Trickle {
            bytes: text,
            step: 2,
        };
        forward_lines(&mut from, &mut closed);
        assert_eq!((closed.0, from.bytes.len()), (3, 0));
    }

    #[test]
    fn waiting_for_a_line_answers_its_rest_or_says_why_it_stopped_waiting() {
        let (tx, rx) = mpsc::channel::<String>();
        let stop = AtomicBool::new(false);
        let soon = Duration::from_secs(5);
        tx.send("something else".into()).unwrap();
        tx.send("router listening on 127.0.0.1:7 ".into()).unwrap();
        let rest = wait_for_line(&rx, "router listening on ", &mut [], &stop, soon);
        assert_eq!(rest.unwrap(), "127.0.0.1:7");
        let late = wait_for_line(&rx, "router started at ", &mut [], &stop, Duration::ZERO);
        assert_eq!(
            late.unwrap_err().to_string(),
            "the model did not start within 0 s (waiting for the router to say \"router started \
             at\")"
        );
        stop.store(true, Ordering::SeqCst);
        let stopped = wait_for_line(&rx, "router started at ", &mut [], &stop, soon).unwrap_err();
        assert!(matches!(stopped, ProcessError::Interrupted));
        assert_eq!(stopped.to_string(), "interrupted before the model started");
        drop(tx);
        let gone = wait_for_line(&rx, "router started at ", &mut [], &stop, soon).unwrap_err();
        assert_eq!(
            gone.to_string(),
            "the router exited before the model started (see its message above)"
        );
        let signals = ProcessError::Signals(std::io::Error::other("no handler"));
        assert_eq!(signals.to_string(), "cannot handle signals: no handler");
        let exited = ProcessError::Exited {
            role: "machine 2 (m2)".into(),
            status: ExitStatus::from_raw(256),
        };
        assert_eq!(
            String::from(exited),
            "machine 2 (m2) exited before the model started (exit status: 1; see its message \
             above)"
        );
    }
}
