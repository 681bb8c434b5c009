//! The check request's headers as `tokenscope-request` reads them: every value of
//! a header, in order, so that a header sent twice is seen (and refused) there.

use axum::http::HeaderMap;
use tokenscope_request::{Headers, Sent};

/// An axum `HeaderMap` seen through `tokenscope_request::Headers`.
pub struct HttpHeaders<'a>(pub &'a HeaderMap);

impl Headers for HttpHeaders<'_> {
    fn values(&self, name: &str) -> Sent<'_> {
        Sent::of(self.0.get_all(name).iter().map(|v| v.as_bytes()))
    }
}
