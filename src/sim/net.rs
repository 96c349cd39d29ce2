//! The virtual network: the simulator's driver of the real [`Switchboard`], doing with bytes and
//! virtual time what the router's mio driver (`net::router`) does with sockets and the OS clock.
//!
//! Each machine has a connection (`ConnId` = its index in the simulator's list of names) and a
//! virtual socket: the bytes it writes wait in `pending` until the switchboard is willing to read
//! them ([`Switchboard::wants_read`]), and are then copied into the connection's read buffer
//! ([`Switchboard::read_buffer`], [`Switchboard::handle_filled`]), as a socket read would. A
//! [`Net::round`] is one turn of the router's loop: the reads, [`Switchboard::handle_timeout`],
//! then every outbox written in full (the virtual sockets take everything at once) and its
//! [`Fate`] carried out. What the outboxes held comes out as [`Out`] values, whole frames, for
//! the scheduler to deliver after its latency model. A connection told to shut its write side
//! gets the machine's own close at once ([`Switchboard::handle_eof`]), as a machine that has said
//! BYE closes on end of stream.
//!
//! Nothing here allocates per frame: the pending bytes, the outbox copy and the list of outputs
//! are buffers kept from one round to the next.

use crate::core::switchboard::{ConnId, Fate, Options, PairTable, Plan, Report, Switchboard};
use crate::core::wire::{self, HEADER_LEN, Header, Kind, Parsed, Welcome};

/// A frame the switchboard wrote to a machine's connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Out {
    /// A data frame for the machine on `conn`: its bytes (data frames of the model carry no
    /// payload, so the header is the frame).
    Data {
        /// The receiving connection.
        conn: usize,
        /// The frame's bytes.
        frame: [u8; HEADER_LEN],
    },
    /// The machine on `conn` is welcomed.
    Welcome {
        /// The connection.
        conn: usize,
        /// What WELCOME said.
        welcome: Welcome,
    },
    /// The router said BYE to the machine on `conn`.
    Bye {
        /// The connection.
        conn: usize,
    },
    /// The router refused the machine on `conn`.
    Error {
        /// The connection.
        conn: usize,
        /// The reason it gave.
        reason: String,
    },
}

/// The switchboard and the machines' virtual sockets.
pub(super) struct Net {
    sb: Switchboard,
    /// Bytes each connection's machine wrote that the switchboard has not read yet.
    pending: Vec<Vec<u8>>,
    /// Whether each connection is still open at the switchboard.
    open: Vec<bool>,
    /// Connections in the order their outboxes are written: by machine id once welcomed, so
    /// that a broadcast reaches its receivers (and draws their latencies) in ascending id.
    order: Vec<usize>,
    /// An outbox's bytes, copied out for one write.
    scratch: Vec<u8>,
    /// When the last round ran, and how many ran at that instant.
    last_round: (u64, u32),
    /// The switchboard's [`Switchboard::poll_timeout`] after the last round (`None` once it is
    /// finished): it changes only when the switchboard is handed something.
    timeout: Option<u64>,
}

impl Net {
    /// The switchboard with `opts` and the fault plan's rules `plan` (delays and partitions,
    /// windows from the start it will announce), and a connection from each of `peers` made at
    /// `now_ns`.
    pub(super) fn new(opts: Options, plan: Plan, peers: &[String], now_ns: u64) -> Net {
        let mut sb = Switchboard::new(opts);
        sb.set_plan(plan);
        for (index, peer) in peers.iter().enumerate() {
            sb.handle_connect(ConnId(index), peer.clone(), now_ns);
        }
        Net {
            sb,
            pending: vec![Vec::new(); peers.len()],
            open: vec![true; peers.len()],
            order: (0..peers.len()).collect(),
            scratch: Vec::new(),
            last_round: (0, 0),
            timeout: None,
        }
    }

    /// The machine on `conn` writes `bytes` to its socket.
    pub(super) fn write(&mut self, conn: usize, bytes: &[u8]) {
        self.pending[conn].extend_from_slice(bytes);
    }

    /// The machine on `conn` writes the frame with `header` and no payload.
    pub(super) fn write_header(&mut self, conn: usize, header: &Header) {
        let mut head = [0u8; HEADER_LEN];
        header.emit(&mut head);
        self.pending[conn].extend_from_slice(&head);
    }

    /// The stop at `now_ns` (the end of the trial): the switchboard says BYE to every machine.
    pub(super) fn stop(&mut self, cause: &str, now_ns: u64) {
        self.sb.handle_stop(cause, now_ns);
    }

    /// When the switchboard must be woken even if no machine does anything (as it said after the
    /// last round, which every call that hands it something is followed by); `None` once it is
    /// finished, or when it asks for an instant at which it has been woken twice already (a
    /// deadline that a wake-up does not move would otherwise stop virtual time).
    pub(super) fn poll_timeout(&self, now_ns: u64) -> Option<u64> {
        let due = self.timeout?.max(now_ns);
        let (at, rounds) = self.last_round;
        (due != at || rounds < 2).then_some(due)
    }

    /// Whether the switchboard is done (every connection closed after the stop).
    pub(super) fn is_finished(&self, now_ns: u64) -> bool {
        self.sb.is_finished(now_ns)
    }

    /// One turn of the router's loop at `now_ns`, repeated while a machine has bytes the
    /// switchboard will read: reads, timeouts, then every outbox written, its frames appended to
    /// `outs`.
    pub(super) fn round(&mut self, now_ns: u64, outs: &mut Vec<Out>) {
        self.last_round = match self.last_round {
            (at, rounds) if at == now_ns => (at, rounds.saturating_add(1)),
            _ => (now_ns, 1),
        };
        // The first turn may find a sender held back that its own writes release; after that,
        // a turn that reads nothing ends the round (bytes the switchboard does not take now
        // wait for a later round: a machine's frame, or the switchboard's poll_timeout).
        for turn in 0.. {
            let read = self.read_all(now_ns);
            self.sb.handle_timeout(now_ns);
            self.flush_all(now_ns, outs);
            // The switchboard's log lines have no file in a simulation.
            while self.sb.poll_event().is_some() {}
            if (!read && turn > 0) || !self.readable_pending() {
                break;
            }
        }
        self.timeout = match self.sb.is_finished(now_ns) {
            true => None,
            false => self.sb.poll_timeout(),
        };
    }

    /// Whether a connection has bytes waiting that the switchboard wants to read.
    fn readable_pending(&self) -> bool {
        let mut waiting = self.pending.iter().enumerate();
        waiting.any(|(k, p)| !p.is_empty() && self.sb.wants_read(ConnId(k)))
    }

    /// Reads what each connection's machine wrote, as far as the switchboard takes it now.
    /// Returns whether anything was read.
    fn read_all(&mut self, now_ns: u64) -> bool {
        let mut read = false;
        for (k, pending) in self.pending.iter_mut().enumerate() {
            let conn = ConnId(k);
            while !pending.is_empty() && self.sb.wants_read(conn) {
                let Some(buf) = self.sb.read_buffer(conn) else {
                    break;
                };
                let n = buf.len().min(pending.len());
                buf[..n].copy_from_slice(&pending[..n]);
                pending.drain(..n);
                self.sb.handle_filled(conn, n, now_ns);
                read = true;
            }
        }
        read
    }

    /// Writes every outbox in full and carries out each connection's fate.
    fn flush_all(&mut self, now_ns: u64, outs: &mut Vec<Out>) {
        for &k in &self.order {
            if !self.open[k] {
                continue;
            }
            let conn = ConnId(k);
            self.scratch.clear();
            for slice in self.sb.poll_transmit(conn) {
                self.scratch.extend_from_slice(slice);
            }
            if !self.scratch.is_empty() {
                self.sb.handle_written(conn, self.scratch.len(), now_ns);
                frames_out(k, &self.scratch, outs);
            }
            let fate = match self.sb.poll_fate(conn, now_ns) {
                // The machine reads to the end of the stream and closes its own side.
                Fate::ShutWrite => self.sb.handle_eof(conn),
                fate => fate,
            };
            if fate == Fate::Close {
                self.open[k] = false;
            }
        }
        if outs.iter().any(|o| matches!(o, Out::Welcome { .. })) {
            // Ids are given at once to every machine: write to them in id order from now on.
            let id = |k: &usize| self.sb.machine_id(ConnId(*k)).unwrap_or(u16::MAX);
            self.order.sort_by_key(id);
        }
    }

    /// Closes every connection still open, as the router does when it stops (a stop grace that
    /// ran out).
    pub(super) fn close_all(&mut self, reason: &str) {
        for (k, open) in self.open.iter_mut().enumerate() {
            if std::mem::take(open) {
                self.sb.handle_close(ConnId(k), reason.to_string());
            }
        }
    }

    /// What the switchboard did: the router's statistics come from it.
    pub(super) fn report(&self) -> Report {
        self.sb.report()
    }

    /// The switchboard's books of every ordered pair.
    pub(super) fn pairs(&self) -> &PairTable {
        self.sb.pairs()
    }

    /// The options in force.
    pub(super) fn options(&self) -> &Options {
        self.sb.options()
    }
}

/// The frames of `bytes`, all whole (the switchboard writes whole frames and the virtual socket
/// takes every byte), as outputs for the machine on `conn`.
fn frames_out(conn: usize, mut bytes: &[u8], outs: &mut Vec<Out>) {
    while let Ok(Parsed::Complete { frame, len }) = wire::parse(bytes) {
        let out = match frame.kind() {
            kind if kind.is_data() => {
                let mut header = [0u8; HEADER_LEN];
                header.copy_from_slice(frame.header_bytes());
                Some(Out::Data {
                    conn,
                    frame: header,
                })
            }
            Kind::Welcome => frame
                .welcome()
                .map(|welcome| Out::Welcome { conn, welcome }),
            Kind::Bye => Some(Out::Bye { conn }),
            Kind::Error => Some(Out::Error {
                conn,
                reason: frame.error_reason().unwrap_or_default().to_string(),
            }),
            // The switchboard sends machines nothing else.
            _ => None,
        };
        outs.extend(out);
        bytes = &bytes[len..];
    }
}
