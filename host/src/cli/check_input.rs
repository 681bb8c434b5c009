//! What `tokenscope check` decides, as read from flags or from a TOML/JSON file,
//! and its conversion to the contract's `token` and `request`.
//!
//! ```toml
//! [token]
//! scopes = ["artifact:download"]     # or: grants = ["channel/main=write"]
//! owner_rights = ["channel/main=read"]
//! expires_at = "2027-01-01"          # optional
//! revoked = false                    # optional
//!
//! [request]
//! action = "artifact:download"
//! resource = "channel/main"
//! now = "2026-11-23T12:00:00Z"       # optional, default: the current time
//! ```

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

use crate::grant_text::{grants_from_texts, parse_grant};
use crate::runtime::{Request, Token};
use crate::time::{now, parse_time};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInput {
    pub token: TokenSpec,
    pub request: RequestSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSpec {
    /// Scope strings (psm scope tokens, venafi scopes).
    pub scopes: Vec<String>,
    /// Resource grants, `RESOURCE=LEVEL` or `RESOURCE=ACTION[,ACTION]`.
    pub grants: Vec<String>,
    /// The owner's current rights, in the same form as `grants`.
    pub owner_rights: Vec<String>,
    pub expires_at: Option<String>,
    pub revoked: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    pub action: String,
    #[serde(default = "root")]
    pub resource: String,
    #[serde(default)]
    pub now: Option<String>,
}

fn root() -> String {
    "/".to_owned()
}

impl CheckInput {
    /// Reads a `.toml` or `.json` file (by extension; otherwise by its first character).
    pub fn from_file(path: &Path) -> Result<CheckInput> {
        let text = std::fs::read_to_string(path).with_context(|| format!("failed to read `{}`", path.display()))?;
        let is_json = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => true,
            Some("toml") => false,
            _ => text.trim_start().starts_with('{'),
        };
        if is_json {
            serde_json::from_str(&text)
                .with_context(|| format!("`{}` is not a valid check file (JSON)", path.display()))
        } else {
            toml::from_str(&text).with_context(|| format!("`{}` is not a valid check file (TOML)", path.display()))
        }
    }

    /// The contract's token and request.
    pub fn to_contract(&self) -> Result<(Token, Request)> {
        let spec = &self.token;
        let grants = grants_from_texts(&spec.scopes, &spec.grants)?;
        let owner_rights = spec.owner_rights.iter().map(|g| parse_grant(g)).collect::<Result<_>>()?;
        let expires_at = spec.expires_at.as_deref().map(parse_time).transpose().context("bad token expiry")?;
        let token = Token { grants, owner_rights, expires_at, revoked: spec.revoked };
        let now = match &self.request.now {
            Some(text) => parse_time(text).context("bad request time")?,
            None => now(),
        };
        let request = Request { action: self.request.action.clone(), resource: self.request.resource.clone(), now };
        Ok((token, request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Grants;

    #[test]
    fn toml_check_file_reads() {
        let input: CheckInput = toml::from_str(
            "[token]\nscopes = [\"artifact\"]\nowner_rights = [\"/=read\"]\n[request]\naction = \"artifact:view\"\nresource = \"channel/a\"\nnow = \"@5\"\n",
        )
        .unwrap();
        let (token, request) = input.to_contract().unwrap();
        assert!(matches!(token.grants, Grants::Scopes(ref s) if s == &["artifact"]));
        assert_eq!(request.now, 5);
    }

    #[test]
    fn both_kinds_of_grant_are_refused() {
        let input = CheckInput {
            token: TokenSpec {
                scopes: vec!["artifact".into()],
                grants: vec!["channel/a=read".into()],
                ..TokenSpec::default()
            },
            request: RequestSpec { action: "artifact:view".into(), resource: "channel/a".into(), now: None },
        };
        assert!(input.to_contract().is_err());
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(toml::from_str::<CheckInput>("[token]\nscope = [\"a\"]\n[request]\naction = \"x\"\n").is_err());
    }
}
