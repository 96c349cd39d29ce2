//! The doors of the books of memory: each change is booked, removing a connection unbooks its
//! buffers, and a change of no storage while the memory is full still gives storage back.

use bytes::Bytes;

use super::*;

/// What the buffers of the open connections hold, counted one by one: outbox storage, read
/// buffer storage, slices out.
fn recount(conns: &Conns) -> (usize, usize, usize) {
    let open = || conns.iter().flatten();
    let outboxes = open().map(|c| c.outbox.footprint().held).sum();
    let inbufs = open().map(|c| c.inbuf.held()).sum();
    let slices = open().map(|c| c.outbox.footprint().slices).sum();
    (outboxes, inbufs, slices)
}

#[test]
fn every_door_books_what_the_buffers_hold_and_removing_a_connection_unbooks_it() {
    let (a, b) = (ConnId(0), ConnId(2));
    let mut conns = Conns::new(1 << 20);
    conns.insert(a, "a".into(), 0);
    conns.insert(b, "b".into(), 0);
    assert_eq!((conns.open(), conns.booked()), (2, (0, 0, 0)));

    conns.with_outbox(a, |o| o.push_copy(&[1; 100], None));
    assert!(conns.booked().0 >= 100, "{:?}", conns.booked());
    assert_eq!(conns.booked(), recount(&conns));

    conns.with_inbuf(b, |inbuf| inbuf.extend(&[7; 3000]));
    assert!(conns.booked().1 >= 3000, "{:?}", conns.booked());
    assert_eq!(conns.booked(), recount(&conns));

    // Two frames of one read for b: one slice out, until it is settled.
    let read = Bytes::from(vec![0u8; 64]);
    conns.with_outbox(b, |o| {
        o.extend_run(&read, 0, 32, 2, 1);
        o.close_run(&read);
    });
    assert_eq!(conns.booked().2, 1);
    assert_eq!(conns.booked(), recount(&conns));

    let room = conns.room(a, 4096).map(|room| room.len());
    assert!(room >= Some(1024), "{room:?}");
    assert_eq!(conns.booked(), recount(&conns));

    // A buffer taken out stays booked; what it gains is booked when it is put back.
    let mut taken = conns.take_inbuf(b).expect("b is open");
    taken.buf().extend(&[1; 100_000]);
    conns.put_inbuf(b, taken);
    assert!(conns.booked().1 >= 103_000, "{:?}", conns.booked());
    assert_eq!(conns.booked(), recount(&conns));

    let (_, outbox) = conns.remove(b).expect("b is open");
    assert_eq!(outbox.len(), 64, "the removed outbox tells what waited");
    assert_eq!(conns.booked(), recount(&conns));
    assert!(conns.remove(a).is_some());
    assert_eq!(
        (conns.open(), conns.booked(), conns.held()),
        (0, (0, 0, 0), 0)
    );
    assert!(conns.peak_held() >= 103_000, "{}", conns.peak_held());
}

#[test]
fn a_read_buffer_whose_connection_closes_while_it_is_out_leaves_the_books() {
    let a = ConnId(1);
    let mut conns = Conns::new(1 << 20);
    conns.insert(a, "a".into(), 0);
    conns.with_inbuf(a, |inbuf| inbuf.extend(&[7; 5000]));
    let taken = conns.take_inbuf(a).expect("a is open");
    assert!(conns.remove(a).is_some());
    assert!(conns.booked().1 >= 5000, "still out: {:?}", conns.booked());
    conns.put_inbuf(a, taken);
    assert_eq!(conns.booked(), (0, 0, 0));
}

#[test]
fn an_outbox_emptied_while_the_memory_is_full_gives_its_storage_back() {
    let a = ConnId(0);
    let mut conns = Conns::new(1024);
    conns.insert(a, "a".into(), 0);
    conns.with_outbox(a, |o| o.push_copy(&[1; 2000], None));
    assert!(conns.memory_full());
    // Written in full: the outbox keeps its storage (its footprint does not change), but as the
    // memory is full the books give it back, and the memory is no longer full.
    let footprint = conns[0].as_ref().map(|c| c.outbox.footprint());
    conns.with_outbox(a, |o| {
        o.written(2000, |_, _| {});
        assert!(o.is_empty());
        assert_eq!(Some(o.footprint()), footprint, "storage kept");
    });
    assert_eq!(conns.booked(), (0, 0, 0));
    assert!(!conns.memory_full());
}
