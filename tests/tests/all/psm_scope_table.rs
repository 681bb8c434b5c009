//! Every row of psm's "Available scopes" table, decided by the component: a
//! scope token holding the action is allowed when its owner holds exactly the
//! listed level on the node the row names, and denied one level lower.

use tokenscope::contract::Level;
use tokenscope::contract::level_name;
use tokenscope::verdict::Verdict;
use tokenscope_tests::modules::default_policy;
use tokenscope_tests::tokens::{request, scopes, token};

/// (action, level from the table, resource requested, node whose level counts)
const PSM_TABLE: &[(&str, Level, &str, &str)] = &[
    ("artifact:create", Level::Write, "channel/main/artifact/a.conda", "channel/main"),
    ("artifact:delete", Level::Manage, "channel/main/artifact/a.conda", "channel/main"),
    ("artifact:download", Level::Read, "channel/main/artifact/a.conda", "channel/main"),
    ("artifact:edit", Level::Manage, "channel/main/subchannel/dev/artifact/a.conda", "channel/main/subchannel/dev"),
    ("artifact:view", Level::Read, "channel/main/artifact/a.conda", "channel/main"),
    ("channel:create", Level::Write, "channel/new", "/"),
    ("channel:delete", Level::Manage, "channel/main", "channel/main"),
    ("channel:edit", Level::Manage, "channel/main", "channel/main"),
    ("channel:history", Level::Manage, "channel/main", "channel/main"),
    ("channel:view", Level::Read, "channel/main", "channel/main"),
    ("channel:view-artifacts", Level::Read, "channel/main", "channel/main"),
    ("channel.default-channel:edit", Level::Manage, "/", "/"),
    ("channel.group:edit", Level::Manage, "/", "/"),
    ("channel.group:view", Level::Read, "/", "/"),
    ("channel.mirror:edit", Level::Manage, "channel/main", "channel/main"),
    ("channel.mirror:view", Level::Manage, "channel/main", "channel/main"),
    ("subchannel:create", Level::Manage, "channel/main/subchannel/new", "channel/main"),
    ("subchannel:delete", Level::Manage, "channel/main/subchannel/dev", "channel/main/subchannel/dev"),
    ("subchannel:edit", Level::Manage, "channel/main/subchannel/dev", "channel/main/subchannel/dev"),
    ("subchannel:history", Level::Manage, "channel/main/subchannel/dev", "channel/main/subchannel/dev"),
    ("subchannel:view", Level::Read, "channel/main/subchannel/dev", "channel/main/subchannel/dev"),
    ("subchannel:view-artifacts", Level::Read, "channel/main/subchannel/dev", "channel/main/subchannel/dev"),
    ("subchannel.group:edit", Level::Manage, "/", "/"),
    ("subchannel.group:view", Level::Read, "/", "/"),
    ("subchannel.mirror:edit", Level::Manage, "channel/main/subchannel/dev", "channel/main"),
    ("subchannel.mirror:view", Level::Manage, "channel/main/subchannel/dev", "channel/main/subchannel/dev"),
    ("mirror:view", Level::Manage, "/", "/"),
    ("system.license:edit", Level::Manage, "/", "/"),
    ("system.license:view", Level::Manage, "/", "/"),
    ("cve:edit", Level::Manage, "/", "/"),
    ("cve:view", Level::Read, "/", "/"),
    ("role:edit", Level::Manage, "/", "/"),
    ("role:view", Level::Read, "/", "/"),
    ("system.settings:edit", Level::Manage, "/", "/"),
    ("system:delete-blobs", Level::Manage, "/", "/"),
    ("user.token:edit", Level::Manage, "/", "/"),
    ("user.token:view", Level::Manage, "/", "/"),
];

fn below(level: Level) -> Option<Level> {
    match level {
        Level::Read => None,
        Level::Write => Some(Level::Read),
        Level::Manage => Some(Level::Write),
    }
}

#[test]
fn catalog_lists_every_psm_row_at_its_level() {
    let module = default_policy().unwrap();
    for (action, level, _, _) in PSM_TABLE {
        let entry = module.catalog().iter().find(|e| e.action == *action);
        let entry = entry.unwrap_or_else(|| panic!("catalog lacks `{action}`"));
        assert_eq!(level_name(entry.level), level_name(*level), "level of `{action}`");
    }
}

#[test]
fn every_psm_row_needs_exactly_its_level_on_its_node() {
    let module = default_policy().unwrap();
    let mut instance = module.instantiate();
    let mut failures = Vec::new();
    for (action, level, resource, node) in PSM_TABLE {
        let owner = format!("{node}={}", level_name(*level));
        let t = token(scopes(&[action]), &[&owner]).unwrap();
        match instance.decide(&t, &request(action, resource, 1)) {
            Verdict::Allow { .. } => {}
            other => failures.push(format!("`{action}` with owner {owner}: {other:?}")),
        }
        if let Some(lower) = below(*level) {
            let owner = format!("{node}={}", level_name(lower));
            let t = token(scopes(&[action]), &[&owner]).unwrap();
            let verdict = instance.decide(&t, &request(action, resource, 1));
            if verdict.code_str() != "owner-lacks-right" {
                failures.push(format!("`{action}` with owner {owner}: expected owner-lacks-right, got {verdict:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn star_scopes_cover_their_category_and_nothing_else() {
    let mut instance = default_policy().unwrap().instantiate();
    for category in [
        "artifact",
        "channel",
        "channel.group",
        "channel.mirror",
        "subchannel",
        "subchannel.group",
        "subchannel.mirror",
        "cve",
        "role",
        "user.token",
        "system.license",
    ] {
        let star = format!("{category}:*");
        let t = token(scopes(&[&star]), &["/=manage"]).unwrap();
        for (action, _, resource, _) in PSM_TABLE {
            let in_category = action.split_once(':').map(|(c, _)| c) == Some(category);
            let allowed = instance.decide(&t, &request(action, resource, 1)).is_allow();
            assert_eq!(allowed, in_category, "`{star}` deciding `{action}`");
        }
    }
}
