//! The resource tree: the kinds of node and how they nest, paths of `kind/name`
//! segments, and "does this node cover that one". Parsing a path borrows the input
//! and allocates nothing, because every decision parses one.

use std::fmt;

use thiserror::Error;

use crate::quote::Quoted;

mod scan;

/// The kinds of node. `Root` is the system root, the empty path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The system root, the empty path.
    Root,
    /// A vault (cvescan), `vault/NAME`.
    Vault,
    /// A project in a vault.
    Project,
    /// A component of a project.
    Component,
    /// A channel (psm), `channel/NAME`.
    Channel,
    /// A subchannel of a channel.
    Subchannel,
    /// An artifact in a channel or subchannel (never bound: grants sit above it).
    Artifact,
    /// A user's own node, `user/NAME`.
    User,
}

/// A kind's place in the tree.
pub struct KindDef {
    /// The kind described.
    pub kind: Kind,
    /// Its name in paths, e.g. `channel`.
    pub name: &'static str,
    /// The kinds a node of this kind may sit under.
    pub parents: &'static [Kind],
    /// Whether a token or an owner's right may be bound at this kind.
    pub bindable: bool,
    /// The kind whose manage right binding a token here needs, when not the node itself.
    pub admin_at: Option<Kind>,
}

/// Every kind, in `Kind` order.
pub static KINDS: [KindDef; 8] = [
    KindDef { kind: Kind::Root, name: "root", parents: &[], bindable: true, admin_at: None },
    KindDef { kind: Kind::Vault, name: "vault", parents: &[Kind::Root], bindable: true, admin_at: None },
    KindDef { kind: Kind::Project, name: "project", parents: &[Kind::Vault], bindable: true, admin_at: None },
    // cvescan: "Component-Level Tokens ... Creation: Requires project admin or higher role."
    KindDef {
        kind: Kind::Component,
        name: "component",
        parents: &[Kind::Project],
        bindable: true,
        admin_at: Some(Kind::Project),
    },
    KindDef { kind: Kind::Channel, name: "channel", parents: &[Kind::Root], bindable: true, admin_at: None },
    // psm: subchannel-level rights are administered by the parent channel's managers.
    KindDef {
        kind: Kind::Subchannel,
        name: "subchannel",
        parents: &[Kind::Channel],
        bindable: true,
        admin_at: Some(Kind::Channel),
    },
    KindDef {
        kind: Kind::Artifact,
        name: "artifact",
        parents: &[Kind::Channel, Kind::Subchannel],
        bindable: false,
        admin_at: None,
    },
    KindDef { kind: Kind::User, name: "user", parents: &[Kind::Root], bindable: true, admin_at: None },
];

impl Kind {
    /// The kind's place in the tree.
    pub fn def(self) -> &'static KindDef {
        // `KINDS` is in `Kind` order; the cast is the index.
        #[allow(clippy::indexing_slicing)]
        &KINDS[self as usize]
    }

    /// The kind's name in paths, e.g. `channel`.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The kind named `name` in a path segment (`root` is not written in paths).
    pub fn from_segment(name: &str) -> Option<Kind> {
        KINDS.iter().skip(1).find(|d| d.name == name).map(|d| d.kind)
    }

    /// The kind named `name`, `root` included.
    pub fn from_name(name: &str) -> Option<Kind> {
        KINDS.iter().find(|d| d.name == name).map(|d| d.kind)
    }

    /// Whether a node of this kind can have a node of kind `other` at or below it.
    pub fn reaches(self, other: Kind) -> bool {
        self == other || other.def().parents.iter().any(|p| self.reaches(*p))
    }
}

/// Paths longer than this are refused before they are looked at.
pub const MAX_PATH_LEN: usize = 512;
/// The deepest path: vault/project/component or channel/subchannel/artifact.
pub const MAX_DEPTH: usize = 3;
/// The longest name of one node.
pub const MAX_NAME_LEN: usize = 128;

/// Why a resource path does not parse.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PathError {
    /// The path is over `MAX_PATH_LEN` bytes.
    #[error("resource path is {len} bytes long, more than the {MAX_PATH_LEN} allowed")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Two `/` in a row, or one at an end.
    #[error("resource path {} has an empty segment", Quoted(.path))]
    EmptySegment {
        /// The path, for the message.
        path: String,
    },
    /// A segment names no kind of the tree.
    #[error("unknown resource kind {}", Quoted(.kind))]
    UnknownKind {
        /// The segment.
        kind: String,
    },
    /// A kind with no name after it.
    #[error("resource kind `{kind}` needs a name after it")]
    MissingName {
        /// The kind.
        kind: &'static str,
    },
    /// A name with characters a name may not have, or too long.
    #[error(
        "resource name {} is not allowed (use letters, digits, `.`, `_`, `+`, `-`, at most {MAX_NAME_LEN})",
        Quoted(.name)
    )]
    BadName {
        /// The name.
        name: String,
    },
    /// A kind under a parent it cannot sit under.
    #[error("a `{kind}` cannot sit under {}", under_text(.under))]
    CannotNest {
        /// The kind.
        kind: &'static str,
        /// The parent's kind.
        under: &'static str,
    },
    /// The path has more than `MAX_DEPTH` segments.
    #[error("resource path is deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

fn under_text(under: &str) -> String {
    if under == "root" { "the root".to_owned() } else { format!("a `{under}`") }
}

/// A parsed path that borrows its input: up to `MAX_DEPTH` (kind, name) segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeRef<'a> {
    segments: [(Kind, &'a str); MAX_DEPTH],
    depth: usize,
}

impl<'a> NodeRef<'a> {
    /// The root node, the empty path.
    pub const ROOT: NodeRef<'static> = NodeRef { segments: [(Kind::Root, ""); MAX_DEPTH], depth: 0 };

    /// Parses `kind/name[/kind/name...]`; `""` and `"/"` are the root, and one
    /// leading `/` is allowed. Every decision parses one, so a well-formed path
    /// is read eight bytes at a time (`scan`); any other goes to `parse_exact`.
    pub fn parse(path: &'a str) -> Result<NodeRef<'a>, PathError> {
        match scan::parse(path) {
            Some(node) => Ok(node),
            None => NodeRef::parse_exact(path),
        }
    }

    /// The parser that defines the grammar and its errors, reading each byte in
    /// turn; `parse` gives the same answer for every input (a property test and
    /// the `resource_path` fuzz target hold the two equal).
    #[doc(hidden)]
    pub fn parse_exact(path: &'a str) -> Result<NodeRef<'a>, PathError> {
        if path.len() > MAX_PATH_LEN {
            return Err(PathError::TooLong { len: path.len() });
        }
        let body = path.strip_prefix('/').unwrap_or(path);
        let mut node = NodeRef { segments: [(Kind::Root, ""); MAX_DEPTH], depth: 0 };
        if body.is_empty() {
            return Ok(node);
        }
        let empty = || PathError::EmptySegment { path: path.to_owned() };
        let mut rest = body;
        let mut parent = Kind::Root;
        loop {
            let (kind_text, after) = cut(rest);
            if kind_text.is_empty() {
                return Err(empty());
            }
            let kind =
                Kind::from_segment(kind_text).ok_or_else(|| PathError::UnknownKind { kind: kind_text.to_owned() })?;
            let after = after.ok_or(PathError::MissingName { kind: kind.name() })?;
            // The name ends at the first byte a name may not hold: the next `/`, or a bad byte.
            let end = after.bytes().position(|b| !name_byte(b)).unwrap_or(after.len());
            let (name, next) = match after.as_bytes().get(end) {
                None => (after, None),
                Some(b'/') => (after.get(..end).unwrap_or_default(), after.get(end + 1..)),
                Some(_) => {
                    let (name, _) = cut(after);
                    return Err(PathError::BadName { name: name.to_owned() });
                }
            };
            if name.is_empty() {
                return Err(empty());
            }
            if name.len() > MAX_NAME_LEN || name == "." || name == ".." {
                return Err(PathError::BadName { name: name.to_owned() });
            }
            if !kind.def().parents.contains(&parent) {
                return Err(PathError::CannotNest { kind: kind.name(), under: parent.name() });
            }
            let slot = node.segments.get_mut(node.depth).ok_or(PathError::TooDeep)?;
            *slot = (kind, name);
            node.depth += 1;
            parent = kind;
            match next {
                Some(next) => rest = next,
                None => return Ok(node),
            }
        }
    }

    /// The kind of the node (of its last segment).
    pub fn kind(&self) -> Kind {
        self.segments().last().map_or(Kind::Root, |(k, _)| *k)
    }

    /// How many segments deep the node is (0: the root).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Its segments, each kind with its name, from the top.
    pub fn segments(&self) -> &[(Kind, &'a str)] {
        self.segments.get(..self.depth).unwrap_or(&[])
    }

    /// The node one level up; the root is its own parent.
    pub fn parent(&self) -> NodeRef<'a> {
        let mut up = *self;
        up.depth = self.depth.saturating_sub(1);
        up
    }

    /// The node `levels` segments deep (an ancestor, or the node itself).
    pub fn ancestor(&self, levels: usize) -> NodeRef<'a> {
        let mut up = *self;
        up.depth = levels.min(self.depth);
        up
    }

    /// An owned copy, for compiled grants.
    pub fn to_node(&self) -> Node {
        Node { segments: self.segments().iter().map(|(k, n)| (*k, (*n).to_owned())).collect() }
    }
}

impl fmt::Display for NodeRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_path(f, self.segments().iter().map(|(k, n)| (*k, *n)))
    }
}

fn write_path<'n>(f: &mut fmt::Formatter<'_>, segments: impl Iterator<Item = (Kind, &'n str)>) -> fmt::Result {
    let mut first = true;
    for (kind, name) in segments {
        if !first {
            f.write_str("/")?;
        }
        first = false;
        write!(f, "{}/{name}", kind.name())?;
    }
    if first {
        f.write_str("/")?;
    }
    Ok(())
}

/// A path segment up to the next `/`, and what follows that `/` (none: the end).
fn cut(text: &str) -> (&str, Option<&str>) {
    match text.bytes().position(|b| b == b'/') {
        Some(at) => (text.get(..at).unwrap_or_default(), text.get(at + 1..)),
        None => (text, None),
    }
}

/// Names are short runs of `[A-Za-z0-9._+-]`, never `.` or `..`.
fn name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-')
}

/// An owned, validated node, kept in compiled grants.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    segments: Vec<(Kind, String)>,
}

impl Node {
    /// The root node.
    pub fn root() -> Node {
        Node { segments: Vec::new() }
    }

    /// The kind of the node.
    pub fn kind(&self) -> Kind {
        self.segments.last().map_or(Kind::Root, |(k, _)| *k)
    }

    /// A borrowed view, for comparisons with parsed paths.
    pub fn as_ref(&self) -> NodeRef<'_> {
        let mut node = NodeRef { segments: [(Kind::Root, ""); MAX_DEPTH], depth: 0 };
        for (slot, (kind, name)) in node.segments.iter_mut().zip(&self.segments) {
            *slot = (*kind, name.as_str());
            node.depth += 1;
        }
        node
    }

    /// Whether this node is `other` or one of its ancestors.
    pub fn covers(&self, other: &NodeRef<'_>) -> bool {
        self.segments.len() <= other.depth
            && self.segments.iter().zip(other.segments()).all(|((k1, n1), (k2, n2))| k1 == k2 && n1 == n2)
    }

    /// The node whose manage right binding a token here needs: the node itself,
    /// or its ancestor of the kind's `admin_at` kind.
    pub fn admin_node(&self) -> NodeRef<'_> {
        let me = self.as_ref();
        match self.kind().def().admin_at {
            Some(admin) => {
                let depth = self.segments.iter().position(|(k, _)| *k == admin).map_or(me.depth(), |i| i + 1);
                me.ancestor(depth)
            }
            None => me,
        }
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_path(f, self.segments.iter().map(|(k, n)| (*k, n.as_str())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(path: &str) -> Node {
        NodeRef::parse(path).map(|n| n.to_node()).unwrap_or_else(|e| unreachable!("{path}: {e}"))
    }

    #[test]
    fn every_kind_but_the_root_is_found_by_its_segment_name_and_nothing_else_is() {
        for def in KINDS.iter().skip(1) {
            assert_eq!(Kind::from_segment(def.name), Some(def.kind), "{}", def.name);
            let longer = format!("{}s", def.name);
            let shorter = def.name.get(..def.name.len() - 1).unwrap_or_default();
            let upper = def.name.to_uppercase();
            for near in [longer.as_str(), shorter, upper.as_str()] {
                assert_eq!(Kind::from_segment(near), None, "{near}");
            }
        }
        for other in ["root", "", "projekt", "chamnel"] {
            assert_eq!(Kind::from_segment(other), None, "{other}");
        }
    }

    #[test]
    fn empty_and_slash_are_the_root() {
        assert_eq!(NodeRef::parse("").map(|n| n.kind()), Ok(Kind::Root));
        assert_eq!(NodeRef::parse("/").map(|n| n.kind()), Ok(Kind::Root));
        assert_eq!(node("/").to_string(), "/");
    }

    #[test]
    fn nested_paths_parse_and_print_canonically() {
        let n = node("/vault/acme/project/web/component/api");
        assert_eq!(n.kind(), Kind::Component);
        assert_eq!(n.to_string(), "vault/acme/project/web/component/api");
        assert_eq!(node("channel/main/subchannel/nightly/artifact/numpy-1.26.0.tar.bz2").kind(), Kind::Artifact);
    }

    #[test]
    fn wrong_nesting_is_refused() {
        assert!(matches!(NodeRef::parse("project/web"), Err(PathError::CannotNest { .. })));
        assert!(matches!(NodeRef::parse("channel/a/component/b"), Err(PathError::CannotNest { .. })));
        assert!(matches!(
            NodeRef::parse("vault/a/project/b/component/c/component/d"),
            Err(PathError::CannotNest { .. })
        ));
    }

    #[test]
    fn traversal_and_empty_segments_are_refused() {
        assert!(matches!(NodeRef::parse("channel/.."), Err(PathError::BadName { .. })));
        assert!(matches!(NodeRef::parse("channel//main"), Err(PathError::EmptySegment { .. })));
        assert!(matches!(NodeRef::parse("channel/main/"), Err(PathError::EmptySegment { .. })));
        assert!(matches!(NodeRef::parse("channel"), Err(PathError::MissingName { .. })));
        assert!(matches!(NodeRef::parse("galaxy/x"), Err(PathError::UnknownKind { .. })));
        assert!(matches!(NodeRef::parse(&"a".repeat(10_000)), Err(PathError::TooLong { .. })));
        assert!(matches!(NodeRef::parse("channel/ma in"), Err(PathError::BadName { .. })));
    }

    #[test]
    fn a_node_covers_itself_and_what_is_below_it_only() {
        let vault = node("vault/acme");
        assert!(vault.covers(&NodeRef::parse("vault/acme/project/web/component/api").unwrap_or(NodeRef::ROOT)));
        assert!(vault.covers(&NodeRef::parse("vault/acme").unwrap_or(NodeRef::ROOT)));
        assert!(!vault.covers(&NodeRef::parse("vault/acme2").unwrap_or(NodeRef::ROOT)));
        assert!(!vault.covers(&NodeRef::ROOT));
        assert!(Node::root().covers(&NodeRef::parse("channel/x").unwrap_or(NodeRef::ROOT)));
        let component = node("vault/acme/project/web/component/api");
        assert!(!component.covers(&NodeRef::parse("vault/acme/project/web/component/db").unwrap_or(NodeRef::ROOT)));
    }

    #[test]
    fn admin_node_of_component_is_its_project_and_of_subchannel_its_channel() {
        assert_eq!(node("vault/a/project/p/component/c").admin_node().to_string(), "vault/a/project/p");
        assert_eq!(node("channel/main/subchannel/n").admin_node().to_string(), "channel/main");
        assert_eq!(node("vault/a").admin_node().to_string(), "vault/a");
    }

    #[test]
    fn kinds_reach_their_descendant_kinds() {
        assert!(Kind::Root.reaches(Kind::Artifact));
        assert!(Kind::Channel.reaches(Kind::Artifact));
        assert!(Kind::Subchannel.reaches(Kind::Artifact));
        assert!(!Kind::Subchannel.reaches(Kind::Channel));
        assert!(!Kind::Vault.reaches(Kind::Channel));
    }

    #[test]
    fn kinds_table_is_in_kind_order() {
        for (i, def) in KINDS.iter().enumerate() {
            assert_eq!(def.kind as usize, i);
        }
    }
}
