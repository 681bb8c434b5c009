//! The module graph of a crate's sources, read with `syn`: which module's code
//! names which other module (`use crate::a::b`, `crate::a::f()`, `super::x`),
//! test code left out, and the cycles in it. The layering test asserts there are
//! none: two modules that need each other are one module, or need a third.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use syn::visit::Visit;

/// A module, by its path from the crate root (`["authority", "verify"]`).
pub type ModPath = Vec<String>;

/// Which module names which.
#[derive(Debug, Default)]
pub struct Graph {
    modules: BTreeSet<ModPath>,
    edges: BTreeMap<ModPath, BTreeSet<ModPath>>,
}

impl Graph {
    /// Reads every `.rs` file under `src` (a crate's source root).
    pub fn read(src: &Path) -> Result<Graph> {
        let mut files = Vec::new();
        collect(src, &mut files)?;
        let mut parsed = Vec::new();
        let mut graph = Graph::default();
        for file in files {
            let module = module_of(src, &file);
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("failed to read `{}`", file.display()))?;
            let ast = syn::parse_file(&text).with_context(|| format!("failed to parse `{}`", file.display()))?;
            graph.modules.insert(module.clone());
            inline_modules(&ast.items, &module, &mut graph.modules);
            parsed.push((module, ast));
        }
        for (module, ast) in &parsed {
            let mut names = Names { graph: &mut graph, stack: vec![module.clone()], in_pub_use: false };
            for item in &ast.items {
                names.visit_item(item);
            }
        }
        Ok(graph)
    }

    /// How many references between distinct modules were found.
    pub fn edge_count(&self) -> usize {
        self.edges.values().map(BTreeSet::len).sum()
    }

    /// The graph with every module cut to its first `depth` segments; references
    /// inside one cut module are dropped.
    pub fn at_depth(&self, depth: usize) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        let cut = |m: &ModPath| m.iter().take(depth).cloned().collect::<ModPath>();
        let mut out: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
        for (from, tos) in &self.edges {
            for to in tos {
                let (a, b) = (cut(from), cut(to));
                if a != b {
                    out.entry(a).or_default().insert(b);
                }
            }
        }
        out
    }

    /// Every set of (cut) modules that reach each other, each as `a -> b -> a`.
    pub fn cycles(&self, depth: usize) -> Vec<String> {
        let edges = self.at_depth(depth);
        strongly_connected(&edges)
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| c.iter().map(|m| if m.is_empty() { "crate".to_owned() } else { m.join("::") }).collect::<Vec<_>>())
            .map(|names| names.join(" <-> "))
            .collect()
    }

    fn add(&mut self, from: &ModPath, to: &ModPath) {
        if from != to {
            self.edges.entry(from.clone()).or_default().insert(to.clone());
        }
    }

    /// The longest known module that `path` (from the crate root) lies in.
    fn module_of_path(&self, path: &[String]) -> Option<ModPath> {
        (0..=path.len()).rev().filter_map(|n| path.get(..n)).map(<[String]>::to_vec).find(|m| self.modules.contains(m))
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("failed to list `{}`", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// `authority/verify.rs` is `authority::verify`; `mod.rs`, `lib.rs` and `main.rs` name their directory.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: ModPath = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|last| matches!(last.as_str(), "mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("cfg") && a.parse_args::<syn::Meta>().is_ok_and(|m| m.path().is_ident("test")))
}

fn inline_modules(items: &[syn::Item], at: &ModPath, out: &mut BTreeSet<ModPath>) {
    for item in items {
        if let syn::Item::Mod(m) = item
            && !is_test(&m.attrs)
        {
            let mut path = at.clone();
            path.push(m.ident.to_string());
            out.insert(path.clone());
            if let Some((_, items)) = &m.content {
                inline_modules(items, &path, out);
            }
        }
    }
}

/// Walks one file, recording every path that names another module of the crate.
struct Names<'g> {
    graph: &'g mut Graph,
    stack: Vec<ModPath>,
    in_pub_use: bool,
}

impl Names<'_> {
    fn here(&self) -> ModPath {
        self.stack.last().cloned().unwrap_or_default()
    }

    /// Records `segments` as named from the current module.
    fn name(&mut self, segments: &[String]) {
        let here = self.here();
        let Some((first, rest)) = segments.split_first() else { return };
        let absolute: ModPath = match first.as_str() {
            "crate" => rest.to_vec(),
            "super" => {
                let mut base = here.clone();
                base.pop();
                let mut rest = rest;
                while let Some(("super", further)) = rest.split_first().map(|(s, r)| (s.as_str(), r)) {
                    base.pop();
                    rest = further;
                }
                base.extend(rest.iter().cloned());
                base
            }
            "self" => here.iter().chain(rest).cloned().collect(),
            child => {
                let mut candidate = here.clone();
                candidate.push(child.to_owned());
                if !self.graph.modules.contains(&candidate) {
                    return; // another crate, or a local name
                }
                here.iter().chain(segments).cloned().collect()
            }
        };
        let Some(target) = self.graph.module_of_path(&absolute) else { return };
        // A facade re-exporting its own children (`pub use lifecycle::Expiry;`) depends on nothing.
        if self.in_pub_use && target.starts_with(&here) {
            return;
        }
        self.graph.add(&here, &target);
    }
}

fn flatten(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => out.push(prefix.iter().cloned().chain([n.ident.to_string()]).collect()),
        syn::UseTree::Rename(r) => out.push(prefix.iter().cloned().chain([r.ident.to_string()]).collect()),
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => {
            for tree in &g.items {
                flatten(tree, prefix, out);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Names<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            syn::Item::Macro(i) => &i.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if let Some((_, items)) = &m.content {
            let mut path = self.here();
            path.push(m.ident.to_string());
            self.stack.push(path);
            for item in items {
                self.visit_item(item);
            }
            self.stack.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut paths = Vec::new();
        flatten(&u.tree, &mut Vec::new(), &mut paths);
        self.in_pub_use = !matches!(u.vis, syn::Visibility::Inherited);
        for path in paths {
            self.name(&path);
        }
        self.in_pub_use = false;
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.first().is_some_and(|s| matches!(s.as_str(), "crate" | "super" | "self")) {
            self.name(&segments);
        }
        syn::visit::visit_path(self, path);
    }
}

/// Tarjan's algorithm: the strongly connected components of `edges`.
fn strongly_connected(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    struct State<'e> {
        edges: &'e BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<ModPath, usize>,
        low: BTreeMap<ModPath, usize>,
        stack: Vec<ModPath>,
        on_stack: BTreeSet<ModPath>,
        out: Vec<Vec<ModPath>>,
    }
    fn visit(s: &mut State<'_>, v: &ModPath) {
        let n = s.index.len();
        s.index.insert(v.clone(), n);
        s.low.insert(v.clone(), n);
        s.stack.push(v.clone());
        s.on_stack.insert(v.clone());
        for w in s.edges.get(v).into_iter().flatten() {
            let reached = if !s.index.contains_key(w) {
                visit(s, w);
                s.low.get(w).copied()
            } else if s.on_stack.contains(w) {
                s.index.get(w).copied()
            } else {
                None
            };
            if let (Some(reached), Some(low)) = (reached, s.low.get_mut(v)) {
                *low = (*low).min(reached);
            }
        }
        if s.low.get(v) == s.index.get(v) {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                let done = &w == v;
                component.push(w);
                if done {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let nodes: BTreeSet<ModPath> = edges.iter().flat_map(|(a, bs)| std::iter::once(a).chain(bs)).cloned().collect();
    let mut state = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for node in &nodes {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.out
}
