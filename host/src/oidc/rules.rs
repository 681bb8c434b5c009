//! `[[oidc.rules]]` against a validated identity: the first rule of the
//! identity's issuer whose every claim holds wins. A claim holds when the
//! identity has it as a string equal to the rule's value or matching it as a
//! glob; a claim a rule reads that is not a string refuses the identity.

use globset::GlobMatcher;
use serde_json::Value;

use super::error::OidcError;
use super::identity::Identity;
use crate::config::{RuleConfig, claim_pattern};

/// A rule, its claim patterns compiled.
pub struct Rule {
    /// Its place in `oidc.rules`, from 1 (how logs and tokens name it).
    pub number: usize,
    /// As configured.
    pub config: RuleConfig,
    claims: Vec<(String, String, GlobMatcher)>,
}

impl Rule {
    /// Compiles `config` (validated), the `number`-th rule.
    pub fn new(number: usize, config: RuleConfig) -> Result<Rule, globset::Error> {
        let claims = config
            .claims
            .iter()
            .map(|(name, pattern)| Ok((name.clone(), pattern.clone(), claim_pattern(pattern)?)))
            .collect::<Result<_, globset::Error>>()?;
        Ok(Rule { number, config, claims })
    }

    /// How logs and the token's origin name it.
    pub fn label(&self) -> String {
        format!("#{} ({})", self.number, self.config.principal)
    }

    /// Whether `identity` meets every claim; else the first that fails, in words.
    fn check(&self, identity: &Identity) -> Result<Result<(), String>, OidcError> {
        for (name, pattern, glob) in &self.claims {
            match identity.claims.get(name) {
                None => return Ok(Err(format!("rule {}: no `{name}` claim", self.label()))),
                Some(Value::String(value)) => {
                    if value != pattern && !glob.is_match(value) {
                        let value = super::error::shown(value, 200);
                        return Ok(Err(format!("rule {}: `{name}` is `{value}`, not `{pattern}`", self.label())));
                    }
                }
                Some(_) => return Err(OidcError::ClaimType(name.clone())),
            }
        }
        Ok(Ok(()))
    }
}

/// `Rule::new` for a glob that `OidcConfig::validate` let through (it compiled it).
pub fn compile(rules: &[RuleConfig]) -> Vec<Rule> {
    rules
        .iter()
        .enumerate()
        .filter_map(|(i, config)| match Rule::new(i + 1, config.clone()) {
            Ok(rule) => Some(rule),
            Err(err) => {
                tracing::error!("oidc.rules[{i}] is left out: {err}");
                None
            }
        })
        .collect()
}

/// The first rule that matches, or why none does (each rule of the issuer, in order).
pub fn matching<'r>(rules: &'r [Rule], identity: &Identity) -> Result<&'r Rule, OidcError> {
    let mut why = Vec::new();
    for rule in rules.iter().filter(|r| r.config.issuer == identity.issuer) {
        match rule.check(identity)? {
            Ok(()) => return Ok(rule),
            Err(reason) => why.push(reason),
        }
    }
    if why.is_empty() {
        why.push(format!("no rule is for issuer `{}`", identity.issuer));
    }
    Err(OidcError::NoRule(why.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::UnixTime;

    fn rule(claims: &[(&str, &str)]) -> Rule {
        let config = RuleConfig {
            issuer: "https://issuer".into(),
            claims: claims.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            principal: "ci".into(),
            scopes: Some(vec!["artifact:view".into()]),
            resources: None,
            ttl: std::time::Duration::from_secs(60),
            max_live: 100,
        };
        Rule::new(1, config).unwrap()
    }

    fn identity(claims: serde_json::Value) -> Identity {
        Identity {
            issuer: "https://issuer".into(),
            subject: "repo:acme/web:ref:refs/heads/main".into(),
            expires_at: UnixTime::from_secs(10),
            claims: claims.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn claims_match_exactly_or_by_glob_within_segments_and_a_wrong_type_refuses() {
        let rules = [rule(&[("repository", "acme/*"), ("ref", "refs/heads/main")])];
        let ok = identity(serde_json::json!({"repository": "acme/web", "ref": "refs/heads/main"}));
        assert_eq!(matching(&rules, &ok).unwrap().number, 1);
        let deeper = identity(serde_json::json!({"repository": "acme/web/x", "ref": "refs/heads/main"}));
        assert!(matches!(matching(&rules, &deeper), Err(OidcError::NoRule(_))), "`*` stays within a segment");
        let branch = identity(serde_json::json!({"repository": "acme/web", "ref": "refs/heads/dev"}));
        let Err(OidcError::NoRule(why)) = matching(&rules, &branch) else { panic!("matched") };
        assert!(why.contains("`ref` is `refs/heads/dev`"), "{why}");
        let typed = identity(serde_json::json!({"repository": ["acme/web"], "ref": "refs/heads/main"}));
        assert!(matches!(matching(&rules, &typed), Err(OidcError::ClaimType(c)) if c == "repository"));
        let missing = identity(serde_json::json!({"ref": "refs/heads/main"}));
        assert!(matches!(matching(&rules, &missing), Err(OidcError::NoRule(_))));
    }
}
