//! Transport limits on what the host hands to a policy: lists longer than a
//! generous cap are refused as `too-large` before they are copied into the guest,
//! so oversized input costs neither guest memory nor the call's time budget. The
//! policy keeps its own, tighter limits.

use crate::contract::{Access, Denial, DenyCode, Grants, ResourceGrant};

/// The most entries any one list (scopes, grants, rights, actions) may have.
pub const MAX_LIST_ENTRIES: usize = 1024;

fn too_large(what: &str, len: usize) -> Denial {
    Denial {
        code: DenyCode::TooLarge,
        message: format!("{len} {what}, more than the host accepts ({MAX_LIST_ENTRIES})"),
    }
}

pub fn check_rights(what: &str, rights: &[ResourceGrant]) -> Result<(), Denial> {
    if rights.len() > MAX_LIST_ENTRIES {
        return Err(too_large(what, rights.len()));
    }
    for grant in rights {
        if let Access::Actions(actions) = &grant.access
            && actions.len() > MAX_LIST_ENTRIES
        {
            return Err(too_large("actions in one grant", actions.len()));
        }
    }
    Ok(())
}

pub fn check_grants(grants: &Grants) -> Result<(), Denial> {
    match grants {
        Grants::Scopes(scopes) if scopes.len() > MAX_LIST_ENTRIES => Err(too_large("scopes", scopes.len())),
        Grants::Scopes(_) => Ok(()),
        Grants::Resources(rights) => check_rights("resource grants", rights),
    }
}
