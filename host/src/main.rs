//! The `tokenscope` binary: the command line (`cli/`, one file per subcommand)
//! over the `tokenscope` library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
