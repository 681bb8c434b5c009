//! The gate's look at what a module says about itself: its info, its catalog
//! (well-formed, sorted, unique action names; levels; targets that are resource
//! kinds it declares) and its resource tree (known parents, no cycles).

use std::collections::HashSet;

use crate::runtime::PolicyModule;

/// The most actions a catalog may list.
pub const MAX_ACTIONS: usize = 4096;
const MAX_NAME: usize = 128;
const MAX_DESCRIPTION: usize = 1024;
/// The kind name that stands for the system root in targets.
pub const ROOT_KIND: &str = "root";

/// Every problem found; empty when the catalog is usable.
pub fn problems(module: &PolicyModule) -> Vec<String> {
    let mut out = Vec::new();
    let info = module.info();
    for (what, text) in [("name", &info.name), ("version", &info.version)] {
        if text.is_empty() || text.len() > MAX_NAME || text.chars().any(char::is_control) {
            out.push(format!("its {what} must be 1 to {MAX_NAME} printable characters"));
        }
    }
    if info.description.len() > MAX_DESCRIPTION {
        out.push(format!("its description is over {MAX_DESCRIPTION} bytes"));
    }
    let kinds: HashSet<&str> = module.resource_kinds().iter().map(|k| k.name.as_str()).collect();
    if kinds.len() != module.resource_kinds().len() {
        out.push("its resource kinds repeat a name".into());
    }
    for kind in module.resource_kinds() {
        if !is_name(&kind.name, false) {
            out.push(format!("resource kind `{}` is not a lowercase name", short(&kind.name)));
        }
        for parent in kind.parents.iter().chain(kind.admin_at.iter()) {
            if !kinds.contains(parent.as_str()) {
                out.push(format!("resource kind `{}` names unknown kind `{}`", short(&kind.name), short(parent)));
            }
        }
        if depth(module, &kind.name).is_none() {
            out.push(format!("resource kind `{}` sits in a cycle of parents", short(&kind.name)));
        }
    }
    let catalog = module.catalog();
    if catalog.is_empty() {
        out.push("its catalog is empty".into());
    }
    if catalog.len() > MAX_ACTIONS {
        out.push(format!("its catalog lists {} actions, more than {MAX_ACTIONS}", catalog.len()));
    }
    for pair in catalog.windows(2) {
        if let [a, b] = pair
            && a.action.as_bytes() >= b.action.as_bytes()
        {
            out.push(format!(
                "its catalog is not sorted by name: `{}` before `{}`",
                short(&a.action),
                short(&b.action)
            ));
        }
    }
    for entry in catalog {
        if !is_action(&entry.action) {
            out.push(format!("catalog action `{}` is not `category[.sub][:action]`", short(&entry.action)));
        }
        if entry.description.len() > MAX_DESCRIPTION {
            out.push(format!("catalog action `{}` has a description over {MAX_DESCRIPTION} bytes", entry.action));
        }
        if entry.targets.is_empty() {
            out.push(format!("catalog action `{}` acts on no resource kind", short(&entry.action)));
        }
        for target in &entry.targets {
            if target != ROOT_KIND && !kinds.contains(target.as_str()) {
                out.push(format!("catalog action `{}` targets unknown kind `{}`", short(&entry.action), short(target)));
            }
        }
    }
    out.truncate(50);
    out
}

/// How many parents lie above `kind` along first parents; `None` on a cycle.
pub fn depth(module: &PolicyModule, kind: &str) -> Option<usize> {
    let mut current = kind;
    for steps in 0..=module.resource_kinds().len() {
        if current == ROOT_KIND {
            return Some(steps);
        }
        match module.resource_kinds().iter().find(|k| k.name == current)?.parents.first() {
            Some(parent) => current = parent,
            None => return Some(steps),
        }
    }
    None
}

fn is_name(text: &str, allow_dot: bool) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && text.len() <= MAX_NAME
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || (allow_dot && c == '.'))
        && !text.ends_with(['-', '.'])
        && !text.contains("..")
}

/// `category[.sub][:action]`, lowercase.
fn is_action(text: &str) -> bool {
    match text.split_once(':') {
        Some((category, action)) => is_name(category, true) && is_name(action, false),
        None => is_name(text, true),
    }
}

fn short(text: &str) -> String {
    text.chars().take(64).collect::<String>().escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names() {
        for good in ["create-scan", "artifact:view", "channel.mirror:edit", "system:delete-blobs", "admin"] {
            assert!(is_action(good), "{good}");
        }
        for bad in ["", "Artifact:view", "a::b", "a:", ":b", "a b", "a:b:c", "a..b", "é", "a.:b"] {
            assert!(!is_action(bad), "{bad}");
        }
    }

    #[test]
    fn the_default_policy_catalog_is_clean() {
        let module = crate::runtime::PolicyModule::embedded(
            &crate::runtime::Runtime::new().unwrap(),
            crate::runtime::Limits::default(),
        )
        .unwrap();
        assert_eq!(problems(&module), Vec::<String>::new());
        assert_eq!(depth(&module, "component"), Some(3));
    }
}
