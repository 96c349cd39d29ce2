//! A raw TCP peer misbehaving against a real router: each kind of bad input gets an ERROR that
//! names the problem and a closed connection, while real machines on the same router carry on.

mod support;

use clocklab::check::check_trial;
use clocklab::core::wire::{self, HEADER_LEN, Header, Kind};
use clocklab::rundir::log::{log_path, read_log};
use clocklab::rundir::records::ClientSummary;
use clocklab::rundir::records::RouterStats;
use nix::sys::signal::Signal;
use support::{RawPeer, SOON, TestDir, peek_rows, read_yaml, start_client, start_server};

const SEED: u64 = 9;

/// The 32 header bytes of a valid SEND_TO from `source` to `dest`.
fn send_to(source: u16, dest: u16) -> [u8; HEADER_LEN] {
    let mut head = [0u8; HEADER_LEN];
    Header::data(Kind::SendTo, source, dest, 1, 1, 0).emit(&mut head);
    head
}

/// One misbehaviour: what the peer sends, and words the router's reason must contain.
struct Case {
    what: &'static str,
    bytes: Vec<u8>,
    words: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let valid = send_to(1, 2);
    let with = |index: usize, value: u8| {
        let mut bytes = valid.to_vec();
        bytes[index] = value;
        bytes
    };
    let mut oversized = [0u8; HEADER_LEN];
    Header {
        payload_len: 4096,
        ..Header::data(Kind::SendTo, 1, 2, 1, 1, 0)
    }
    .emit(&mut oversized);
    vec![
        Case {
            what: "garbage",
            bytes: b"GET / HTTP/1.1\r\nHost: clocklab\r\n\r\n".to_vec(),
            words: &["bad magic", "0x47 0x45"],
        },
        Case {
            what: "wrong magic",
            bytes: with(1, b'D'),
            words: &["bad magic", "0x4c 0x44"],
        },
        Case {
            what: "wrong version",
            bytes: with(2, 2),
            words: &["unsupported version 2"],
        },
        Case {
            what: "unknown kind",
            bytes: with(3, 9),
            words: &["unknown kind 9"],
        },
        Case {
            what: "oversized length",
            bytes: oversized.to_vec(),
            words: &["payload_len 4096", "limit of 1024"],
        },
        Case {
            what: "data before WELCOME",
            bytes: valid.to_vec(),
            words: &["SEND_TO before WELCOME"],
        },
        Case {
            what: "half a frame",
            bytes: valid[..HEADER_LEN / 2].to_vec(),
            words: &["partial frame (16 bytes)", "0.5 s"],
        },
    ]
}

#[test]
fn bad_peers_get_an_error_and_are_closed_while_machines_run_on() {
    let tmp = TestDir::new("bad-peers");
    let config = tmp.config(2, "  max_payload: 1024\n");
    let dir = tmp.join("run");
    let (mut server, addr) = start_server(&config, 2, &dir);
    let mut clients = [
        start_client(&config, 8001, addr, 60.0, SEED, &dir),
        start_client(&config, 8002, addr, 90.0, SEED, &dir),
    ];
    server.wait_for_line(clocklab::cli::common::STARTED, SOON);
    for id in [1, 2] {
        support::wait_for_rows(&log_path(&dir, id), 5, SOON);
    }

    let cases = cases();
    // All at once: the half frame waits out the stall timeout while the others are answered.
    let mut peers: Vec<RawPeer> = cases
        .iter()
        .map(|case| {
            let mut peer = RawPeer::connect(addr, case.what);
            peer.send(&case.bytes);
            peer
        })
        .collect();
    for (case, peer) in cases.iter().zip(&mut peers) {
        let reason = peer.expect_error_then_close();
        for word in case.words {
            assert!(
                reason.contains(word),
                "{}: {reason:?} lacks {word:?}",
                case.what
            );
        }
    }

    // The machines kept running through all of it. The peers stay connected meanwhile, so the
    // router goes on handling events with their connections half closed.
    let before: Vec<usize> = [1, 2]
        .iter()
        .map(|&id| peek_rows(&log_path(&dir, id)).len())
        .collect();
    for (id, n) in [1, 2].iter().zip(before) {
        support::wait_for_rows(&log_path(&dir, *id), n + 5, SOON);
    }
    drop(peers);
    server.signal(Signal::SIGTERM);
    assert_eq!(server.wait_code(SOON), 0);
    for client in &mut clients {
        assert_eq!(client.wait_code(SOON), 0, "{} stops in order", client.role);
    }

    let stats: RouterStats = read_yaml(&dir.join("router.yaml"));
    let strangers: Vec<_> = stats
        .connections
        .iter()
        .filter(|c| c.id.is_none())
        .collect();
    assert_eq!(strangers.len(), cases.len(), "{:?}", stats.connections);
    // Each connection was refused once, for the reason it was sent.
    for case in &cases {
        assert!(
            strangers
                .iter()
                .any(|c| case.words.iter().all(|w| c.reason.contains(w))),
            "no closed connection for {}: {strangers:?}",
            case.what
        );
    }
    assert!(
        stats.pairs.iter().all(|p| p.undeliverable == 0),
        "{:?}",
        stats.pairs
    );
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    assert!(report.notes.is_empty(), "{report}");
}

#[test]
fn a_machine_spoofing_another_source_is_refused_and_the_other_stops_in_order() {
    let tmp = TestDir::new("spoof");
    let config = tmp.config(2, "");
    let dir = tmp.join("run");
    let (mut server, addr) = start_server(&config, 2, &dir);
    let mut client = start_client(&config, 8001, addr, 80.0, SEED, &dir);

    // The raw peer registers as the second machine; its name sorts after the client's.
    let mut raw = RawPeer::connect(addr, "spoofer");
    raw.send(&wire::hello("127.0.0.1:8009", 1).expect("a valid name"));
    let welcome = raw.next_frame().expect("a WELCOME");
    assert_eq!(welcome.header.kind, Kind::Welcome);
    let body = welcome.welcome.expect("a WELCOME body");
    assert_eq!((body.id, body.machines), (2, 2));
    server.wait_for_line(clocklab::cli::common::STARTED, SOON);
    support::wait_for_rows(&log_path(&dir, 1), 5, SOON);

    raw.send(&send_to(1, 2));
    let reason = raw.expect_error_then_close();
    assert_eq!(
        reason,
        "SEND_TO with source 1 on the connection of machine 2"
    );
    drop(raw);
    server.wait_for_line("machine 2 departed", SOON);

    let n = peek_rows(&log_path(&dir, 1)).len();
    support::wait_for_rows(&log_path(&dir, 1), n + 5, SOON);
    server.signal(Signal::SIGTERM);
    assert_eq!(server.wait_code(SOON), 0);
    assert_eq!(client.wait_code(SOON), 0, "the real machine stops in order");

    let summary: ClientSummary = read_yaml(&dir.join("summary-1.yaml"));
    assert!(summary.orderly, "{}", summary.ended);
    assert_eq!(summary.ended, "the router said BYE");
    let rows = read_log(&log_path(&dir, 1)).expect("machine 1's log reads back");
    assert_eq!(rows.len() as u64, summary.ticks);
    let stats: RouterStats = read_yaml(&dir.join("router.yaml"));
    let spoofer: Vec<_> = stats
        .connections
        .iter()
        .filter(|c| c.id == Some(2))
        .collect();
    assert_eq!(spoofer.len(), 1, "{:?}", stats.connections);
    assert_eq!(spoofer[0].reason, reason);
    assert_eq!(spoofer[0].name.as_deref(), Some("127.0.0.1:8009"));
}

#[test]
fn a_connection_refused_before_welcome_no_longer_counts_towards_the_machines() {
    let tmp = TestDir::new("refused-before-welcome");
    let config = tmp.config(3, "");
    let dir = tmp.join("run");
    let (mut server, addr) = start_server(&config, 3, &dir);
    let hello = |peer: &mut RawPeer, name: &str| peer.send(&wire::hello(name, 1).expect("a name"));
    let mut a = RawPeer::connect(addr, "a");
    hello(&mut a, "a");
    let mut b = RawPeer::connect(addr, "b");
    hello(&mut b, "b");
    // b breaks the protocol while waiting: it is refused, and its place is free again.
    b.send(b"GET / HTTP/1.1\r\n\r\n");
    assert!(
        b.expect_error_then_close()
            .starts_with("invalid frame: bad magic")
    );
    let mut c = RawPeer::connect(addr, "c");
    hello(&mut c, "b");
    let mut d = RawPeer::connect(addr, "d");
    hello(&mut d, "d");
    // Three live machines: a, the new "b" and d, welcomed as 1, 2 and 3.
    for (peer, id) in [(&mut a, 1), (&mut c, 2), (&mut d, 3)] {
        let welcome = peer.next_frame().expect("a WELCOME");
        let body = welcome.welcome.expect("a WELCOME body");
        assert_eq!((body.id, body.machines), (id, 3), "{}", peer.what);
    }
    server.wait_for_line(clocklab::cli::common::STARTED, SOON);
    server.signal(Signal::SIGTERM);
    drop((a, c, d));
    assert_eq!(server.wait_code(SOON), 0);
}

/// Two raw machines registered with a fresh server: (server, machine 1, machine 2).
fn two_raw_machines(tmp: &TestDir) -> (support::Proc, RawPeer, RawPeer) {
    let config = tmp.config(2, "");
    let (server, addr) = start_server(&config, 2, &tmp.join("run"));
    let mut a = RawPeer::connect(addr, "a");
    a.register("a");
    let mut b = RawPeer::connect(addr, "b");
    b.register("b");
    assert_eq!((a.welcome_id(), b.welcome_id()), (1, 2));
    (server, a, b)
}

/// Issue 10, item 5: data after a machine's BYE used to be dropped without a word; the protocol
/// says ERROR.
#[test]
fn data_after_a_machine_s_bye_gets_an_error() {
    let tmp = TestDir::new("data-after-bye");
    let (mut server, mut a, _b) = two_raw_machines(&tmp);
    let mut bytes = wire::bye(1, 0, 0, 1);
    bytes.extend(send_to(1, 2));
    a.send(&bytes);
    assert_eq!(
        a.expect_error_then_close(),
        "SEND_TO after this machine's BYE"
    );
    server.wait_for_line("SEND_TO after this machine's BYE", SOON);
}

/// Issue 10, item 5: a BYE carrying another machine's source used to be accepted.
#[test]
fn a_bye_with_another_machine_s_source_is_refused() {
    let tmp = TestDir::new("spoofed-bye");
    let (_server, _a, mut b) = two_raw_machines(&tmp);
    b.send(&wire::bye(1, 0, 0, 1));
    assert_eq!(
        b.expect_error_then_close(),
        "BYE with source 1 on the connection of machine 2"
    );
}
