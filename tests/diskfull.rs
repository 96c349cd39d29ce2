//! A full disk, for real: each test mounts a tiny tmpfs of its own, fills it, and checks that
//! what clocklab writes there stays whole: a log ends in a whole row, no temporary file stays
//! behind, and the space reserve gives a summary room to be written. Mounting needs root, so
//! those tests are ignored by `cargo test` and run by `.ci/run` (`cargo test --test diskfull --
//! --ignored`), where they fail, saying why, if the machine does not allow it.

mod support;

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use clocklab::core::event::{EventKind, Record};
use clocklab::rundir::log::{LogWriter, log_path, read_log};
use clocklab::rundir::{SpaceReserve, write_yaml_atomically};

/// A tmpfs of a few pages mounted on a fresh directory, unmounted and removed on drop.
struct Tmpfs {
    dir: PathBuf,
    _test: support::TestDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `kib` KiB, or fails the test saying why it cannot.
    fn mount(test: &str, kib: u32) -> Tmpfs {
        let test = support::TestDir::new(test);
        let dir = test.join("fs");
        std::fs::create_dir(&dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&dir)
            .output();
        match out {
            Ok(out) if out.status.success() => Tmpfs { dir, _test: test },
            Ok(out) => panic!(
                "cannot mount a tmpfs (root is needed): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!("cannot run mount: {e}"),
        }
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    /// Fills what room is left with one file, and answers how many bytes it took.
    fn fill(&self, name: &str) -> usize {
        let mut filler = std::fs::File::create(self.dir.join(name)).unwrap();
        let chunk = [0u8; 1024];
        let mut written = 0;
        loop {
            match io::Write::write(&mut filler, &chunk) {
                Ok(0) => return written,
                Ok(n) => written += n,
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::StorageFull, "{e}");
                    return written;
                }
            }
        }
    }

    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

fn internal(clock: u64) -> Record {
    Record {
        machine: 2,
        event: EventKind::Internal,
        system_time_us: 1_764_096_000_000_000 + clock,
        logical_clock: clock,
        queue_len: 0,
        peer: None,
        msg_clock: None,
        seq: None,
    }
}

#[test]
#[ignore = "needs root (mounts a tmpfs); .ci/run runs it with --ignored"]
fn a_log_on_a_disk_that_fills_up_ends_in_its_last_whole_row() {
    let fs = Tmpfs::mount("diskfull-log", 16);
    let mut log = LogWriter::create(fs.path(), 2).unwrap();
    let mut clock = 0;
    let err = loop {
        clock += 1;
        if let Err(e) = log.append(&internal(clock)) {
            break e;
        }
        assert!(clock < 1_000_000, "a 16 KiB tmpfs never filled up");
    };
    assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    let path = log_path(fs.path(), 2);
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot write a row: ", path.display())),
        "{err}"
    );
    let (kind, why) = log.failure().unwrap();
    assert_eq!(
        (kind, why),
        (io::ErrorKind::StorageFull, err.to_string().as_str())
    );
    // Later rows are refused with the same error, even once there is room again.
    let rows = read_log(&path).unwrap();
    assert_eq!(rows.len() as u64, log.rows());
    assert_eq!(rows, (1..clock).map(internal).collect::<Vec<_>>());
    assert!(std::fs::read(&path).unwrap().ends_with(b"\n"));
    let again = log.append(&internal(clock)).unwrap_err();
    assert_eq!(again.to_string(), err.to_string());
    assert_eq!(read_log(&path).unwrap().len() as u64, log.rows());
}

#[test]
#[ignore = "needs root (mounts a tmpfs); .ci/run runs it with --ignored"]
fn a_yaml_file_that_cannot_be_written_leaves_no_temporary_file() {
    let fs = Tmpfs::mount("diskfull-yaml", 16);
    fs.fill("filler");
    let big: Vec<String> = (0..2_000).map(|i| format!("value number {i}")).collect();
    let err = write_yaml_atomically(&fs.path().join("router.yaml"), &big).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::StorageFull, "{err}");
    assert!(err.to_string().contains("router.yaml.tmp"), "{err}");
    assert_eq!(fs.names(), ["filler"]);
}

#[test]
#[ignore = "needs root (mounts a tmpfs); .ci/run runs it with --ignored"]
fn a_space_reserve_gives_the_summary_room_on_a_full_disk() {
    let fs = Tmpfs::mount("diskfull-reserve", 256);
    let mut reserve = SpaceReserve::create(fs.path()).unwrap();
    let reserve_name = format!(".clocklab-reserve-{}", std::process::id());
    assert!(SpaceReserve::is_reserve_file(&reserve_name));
    fs.fill("filler");
    let summary = fs.path().join("summary-2.yaml");
    let text: Vec<String> = (0..100).map(|i| format!("field {i}")).collect();
    assert_eq!(
        write_yaml_atomically(&summary, &text).unwrap_err().kind(),
        io::ErrorKind::StorageFull
    );
    reserve.release();
    write_yaml_atomically(&summary, &text).unwrap();
    assert_eq!(fs.names(), ["filler", "summary-2.yaml"]);
    // A reserve cannot be made on a disk that is already full, and leaves nothing behind.
    fs.fill("filler-2");
    let err = SpaceReserve::create(fs.path()).unwrap_err();
    assert!(err.to_string().contains("cannot reserve room"), "{err}");
    assert_eq!(fs.names(), ["filler", "filler-2", "summary-2.yaml"]);
}

#[test]
fn reserve_file_names_are_told_apart() {
    for name in [".clocklab-reserve-1", ".clocklab-reserve-4242"] {
        assert!(SpaceReserve::is_reserve_file(name), "{name}");
    }
    for name in [
        ".clocklab-reserve-",
        ".clocklab-reserve-x",
        "clocklab-reserve-1",
    ] {
        assert!(!SpaceReserve::is_reserve_file(name), "{name}");
    }
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = support::files_under(dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    out.sort();
    out
}

#[test]
#[ignore = "needs root (mounts a tmpfs); .ci/run runs it with --ignored"]
fn a_run_on_a_disk_that_fills_up_ends_in_order_and_check_names_the_full_disk() {
    // Four reserves of 64 KiB (the router, `run`, two machines) and a little room for the logs,
    // which two machines at 400 ticks/s fill within a second or two of an 8-second trial.
    let fs = Tmpfs::mount("diskfull-run", 320);
    let config = fs._test.config(2, "");
    let (code, out) = support::Cmd::new("run")
        .config(&config)
        .out(fs.path())
        .duration("8")
        .rates("400,400")
        .seed(5)
        .run_to_end("run", support::SOON * 6);
    let dir = support::run_dir_under(fs.path());
    assert_ne!(code, 0, "a trial that lost events must not pass:\n{out}");
    let files = files_under(&dir);
    assert!(
        files
            .iter()
            .all(|f| !f.ends_with(".tmp") && !f.contains("clocklab-reserve")),
        "{files:?}"
    );
    for f in ["run.yaml", "router.yaml", "machine-1.csv", "machine-2.csv"] {
        assert!(files.iter().any(|x| x == f), "{f} missing from {files:?}");
    }
    let (check_code, report) =
        support::run_to_end("check", ["check".as_ref(), dir.as_os_str()], support::SOON);
    assert_eq!(check_code, 1, "{report}");
    let violations: Vec<&str> = report.lines().filter(|l| l.contains("VIOLATION")).collect();
    assert!(!violations.is_empty(), "{report}");
    for v in &violations {
        // The only findings are machines whose log hit the full disk: nothing blames the router
        // or a lost message.
        assert!(
            v.contains("could not write its log") && v.contains("No space left on device"),
            "a finding with another cause: {v}\n{report}"
        );
    }
    for id in [1u16, 2] {
        let log = std::fs::read(log_path(&dir, id)).unwrap();
        assert!(
            log.ends_with(b"\n"),
            "machine {id}'s log ends in a partial row"
        );
    }
}
