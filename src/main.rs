//! The clocklab command line; everything it does lives in the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use clocklab::cli::{Cli, Command};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let name = match cli.command {
        Command::Run(_) => "run",
        Command::Server(_) => "server",
        Command::Client(_) => "client",
        Command::Check(_) => "check",
    };
    eprintln!("clocklab {name}: not implemented yet (the networked model lands with issue 3)");
    ExitCode::from(2)
}
