//! The action catalog: every action this policy knows, once, with the level it
//! needs, the resource kinds it acts on and a description. It is the one source of
//! truth for scopes: the host and the CLI read it through the `catalog` export.

use crate::action_set::ActionSet;
use crate::model::Level;
use crate::resource::Kind;

/// One action of the catalog.
#[derive(Debug)]
pub struct ActionDef {
    /// `category[.sub]:action`, or a bare category for its base (read) action.
    pub name: &'static str,
    /// The level a resource grant must hold on the target (or its parent) for this action.
    pub level: Level,
    /// The kinds of resource a request for this action may name.
    pub targets: &'static [Kind],
    /// Whether the level is needed on the target's parent rather than on the target.
    pub on_parent: bool,
    /// What the action does, in one line (shown by `tokenscope catalog`).
    pub description: &'static str,
    /// Which seed the action comes from: `psm`, `venafi` or `cvescan` (`tokenscope` for the host's own).
    pub source: &'static str,
}

impl ActionDef {
    /// The part before `:`, or the whole name for a bare action.
    pub fn category(&self) -> &'static str {
        self.name.split_once(':').map_or(self.name, |(c, _)| c)
    }

    /// The part after `:`; `None` for a category's base action.
    pub fn restriction(&self) -> Option<&'static str> {
        self.name.split_once(':').map(|(_, r)| r)
    }

    /// Whether a grant bound at a node of `kind` can ever allow this action.
    pub fn applies_below(&self, kind: Kind) -> bool {
        self.targets
            .iter()
            .any(|t| if self.on_parent { t.def().parents.iter().any(|p| kind.reaches(*p)) } else { kind.reaches(*t) })
    }
}

pub use crate::action_set::ActionId;

const ROOT: &[Kind] = &[Kind::Root];
const ARTIFACT: &[Kind] = &[Kind::Channel, Kind::Subchannel, Kind::Artifact];
const CHANNEL: &[Kind] = &[Kind::Channel];
const SUBCHANNEL: &[Kind] = &[Kind::Subchannel];
const SCAN_NODES: &[Kind] = &[Kind::Vault, Kind::Project, Kind::Component];
const TOKENS: &[Kind] = &[Kind::Root, Kind::User];

const fn act(
    name: &'static str,
    level: Level,
    targets: &'static [Kind],
    description: &'static str,
    source: &'static str,
) -> ActionDef {
    ActionDef { name, level, targets, on_parent: false, description, source }
}

const fn on_parent(
    name: &'static str,
    level: Level,
    targets: &'static [Kind],
    description: &'static str,
    source: &'static str,
) -> ActionDef {
    ActionDef { name, level, targets, on_parent: true, description, source }
}

use Level::{Manage, Read, Write};

/// Every action, sorted by name (byte order), so lookups are binary searches.
pub static CATALOG: [ActionDef; 74] = [
    act("admin", Read, ROOT, "read administrative endpoints (e.g. GET Log/LogSchema)", "venafi"),
    act("admin:recyclebin", Manage, ROOT, "empty and restore the recycle bin", "venafi"),
    act("agent", Read, ROOT, "read agent resources (e.g. GET Client/Details)", "venafi"),
    act("artifact:create", Write, ARTIFACT, "upload artifacts (write on the parent channel or subchannel)", "psm"),
    act("artifact:delete", Manage, ARTIFACT, "delete artifacts (manage on the parent channel or subchannel)", "psm"),
    act("artifact:download", Read, ARTIFACT, "download artifacts", "psm"),
    act("artifact:edit", Manage, ARTIFACT, "edit artifacts (manage on the parent channel or subchannel)", "psm"),
    act("artifact:view", Read, ARTIFACT, "view artifacts", "psm"),
    act("certificate", Read, ROOT, "read certificates", "venafi"),
    act("certificate:approve", Write, ROOT, "approve certificate requests", "venafi"),
    act("certificate:delete", Manage, ROOT, "delete certificates", "venafi"),
    act("certificate:discover", Write, ROOT, "run certificate discovery", "venafi"),
    act("certificate:manage", Manage, ROOT, "request, renew and manage certificates", "venafi"),
    act("certificate:revoke", Write, ROOT, "revoke certificates", "venafi"),
    act("channel.default-channel:edit", Manage, ROOT, "set the default channel", "psm"),
    act("channel.group:edit", Manage, ROOT, "edit channel groups", "psm"),
    act("channel.group:view", Read, ROOT, "view channel groups", "psm"),
    act("channel.mirror:edit", Manage, CHANNEL, "edit a channel's mirrors", "psm"),
    act("channel.mirror:view", Manage, CHANNEL, "view a channel's mirrors", "psm"),
    on_parent("channel:create", Write, CHANNEL, "create channels (write on the root)", "psm"),
    act("channel:delete", Manage, CHANNEL, "delete a channel", "psm"),
    act("channel:edit", Manage, CHANNEL, "edit a channel", "psm"),
    act("channel:history", Manage, CHANNEL, "view a channel's history", "psm"),
    act("channel:view", Read, CHANNEL, "view a channel", "psm"),
    act("channel:view-artifacts", Read, CHANNEL, "list a channel's artifacts", "psm"),
    act("codesign", Read, ROOT, "read CodeSign Protect administration", "venafi"),
    act("codesign:approve", Write, ROOT, "approve code signing requests", "venafi"),
    act("codesign:delete", Manage, ROOT, "delete CodeSign Protect objects", "venafi"),
    act(
        "codesign:manage",
        Manage,
        ROOT,
        "administer CodeSign Protect (e.g. POST Codesign/CreateApplication)",
        "venafi",
    ),
    act("codesignclient", Read, ROOT, "use CodeSign Protect signing endpoints (read-only privilege)", "venafi"),
    act("configuration", Read, ROOT, "read policy, metadata, engine and workflow configuration", "venafi"),
    act("configuration:delete", Manage, ROOT, "delete configuration objects", "venafi"),
    act("configuration:manage", Manage, ROOT, "manage configuration (e.g. POST Config/Find)", "venafi"),
    act("create-scan", Write, SCAN_NODES, "use the create (import) scan API", "cvescan"),
    act("cve:edit", Manage, ROOT, "edit CVEs", "psm"),
    act("cve:view", Read, ROOT, "view CVEs", "psm"),
    act("mirror:view", Manage, ROOT, "view mirrors", "psm"),
    act("restricted", Read, ROOT, "read low-level data (e.g. SecretStore/LookupByVaultType)", "venafi"),
    act("restricted:delete", Manage, ROOT, "delete low-level objects", "venafi"),
    act("restricted:manage", Manage, ROOT, "manage low-level objects", "venafi"),
    act("role:edit", Manage, ROOT, "edit roles", "psm"),
    act("role:view", Read, ROOT, "view roles", "psm"),
    act("security", Read, ROOT, "read credentials and permissions", "venafi"),
    act("security:delete", Manage, ROOT, "delete credentials (e.g. POST Credentials/Delete)", "venafi"),
    act("security:manage", Manage, ROOT, "manage credentials and permissions", "venafi"),
    act("ssh", Read, ROOT, "read SSH keys and certificates (e.g. POST SSH/KeysetDetails)", "venafi"),
    act("ssh:approve", Write, ROOT, "approve SSH key requests", "venafi"),
    act("ssh:delete", Manage, ROOT, "delete SSH keys", "venafi"),
    act("ssh:discover", Write, ROOT, "run SSH discovery", "venafi"),
    act("ssh:manage", Manage, ROOT, "manage SSH keys and certificates", "venafi"),
    act("statistics", Read, ROOT, "read statistics (requires a vendor integration; read-only privilege)", "venafi"),
    act("subchannel.group:edit", Manage, ROOT, "edit subchannel groups", "psm"),
    act("subchannel.group:view", Read, ROOT, "view subchannel groups", "psm"),
    on_parent(
        "subchannel.mirror:edit",
        Manage,
        SUBCHANNEL,
        "edit a subchannel's mirrors (manage on the parent channel)",
        "psm",
    ),
    act("subchannel.mirror:view", Manage, SUBCHANNEL, "view a subchannel's mirrors", "psm"),
    on_parent("subchannel:create", Manage, SUBCHANNEL, "create subchannels (manage on the parent channel)", "psm"),
    act("subchannel:delete", Manage, SUBCHANNEL, "delete a subchannel", "psm"),
    act("subchannel:edit", Manage, SUBCHANNEL, "edit a subchannel", "psm"),
    act("subchannel:history", Manage, SUBCHANNEL, "view a subchannel's history", "psm"),
    act("subchannel:view", Read, SUBCHANNEL, "view a subchannel", "psm"),
    act("subchannel:view-artifacts", Read, SUBCHANNEL, "list a subchannel's artifacts", "psm"),
    act(
        "system.audit:view",
        Manage,
        ROOT,
        "read the whole audit trail: who changed which token, principal and policy, and when",
        "tokenscope",
    ),
    act("system.license:edit", Manage, ROOT, "edit the license", "psm"),
    act("system.license:view", Manage, ROOT, "view the license", "psm"),
    act("system.policy:edit", Manage, ROOT, "load a policy module into a running host, or roll back", "tokenscope"),
    act("system.policy:view", Read, ROOT, "see which policy module is active and which came before", "tokenscope"),
    act("system.principals:edit", Manage, ROOT, "add, bind, unbind and remove principals (token owners)", "tokenscope"),
    act("system.principals:view", Manage, ROOT, "list principals and their bindings", "tokenscope"),
    act("system.settings:edit", Manage, ROOT, "edit system settings", "psm"),
    act(
        "system.tokens:introspect",
        Manage,
        ROOT,
        "read any token's grants, owner rights and state by its secret's SHA-256, and the change feed (wasm gateways)",
        "tokenscope",
    ),
    act(
        "system.tokens:report-leak",
        Manage,
        ROOT,
        "report leaked secrets to POST /v1/leaks, which revokes each one that names a token (secret scanners)",
        "tokenscope",
    ),
    act("system:delete-blobs", Manage, ROOT, "delete unreferenced system blobs", "psm"),
    act("user.token:edit", Manage, TOKENS, "create, edit, reissue, revoke and delete tokens", "psm"),
    act("user.token:view", Manage, TOKENS, "list and view tokens", "psm"),
];

const _: () = assert!(CATALOG.len() <= ActionSet::CAPACITY, "the catalog outgrew ActionSet");

/// The id of the action named exactly `name`.
pub fn lookup(name: &str) -> Option<ActionId> {
    CATALOG.binary_search_by(|def| def.name.cmp(name)).ok().and_then(ActionId::from_index)
}

/// The action with id `id`, if the catalog has one.
pub fn get(id: ActionId) -> Option<&'static ActionDef> {
    CATALOG.get(id.index())
}

/// Whether any action belongs to `category`.
pub fn has_category(category: &str) -> bool {
    CATALOG.iter().any(|def| def.category() == category)
}

/// Every action of `category`.
pub fn in_category(category: &str) -> ActionSet {
    CATALOG
        .iter()
        .enumerate()
        .filter(|(_, def)| def.category() == category)
        .filter_map(|(id, _)| ActionId::from_index(id))
        .collect()
}

/// The read-level actions of `category`: what a bare scope grants.
pub fn reads_of(category: &str) -> ActionSet {
    CATALOG
        .iter()
        .enumerate()
        .filter(|(_, def)| def.category() == category && def.level == Level::Read)
        .filter_map(|(id, _)| ActionId::from_index(id))
        .collect()
}

/// The base action of `category`: the one named by the bare category itself
/// (venafi's read-only `certificate`), if the category has one.
pub fn base_of(category: &str) -> Option<ActionId> {
    lookup(category)
}

/// `set` plus the base action of every category it touches: holding
/// `certificate:approve` also reads certificates. Other actions are never implied,
/// so `channel:view` does not grant `channel:view-artifacts`.
pub fn with_implied_base(set: ActionSet) -> ActionSet {
    let mut out = set;
    for id in set.iter() {
        if let Some(base) = get(id).and_then(|def| base_of(def.category())) {
            out.insert(base);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_sorted_and_unique_so_lookup_works() {
        for pair in CATALOG.windows(2) {
            if let [a, b] = pair {
                assert!(a.name < b.name, "`{}` must sort before `{}`", a.name, b.name);
            }
        }
        for (id, def) in CATALOG.iter().enumerate() {
            assert_eq!(lookup(def.name), ActionId::from_index(id));
        }
    }

    #[test]
    fn psm_levels_follow_the_scope_table() {
        let level = |name: &str| lookup(name).and_then(get).map(|d| d.level);
        assert_eq!(level("artifact:create"), Some(Level::Write));
        assert_eq!(level("channel:edit"), Some(Level::Manage));
        assert_eq!(level("channel.mirror:view"), Some(Level::Manage));
        assert_eq!(level("channel:view"), Some(Level::Read));
        assert_eq!(level("user.token:view"), Some(Level::Manage));
    }

    #[test]
    fn prefixes_of_actions_are_not_actions() {
        assert_eq!(lookup("channel:view-art"), None);
        assert_eq!(lookup("channel:vie"), None);
        assert_eq!(lookup("channel"), None);
    }

    #[test]
    fn bare_categories_read_only_their_read_actions() {
        let names = |set: ActionSet| set.iter().filter_map(get).map(|d| d.name).collect::<Vec<_>>();
        assert_eq!(names(reads_of("artifact")), ["artifact:download", "artifact:view"]);
        assert_eq!(names(reads_of("certificate")), ["certificate"]);
        assert!(reads_of("mirror").is_empty());
    }

    #[test]
    fn on_parent_actions_apply_below_the_parent_only() {
        let create = lookup("subchannel:create").and_then(get);
        assert_eq!(create.map(|d| d.applies_below(Kind::Channel)), Some(true));
        assert_eq!(create.map(|d| d.applies_below(Kind::Subchannel)), Some(false));
        let role = lookup("role:edit").and_then(get);
        assert_eq!(role.map(|d| d.applies_below(Kind::Channel)), Some(false));
        assert_eq!(role.map(|d| d.applies_below(Kind::Root)), Some(true));
    }
}
