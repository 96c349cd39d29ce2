//! Frames in: the complete frames of a read buffer taken in order, data frames back to back
//! routed together as runs of one slice of the read, everything else handed to its rule.
//!
//! Data frames back to back that share kind, source, dest and length form a segment, and a
//! segment is routed, counted and queued at once: a stream of one machine's frames of one kind
//! and size costs a parse per frame and the routing once per read.

use bytes::Bytes;

use super::buffers::ReadBuf;
use super::conn::{CloseStep, Closing, State};
use super::weather::Verdict;
use super::{ConnId, Switchboard};
use crate::core::route;
use crate::core::wire::{self, Frame, Kind, Parsed};

/// What the front of a read buffer asks of the switchboard, taken out of the buffer's borrow.
enum Step {
    /// Data frames back to back were routed (up to a refusal, if any).
    Routed,
    /// What is left is a partial frame that needs this many bytes in all (or nothing at all).
    Partial(usize),
    /// A HELLO of `len` bytes giving this name.
    Hello { name: String, len: usize },
    /// A BYE of `len` bytes from this source.
    Bye { source: u16, len: usize },
    /// The connection is refused for this reason.
    Refuse(String),
    /// A machine that said BYE sent something more: it is refused for this reason.
    RefuseAfterBye(String),
}

/// Data frames back to back in the read being routed whose headers route alike and which have
/// one length: where they lie among the read's bytes, and what their headers say.
#[derive(Clone, Copy, Debug)]
pub(super) struct Segment {
    kind: Kind,
    source: u16,
    dest: u16,
    offset: usize,
    /// Each frame's length.
    len: usize,
    /// How many frames.
    count: u32,
}

/// Why a machine's data frames are refused (the reason its ERROR gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum DataRefusal {
    /// It said BYE already.
    #[error("{kind} after this machine's BYE")]
    AfterBye { kind: Kind },
    /// It has not been welcomed as a machine.
    #[error("{kind} before WELCOME")]
    BeforeWelcome { kind: Kind },
    /// Its source is another machine's id.
    #[error("{kind} with source {sender} on the connection of machine {id}")]
    Spoofed { kind: Kind, sender: u16, id: u16 },
    /// Its kind and dest route to no machine of the model.
    #[error("{kind} from machine {sender} (dest {dest}) names no machine among 1..={machines}")]
    NoTarget {
        kind: Kind,
        sender: u16,
        dest: u16,
        machines: u16,
    },
}

impl Segment {
    /// Adds the data frame `frame`, `len` bytes at `offset`, to the end of `batch`: to its last
    /// segment if the frame follows it and routes alike.
    fn push(batch: &mut Vec<Segment>, frame: &Frame<'_>, offset: usize, len: usize) {
        let (kind, source, dest) = (frame.kind(), frame.source(), frame.dest());
        if let Some(last) = batch.last_mut() {
            let alike = last.kind == kind && last.source == source && last.dest == dest;
            if alike && last.len == len && last.count < u32::MAX {
                last.count += 1;
                return;
            }
        }
        batch.push(Segment {
            kind,
            source,
            dest,
            offset,
            len,
            count: 1,
        });
    }
}

impl Switchboard {
    /// Handles every complete frame in the connection's read buffer. The buffer is taken out of
    /// the connection meanwhile, so that frames are queued from it into other outboxes directly.
    pub(super) fn process(&mut self, key: ConnId, now_ns: u64) {
        let Some(mut inbuf) = self.conns.take_inbuf(key) else {
            return;
        };
        let need = self.process_buffer(key, inbuf.buf(), now_ns);
        self.conns.put_inbuf(key, inbuf);
        if let Some(conn) = self.conn_mut(key) {
            conn.need = need;
        }
    }

    /// Handles every complete frame in `inbuf`, which holds `key`'s bytes; returns the length the
    /// partial frame left at its front needs (0 if none). What a frame asks depends on where the
    /// connection stands, looked at again after each step: data frames back to back are routed
    /// together, as one slice of the read buffer ([`Switchboard::route_batch`]); anything else is
    /// handled when the data frames before it have been.
    fn process_buffer(&mut self, key: ConnId, inbuf: &mut ReadBuf, now_ns: u64) -> usize {
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        // Whether a frame was taken (or refused) in this call.
        let mut progressed = false;
        let need = loop {
            let Some(conn) = self.conn(key) else {
                break 0;
            };
            let step = match &conn.state {
                State::New | State::Registered | State::Machine { .. } | State::SaidBye { .. } => {
                    self.take_frames(key, inbuf, &mut batch, now_ns)
                }
                State::Closing(Closing {
                    step: CloseStep::AfterBye,
                    ..
                }) => self.after_bye(inbuf),
                State::Closing(_) => {
                    inbuf.clear();
                    break 0;
                }
            };
            match step {
                Step::Partial(needed) => {
                    break self.partial_frame(key, inbuf, needed, progressed, now_ns);
                }
                Step::Routed => {}
                Step::Hello { name, len } => {
                    inbuf.consume(len);
                    self.on_hello(key, name, now_ns);
                }
                Step::Bye { source, len } => {
                    inbuf.consume(len);
                    self.on_bye(key, source, now_ns);
                }
                Step::Refuse(reason) => {
                    inbuf.clear();
                    self.refuse(key, reason, now_ns);
                }
                Step::RefuseAfterBye(reason) => {
                    inbuf.clear();
                    self.refuse_after_bye(key, reason, now_ns);
                }
            }
            progressed = true;
        };
        self.batch = batch;
        need
    }

    /// The next step of a connection that is not closing, at the front of `inbuf`: the data
    /// frames back to back there, routed together (the common case, in a loop of its own), or
    /// else the first frame (counted), partial frame or invalid bytes.
    fn take_frames(
        &mut self,
        key: ConnId,
        inbuf: &mut ReadBuf,
        batch: &mut Vec<Segment>,
        now_ns: u64,
    ) -> Step {
        let max_payload = self.opts.max_payload;
        // Bytes at the front of `inbuf` that the batch covers.
        let mut batched = 0;
        let (step, received) = loop {
            let (frame, len) = match wire::parse_with_limit(&inbuf.data()[batched..], max_payload) {
                Ok(Parsed::Complete { frame, len }) => (frame, len),
                Ok(Parsed::Incomplete { needed }) => break (Step::Partial(needed), None),
                Err(e) => break (Step::Refuse(format!("invalid frame: {e}")), None),
            };
            let kind = frame.kind();
            let step = match kind {
                Kind::SendFirst | Kind::SendSecond | Kind::Broadcast | Kind::SendTo => {
                    Segment::push(batch, &frame, batched, len);
                    batched += len;
                    continue;
                }
                Kind::Hello => Step::Hello {
                    name: frame.hello_name().unwrap_or_default().into(),
                    len,
                },
                Kind::Bye => Step::Bye {
                    source: frame.source(),
                    len,
                },
                Kind::Welcome | Kind::Error => {
                    Step::Refuse(format!("only the router sends {kind}"))
                }
            };
            break (step, Some((kind, len)));
        };
        if !batch.is_empty() {
            // Route what came before; the next frame is looked at in the state that left.
            self.route_batch(key, inbuf, batched, batch, now_ns);
            return Step::Routed;
        }
        if let Some((kind, len)) = received {
            self.count(kind, 1, len);
        }
        step
    }

    /// The next step of a machine after its BYE, at the front of `inbuf`: its first complete
    /// frame (or invalid bytes) is refused, unless our write side is shut already (then there is
    /// no way to say so, and the connection is no longer [`CloseStep::AfterBye`]).
    fn after_bye(&self, inbuf: &ReadBuf) -> Step {
        match wire::parse_with_limit(inbuf.data(), self.opts.max_payload) {
            Ok(Parsed::Complete { frame, .. }) => {
                Step::RefuseAfterBye(format!("{} after this machine's BYE", frame.kind()))
            }
            Ok(Parsed::Incomplete { needed }) => Step::Partial(needed),
            Err(e) => Step::RefuseAfterBye(format!("invalid frame: {e}")),
        }
    }

    /// What is left in `inbuf` is a partial frame that needs `needed` bytes in all, or nothing:
    /// the stall clock of `key` starts, restarts if frames were taken before it (`progressed`), or
    /// stops. Returns what it needs (0 for nothing).
    fn partial_frame(
        &mut self,
        key: ConnId,
        inbuf: &ReadBuf,
        needed: usize,
        progressed: bool,
        now_ns: u64,
    ) -> usize {
        let Some(conn) = self.conn_mut(key) else {
            return 0;
        };
        if inbuf.is_empty() {
            conn.partial_since_ns = None;
        } else if progressed || conn.partial_since_ns.is_none() {
            conn.partial_since_ns = Some(now_ns);
        }
        if inbuf.is_empty() { 0 } else { needed }
    }

    /// Counts `frames` frames of `len` bytes each received.
    fn count(&mut self, kind: Kind, frames: u32, len: usize) {
        let count = &mut self.kinds[kind.index()];
        count.frames += u64::from(frames);
        count.bytes += u64::from(frames) * len as u64;
    }

    /// Routes the data frames of `batch`, the first `len` bytes of `inbuf`, in order: they are
    /// taken off it as one slice, and each receiver gets its frames as runs of that slice. The
    /// first frame refused ends it (the rest are not looked at, as if they had never come). The
    /// frames of a segment route alike, so its first frame is refused or none of it is.
    fn route_batch(
        &mut self,
        key: ConnId,
        inbuf: &mut ReadBuf,
        len: usize,
        batch: &mut Vec<Segment>,
        now_ns: u64,
    ) {
        // Nothing in the batch changes the sender's state but a refusal, which ends it.
        let Some(sender) = self.conn(key).map(|c| c.state.clone()) else {
            batch.clear();
            return;
        };
        let read = inbuf.take(len);
        let mut touched = std::mem::take(&mut self.touched);
        let mut refused = None;
        for segment in batch.drain(..) {
            match self.on_data(key, &sender, &read, segment, &mut touched, now_ns) {
                Ok(()) => self.count(segment.kind, segment.count, segment.len),
                Err(reason) => {
                    self.count(segment.kind, 1, segment.len);
                    refused = Some(reason);
                    break;
                }
            }
        }
        if !touched.is_empty() {
            // Slices of this read are out, up to a refusal too.
            inbuf.lent_in(self.conns.lending_round());
        }
        self.close_runs(&mut touched, &read);
        self.touched = touched;
        if let Some(reason) = refused {
            self.refuse(key, reason.to_string(), now_ns);
        }
    }

    /// Routes the data frames of `segment`, in `read` from `key`, whose state is `sender`, adding
    /// each receiver that opens a run to `touched`; `Err` with the reason if the sender is to be
    /// refused for them.
    fn on_data(
        &mut self,
        key: ConnId,
        sender: &State,
        read: &Bytes,
        segment: Segment,
        touched: &mut Vec<ConnId>,
        now_ns: u64,
    ) -> Result<(), DataRefusal> {
        let Segment {
            kind,
            source,
            dest,
            count,
            ..
        } = segment;
        let id = match *sender {
            State::Machine { id } => id,
            State::SaidBye { .. } => return Err(DataRefusal::AfterBye { kind }),
            _ => return Err(DataRefusal::BeforeWelcome { kind }),
        };
        if source != id {
            return Err(DataRefusal::Spoofed {
                kind,
                sender: source,
                id,
            });
        }
        let n = self.opts.machines;
        let Some(targets) = route::targets(kind, source, dest, n) else {
            return Err(DataRefusal::NoTarget {
                kind,
                sender: source,
                dest,
                machines: n,
            });
        };
        let frames = u64::from(count);
        for target in targets.iter(n) {
            self.pairs.routed(source, target, frames);
            // Fair weather costs this one test per run of frames.
            if self.conns.weather().is_some() && self.weathered(key, read, segment, target, now_ns)
            {
                continue;
            }
            let at = (segment.offset, segment.len, count);
            let queued = self.machines[usize::from(target) - 1].and_then(|receiver| {
                Some((
                    receiver,
                    self.enqueue_run(receiver, read, at, source, now_ns)?,
                ))
            });
            match queued {
                Some((receiver, (over, first))) => {
                    if first {
                        touched.push(receiver);
                    }
                    if over {
                        self.stop_sender(key, receiver);
                    }
                }
                None => self.pairs.undeliverable(source, target, frames),
            }
        }
        Ok(())
    }

    /// The fault plan's say on the frames of `segment` (in `read`, from `key`) for machine
    /// `dest`: `true` if it took them (each held as a copy, or dropped, and booked), `false` if
    /// they are routed as usual (no rule acts on them now, nothing of the pair is held, or the
    /// receiver has departed or is closing, which makes them undeliverable as usual).
    fn weathered(
        &mut self,
        key: ConnId,
        read: &Bytes,
        segment: Segment,
        dest: u16,
        now_ns: u64,
    ) -> bool {
        let source = segment.source;
        let start = self.start_time_ns;
        let elapsed = start.and_then(|s| now_ns.checked_sub(s));
        let Some(weather) = self.conns.weather() else {
            return false;
        };
        if weather.clear(source, dest, elapsed) {
            return false;
        }
        let receiver = self.machines[usize::from(dest) - 1];
        let Some(receiver) =
            receiver.filter(|&r| self.conn(r).is_some_and(|c| c.closing().is_none()))
        else {
            return false;
        };
        let start = start.unwrap_or(now_ns);
        for i in 0..segment.count as usize {
            let at = segment.offset + i * segment.len;
            let verdict = self
                .conns
                .with_weather(|w| w.verdict(source, dest, now_ns, start, elapsed));
            match verdict.unwrap_or(Verdict::Pass) {
                Verdict::Drop => self.pairs.dropped(source, dest),
                // Not clear, so a rule acts or the pair has frames held: a pass cannot come,
                // and would be held behind them for now (the order stays).
                Verdict::Pass => self.hold(source, dest, read, at, segment.len, now_ns),
                Verdict::Hold(release_ns) => {
                    self.hold(source, dest, read, at, segment.len, release_ns);
                }
            }
        }
        let limit = self.opts.outbox_limit;
        let waiting = self.conn(receiver).map_or(0, |c| c.outbox.len());
        if waiting + self.held_for(receiver) > limit {
            self.stop_sender(key, receiver);
        }
        true
    }

    /// Holds a copy of the `len` bytes at `at` in `read`, a frame from `source` to `dest`, until
    /// `release_ns`.
    fn hold(
        &mut self,
        source: u16,
        dest: u16,
        read: &Bytes,
        at: usize,
        len: usize,
        release_ns: u64,
    ) {
        let frame = Bytes::copy_from_slice(&read[at..at + len]);
        self.conns
            .with_weather(|w| w.hold(source, dest, frame, release_ns));
        self.pairs.held(source, dest);
    }
}
