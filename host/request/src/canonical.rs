//! The canonical form of a request path, on which every check is decided: the
//! query is cut off, escapes are decoded exactly once, and anything that another
//! server could read differently (dot segments, encoded slashes or percent signs,
//! empty segments, backslashes, control characters) is refused, not repaired.

use std::fmt;

use percent_encoding::percent_decode_str;
use thiserror::Error;

/// The longest path (before decoding, without the query) a check accepts.
pub const MAX_PATH_BYTES: usize = 4096;

/// A decoded path that starts with `/`, has no empty inner segments, no `.` or
/// `..` segments, no backslash and no control character. Routes and public
/// prefixes are matched on this form only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CanonicalPath(String);

/// Why a path has no canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum PathError {
    /// It does not start with `/`.
    #[error("the path does not start with `/`")]
    NotAbsolute,
    /// It is longer than `MAX_PATH_BYTES`.
    #[error("the path is longer than {MAX_PATH_BYTES} bytes")]
    TooLong,
    /// A `%` is not followed by two hex digits.
    #[error("the path has a `%` that is not followed by two hex digits")]
    BadEscape,
    /// It has an encoded `/`.
    #[error("the path has an encoded `/` (`%2F`)")]
    EncodedSlash,
    /// It has an encoded `%`, which a second decoding would read again.
    #[error("the path has an encoded `%` (`%25`), which a second decoding would read again")]
    EncodedPercent,
    /// It does not decode to UTF-8.
    #[error("the path does not decode to UTF-8")]
    NotUtf8,
    /// It has a control character.
    #[error("the path has a control character")]
    Control,
    /// It has a backslash.
    #[error("the path has a backslash")]
    Backslash,
    /// It has a `.` or `..` segment, in any spelling.
    #[error("the path has a `.` or `..` segment")]
    DotSegment,
    /// It has an empty segment (`//`).
    #[error("the path has an empty segment (`//`)")]
    EmptySegment,
}

impl CanonicalPath {
    /// The canonical form of `raw`, a request target's path (a query or fragment
    /// after `?` or `#` is ignored).
    pub fn parse(raw: &str) -> Result<CanonicalPath, PathError> {
        let path = raw.split(['?', '#']).next().unwrap_or("");
        if path.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong);
        }
        if !path.starts_with('/') {
            return Err(PathError::NotAbsolute);
        }
        check_escapes(path)?;
        let decoded = percent_decode_str(path).decode_utf8().map_err(|_| PathError::NotUtf8)?;
        if decoded.chars().any(char::is_control) {
            return Err(PathError::Control);
        }
        if decoded.contains('\\') {
            return Err(PathError::Backslash);
        }
        let mut segments = decoded.split('/').skip(1).peekable();
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            if segment.is_empty() && !last {
                return Err(PathError::EmptySegment);
            }
            // `..;x` is a dot segment to servers that cut path parameters (Tomcat).
            let bare = segment.split(';').next().unwrap_or(segment);
            if bare == "." || bare == ".." {
                return Err(PathError::DotSegment);
            }
        }
        Ok(CanonicalPath(decoded.into_owned()))
    }

    /// The decoded path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Every `%` starts a two-hex-digit escape that encodes neither `/` nor `%`.
fn check_escapes(path: &str) -> Result<(), PathError> {
    let bytes = path.as_bytes();
    let mut at = 0;
    while let Some(offset) = bytes.get(at..).and_then(|rest| rest.iter().position(|b| *b == b'%')) {
        let start = at + offset;
        let hex = bytes.get(start + 1..start + 3).ok_or(PathError::BadEscape)?;
        let text = std::str::from_utf8(hex).map_err(|_| PathError::BadEscape)?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PathError::BadEscape);
        }
        match u8::from_str_radix(text, 16).map_err(|_| PathError::BadEscape)? {
            b'/' => return Err(PathError::EncodedSlash),
            b'%' => return Err(PathError::EncodedPercent),
            _ => {}
        }
        at = start + 3;
    }
    Ok(())
}

impl fmt::Debug for CanonicalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A path may carry a psm path token: show its shape, not its text.
        write!(f, "CanonicalPath({} bytes)", self.0.len())
    }
}

/// A configured public prefix, itself canonical: it covers the path it names and
/// every path below it, segment by segment (`/public` covers `/public/x`, never
/// `/publicity`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicPrefix {
    /// Without a trailing `/`, except for the root.
    base: String,
}

impl PublicPrefix {
    /// Reads a configured public prefix (a trailing `/` is allowed and means the same).
    pub fn parse(text: &str) -> Result<PublicPrefix, PathError> {
        let canonical = CanonicalPath::parse(text)?;
        if canonical.as_str() != text {
            // `/a%20b` would be matched as `/a b`: say it that way in the config.
            return Err(PathError::BadEscape);
        }
        let base = match text.trim_end_matches('/') {
            "" => "/".to_owned(),
            base => base.to_owned(),
        };
        Ok(PublicPrefix { base })
    }

    /// Whether `path` is this prefix or lies below it, segment by segment.
    pub fn covers(&self, path: &CanonicalPath) -> bool {
        let path = path.as_str();
        if self.base == "/" {
            return true;
        }
        path.strip_prefix(self.base.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// The prefix, canonical.
    pub fn as_str(&self) -> &str {
        &self.base
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn canon(raw: &str) -> Result<String, PathError> {
        CanonicalPath::parse(raw).map(|p| p.as_str().to_owned())
    }

    #[test]
    fn plain_paths_are_their_own_canonical_form() {
        assert_eq!(canon("/"), Ok("/".into()));
        assert_eq!(canon("/api/repo/main/noarch/x.conda"), Ok("/api/repo/main/noarch/x.conda".into()));
        assert_eq!(canon("/public/"), Ok("/public/".into()));
        assert_eq!(canon("/a/b?x=/../y#z"), Ok("/a/b".into()));
    }

    #[test]
    fn escapes_are_decoded_once() {
        assert_eq!(canon("/a%20b/%41"), Ok("/a b/A".into()));
        assert_eq!(canon("/caf%C3%A9"), Ok("/café".into()));
    }

    #[test]
    fn every_dot_segment_spelling_is_refused() {
        for raw in [
            "/public/../api",
            "/public/%2e%2e/api",
            "/public/%2E%2E/api",
            "/public/.%2e/api",
            "/public/%2e./api",
            "/public/./api",
            "/public/%2e/api",
            "/public/..",
            "/..",
            "/public/..;/api",
            "/public/.;x/api",
        ] {
            assert_eq!(canon(raw), Err(PathError::DotSegment), "{raw}");
        }
        assert_eq!(canon("/public//../api"), Err(PathError::EmptySegment));
        // Dots inside a name are names.
        assert_eq!(canon("/a/..b/c.../.d"), Ok("/a/..b/c.../.d".into()));
    }

    #[test]
    fn ambiguous_spellings_are_refused() {
        assert_eq!(canon("/public%2f..%2fapi"), Err(PathError::EncodedSlash));
        assert_eq!(canon("/public%2F../api"), Err(PathError::EncodedSlash));
        assert_eq!(canon("/public/%252e%252e/api"), Err(PathError::EncodedPercent));
        assert_eq!(canon("/a//b"), Err(PathError::EmptySegment));
        assert_eq!(canon("//a"), Err(PathError::EmptySegment));
        assert_eq!(canon("/a\\..\\b"), Err(PathError::Backslash));
        assert_eq!(canon("/a%5c..%5cb"), Err(PathError::Backslash));
        assert_eq!(canon("/a%00b"), Err(PathError::Control));
        assert_eq!(canon("/a%0d%0ab"), Err(PathError::Control));
        assert_eq!(canon("/a%zz"), Err(PathError::BadEscape));
        assert_eq!(canon("/a%4"), Err(PathError::BadEscape));
        assert_eq!(canon("/a%ff"), Err(PathError::NotUtf8));
        assert_eq!(canon("api/x"), Err(PathError::NotAbsolute));
        assert_eq!(canon("http://evil/x"), Err(PathError::NotAbsolute));
        assert_eq!(canon(""), Err(PathError::NotAbsolute));
        assert_eq!(canon(&format!("/{}", "a".repeat(MAX_PATH_BYTES))), Err(PathError::TooLong));
    }

    #[test]
    fn public_prefixes_cover_whole_segments() {
        let public = PublicPrefix::parse("/public/").unwrap();
        let covers = |raw: &str| public.covers(&CanonicalPath::parse(raw).unwrap());
        assert!(covers("/public/x.css"));
        assert!(covers("/public"));
        assert!(covers("/public/"));
        assert!(!covers("/publicity/x"));
        assert!(!covers("/api/public/x"));
        assert!(PublicPrefix::parse("/public/../").is_err());
        assert!(PublicPrefix::parse("/a%20b").is_err());
        assert!(PublicPrefix::parse("public").is_err());
        assert!(PublicPrefix::parse("/").unwrap().covers(&CanonicalPath::parse("/x").unwrap()));
    }

    const REENCODE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'?').add(b'#').add(b'%');

    proptest! {
        /// Whatever is accepted is a fixed point: canonicalising the canonical
        /// form (re-encoded) gives it back, and it never holds a dot segment.
        #[test]
        fn canonical_paths_are_stable_and_clean(raw in "(/([a-zA-Z0-9._~;-]|%[0-9a-fA-F]{2}){0,6}){1,6}/?") {
            if let Ok(path) = CanonicalPath::parse(&raw) {
                let text = path.as_str();
                prop_assert!(text.starts_with('/'));
                prop_assert!(!text.split('/').any(|s| s == "." || s == ".."));
                prop_assert!(!text.contains("//"));
                let again = percent_encoding::utf8_percent_encode(text, REENCODE).to_string();
                prop_assert_eq!(CanonicalPath::parse(&again).map(|p| p.as_str().to_owned()), Ok(text.to_owned()));
            }
        }

        #[test]
        fn no_input_panics(raw in "\\PC{0,64}") {
            let _ = CanonicalPath::parse(&raw);
        }
    }
}
