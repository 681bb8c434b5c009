//! Issuance never exceeds its creator: whatever `check-grants` accepts for a
//! creator (and an asking token), a token holding the accepted grants is never
//! allowed a request that the creator's own rights, or the asking token, deny.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use tokenscope_fuzz::generate;
use tokenscope_policy::{Decision, Grants, Token, check_grants, decide_token};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(creator), Ok(requested), Ok(caller)) =
        (generate::resource_grants(&mut u, 4), generate::grants(&mut u), generate::grants(&mut u))
    else {
        return;
    };
    let caller = u.arbitrary::<bool>().unwrap_or(false).then_some(caller);
    let Ok(accepted) = check_grants(&creator, &requested, caller.as_ref()) else {
        return;
    };
    let holder = |grants: Grants| Token { grants, owner_rights: creator.clone(), expires_at: None, revoked: false };
    let issued = holder(accepted.clone());
    let as_creator = holder(Grants::Resources(creator.clone()));
    // Requests drawn from the rest of the input, and every catalog action on each resource the grants name.
    let mut requests = Vec::new();
    while let Ok(request) = generate::request(&mut u) {
        if requests.len() == 8 || u.is_empty() {
            break;
        }
        requests.push(request);
    }
    let resources: Vec<String> = match &accepted {
        Grants::Resources(grants) => grants.iter().map(|g| g.resource.clone()).collect(),
        Grants::Scopes(_) => vec![String::new()],
    };
    for resource in &resources {
        for def in &tokenscope_policy::catalog::CATALOG {
            requests.push(tokenscope_policy::Request {
                action: def.name.to_owned(),
                resource: resource.clone(),
                now: 0,
            });
        }
    }
    for request in &requests {
        if let Decision::Allow { .. } = decide_token(&issued, request) {
            assert!(
                matches!(decide_token(&as_creator, request), Decision::Allow { .. }),
                "{accepted:?} issued by {creator:?} allows {request:?}, which the creator may not"
            );
            if let Some(caller) = &caller {
                let asking = holder(caller.clone());
                assert!(
                    matches!(decide_token(&asking, request), Decision::Allow { .. }),
                    "{accepted:?} asked for by {caller:?} allows {request:?}, which the asking token may not"
                );
            }
        }
    }
});
