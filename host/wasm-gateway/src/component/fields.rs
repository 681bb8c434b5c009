//! Headers as `wasi:http` fields hold them, read the way the request crate
//! reads headers, and the header lists the gateway sends on: without
//! hop-by-hop headers (which `wasi:http` refuses to send) and without any
//! client-sent `x-tokenscope-*` header in any spelling that frameworks fold
//! together (`X_Tokenscope_Owner`): only the gateway sets those.

use tokenscope_request::{Headers, Sent, is_reserved_header};

/// A request's or response's headers, names lowercase.
pub struct FieldList(pub Vec<(String, Vec<u8>)>);

impl FieldList {
    /// The entries of `fields`, names lowercased.
    pub fn of(fields: &wasip2::http::types::Fields) -> FieldList {
        FieldList(fields.entries().into_iter().map(|(name, value)| (name.to_ascii_lowercase(), value)).collect())
    }

    /// The entries to pass on: no hop-by-hop header, no `x-tokenscope-*`
    /// (nor `x_tokenscope_*`, which CGI and WSGI read as the same).
    pub fn passed_on(self) -> Vec<(String, Vec<u8>)> {
        self.0.into_iter().filter(|(name, _)| !hop_by_hop(name) && !is_reserved_header(name)).collect()
    }
}

impl Headers for FieldList {
    fn values(&self, name: &str) -> Sent<'_> {
        Sent::of(self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_slice()))
    }
}

/// Headers that belong to one connection (RFC 9110 7.6.1) or that `wasi:http` sets itself.
fn hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "http2-settings"
            | "content-length"
    )
}
