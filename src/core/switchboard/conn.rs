//! One connection as the switchboard sees it: who it is, where it stands in its life (one enum),
//! its read buffer and its outbox of frames waiting to be written.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

/// Where a connection stands. Every transition is made by the switchboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Connected, no HELLO yet.
    New,
    /// Said HELLO (its name is in [`Conn::name`]); waits for the others.
    Registered,
    /// Welcomed as machine `id`; its data frames are routed.
    Machine {
        /// The machine's id.
        id: u16,
    },
    /// Machine `id` said BYE during the stop: it still gets what is sent to it, takes nothing
    /// more, and is closed when the stop ends.
    SaidBye {
        /// The machine's id.
        id: u16,
    },
    /// To be closed once its outbox is written; nothing more is taken from it.
    Closing(Closing),
}

/// A connection on its way out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Closing {
    /// Why it closes (the reason recorded when it is gone).
    pub(super) reason: String,
    /// Since when, nanoseconds: it is closed at the latest one stall timeout later.
    pub(super) since_ns: u64,
    /// The machine it was, if it was welcomed.
    pub(super) id: Option<u16>,
    /// It was a machine that had said BYE (its leaving is no departure).
    pub(super) said_bye: bool,
    /// How far the close has come.
    pub(super) step: CloseStep,
}

/// The two halves of an orderly close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CloseStep {
    /// The outbox is still being written.
    Flushing,
    /// The peer shut its side while the outbox still held frames: they are written, then it goes.
    PeerShut,
    /// Everything is written and the driver has shut our write side; waiting for the peer's end.
    WriteShut,
}

/// A frame waiting in an outbox, with the machine it came from if it is a data frame.
#[derive(Clone, Debug)]
pub(super) struct Outgoing {
    pub(super) bytes: Bytes,
    pub(super) source: Option<u16>,
}

/// One connection.
#[derive(Debug)]
pub(super) struct Conn {
    /// The peer's address, for the records.
    pub(super) peer: String,
    /// The name its HELLO gave, once it gave one.
    pub(super) name: Option<String>,
    pub(super) state: State,
    /// Bytes received and not yet taken as frames.
    pub(super) inbuf: BytesMut,
    /// Since when the read buffer has held a partial frame with no frame completed.
    pub(super) partial_since_ns: Option<u64>,
    pub(super) outbox: VecDeque<Outgoing>,
    pub(super) outbox_bytes: usize,
}

impl Conn {
    pub(super) fn new(peer: String) -> Conn {
        Conn {
            peer,
            name: None,
            state: State::New,
            inbuf: BytesMut::new(),
            partial_since_ns: None,
            outbox: VecDeque::new(),
            outbox_bytes: 0,
        }
    }

    pub(super) fn enqueue(&mut self, bytes: Bytes, source: Option<u16>) {
        self.outbox_bytes += bytes.len();
        self.outbox.push_back(Outgoing { bytes, source });
    }

    /// The machine id, if it was welcomed (closing or not).
    pub(super) fn id(&self) -> Option<u16> {
        match &self.state {
            State::Machine { id } | State::SaidBye { id } => Some(*id),
            State::Closing(c) => c.id,
            State::New | State::Registered => None,
        }
    }

    /// Whether it said BYE as a machine.
    pub(super) fn said_bye(&self) -> bool {
        match &self.state {
            State::SaidBye { .. } => true,
            State::Closing(c) => c.said_bye,
            _ => false,
        }
    }

    pub(super) fn closing(&self) -> Option<&Closing> {
        match &self.state {
            State::Closing(c) => Some(c),
            _ => None,
        }
    }

    /// Moves to [`State::Closing`] with `reason`, unless it is closing already.
    pub(super) fn begin_close(&mut self, reason: String, now_ns: u64) {
        if self.closing().is_some() {
            return;
        }
        self.state = State::Closing(Closing {
            reason,
            since_ns: now_ns,
            id: self.id(),
            said_bye: self.said_bye(),
            step: CloseStep::Flushing,
        });
    }

    /// Takes `n` written bytes off the front of the outbox, calling `delivered(source)` for each
    /// data frame now written in full.
    pub(super) fn written(&mut self, mut n: usize, mut delivered: impl FnMut(u16)) {
        n = n.min(self.outbox_bytes);
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
                delivered(source);
            }
        }
    }
}
