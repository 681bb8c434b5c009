//! The exported `wasi:http/incoming-handler`: reads the request once through
//! the request crate (the server's own reading), answers what needs no token,
//! checks the secret's shape before any call, gets the token's data, asks the
//! composed policy, and answers (check mode) or forwards (filter mode).
//! Settings and the cache live as long as the instance.

use std::cell::RefCell;

use tokenscope_request::{
    AnswerCode, Convention, Decoded, OWNER_HEADER, SecretHash, Settings, TOKEN_ID_HEADER, decode,
};
use wasip2::http::types::{IncomingRequest, Method, ResponseOutparam};

use super::answer;
use super::bindings::settings;
use super::decide::{Ruling, decide};
use super::fields::FieldList;
use super::forward::forward;
use super::introspect::token_data;
use crate::cache::Cache;
use crate::settings::{GatewaySettings, Mode};

/// The handler.
pub struct Gateway;

/// What an instance keeps between requests.
struct Instance {
    settings: GatewaySettings,
    reading: Settings,
    cache: Cache,
}

thread_local! {
    static INSTANCE: RefCell<Option<Result<Instance, String>>> = const { RefCell::new(None) };
}

fn load() -> Result<Instance, String> {
    let settings: GatewaySettings =
        serde_json::from_str(&settings::get()).map_err(|e| format!("the gateway's settings are unreadable: {e}"))?;
    let convention = match settings.mode {
        Mode::Check => settings.check.convention,
        Mode::Filter => Convention::Direct,
    };
    let reading =
        settings.check.settings(convention).map_err(|e| format!("the gateway's settings are refused: {e}"))?;
    let cache = Cache::new(settings.cache);
    Ok(Instance { settings, reading, cache })
}

impl wasip2::exports::http::incoming_handler::Guest for Gateway {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        INSTANCE.with(|cell| {
            let mut slot = cell.borrow_mut();
            match slot.get_or_insert_with(load) {
                Ok(instance) => handle(instance, request, out),
                Err(reason) => answer::deny(out, "", AnswerCode::PolicyFault, reason),
            }
        });
    }
}

fn method_name(method: &Method) -> &str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Connect => "CONNECT",
        Method::Options => "OPTIONS",
        Method::Trace => "TRACE",
        Method::Patch => "PATCH",
        Method::Other(other) => other,
    }
}

fn handle(instance: &mut Instance, request: IncomingRequest, out: ResponseOutparam) {
    let reused = instance.cache.begin_request();
    let Instance { settings, reading, cache } = instance;
    let policy = settings.policy.sha256.clone();
    let method = request.method();
    let Some(path) = request.path_with_query() else {
        return answer::deny(out, &policy, AnswerCode::BadRequest, "the request has no path");
    };
    let headers = FieldList::of(&request.headers());
    let decoded = match decode(reading, method_name(&method), &path, &headers) {
        Ok(decoded) => decoded,
        Err(refusal) => return answer::deny(out, &policy, AnswerCode::BadRequest, &refusal.message),
    };
    let (route, secret) = match decoded {
        Decoded::Public { .. } => return pass(settings, request, &method, &path, headers, Vec::new(), out),
        Decoded::Unmapped { .. } => {
            return answer::deny(out, &policy, AnswerCode::UnmappedRoute, "no route maps this request to an action");
        }
        Decoded::Mapped { route, secret, .. } => (route, secret),
    };
    let Some((presented, _)) = secret else {
        return answer::deny(out, &policy, AnswerCode::MissingToken, "no token was presented");
    };
    // The shape and checksum first: a malformed secret costs no call.
    let Ok(hash) = SecretHash::of_presented(presented.as_str()) else {
        return answer::deny(out, &policy, AnswerCode::MalformedToken, "the token is not a tokenscope secret");
    };
    let token = match token_data(settings, cache, reused, &hash) {
        Ok(Some(token)) => token,
        Ok(None) => return answer::deny(out, &policy, AnswerCode::UnknownToken, "no such token"),
        Err(reason) => {
            return answer::deny(
                out,
                &policy,
                AnswerCode::StoreUnavailable,
                &format!("token data unavailable: {reason}"),
            );
        }
    };
    match decide(&token, &route.action, &route.resource) {
        Ok(Ruling::Allow) => {
            let identity = vec![
                (TOKEN_ID_HEADER.to_owned(), token.id.to_string().into_bytes()),
                (OWNER_HEADER.to_owned(), token.owner.clone().into_bytes()),
            ];
            pass(settings, request, &method, &path, headers, identity, out);
        }
        Ok(Ruling::Deny(code, message)) => answer::deny(out, &policy, code, &message),
        Err(reason) => {
            answer::deny(out, &policy, AnswerCode::StoreUnavailable, &format!("unreadable token data: {reason}"))
        }
    }
}

/// An allowed request: answered 200 (check mode) or forwarded (filter mode).
fn pass(
    settings: &GatewaySettings,
    request: IncomingRequest,
    method: &Method,
    path: &str,
    headers: FieldList,
    identity: Vec<(String, Vec<u8>)>,
    out: ResponseOutparam,
) {
    match settings.mode {
        Mode::Check => answer::allow(out, &settings.policy.sha256, identity),
        Mode::Filter => {
            let mut passed = headers.passed_on();
            passed.extend(identity);
            forward(settings, request, method, path, passed, out);
        }
    }
}
