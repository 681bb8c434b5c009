//! Runs cases against a module the way the host decides live requests (grants
//! compiled into handles, then `decide-compiled`), cross-checked with the
//! one-shot `decide`: a module whose two paths disagree fails the case.

use serde::Serialize;

use super::{Vector, Vectors};
use crate::contract::{DenyCode, Request, Token, TokenStatus};
use crate::ids::TokenId;
use crate::runtime::{Evaluator, KeyedGrants, KeyedRights, PolicyModule, Question};
use crate::time::UnixTime;
use crate::verdict::{Code, Verdict};

/// One case decided.
#[derive(Clone, Debug)]
pub struct Decided {
    /// The hot path's decision: what a live request would get.
    pub verdict: Verdict,
    /// For an allow, the normalised grant that matched.
    pub grant: Option<String>,
    /// Set when the one-shot path decided otherwise.
    pub disagreement: Option<String>,
}

/// Decides `token` asking `request` as a live request would be, under `key` in
/// the evaluator's caches, and checks the one-shot path agrees.
pub fn decide_case(
    module: &PolicyModule,
    evaluator: &mut Evaluator,
    key: TokenId,
    token: &Token,
    request: &Request,
) -> Decided {
    let oneshot = evaluator.instance().decide(token, request);
    let Some(action) = module.action_id(&request.action) else {
        // The host refuses actions the catalog does not list before asking the policy.
        let verdict = Verdict::deny(Code::Policy(DenyCode::UnknownAction), "not in the module's catalog");
        let disagreement = oneshot.is_allow().then_some("the one-shot path allows an action the catalog does not list");
        return Decided { verdict, grant: None, disagreement: disagreement.map(str::to_owned) };
    };
    let (grants, owner_rights) = (KeyedGrants::from(token.grants.clone()), KeyedRights::from(&token.owner_rights[..]));
    let question = Question {
        token: key,
        grants: &grants,
        owner_rights: &owner_rights,
        status: TokenStatus { expires_at: token.expires_at, revoked: token.revoked },
        action,
        resource: &request.resource,
        now: UnixTime::from_secs(request.now),
    };
    let verdict = evaluator.decide(&question);
    let grant = match verdict {
        Verdict::Allow { grant } => evaluator.grant_text(&grants, grant),
        Verdict::Deny { .. } => None,
    };
    let agree = match (&verdict, &oneshot) {
        (Verdict::Allow { grant: a }, Verdict::Allow { grant: b }) => a == b,
        (Verdict::Deny { code: a, .. }, Verdict::Deny { code: b, .. }) => a == b,
        _ => false,
    };
    let disagreement = (!agree).then(|| format!("the one-shot path says {}", shown(&oneshot)));
    Decided { verdict, grant, disagreement }
}

fn shown(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Allow { grant } => format!("allow (grant #{grant})"),
        Verdict::Deny { code, message } => format!("{} ({message})", code.as_str()),
    }
}

/// The outcome of one vector.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    /// The case's name, or its request.
    pub name: String,
    /// The seed sentence it checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// Whether the module decided as expected.
    pub passed: bool,
    /// `allow` or the deny code expected.
    pub expected: String,
    /// `allow` or the deny code decided.
    pub got: String,
    /// The normalised grant that allowed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// The module's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Why the case failed beyond a different decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Runs the cases of `vectors` (those without a time at the file's `now`, else
/// `fallback_now`), stopping after the first case the module faults on: a fault
/// already fails the run, and each costs up to the call's time budget.
pub fn run_vectors(module: &PolicyModule, vectors: &Vectors, fallback_now: u64) -> Vec<CaseResult> {
    let now = vectors.default_now(fallback_now);
    let mut evaluator = Evaluator::new(module);
    let mut results = Vec::with_capacity(vectors.cases.len());
    for (i, case) in vectors.cases.iter().enumerate() {
        let result = run_case(module, &mut evaluator, TokenId::new(i64::try_from(i).unwrap_or(i64::MAX)), case, now);
        let faulted = result.faulted();
        results.push(result);
        if faulted {
            break;
        }
    }
    results
}

impl CaseResult {
    /// Whether the module faulted (trap, timeout, memory) on this case.
    pub fn faulted(&self) -> bool {
        self.got == Code::PolicyFault.as_str() || self.problem.as_deref().is_some_and(|p| p.contains("policy-fault"))
    }
}

fn run_case(module: &PolicyModule, evaluator: &mut Evaluator, key: TokenId, case: &Vector, now: u64) -> CaseResult {
    let mut result = CaseResult {
        name: case.label(),
        seed: case.seed.clone(),
        passed: false,
        expected: case.expect.clone(),
        got: String::new(),
        grant: None,
        message: None,
        problem: None,
    };
    let parsed = case.token.to_token().and_then(|t| Ok((t, case.request.to_request(now)?)));
    let (token, request) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            result.problem = Some(format!("the case does not parse: {err:#}"));
            return result;
        }
    };
    let decided = decide_case(module, evaluator, key, &token, &request);
    result.got = decided.verdict.code_str().to_owned();
    if let Verdict::Deny { message, .. } = &decided.verdict {
        result.message = Some(message.to_string());
    }
    result.grant.clone_from(&decided.grant);
    let grant_ok = match (&case.grant, &decided.grant) {
        (Some(want), got) if case.expect == "allow" && decided.verdict.is_allow() => {
            got.as_deref() == Some(want.as_str())
        }
        _ => true,
    };
    result.problem = match (decided.disagreement, grant_ok) {
        (Some(disagreement), _) => Some(disagreement),
        (None, false) => Some(format!("allowed by `{}`, expected `{}`", result.grant.as_deref().unwrap_or("?"), {
            case.grant.as_deref().unwrap_or("?")
        })),
        (None, true) => None,
    };
    result.passed = result.got == case.expect && result.problem.is_none();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Limits, Runtime};

    #[test]
    fn the_default_policy_passes_its_own_vectors_and_a_wrong_expectation_fails() {
        let module = crate::runtime::PolicyModule::embedded(&Runtime::new().unwrap(), Limits::default()).unwrap();
        let mut vectors = Vectors::from_toml(module.vectors().unwrap()).unwrap();
        let results = run_vectors(&module, &vectors, 0);
        let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        vectors.cases.truncate(1);
        vectors.cases[0].expect = "no-grant".into();
        let results = run_vectors(&module, &vectors, 0);
        assert!(!results[0].passed);
        assert_eq!(results[0].got, "allow");
    }
}
