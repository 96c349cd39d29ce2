//! The clocklab command line; everything it does lives in the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use clocklab::cli::{self, args::Cli};

/// Ends the process quietly when stdout has been closed (`clocklab check DIR | head`), as command
/// line tools do, instead of reporting the failed `println!` as a crash.
fn quiet_on_closed_stdout() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        report(info);
    }));
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    let result = cli::dispatch(cli);
    result.unwrap_or_else(|message| {
        eprintln!("clocklab: {message}");
        ExitCode::FAILURE
    })
}
