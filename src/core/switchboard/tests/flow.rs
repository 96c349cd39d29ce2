//! Flow control, the memory limit, the reader timeout, the HELLO deadline and cap, and the
//! protocol's edges around BYE, on virtual time.

use super::*;

/// A SEND_TO from `source` to `dest` with a 1,000-byte payload (the tests' limit is 1,024).
fn big(source: u16, dest: u16) -> Vec<u8> {
    Header {
        payload_len: 1000,
        ..Header::data(Kind::SendTo, source, dest, 1, 3, T0)
    }
    .to_frame(&[0x5a; 1000])
}

/// Feeds `conn` SEND_TOs to `dest` until the switchboard no longer wants `conn` read; returns
/// how many it took.
fn until_stopped(h: &mut Harness, conn: ConnId, source: u16, dest: u16) -> usize {
    let frame = big(source, dest);
    for n in 1..=10_000 {
        h.feed(conn, &frame);
        if !h.sb.wants_read(conn) {
            return n;
        }
    }
    panic!("never stopped")
}

#[test]
fn a_sender_to_a_full_outbox_is_stopped_until_it_drains_to_low_water() {
    let (mut h, conns) = running(&["a", "b", "c"]);
    let (a, b, c) = (conns[0], conns[1], conns[2]);
    // 64 KiB of high water: 66 frames of 1,032 bytes pass it.
    assert_eq!(until_stopped(&mut h, a, 1, 2), 64);
    assert!(
        h.sb.wants_read(b) && h.sb.wants_read(c),
        "only the sender stops"
    );
    // b takes a little, still above half.
    h.write(b, 20_000);
    h.round();
    assert!(!h.sb.wants_read(a));
    h.write(b, 20_000);
    h.round();
    assert!(h.sb.wants_read(a), "read again at low water");
    assert!(h.sb.is_open(b) && !h.sb.is_closing(b));
    h.flush();
    h.check_books(false);
}

#[test]
fn two_machines_that_fill_each_other_are_both_stopped_and_both_drain() {
    let (mut h, conns) = running(&["a", "b"]);
    let (a, b) = (conns[0], conns[1]);
    until_stopped(&mut h, a, 1, 2);
    until_stopped(&mut h, b, 2, 1);
    assert!(!h.sb.wants_read(a) && !h.sb.wants_read(b));
    // Neither is read, but both are written: the cycle breaks as soon as the peers read.
    assert!(h.sb.wants_write(a) && h.sb.wants_write(b));
    h.flush();
    h.round();
    assert!(h.sb.wants_read(a) && h.sb.wants_read(b));
    h.check_books(false);
}

#[test]
fn a_reader_that_takes_nothing_for_the_reader_timeout_is_refused_and_its_sender_goes_on() {
    let (mut h, conns) = running(&["a", "b", "c"]);
    let (a, b) = (conns[0], conns[1]);
    until_stopped(&mut h, a, 1, 2);
    h.write(b, 100);
    h.now += 9_999 * MS;
    h.round();
    assert!(!h.sb.is_closing(b), "it took 100 bytes 9.999 s ago");
    h.write(b, 100);
    h.now += 9_999 * MS;
    h.round();
    assert!(!h.sb.is_closing(b), "it took 100 bytes again");
    assert_eq!(h.sb.poll_timeout(), Some(h.now + MS));
    h.now += MS;
    h.round();
    assert!(h.sb.is_closing(b));
    assert!(h.sb.wants_read(a), "the sender is read again");
    h.flush();
    let reason = error(&h, b).expect("an ERROR");
    assert!(
        reason.starts_with("not reading: ")
            && reason.ends_with("waited 10.0 s and not one was taken"),
        "{reason}"
    );
    // What it never got is undeliverable; the one frame it had begun was written in full.
    let books = h.sb.pairs().books(1, 2);
    assert_eq!((books.delivered, books.undeliverable), (1, 63));
    assert!(
        h.sb.is_open(a) && !h.sb.is_closing(a),
        "a sender is never cut off"
    );
    h.finish();
}

#[test]
fn the_buffer_limit_stops_every_machine_and_releases_them_at_half() {
    let o = Options {
        outbox_limit: 1 << 20,
        buffer_limit: 256 * 1024,
        ..opts(3)
    };
    let (mut h, conns) = running_with(o, &["a", "b", "c"]);
    let frame = big(1, 2);
    let mut fed = 0;
    while h.sb.wants_read(conns[2]) {
        h.feed(conns[0], &frame);
        // The driver's writes (none: b does not read) and fates end every round.
        h.round();
        fed += 1;
        assert!(fed < 1_000, "the memory limit never stopped the reads");
    }
    assert!(!h.sb.wants_read(conns[0]) && !h.sb.wants_read(conns[1]));
    assert!(h.sb.held_bytes() <= 256 * 1024 + 3 * READ_BUFFER + 64 * 1024);
    // b reads: once the outboxes hold half the limit, every machine is read again.
    h.flush();
    h.round();
    assert!(conns.iter().all(|&c| h.sb.wants_read(c)));
    assert!(h.sb.peak_held_bytes() >= 256 * 1024);
    h.finish();
}

#[test]
fn a_connection_that_never_says_hello_is_refused_at_the_deadline() {
    let mut h = Harness::new(opts(2));
    let silent = h.connect();
    h.now += 1_000 * MS;
    let talker = h.connect();
    h.feed(talker, &hello("t"));
    assert_eq!(h.sb.poll_timeout(), Some(T0 + 5_000 * MS));
    h.now = T0 + 4_999 * MS;
    h.round();
    assert!(!h.sb.is_closing(silent));
    h.now += MS;
    h.round();
    h.flush();
    assert_eq!(
        error(&h, silent).as_deref(),
        Some("no HELLO within 5.0 s of connecting")
    );
    h.now += 10_000 * MS;
    h.round();
    assert!(!h.sb.is_closing(talker), "one that said HELLO waits on");
}

#[test]
fn connections_beyond_the_cap_of_those_without_hello_are_refused_at_once() {
    let mut h = Harness::new(opts(2));
    let quiet: Vec<ConnId> = (0..16).map(|_| h.connect()).collect();
    assert!(quiet.iter().all(|&c| !h.sb.is_closing(c)));
    let one_more = h.connect();
    h.flush();
    assert_eq!(
        error(&h, one_more).as_deref(),
        Some("too many connections that have not said HELLO (at most 16)")
    );
    // Saying HELLO frees a place.
    h.feed(quiet[0], &hello("q"));
    let next = h.connect();
    assert!(!h.sb.is_closing(next));
}

#[test]
fn data_after_a_machine_s_own_bye_gets_an_error() {
    let (mut h, conns) = running(&["a", "b"]);
    h.feed(conns[0], &bye(1));
    h.feed(conns[0], &data(Kind::SendFirst, 1, 0, 1));
    h.round();
    h.flush();
    assert_eq!(
        error(&h, conns[0]).as_deref(),
        Some("SEND_FIRST after this machine's BYE")
    );
    assert_eq!(
        h.sb.pairs().books(1, 2).sent,
        0,
        "nothing after BYE is routed"
    );
    h.eof(conns[0]);
    let closed = &h.sb.report().closed;
    assert_eq!(closed[0].reason, "SEND_FIRST after this machine's BYE");
}

#[test]
fn a_bye_with_another_machine_s_source_is_refused() {
    let (mut h, conns) = running(&["a", "b"]);
    let got = refused(&mut h, conns[1], &bye(1));
    assert_eq!(got, "BYE with source 1 on the connection of machine 2");
    assert!(!h.sb.is_closing(conns[0]));
}

#[test]
fn storage_kept_by_empty_outboxes_never_keeps_the_memory_full() {
    let o = Options {
        outbox_limit: 1 << 20,
        buffer_limit: 400 * 1024,
        ..opts(3)
    };
    let (mut h, conns) = running_with(o, &["a", "b", "c"]);
    // A burst for b, written: b keeps its storage for the next one.
    for _ in 0..200 {
        h.feed(conns[0], &big(1, 2));
        h.round();
    }
    h.flush();
    assert!(h.sb.held_bytes() > 200 * 1024, "{}", h.sb.held_bytes());
    // A burst for c fills the memory; once c has read it, everything is read again.
    while h.sb.wants_read(conns[1]) {
        h.feed(conns[0], &big(1, 3));
        h.round();
    }
    h.flush();
    h.round();
    assert!(conns.iter().all(|&c| h.sb.wants_read(c)));
    h.finish();
}

#[test]
fn data_after_bye_once_the_write_side_is_shut_is_dropped_as_there_is_no_way_to_answer() {
    // Found by the fuzzer: an ERROR queued behind a shut write side was never written.
    let (mut h, conns) = running(&["a", "b"]);
    h.feed(conns[0], &bye(1));
    h.round();
    assert!(h.peers[conns[0].0].write_shut);
    h.feed(conns[0], &data(Kind::SendFirst, 1, 0, 1));
    h.round();
    assert!(!h.sb.wants_write(conns[0]));
    h.eof(conns[0]);
    assert_eq!(h.sb.report().closed[0].reason, "the machine said BYE");
}

#[test]
fn a_connection_gets_one_error_however_much_it_sends_after_it() {
    // Found by the fuzzer: a machine refused after its BYE in a stop got a second ERROR.
    let (mut h, conns) = running(&["a", "b"]);
    h.sb.handle_stop("SIGTERM", h.now);
    h.feed(conns[0], &bye(1));
    h.feed(conns[0], &data(Kind::SendFirst, 1, 0, 1));
    h.feed(conns[0], &data(Kind::SendFirst, 1, 0, 2));
    h.round();
    h.flush();
    let errors = h.peers[conns[0].0]
        .frames
        .iter()
        .filter(|f| f[3] == Kind::Error.code())
        .count();
    assert_eq!(errors, 1);
    assert_eq!(
        error(&h, conns[0]).as_deref(),
        Some("SEND_FIRST after this machine's BYE")
    );
}

#[test]
fn invalid_bytes_after_a_bye_are_refused_once_and_what_follows_is_not_looked_at() {
    const REASON: &str =
        "invalid frame: bad magic 0x4c 0x44: a frame must start with 0x4c 0x43 (\"LC\")";
    let (mut h, conns) = running(&["a", "b"]);
    h.feed(conns[0], &bye(1));
    let mut bad_magic = data(Kind::SendFirst, 1, 0, 1);
    bad_magic[1] = b'D';
    h.feed(conns[0], &bad_magic);
    // Refused already: neither a valid frame nor more invalid bytes get a second ERROR.
    h.feed(conns[0], &data(Kind::SendFirst, 1, 0, 2));
    h.feed(conns[0], &bad_magic);
    h.round();
    h.flush();
    let errors: Vec<&Vec<u8>> = h.peers[conns[0].0]
        .frames
        .iter()
        .filter(|f| f[3] == Kind::Error.code())
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(error(&h, conns[0]).as_deref(), Some(REASON));
    assert_eq!(
        h.sb.pairs().books(1, 2).sent,
        0,
        "nothing after BYE is routed"
    );
    h.eof(conns[0]);
    let closed = &h.sb.report().closed;
    assert_eq!(closed[0].reason, REASON);
    assert!(
        !closed[0].departed,
        "a machine that said BYE did not depart"
    );
}

#[test]
fn a_held_sender_is_not_refused_for_its_partial_frame_and_its_stall_clock_restarts_when_read() {
    let (mut h, conns) = running(&["a", "b", "c"]);
    let (a, b) = (conns[0], conns[1]);
    let frame = big(1, 2);
    for _ in 0..63 {
        h.feed(a, &frame);
    }
    assert!(h.sb.wants_read(a));
    // The read that passes high water ends 100 bytes into the next frame.
    h.feed(a, &[&frame[..], &frame[..100]].concat());
    assert!(!h.sb.wants_read(a));
    // Held back for four stall timeouts: its clock stands still, and no deadline is set for it.
    h.now += 2_000 * MS;
    h.round();
    assert!(!h.sb.is_closing(a), "refused while it was not read");
    assert_eq!(
        h.sb.poll_timeout(),
        Some(T0 + 10_000 * MS),
        "b's reader timeout"
    );
    // b drains: a is read again, and its stall clock starts again from zero now.
    h.flush();
    assert!(h.sb.wants_read(a));
    h.round();
    let restarted = h.now;
    assert_eq!(h.sb.poll_timeout(), Some(restarted + 500 * MS));
    h.now += 499 * MS;
    h.round();
    assert!(!h.sb.is_closing(a));
    h.now += MS;
    h.round();
    h.flush();
    let reason = "a partial frame (100 bytes) and nothing more for 0.5 s";
    assert_eq!(super::error(&h, a).as_deref(), Some(reason));
    assert!(h.sb.is_open(b) && !h.sb.is_closing(b));
}
