//! Helpers shared by the fuzz targets under `fuzz_targets/`: inputs built from
//! the fuzzer's bytes, the native policy's types in the host's vocabulary, and
//! one embedded policy instance per fuzzing process.

pub mod embedded;
pub mod generate;
pub mod to_host;
