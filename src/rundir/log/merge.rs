//! The rows of a trial's logs as one stream, in which every receive comes after its send: ordered
//! by logical clock, then by the machine's position. Lamport's receive rule puts a receive's clock
//! above its message's, which is the send's clock, so this order is causal for any logs that keep
//! the rule (`check` says whether they do); each log's own order is kept, as its clock rises at
//! every row. Only the next row of each log is held: a trial of any length streams in the memory of
//! its machines.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::core::event::Record;

/// One row of the merged stream: which log (its position among the sources), the row's position
/// in that log (from 0; line `index + 2` of the file), and the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MergedRow {
    /// The log's position among the sources.
    pub machine: usize,
    /// The row's position in its log, from 0.
    pub index: usize,
    /// The row.
    pub record: Record,
}

/// The rows of several logs merged by `(logical_clock, log position)` ([`merge_by_clock`]).
pub struct ByClock<I> {
    sources: Vec<I>,
    /// Per log, its next row, read ahead.
    next: Vec<Option<Record>>,
    /// Per log, how many of its rows were handed out.
    taken: Vec<usize>,
    /// The logs with a next row, by that row's clock and the log's position.
    heads: BinaryHeap<Reverse<(u64, usize)>>,
    /// Logs not yet read from: the first call reads each one's first row.
    started: bool,
}

/// Merges `sources` (each a log's rows in file order, or an error that ends the stream) into one
/// stream by logical clock, ties going to the log that comes first.
pub fn merge_by_clock<I, E>(sources: Vec<I>) -> ByClock<I>
where
    I: Iterator<Item = Result<Record, E>>,
{
    let n = sources.len();
    ByClock {
        sources,
        next: vec![None; n],
        taken: vec![0; n],
        heads: BinaryHeap::with_capacity(n),
        started: false,
    }
}

impl<I, E> ByClock<I>
where
    I: Iterator<Item = Result<Record, E>>,
{
    /// Reads log `i`'s next row ahead, if it has one.
    fn advance(&mut self, i: usize) -> Result<(), E> {
        self.next[i] = self.sources[i].next().transpose()?;
        if let Some(r) = &self.next[i] {
            self.heads.push(Reverse((r.logical_clock, i)));
        }
        Ok(())
    }

    /// Reads every log's first row ahead (the first call of `next` does it otherwise), so that
    /// [`ByClock::heads`] shows them before any row is taken.
    pub fn start(&mut self) -> Result<(), E> {
        if !self.started {
            self.started = true;
            for i in 0..self.sources.len() {
                self.advance(i)?;
            }
        }
        Ok(())
    }

    /// The next row of each log not yet read to its end, by the log's position: the rows read
    /// ahead, which no row handed out so far comes after in its own log.
    pub fn heads(&self) -> impl Iterator<Item = (usize, &Record)> {
        self.next
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().map(|r| (i, r)))
    }

    /// The sources, once the stream has been read (for what they learned on the way, such as a
    /// log cut off in its last line).
    pub fn into_sources(self) -> Vec<I> {
        self.sources
    }

    /// Per log, how many of its rows were handed out.
    pub fn taken(&self) -> &[usize] {
        &self.taken
    }
}

impl<I, E> Iterator for ByClock<I>
where
    I: Iterator<Item = Result<Record, E>>,
{
    type Item = Result<MergedRow, E>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Err(e) = self.start() {
            return Some(Err(e));
        }
        let Reverse((_, machine)) = self.heads.pop()?;
        let record = self.next[machine].take()?;
        let index = self.taken[machine];
        self.taken[machine] += 1;
        if let Err(e) = self.advance(machine) {
            return Some(Err(e));
        }
        Some(Ok(MergedRow {
            machine,
            index,
            record,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::EventKind;

    fn row(machine: u16, clock: u64) -> Record {
        Record {
            machine,
            event: EventKind::Internal,
            system_time_us: clock,
            logical_clock: clock,
            queue_len: 0,
            peer: None,
            msg_clock: None,
            seq: None,
        }
    }

    fn merged(logs: Vec<Vec<u64>>) -> Vec<(usize, usize, u64)> {
        let sources = logs
            .into_iter()
            .enumerate()
            .map(|(i, clocks)| {
                clocks
                    .into_iter()
                    .map(move |c| Ok::<_, ()>(row(i as u16 + 1, c)))
            })
            .collect();
        merge_by_clock(sources)
            .map(|r| r.map(|r| (r.machine, r.index, r.record.logical_clock)))
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn rows_come_by_clock_then_log_and_each_log_keeps_its_order() {
        assert_eq!(
            merged(vec![vec![1, 2, 7], vec![1, 5], vec![], vec![3]]),
            [
                (0, 0, 1),
                (1, 0, 1),
                (0, 1, 2),
                (3, 0, 3),
                (1, 1, 5),
                (0, 2, 7)
            ]
        );
    }

    #[test]
    fn an_error_ends_the_stream_where_it_is_met() {
        let good = vec![Ok(row(1, 1)), Ok(row(1, 4))].into_iter();
        let bad = vec![Ok(row(2, 2)), Err("line 3 of machine-2.csv")].into_iter();
        let mut stream = merge_by_clock(vec![good, bad]);
        assert_eq!(stream.next().unwrap().unwrap().record.logical_clock, 1);
        assert_eq!(stream.next().unwrap(), Err("line 3 of machine-2.csv"));
    }
}
