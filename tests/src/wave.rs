//! The contract's values written in WAVE, the WebAssembly Value Encoding that
//! `wasmtime run --invoke` reads (records `{field: value}`, variants `case(payload)`,
//! enums and options by name, strings in Rust-like quotes), and the decisions it prints read back.

use std::fmt::Write;

use anyhow::{Context, Result, bail};
use tokenscope::contract::{Access, Grants, Level, Request, ResourceGrant, Token};

/// A string literal: quotes, backslashes and control characters escaped.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn strings(list: &[String]) -> String {
    format!("[{}]", list.iter().map(|s| string(s)).collect::<Vec<_>>().join(", "))
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Read => "read",
        Level::Write => "write",
        Level::Manage => "manage",
    }
}

/// A `resource-grant` record.
pub fn grant(grant: &ResourceGrant) -> String {
    let access = match &grant.access {
        Access::Level(l) => format!("level({})", level(*l)),
        Access::Actions(actions) => format!("actions({})", strings(actions)),
    };
    format!("{{%resource: {}, access: {access}}}", string(&grant.resource))
}

/// A `list<resource-grant>`.
pub fn rights(list: &[ResourceGrant]) -> String {
    format!("[{}]", list.iter().map(grant).collect::<Vec<_>>().join(", "))
}

/// A `grants` variant.
pub fn grants(grants: &Grants) -> String {
    match grants {
        Grants::Resources(list) => format!("resources({})", rights(list)),
        Grants::Scopes(list) => format!("scopes({})", strings(list)),
    }
}

/// A `token` record.
pub fn token(token: &Token) -> String {
    format!(
        "{{grants: {}, owner-rights: {}, expires-at: {}, revoked: {}}}",
        grants(&token.grants),
        rights(&token.owner_rights),
        token.expires_at.map_or_else(|| "none".to_owned(), |at| format!("some({at})")),
        token.revoked
    )
}

/// A `request` record.
pub fn request(request: &Request) -> String {
    format!("{{action: {}, %resource: {}, now: {}}}", string(&request.action), string(&request.resource), request.now)
}

/// A decision or an issuance result as printed, reduced to what hosts must agree on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Printed {
    /// `allow({grant: N})`.
    Allow(u32),
    /// `deny({code: C, message: "…"})` or `err({code: C, message: "…"})`.
    Refused {
        /// The code, e.g. `no-grant`.
        code: String,
        /// The reason.
        message: String,
    },
    /// `ok(…)`: the normalised grants, as printed.
    Ok(String),
}

/// Reads a `decision` or a `result<grants, denial>` as `wasmtime` prints it.
pub fn printed(text: &str) -> Result<Printed> {
    if let Some(rest) = text.strip_prefix("allow({grant: ") {
        let n = rest.strip_suffix("})").context("an allow that does not end in `})`")?;
        return Ok(Printed::Allow(n.parse().with_context(|| format!("grant index {n:?}"))?));
    }
    if let Some(rest) = text.strip_prefix("ok(") {
        return Ok(Printed::Ok(rest.strip_suffix(')').context("an ok that does not end in `)`")?.to_owned()));
    }
    let Some(rest) = text.strip_prefix("deny({code: ").or_else(|| text.strip_prefix("err({code: ")) else {
        bail!("not a decision: {text}");
    };
    let (code, rest) = rest.split_once(", message: ").context("a denial without a message")?;
    let quoted = rest.strip_suffix("})").context("a denial that does not end in `})`")?;
    Ok(Printed::Refused { code: code.to_owned(), message: unquote(quoted)? })
}

/// The text of a WAVE string literal.
fn unquote(quoted: &str) -> Result<String> {
    let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')).context("not a string literal")?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                let code = u32::from_str_radix(&hex, 16).with_context(|| format!("escape \\u{{{hex}}}"))?;
                out.push(char::from_u32(code).context("an escape that is no char")?);
            }
            other => bail!("unknown escape \\{other:?}"),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_through_the_escapes() {
        for s in ["plain", "a \"quoted\" `word`", "back\\slash", "line\nbreak\ttab", "nul\u{0}bell\u{7}", "ünïcode"] {
            assert_eq!(unquote(&string(s)).unwrap(), s);
        }
    }

    #[test]
    fn decisions_are_read_back() {
        assert_eq!(printed("allow({grant: 3})").unwrap(), Printed::Allow(3));
        assert_eq!(
            printed(r#"deny({code: no-grant, message: "no `x`, \"y\""})"#).unwrap(),
            Printed::Refused { code: "no-grant".into(), message: "no `x`, \"y\"".into() }
        );
        assert!(printed("allow(3)").is_err() && printed("").is_err());
    }
}
