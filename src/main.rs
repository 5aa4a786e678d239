//! The `tropes` binary: parse the command line, run it, print any error with
//! its causes, and exit with the status the command asks for.

use clap::Parser;

mod cli;

fn main() {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            std::process::exit(2);
        }
    }
}
