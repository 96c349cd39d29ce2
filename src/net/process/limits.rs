//! The limit on open files that a run of many machines needs: the router holds a socket per
//! machine and inherits `run`'s limit, so `run` raises its soft limit to the hard one before it
//! starts anything, and says what to do when even the hard one is too low.

/// Why a run of `machines` machines cannot have the open files it needs.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{machines} machines need about {need} open files (a socket each in the router, which \
     inherits this process's limit), but the hard limit is {hard} (`ulimit -Hn`); raise it \
     (limits.conf, or LimitNOFILE= for a service) or run fewer machines"
)]
pub struct OpenFilesError {
    /// The machines of the run.
    pub machines: u16,
    /// The open files they need.
    pub need: u64,
    /// The hard limit on open files.
    pub hard: u64,
}

/// The open files a run of `machines` machines needs in its router: a socket each, and a margin
/// for the listener, the logs, `poll` and the pipes.
pub fn open_files_needed(machines: u16) -> u64 {
    u64::from(machines) + 64
}

/// Raises this process's soft limit on open files to its hard limit when the soft one is below
/// what `machines` machines need (children, the router among them, inherit it). Returns the
/// limit in force; fails, saying what to do, when even the hard limit is too low.
pub fn raise_open_files(machines: u16) -> Result<u64, OpenFilesError> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let need = open_files_needed(machines);
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        // Nothing to read: let the router's own accept retry say what happens.
        return Ok(need);
    };
    if soft >= need {
        return Ok(soft);
    }
    if hard < need {
        return Err(OpenFilesError {
            machines,
            need,
            hard,
        });
    }
    match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
        Ok(()) => {
            log::info!("open file limit raised from {soft} to {hard} for {machines} machines");
            Ok(hard)
        }
        Err(_) => Err(OpenFilesError {
            machines,
            need,
            hard: soft,
        }),
    }
}

impl From<OpenFilesError> for String {
    fn from(e: OpenFilesError) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_file_limit_is_raised_as_far_as_the_hard_limit_and_no_further() {
        use nix::sys::resource::{Resource, getrlimit};
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        assert!(raise_open_files(2).unwrap() >= open_files_needed(2));
        if hard < open_files_needed(1000) {
            let e = raise_open_files(1000).unwrap_err();
            assert_eq!((e.need, e.hard), (1064, hard));
            assert!(
                e.to_string()
                    .starts_with("1000 machines need about 1064 open files")
            );
        } else {
            assert!(raise_open_files(1000).unwrap() >= 1064);
        }
        let e = OpenFilesError {
            machines: 1000,
            need: 1064,
            hard: 512,
        };
        assert_eq!(
            String::from(e),
            "1000 machines need about 1064 open files (a socket each in the router, which \
             inherits this process's limit), but the hard limit is 512 (`ulimit -Hn`); raise it \
             (limits.conf, or LimitNOFILE= for a service) or run fewer machines"
        );
    }
}
