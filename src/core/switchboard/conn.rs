//! One connection as the switchboard sees it: who it is, where it stands in its life (one enum),
//! its read buffer, its outbox of frames waiting to be written, and its part in flow control.

use super::ConnId;
use super::buffers::{Outbox, ReadBuf};
use super::memory::Counted;

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
    /// To be closed once its outbox is written; nothing more is taken from it (but for the one
    /// frame after a BYE that [`CloseStep::AfterBye`] refuses).
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
    /// How far the close has come, and so what is done with what the peer still sends.
    pub(super) step: CloseStep,
}

/// The two halves of an orderly close, and what the peer's input still means in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CloseStep {
    /// A machine that said BYE and was sent no ERROR: its outbox is still being written, and the
    /// first frame it sends (or invalid bytes) is refused with one; then it is [`Self::Flushing`].
    AfterBye,
    /// The outbox is still being written; what the peer sends is no longer looked at.
    Flushing,
    /// The peer shut its side while the outbox still held frames: they are written, then it goes.
    PeerShut,
    /// Everything is written and the driver has shut our write side (so no ERROR can reach the
    /// peer any more); waiting for the peer's end.
    WriteShut,
}

/// One connection.
#[derive(Debug)]
pub(super) struct Conn {
    /// The peer's address, for the records.
    pub(super) peer: String,
    /// The name its HELLO gave, once it gave one.
    pub(super) name: Option<String>,
    pub(super) state: State,
    /// When it connected, nanoseconds (the HELLO deadline runs from here).
    pub(super) connected_ns: u64,
    /// Bytes received and not yet taken as frames (changed only through `memory::Conns`).
    pub(super) inbuf: Counted<ReadBuf>,
    /// The length the partial frame at the front of `inbuf` needs, 0 if none.
    pub(super) need: usize,
    /// Since when the read buffer has held a partial frame with no frame completed: the start of
    /// its stall clock, which runs only while the switchboard reads it (see `stall_paused`).
    pub(super) partial_since_ns: Option<u64>,
    /// The switchboard stopped reading it (flow control or the memory limit): its stall clock
    /// stands still, and starts again from zero at the first
    /// [`Switchboard::handle_timeout`](super::Switchboard::handle_timeout) that finds it read again.
    pub(super) stall_paused: bool,
    /// Frames waiting to be written (changed only through `memory::Conns`).
    pub(super) outbox: Counted<Outbox>,
    /// Since when the outbox has waited with no byte of it written (while it is not empty).
    pub(super) waiting_since_ns: u64,
    /// Over high water: the senders that were stopped because they had frames for it.
    pub(super) over_high_water: bool,
    /// The senders stopped for this connection's outbox (each counts it in `stopped_by`).
    pub(super) stopped_senders: Vec<ConnId>,
    /// How many receivers' outboxes this sender waits for; it is read only at 0.
    pub(super) stopped_by: u32,
}

impl Conn {
    /// A connection from `peer` at `now_ns` with the (empty) buffers `memory::Conns` gave it.
    pub(super) fn new(
        peer: String,
        now_ns: u64,
        inbuf: Counted<ReadBuf>,
        outbox: Counted<Outbox>,
    ) -> Conn {
        Conn {
            peer,
            name: None,
            state: State::New,
            connected_ns: now_ns,
            inbuf,
            need: 0,
            partial_since_ns: None,
            stall_paused: false,
            outbox,
            waiting_since_ns: now_ns,
            over_high_water: false,
            stopped_senders: Vec::new(),
            stopped_by: 0,
        }
    }

    /// Something is about to be queued at `now_ns`: an empty outbox starts waiting now.
    pub(super) fn about_to_queue(&mut self, now_ns: u64) {
        if self.outbox.is_empty() {
            self.waiting_since_ns = now_ns;
        }
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

    /// Moves to [`State::Closing`] with `reason`, unless it is closing already: a machine that
    /// said BYE to [`CloseStep::AfterBye`], any other connection to [`CloseStep::Flushing`].
    /// Returns whether it had not said HELLO (the switchboard counts those).
    #[must_use]
    pub(super) fn begin_close(&mut self, reason: String, now_ns: u64) -> bool {
        if self.closing().is_some() {
            return false;
        }
        let was_new = self.state == State::New;
        let said_bye = self.said_bye();
        self.state = State::Closing(Closing {
            reason,
            since_ns: now_ns,
            id: self.id(),
            said_bye,
            step: if said_bye {
                CloseStep::AfterBye
            } else {
                CloseStep::Flushing
            },
        });
        was_new
    }

    /// It was sent an ERROR: one is all a connection gets, so after a BYE its input is no longer
    /// looked at.
    pub(super) fn refused(&mut self) {
        if let State::Closing(closing) = &mut self.state {
            if closing.step == CloseStep::AfterBye {
                closing.step = CloseStep::Flushing;
            }
        }
    }
}
