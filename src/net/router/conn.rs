//! One connection of the router: its state, read buffer and outbox, and the vectored writes that
//! drain the outbox.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Write};
use std::net::SocketAddr;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use mio::Interest;
use mio::net::TcpStream;

/// Most slices handed to one vectored write (Linux's IOV_MAX): each small frame is a slice, so a
/// backlog of them goes out in few system calls.
const MAX_IOVECS: usize = 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Connected, no HELLO yet.
    New,
    /// Said HELLO; waiting for the others.
    Registered(String),
    /// Welcomed as machine `id`.
    Machine { id: u16, name: String },
}

/// A frame waiting in an outbox, with the machine it came from if it is a data frame.
pub(super) struct Outgoing {
    pub(super) bytes: Bytes,
    pub(super) source: Option<u16>,
}

pub(super) struct Conn {
    pub(super) stream: TcpStream,
    pub(super) peer: SocketAddr,
    pub(super) state: State,
    pub(super) inbuf: BytesMut,
    pub(super) outbox: VecDeque<Outgoing>,
    pub(super) outbox_bytes: usize,
    /// Since when the read buffer has held a partial frame with no frame completed.
    pub(super) partial_since: Option<Instant>,
    /// The machine said BYE.
    pub(super) said_bye: bool,
    /// Set when the connection is to be closed once its outbox is written (ERROR, BYE, stop):
    /// the reason and since when. Nothing more is taken from it.
    pub(super) closing: Option<(String, Instant)>,
    /// Our write side is shut: the peer has everything and has been sent FIN.
    pub(super) write_shut: bool,
    /// The peer has shut its write side while we still had frames for it: they are written, then
    /// the connection closes.
    pub(super) peer_shut: bool,
    /// The interest currently registered.
    pub(super) interest: Interest,
}

impl Conn {
    pub(super) fn enqueue(&mut self, bytes: Bytes, source: Option<u16>) {
        self.outbox_bytes += bytes.len();
        self.outbox.push_back(Outgoing { bytes, source });
    }

    pub(super) fn id(&self) -> Option<u16> {
        match self.state {
            State::Machine { id, .. } => Some(id),
            _ => None,
        }
    }

    pub(super) fn name(&self) -> Option<&str> {
        match &self.state {
            State::Registered(name) | State::Machine { name, .. } => Some(name),
            State::New => None,
        }
    }

    /// Writes as much of the outbox as the socket takes, calling `written(source)` for each data
    /// frame written in full.
    pub(super) fn flush(&mut self, mut written: impl FnMut(u16)) -> io::Result<()> {
        while !self.outbox.is_empty() {
            // One small allocation per system call; an array of IOV_MAX slices would be cleared
            // on every call, however few frames wait.
            let slices: Vec<IoSlice<'_>> = self
                .outbox
                .iter()
                .take(MAX_IOVECS)
                .map(|out| IoSlice::new(&out.bytes))
                .collect();
            let mut n = match self.stream.write_vectored(&slices) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.outbox_bytes -= n;
            while n > 0 {
                let Some(front) = self.outbox.front_mut() else {
                    break;
                };
                if n < front.bytes.len() {
                    front.bytes.advance(n);
                    break;
                }
                n -= front.bytes.len();
                if let Some(Outgoing {
                    source: Some(source),
                    ..
                }) = self.outbox.pop_front()
                {
                    written(source);
                }
            }
        }
        Ok(())
    }
}
