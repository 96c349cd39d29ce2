//! The commands clocklab prints for the user to run next (`next: ...`, `check the run with:
//! ...`): each names this program the way the shell in the current directory would find it, so a
//! hint pasted as printed runs.

use std::path::Path;

/// The line that ends `run` and `simulate`: the command that analyzes what they wrote.
pub fn next_step(dir: &Path) -> String {
    format!("next: {}", hint(&["analyze", &dir.display().to_string()]))
}

/// A command line of this program with `args`, to print for the user to run from the current
/// directory: [`program`], then each argument as one shell word. Every hint goes through it.
pub fn hint(args: &[&str]) -> String {
    command_line(&program(), args)
}

/// `program` followed by `args`, each quoted for a POSIX shell as needed.
fn command_line(program: &str, args: &[&str]) -> String {
    let mut line = program.to_owned();
    for arg in args {
        line.push(' ');
        line.push_str(&shell_word(arg));
    }
    line
}

/// How a hint names this program so that it runs as printed from the current directory: see
/// `program_for`. `clocklab` when nothing about the executable can be learnt.
pub fn program() -> String {
    let Some(exe) = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
    else {
        return "clocklab".to_owned();
    };
    let cwd = std::env::current_dir().and_then(|p| p.canonicalize()).ok();
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("clocklab"))
            .find(|p| p.is_file())
            .and_then(|p| p.canonicalize().ok())
    });
    program_for(&exe, cwd.as_deref(), on_path.as_deref())
}

/// The name of the executable `exe` for a shell in `cwd` whose first `clocklab` on PATH is
/// `on_path` (all canonical paths): `clocklab` when that is this executable (installed with
/// `cargo install --path .`, say); `cargo run --release --` (or `cargo run --`) when it is the
/// release (debug) build in `cwd`'s own `target/`, so a hint after `cargo run` reads the same;
/// otherwise the executable's own path.
fn program_for(exe: &Path, cwd: Option<&Path>, on_path: Option<&Path>) -> String {
    if on_path == Some(exe) {
        return "clocklab".to_owned();
    }
    if let Some(cwd) = cwd {
        for (profile, cargo) in [
            ("release", "cargo run --release --"),
            ("debug", "cargo run --"),
        ] {
            if exe.parent() == Some(cwd.join("target").join(profile).as_path()) {
                return cargo.to_owned();
            }
        }
    }
    shell_word(&exe.display().to_string())
}

/// `text` as one word for a POSIX shell: as it is when it holds only safe characters, else in
/// single quotes (a quote inside written `'\''`).
fn shell_word(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_step_names_the_directory_as_one_shell_word() {
        let next = next_step(Path::new("logs/20261202T010203Z-seed-42"));
        assert!(next.starts_with("next: "), "{next}");
        assert!(
            next.ends_with(" analyze logs/20261202T010203Z-seed-42"),
            "{next}"
        );
        assert_eq!(
            command_line("clocklab", &["analyze", "my logs/it's"]),
            "clocklab analyze 'my logs/it'\\''s'"
        );
    }

    #[test]
    fn a_hint_names_the_program_as_the_shell_here_would_find_it() {
        let exe = Path::new("/src/clocklab/target/release/clocklab");
        // Installed: the first clocklab on PATH is this executable.
        assert_eq!(
            program_for(exe, Some(Path::new("/x")), Some(exe)),
            "clocklab"
        );
        // Run by cargo from its package: the cargo command, by profile.
        let src = Some(Path::new("/src/clocklab"));
        assert_eq!(program_for(exe, src, None), "cargo run --release --");
        let debug = Path::new("/src/clocklab/target/debug/clocklab");
        assert_eq!(program_for(debug, src, None), "cargo run --");
        // Another clocklab on PATH, or the build of another directory: the path itself.
        let other = Some(Path::new("/usr/bin/clocklab"));
        assert_eq!(
            program_for(exe, Some(Path::new("/x")), other),
            exe.display().to_string()
        );
        assert_eq!(
            program_for(Path::new("/my tools/clocklab"), None, None),
            "'/my tools/clocklab'"
        );
    }
}
