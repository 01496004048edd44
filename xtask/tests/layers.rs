//! xtask's folders are its layers: this test reads every `use crate::...`, `crate::x::...`,
//! `super::...` and `self::...` path in `xtask/src` (test modules excluded) and checks
//!
//! 1. that every import between top-level modules is allowed by the table in ARCHITECTURE.md
//!    ("What may import what"), so the table and the code cannot drift apart, and
//! 2. that no two modules import each other, directly or round a longer loop (a module is a
//!    file, or a folder's `mod.rs`; one folder module importing its own parent is part of
//!    the folder, not a cycle), and
//! 3. that no command imports another: a module under `commands/X` imports nothing from
//!    `commands/Y` (the table's line `commands/* -> ...`); what two commands share lives a
//!    layer down, and
//! 4. that a folder's `mod.rs` holds declarations and re-exports only (the logic lives in
//!    named files), and that no file imports with a glob (`use super::*`) outside its tests:
//!    every import names what it takes, so the graph above is the real one.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

type ModPath = Vec<String>;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, with the module path it defines (`main.rs` is the root).
fn modules() -> BTreeMap<ModPath, PathBuf> {
    fn walk(dir: &Path, prefix: &ModPath, out: &mut BTreeMap<ModPath, PathBuf>) {
        for entry in fs::read_dir(dir).expect("xtask/src is readable") {
            let path = entry.expect("a directory entry").path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let mut module = prefix.clone();
            if path.is_dir() {
                module.push(stem);
                walk(&path, &module, out);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            if stem != "mod" && !(prefix.is_empty() && stem == "main") {
                module.push(stem);
            }
            out.insert(module, path);
        }
    }
    let mut out = BTreeMap::new();
    walk(&src_dir(), &Vec::new(), &mut out);
    out
}

/// Paths named in one file, outside `#[cfg(test)]` items.
#[derive(Default)]
struct Paths(Vec<Vec<String>>);

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

fn flatten(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(path) => {
            prefix.push(path.ident.to_string());
            flatten(&path.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(name) => {
            let mut full = prefix.clone();
            if name.ident != "self" {
                full.push(name.ident.to_string());
            }
            out.push(full);
        }
        syn::UseTree::Rename(rename) => {
            let mut full = prefix.clone();
            full.push(rename.ident.to_string());
            out.push(full);
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(group) => {
            for item in &group.items {
                flatten(item, prefix, out);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if !is_cfg_test(&item.attrs) {
            flatten(&item.tree, &mut Vec::new(), &mut self.0);
        }
    }
    // `pub(super)` names a module to be visible in, not one that is used.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}
    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.0
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }
}

/// The module a path names, if it is one of ours: `crate::a::b::Item` is `a::b` when that is
/// a module (the longest module prefix).
fn resolve(from: &ModPath, path: &[String], known: &BTreeMap<ModPath, PathBuf>) -> Option<ModPath> {
    let (mut base, rest): (ModPath, &[String]) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (from.clone(), &path[1..]),
        "super" => {
            let mut base = from.clone();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
            (base, rest)
        }
        // A bare path names a child module of this one (`table::table` in `verify/mod.rs`,
        // `commands::...` in `main.rs`).
        first => {
            let mut child = from.clone();
            child.push(first.to_owned());
            if !known.contains_key(&child) {
                return None;
            }
            (from.clone(), path)
        }
    };
    let mut found = known.contains_key(&base).then(|| base.clone());
    for segment in rest {
        base.push(segment.clone());
        if !known.contains_key(&base) {
            break;
        }
        found = Some(base.clone());
    }
    found
}

/// Module -> the modules it imports.
fn imports() -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let known = modules();
    let mut graph = BTreeMap::new();
    for (module, file) in &known {
        let text = fs::read_to_string(file).expect("source is readable");
        let parsed = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
        let mut paths = Paths::default();
        paths.visit_file(&parsed);
        let targets: BTreeSet<ModPath> = paths
            .0
            .iter()
            .filter_map(|path| resolve(module, path, &known))
            .filter(|target| target != module)
            .collect();
        graph.insert(module.clone(), targets);
    }
    graph
}

fn layer(module: &ModPath) -> String {
    module.first().cloned().unwrap_or_else(|| "main".to_owned())
}

fn show(module: &ModPath) -> String {
    if module.is_empty() {
        "main".to_owned()
    } else {
        module.join("::")
    }
}

/// The ```text block under the heading "What may import what" in ARCHITECTURE.md.
fn table_text() -> String {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md is readable");
    let section = doc
        .split("### What may import what")
        .nth(1)
        .expect("ARCHITECTURE.md has a section `### What may import what`");
    section
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("that section has a ```text block with the table")
        .to_owned()
}

/// The table in ARCHITECTURE.md: lines `layer -> a, b, c` (or `-> nothing`) in the ```text
/// block under the heading "What may import what". A line whose left side names a path
/// (`commands/*`) is a rule within a layer, checked by its own test.
fn allowed_table() -> BTreeMap<String, BTreeSet<String>> {
    let block = table_text();
    let mut table = BTreeMap::new();
    for line in block.lines() {
        let Some((from, to)) = line.split_once("->") else {
            continue;
        };
        if from.contains('/') {
            continue;
        }
        let allowed: BTreeSet<String> = to
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty() && *s != "nothing")
            .map(str::to_owned)
            .collect();
        table.insert(from.trim().to_owned(), allowed);
    }
    assert!(
        !table.is_empty(),
        "the table under `### What may import what` has no `layer -> ...` lines"
    );
    table
}

#[test]
fn every_import_between_layers_is_allowed_by_architecture_md() {
    let table = allowed_table();
    let graph = imports();
    let mut wrong = Vec::new();
    for (module, targets) in &graph {
        let from = layer(module);
        let Some(allowed) = table.get(&from) else {
            wrong.push(format!(
                "`{from}` (src/{}) is a top-level module the table in ARCHITECTURE.md does not list",
                show(module)
            ));
            continue;
        };
        for target in targets {
            let to = layer(target);
            if to != from && !allowed.contains(&to) {
                wrong.push(format!(
                    "{} imports {}: `{from}` may import only {:?} (ARCHITECTURE.md, \"What may \
                     import what\"); move the shared item down a layer or the caller up",
                    show(module),
                    show(target),
                    allowed
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn no_module_imports_itself_round_a_loop() {
    let graph = imports();
    // A folder module's children may use the folder's `mod.rs` (their parent): that edge is the
    // folder talking to itself and is left out; every other edge counts.
    let edges = |module: &ModPath| -> Vec<ModPath> {
        graph[module]
            .iter()
            .filter(|target| !module.starts_with(target))
            .cloned()
            .collect()
    };
    // Depth-first search with colours; a grey node reached again closes a cycle.
    fn visit(
        node: &ModPath,
        edges: &dyn Fn(&ModPath) -> Vec<ModPath>,
        colour: &mut BTreeMap<ModPath, u8>,
        stack: &mut Vec<ModPath>,
        cycles: &mut Vec<String>,
    ) {
        colour.insert(node.clone(), 1);
        stack.push(node.clone());
        for next in edges(node) {
            match colour.get(&next).copied().unwrap_or(0) {
                0 => visit(&next, edges, colour, stack, cycles),
                1 => {
                    let start = stack.iter().position(|m| *m == next).unwrap();
                    let mut names: Vec<String> = stack[start..].iter().map(show).collect();
                    names.push(show(&next));
                    cycles.push(names.join(" -> "));
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(node.clone(), 2);
    }
    let mut colour = BTreeMap::new();
    let mut cycles = Vec::new();
    for module in graph.keys() {
        if !colour.contains_key(module) {
            visit(module, &edges, &mut colour, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles in xtask/src (each module must sit above or below the other, never \
         both: move what both need into the lower one):\n{}",
        cycles.join("\n")
    );
}

/// The command a module belongs to: `commands::grade::class` is in `grade`.
fn command_of(module: &ModPath) -> Option<&str> {
    match module.as_slice() {
        [first, command, ..] if first == "commands" => Some(command),
        _ => None,
    }
}

#[test]
fn no_command_imports_another() {
    let rule = "commands/* -> their own folder only";
    assert!(
        table_text()
            .lines()
            .any(|l| l.trim_start().starts_with(rule)),
        "the table in ARCHITECTURE.md states the rule `{rule}`"
    );
    let mut wrong = Vec::new();
    for (module, targets) in imports() {
        let Some(from) = command_of(&module) else {
            continue;
        };
        for target in &targets {
            if let Some(to) = command_of(target)
                && to != from
            {
                wrong.push(format!(
                    "{} imports {}: a command imports no other command; move what both \
                     need down a layer (exec/, course/, report/)",
                    show(&module),
                    show(target)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `cargo test -p xtask -- --nocapture print_the_import_graph` prints the graph ARCHITECTURE.md
/// shows, one module per line with what it imports.
#[test]
fn print_the_import_graph() {
    for (module, targets) in imports() {
        let names: Vec<String> = targets.iter().map(show).collect();
        println!("{:<28} -> {}", show(&module), names.join(", "));
    }
}

/// Functions longer than this are split into named steps (the developers' guide).
const MAX_FUNCTION_LINES: usize = 80;

/// Every function of `xtask/src` outside test modules: (file, name, lines).
#[derive(Default)]
struct Functions(Vec<(String, usize)>);

impl<'ast> Visit<'ast> for Functions {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_cfg_test(&item.attrs) {
            self.record(&item.sig.ident, &item.block);
            syn::visit::visit_item_fn(self, item);
        }
    }
    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.record(&item.sig.ident, &item.block);
        syn::visit::visit_impl_item_fn(self, item);
    }
}

impl Functions {
    fn record(&mut self, name: &syn::Ident, block: &syn::Block) {
        use syn::spanned::Spanned;
        let span = block.span();
        let lines = span.end().line.saturating_sub(span.start().line) + 1;
        self.0.push((name.to_string(), lines));
    }
}

#[test]
fn no_function_is_longer_than_80_lines() {
    let mut long = Vec::new();
    for (module, file) in modules() {
        let text = fs::read_to_string(&file).expect("source is readable");
        let parsed = syn::parse_file(&text).expect("source parses");
        let mut functions = Functions::default();
        functions.visit_file(&parsed);
        for (name, lines) in functions.0 {
            if lines > MAX_FUNCTION_LINES {
                long.push(format!("{}::{name}: {lines} lines", show(&module)));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines (split them into named steps):\n{}",
        long.join("\n")
    );
}

/// What a `mod.rs` item is, if it is more than a declaration or a re-export.
fn logic(item: &syn::Item) -> Option<String> {
    Some(match item {
        syn::Item::Mod(module) if module.content.is_none() => return None,
        syn::Item::Mod(module) if is_cfg_test(&module.attrs) => return None,
        syn::Item::Use(_) => return None,
        syn::Item::Mod(module) => format!("an inline `mod {}`", module.ident),
        syn::Item::Fn(function) => format!("`fn {}`", function.sig.ident),
        syn::Item::Struct(item) => format!("`struct {}`", item.ident),
        syn::Item::Enum(item) => format!("`enum {}`", item.ident),
        syn::Item::Const(item) => format!("`const {}`", item.ident),
        syn::Item::Static(item) => format!("`static {}`", item.ident),
        syn::Item::Type(item) => format!("`type {}`", item.ident),
        syn::Item::Trait(item) => format!("`trait {}`", item.ident),
        syn::Item::Impl(_) => "an `impl` block".to_owned(),
        _ => "an item that is not `mod` or `use`".to_owned(),
    })
}

#[test]
fn mod_rs_files_only_declare_and_re_export() {
    let mut wrong = Vec::new();
    for file in modules().values() {
        if file.file_name().is_none_or(|name| name != "mod.rs") {
            continue;
        }
        let text = fs::read_to_string(file).expect("source is readable");
        let parsed = syn::parse_file(&text).expect("source parses");
        for what in parsed.items.iter().filter_map(logic) {
            wrong.push(format!(
                "{}: {what}; a mod.rs holds `mod` and `use` only: move it into a named file",
                file.strip_prefix(src_dir()).unwrap_or(file).display()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `use` trees outside test modules that end in a glob.
#[derive(Default)]
struct Globs(usize);

fn has_glob(tree: &syn::UseTree) -> bool {
    match tree {
        syn::UseTree::Glob(_) => true,
        syn::UseTree::Path(path) => has_glob(&path.tree),
        syn::UseTree::Group(group) => group.items.iter().any(has_glob),
        syn::UseTree::Name(_) | syn::UseTree::Rename(_) => false,
    }
}

impl<'ast> Visit<'ast> for Globs {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_cfg_test(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if !is_cfg_test(&item.attrs) && has_glob(&item.tree) {
            self.0 += 1;
        }
    }
}

#[test]
fn no_glob_imports_outside_tests() {
    let mut wrong = Vec::new();
    for (module, file) in modules() {
        let text = fs::read_to_string(&file).expect("source is readable");
        let parsed = syn::parse_file(&text).expect("source parses");
        let mut globs = Globs::default();
        globs.visit_file(&parsed);
        if globs.0 > 0 {
            wrong.push(format!(
                "{}: {} glob import(s); name what is imported",
                show(&module),
                globs.0
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
