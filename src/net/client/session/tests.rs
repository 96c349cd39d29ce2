//! The session's rules on literal frames: handshake deadlines, BYE and how a connection ends.

use super::*;
use crate::core::wire::Parsed;
use crate::net::client::{RateFor, RateUnknown};

fn session() -> Session {
    session_rated(Box::new(|_| Ok(1.0)))
}

fn session_rated(rate_for: RateFor) -> Session {
    let opts = ClientOptions {
        name: "127.0.0.1:1".into(),
        router: ([127, 0, 0, 1], 1).into(),
        handshake_timeout: Duration::ZERO,
        run_seed: Some(1),
        action_range: 10,
        rate_for,
        clock_skew: Default::default(),
        missed_ticks: Default::default(),
        receive_rule: Default::default(),
        duration: None,
        log_dir: LogDir::Given(std::env::temp_dir()),
        notify: Box::new(|_| {}),
    };
    Session::new(opts, WallClock::new(), Instant::now()).unwrap()
}

fn feed(session: &mut Session, bytes: &[u8]) {
    let Ok(Parsed::Complete { frame, .. }) = wire::parse(bytes) else {
        panic!("not a frame: {bytes:?}");
    };
    session.handle_frame(&frame, 0).unwrap();
}

fn is_orderly(end: &Option<End>) -> Option<bool> {
    end.as_ref().map(|e| matches!(e, End::Orderly(_)))
}

#[test]
fn a_broken_flush_after_an_orderly_end_makes_it_abrupt() {
    let mut s = session();
    feed(&mut s, &wire::bye(wire::ROUTER_ID, 0, 0, 0));
    let eof = Some(s.handle_closed(Closed::Eof));
    assert_eq!(is_orderly(&eof), Some(true));
    let broken = || Some(s.handle_closed(Closed::Broken("write failed".into())));
    let end = settle(eof, broken());
    let Some(End::Abrupt(why)) = end else {
        panic!("{end:?}");
    };
    assert_eq!(why, "write failed");
}

#[test]
fn otherwise_the_first_end_stands() {
    let mut s = session();
    feed(&mut s, &wire::bye(wire::ROUTER_ID, 0, 0, 0));
    let orderly = || Some(s.handle_closed(Closed::Eof));
    assert_eq!(is_orderly(&settle(orderly(), None)), Some(true));
    assert_eq!(is_orderly(&settle(None, orderly())), Some(true));
    assert_eq!(is_orderly(&settle(None, None)), None);
    let first = Some(End::Abrupt("first".into()));
    let end = settle(first, Some(End::Abrupt("second".into())));
    assert!(matches!(end, Some(End::Abrupt(why)) if why == "first"));
}

#[test]
fn past_the_deadline_without_welcome_the_handshake_fails_naming_the_router() {
    // The test session's deadline is its creation: already past.
    let s = session();
    assert!(s.is_registering());
    assert_eq!(s.poll_timeout(), Some(Duration::ZERO));
    let Err(ClientError::Protocol(why)) = s.check_handshake() else {
        panic!("the handshake did not time out");
    };
    assert!(
        why.starts_with("gave up on 127.0.0.1:1: no WELCOME"),
        "{why}"
    );
    let End::Abrupt(why) = s.handle_closed(Closed::Eof) else {
        panic!("an end before WELCOME was orderly");
    };
    assert!(
        why.contains("127.0.0.1:1 closed the connection before WELCOME"),
        "{why}"
    );
}

#[test]
fn end_of_stream_is_orderly_only_after_bye() {
    let mut s = session();
    assert_eq!(is_orderly(&Some(s.handle_closed(Closed::Eof))), Some(false));
    feed(&mut s, &wire::bye(wire::ROUTER_ID, 0, 0, 0));
    assert_eq!(is_orderly(&Some(s.handle_closed(Closed::Eof))), Some(true));
}

#[test]
fn a_machine_without_a_rate_for_welcome_s_machine_count_stops_saying_so() {
    let mut s = session_rated(Box::new(|q: RateQuery| {
        Err(RateUnknown {
            listed: 2,
            machines: q.machines,
        })
    }));
    let welcome = wire::Welcome {
        id: 1,
        machines: 3,
        start_time_ns: 0,
        seed: 1,
    };
    let bytes = wire::welcome(welcome, 0);
    let Ok(Parsed::Complete { frame, .. }) = wire::parse(&bytes) else {
        panic!("not a frame");
    };
    let e = s.handle_frame(&frame, 0).unwrap_err();
    let ClientError::Rate(why) = &e else {
        panic!("{e:?}");
    };
    assert_eq!(
        (why, e.to_string().as_str()),
        (
            &RateUnknown {
                listed: 2,
                machines: 3
            },
            "the configuration lists 2 rates but the router runs 3 machines; give this machine \
             --rate"
        )
    );
}
