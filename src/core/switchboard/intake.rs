//! Frames in: the complete frames of a read buffer taken in order, data frames back to back
//! routed together as runs of one slice of the read, everything else handed to its rule.
//!
//! Data frames back to back that share kind, source, dest and length form a segment, and a
//! segment is routed, counted and queued at once: a stream of one machine's frames of one kind
//! and size costs a parse per frame and the routing once per read.

use bytes::Bytes;

use super::buffers::ReadBuf;
use super::conn::{CloseStep, State};
use super::{ConnId, Switchboard};
use crate::core::route;
use crate::core::wire::{self, Frame, Kind, Parsed};

/// What one complete frame asks of the switchboard, taken out of the read buffer's borrow.
enum Step {
    Data,
    Hello(String),
    Bye(u16),
    Refuse(String),
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
    /// partial frame left at its front needs (0 if none). Data frames back to back are routed
    /// together, as one slice of the read buffer ([`Switchboard::route_batch`]); anything else is
    /// handled when the data frames before it have been.
    fn process_buffer(&mut self, key: ConnId, inbuf: &mut ReadBuf, now_ns: u64) -> usize {
        let mut progressed = false;
        let mut batch = std::mem::take(&mut self.batch);
        batch.clear();
        // Bytes at the front of `inbuf` that the batch covers.
        let mut batched = 0;
        let need = loop {
            let max_payload = self.opts.max_payload;
            let Some(conn) = self.conns.get_mut(key) else {
                break 0;
            };
            let after_bye = match conn.closing() {
                // After its BYE, a machine's first complete frame (or invalid bytes) is refused,
                // unless our write side is shut already (then there is no way to say so).
                Some(c) if c.said_bye && !c.refused && c.step == CloseStep::Flushing => true,
                Some(_) => {
                    inbuf.clear();
                    break 0;
                }
                None => false,
            };
            // The common case in a loop of its own: data frames back to back, batched.
            let parsed = loop {
                let parsed = wire::parse_with_limit(&inbuf.data()[batched..], max_payload);
                match &parsed {
                    Ok(Parsed::Complete { frame, len }) if frame.kind().is_data() && !after_bye => {
                        Segment::push(&mut batch, frame, batched, *len);
                        batched += len;
                        progressed = true;
                    }
                    _ => break parsed,
                }
            };
            if !batch.is_empty() {
                // Route what came before, then look at the next frame in the state that left.
                self.route_batch(key, inbuf, batched, &mut batch, now_ns);
                batched = 0;
                continue;
            }
            let (step, len) = match parsed {
                Ok(Parsed::Complete { frame, len }) if after_bye => {
                    let kind = frame.kind();
                    (
                        Step::RefuseAfterBye(format!("{kind} after this machine's BYE")),
                        len,
                    )
                }
                Ok(Parsed::Complete { frame, len }) => {
                    self.count(frame.kind(), 1, len);
                    let step = match frame.kind() {
                        kind if kind.is_data() => Step::Data,
                        Kind::Hello => Step::Hello(frame.hello_name().unwrap_or_default().into()),
                        Kind::Bye => Step::Bye(frame.source()),
                        kind => Step::Refuse(format!("only the router sends {kind}")),
                    };
                    (step, len)
                }
                Ok(Parsed::Incomplete { needed }) => {
                    if inbuf.is_empty() {
                        conn.partial_since_ns = None;
                    } else if progressed || conn.partial_since_ns.is_none() {
                        conn.partial_since_ns = Some(now_ns);
                    }
                    break if inbuf.is_empty() { 0 } else { needed };
                }
                Err(e) if after_bye => (Step::RefuseAfterBye(format!("invalid frame: {e}")), 0),
                Err(e) => (Step::Refuse(format!("invalid frame: {e}")), 0),
            };
            progressed = true;
            match step {
                // Data frames are batched above.
                Step::Data => unreachable!("a data frame outside a batch"),
                Step::Hello(name) => {
                    inbuf.consume(len);
                    self.on_hello(key, name, now_ns);
                }
                Step::Bye(source) => {
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
        };
        self.batch = batch;
        need
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
            self.refuse(key, reason, now_ns);
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
    ) -> Result<(), String> {
        let Segment {
            kind,
            source,
            dest,
            count,
            ..
        } = segment;
        let id = match *sender {
            State::Machine { id } => id,
            State::SaidBye { .. } => return Err(format!("{kind} after this machine's BYE")),
            _ => return Err(format!("{kind} before WELCOME")),
        };
        if source != id {
            return Err(format!(
                "{kind} with source {source} on the connection of machine {id}"
            ));
        }
        let n = self.opts.machines;
        let Some(targets) = route::targets(kind, source, dest, n) else {
            return Err(format!(
                "{kind} from machine {source} (dest {dest}) names no machine among 1..={n}"
            ));
        };
        let frames = u64::from(count);
        for target in targets.iter(n) {
            self.pairs.routed(source, target, frames);
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
}
