//! Compiling grants once: scope strings and resource grants are parsed, checked
//! against the catalog and the resource tree, normalised, and turned into compact
//! structures (action bitsets, parsed nodes) that a decision only compares.

use crate::action_set::ActionSet;
use crate::catalog::{self, ActionId};
use crate::model::{Access, Denial, DenyCode, Grants, Level, ResourceGrant};
use crate::quote::Quoted;
use crate::resource::{Node, NodeRef, PathError};
use crate::scope::{self, Actions, Scope, ScopeError};

/// The most resource grants one token or owner may carry.
pub const MAX_RESOURCE_GRANTS: usize = 256;
/// The most actions one resource grant may list.
pub const MAX_GRANT_ACTIONS: usize = catalog::CATALOG.len();

/// A token's grants or an owner's rights, compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GrantSet {
    /// Scope grants: the actions, and for each action the index of the normalised
    /// scope that grants it.
    Scopes {
        /// Every action the scopes grant.
        actions: ActionSet,
        /// For each action id, the index in `normalized` of the scope that grants it.
        source: [u8; 128],
        /// The scopes, normalised.
        normalized: Vec<String>,
    },
    /// Resource grants, sorted by node; the index is the normalised index.
    Resources(Vec<CompiledGrant>),
}

/// One resource grant, compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledGrant {
    /// The node the grant is bound to.
    pub node: Node,
    /// What it allows there and below.
    pub access: CompiledAccess,
}

/// What a compiled resource grant allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompiledAccess {
    /// Every action of the catalog up to this level.
    Level(Level),
    /// Named actions plus the base actions they imply.
    Actions(ActionSet),
}

impl CompiledAccess {
    /// Whether this access allows action `id`, whose catalog level is `level`.
    pub fn allows(self, id: ActionId, level: Level) -> bool {
        match self {
            CompiledAccess::Level(held) => level <= held,
            CompiledAccess::Actions(set) => set.contains(id),
        }
    }
}

impl GrantSet {
    /// Compiles a token's grants or an owner's rights.
    pub fn compile(grants: &Grants) -> Result<GrantSet, Denial> {
        match grants {
            Grants::Scopes(texts) => compile_scopes(texts),
            Grants::Resources(grants) => compile_resources(grants),
        }
    }

    /// An owner's rights: resource grants only.
    pub fn compile_rights(rights: &[ResourceGrant]) -> Result<GrantSet, Denial> {
        compile_resources(rights)
    }

    /// Whether the set grants nothing.
    pub fn is_empty(&self) -> bool {
        match self {
            GrantSet::Scopes { actions, .. } => actions.is_empty(),
            GrantSet::Resources(grants) => grants.is_empty(),
        }
    }

    /// The normalised grants, in the order `allows` indexes them.
    pub fn normalized(&self) -> Grants {
        match self {
            GrantSet::Scopes { normalized, .. } => Grants::Scopes(normalized.clone()),
            GrantSet::Resources(grants) => Grants::Resources(
                grants
                    .iter()
                    .map(|g| ResourceGrant {
                        resource: g.node.to_string(),
                        access: match g.access {
                            CompiledAccess::Level(level) => Access::Level(level),
                            CompiledAccess::Actions(set) => Access::Actions(action_names(set)),
                        },
                    })
                    .collect(),
            ),
        }
    }

    /// The index of the grant that allows action `id` at node `at`, if any. For
    /// scope grants the node is not looked at: scopes are not bound to nodes.
    pub fn allows(&self, id: ActionId, level: Level, at: &NodeRef<'_>) -> Option<u32> {
        match self {
            GrantSet::Scopes { actions, source, .. } => {
                if actions.contains(id) {
                    source.get(id.index()).map(|s| u32::from(*s))
                } else {
                    None
                }
            }
            GrantSet::Resources(grants) => grants
                .iter()
                .position(|g| g.access.allows(id, level) && g.node.covers(at))
                .and_then(|i| u32::try_from(i).ok()),
        }
    }

    /// Whether a level grant of at least `level` covers `at` (explicit action
    /// grants never make their holder an admin).
    pub fn holds_level(&self, level: Level, at: &NodeRef<'_>) -> bool {
        match self {
            GrantSet::Scopes { .. } => false,
            GrantSet::Resources(grants) => grants
                .iter()
                .any(|g| matches!(g.access, CompiledAccess::Level(held) if held >= level) && g.node.covers(at)),
        }
    }

    /// Whether any grant allows action `id` on some node where it can apply.
    pub fn holds_somewhere(&self, id: ActionId) -> bool {
        let Some(def) = catalog::get(id) else { return false };
        match self {
            GrantSet::Scopes { actions, .. } => actions.contains(id),
            GrantSet::Resources(grants) => {
                grants.iter().any(|g| g.access.allows(id, def.level) && def.applies_below(g.node.kind()))
            }
        }
    }

    /// Every action the set can allow somewhere (for scope sets, the set itself).
    pub fn scope_actions(&self) -> Option<ActionSet> {
        match self {
            GrantSet::Scopes { actions, .. } => Some(*actions),
            GrantSet::Resources(_) => None,
        }
    }

    /// The compiled resource grants, sorted by node (none for scope grants).
    pub fn resource_grants(&self) -> &[CompiledGrant] {
        match self {
            GrantSet::Scopes { .. } => &[],
            GrantSet::Resources(grants) => grants,
        }
    }
}

fn action_names(set: ActionSet) -> Vec<String> {
    set.iter().filter_map(catalog::get).map(|d| d.name.to_owned()).collect()
}

fn scope_denial(err: ScopeError, text: &str) -> Denial {
    let code = match err {
        ScopeError::TooLong { .. } | ScopeError::TooMany => DenyCode::TooLarge,
        _ => DenyCode::MalformedScope,
    };
    Denial::new(code, format!("scope {}: {err}", Quoted(text)))
}

fn compile_scopes(texts: &[String]) -> Result<GrantSet, Denial> {
    let total: usize = texts.iter().map(|t| t.len() + 1).sum();
    if texts.len() > scope::MAX_SCOPES || total > scope::MAX_TEXT {
        return Err(Denial::new(
            DenyCode::TooLarge,
            format!(
                "{} scope strings of {total} bytes exceed the limits ({} scopes, {} bytes)",
                texts.len(),
                scope::MAX_SCOPES,
                scope::MAX_TEXT
            ),
        ));
    }
    let mut requested = ActionSet::empty();
    let mut count = 0;
    for text in texts {
        let scopes = scope::parse(text).map_err(|e| scope_denial(e, text))?;
        count += scopes.len();
        if count > scope::MAX_SCOPES {
            return Err(scope_denial(ScopeError::TooMany, text));
        }
        for s in &scopes {
            requested = requested.union(resolve_scope(s)?);
        }
    }
    let actions = catalog::with_implied_base(requested);
    let (normalized, source) = normalize_scopes(actions);
    Ok(GrantSet::Scopes { actions, source, normalized })
}

/// The actions one scope names, checked against the catalog.
fn resolve_scope(s: &Scope) -> Result<ActionSet, Denial> {
    if !catalog::has_category(&s.category) {
        return Err(Denial::new(DenyCode::UnknownScope, format!("unknown scope category {}", Quoted(&s.category))));
    }
    match &s.actions {
        Actions::Bare => {
            let reads = catalog::reads_of(&s.category);
            if reads.is_empty() {
                return Err(Denial::new(
                    DenyCode::UnknownScope,
                    format!(
                        "scope {} grants nothing: every {} action needs more than read, so name the actions (e.g. {})",
                        Quoted(&s.category),
                        Quoted(&s.category),
                        Quoted(&example_of(&s.category)),
                    ),
                ));
            }
            Ok(reads)
        }
        Actions::All => Ok(catalog::in_category(&s.category)),
        Actions::Named(names) => {
            let mut set = ActionSet::empty();
            for name in names {
                let full = format!("{}:{name}", s.category);
                let id = catalog::lookup(&full).ok_or_else(|| {
                    Denial::new(
                        DenyCode::UnknownScope,
                        format!("scope {} has no restriction {}", Quoted(&s.category), Quoted(name)),
                    )
                })?;
                set.insert(id);
            }
            Ok(set)
        }
    }
}

fn example_of(category: &str) -> String {
    catalog::in_category(category).iter().filter_map(catalog::get).map(|d| d.name).next().unwrap_or(category).to_owned()
}

/// One normalised scope per category, in catalog order: bare when the category
/// holds exactly its read actions, else `category:a,b` (a base action, which has no
/// restriction to write, is implied by any other), or `category:*` when a base
/// action above read is all there is. `compile(normalized)` gives the same set.
fn normalize_scopes(actions: ActionSet) -> (Vec<String>, [u8; 128]) {
    let mut normalized: Vec<String> = Vec::new();
    let mut source = [0u8; 128];
    let mut categories: Vec<&'static str> = Vec::new();
    for id in actions.iter() {
        if let Some(def) = catalog::get(id)
            && !categories.contains(&def.category())
        {
            categories.push(def.category());
        }
    }
    for (index, category) in categories.iter().enumerate() {
        let held: Vec<(ActionId, &'static catalog::ActionDef)> = actions
            .iter()
            .filter_map(|id| catalog::get(id).map(|d| (id, d)))
            .filter(|(_, d)| d.category() == *category)
            .collect();
        let set: ActionSet = held.iter().map(|(id, _)| *id).collect();
        let restrictions: Vec<&str> = held.iter().filter_map(|(_, d)| d.restriction()).collect();
        let text = if set == catalog::reads_of(category) {
            (*category).to_owned()
        } else if restrictions.is_empty() {
            // Only a base action above read (cvescan's `create-scan`): a bare
            // category would mean read-only, so `*` is the exact way to write it.
            format!("{category}:*")
        } else {
            format!("{category}:{}", restrictions.join(","))
        };
        normalized.push(text);
        for (id, _) in &held {
            if let Some(slot) = source.get_mut(id.index()) {
                *slot = u8::try_from(index).unwrap_or(u8::MAX);
            }
        }
    }
    (normalized, source)
}

fn path_denial(err: PathError, resource: &str) -> Denial {
    let code = if matches!(err, PathError::TooLong { .. }) { DenyCode::TooLarge } else { DenyCode::InvalidGrant };
    Denial::new(code, format!("resource {}: {err}", Quoted(resource)))
}

fn compile_resources(grants: &[ResourceGrant]) -> Result<GrantSet, Denial> {
    if grants.len() > MAX_RESOURCE_GRANTS {
        return Err(Denial::new(
            DenyCode::TooLarge,
            format!("{} resource grants, more than the {MAX_RESOURCE_GRANTS} allowed", grants.len()),
        ));
    }
    let mut compiled: Vec<CompiledGrant> = Vec::with_capacity(grants.len());
    for grant in grants {
        let node = NodeRef::parse(&grant.resource).map_err(|e| path_denial(e, &grant.resource))?;
        let node = node.to_node();
        if !node.kind().def().bindable {
            return Err(Denial::new(
                DenyCode::InvalidGrant,
                format!("a grant cannot be bound to {} (a `{}`)", Quoted(&grant.resource), node.kind().name()),
            ));
        }
        let access = match &grant.access {
            Access::Level(level) => CompiledAccess::Level(*level),
            Access::Actions(names) => CompiledAccess::Actions(resolve_grant_actions(names, &node)?),
        };
        compiled.push(CompiledGrant { node, access });
    }
    compiled.sort_by(|a, b| a.node.cmp(&b.node));
    Ok(GrantSet::Resources(compiled))
}

fn resolve_grant_actions(names: &[String], node: &Node) -> Result<ActionSet, Denial> {
    if names.is_empty() {
        return Err(Denial::new(
            DenyCode::InvalidGrant,
            format!("grant on {} lists no actions", Quoted(&node.to_string())),
        ));
    }
    if names.len() > MAX_GRANT_ACTIONS {
        return Err(Denial::new(
            DenyCode::TooLarge,
            format!("grant on {} lists {} actions", Quoted(&node.to_string()), names.len()),
        ));
    }
    let mut set = ActionSet::empty();
    for name in names {
        let id = catalog::lookup(name)
            .ok_or_else(|| Denial::new(DenyCode::InvalidGrant, format!("unknown action {}", Quoted(name))))?;
        let Some(def) = catalog::get(id) else { continue };
        if !def.applies_below(node.kind()) {
            return Err(Denial::new(
                DenyCode::InvalidGrant,
                format!("action {} can never apply at or below {}", Quoted(name), Quoted(&node.to_string())),
            ));
        }
        if !set.insert(id) {
            return Err(Denial::new(DenyCode::InvalidGrant, format!("action {} is listed twice", Quoted(name))));
        }
    }
    Ok(catalog::with_implied_base(set))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(texts: &[&str]) -> Result<GrantSet, Denial> {
        GrantSet::compile(&Grants::Scopes(texts.iter().map(|t| (*t).to_owned()).collect()))
    }

    fn normalized(texts: &[&str]) -> Vec<String> {
        match scopes(texts).map(|g| g.normalized()) {
            Ok(Grants::Scopes(s)) => s,
            other => unreachable!("{other:?}"),
        }
    }

    #[test]
    fn bare_category_normalises_to_itself_and_actions_imply_reads() {
        assert_eq!(normalized(&["artifact"]), ["artifact"]);
        assert_eq!(normalized(&["artifact:delete"]), ["artifact:delete"]);
        assert_eq!(normalized(&["artifact:view,download"]), ["artifact"]);
        assert_eq!(
            normalized(&["certificate:approve,delete;configuration"]),
            ["certificate:approve,delete", "configuration"]
        );
    }

    #[test]
    fn star_expands_to_every_action_of_the_category_only() {
        assert_eq!(normalized(&["channel:*"]), ["channel:create,delete,edit,history,view,view-artifacts"]);
    }

    #[test]
    fn normalising_is_idempotent() {
        for texts in
            [&["artifact:delete"][..], &["ssh:*", "admin"], &["subchannel.mirror:edit", "cve"], &["create-scan:*"]]
        {
            let once = normalized(texts);
            let refs: Vec<&str> = once.iter().map(String::as_str).collect();
            assert_eq!(normalized(&refs), once);
        }
    }

    #[test]
    fn unknown_restriction_is_named() {
        let err = scopes(&["codesignclient:manage"]).err();
        assert_eq!(err.as_ref().map(|d| d.code), Some(DenyCode::UnknownScope));
        assert!(err.is_some_and(|d| d.message.contains("has no restriction `manage`")));
    }

    #[test]
    fn bare_category_without_read_actions_is_refused() {
        assert_eq!(scopes(&["mirror"]).err().map(|d| d.code), Some(DenyCode::UnknownScope));
    }

    #[test]
    fn resource_grants_check_kind_and_actions() {
        let bad = |g: ResourceGrant| GrantSet::compile(&Grants::Resources(vec![g])).err().map(|d| d.code);
        assert_eq!(bad(ResourceGrant::level("channel/a/artifact/x", Level::Read)), Some(DenyCode::InvalidGrant));
        assert_eq!(bad(ResourceGrant::actions("channel/a", &["role:edit"])), Some(DenyCode::InvalidGrant));
        assert_eq!(bad(ResourceGrant::actions("channel/a", &["channel:vie"])), Some(DenyCode::InvalidGrant));
        assert_eq!(bad(ResourceGrant::actions("channel/a", &[])), Some(DenyCode::InvalidGrant));
        assert_eq!(bad(ResourceGrant::level("channel/../x", Level::Read)), Some(DenyCode::InvalidGrant));
        assert_eq!(bad(ResourceGrant::actions("vault/a", &["create-scan"])), None);
    }
}
