//! The model-machine client: one mio loop that drives one sans-IO [`Machine`].
//!
//! The poll timeout is the time left to the machine's next tick deadline, so an idle client sleeps
//! in `poll` between ticks. Frames that arrive go onto the machine's queue at once (network speed),
//! whatever the tick rate. At each deadline the machine ticks; its log rows are written first, then
//! its frames (queued on `WouldBlock`).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use log::{info, warn};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;

use crate::core::machine::{Machine, MachineConfig};
use crate::core::seed::{self, Stream};
use crate::core::wire::{self, Kind, Parsed};
use crate::net::wallclock::WallClock;
use crate::rundir::log::LogWriter;
use crate::rundir::records::ClientSummary;
use crate::rundir::{summary_file_name, write_yaml_atomically};

const SOCKET: Token = Token(0);
const SIGNALS: Token = Token(1);

/// How a client finds its rate once it knows its id, the number of machines and the run's seed.
pub type RateFor = Box<dyn Fn(u16, u16, u64) -> Result<f64, String>>;

/// Everything a client needs.
pub struct ClientOptions {
    /// The machine's name, `ADDRESS:PORT`.
    pub name: String,
    /// The router's address.
    pub router: SocketAddr,
    /// How long to keep trying to reach the router.
    pub connect_timeout: Duration,
    /// The run's seed, if given; otherwise the one the router sends in WELCOME. The machine's
    /// own seed is derived from it and the id.
    pub run_seed: Option<u64>,
    /// R, the action range.
    pub action_range: u32,
    /// The rate, from the id and the number of machines.
    pub rate_for: RateFor,
    /// Where the log and summary go.
    pub log_dir: PathBuf,
}

/// Why a client stopped with an error.
#[derive(Debug)]
pub enum ClientError {
    /// Reaching the router, or talking to it, failed.
    Io(String, io::Error),
    /// The router refused us or broke the protocol.
    Protocol(String),
    /// The router went away without BYE; the summary was written.
    RouterVanished(Box<ClientSummary>),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Io(what, e) => write!(f, "{what}: {e}"),
            ClientError::Protocol(reason) => f.write_str(reason),
            ClientError::RouterVanished(s) => write!(f, "machine {}: {}", s.id, s.ended),
        }
    }
}

impl std::error::Error for ClientError {}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> ClientError {
    let what = what.into();
    move |e| ClientError::Io(what, e)
}

/// Connects, registers, runs the machine until the router stops it, and writes the summary.
pub fn run(opts: ClientOptions) -> Result<ClientSummary, ClientError> {
    let clock = WallClock::new();
    let stream = connect(opts.router, opts.connect_timeout)?;
    let mut client = Client::new(opts, clock, stream)?;
    client.run()
}

fn connect(router: SocketAddr, timeout: Duration) -> Result<std::net::TcpStream, ClientError> {
    let deadline = Instant::now() + timeout;
    let mut said = false;
    loop {
        match std::net::TcpStream::connect(router) {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() < deadline && e.kind() == io::ErrorKind::ConnectionRefused => {
                if !said {
                    info!("waiting for the router at {router}");
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => {
                return Err(ClientError::Io(
                    format!("cannot reach the router at {router}"),
                    e,
                ));
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// HELLO sent, waiting for WELCOME.
    Registering,
    /// Ticking.
    Running,
    /// BYE sent; reading until the router closes.
    Leaving,
}

struct Client {
    opts: ClientOptions,
    clock: WallClock,
    poll: Poll,
    stream: TcpStream,
    signals: Signals,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    interest: Interest,
    phase: Phase,
    machine: Option<(Machine, LogWriter)>,
    /// The run's seed, once WELCOME has settled it.
    run_seed: u64,
    refused: u64,
    stop_time_ns: u64,
    ended: String,
    orderly: bool,
    eof: bool,
}

impl Client {
    fn new(
        opts: ClientOptions,
        clock: WallClock,
        stream: std::net::TcpStream,
    ) -> Result<Client, ClientError> {
        stream.set_nonblocking(true).map_err(io_err("socket"))?;
        let _ = stream.set_nodelay(true);
        let mut stream = TcpStream::from_std(stream);
        let poll = Poll::new().map_err(io_err("poll"))?;
        poll.registry()
            .register(&mut stream, SOCKET, Interest::READABLE)
            .map_err(io_err("poll"))?;
        let mut signals = Signals::new([SIGINT, SIGTERM]).map_err(io_err("signals"))?;
        poll.registry()
            .register(&mut signals, SIGNALS, Interest::READABLE)
            .map_err(io_err("poll"))?;
        let hello = wire::hello(&opts.name, clock.now_ns()).ok_or_else(|| {
            ClientError::Protocol(format!(
                "the name {:?} must be 1 to {} bytes",
                opts.name,
                wire::MAX_NAME_LEN
            ))
        })?;
        Ok(Client {
            opts,
            clock,
            poll,
            stream,
            signals,
            inbuf: Vec::with_capacity(64 * 1024),
            outbuf: hello,
            interest: Interest::READABLE,
            phase: Phase::Registering,
            machine: None,
            run_seed: 0,
            refused: 0,
            stop_time_ns: 0,
            ended: String::new(),
            orderly: false,
            eof: false,
        })
    }

    fn run(&mut self) -> Result<ClientSummary, ClientError> {
        let mut events = Events::with_capacity(16);
        self.flush()?;
        while !self.eof {
            let timeout = match (&self.machine, self.phase) {
                (Some((m, _)), Phase::Running) => {
                    Some(self.clock.until(Instant::now(), m.poll_timeout()))
                }
                _ => None,
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(ClientError::Io("poll".into(), e));
            }
            for event in events.iter() {
                match event.token() {
                    SIGNALS => {
                        let signals: Vec<i32> = self.signals.pending().collect();
                        for signal in signals {
                            self.on_signal(signal)?;
                        }
                    }
                    _ => self.read()?,
                }
            }
            self.tick()?;
            self.flush()?;
        }
        if !self.orderly && self.ended.is_empty() {
            self.ended = "the router closed the connection without BYE".into();
        }
        let summary = self.summary()?;
        if summary.orderly {
            Ok(summary)
        } else {
            Err(ClientError::RouterVanished(Box::new(summary)))
        }
    }

    fn on_signal(&mut self, signal: i32) -> Result<(), ClientError> {
        let name = if signal == SIGINT {
            "SIGINT"
        } else {
            "SIGTERM"
        };
        match self.phase {
            Phase::Leaving => {
                warn!("{name} again: leaving without waiting for the router");
                self.ended = format!("{name} twice: left without waiting for the router");
                // Frames the router has already written may be left unread: not an orderly end.
                self.orderly = false;
                self.eof = true;
            }
            Phase::Registering => {
                self.ended = format!("{name} before the model started");
                self.orderly = false;
                self.eof = true;
            }
            Phase::Running => {
                info!("{name}: leaving in order");
                self.leave(format!("{name}: left with BYE"))?;
            }
        }
        Ok(())
    }

    /// Stops ticking and says BYE; the client then reads until the router closes.
    fn leave(&mut self, why: String) -> Result<(), ClientError> {
        // Ticks already due are taken first: a client woken late (a busy machine) would otherwise
        // stop short of the ticks its rate owes up to its stop time.
        self.tick()?;
        self.phase = Phase::Leaving;
        self.stop_time_ns = self.clock.now_ns();
        let (sent, clock) = self
            .machine
            .as_ref()
            .map_or((0, 0), |(m, _)| (m.frames_sent(), m.clock()));
        self.outbuf
            .extend_from_slice(&wire::bye(self.id(), sent, clock, self.stop_time_ns));
        self.ended = why;
        self.orderly = true;
        Ok(())
    }

    /// The connection is gone in a way that may have lost frames: the end is not orderly.
    fn lost_connection(&mut self, why: String) {
        warn!("{why}");
        self.ended = why;
        self.orderly = false;
        self.eof = true;
    }

    fn id(&self) -> u16 {
        self.machine
            .as_ref()
            .map_or(wire::ROUTER_ID, |(m, _)| m.id())
    }

    fn read(&mut self) -> Result<(), ClientError> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.inbuf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // The router dropped the connection with data in flight: what it had written may
                // be lost, so the end is not orderly, but the summary is still written.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    self.lost_connection(format!("the router reset the connection ({e})"));
                    break;
                }
                Err(e) => return Err(ClientError::Io("reading from the router".into(), e)),
            }
        }
        let inbuf = std::mem::take(&mut self.inbuf);
        let mut used = 0;
        let result = loop {
            match wire::parse(&inbuf[used..]) {
                Ok(Parsed::Complete { frame, len }) => {
                    used += len;
                    if let Err(e) = self.on_frame(&frame) {
                        break Err(e);
                    }
                }
                Ok(Parsed::Incomplete { .. }) => break Ok(()),
                Err(e) => {
                    break Err(ClientError::Protocol(format!(
                        "the router sent an invalid frame: {e}"
                    )));
                }
            }
        };
        self.inbuf = inbuf;
        self.inbuf.drain(..used);
        if self.eof && !self.inbuf.is_empty() {
            warn!(
                "the router closed the connection in the middle of a frame ({} bytes)",
                self.inbuf.len()
            );
        }
        result
    }

    fn on_frame(&mut self, frame: &wire::Frame<'_>) -> Result<(), ClientError> {
        match frame.kind() {
            kind if kind.is_data() => match &mut self.machine {
                Some((machine, _)) => {
                    if let Err(refused) = machine.handle_frame(frame) {
                        warn!("refused a frame: {refused}");
                        self.refused += 1;
                    }
                }
                None => {
                    return Err(ClientError::Protocol(format!(
                        "the router sent {kind} before WELCOME"
                    )));
                }
            },
            Kind::Welcome => self.on_welcome(frame)?,
            Kind::Bye => {
                if self.phase == Phase::Running {
                    self.leave("the router said BYE".into())?;
                } else if self.phase == Phase::Registering {
                    self.ended = "the router stopped before the model started".into();
                    self.orderly = true;
                    self.phase = Phase::Leaving;
                }
            }
            Kind::Error => {
                return Err(ClientError::Protocol(format!(
                    "the router refused us: {}",
                    frame.error_reason().unwrap_or_default()
                )));
            }
            kind => return Err(ClientError::Protocol(format!("the router sent {kind}"))),
        }
        Ok(())
    }

    fn on_welcome(&mut self, frame: &wire::Frame<'_>) -> Result<(), ClientError> {
        let Some(welcome) = frame.welcome() else {
            return Err(ClientError::Protocol("a WELCOME without its body".into()));
        };
        if self.phase != Phase::Registering {
            return Err(ClientError::Protocol("a second WELCOME".into()));
        }
        let run_seed = self.opts.run_seed.unwrap_or(welcome.seed);
        self.run_seed = run_seed;
        let rate = (self.opts.rate_for)(welcome.id, welcome.machines, run_seed)
            .map_err(ClientError::Protocol)?;
        let cfg = MachineConfig {
            id: welcome.id,
            machines: welcome.machines,
            action_range: self.opts.action_range,
            rate,
            seed: seed::derive(run_seed, Stream::Machine(welcome.id)),
            start_ns: welcome.start_time_ns,
        };
        let machine = Machine::new(cfg)
            .map_err(|e| ClientError::Protocol(format!("machine {}: {e}", welcome.id)))?;
        let log = LogWriter::create(&self.opts.log_dir, welcome.id)
            .map_err(io_err(format!("machine {}: log", welcome.id)))?;
        info!(
            "{} is machine {} of {}, {rate} ticks/s, seed {}",
            self.opts.name, welcome.id, welcome.machines, cfg.seed
        );
        self.machine = Some((machine, log));
        self.phase = Phase::Running;
        Ok(())
    }

    /// Takes every due tick, logs its rows, then queues its frames.
    fn tick(&mut self) -> Result<(), ClientError> {
        if self.phase != Phase::Running {
            return Ok(());
        }
        let Some((machine, log)) = &mut self.machine else {
            return Ok(());
        };
        if machine.handle_timeout(self.clock.now_ns()) == 0 {
            return Ok(());
        }
        while let Some(record) = machine.poll_event() {
            log.append(&record).map_err(io_err("writing the log"))?;
        }
        while let Some(header) = machine.poll_transmit() {
            header.write_frame(&[], &mut self.outbuf);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ClientError> {
        let mut written = 0;
        while written < self.outbuf.len() {
            match self.stream.write(&self.outbuf[written..]) {
                Ok(0) => {
                    return Err(ClientError::Io(
                        "writing to the router".into(),
                        io::ErrorKind::WriteZero.into(),
                    ));
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // The router is gone; what is left is lost, and the EOF will say so.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    self.outbuf.clear();
                    self.lost_connection(format!(
                        "the router closed the connection before our frames reached it ({e})"
                    ));
                    return Ok(());
                }
                Err(e) => return Err(ClientError::Io("writing to the router".into(), e)),
            }
        }
        self.outbuf.drain(..written);
        let wanted = if self.outbuf.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        if wanted != self.interest {
            self.poll
                .registry()
                .reregister(&mut self.stream, SOCKET, wanted)
                .map_err(io_err("poll"))?;
            self.interest = wanted;
        }
        Ok(())
    }

    fn summary(&mut self) -> Result<ClientSummary, ClientError> {
        let Some((machine, _)) = &self.machine else {
            return Err(ClientError::Protocol(if self.ended.is_empty() {
                "the router closed the connection before WELCOME".into()
            } else {
                self.ended.clone()
            }));
        };
        if self.stop_time_ns == 0 {
            self.stop_time_ns = self.clock.now_ns();
        }
        let summary = ClientSummary::of(
            machine,
            &self.opts.name,
            self.run_seed,
            self.stop_time_ns,
            self.refused,
            &self.ended,
            self.orderly,
        );
        write_yaml_atomically(
            &self.opts.log_dir.join(summary_file_name(summary.id)),
            &summary,
        )
        .map_err(io_err("writing the summary"))?;
        Ok(summary)
    }
}
