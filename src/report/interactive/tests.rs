use super::*;
use crate::analysis::causality::tests::three;
use crate::analysis::hlc;

#[test]
fn the_data_carries_every_event_with_its_vector_and_hybrid_clock() {
    let t = three();
    let html = trial_html(&t, 1, None);
    let start = html.find("class=\"st-data\">").expect("data") + "class=\"st-data\">".len();
    let end = html[start..].find("</script>").expect("end") + start;
    let data: serde_json::Value = serde_json::from_str(&html[start..end]).expect("JSON");
    let c = reconstruct(&t).expect("causality");
    let stamps = hlc::timestamps(&t, &c);
    assert_eq!(data["total"], 11);
    assert_eq!(data["shown"], 11);
    for (i, m) in t.machines.iter().enumerate() {
        for k in 0..m.records.len() {
            let e = &data["machines"][i][k];
            let vc: Vec<u32> = serde_json::from_value(e[7].clone()).expect("vector");
            assert_eq!(
                vc,
                c.vector(EventRef {
                    machine: i,
                    index: k
                })
            );
            assert_eq!(e[2], m.records[k].logical_clock);
            assert_eq!(e[5], stamps[i][k].l);
            assert_eq!(e[6], stamps[i][k].c);
        }
    }
    // b2 (machine 2's second event) received a2, machine 1's second.
    assert_eq!(data["machines"][1][1][3], 0);
    assert_eq!(data["machines"][1][1][4], 1);
    assert!(!html.contains("It holds the first"));
}

#[test]
fn a_trial_past_the_cap_keeps_its_first_events_and_says_so() {
    // Machines 1 and 2 tick together, MAX_EVENTS times each, before machine 3's first event.
    let mut t = three();
    for m in 0..2 {
        let template = t.machines[m].records[0];
        t.machines[m].records = (0..MAX_EVENTS as u64)
            .map(|k| {
                let mut r = template;
                r.logical_clock = k + 1;
                r.system_time_us = t.start_us + k;
                r
            })
            .collect();
    }
    let html = trial_html(&t, 1, None);
    let data_at = html.find("class=\"st-data\">").expect("data");
    let data: serde_json::Value = serde_json::from_str(
        &html[data_at + 16..data_at + html[data_at..].find("</script>").expect("end")],
    )
    .expect("JSON");
    assert_eq!(data["total"], 2 * MAX_EVENTS + 3);
    assert_eq!(data["shown"], MAX_EVENTS);
    // The first MAX_EVENTS in time: half of each of the two machines, none of the third.
    for (m, shown) in [MAX_EVENTS / 2, MAX_EVENTS / 2, 0].into_iter().enumerate() {
        assert_eq!(data["machines"][m].as_array().expect("events").len(), shown);
    }
    assert!(html.contains(&format!("It holds the first {MAX_EVENTS} of the trial's")));
}
