//! Differential: the native policy crate and the built wasm component decide the
//! same random token and request, one-shot and through compiled sets (the
//! ruling and its explanation, word for word), and
//! answer `check-grants` for the same issuance; they must agree code for code.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use tokenscope::runtime::HotCall;
use tokenscope_fuzz::{embedded::embedded, generate, to_host};
use tokenscope_policy::{GrantSet, Query, TokenStatus};

fuzz_target!(
    // Compiled once before the first input, so that compiling the component (slow
    // in the instrumented dev build) never counts against an input's timeout.
    init: {
        drop(embedded());
    },
    |data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(token), Ok(request), Ok(caller)) =
        (generate::token(&mut u), generate::request(&mut u), generate::grants(&mut u))
    else {
        return;
    };
    let caller = u.arbitrary::<bool>().unwrap_or(false).then_some(caller);
    let mut policy = embedded();
    let policy = &mut *policy;

    // One-shot decide.
    let native = to_host::outcome(&tokenscope_policy::decide_token(&token, &request));
    let wasm = to_host::verdict(&policy.instance.decide(&to_host::token(&token), &to_host::request(&request)));
    assert_eq!(native, wasm, "decide: {token:?} {request:?}");

    // Compiled handles, as live checks use them.
    let native_token = GrantSet::compile(&token.grants);
    let native_owner = GrantSet::compile_rights(&token.owner_rights);
    let wasm_token = policy.instance.compile(&to_host::grants(&token.grants));
    let wasm_owner =
        policy.instance.compile(&to_host::grants(&tokenscope_policy::Grants::Resources(token.owner_rights.clone())));
    let (Ok(wasm_token), Ok(wasm_owner)) = (wasm_token, wasm_owner) else {
        panic!("the component faulted compiling {token:?}");
    };
    let code = |r: &Result<_, tokenscope_policy::Denial>| r.as_ref().err().map(|d| d.code.as_str());
    let wasm_code = |r: &Result<_, tokenscope::contract::Denial>| r.as_ref().err().map(|d| to_host::code(d.code));
    assert_eq!(code(&native_token), wasm_code(&wasm_token), "compile {:?}", token.grants);
    assert_eq!(code(&native_owner), wasm_code(&wasm_owner), "compile rights {:?}", token.owner_rights);
    if let (Ok(nt), Ok(no), Ok(wt), Ok(wo)) = (&native_token, &native_owner, &wasm_token, &wasm_owner) {
        let normalized = policy.instance.normalized(wt).map(|g| format!("{g:?}"));
        assert_eq!(normalized.ok(), Some(format!("{:?}", to_host::grants(&nt.normalized()))), "normalized {token:?}");
        if let (Some(native_id), Some(wasm_id)) =
            (tokenscope_policy::catalog::lookup(&request.action), policy.module.action_id(&request.action))
        {
            assert_eq!(native_id.wire(), wasm_id.wire(), "action ids of {}", request.action);
            let status = TokenStatus { expires_at: token.expires_at, revoked: token.revoked };
            let native_query =
                Query { token: nt, owner: no, status, action: native_id, resource: &request.resource, now: request.now };
            let call = HotCall {
                token: wt,
                owner: wo,
                status: tokenscope::contract::TokenStatus { expires_at: token.expires_at, revoked: token.revoked },
                action: wasm_id,
                resource: &request.resource,
                now: request.now,
            };
            let native = tokenscope_policy::decide(&native_query);
            let wasm = policy.instance.decide_compiled(&call);
            assert_eq!(to_host::ruling(&native), to_host::verdict(&wasm), "decide-compiled {token:?} {request:?}");
            // The explanation: the same decision, and the same words, as the native one.
            let native = tokenscope_policy::explain(&native_query);
            let wasm = policy.instance.explain(&wasm, &call);
            assert_eq!(to_host::outcome(&native), to_host::verdict(&wasm), "explain {token:?} {request:?}");
            if let (tokenscope_policy::Decision::Deny(denial), tokenscope::verdict::Verdict::Deny { message, .. }) =
                (&native, &wasm)
            {
                assert_eq!(denial.message.as_str(), &**message, "explain's words {token:?} {request:?}");
            }
        } else {
            assert!(policy.module.action_id(&request.action).is_none(), "catalogs differ on {}", request.action);
        }
    }
    for handle in [wasm_token, wasm_owner].into_iter().flatten() {
        let _ = policy.instance.release(handle);
    }

    // Issuance.
    let native = tokenscope_policy::check_grants(&token.owner_rights, &token.grants, caller.as_ref());
    let wasm = policy.instance.check_grants(
        &to_host::rights(&token.owner_rights),
        &to_host::grants(&token.grants),
        caller.as_ref().map(to_host::grants).as_ref(),
    );
    let Ok(wasm) = wasm else { panic!("the component faulted in check-grants") };
    let native = native.map(|g| format!("{:?}", to_host::grants(&g))).map_err(|d| d.code.as_str());
    let wasm = wasm.map(|g| format!("{g:?}")).map_err(|d| to_host::code(d.code));
    assert_eq!(native, wasm, "check-grants {token:?} caller {caller:?}");
});
