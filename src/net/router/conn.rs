//! One connection's socket as the router drives it: reads until `WouldBlock`, vectored writes of
//! what the switchboard has queued, interest computed from state, and the two-phase close.

use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use crate::core::switchboard::{ConnId, Switchboard};
use crate::net::wallclock::WallClock;
/// The listen backlog: connections the kernel completes and queues before the router accepts
/// them (std's `TcpListener::bind` asks for 128). The kernel caps it at `net.core.somaxconn`,
/// 4,096 by default since Linux 5.4: so many connections can arrive at once, the router busy or
/// descheduled, and none waits for TCP to try again.
const LISTEN_BACKLOG: i32 = 4096;
/// The most slices one vectored write takes.
const MAX_SLICES: usize = 64;
/// The most a closing connection's unread input is drained before its socket is dropped.
const MAX_DRAIN_ON_CLOSE: usize = 1024 * 1024;

/// What one read call brought.
pub(super) enum ReadOutcome {
    /// Bytes, the buffer's first `n`.
    Bytes(usize),
    /// The peer closed its side.
    Eof,
    /// Nothing more for now.
    WouldBlock,
    /// The read failed.
    Failed(io::Error),
}

/// A connection's socket.
pub(super) struct Socket {
    pub(super) stream: TcpStream,
    /// The interest currently registered.
    pub(super) interest: Interest,
    /// Readiness was reported and the socket has not been read to `WouldBlock` since.
    pub(super) unread: bool,
}

impl Socket {
    /// One read into `buf`, retrying `Interrupted`.
    pub(super) fn read(&mut self, buf: &mut [u8]) -> ReadOutcome {
        loop {
            return match self.stream.read(buf) {
                Ok(0) => ReadOutcome::Eof,
                Ok(n) => ReadOutcome::Bytes(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => ReadOutcome::WouldBlock,
                Err(e) => ReadOutcome::Failed(e),
            };
        }
    }

    /// Writes as much of `conn`'s outbox as the socket takes, telling the switchboard how many
    /// bytes went (so it counts what was delivered).
    pub(super) fn flush(
        &mut self,
        sb: &mut Switchboard,
        conn: ConnId,
        clock: &WallClock,
    ) -> io::Result<()> {
        while sb.wants_write(conn) {
            // Runs of frames, each a slice of the bytes that arrived; the rest on the next turn.
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut count = 0;
            for (slot, bytes) in slices.iter_mut().zip(sb.poll_transmit(conn)) {
                *slot = IoSlice::new(bytes);
                count += 1;
            }
            let n = match self.stream.write_vectored(&slices[..count]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            sb.handle_written(conn, n, clock.now_ns());
        }
        Ok(())
    }

    /// Registers the interest the state calls for: WRITABLE only while something waits.
    pub(super) fn update_interest(
        &mut self,
        registry: &Registry,
        token: Token,
        wants_write: bool,
    ) -> io::Result<()> {
        let wanted = if wants_write {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        if wanted != self.interest {
            registry.reregister(&mut self.stream, token, wanted)?;
            self.interest = wanted;
        }
        Ok(())
    }

    /// First half of an orderly close: end-of-stream after everything written.
    pub(super) fn shut_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Deregisters and drops the socket. End-of-stream first, and take what the peer still had in
    /// flight: a socket dropped with unread data would send a reset, which can destroy what the
    /// peer has yet to read.
    pub(super) fn close(mut self, registry: &Registry, scratch: &mut [u8]) {
        let _ = registry.deregister(&mut self.stream);
        let _ = self.stream.shutdown(Shutdown::Write);
        let mut drained = 0;
        while drained < MAX_DRAIN_ON_CLOSE {
            match self.stream.read(scratch) {
                Ok(n) if n > 0 => drained += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                _ => break,
            }
        }
    }
}

/// Makes a bound listener ready for the router: a backlog of [`LISTEN_BACKLOG`] (listening again
/// on a listening socket sets it), non-blocking, and the process's soft limit on open files
/// raised to the hard one (often 1,024 against 500,000 or more), so that thousands of
/// connections fit; running out still only delays `accept`.
pub(super) fn prepare_listener(listener: &std::net::TcpListener) -> io::Result<()> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    use nix::sys::socket::{Backlog, listen};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
            log::debug!("open file limit raised from {soft} to {hard}");
        }
    }
    let backlog = Backlog::new(LISTEN_BACKLOG).unwrap_or(Backlog::MAXALLOWABLE);
    listen(listener, backlog).map_err(io::Error::from)?;
    listener.set_nonblocking(true)
}
