//! The `tropes` binary: parse the command line, run it, print any error with
//! its causes, and exit with the status the command asks for.

use clap::Parser;

mod cli;

/// glibc's allocator returns freed batch buffers to the kernel and faults them
/// back in for the next batch; mimalloc keeps them, which the scan's
/// batch-at-a-time loop benefits from.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    restore_sigpipe();
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

/// Rust ignores SIGPIPE, so `tropes search … | head` would end in a panic when
/// `head` exits; like other command-line tools, end quietly instead.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called once at start, before any thread exists; SIG_DFL is a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
