//! The `tokenscope` binary: all of it lives in the library's `cli` module.

use std::process::ExitCode;

fn main() -> ExitCode {
    tokenscope::cli::main()
}
