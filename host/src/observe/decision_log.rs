//! The per-decision log line (`log.decisions`). A server installs its
//! non-blocking log writer here, and each line is formatted straight into a
//! reused buffer (text in `tracing`'s layout, or one JSON object) instead of
//! through `tracing`'s field machinery; one-shot commands log it through `tracing`.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::OnceLock;
use std::time::SystemTime;

use serde::Serialize;
use tracing_appender::non_blocking::NonBlocking;

use crate::config::LogFormat;

/// One decision, as logged: no secret, the token is named by its id.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct DecisionLine<'a> {
    /// The token's id, once the secret matched a stored token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<i64>,
    /// The token's owner, once the secret matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<&'a str>,
    /// The action asked for.
    pub action: &'a str,
    /// The resource acted on (empty before the route mapped one).
    pub resource: &'a str,
    /// `allow` or the deny code.
    pub decision: &'a str,
    /// The deciding module's name.
    pub policy_name: &'a str,
    /// The deciding module's version.
    pub policy_version: &'a str,
    /// The deciding module's SHA-256 (hex).
    pub policy_sha256: &'a str,
    /// Who signed the deciding module: a trusted key's id, `embedded`, `not-checked` or `unsigned`.
    pub policy_signer: &'a str,
    /// How long the verification took.
    pub latency_us: u64,
}

/// The installed writer and its format.
struct Sink {
    writer: NonBlocking,
    format: LogFormat,
}

static SINK: OnceLock<Sink> = OnceLock::new();

thread_local! {
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
}

/// Sends decision lines to `writer` in `format` from now on (once per process;
/// later calls change nothing). `serve` installs the writer its other log lines
/// go to, so all of them stay in one stream.
pub fn install(writer: NonBlocking, format: LogFormat) {
    let _ = SINK.set(Sink { writer, format });
}

/// Whether a line written now would go anywhere (the installed writer, or a
/// `tracing` subscriber that takes INFO here).
pub fn enabled() -> bool {
    match SINK.get() {
        Some(_) => tracing::level_filters::LevelFilter::current() >= tracing::Level::INFO,
        None => tracing::enabled!(tracing::Level::INFO),
    }
}

/// Logs `line` at INFO: through the installed writer, or else through `tracing`.
pub fn write(line: &DecisionLine<'_>) {
    let Some(sink) = SINK.get() else {
        return through_tracing(line);
    };
    if tracing::level_filters::LevelFilter::current() < tracing::Level::INFO {
        return;
    }
    LINE.with_borrow_mut(|buffer| {
        buffer.clear();
        match sink.format {
            LogFormat::Text => text(buffer, SystemTime::now(), line),
            LogFormat::Json => json(buffer, SystemTime::now(), line),
        }
        // A full queue drops the line (the writer is lossy); nothing to do here.
        let _ = sink.writer.clone().write_all(buffer);
    });
}

fn through_tracing(line: &DecisionLine<'_>) {
    tracing::info!(
        token = line.token,
        owner = line.owner,
        action = line.action,
        resource = line.resource,
        decision = line.decision,
        policy_name = line.policy_name,
        policy_version = line.policy_version,
        policy_sha256 = line.policy_sha256,
        policy_signer = line.policy_signer,
        latency_us = line.latency_us,
        "verify"
    );
}

/// `tracing`'s text layout: `TIMESTAMP  INFO verify key=value ...`, strings
/// quoted and escaped as `Debug` does (so no input can start a line of its own).
fn text(out: &mut Vec<u8>, now: SystemTime, line: &DecisionLine<'_>) {
    let _ = write!(out, "{}  INFO verify", humantime::format_rfc3339_micros(now));
    if let Some(token) = line.token {
        let _ = write!(out, " token={token}");
    }
    if let Some(owner) = line.owner {
        field(out, " owner=", owner, quoted);
    }
    field(out, " action=", line.action, quoted);
    field(out, " resource=", line.resource, quoted);
    field(out, " decision=", line.decision, quoted);
    field(out, " policy_name=", line.policy_name, bare);
    field(out, " policy_version=", line.policy_version, bare);
    field(out, " policy_sha256=", line.policy_sha256, quoted);
    field(out, " policy_signer=", line.policy_signer, bare);
    let _ = writeln!(out, " latency_us={}", line.latency_us);
}

fn field(out: &mut Vec<u8>, name: &str, value: &str, how: fn(&mut Vec<u8>, &str)) {
    out.extend_from_slice(name.as_bytes());
    how(out, value);
}

/// `"s"`, escaped as `Debug` escapes it; copied as it is when nothing needs escaping.
fn quoted(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = write!(out, "{s:?}");
    }
}

/// `s` unquoted when it is one plain word (a module's name or version), else quoted.
fn bare(out: &mut Vec<u8>, s: &str) {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'=') {
        out.extend_from_slice(s.as_bytes());
    } else {
        quoted(out, s);
    }
}

/// One JSON object: `timestamp`, `level`, `message`, then the line's fields, as
/// `tracing`'s JSON layout writes them.
fn json(out: &mut Vec<u8>, now: SystemTime, line: &DecisionLine<'_>) {
    #[derive(Serialize)]
    struct Json<'a> {
        timestamp: String,
        level: &'static str,
        message: &'static str,
        #[serde(flatten)]
        line: &'a DecisionLine<'a>,
    }
    let record =
        Json { timestamp: humantime::format_rfc3339_micros(now).to_string(), level: "INFO", message: "verify", line };
    if serde_json::to_writer(&mut *out, &record).is_ok() {
        out.push(b'\n');
    } else {
        out.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(resource: &'a str, name: &'a str) -> DecisionLine<'a> {
        DecisionLine {
            token: Some(7),
            owner: Some("ci"),
            action: "artifact:download",
            resource,
            decision: "allow",
            policy_name: name,
            policy_version: "0.1.0",
            policy_sha256: "ab12",
            policy_signer: "embedded",
            latency_us: 3,
        }
    }

    fn at() -> SystemTime {
        SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(1_764_624_401_013_649)
    }

    #[test]
    fn text_lines_follow_tracing_layout() {
        let mut out = Vec::new();
        text(&mut out, at(), &line("channel/main", "tokenscope-default"));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2025-12-01T21:26:41.013649Z  INFO verify token=7 owner=\"ci\" action=\"artifact:download\" \
             resource=\"channel/main\" decision=\"allow\" policy_name=tokenscope-default policy_version=0.1.0 \
             policy_sha256=\"ab12\" policy_signer=embedded latency_us=3\n"
        );
    }

    #[test]
    fn no_input_can_break_a_text_line_or_forge_a_field() {
        let mut out = Vec::new();
        text(&mut out, at(), &line("a\"\n2025-12-01T00:00:00Z  INFO verify decision=\"allow", "evil name\n"));
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches('\n').count(), 1, "{text}");
        assert!(text.contains(r#"resource="a\"\n2025"#) && text.contains(r#"policy_name="evil name\n""#), "{text}");
    }

    #[test]
    fn json_lines_are_one_object_with_the_indexed_fields() {
        let mut out = Vec::new();
        json(&mut out, at(), &DecisionLine { token: None, owner: None, ..line("x\ny", "p") });
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches('\n').count(), 1);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["timestamp"], "2025-12-01T21:26:41.013649Z");
        assert_eq!((value["level"].as_str(), value["message"].as_str()), (Some("INFO"), Some("verify")));
        assert_eq!((value["resource"].as_str(), value["latency_us"].as_u64()), (Some("x\ny"), Some(3)));
        assert!(value.get("token").is_none() && value.get("owner").is_none());
    }
}
