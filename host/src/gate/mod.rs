//! The gate a policy module must pass before it goes live: it loads as a pure
//! component of a compatible contract version that imports nothing, what it says
//! about itself (info, catalog, resource kinds) is sound, it passes the test
//! vectors it ships with, and the host's own safety vectors. A module that fails
//! is refused with a report naming every failed check; none of it is used.

mod catalog;
mod safety;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::PolicyConfig;
use crate::runtime::{DEFAULT_POLICY, Limits, PolicyModule, Runtime, sha256_hex};
use crate::signing::{Signature, SignatureCode, SignatureRefusal, TrustedKeys};
use crate::time::UnixTime;
use crate::vectors::{CaseResult, Vectors, run_vectors};

/// How many failures a check lists in full.
const LISTED: usize = 20;

/// What the gate requires beyond the fixed checks.
#[derive(Clone, Debug)]
pub struct GateOptions {
    /// Refuse modules that ship no test vectors.
    pub require_vectors: bool,
    /// The time of requests that name none (vectors usually fix their own).
    pub now: UnixTime,
    /// Whose signature a module needs.
    pub trust: Trust,
}

/// Whose signature a module needs to pass the gate.
#[derive(Clone, Debug)]
pub enum Trust {
    /// None (no `[policy.trust]`): signatures are shown, not required.
    Anyone,
    /// A valid signature by one of these keys.
    Keys(Arc<TrustedKeys>),
    /// `[policy.trust]` is configured but its keys were never read: every module is refused.
    Unread,
}

impl Trust {
    /// What `config`'s `[policy.trust]` requires.
    pub fn of(config: &PolicyConfig) -> Trust {
        match &config.trust {
            None => Trust::Anyone,
            Some(table) => table.loaded.clone().map_or(Trust::Unread, Trust::Keys),
        }
    }

    /// The signature of `bytes` as this trust sees it, or why it is refused. The
    /// default policy embedded in the binary is admitted as `embedded`.
    pub fn signature(&self, bytes: &[u8]) -> Result<Signature, SignatureRefusal> {
        if bytes == DEFAULT_POLICY {
            return Ok(Signature::Embedded);
        }
        match self {
            Trust::Anyone => Ok(crate::signing::observe(bytes)),
            Trust::Keys(keys) => crate::signing::verify(bytes, keys),
            Trust::Unread => Err(SignatureRefusal {
                code: SignatureCode::UntrustedSigner,
                reason: "policy.trust is configured but none of its keys was read".into(),
            }),
        }
    }
}

impl GateOptions {
    /// What `config` requires of a module loaded at `now`.
    pub fn of(config: &PolicyConfig, now: UnixTime) -> GateOptions {
        GateOptions { require_vectors: config.require_vectors, now, trust: Trust::of(config) }
    }
}

/// One check of the gate.
#[derive(Clone, Debug, Serialize)]
pub struct GateCheck {
    /// The check's name, e.g. `safety vectors`.
    pub name: &'static str,
    /// Whether the module passed it.
    pub passed: bool,
    /// One line on what was checked.
    pub summary: String,
    /// What failed, the first few in full.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
}

/// Everything the gate found about one module.
#[derive(Clone, Debug, Serialize)]
pub struct GateReport {
    /// Where the module came from.
    pub source: String,
    /// The hex SHA-256 of its bytes.
    pub sha256: String,
    /// Its name, once it loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its version, once it loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Whether it passed every check.
    pub passed: bool,
    /// Every check, in the order run.
    pub checks: Vec<GateCheck>,
    /// Cases run: the module's vectors and the safety vectors.
    pub cases: usize,
    /// Who signed it, once its signature was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<Signature>,
    /// Why it was refused for its signature, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_refusal: Option<SignatureRefusal>,
    /// How long the gate took.
    #[serde(serialize_with = "millis")]
    pub elapsed: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl GateReport {
    /// One line per failed check, for errors and logs.
    pub fn reasons(&self) -> String {
        let failed: Vec<String> = self
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| match c.failures.first() {
                Some(first) => format!("{}: {} (first: {first})", c.name, c.summary),
                None => format!("{}: {}", c.name, c.summary),
            })
            .collect();
        if failed.is_empty() { "all checks passed".into() } else { failed.join("; ") }
    }
}

/// Loads `bytes` and puts the module through every check. The module is
/// returned only when all passed. `vectors` replaces the module's own.
pub fn admit(
    runtime: &Runtime,
    bytes: &[u8],
    source: &str,
    limits: Limits,
    options: &GateOptions,
    vectors: Option<&Vectors>,
) -> (Option<Arc<PolicyModule>>, GateReport) {
    let started = Instant::now();
    let mut report = GateReport {
        source: source.to_owned(),
        sha256: sha256_hex(bytes),
        name: None,
        version: None,
        passed: false,
        checks: Vec::new(),
        cases: 0,
        signature: None,
        signature_refusal: None,
        elapsed: Duration::ZERO,
    };
    // Before anything else reads the bytes: an untrusted module is never compiled.
    let signature = match options.trust.signature(bytes) {
        Ok(signature) => signature,
        Err(refusal) => {
            report.checks.push(failed("signature", format!("{}: {}", refusal.code.as_str(), refusal.reason)));
            report.signature_refusal = Some(refusal);
            report.elapsed = started.elapsed();
            return (None, report);
        }
    };
    report.checks.push(GateCheck {
        name: "signature",
        passed: true,
        summary: match &signature {
            Signature::Embedded => "the default policy embedded in this binary".into(),
            Signature::Verified { signers } => format!("signed by trusted key {}", signers.join(", ")),
            Signature::NotChecked { signers } if !signers.is_empty() => {
                format!("not required (no [policy.trust]); its signatures name {}", signers.join(", "))
            }
            _ => "not required (no [policy.trust]); it carries none".into(),
        },
        failures: Vec::new(),
    });
    report.signature = Some(signature.clone());
    let module = match PolicyModule::from_bytes_signed(runtime, bytes, source, limits, signature) {
        Ok(module) => module,
        Err(err) => {
            report.checks.push(failed("load", format!("{err:#}")));
            report.elapsed = started.elapsed();
            return (None, report);
        }
    };
    report.name = Some(module.info().name.clone());
    report.version = Some(module.info().version.clone());
    report.checks.push(GateCheck {
        name: "load",
        passed: true,
        summary: format!(
            "a component of contract {} that imports nothing ({}, {} ms)",
            module.contract(),
            module.compiled().as_str(),
            module.load_time().as_millis()
        ),
        failures: Vec::new(),
    });
    let problems = catalog::problems(&module);
    report.checks.push(GateCheck {
        name: "catalog",
        passed: problems.is_empty(),
        summary: if problems.is_empty() {
            format!("{} actions over {} resource kinds", module.catalog().len(), module.resource_kinds().len())
        } else {
            format!("{} problems", problems.len())
        },
        failures: problems,
    });
    let shipped = match vectors {
        Some(vectors) => Ok(Some(vectors.clone())),
        None => module.vectors().map(Vectors::from_toml).transpose(),
    };
    let vector_check = match shipped {
        Err(err) => failed("vectors", format!("its vectors do not parse: {err:#}")),
        Ok(None) if options.require_vectors => failed("vectors", "it ships no test vectors".into()),
        Ok(None) => GateCheck { name: "vectors", passed: true, summary: "none shipped".into(), failures: vec![] },
        Ok(Some(vectors)) if vectors.cases.is_empty() && options.require_vectors => {
            failed("vectors", "its vectors hold no case".into())
        }
        Ok(Some(vectors)) => {
            let results = run_vectors(&module, &vectors, options.now.secs());
            report.cases += results.len();
            check_of("vectors", &results, vectors.cases.len())
        }
    };
    report.checks.push(vector_check);
    let results = safety::run(&module);
    report.cases += results.len();
    let total = results.len();
    report.checks.push(check_of("safety", &results, total));
    report.passed = report.checks.iter().all(|c| c.passed);
    report.elapsed = started.elapsed();
    (report.passed.then_some(module), report)
}

/// The host's safety vectors run against `module`, case by case.
pub fn safety_results(module: &PolicyModule) -> Vec<CaseResult> {
    safety::run(module)
}

/// What is wrong with what `module` says about itself (info, catalog, kinds).
pub fn catalog_problems(module: &PolicyModule) -> Vec<String> {
    catalog::problems(module)
}

fn failed(name: &'static str, summary: String) -> GateCheck {
    GateCheck { name, passed: false, summary, failures: Vec::new() }
}

fn check_of(name: &'static str, results: &[CaseResult], total: usize) -> GateCheck {
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| {
            let mut line = format!("{}: expected {}, got {}", r.name, r.expected, r.got);
            if let Some(problem) = &r.problem {
                line.push_str(&format!(" ({problem})"));
            } else if let Some(message) = &r.message {
                line.push_str(&format!(" ({message})"));
            }
            line
        })
        .collect();
    let passed = results.iter().filter(|r| r.passed).count();
    let mut summary = format!("{passed} of {total} cases passed");
    if results.len() < total {
        summary.push_str(&format!("; stopped after a policy fault at case {}", results.len()));
    }
    let all = failures.is_empty() && results.len() == total;
    let mut listed = failures;
    let more = listed.len().saturating_sub(LISTED);
    listed.truncate(LISTED);
    if more > 0 {
        listed.push(format!("... and {more} more"));
    }
    GateCheck { name, passed: all, summary, failures: listed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> GateOptions {
        GateOptions { require_vectors: true, now: UnixTime::from_secs(1_800_000_000), trust: Trust::Anyone }
    }

    #[test]
    fn the_default_policy_passes_the_gate() {
        let runtime = Runtime::new().unwrap();
        let (module, report) = admit(&runtime, DEFAULT_POLICY, "default", Limits::default(), &options(), None);
        assert!(report.passed, "{}", report.reasons());
        assert!(module.is_some());
        assert!(report.cases > 150, "{}", report.cases);
    }

    #[test]
    fn garbage_and_missing_vectors_are_refused_with_reasons() {
        let runtime = Runtime::new().unwrap();
        let (module, report) = admit(&runtime, b"\0asm garbage", "junk", Limits::default(), &options(), None);
        assert!(module.is_none());
        assert!(report.reasons().starts_with("load: "), "{}", report.reasons());

        let empty = Vectors::default();
        let (module, report) = admit(&runtime, DEFAULT_POLICY, "d", Limits::default(), &options(), Some(&empty));
        assert!(module.is_none());
        assert!(report.reasons().contains("vectors: its vectors hold no case"), "{}", report.reasons());
    }

    #[test]
    fn a_failing_vector_refuses_the_module() {
        let runtime = Runtime::new().unwrap();
        let mut vectors =
            Vectors::from_toml(crate::runtime::embedded_vectors(DEFAULT_POLICY).unwrap().as_deref().unwrap()).unwrap();
        vectors.cases[0].expect = "revoked".into();
        let (module, report) = admit(&runtime, DEFAULT_POLICY, "d", Limits::default(), &options(), Some(&vectors));
        assert!(module.is_none());
        let check = report.checks.iter().find(|c| c.name == "vectors").unwrap();
        assert_eq!(check.failures.len(), 1, "{check:?}");
        assert!(check.failures[0].contains("expected revoked, got allow"), "{check:?}");
    }
}
