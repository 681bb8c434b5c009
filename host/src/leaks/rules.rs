//! Ready rules for the secret scanners people already run, made from the one
//! definition of a secret's shape (`tokenscope_request::secret_shape`): a
//! secretlint rule package and a detect-secrets plugin that check the checksum
//! too, a gitleaks rule and a bare regex that match the shape alone.

use std::fmt;
use std::str::FromStr;

use super::finder::{pattern, pattern_with_lookaround};
use crate::secret::{ALPHABET, CHECKSUM_LEN, PREFIX, SECRET_LEN};

/// The scanners a rule is made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleFormat {
    /// A secretlint rule package (`package.json` and `index.js`).
    Secretlint,
    /// A detect-secrets plugin file (`--plugin tokenscope_detector.py`).
    DetectSecrets,
    /// A gitleaks configuration with one rule (shape only).
    Gitleaks,
    /// The regular expression (shape only).
    Regex,
}

impl RuleFormat {
    /// Every format, in the order the help lists them.
    pub const ALL: [RuleFormat; 4] =
        [RuleFormat::Secretlint, RuleFormat::DetectSecrets, RuleFormat::Gitleaks, RuleFormat::Regex];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            RuleFormat::Secretlint => "secretlint",
            RuleFormat::DetectSecrets => "detect-secrets",
            RuleFormat::Gitleaks => "gitleaks",
            RuleFormat::Regex => "regex",
        }
    }

    /// The files of the rule, by name, as a scanner reads them.
    pub fn files(self) -> Vec<(&'static str, String)> {
        match self {
            RuleFormat::Secretlint => {
                vec![("package.json", secretlint_package()), ("index.js", secretlint_rule())]
            }
            RuleFormat::DetectSecrets => vec![("tokenscope_detector.py", detect_secrets_plugin())],
            RuleFormat::Gitleaks => vec![("gitleaks.toml", gitleaks_config())],
            RuleFormat::Regex => vec![("tokenscope.regex", format!("{}\n", pattern()))],
        }
    }
}

impl fmt::Display for RuleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RuleFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<RuleFormat, String> {
        RuleFormat::ALL.into_iter().find(|f| f.name() == text).ok_or_else(|| {
            let names: Vec<_> = RuleFormat::ALL.iter().map(|f| f.name()).collect();
            format!("unknown format `{text}`: use one of {}", names.join(", "))
        })
    }
}

/// The name the secretlint package is installed under (its rule id).
pub const SECRETLINT_PACKAGE: &str = "secretlint-rule-tokenscope";

fn alphabet() -> &'static str {
    std::str::from_utf8(ALPHABET).unwrap_or_default()
}

fn secretlint_package() -> String {
    let package = serde_json::json!({
        "name": SECRETLINT_PACKAGE,
        "version": env!("CARGO_PKG_VERSION"),
        "description": "secretlint rule: tokenscope access tokens (shape and checksum)",
        "main": "index.js",
        "license": "MIT OR Apache-2.0",
        "keywords": ["secretlint", "secretlintrule", "tokenscope"],
    });
    format!("{}\n", serde_json::to_string_pretty(&package).unwrap_or_default())
}

fn secretlint_rule() -> String {
    format!(
        r#"// secretlint rule for tokenscope access tokens, made by `tokenscope leaks rules --format secretlint`.
// Reports each `{PREFIX}` secret of the right shape whose checksum (CRC-32 of what
// precedes it, as {CHECKSUM_LEN} base62 digits) matches; lookalikes are not reported.
"use strict";

const PATTERN = /{lookaround}/g;
const ALPHABET = "{alphabet}";
const SIGNED_LEN = {signed};

const CRC_TABLE = (() => {{
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {{
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }}
  return table;
}})();

function crc32(text) {{
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}}

function checksum(text) {{
  let value = crc32(text);
  let digits = "";
  for (let i = 0; i < {CHECKSUM_LEN}; i++) {{
    digits = ALPHABET[value % 62] + digits;
    value = Math.floor(value / 62);
  }}
  return digits;
}}

function isTokenscopeSecret(text) {{
  return checksum(text.slice(0, SIGNED_LEN)) === text.slice(SIGNED_LEN);
}}

const creator = {{
  meta: {{
    id: "{SECRETLINT_PACKAGE}",
    recommended: true,
    type: "scanner",
    supportedContentTypes: ["text"],
    docs: {{ url: "https://github.com/tokenscope/tokenscope#when-a-token-leaks" }},
  }},
  messages: {{
    TOKENSCOPE_TOKEN: {{ en: (props) => `found a tokenscope access token: ${{props.TOKEN}}` }},
  }},
  create(context) {{
    const t = context.createTranslator(creator.messages);
    return {{
      file(source) {{
        // A binary file (a NUL byte in its first 8 KiB) is skipped, as git, rg,
        // detect-secrets and `tokenscope leaks scan` skip it.
        if (source.content.slice(0, 8192).includes("\u0000")) return;
        for (const match of source.content.matchAll(PATTERN)) {{
          const secret = match[1];
          if (!isTokenscopeSecret(secret)) continue;
          context.report({{
            message: t("TOKENSCOPE_TOKEN", {{ TOKEN: secret }}),
            range: [match.index, match.index + secret.length],
          }});
        }}
      }},
    }};
  }},
}};

module.exports = {{ creator, default: creator, isTokenscopeSecret }};
"#,
        lookaround = pattern_with_lookaround(),
        alphabet = alphabet(),
        signed = SECRET_LEN - CHECKSUM_LEN,
    )
}

fn detect_secrets_plugin() -> String {
    format!(
        r#""""detect-secrets plugin for tokenscope access tokens, made by
`tokenscope leaks rules --format detect-secrets`. Use it with
`detect-secrets scan --plugin tokenscope_detector.py`. Reports each `{PREFIX}` secret
of the right shape whose checksum (CRC-32 of what precedes it, as
{CHECKSUM_LEN} base62 digits) matches; lookalikes are not reported.
"""
import re
import zlib

from detect_secrets.plugins.base import RegexBasedDetector

ALPHABET = "{alphabet}"
SIGNED_LEN = {signed}


def _checksum(text):
    value = zlib.crc32(text.encode("ascii")) & 0xFFFFFFFF
    digits = ""
    for _ in range({CHECKSUM_LEN}):
        digits = ALPHABET[value % 62] + digits
        value //= 62
    return digits


def is_tokenscope_secret(text):
    return _checksum(text[:SIGNED_LEN]) == text[SIGNED_LEN:]


class TokenscopeDetector(RegexBasedDetector):
    """Scans for tokenscope access tokens."""

    secret_type = "tokenscope access token"
    denylist = [re.compile(r"{lookaround}")]

    def analyze_string(self, string):
        for secret in super().analyze_string(string):
            if is_tokenscope_secret(secret):
                yield secret
"#,
        lookaround = pattern_with_lookaround(),
        alphabet = alphabet(),
        signed = SECRET_LEN - CHECKSUM_LEN,
    )
}

fn gitleaks_config() -> String {
    format!(
        r#"# gitleaks rule for tokenscope access tokens, made by `tokenscope leaks rules --format gitleaks`.
# gitleaks cannot check the checksum: this matches the shape (`{PREFIX}` and {rest} base62
# characters at word boundaries); `tokenscope leaks scan` checks the checksum too.
title = "tokenscope"

[extend]
useDefault = true

[[rules]]
id = "tokenscope-access-token"
description = "tokenscope access token"
regex = '''{pattern}'''
keywords = ["{PREFIX}"]
tags = ["tokenscope", "access-token"]
"#,
        rest = SECRET_LEN - PREFIX.len(),
        pattern = pattern(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_names_itself_and_parses_back() {
        for format in RuleFormat::ALL {
            assert_eq!(format.name().parse::<RuleFormat>(), Ok(format));
            assert!(!format.files().is_empty());
        }
        assert!("trufflehog".parse::<RuleFormat>().unwrap_err().contains("secretlint"));
    }

    #[test]
    fn the_gitleaks_rule_is_toml_with_the_shape() {
        let files = RuleFormat::Gitleaks.files();
        let (_, text) = files.first().unwrap();
        let config: toml::Value = toml::from_str(text).unwrap();
        let rule = config.get("rules").and_then(|r| r.get(0)).unwrap();
        assert_eq!(rule.get("regex").and_then(|r| r.as_str()), Some(pattern().as_str()));
    }
}
