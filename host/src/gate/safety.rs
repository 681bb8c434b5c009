//! The host's own safety vectors, run against every module whatever vectors it
//! ships: for actions spread over its catalog, a token that would otherwise be
//! allowed must be denied when it is expired (`expired`), revoked (`revoked`),
//! carries no grant, or its owner holds no right; and an action outside the
//! catalog is denied. Both decision paths are asked.

use super::catalog::{ROOT_KIND, depth};
use crate::contract::{Access, CatalogEntry, Grants, Level, Request, ResourceGrant, Token};
use crate::ids::TokenId;
use crate::runtime::{Evaluator, PolicyModule};
use crate::vectors::{CaseResult, decide_case};

/// How many catalog actions are probed.
const PROBES: usize = 12;
/// The request time of every safety case.
const NOW: u64 = 1_800_000_000;

/// Runs the safety vectors; every result names what it checked.
pub fn run(module: &PolicyModule) -> Vec<CaseResult> {
    let mut evaluator = Evaluator::new(module);
    let catalog = module.catalog();
    let step = catalog.len().div_ceil(PROBES).max(1);
    let mut results = Vec::new();
    let mut key = 0;
    for entry in catalog.iter().step_by(step) {
        let Some(resource) = target_path(module, entry) else { continue };
        let request = Request { action: entry.action.clone(), resource, now: NOW };
        for (what, token, expect) in cases() {
            key += 1;
            let decided = decide_case(module, &mut evaluator, TokenId::new(key), &token, &request);
            let got = decided.verdict.code_str();
            let passed = match expect {
                Some(code) => got == code,
                None => !decided.verdict.is_allow(),
            } && decided.disagreement.is_none();
            let result = CaseResult {
                name: format!("{what}: `{}` on `{}`", request.action, request.resource),
                seed: None,
                passed,
                expected: expect.unwrap_or("a deny").to_owned(),
                got: got.to_owned(),
                grant: decided.grant,
                message: None,
                problem: decided.disagreement,
            };
            let faulted = result.faulted();
            results.push(result);
            if faulted {
                return results;
            }
        }
    }
    key += 1;
    let unknown = Request { action: "tokenscope-safety:not-in-any-catalog".into(), resource: "/".into(), now: NOW };
    let decided = decide_case(module, &mut evaluator, TokenId::new(key), &live(root_manage()), &unknown);
    results.push(CaseResult {
        name: "an action outside the catalog is denied".into(),
        seed: None,
        passed: !decided.verdict.is_allow() && decided.disagreement.is_none(),
        expected: "a deny".into(),
        got: decided.verdict.code_str().into(),
        grant: None,
        message: None,
        problem: decided.disagreement,
    });
    results
}

fn root_manage() -> Grants {
    Grants::Resources(vec![ResourceGrant { resource: String::new(), access: Access::Level(Level::Manage) }])
}

fn live(grants: Grants) -> Token {
    Token {
        grants,
        owner_rights: vec![ResourceGrant { resource: String::new(), access: Access::Level(Level::Manage) }],
        expires_at: None,
        revoked: false,
    }
}

/// (what is checked, the token, the deny code required, or `None` for any deny)
fn cases() -> Vec<(&'static str, Token, Option<&'static str>)> {
    let expired = Token { expires_at: Some(NOW - 1), ..live(root_manage()) };
    let revoked = Token { revoked: true, ..live(root_manage()) };
    let ownerless = Token { owner_rights: Vec::new(), ..live(root_manage()) };
    vec![
        ("an expired token is denied as expired", expired, Some("expired")),
        ("a revoked token is denied as revoked", revoked, Some("revoked")),
        ("a token without resource grants is denied", live(Grants::Resources(Vec::new())), None),
        ("a token without scopes is denied", live(Grants::Scopes(Vec::new())), None),
        ("a token whose owner holds nothing is denied", ownerless, None),
    ]
}

/// A path to a node of the first kind `entry` acts on: `kind/safety` segments
/// down the first-parent chain, or `/` for the root.
fn target_path(module: &PolicyModule, entry: &CatalogEntry) -> Option<String> {
    let target = entry.targets.first()?;
    depth(module, target)?;
    let mut segments = Vec::new();
    let mut current = target.as_str();
    while current != ROOT_KIND {
        segments.push(format!("{current}/safety"));
        match module.resource_kinds().iter().find(|k| k.name == current)?.parents.first() {
            Some(parent) => current = parent,
            None => break,
        }
    }
    segments.reverse();
    Some(if segments.is_empty() { "/".to_owned() } else { segments.join("/") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Limits, Runtime};

    #[test]
    fn the_default_policy_passes_the_safety_vectors() {
        let module = PolicyModule::embedded(&Runtime::new().unwrap(), Limits::default()).unwrap();
        let results = run(&module);
        assert!(results.len() > 50, "{}", results.len());
        let failed: Vec<_> = results.iter().filter(|r| !r.passed).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        let entry = module.catalog().iter().find(|e| e.action == "create-scan").unwrap();
        assert_eq!(target_path(&module, entry).as_deref(), Some("vault/safety"));
    }
}
