//! Integration tests: the real `tokenscope` binary and the host library against
//! the built policy components. One test binary, one module per area.

mod cli;
mod component;
mod faults;
mod malformed;
mod psm_scope_table;
mod seed_cases;
