//! What the router tells its caller as it happens ([`Notice`]), and the log lines it writes for
//! each event of the switchboard.

use log::{debug, info, warn};

use super::{Router, STDIN_CLOSED};
use crate::core::switchboard::Event;

/// Something the router tells its caller as it happens (the server prints these for `run`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// A machine said HELLO before the start.
    Joined {
        /// Its name.
        name: String,
        /// The peer's address.
        peer: String,
        /// How many have joined now, this one included.
        joined: usize,
        /// How many the router waits for.
        machines: u16,
    },
    /// A machine that had joined went away before the start.
    Left {
        /// Its name.
        name: String,
        /// The peer's address.
        peer: String,
        /// How many have joined now.
        joined: usize,
        /// How many the router waits for.
        machines: u16,
    },
    /// Every machine has registered and been welcomed.
    Started {
        /// The common start time, nanoseconds since the UNIX epoch.
        start_time_ns: u64,
        /// Machine names by id (index 0 is machine 1).
        names: Vec<String>,
    },
    /// An orderly stop has begun.
    Stopping,
}

impl Router {
    /// Logs what the switchboard did and passes the notices on.
    pub(super) fn pass_on_events(&mut self, notify: &mut impl FnMut(Notice)) {
        while let Some(event) = self.sb.poll_event() {
            match event {
                Event::Registered { conn, peer, name } => {
                    debug!("{peer} registered as {name:?}");
                    self.joined.push(conn);
                    notify(Notice::Joined {
                        name,
                        peer,
                        joined: self.joined.len(),
                        machines: self.sb.options().machines,
                    });
                }
                Event::Started {
                    start_time_ns,
                    names,
                    peers,
                } => {
                    self.joined.clear();
                    for (index, (name, peer)) in names.iter().zip(&peers).enumerate() {
                        debug!("machine {} is {name:?} ({peer})", index + 1);
                    }
                    notify(Notice::Started {
                        start_time_ns,
                        names,
                    });
                }
                Event::Refused {
                    peer, name, reason, ..
                } => {
                    let name = name.as_deref().unwrap_or("-");
                    warn!("closing {peer} ({name}): {reason}");
                }
                Event::Stopping { cause } => {
                    let name = if cause == STDIN_CLOSED {
                        "standard input closed"
                    } else {
                        &cause
                    };
                    info!("{name}: stopping in order");
                    notify(Notice::Stopping);
                }
                Event::StopNow { cause } => warn!("{cause} during the stop: closing at once"),
                Event::Closed { conn, closed } => match closed.id {
                    // During a stop every connection closes: no one "left".
                    None if self.joined.contains(&conn) && !self.sb.is_stopping() => {
                        info!("closed {}: {}", closed.peer, closed.reason);
                        self.joined.retain(|c| *c != conn);
                        notify(Notice::Left {
                            name: closed.name.unwrap_or_default(),
                            peer: closed.peer,
                            joined: self.joined.len(),
                            machines: self.sb.options().machines,
                        });
                    }
                    Some(id) if closed.departed => {
                        warn!("machine {id} departed: {}", closed.reason);
                    }
                    _ => info!("closed {}: {}", closed.peer, closed.reason),
                },
            }
        }
    }
}
