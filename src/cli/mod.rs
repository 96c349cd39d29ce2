//! The command line: [`args`] defines it with clap, and each subcommand has a file of its own that
//! turns its arguments into calls to the layers below and a status.

pub mod analyze;
pub mod args;
pub mod check;
pub mod client;
pub mod common;
pub mod diff;
pub mod experiment;
pub mod export;
pub mod hint;
pub mod merge;
pub mod run;
pub mod server;
pub mod simulate;
pub mod trials;
pub mod watch;

use std::process::ExitCode;

use args::{Cli, Command, ExperimentCommand};
use common::Failure;

/// Runs the subcommand `cli` names.
pub fn dispatch(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Run(args) => run::command(args),
        Command::Server(args) => server::command(args),
        Command::Client(args) => client::command(args),
        Command::Simulate(args) => simulate::command(args),
        Command::Experiment(ExperimentCommand::Classic(args)) => experiment::classic(args),
        Command::Experiment(ExperimentCommand::Sweep(args)) => experiment::sweep(args),
        Command::Experiment(ExperimentCommand::Weather(args)) => experiment::weather(args),
        Command::Check(args) => check::command(&args.run_dir),
        Command::Analyze(args) => analyze::command(&args),
        Command::Diff(args) => diff::command(&args),
        Command::Export(args) => export::command(&args),
        Command::Merge(args) => merge::command(&args),
        Command::Watch(args) => watch::command(&args),
    }
}
