//! The client's socket to the router: reading until `WouldBlock`, splitting what was read into
//! frames, writing what the session queued, and the poll interest that follows from it. It says
//! how the socket ended as a value ([`Closed`]); what that means for the run is the session's call.

use std::io::{self, Read, Write};

use log::warn;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use super::{ClientError, io_err};
use crate::core::wire::{self, Parsed};

/// How much one `read` takes at most.
const READ_CHUNK: usize = 16 * 1024;

/// How the socket ended.
#[derive(Debug)]
pub(super) enum Closed {
    /// End of stream: the router closed its side, after everything it wrote.
    Eof,
    /// The connection broke (a reset, or a write the router will never read): what either side
    /// had written may be lost.
    Broken(String),
}

/// The socket and its buffered input.
pub(super) struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet parsed: at most part of one frame between reads.
    inbuf: Vec<u8>,
    /// The interest registered now: WRITABLE only while output waits.
    interest: Interest,
    /// The socket's token in the client's `Poll`.
    token: Token,
}

impl Conn {
    /// Makes `stream` non-blocking and registers it for reading under `token`.
    pub(super) fn register(
        stream: std::net::TcpStream,
        registry: &Registry,
        token: Token,
    ) -> Result<Conn, ClientError> {
        stream.set_nonblocking(true).map_err(io_err("socket"))?;
        let _ = stream.set_nodelay(true);
        let mut stream = TcpStream::from_std(stream);
        registry
            .register(&mut stream, token, Interest::READABLE)
            .map_err(io_err("poll"))?;
        Ok(Conn {
            stream,
            inbuf: Vec::with_capacity(64 * 1024),
            interest: Interest::READABLE,
            token,
        })
    }

    /// Reads everything the socket holds, until `WouldBlock` or its end.
    pub(super) fn receive(&mut self) -> Result<Option<Closed>, ClientError> {
        let mut chunk = [0u8; READ_CHUNK];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(Some(Closed::Eof)),
                Ok(n) => self.inbuf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                // The router dropped the connection with data in flight: what it had written may
                // be lost, so the end is not orderly, but the summary is still written.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                    ) =>
                {
                    return Ok(Some(broken(format!(
                        "the router reset the connection ({e})"
                    ))));
                }
                Err(e) => return Err(ClientError::Io("reading from the router".into(), e)),
            }
        }
    }

    /// Hands every complete frame read so far to `on_frame`, in order, and keeps the rest. Stops
    /// at the first error, `on_frame`'s or an invalid frame's. `stranger` is the router's address
    /// while nothing valid has come from it yet (before WELCOME): then bytes that are not a frame
    /// mean it is no clocklab router at all, and the error says so.
    pub(super) fn frames(
        &mut self,
        stranger: Option<std::net::SocketAddr>,
        mut on_frame: impl FnMut(&wire::Frame<'_>) -> Result<(), ClientError>,
    ) -> Result<(), ClientError> {
        let mut used = 0;
        let result = loop {
            let rest = &self.inbuf[used..];
            match wire::parse(rest) {
                Ok(Parsed::Complete { frame, len }) => {
                    used += len;
                    if let Err(e) = on_frame(&frame) {
                        break Err(e);
                    }
                }
                Ok(Parsed::Incomplete { .. }) => break Ok(()),
                Err(e) => {
                    break Err(ClientError::Protocol(match stranger {
                        Some(addr) => format!(
                            "{addr} is not a clocklab router: it sent bytes that are not a \
                             clocklab frame: {} ({e})",
                            first_line(rest)
                        ),
                        None => format!("the router sent an invalid frame: {e}"),
                    }));
                }
            }
        };
        self.inbuf.drain(..used);
        result
    }

    /// Takes the socket out of `registry` (before it is dropped, so that a `Poll` that drives
    /// other machines hears no more of it).
    pub(super) fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.stream);
    }

    /// Bytes read that do not make a whole frame yet.
    pub(super) fn partial_len(&self) -> usize {
        self.inbuf.len()
    }

    /// Writes as much of `outbox` as the socket takes and removes it, then asks for WRITABLE
    /// only if some is left. A router that is gone loses what is left, which `outbox` drops.
    pub(super) fn flush(
        &mut self,
        outbox: &mut Vec<u8>,
        registry: &Registry,
    ) -> Result<Option<Closed>, ClientError> {
        let mut written = 0;
        while written < outbox.len() {
            match self.stream.write(&outbox[written..]) {
                Ok(0) => {
                    return Err(ClientError::Io(
                        "writing to the router".into(),
                        io::ErrorKind::WriteZero.into(),
                    ));
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
                {
                    outbox.clear();
                    return Ok(Some(broken(format!(
                        "the router closed the connection before our frames reached it ({e})"
                    ))));
                }
                Err(e) => return Err(ClientError::Io("writing to the router".into(), e)),
            }
        }
        outbox.drain(..written);
        let wanted = if outbox.is_empty() {
            Interest::READABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        if wanted != self.interest {
            registry
                .reregister(&mut self.stream, self.token, wanted)
                .map_err(io_err("poll"))?;
            self.interest = wanted;
        }
        Ok(None)
    }
}

/// The most shown of what a stranger sent.
const SHOWN: usize = 60;

/// What a peer that is no router sent, as a person can read it: its first line as text in quotes
/// (`"HTTP/1.1 400 Bad Request"`), control characters escaped, at most [`SHOWN`] characters
/// (`...` when cut); or, when it is not text, its first bytes in hex.
pub(super) fn first_line(bytes: &[u8]) -> String {
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text: String = String::from_utf8_lossy(line).chars().take(SHOWN).collect();
    let printable = text.chars().filter(|c| !c.is_control()).count();
    if text.is_empty() || printable * 4 < text.chars().count() * 3 || text.contains('\u{fffd}') {
        let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let more = if bytes.len() > 16 { " ..." } else { "" };
        return format!("bytes {}{more}", hex.join(" "));
    }
    let cut = if line.len() > text.len() { "..." } else { "" };
    format!("\"{}{cut}\"", text.escape_debug())
}

/// A broken connection, logged as it is found.
fn broken(why: String) -> Closed {
    warn!("{why}");
    Closed::Broken(why)
}

#[cfg(test)]
mod tests {
    use super::first_line;

    #[test]
    fn what_a_stranger_sent_is_shown_as_its_first_line_or_its_first_bytes() {
        assert_eq!(
            first_line(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
            "\"HTTP/1.1 400 Bad Request\""
        );
        assert_eq!(
            first_line(b"SSH-2.0-OpenSSH_9.6\r\n"),
            "\"SSH-2.0-OpenSSH_9.6\""
        );
        let long = [b'a'; 100];
        assert_eq!(first_line(&long), format!("\"{}...\"", "a".repeat(60)));
        assert_eq!(first_line(b"ok\tthen"), "\"ok\\tthen\"");
        assert_eq!(
            first_line(&[0x16, 0x03, 0x01, 0x00, 0xff, 0x01]),
            "bytes 16 03 01 00 ff 01"
        );
        assert_eq!(
            first_line(&[0u8; 20]),
            format!("bytes {} ...", ["00"; 16].join(" "))
        );
    }
}
