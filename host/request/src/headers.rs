//! The headers of a check request as the transport holds them (hyper's map in
//! the server, `wasi:http` fields in the gateway), and how one header is read:
//! visible ASCII, sent at most once.

use crate::refusal::Refusal;

/// How often a header was sent, and its value when once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent<'a> {
    /// Not at all.
    Not,
    /// Once, with this value.
    Once(&'a [u8]),
    /// More than once.
    Repeated,
}

impl<'a> Sent<'a> {
    /// From the values of a header in the order received.
    pub fn of(mut values: impl Iterator<Item = &'a [u8]>) -> Sent<'a> {
        match (values.next(), values.next()) {
            (None, _) => Sent::Not,
            (Some(one), None) => Sent::Once(one),
            (Some(_), Some(_)) => Sent::Repeated,
        }
    }
}

/// The headers of a check request, as the transport holds them.
pub trait Headers {
    /// Whether the header `name` (lowercase) was sent, once (with its value) or more often.
    fn values(&self, name: &str) -> Sent<'_>;
}

/// The one value of header `name`, if sent: visible ASCII, sent at most once.
pub(crate) fn single<'h>(headers: &'h impl Headers, name: &str) -> Result<Option<&'h str>, Refusal> {
    match headers.values(name) {
        Sent::Not => Ok(None),
        Sent::Once(one) => std::str::from_utf8(one)
            .ok()
            .filter(|v| v.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)))
            .map(|v| Some(v.trim()))
            .ok_or_else(|| Refusal::new(format!("header `{name}` is not visible ASCII"))),
        Sent::Repeated => Err(Refusal::new(format!("header `{name}` is sent more than once"))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Headers as a test writes them.
    pub(crate) struct List(pub Vec<(&'static str, String)>);

    impl Headers for List {
        fn values(&self, name: &str) -> Sent<'_> {
            Sent::of(self.0.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_bytes()))
        }
    }

    pub(crate) fn list(pairs: &[(&'static str, &str)]) -> List {
        List(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    }

    #[test]
    fn a_header_sent_twice_or_not_ascii_is_refused() {
        assert_eq!(single(&list(&[("x-a", " v ")]), "x-a"), Ok(Some("v")));
        assert_eq!(single(&list(&[]), "x-a"), Ok(None));
        assert!(single(&list(&[("x-a", "1"), ("X-A", "2")]), "x-a").is_err());
        assert!(single(&list(&[("x-a", "caf\u{e9}")]), "x-a").is_err());
    }
}
