//! Filter mode's allow: the request goes on to the upstream through
//! `wasi:http/outgoing-handler` (method, path and query as received, headers
//! without hop-by-hop and client-sent `x-tokenscope-*` ones, plus the identity
//! headers), its body streamed, and the upstream's answer streamed back.
//! An unreachable upstream is a 502 `upstream-unavailable`.

use tokenscope_request::AnswerCode;
use wasip2::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};

use super::answer;
use super::fields::FieldList;
use super::outbound::{options, request, wait};
use crate::settings::GatewaySettings;

/// Forwards `incoming` to the upstream with `headers`, and its answer back.
pub fn forward(
    settings: &GatewaySettings,
    incoming: IncomingRequest,
    method: &Method,
    path_with_query: &str,
    headers: Vec<(String, Vec<u8>)>,
    out: ResponseOutparam,
) {
    let policy = settings.policy.sha256.as_str();
    let Some(upstream) = &settings.upstream else {
        return answer::deny(out, policy, AnswerCode::UpstreamUnavailable, "filter mode has no upstream");
    };
    let response = request(upstream, method, path_with_query, &headers).and_then(|outgoing| {
        let body = outgoing.body().map_err(|()| "the request body is taken".to_owned())?;
        let timeouts = settings.timeouts;
        let options = options(timeouts.connect_ms, timeouts.upstream_ms);
        let future = wasip2::http::outgoing_handler::handle(outgoing, Some(options)).map_err(|e| format!("{e:?}"))?;
        // An upstream may answer before it has read the whole body (nginx's
        // `return` does) and close its side: its answer still counts.
        let sent = copy_request_body(&incoming, &body);
        let _ = OutgoingBody::finish(body, None);
        wait(&future).map_err(|e| match sent {
            Err(body) => format!("{e} (sending the body: {body})"),
            Ok(()) => e,
        })
    });
    let response = match response {
        Ok(response) => response,
        Err(reason) => {
            return answer::deny(
                out,
                policy,
                AnswerCode::UpstreamUnavailable,
                &format!("the upstream failed: {reason}"),
            );
        }
    };
    let fields = Fields::from_list(&FieldList::of(&response.headers()).passed_on()).unwrap_or_else(|_| Fields::new());
    let back = OutgoingResponse::new(fields);
    let _ = back.set_status_code(response.status());
    let Ok(back_body) = back.body() else { return };
    ResponseOutparam::set(out, Ok(back));
    // The streams are dropped before the bodies they belong to (declared after them).
    if let Ok(upstream_body) = response.consume()
        && let (Ok(mut from), Ok(mut to)) = (upstream_body.stream(), back_body.write())
    {
        // A failure mid-body can only cut the answer short: the status is sent.
        let _ = std::io::copy(&mut from, &mut to).and_then(|_| std::io::Write::flush(&mut to));
    }
    let _ = OutgoingBody::finish(back_body, None);
}

/// Streams the client's body into the upstream request's body.
fn copy_request_body(incoming: &IncomingRequest, to: &OutgoingBody) -> Result<(), String> {
    let body = incoming.consume().map_err(|()| "the request body is taken".to_owned())?;
    {
        let mut from = body.stream().map_err(|()| "the request body is taken".to_owned())?;
        let mut to = to.write().map_err(|()| "the upstream body cannot be written".to_owned())?;
        std::io::copy(&mut from, &mut to).and_then(|_| std::io::Write::flush(&mut to)).map_err(|e| e.to_string())?;
    }
    Ok(())
}
