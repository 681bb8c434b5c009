//! One decision case in text form, a token and a request, and its conversion to
//! the contract's `token` and `request`. `tokenscope check` reads it from flags or
//! a TOML/JSON file; test vectors and recorded live requests are lists of it.
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
use serde::{Deserialize, Serialize};

use crate::contract::{Grants, Request, ResourceGrant, Token};
use crate::grant_text::{grants_from_texts, parse_grant, print_all, print_grant};
use crate::time::UnixTime;

/// Unix seconds from the text forms `UnixTime::parse` reads (cases meet the WIT edge).
fn parse_time(text: &str) -> Result<u64> {
    UnixTime::parse(text).map(UnixTime::secs)
}

/// A check file (`tokenscope check --file`): one token and one request.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInput {
    /// The token, as written.
    pub token: TokenSpec,
    /// The request, as written.
    pub request: RequestSpec,
}

/// A token as files write it: scopes xor resource grants, the owner's rights, its state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenSpec {
    /// Scope strings (psm scope tokens, venafi scopes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Resource grants, `RESOURCE=LEVEL` or `RESOURCE=ACTION[,ACTION]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<String>,
    /// The owner's current rights, in the same form as `grants`.
    pub owner_rights: Vec<String>,
    /// When it expires: RFC 3339, a date or `@UNIX`; none never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Whether it is revoked.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
}

/// A request as files write it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// The catalog action asked for.
    pub action: String,
    /// The resource it is asked on (default: the root).
    #[serde(default = "root")]
    pub resource: String,
    /// When it is asked: RFC 3339, a date or `@UNIX` (default: the file's `now`, else now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
}

fn root() -> String {
    "/".to_owned()
}

impl TokenSpec {
    /// The contract's token.
    pub fn to_token(&self) -> Result<Token> {
        let grants = grants_from_texts(&self.scopes, &self.grants)?;
        let owner_rights = self.owner_rights.iter().map(|g| parse_grant(g)).collect::<Result<_>>()?;
        let expires_at = self.expires_at.as_deref().map(parse_time).transpose().context("bad token expiry")?;
        Ok(Token { grants, owner_rights, expires_at, revoked: self.revoked })
    }

    /// The text form of a token's grants and state (for recording live requests).
    pub fn of(grants: &Grants, owner_rights: &[ResourceGrant], expires_at: Option<u64>, revoked: bool) -> TokenSpec {
        let (scopes, grants) = match grants {
            Grants::Scopes(_) => (print_all(grants), Vec::new()),
            Grants::Resources(_) => (Vec::new(), print_all(grants)),
        };
        TokenSpec {
            scopes,
            grants,
            owner_rights: owner_rights.iter().map(print_grant).collect(),
            expires_at: expires_at.map(|t| format!("@{t}")),
            revoked,
        }
    }
}

impl RequestSpec {
    /// The contract's request; `now` when the spec names no time.
    pub fn to_request(&self, default_now: u64) -> Result<Request> {
        let now = match &self.now {
            Some(text) => parse_time(text).context("bad request time")?,
            None => default_now,
        };
        Ok(Request { action: self.action.clone(), resource: self.resource.clone(), now })
    }
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

    /// The contract's token and request (the request at the current time unless it names one).
    pub fn to_contract(&self) -> Result<(Token, Request)> {
        Ok((self.token.to_token()?, self.request.to_request(UnixTime::now().secs())?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_token_prints_back_to_the_spec_it_came_from() {
        let spec = TokenSpec {
            grants: vec!["channel/main=write".into(), "vault/acme=create-scan".into()],
            owner_rights: vec!["/=manage".into()],
            expires_at: Some("@1800000000".into()),
            ..TokenSpec::default()
        };
        let token = spec.to_token().unwrap();
        assert_eq!(TokenSpec::of(&token.grants, &token.owner_rights, token.expires_at, token.revoked), spec);
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(toml::from_str::<CheckInput>("[token]\nscope = [\"a\"]\n[request]\naction = \"x\"\n").is_err());
    }
}
