//! Where a request came from, as the audit trail records it: the peer's
//! address (the proxy's, behind one) and its `User-Agent`, cut to 256
//! characters with control characters dropped. An extractor that never refuses.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;

use crate::audit::Client;

/// The longest user agent kept.
const MAX_AGENT: usize = 256;

/// The request's client, when anything is known of it.
pub struct ClientOf(pub Option<Client>);

impl<S: Send + Sync> FromRequestParts<S> for ClientOf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<ClientOf, Self::Rejection> {
        Ok(ClientOf(client_of(parts)))
    }
}

/// The client of the request whose head is `parts`.
pub fn client_of(parts: &Parts) -> Option<Client> {
    let addr = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip().to_string());
    let agent = parts
        .headers
        .get(USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).chars().filter(|c| !c.is_control()).take(MAX_AGENT).collect());
    (addr.is_some() || agent.is_some()).then_some(Client { addr, agent })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_cut_and_cleaned() {
        let request =
            axum::http::Request::builder().header(USER_AGENT, format!("curl/8\t{}", "x".repeat(400))).body(()).unwrap();
        let (mut parts, ()) = request.into_parts();
        parts.extensions.insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 4000))));
        let client = client_of(&parts).unwrap();
        assert_eq!(client.addr.as_deref(), Some("10.0.0.7"));
        let agent = client.agent.unwrap();
        assert!(agent.starts_with("curl/8x") && agent.chars().count() == MAX_AGENT, "{agent}");
        let (parts, ()) = axum::http::Request::builder().body(()).unwrap().into_parts();
        assert_eq!(client_of(&parts), None);
    }
}
