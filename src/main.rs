//! The clocklab command line; everything it does lives in the library.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use clocklab::check;
use clocklab::cli::{Cli, Command, ExperimentCommand};
use clocklab::commands;
use clocklab::experiment;
use clocklab::run;
use clocklab::simulate;

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
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Server(args) => commands::server(args),
        Command::Client(args) => commands::client(args),
        Command::Simulate(args) => simulate::command(args),
        Command::Experiment(ExperimentCommand::Classic(args)) => experiment::classic(args),
        Command::Experiment(ExperimentCommand::Sweep(args)) => experiment::sweep(args),
        Command::Check(args) => check::command(&args.run_dir),
        Command::Analyze(args) => clocklab::report::command(&args),
    };
    result.unwrap_or_else(|message| {
        eprintln!("clocklab: {message}");
        ExitCode::FAILURE
    })
}
