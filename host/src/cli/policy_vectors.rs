//! `tokenscope policy test MODULE [--vectors FILE]`: runs a module's test vectors
//! (its embedded ones, or FILE), the host's safety vectors and the catalog
//! checks, and prints each case with its decision and reason. Exit 0 when all
//! pass, 1 when any fails: made for CI.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use super::context::{module_arg, runtime};
use crate::config::PolicyConfig;
use crate::gate::{catalog_problems, safety_results};
use crate::swap::ModuleSummary;
use crate::vectors::{CaseResult, Vectors, run_vectors};

#[derive(Args, Debug)]
pub(crate) struct TestArgs {
    /// The module to test (`@default`: the embedded default policy)
    module: PathBuf,
    /// A vectors file (TOML, or JSON lines for `.jsonl`) instead of the module's own
    #[arg(long, value_name = "FILE")]
    vectors: Option<PathBuf>,
    /// Print only failures and the summary
    #[arg(long, short)]
    quiet: bool,
    /// Print the results as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    module: ModuleSummary,
    passed: bool,
    vectors: Vec<CaseResult>,
    safety: Vec<CaseResult>,
    catalog_problems: Vec<String>,
}

pub(crate) fn run(args: &TestArgs) -> Result<ExitCode> {
    let config = PolicyConfig::default();
    let module = module_arg(&runtime(&config)?, &args.module, &config)?;
    let vectors = match &args.vectors {
        Some(path) => Vectors::from_file(path)?,
        None => match module.vectors() {
            Some(text) => Vectors::from_toml(text).context("the module's embedded vectors")?,
            None => bail!(
                "`{}` ships no test vectors: give `--vectors FILE` (or build it with `tokenscope policy build`)",
                args.module.display()
            ),
        },
    };
    let results = run_vectors(&module, &vectors, crate::time::UnixTime::now().secs());
    let safety = safety_results(&module);
    let problems = catalog_problems(&module);
    let passed =
        results.len() == vectors.cases.len() && results.iter().chain(&safety).all(|r| r.passed) && problems.is_empty();
    let report =
        Report { module: ModuleSummary::of(&module), passed, vectors: results, safety, catalog_problems: problems };
    let total = vectors.cases.len();
    super::output::print_report(&report, args.json, |out, r| print_text(out, r, total, args.quiet))?;
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_text(out: &mut impl Write, r: &Report, total: usize, quiet: bool) -> Result<()> {
    writeln!(out, "module: {} {} (sha256:{})", r.module.name, r.module.version, r.module.sha256)?;
    for result in r.vectors.iter().chain(&r.safety) {
        if !quiet || !result.passed {
            print_case(out, result)?;
        }
    }
    for problem in &r.catalog_problems {
        writeln!(out, "FAIL  catalog: {problem}")?;
    }
    let count = |list: &[CaseResult]| list.iter().filter(|c| c.passed).count();
    write!(out, "vectors: {} of {total} passed", count(&r.vectors))?;
    if r.vectors.len() < total {
        write!(out, " (stopped after a policy fault)")?;
    }
    writeln!(out, "; safety: {} of {} passed; catalog: {} problems", count(&r.safety), r.safety.len(), {
        r.catalog_problems.len()
    })?;
    writeln!(out, "{}", if r.passed { "PASS" } else { "FAIL" })?;
    Ok(())
}

fn print_case(out: &mut impl Write, c: &CaseResult) -> Result<()> {
    let verdict = if c.passed { "PASS" } else { "FAIL" };
    let decision = match (&c.grant, &c.message) {
        (Some(grant), _) => format!("{} by `{grant}`", c.got),
        (None, Some(message)) => format!("{}: {message}", c.got),
        (None, None) => c.got.clone(),
    };
    writeln!(out, "{verdict}  {}: {decision}", c.name)?;
    if !c.passed {
        match &c.seed {
            Some(seed) => writeln!(out, "        expected {} ({seed})", c.expected)?,
            None => writeln!(out, "        expected {}", c.expected)?,
        }
        if let Some(problem) = &c.problem {
            writeln!(out, "        {problem}")?;
        }
    }
    Ok(())
}
