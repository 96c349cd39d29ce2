use super::*;
use proptest::prelude::*;

/// Queues every frame of `frames` (one read, back to back) from `source`, as the switchboard
/// does, and closes the run.
fn queue_read(out: &mut Outbox, frames: &[&[u8]], source: u16) -> Bytes {
    let read = Bytes::from(frames.concat());
    let mut offset = 0;
    for f in frames {
        out.extend_run(&read, offset, f.len(), 1, source);
        offset += f.len();
    }
    out.close_run(&read);
    read
}

#[test]
fn frames_of_one_read_for_one_receiver_are_one_slice_of_that_read() {
    let mut out = Outbox::default();
    let read = queue_read(&mut out, &[&[1; 8], &[2; 8], &[3; 4]], 2);
    let slices: Vec<&[u8]> = out.slices().collect();
    assert_eq!(slices.len(), 1);
    assert_eq!(slices[0], &read[..]);
    assert_eq!(slices[0].as_ptr(), read.as_ptr(), "no copy");
    assert_eq!(out.footprint().slices, 1);
    assert_eq!(out.len(), 20);
}

#[test]
fn a_gap_in_the_read_starts_a_new_slice() {
    let mut out = Outbox::default();
    let read = Bytes::from_static(&[1, 1, 2, 2, 3, 3]);
    assert!(out.extend_run(&read, 0, 2, 1, 1));
    // bytes 2..4 went to another receiver
    assert!(
        !out.extend_run(&read, 4, 2, 1, 1),
        "the outbox had a run open"
    );
    out.close_run(&read);
    let slices: Vec<&[u8]> = out.slices().collect();
    assert_eq!(slices, [&[1, 1][..], &[3, 3][..]]);
}

#[test]
fn settling_copies_what_is_left_and_lets_go_of_the_read() {
    let mut out = Outbox::default();
    let read = queue_read(&mut out, &[&[1; 8], &[2; 8]], 3);
    let mut got = Vec::new();
    out.written(5, |s, n| got.extend(std::iter::repeat_n(s, n as usize)));
    out.settle();
    assert_eq!(out.footprint().slices, 0);
    assert!(read.is_unique(), "the outbox no longer holds the read");
    let slices: Vec<&[u8]> = out.slices().collect();
    assert_eq!(slices.concat(), [&[1; 3][..], &[2; 8][..]].concat());
    out.written(3, |s, n| got.extend(std::iter::repeat_n(s, n as usize)));
    assert_eq!(got, [3]);
    out.push_copy(&[9; 2], None);
    out.written(10, |s, n| got.extend(std::iter::repeat_n(s, n as usize)));
    assert_eq!((got, out.is_empty()), (vec![3, 3], true));
}

#[test]
fn the_routers_own_frames_keep_their_place_behind_slices() {
    let mut out = Outbox::default();
    queue_read(&mut out, &[&[1; 4]], 2);
    out.push_copy(&[7; 3], None);
    let all: Vec<u8> = out.slices().flatten().copied().collect();
    assert_eq!(all, [1, 1, 1, 1, 7, 7, 7]);
}

#[test]
fn an_outbox_counts_frames_written_in_full_and_gives_memory_back() {
    let mut out = Outbox::default();
    let big = vec![7u8; 1 << 20];
    out.push_copy(&big, Some(2));
    out.push_copy(&[1, 2, 3], None);
    out.push_copy(&[4; 10], Some(3));
    let mut got = Vec::new();
    out.written((1 << 20) - 1, |s, n| {
        got.extend(std::iter::repeat_n(s, n as usize))
    });
    assert!(got.is_empty());
    out.written(1 + 3 + 5, |s, n| {
        got.extend(std::iter::repeat_n(s, n as usize))
    });
    assert_eq!(got, [2]);
    assert_eq!(out.len(), 5);
    assert!(out.footprint().held < 300 * 1024, "{:?}", out.footprint());
    assert_eq!(
        out.drop_unbegun(|s, n| got.extend(std::iter::repeat_n(s, n as usize))),
        0,
        "the begun frame stays"
    );
    out.written(5, |s, n| got.extend(std::iter::repeat_n(s, n as usize)));
    assert_eq!(got, [2, 3]);
    assert!(out.is_empty());
}

#[test]
fn dropping_keeps_the_rest_of_a_begun_frame() {
    let mut out = Outbox::default();
    queue_read(&mut out, &[&[1; 8]], 1);
    queue_read(&mut out, &[&[2; 8]], 2);
    out.written(3, |_, _| panic!("nothing complete"));
    let mut dropped = Vec::new();
    assert_eq!(
        out.drop_unbegun(|s, n| dropped.extend(std::iter::repeat_n(s, n as usize))),
        8
    );
    assert_eq!((dropped, out.len()), (vec![2], 5));
    assert_eq!(out.slices().next(), Some(&[1; 5][..]));
}

#[test]
fn a_read_buffer_is_reused_in_place_once_its_slices_are_back() {
    let mut lending = Lending::default();
    let mut buf = ReadBuf::default();
    let room = buf.room(16, 0, &lending).expect("room");
    assert_eq!(room.len(), 16);
    room.copy_from_slice(&[9; 16]);
    buf.filled(16);
    let frame = buf.take(12);
    buf.lent_in(lending.round());
    lending.changed(0, 1);
    assert_eq!(buf.data(), &[9; 4]);
    assert!(
        buf.room(16, 0, &lending).is_none(),
        "its slice is still out"
    );
    let at = frame.as_ptr();
    drop(frame);
    lending.changed(1, 0);
    let room = buf.room(16, 0, &lending).expect("room again");
    assert_eq!(room.len(), 12);
    assert_eq!(buf.data(), &[9; 4]);
    assert_eq!(
        buf.data().as_ptr(),
        at,
        "the same allocation, data moved to its front"
    );
    assert_eq!(buf.held(), 16);
}

#[test]
fn a_read_buffer_grows_for_a_big_frame_and_keeps_its_data() {
    let lending = Lending::default();
    let mut buf = ReadBuf::default();
    buf.extend(&[5; 10]);
    buf.consume(6);
    assert!(buf.room(16, 40, &lending).expect("room").len() >= 36);
    assert_eq!(buf.data(), &[5; 4]);
    buf.extend(&[1; 100]);
    assert_eq!(buf.len(), 104);
    assert_eq!(&buf.data()[4..], &[1; 100]);
}

#[test]
fn frames_of_one_length_and_source_are_counted_as_one_run_and_delivered_as_written() {
    let mut out = Outbox::default();
    queue_read(&mut out, &[&[1u8; 4][..]; 5], 1);
    queue_read(&mut out, &[&[2; 4], &[2; 6], &[2; 6]], 2);
    out.push_copy(&[9; 4], None);
    queue_read(&mut out, &[&[1; 4]], 1);
    // Runs: 5 x 4 from 1, 1 x 4 from 2, 2 x 6 from 2, the router's 4, 1 x 4 from 1.
    assert_eq!(out.frames.len(), 5);
    let mut got = Vec::new();
    // Two and a half frames of the first run, then the rest of its third and one more.
    out.written(10, |s, n| got.push((s, n)));
    assert_eq!(got, [(1, 2)]);
    out.written(6, |s, n| got.push((s, n)));
    assert_eq!(got, [(1, 2), (1, 2)]);
    // The fifth frame of the first run, the frame of 4 from 2 and half of one of 6.
    out.written(4 + 4 + 3, |s, n| got.push((s, n)));
    assert_eq!(got, [(1, 2), (1, 2), (1, 1), (2, 1)]);
    let mut dropped = Vec::new();
    assert_eq!(
        out.drop_unbegun(|s, n| dropped.push((s, n))),
        6 + 4 + 4,
        "the begun frame of 6 stays"
    );
    assert_eq!(
        dropped,
        [(2, 1), (1, 1)],
        "the router's own frame is not counted"
    );
    assert_eq!(out.len(), 3);
    out.written(3, |s, n| got.push((s, n)));
    assert_eq!(got.last(), Some(&(2, 1)));
    assert!(out.is_empty() && out.frames.is_empty());
}

/// What can happen to an outbox, for the model test below.
#[derive(Clone, Debug)]
enum Op {
    /// `count` data frames of `len` bytes from `source`, back to back in one read.
    Queue { len: usize, count: u32, source: u16 },
    /// One of the router's own frames.
    Router,
    /// The socket takes this share (in 1/64ths) of what waits, plus a little, and the turn ends.
    Write(usize),
    /// The receiver is refused: every frame not begun is dropped.
    Drop,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (prop::sample::select(vec![32usize, 40]), 1u32..5, 1u16..3)
            .prop_map(|(len, count, source)| Op::Queue { len, count, source }),
        1 => Just(Op::Router),
        4 => (0usize..=72).prop_map(Op::Write),
        1 => Just(Op::Drop),
    ]
}

/// Frames from each source, added up.
type Counts = std::collections::BTreeMap<u16, u64>;

fn add(counts: &mut Counts, source: u16, frames: u64) {
    *counts.entry(source).or_default() += frames;
}

proptest! {
    /// An outbox that keeps runs of frames counts exactly what one that kept every frame would:
    /// a frame is delivered once it is written in full, dropped if it was not begun, and the
    /// sources still waiting are those of the frames not written in full.
    #[test]
    fn runs_count_as_frames_one_by_one_would(ops in prop::collection::vec(op(), 1..40)) {
        let mut out = Outbox::default();
        // The model: every frame waiting, (len, source), and the bytes of the front one written.
        let mut model = VecDeque::<(usize, u16)>::new();
        let mut front_written = 0;
        let (mut delivered, mut want_delivered) = (Counts::new(), Counts::new());
        let (mut dropped, mut want_dropped) = (Counts::new(), Counts::new());
        for op in ops {
            match op {
                Op::Queue { len, count, source } => {
                    let read = Bytes::from(vec![7; len * count as usize]);
                    out.extend_run(&read, 0, len, count, source);
                    out.close_run(&read);
                    model.extend(std::iter::repeat_n((len, source), count as usize));
                }
                Op::Router => {
                    out.push_copy(&[9; 32], None);
                    model.push_back((32, 0));
                }
                Op::Write(share) => {
                    let n = ((out.len() + 8) * share / 64).min(out.len());
                    out.written(n, |s, k| add(&mut delivered, s, k));
                    out.settle();
                    let mut done = front_written + n;
                    while let Some(&(len, source)) = model.front().filter(|f| f.0 <= done) {
                        done -= len;
                        model.pop_front();
                        if source != 0 {
                            add(&mut want_delivered, source, 1);
                        }
                    }
                    front_written = done;
                }
                Op::Drop => {
                    out.drop_unbegun(|s, k| add(&mut dropped, s, k));
                    let keep = usize::from(front_written > 0);
                    for &(_, source) in model.iter().skip(keep).filter(|f| f.1 != 0) {
                        add(&mut want_dropped, source, 1);
                    }
                    model.truncate(keep);
                }
            }
            prop_assert_eq!(&delivered, &want_delivered);
            prop_assert_eq!(&dropped, &want_dropped);
            let mut waiting = Counts::new();
            out.sources().for_each(|(s, k)| add(&mut waiting, s, k));
            let mut want_waiting = Counts::new();
            model.iter().filter(|f| f.1 != 0).for_each(|f| add(&mut want_waiting, f.1, 1));
            prop_assert_eq!(waiting, want_waiting);
            let model_len = model.iter().map(|f| f.0).sum::<usize>() - front_written;
            prop_assert_eq!(out.len(), model_len);
        }
    }
}
