//! Test vectors: cases of (token, request, expected decision) that a policy
//! module ships with (TOML, embedded in the component) and must pass before it
//! goes live. Recorded live requests (JSONL) use the same case format, with the
//! decision that was observed as the expectation.

mod run;

pub use run::{CaseResult, Decided, decide_case, run_vectors};

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::case::{RequestSpec, TokenSpec};
use crate::time::UnixTime;

/// The most cases one vectors file may hold.
pub const MAX_CASES: usize = 10_000;

/// A file of cases.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vectors {
    /// The default request time of every case (RFC 3339, a date or `@UNIX`).
    pub now: Option<String>,
    /// The cases, in file order.
    #[serde(default, rename = "case")]
    pub cases: Vec<Vector>,
}

/// One case.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Vector {
    /// A short name; the request is shown when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The sentence of a seed description or design rule this case checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// The token.
    pub token: TokenSpec,
    /// The request.
    pub request: RequestSpec,
    /// `allow`, or the deny code expected.
    pub expect: String,
    /// For an allow: the normalised grant that must be the one that matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<String>,
    /// For recorded requests: the digest of the module that decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

impl Vector {
    /// How the case is named in reports.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| format!("{} on {}", self.request.action, self.request.resource))
    }
}

impl Vectors {
    /// Reads vectors from TOML text (`now` and `[[case]]` tables).
    pub fn from_toml(text: &str) -> Result<Vectors> {
        let vectors: Vectors = toml::from_str(text).context("the vectors are not valid TOML of the vectors format")?;
        vectors.validate()
    }

    /// Reads JSON lines, one case each (a recording of live requests).
    pub fn from_jsonl(text: &str) -> Result<Vectors> {
        let mut cases = Vec::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let case: Vector = serde_json::from_str(line).with_context(|| format!("line {} is not a case", i + 1))?;
            cases.push(case);
        }
        Vectors { now: None, cases }.validate()
    }

    /// Reads a `.jsonl` file as JSON lines and anything else as TOML.
    pub fn from_file(path: &Path) -> Result<Vectors> {
        let text = std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        let jsonl = path.extension().is_some_and(|e| e == "jsonl" || e == "ndjson");
        let parsed = if jsonl { Self::from_jsonl(&text) } else { Self::from_toml(&text) };
        parsed.with_context(|| format!("`{}` holds no usable vectors", path.display()))
    }

    fn validate(self) -> Result<Vectors> {
        if self.cases.len() > MAX_CASES {
            bail!("{} cases is more than the {MAX_CASES} a vectors file may hold", self.cases.len());
        }
        if let Some(now) = &self.now {
            UnixTime::parse(now).context("bad `now`")?;
        }
        Ok(self)
    }

    /// The default request time: the file's `now`, else `fallback`.
    pub fn default_now(&self, fallback: u64) -> u64 {
        self.now.as_deref().and_then(|t| UnixTime::parse(t).ok()).map_or(fallback, UnixTime::secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_jsonl_read_the_same_case() {
        let toml = Vectors::from_toml(
            r#"now = "@100"
[[case]]
name = "reads"
token = { scopes = ["artifact"], owner_rights = ["/=read"] }
request = { action = "artifact:view", resource = "channel/a" }
expect = "allow"
"#,
        )
        .unwrap();
        assert_eq!(toml.default_now(0), 100);
        let line = serde_json::to_string(&toml.cases[0]).unwrap();
        let jsonl = Vectors::from_jsonl(&format!("{line}\n\n")).unwrap();
        assert_eq!(jsonl.cases, toml.cases);
    }

    #[test]
    fn malformed_vectors_are_errors_naming_the_problem() {
        assert!(Vectors::from_toml("[[case]]\nexpect = \"allow\"\n").is_err());
        assert!(Vectors::from_toml("now = \"yesterday\"\n").is_err());
        let err = Vectors::from_jsonl("{}\n").unwrap_err();
        assert!(format!("{err:#}").contains("line 1"), "{err:#}");
    }

    #[test]
    fn the_default_policy_vectors_parse() {
        let text = crate::runtime::embedded_vectors(crate::runtime::DEFAULT_POLICY).unwrap().unwrap();
        let vectors = Vectors::from_toml(&text).unwrap();
        assert!(vectors.cases.len() >= 60, "{}", vectors.cases.len());
        assert!(vectors.cases.iter().all(|c| c.seed.is_some()), "every shipped case names its seed");
    }
}
