//! The `tokenscope` binary: the command line lives in the library (`src/cli/`,
//! one file per subcommand), so what only it uses stays private to the crate.

use std::process::ExitCode;

fn main() -> ExitCode {
    tokenscope::cli::main()
}
