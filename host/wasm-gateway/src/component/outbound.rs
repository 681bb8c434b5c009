//! Outgoing HTTP through `wasi:http/outgoing-handler`: one request with a
//! small body and a bounded answer (introspection, the change feed), with the
//! configured timeouts. Any failure is an error the caller turns into a deny.

use std::io::{Read as _, Write as _};

use wasip2::http::outgoing_handler::{self, RequestOptions};
use wasip2::http::types::{Fields, IncomingResponse, Method, OutgoingBody, OutgoingRequest, Scheme};

use crate::settings::{Origin, Scheme as OriginScheme};

/// The most bytes read of an answer.
const MAX_ANSWER: u64 = 1 << 20;

/// An answer: status, headers and body.
pub struct Reply {
    /// The status.
    pub status: u16,
    /// The headers, names lowercase.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The value of header `name` (lowercase), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// The request's scheme as `wasi:http` names it.
pub fn scheme(origin: &Origin) -> Scheme {
    match origin.scheme {
        OriginScheme::Http => Scheme::Http,
        OriginScheme::Https => Scheme::Https,
    }
}

/// A request to `origin` at `path` (under its base path), without its body.
pub fn request(
    origin: &Origin,
    method: &Method,
    path: &str,
    headers: &[(String, Vec<u8>)],
) -> Result<OutgoingRequest, String> {
    let fields = Fields::from_list(headers).map_err(|e| format!("a header cannot be sent: {e:?}"))?;
    let request = OutgoingRequest::new(fields);
    request.set_method(method).map_err(|()| "the method cannot be sent".to_owned())?;
    request
        .set_path_with_query(Some(&format!("{}{path}", origin.base_path)))
        .map_err(|()| "the path cannot be sent".to_owned())?;
    request.set_scheme(Some(&scheme(origin))).map_err(|()| "the scheme cannot be sent".to_owned())?;
    request.set_authority(Some(&origin.authority)).map_err(|()| "the authority cannot be sent".to_owned())?;
    Ok(request)
}

/// Timeouts in nanoseconds, as `wasi:http` takes them.
pub fn options(connect_ms: u64, first_byte_ms: u64) -> RequestOptions {
    let options = RequestOptions::new();
    let _ = options.set_connect_timeout(Some(connect_ms.saturating_mul(1_000_000)));
    let _ = options.set_first_byte_timeout(Some(first_byte_ms.saturating_mul(1_000_000)));
    let _ = options.set_between_bytes_timeout(Some(first_byte_ms.saturating_mul(1_000_000)));
    options
}

/// Sends `request` with `body` and waits for the response head.
pub fn send(request: OutgoingRequest, body: &[u8], options: RequestOptions) -> Result<IncomingResponse, String> {
    let outgoing = request.body().map_err(|()| "the request body is taken".to_owned())?;
    let future = outgoing_handler::handle(request, Some(options)).map_err(|e| format!("{e:?}"))?;
    {
        let mut stream = outgoing.write().map_err(|()| "the request body cannot be written".to_owned())?;
        stream.write_all(body).and_then(|()| std::io::Write::flush(&mut stream)).map_err(|e| e.to_string())?;
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("{e:?}"))?;
    wait(&future)
}

/// Waits for a response head.
pub fn wait(future: &wasip2::http::types::FutureIncomingResponse) -> Result<IncomingResponse, String> {
    loop {
        match future.get() {
            None => future.subscribe().block(),
            Some(Ok(Ok(response))) => return Ok(response),
            Some(Ok(Err(code))) => return Err(format!("{code:?}")),
            Some(Err(())) => return Err("the response was already taken".to_owned()),
        }
    }
}

/// Sends a small request and reads its whole (bounded) answer.
pub fn call(
    origin: &Origin,
    method: &Method,
    path: &str,
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    options: RequestOptions,
) -> Result<Reply, String> {
    let response = send(request(origin, method, path, headers)?, body, options)?;
    let status = response.status();
    let headers = super::fields::FieldList::of(&response.headers()).0;
    let incoming = response.consume().map_err(|()| "the response body is taken".to_owned())?;
    let mut body = Vec::new();
    {
        let stream = incoming.stream().map_err(|()| "the response body is taken".to_owned())?;
        stream.take(MAX_ANSWER + 1).read_to_end(&mut body).map_err(|e| e.to_string())?;
    }
    if body.len() as u64 > MAX_ANSWER {
        return Err(format!("the answer exceeds {MAX_ANSWER} bytes"));
    }
    Ok(Reply { status, headers, body })
}
