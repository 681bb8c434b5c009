//! The gateway's own answers: an allow in check mode (200 with the identity
//! headers) and every deny (the check's status for its code, `{"code",
//! "message"}` as JSON, `x-tokenscope-deny-code`, a Bearer challenge on 401),
//! each naming the composed policy in `x-tokenscope-policy`.

use std::io::Write as _;

use tokenscope_request::{AnswerCode, DENY_CODE_HEADER, POLICY_HEADER};
use wasip2::http::types::{Fields, OutgoingBody, OutgoingResponse, ResponseOutparam};

/// Sends a response with `status`, `headers` and `body`.
pub fn send(out: ResponseOutparam, status: u16, headers: Vec<(String, Vec<u8>)>, body: &[u8]) {
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(fields);
    if response.set_status_code(status).is_err() {
        let _ = response.set_status_code(500);
    }
    let Ok(outgoing) = response.body() else { return };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(mut stream) = outgoing.write() {
        // Errors here mean the client went away: nothing is left to tell.
        let _ = stream.write_all(body).and_then(|()| std::io::Write::flush(&mut stream));
    }
    let _ = OutgoingBody::finish(outgoing, None);
}

/// The allow of check mode: 200, with `identity` headers for the upstream.
pub fn allow(out: ResponseOutparam, policy: &str, identity: Vec<(String, Vec<u8>)>) {
    let mut headers = identity;
    headers.push((POLICY_HEADER.to_owned(), policy.as_bytes().to_vec()));
    send(out, 200, headers, b"");
}

/// A deny with `code` and `message`, by the check's status table.
pub fn deny(out: ResponseOutparam, policy: &str, code: AnswerCode, message: &str) {
    let status = code.status();
    let code_name = code.name();
    let body = serde_json::json!({ "code": code_name, "message": message }).to_string();
    let mut headers = vec![
        ("content-type".to_owned(), b"application/json".to_vec()),
        (DENY_CODE_HEADER.to_owned(), code_name.as_bytes().to_vec()),
        (POLICY_HEADER.to_owned(), policy.as_bytes().to_vec()),
    ];
    if let Some(challenge) = code.challenge() {
        headers.push(("www-authenticate".to_owned(), challenge.as_bytes().to_vec()));
    }
    send(out, status, headers, body.as_bytes());
}
