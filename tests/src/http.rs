//! Plain HTTP calls to a test server: any method, headers and body; statuses
//! are answers, not errors.

use serde_json::Value;

/// An answer: its status, headers and body.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: ureq::http::HeaderMap,
    /// The body, as text.
    pub body: String,
}

impl Reply {
    /// The value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON, or `Value::Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// An agent that keeps connections alive and reports every status as an answer.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// Sends a request without a body; a request that gets no answer fails the test.
#[allow(clippy::panic)]
pub fn send(method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    send_with(&agent(), method, url, headers, Vec::new()).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// Sends a request with `body` on `agent`.
pub fn send_with(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Reply, ureq::Error> {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request.body(body).map_err(ureq::Error::from)?;
    let mut response = agent.run(request)?;
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Ok(Reply { status: response.status().as_u16(), headers: response.headers().clone(), body })
}

/// Sends `request` (the whole HTTP/1.1 request text) over a new connection to
/// `base` as written, so that paths reach the server without any client-side
/// normalisation; returns the status and body. `Connection: close` is added.
pub fn raw(base: &str, request: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let address = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let (head, body) = request.split_once("\r\n\r\n").unwrap_or((request, ""));
    write!(stream, "{head}\r\nHost: {address}\r\nConnection: close\r\n\r\n{body}")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}
