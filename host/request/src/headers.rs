//! The headers of a check request as the transport holds them (hyper's map in
//! the server, `wasi:http` fields in the gateway), and how one header is read:
//! visible ASCII, sent at most once.

use crate::refusal::Refusal;

/// The headers of a check request, as the transport holds them.
pub trait Headers {
    /// Every value of the header `name` (lowercase), in the order received.
    fn values(&self, name: &str) -> Vec<&[u8]>;
}

/// The one value of header `name`, if sent: visible ASCII, sent at most once.
pub(crate) fn single<'h>(headers: &'h impl Headers, name: &str) -> Result<Option<&'h str>, Refusal> {
    let values = headers.values(name);
    match values.as_slice() {
        [] => Ok(None),
        [one] => std::str::from_utf8(one)
            .ok()
            .filter(|v| v.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b)))
            .map(|v| Some(v.trim()))
            .ok_or_else(|| Refusal::new(format!("header `{name}` is not visible ASCII"))),
        _ => Err(Refusal::new(format!("header `{name}` is sent more than once"))),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Headers as a test writes them.
    pub(crate) struct List(pub Vec<(&'static str, String)>);

    impl Headers for List {
        fn values(&self, name: &str) -> Vec<&[u8]> {
            self.0.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_bytes()).collect()
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
