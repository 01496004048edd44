//! The source gate: reads a stage's submitted files as the compiler does (a syntax tree from
//! `syn`, plus a walk over every macro's tokens, which `syn` leaves unparsed), and refuses
//! code that could reach past the test's verdict.
//!
//! Why a syntax tree and not a text scan: a text scan is evaded by spacing, comments, raw
//! identifiers, `use` aliases, attributes in Rust 2024's `#[unsafe(...)]` form and `cfg`s that
//! only one tool sees. Here every item is visited whatever its `cfg` (nothing is evaluated),
//! and every path is checked after `use` trees are flattened.
//!
//! What is refused, and why (the learner reads these reasons in the report):
//! * std modules that can end or replace the process, or write past libtest's capture:
//!   `process`, `fs`, `env`, `arch`, `intrinsics`, and `os` except `os::fd` (Stage 4 needs
//!   `AsFd`/`BorrowedFd`); renaming or glob-importing a crate root (`use std as s`,
//!   `use std::*`), which would hide those paths; `extern crate`;
//! * items that write to the process's own stdout/stderr or fd 1 (`stdout`, `stderr`,
//!   `FromRawFd`, ...) and panic-hook replacement;
//! * foreign ABIs (`extern "C"` blocks and functions: a way to call `_exit`), inline assembly,
//!   linker attributes (`no_mangle`, `export_name`, `link_section`, `used`, `link`, ...), which
//!   run code before `main` or interpose on libc;
//! * `include!`-family macros and `#[path]` (also `#[doc = include_str!(..)]`, also inside
//!   `cfg_attr`) that reach outside the stage's `src/`, `env!`/`option_env!` (the grader's
//!   environment at build time), and `#[debugger_visualizer]` (reads any path at build time);
//! * naming `long_running_const_eval` in an attribute (allowing endless `const` evaluation,
//!   which the build forbids anyway);
//! * `cfg`s keyed on the lint or grading tools (`clippy`, `miri`, ...);
//! * `unsafe`, unless the stage's `exercise.toml` says `allow_unsafe = true` (stages that
//!   teach pin projection or a hand-built `RawWaker`).
//!
//! In macro bodies and arguments (token streams), the same names are refused when they are
//! used as paths (next to `::` or followed by `!`), and a bare `std`/`core`/`alloc` that is not
//! the start of a path (`m!(std, process, exit)` could assemble a path inside the macro) is
//! refused too.

use std::path::{Component, Path, PathBuf};

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::visit::{self, Visit};

use super::names::Names;
use crate::course::{OnlyIn, Stage};
use crate::files::Sources;

/// What a stage allows.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    pub allow_unsafe: bool,
    /// Paths the stage's code may name only in some of its files (`[[gate.only_in]]`).
    pub only_in: Vec<OnlyIn>,
}

impl Policy {
    /// The policy `stage`'s `exercise.toml` declares.
    pub fn of(stage: &Stage) -> Policy {
        Policy {
            allow_unsafe: stage.allow_unsafe,
            only_in: stage.only_in.clone(),
        }
    }
}

const ROOTS: &[&str] = &["std", "core", "alloc"];
/// Modules of std/core/alloc a submission may not name at all.
const MODULES: &[&str] = &["process", "fs", "env", "arch", "intrinsics"];
/// Names refused wherever they appear in a path.
const ITEMS: &[&str] = &[
    "stdout",
    "stderr",
    "Stdout",
    "Stderr",
    "StdoutLock",
    "StderrLock",
    "FromRawFd",
    "from_raw_fd",
    // A raw descriptor (fd 1) turned into something that writes with write(2).
    "borrow_raw",
    "PipeWriter",
    "PipeReader",
    "set_hook",
    "take_hook",
    "update_hook",
    "always_abort",
];
/// Macros refused by name.
const MACROS: &[(&str, &str)] = &[
    ("asm", "inline assembly"),
    ("global_asm", "inline assembly"),
    ("naked_asm", "inline assembly"),
    ("env", "reading the build's environment (`env!`)"),
    (
        "option_env",
        "reading the build's environment (`option_env!`)",
    ),
];
/// `include!`-family macros: allowed only for files inside the stage's `src/`.
const INCLUDES: &[&str] = &["include", "include_str", "include_bytes"];
/// Attribute names refused wherever they appear (also inside `unsafe(...)` and `cfg_attr`).
const ATTRIBUTES: &[&str] = &[
    "no_mangle",
    "export_name",
    "link_section",
    "used",
    "link",
    "link_name",
    "naked",
    "no_main",
    "no_std",
    "no_builtins",
    "global_allocator",
    "panic_handler",
];
/// Attributes that make the compiler read a file named by a path, as `include_bytes!` does
/// (`#![debugger_visualizer(gdb_script_file = "/any/path")]` embeds the file in the library):
/// refused wherever they appear, since their path cannot be confined as `include!`'s is.
const READING_ATTRIBUTES: &[&str] = &["debugger_visualizer"];
/// Lints the grader's build forbids (`build_jail::RUSTFLAGS`): naming one in an attribute
/// (`#![allow(long_running_const_eval)]`) can only be an attempt to lower it.
const GUARD_LINTS: &[&str] = &["long_running_const_eval"];
/// `cfg` keys that differ between the build that is graded and the lint or grading tools.
const TOOL_CFGS: &[&str] = &["clippy", "miri", "rustfmt", "rust_analyzer"];
/// Macros that read files or the build's environment: never imported (under any name).
const READERS: &[&str] = &[
    "include",
    "include_str",
    "include_bytes",
    "env",
    "option_env",
];
/// std macros whose arguments are expressions or format strings, never spliced into paths or
/// attributes: their arguments are not held to [`is_refused_word`] (unless the stage defines
/// or imports a macro of the same name).
const PLAIN_MACROS: &[&str] = &[
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "format_args",
    "write",
    "writeln",
    "panic",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "matches",
    "dbg",
    "pin",
    "ready",
    "stringify",
    "concat",
    "compile_error",
    "cfg",
];

/// Whether `word` is a name the gate refuses somewhere: inside a macro that could splice it
/// into a path or an attribute, it is refused wherever it stands.
fn is_refused_word(word: &str) -> bool {
    MODULES.contains(&word)
        || ITEMS.contains(&word)
        || INCLUDES.contains(&word)
        || READERS.contains(&word)
        || ATTRIBUTES.contains(&word)
        || READING_ATTRIBUTES.contains(&word)
        || GUARD_LINTS.contains(&word)
        || TOOL_CFGS.contains(&word)
        || MACROS.iter().any(|(name, _)| *name == word)
        || ["os", "path", "extern"].contains(&word)
}

/// How a refusal for a file `syn` cannot parse begins (after `path:line: `): the grader
/// still builds such a stage, so that the learner reads the compiler's own syntax error.
pub const UNREADABLE: &str = "the grader cannot read this file";

/// What the source gates found in one stage, each `src/x.rs:LINE: what`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Findings {
    /// Code the grader refuses to run: the stage's tests are not run.
    pub refused: Vec<String>,
    /// Evidence of memory forgery (`forgery.rs`): the tests run, the points are withheld.
    pub review: Vec<String>,
}

impl Findings {
    pub fn refused(why: String) -> Findings {
        Findings {
            refused: vec![why],
            review: Vec::new(),
        }
    }
}

/// Checks every file of one stage (recursively: call it through `gate::check_sources`, which
/// bounds the input and isolates the parse).
pub fn check(sources: &Sources, policy: &Policy) -> Findings {
    let mut found = Findings::default();
    let mut files = Vec::new();
    for (path, bytes) in sources {
        let Ok(text) = std::str::from_utf8(bytes) else {
            found
                .refused
                .push(format!("{}: is not UTF-8 text", path.display()));
            continue;
        };
        match syn::parse_file(text) {
            Ok(file) => files.push((path, file)),
            Err(error) => {
                let line = error.span().start().line;
                found.refused.push(format!(
                    "{}:{line}: {UNREADABLE} ({error}); if it compiles, write it in plainer Rust",
                    path.display()
                ));
            }
        }
    }
    let mut names = Names::default();
    for (_, file) in &files {
        names.collect(file);
    }
    for (path, file) in &files {
        let mut gate = Gate {
            file: path,
            policy,
            names: &names,
            found: Vec::new(),
        };
        gate.visit_file(file);
        found.refused.extend(gate.found);
        found
            .review
            .extend(super::forgery::evidence(path, file, &names));
    }
    for list in [&mut found.refused, &mut found.review] {
        list.sort();
        list.dedup();
    }
    found
}

struct Gate<'a> {
    /// The file, relative to the crate root (`src/lib.rs`).
    file: &'a Path,
    policy: &'a Policy,
    names: &'a Names,
    found: Vec<String>,
}

fn name(ident: &proc_macro2::Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}

impl Gate<'_> {
    fn flag(&mut self, span: Span, what: &str) {
        self.found.push(format!(
            "{}:{}: {what}",
            self.file.display(),
            span.start().line
        ));
    }

    /// A path a `[[gate.only_in]]` rule keeps to some files, named in another file.
    fn check_only_in(&mut self, segments: &[String], span: Span) {
        let file = self.file.to_string_lossy().replace('\\', "/");
        let broken: Vec<&OnlyIn> = self
            .policy
            .only_in
            .iter()
            .filter(|rule| rule.restricts(segments) && !rule.files.contains(&file))
            .collect();
        for rule in broken {
            let allowed = if rule.allow.is_empty() {
                String::new()
            } else {
                format!(" (allowed anywhere: {})", rule.allow.join(", "))
            };
            self.flag(
                span,
                &format!(
                    "uses `{}` outside {}: {}{allowed}",
                    segments.join("::"),
                    rule.files.join(", "),
                    rule.why
                ),
            );
        }
    }

    /// One path, as a list of segment names; `span` for the report.
    fn check_path(&mut self, segments: &[String], span: Span) {
        self.check_only_in(segments, span);
        let rooted = segments
            .first()
            .is_some_and(|s| ROOTS.contains(&s.as_str()));
        for (index, segment) in segments.iter().enumerate() {
            if ITEMS.contains(&segment.as_str()) {
                self.flag(
                    span,
                    &format!(
                        "uses `{segment}`: a submission may not write to the process's own \
                         output or replace its panic hook (println! is fine: the test harness \
                         captures it)"
                    ),
                );
            }
            if !rooted || index == 0 {
                continue;
            }
            if MODULES.contains(&segment.as_str()) {
                self.flag(
                    span,
                    &format!(
                        "uses `{}::{segment}`: the grader refuses code that can end, replace or \
                         escape the test process, or touch files and the environment",
                        segments[0]
                    ),
                );
            }
            if segment == "os" && segments.get(index + 1).is_some_and(|next| next != "fd") {
                self.flag(
                    span,
                    &format!(
                        "uses `{}::os::{}`: only `std::os::fd` is allowed",
                        segments[0],
                        segments[index + 1]
                    ),
                );
            }
        }
    }

    fn check_use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(name(&path.ident));
                self.check_use_tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(leaf) => {
                let mut full = prefix.clone();
                full.push(name(&leaf.ident));
                self.check_imported_reader(&full, leaf.ident.span());
                self.check_path(&full, leaf.ident.span());
            }
            syn::UseTree::Rename(rename) => {
                let mut full = prefix.clone();
                full.push(name(&rename.ident));
                let root = match full.as_slice() {
                    [only] => Some(only.as_str()),
                    [root, last] if last == "self" => Some(root.as_str()),
                    _ => None,
                };
                self.check_imported_reader(&full, rename.ident.span());
                if root.is_some_and(|r| ROOTS.contains(&r)) {
                    self.flag(
                        rename.ident.span(),
                        "renames a crate root (`use std as ...`), which would hide the paths \
                         the grader checks",
                    );
                }
                self.check_path(&full, rename.ident.span());
            }
            syn::UseTree::Glob(glob) => {
                if prefix.len() == 1 && ROOTS.contains(&prefix[0].as_str()) {
                    self.flag(
                        glob.star_token.span,
                        "glob-imports a crate root (`use std::*`), which would hide the paths \
                         the grader checks",
                    );
                }
                self.check_path(prefix, glob.star_token.span);
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.check_use_tree(prefix, tree);
                }
            }
        }
    }

    /// `use std::include_str as grab;`: a macro that reads files or the environment, imported
    /// (renamed or not) from a crate root or the prelude. The gate checks these macros where
    /// they are written, so it refuses every import of them, whatever the name.
    fn check_imported_reader(&mut self, full: &[String], span: Span) {
        let Some(leaf) = full.last() else { return };
        let from_std = full.len() == 1 || ROOTS.contains(&full[0].as_str());
        if READERS.contains(&leaf.as_str()) && from_std {
            self.flag(
                span,
                &format!(
                    "imports `{}`: the macros that read files or the build's environment \
                     (include!, include_str!, include_bytes!, env!, option_env!) may not be \
                     imported or renamed (they need no `use`; the grader checks them where they \
                     are written)",
                    full.join("::")
                ),
            );
        }
    }

    /// Whether the arguments of macro `name` are plain expressions (see [`PLAIN_MACROS`]).
    fn plain_macro(&self, name: &str) -> bool {
        PLAIN_MACROS.contains(&name) && !self.names.local_macros.iter().any(|m| m == name)
    }

    /// In a macro that can splice tokens (`strict`): a refused word anywhere, and an attribute
    /// built from macro fragments.
    fn check_strict(&mut self, tokens: &[TokenTree], index: usize) {
        match &tokens[index] {
            TokenTree::Ident(ident) if is_refused_word(&name(ident)) => self.flag(
                ident.span(),
                &format!(
                    "passes `{}` through a macro (`macro_rules!` or a macro call): a macro can \
                     build a refused path or attribute from it, so the grader refuses the word \
                     there (rename it if it is yours)",
                    name(ident)
                ),
            ),
            TokenTree::Group(group)
                if group.delimiter() == Delimiter::Bracket
                    && after_hash(tokens, index)
                    && has_dollar(&group.stream()) =>
            {
                self.flag(
                    group.span(),
                    "builds an attribute from macro fragments (`#[$x]`): the grader cannot \
                     check it",
                );
            }
            _ => {}
        }
    }

    /// `std`/`core`/`alloc` in macro tokens, where a macro could build a path from it.
    fn check_root_word(&mut self, tokens: &[TokenTree], index: usize, text: &str, span: Span) {
        let path_after = colon2_at(tokens, index + 1);
        if ROOTS.contains(&text) && !path_after {
            self.flag(
                span,
                &format!(
                    "passes `{text}` to a macro outside a path: the grader cannot \
                         check a path assembled inside a macro"
                ),
            );
        }
        if ROOTS.contains(&text)
            && path_after
            && matches!(tokens.get(index + 3), Some(TokenTree::Punct(p)) if p.as_char() == '$')
        {
            self.flag(
                span,
                &format!(
                    "builds a `{text}::` path from macro fragments: the grader \
                         cannot check it"
                ),
            );
        }
    }

    /// A group inside a token stream: the arguments of another macro (`m!(…)`, strict unless
    /// `m` is a plain std macro) or an attribute (`#[…]`), or plain tokens.
    fn check_group(
        &mut self,
        tokens: &[TokenTree],
        index: usize,
        group: &proc_macro2::Group,
        in_attribute: bool,
        strict: bool,
    ) {
        let before = |back: usize| index.checked_sub(back).map(|i| &tokens[i]);
        let called = match (before(2), before(1)) {
            (Some(TokenTree::Ident(m)), Some(TokenTree::Punct(p))) if p.as_char() == '!' => {
                Some(name(m))
            }
            _ => None,
        };
        let strict = strict || called.is_some_and(|m| !self.plain_macro(&m));
        let attribute =
            in_attribute || (group.delimiter() == Delimiter::Bracket && after_hash(tokens, index));
        self.check_tokens(group.stream(), attribute, strict);
    }

    /// Walks a token stream (a macro's input, or an attribute's arguments). `strict`: the
    /// tokens belong to a macro that can splice them anywhere (see [`Gate::check_strict`]).
    fn check_tokens(&mut self, tokens: TokenStream, in_attribute: bool, strict: bool) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (index, token) in tokens.iter().enumerate() {
            if strict {
                self.check_strict(&tokens, index);
            }
            match token {
                TokenTree::Group(group) => {
                    self.check_group(&tokens, index, group, in_attribute, strict);
                }
                TokenTree::Ident(ident) => {
                    let text = name(ident);
                    let path_after = colon2_at(&tokens, index + 1);
                    let path_before = index >= 2 && colon2_at(&tokens, index - 2);
                    let next_is = |c: char| matches!(tokens.get(index + 1), Some(TokenTree::Punct(p)) if p.as_char() == c);
                    let in_path = path_after || path_before;
                    if next_is('!') {
                        let arguments = match tokens.get(index + 2) {
                            Some(TokenTree::Group(group)) => Some(group.stream()),
                            _ => None,
                        };
                        self.check_macro_name(&text, ident.span(), arguments.as_ref());
                    }
                    if in_attribute {
                        self.check_attribute_word(&text, ident.span(), path_after);
                        continue;
                    }
                    if text == "unsafe" && !self.policy.allow_unsafe {
                        self.flag(ident.span(), UNSAFE);
                    }
                    self.check_root_word(&tokens, index, &text, ident.span());
                    if ROOTS.contains(&text.as_str()) && path_after && !path_before {
                        let path = path_from(&tokens, index);
                        self.check_only_in(&path, ident.span());
                    }
                    if path_before && (MODULES.contains(&text.as_str()) || text == "os") {
                        // Only paths that start at a crate root (`std::process`, `::core::arch`);
                        // `super::process` is the learner's own item.
                        let root = path_root(&tokens, index);
                        if root.as_deref().is_none_or(|r| ROOTS.contains(&r)) {
                            let mut path = vec![root.unwrap_or_else(|| "std".to_owned())];
                            path.push(text.clone());
                            if let Some(TokenTree::Ident(next)) = tokens.get(index + 3)
                                && path_after
                            {
                                path.push(name(next));
                            }
                            self.check_path(&path, ident.span());
                        }
                    }
                    if in_path && ITEMS.contains(&text.as_str()) {
                        self.check_path(std::slice::from_ref(&text), ident.span());
                    }
                    if text == "extern" {
                        self.flag(ident.span(), FOREIGN);
                    }
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => {}
            }
        }
    }

    /// A word inside an attribute; `path_after`: it is followed by `::` (a lint path such as
    /// `clippy::needless_return`, not a `cfg` key).
    fn check_attribute_word(&mut self, word: &str, span: Span, path_after: bool) {
        if ATTRIBUTES.contains(&word) {
            self.flag(
                span,
                &format!(
                    "uses the attribute `{word}`: linker attributes can run code before the \
                     tests start or replace library functions"
                ),
            );
        }
        if READING_ATTRIBUTES.contains(&word) {
            self.flag(
                span,
                &format!(
                    "uses the attribute `{word}`: it makes the compiler read a file at build \
                     time, like `include_bytes!`, from a path the grader cannot confine"
                ),
            );
        }
        if GUARD_LINTS.contains(&word) {
            self.flag(
                span,
                &format!(
                    "names the lint `{word}`: the grader's build forbids compile-time \
                     evaluation that runs too long, and code may not allow it"
                ),
            );
        }
        if TOOL_CFGS.contains(&word) && !path_after {
            self.flag(
                span,
                &format!(
                    "uses `{word}` in a `cfg`: code must be the same for every tool that reads it"
                ),
            );
        }
        if word == "unsafe" && !self.policy.allow_unsafe {
            self.flag(span, UNSAFE);
        }
        if word == "path" {
            self.flag(
                span,
                "sets `path` inside another attribute: write `#[path = \"...\"]` directly, \
                 so that the grader can check where it points",
            );
        }
    }

    /// `include!("x")` and friends: the literal path must stay inside `src/`.
    fn check_macro_name(&mut self, text: &str, span: Span, tokens: Option<&TokenStream>) {
        if let Some((_, what)) = MACROS.iter().find(|(name, _)| *name == text) {
            self.flag(span, &format!("uses `{text}!`: {what}"));
        }
        if INCLUDES.contains(&text) {
            let target = tokens.and_then(first_string_literal);
            match target {
                Some(target) if self.stays_in_src(&target) => {}
                Some(target) => self.flag(
                    span,
                    &format!("`{text}!(\"{target}\")` reaches outside the stage's src/"),
                ),
                None => self.flag(
                    span,
                    &format!("`{text}!` without a plain string path: the grader cannot check it"),
                ),
            }
        }
    }

    /// Whether `target` (relative to this file's directory, as `include!` and `#[path]`
    /// resolve it) stays inside `src/`.
    fn stays_in_src(&self, target: &str) -> bool {
        let target = Path::new(target);
        if target.is_absolute() {
            return false;
        }
        let mut resolved = PathBuf::new();
        for component in self
            .file
            .parent()
            .unwrap_or(Path::new(""))
            .join(target)
            .components()
        {
            match component {
                Component::Normal(part) => resolved.push(part),
                Component::CurDir => {}
                Component::ParentDir => {
                    if !resolved.pop() {
                        return false;
                    }
                }
                Component::RootDir | Component::Prefix(_) => return false,
            }
        }
        resolved.starts_with("src") && resolved != Path::new("src")
    }
}

/// The first segment of the path that the identifier at `index` ends (`None` for a path that
/// starts with `::`).
fn path_root(tokens: &[TokenTree], index: usize) -> Option<String> {
    let mut at = index;
    while at >= 2 && colon2_at(tokens, at - 2) {
        match at.checked_sub(3).map(|i| &tokens[i]) {
            Some(TokenTree::Ident(_)) => at -= 3,
            _ => return None,
        }
    }
    ident_name(&tokens[at])
}

/// The path that starts at `tokens[index]`: `std :: sync :: Mutex` is `[std, sync, Mutex]`.
fn path_from(tokens: &[TokenTree], index: usize) -> Vec<String> {
    let mut path = Vec::new();
    let mut at = index;
    while let Some(segment) = tokens.get(at).and_then(ident_name) {
        path.push(segment);
        if !colon2_at(tokens, at + 1) {
            break;
        }
        at += 3;
    }
    path
}

fn ident_name(token: &TokenTree) -> Option<String> {
    match token {
        TokenTree::Ident(ident) => Some(name(ident)),
        _ => None,
    }
}

/// Whether the token before `tokens[index]` is `#` (or `#!`): `tokens[index]` is an attribute.
fn after_hash(tokens: &[TokenTree], index: usize) -> bool {
    let is = |i: Option<usize>, c: char| matches!(i.and_then(|i| tokens.get(i)), Some(TokenTree::Punct(p)) if p.as_char() == c);
    is(index.checked_sub(1), '#')
        || (is(index.checked_sub(1), '!') && is(index.checked_sub(2), '#'))
}

/// Whether a `$` appears anywhere in `tokens`.
fn has_dollar(tokens: &TokenStream) -> bool {
    tokens.clone().into_iter().any(|token| match token {
        TokenTree::Punct(p) => p.as_char() == '$',
        TokenTree::Group(group) => has_dollar(&group.stream()),
        _ => false,
    })
}

/// Whether `tokens[at]` and `tokens[at + 1]` are the two colons of a `::`.
fn colon2_at(tokens: &[TokenTree], at: usize) -> bool {
    matches!(
        (tokens.get(at), tokens.get(at + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == proc_macro2::Spacing::Joint && b.as_char() == ':'
    )
}

const UNSAFE: &str = "uses `unsafe`, which this stage does not need (its exercise.toml does not \
                      allow it); safe Rust can do everything this stage asks";
const FOREIGN: &str = "declares a foreign function or ABI (`extern`): a submission may not call \
                       into C directly";

fn first_string_literal(tokens: &TokenStream) -> Option<String> {
    tokens.clone().into_iter().find_map(|token| match token {
        TokenTree::Literal(literal) => {
            let lit = syn::parse_str::<syn::LitStr>(&literal.to_string()).ok()?;
            Some(lit.value())
        }
        TokenTree::Group(group) if group.delimiter() == Delimiter::None => {
            first_string_literal(&group.stream())
        }
        _ => None,
    })
}

impl<'ast> Visit<'ast> for Gate<'_> {
    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        let path: Vec<String> = attr
            .path()
            .segments
            .iter()
            .map(|s| name(&s.ident))
            .collect();
        let span = attr
            .path()
            .segments
            .first()
            .map_or_else(Span::call_site, |s| s.ident.span());
        if let [only] = path.as_slice() {
            if only != "path" {
                self.check_attribute_word(only, span, false);
            }
            if only == "path" {
                let target = match &attr.meta {
                    syn::Meta::NameValue(nv) => match &nv.value {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => Some(s.value()),
                        _ => None,
                    },
                    _ => None,
                };
                // `#[path]` on `mod x;` resolves from this file's directory, like include!.
                if !target.is_some_and(|t| self.stays_in_src(&t)) {
                    self.flag(span, "`#[path]` reaches outside the stage's src/");
                }
            }
        }
        match &attr.meta {
            syn::Meta::List(list) => self.check_tokens(list.tokens.clone(), true, false),
            syn::Meta::NameValue(nv) => {
                if let syn::Expr::Macro(m) = &nv.value {
                    self.visit_macro(&m.mac);
                }
            }
            syn::Meta::Path(_) => {}
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.check_use_tree(&mut Vec::new(), &item.tree);
        visit::visit_item_use(self, item);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| name(&s.ident)).collect();
        let span = path
            .segments
            .first()
            .map_or_else(Span::call_site, |s| s.ident.span());
        self.check_path(&segments, span);
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let mut strict = true;
        if let Some(last) = mac.path.segments.last() {
            let text = name(&last.ident);
            self.check_macro_name(&text, last.ident.span(), Some(&mac.tokens));
            if text == "cfg" {
                // `cfg!(...)` takes a cfg predicate, like the attribute.
                self.check_tokens(mac.tokens.clone(), true, false);
            }
            // `macro_rules!` bodies and calls of the stage's own (or unknown) macros.
            strict = !(mac.path.segments.len() == 1 && self.plain_macro(&text));
        }
        self.check_tokens(mac.tokens.clone(), false, strict);
        visit::visit_macro(self, mac);
    }

    fn visit_abi(&mut self, abi: &'ast syn::Abi) {
        self.flag(abi.extern_token.span, FOREIGN);
        visit::visit_abi(self, abi);
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        self.flag(
            item.extern_token.span,
            "uses `extern crate`: use the dependencies the stage's Cargo.toml already has",
        );
        visit::visit_item_extern_crate(self, item);
    }

    fn visit_expr_unsafe(&mut self, expr: &'ast syn::ExprUnsafe) {
        if !self.policy.allow_unsafe {
            self.flag(expr.unsafe_token.span, UNSAFE);
        }
        visit::visit_expr_unsafe(self, expr);
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        if let (Some(token), false) = (&sig.unsafety, self.policy.allow_unsafe) {
            self.flag(token.span, UNSAFE);
        }
        visit::visit_signature(self, sig);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let (Some(token), false) = (&item.unsafety, self.policy.allow_unsafe) {
            self.flag(token.span, UNSAFE);
        }
        visit::visit_item_impl(self, item);
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        if let (Some(token), false) = (&item.unsafety, self.policy.allow_unsafe) {
            self.flag(token.span, UNSAFE);
        }
        visit::visit_item_trait(self, item);
    }

    fn visit_item_foreign_mod(&mut self, item: &'ast syn::ItemForeignMod) {
        self.flag(item.abi.extern_token.span, FOREIGN);
        visit::visit_item_foreign_mod(self, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(code: &str, allow_unsafe: bool) -> Vec<String> {
        let mut sources = Sources::new();
        sources.insert("src/lib.rs".into(), code.as_bytes().to_vec());
        check(
            &sources,
            &Policy {
                allow_unsafe,
                only_in: Vec::new(),
            },
        )
        .refused
    }

    /// Stage 2's rule: `std::sync` only in `src/sync.rs`, `Arc` anywhere.
    fn seam() -> Policy {
        Policy {
            allow_unsafe: false,
            only_in: vec![OnlyIn {
                path: "std::sync".to_owned(),
                files: vec!["src/sync.rs".to_owned()],
                allow: vec!["std::sync::Arc".to_owned()],
                why: "use crate::sync: the model checker only sees the seam".to_owned(),
            }],
        }
    }

    fn gate_in(file: &str, code: &str, policy: &Policy) -> Vec<String> {
        let mut sources = Sources::new();
        sources.insert(file.into(), code.as_bytes().to_vec());
        check(&sources, policy).refused
    }

    #[test]
    fn a_path_kept_to_the_seam_is_refused_elsewhere_with_the_reason() {
        for code in [
            "use std::sync::Mutex; pub struct S(Mutex<u8>);",
            "pub struct S(std::sync::Mutex<u8>);",
            "pub struct S(::std::sync::Condvar);",
            "use std::sync::{Arc, Mutex}; pub struct S(Arc<Mutex<u8>>);",
            "use std::sync; pub struct S(sync::Mutex<u8>);",
            "use std::sync::*; pub struct S(Mutex<u8>);",
            "use std::sync::atomic::AtomicBool; pub struct S(AtomicBool);",
            "use core::sync::atomic::AtomicBool; pub struct S(AtomicBool);",
            "pub fn f() -> u8 { *std::sync::Mutex::new(1).lock().unwrap() }",
            "macro_rules! m { () => { std::sync::Mutex::new(0u8) }; } pub fn f() { let _ = m!(); }",
            "pub fn f() { let _ = vec![std::sync::Mutex::new(0u8)]; }",
        ] {
            let found = gate_in("src/executor.rs", code, &seam());
            assert!(
                found
                    .iter()
                    .any(|f| f.contains("outside src/sync.rs: use crate::sync")),
                "not refused with the rule's reason:\n{code}\n{found:#?}"
            );
        }
    }

    #[test]
    fn the_seam_itself_and_the_allowed_paths_are_accepted() {
        let seam_file = "pub use harness::sync::{Condvar, Mutex};\n\
                         pub use std::sync::{Arc, LockResult, PoisonError};\n";
        let found = gate_in("src/sync.rs", seam_file, &seam());
        assert!(found.is_empty(), "the seam was refused: {found:#?}");
        for code in [
            "use std::sync::Arc; pub struct S(Arc<u8>);",
            "pub fn f() -> std::sync::Arc<u8> { std::sync::Arc::new(1) }",
            "use crate::sync::{Arc, Mutex}; pub struct S(Arc<Mutex<u8>>);",
            "pub struct S(harness::sync::Mutex<u8>);",
        ] {
            let found = gate_in("src/executor.rs", code, &seam());
            assert!(found.is_empty(), "refused:\n{code}\n{found:#?}");
        }
        // Without the rule (other stages), std::sync is fine anywhere.
        accepted("use std::sync::Mutex; pub struct S(Mutex<u8>);", false);
    }

    #[track_caller]
    fn refused(code: &str) {
        assert!(!gate(code, false).is_empty(), "not refused:\n{code}");
    }

    #[track_caller]
    fn accepted(code: &str, allow_unsafe: bool) {
        let found = gate(code, allow_unsafe);
        assert!(found.is_empty(), "refused:\n{code}\n{found:#?}");
    }

    #[test]
    fn honest_code_is_accepted() {
        accepted(
            "use std::os::fd::{AsFd, BorrowedFd};\nuse std::io::{self, Read, Write};\n\
             use std::sync::{Arc, Mutex};\nuse std::panic::{catch_unwind, AssertUnwindSafe};\n\
             /// Doc.\npub fn process(exit: u32) -> u32 { println!(\"{exit}\"); exit }\n\
             pub fn env_like() { let fs = 1; let _ = fs; eprintln!(\"std\"); }\n\
             #[cfg(test)] mod tests { #[test] fn t() { assert_eq!(super::process(1), 1); } }\n\
             macro_rules! twice { ($e:expr) => { $e; $e }; }\n\
             pub fn t() { twice!(println!(\"x\")); let _ = std::mem::size_of::<u8>(); }\n\
             #[allow(clippy::needless_return)] pub fn u() -> Vec<S> { return vec![S { process: 1 }]; }\n\
             pub struct S { process: u8 }\n",
            false,
        );
        accepted(
            "use std::pin::Pin;\npub fn f(p: Pin<&mut u8>) -> &mut u8 {\n\
             // SAFETY: test\n unsafe { p.get_unchecked_mut() } }\n",
            true,
        );
    }

    #[test]
    fn ways_to_end_or_replace_the_process_are_refused() {
        for code in [
            "pub fn f() { std::process::exit(0) }",
            "pub fn f() { ::std::process::exit(0) }",
            "use std::process; pub fn f() { process::exit(0) }",
            "use std::process::exit as leave; pub fn f() { leave(0) }",
            "use std::{io, process as p}; pub fn f() { p::exit(0) }",
            "use std as s; pub fn f() { s::process::exit(0) }",
            "use std::{self as s}; pub fn f() { s::process::exit(0) }",
            "use std::*; pub fn f() { process::exit(0) }",
            "use core::arch::asm as a; pub fn f() { unsafe { a!(\"nop\") } }",
            "pub fn f() { std::process::Command::new(\"true\").status().unwrap(); }",
            "pub fn f() { use std::os::unix::process::CommandExt; }",
            "pub fn f() { let _ = std::r#process::id(); }",
            "extern crate std as s; pub fn f() { s::process::exit(0) }",
            "#[cfg(not(clippy))] pub fn f() { std::process::exit(0) }",
            "#[cfg_attr(not(clippy), allow(unused))] pub fn f() {}",
            "pub fn f() { if cfg!(clippy) {} }",
        ] {
            refused(code);
        }
    }

    #[test]
    fn raw_output_and_foreign_code_are_refused() {
        for code in [
            "use std::io::Write; pub fn f() { std::io::stdout().write_all(b\"ok\").unwrap(); }",
            "use std::io; pub fn f() { let _ = io::stderr(); }",
            "pub fn f() { let _ = std::fs::File::create(\"/proc/self/fd/1\"); }",
            "use std::os::fd::FromRawFd; pub fn f() {}",
            "pub fn f() { let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(1) }; let _ = fd; }",
            "pub fn f(o: std::os::fd::OwnedFd) { let _ = std::io::PipeWriter::from(o); }",
            "unsafe extern \"C\" { fn _exit(c: i32) -> !; }",
            "extern \"C\" { fn _exit(c: i32) -> !; }",
            "pub extern \"C\" fn write() {}",
            "#[unsafe(no_mangle)] pub fn write() {}",
            "#[no_mangle] pub fn write() {}",
            "#[unsafe(link_section = \".init_array\")] #[used] static C: fn() = f; fn f() {}",
            "#[cfg_attr(all(), unsafe(export_name = \"main\"))] pub fn f() {}",
            "pub fn f() { std::panic::set_hook(Box::new(|_| {})); }",
            "pub fn f() { let _ = env!(\"HOME\"); }",
            "pub fn f() { let _ = include_str!(\"../../../solutions/x.rs\"); }",
            "pub fn f() { let _ = include_str!(\"/etc/passwd\"); }",
            "#[path = \"/etc/passwd\"] mod m;",
            "#[path = \"../../other/src/lib.rs\"] mod m;",
            "#[cfg_attr(all(), path = \"/etc/passwd\")] mod m;",
            "#[cfg_attr(all(), doc = include_str!(\"/etc/passwd\"))] pub fn f() {}",
            "#[doc = include_str!(\"/etc/passwd\")] pub fn f() {}",
            "#![debugger_visualizer(gdb_script_file = \"/etc/hostname\")]",
            "#![debugger_visualizer(natvis_file = \"../../x.natvis\")]",
            "#![cfg_attr(all(), debugger_visualizer(gdb_script_file = \"/etc/shadow\"))]",
            "#![allow(long_running_const_eval)] pub const X: u8 = 0;",
            "#[expect(long_running_const_eval)] pub const X: u8 = 0;",
            "#![cfg_attr(all(), allow(long_running_const_eval))]",
            "pub fn f() { let _ = option_env!(\"HOME\"); }",
            "pub fn f() { let _ = concat!(include_str!(\"/etc/passwd\"), \"\"); }",
            "macro_rules! m { () => { ::std::process::exit(0) }; } pub fn f() { m!() }",
            "macro_rules! m { ($a:ident) => { std::$a::exit(0) }; } pub fn f() { m!(process) }",
            "macro_rules! m { ($r:ident) => { $r::process::exit(0) }; } pub fn f() { m!(std) }",
            "pub fn f() { println!(\"{}\", include_str!(\"/proc/self/environ\")); }",
            "pub fn f() { core::arch::asm!(\"nop\"); }",
            "pub fn f() { unsafe { core::hint::unreachable_unchecked() } }",
            "pub unsafe fn f() {}",
            "pub struct S; unsafe impl Send for S {}",
        ] {
            refused(code);
        }
    }

    #[test]
    fn renamed_and_macro_built_names_are_refused() {
        for code in [
            "use std::include_str as grab; pub fn f() -> &'static str { grab!(\"/etc/passwd\") }",
            "use std::option_env as peek; pub fn f() -> Option<&'static str> { peek!(\"HOME\") }",
            "use ::core::{include_bytes as b}; pub fn f() -> &'static [u8] { b!(\"/etc/passwd\") }",
            "use core::prelude::v1::{include as i};",
            "use std::{env as e};",
            "use include_str as grab;",
            "macro_rules! at { ($n:ident) => { #[unsafe($n = \".init_array\")] static C: u8 = 0; }; } at!(link_section);",
            "macro_rules! at { ($n:ident) => { #[$n] pub fn write() {} }; } at!(no_mangle);",
            "macro_rules! go { ($m:ident) => { ::core::$m::exit(0) }; } pub fn f() { go!(process) }",
            "macro_rules! println { ($m:ident) => {}; } pub fn f() { println!(process) }",
            "pub fn f() { println!(\"{}\", { #[unsafe(link_section = \".init_array\")] static X: u8 = 0; X }); }",
            "pub fn f() { assert!(m!(stdout)); }",
        ] {
            refused(code);
        }
        // The std macros that take expressions may mention the learner's own `process`.
        accepted(
            "pub fn process() -> u8 { 1 } pub fn f() { assert_eq!(process(), 1); println!(\"{}\", process()); }",
            false,
        );
    }

    /// Red team of the grader, round 1 (#4, #5): attributes that make rustc read a path, and
    /// allowing endless compile-time evaluation, are refused by name, wherever they stand.
    #[test]
    fn attributes_that_read_files_or_lower_the_const_eval_guard_are_refused() {
        for (code, word) in [
            (
                "#![debugger_visualizer(gdb_script_file = \"/etc/hostname\")]",
                "debugger_visualizer",
            ),
            (
                "#![cfg_attr(all(), debugger_visualizer(natvis_file = \"a.natvis\"))]",
                "debugger_visualizer",
            ),
            (
                "macro_rules! m { () => { #[debugger_visualizer(gdb_script_file = \"/x\")] mod a {} }; } m!();",
                "debugger_visualizer",
            ),
            (
                "#![allow(long_running_const_eval)] pub const X: u64 = 0;",
                "long_running_const_eval",
            ),
            (
                "#[allow(unused, long_running_const_eval)] pub const X: u64 = 0;",
                "long_running_const_eval",
            ),
            (
                "#![cfg_attr(all(), expect(long_running_const_eval))]",
                "long_running_const_eval",
            ),
        ] {
            let found = gate(code, false);
            assert!(
                found.iter().any(|f| f.contains(word)),
                "not refused by name:\n{code}\n{found:#?}"
            );
        }
        accepted("#![allow(unused)] pub const X: u64 = 1 << 20;", false);
    }

    #[test]
    fn includes_inside_src_are_accepted() {
        accepted("#[path = \"other.rs\"] mod m;", false);
        accepted("const X: &str = include_str!(\"data.rs\");", false);
    }
}
