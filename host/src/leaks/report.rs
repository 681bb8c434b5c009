//! A leak report's body, as GitHub's secret scanning partner format has it: a
//! JSON array of `{"token", "type", "url", "source"}` (other fields allowed, the
//! format may grow), at most `MAX_ENTRIES` entries, each field bounded and free of
//! control characters. A refusal names line and column, never what was sent.

use serde::Deserialize;

/// The most entries one report may carry.
pub const MAX_ENTRIES: usize = 1000;

/// One entry of a report. Its `Debug` form shows the secret's hint only.
#[derive(Clone, Deserialize)]
pub struct LeakReport {
    /// The secret found.
    pub token: String,
    /// What the reporter calls it (echoed back).
    #[serde(rename = "type")]
    pub kind: String,
    /// Where it was found.
    pub url: String,
    /// What kind of place that is (`content`, `commit`, `issue`, ...).
    pub source: String,
}

impl std::fmt::Debug for LeakReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeakReport")
            .field("token", &crate::secret::hint_of(&self.token))
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("source", &self.source)
            .finish()
    }
}

/// Why a body is not a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BadReport {
    /// Not an array of entries (where the reading stopped).
    Malformed {
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
    },
    /// More than `MAX_ENTRIES` entries.
    TooMany,
    /// A field too long, or with control characters: which.
    Field(&'static str, usize),
}

impl std::fmt::Display for BadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadReport::Malformed { line, column } => write!(
                f,
                "the body is not an array of {{\"token\", \"type\", \"url\", \"source\"}} (line {line}, column {column})"
            ),
            BadReport::TooMany => write!(f, "a report carries at most {MAX_ENTRIES} entries"),
            BadReport::Field(what, max) => {
                write!(f, "an entry's `{what}` is longer than {max} characters or has control characters")
            }
        }
    }
}

/// The entries of `body`, or why it is not a report.
pub fn parse_report(body: &[u8]) -> Result<Vec<LeakReport>, BadReport> {
    let entries: Vec<LeakReport> =
        serde_json::from_slice(body).map_err(|e| BadReport::Malformed { line: e.line(), column: e.column() })?;
    if entries.len() > MAX_ENTRIES {
        return Err(BadReport::TooMany);
    }
    for entry in &entries {
        for (what, text, max) in [
            ("token", &entry.token, 512),
            ("type", &entry.kind, 128),
            ("url", &entry.url, 2048),
            ("source", &entry.source, 64),
        ] {
            if text.chars().count() > max || text.chars().any(char::is_control) {
                return Err(BadReport::Field(what, max));
            }
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_parse_and_bad_ones_say_why_without_echoing() {
        let ok =
            parse_report(br#"[{"token": "tks_x", "type": "t", "url": "https://x", "source": "commit", "extra": 1}]"#)
                .unwrap();
        assert_eq!((ok.len(), ok.first().map(|e| e.source.as_str())), (1, Some("commit")));
        let secret = crate::secret::Secret::generate().unwrap();
        let entry = LeakReport { token: secret.expose().into(), kind: "t".into(), url: "u".into(), source: "s".into() };
        assert!(!format!("{entry:?}").contains(secret.expose()), "Debug shows the hint only");
        assert_eq!(parse_report(b"[]").unwrap().len(), 0);
        let bad = parse_report(br#"[{"token": "tks_secret", "type": 5}]"#).unwrap_err();
        assert!(matches!(bad, BadReport::Malformed { line: 1, .. }) && !bad.to_string().contains("tks_"));
        let control = parse_report(br#"[{"token": "a", "type": "t", "url": "u\n", "source": "s"}]"#).unwrap_err();
        assert_eq!(control, BadReport::Field("url", 2048));
        let many = format!("[{}]", vec![r#"{"token":"","type":"","url":"","source":""}"#; 1001].join(","));
        assert_eq!(parse_report(many.as_bytes()).unwrap_err(), BadReport::TooMany);
    }
}
