//! Evidence of memory forgery: shapes of safe code that a submission needs to read or write
//! memory it does not own, and so to forge its own test's verdict (print libtest's lines
//! through a `write` found in its own binary, then `_exit(0)`).
//!
//! No gate can refuse this reliably (safe Rust has soundness bugs, e.g. rust-lang/rust#25860,
//! packaged by the cve-rs crate), so these are not refused: the stage is graded, its points
//! are withheld, and it is flagged for a human to review, with the evidence (`file:line:
//! pattern`). Invariant: nothing here is true of the course's stubs and reference solutions
//! (a unit test reads them), so an honest learner who follows the course is never flagged.
//!
//! The patterns:
//! * a reference to a reference with two named lifetimes (`&'a &'b T`): the implied bound
//!   `'b: 'a` is the lifetime-extension bug's lever;
//! * a function signature taking a reference to something that carries another named
//!   lifetime and returning a reference with the outer one (the same lever, one step removed);
//! * a higher-ranked fn pointer type returning something `'static` (`for<'x> fn(..) ->
//!   &'static T`): the coercion that extends a lifetime to `'static`;
//! * code addresses as integers (`f as usize` on one of the stage's functions: the way to the
//!   binary's own image and import table) and integers as pointers (`0x10 as *const u8`,
//!   `n as usize as *mut T`, `with_exposed_provenance`, exposing provenance). The address of
//!   *data* as an integer (`p as usize`, `.as_ptr() as usize`, `.addr()`) is not evidence on
//!   its own: it is how a learner checks that a pinned value did not move or finds an offset
//!   inside a buffer (Stage 3), and it gives no access to memory without a way back to a
//!   pointer, which is evidence;
//! * literals that read the process's own image or files (`/proc/`, `/self/`, the ELF magic,
//!   ELF section names, libc's `_exit`/`execve`/`syscall`) or that spell libtest's verdict
//!   (`test result: ok`, `... ok`).

use std::collections::BTreeSet;
use std::path::Path;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

use super::names::Names;

/// Integer types an address can be cast to.
const INTEGERS: &[&str] = &["usize", "isize", "u64", "i64", "u128", "i128", "u32", "i32"];
/// Methods and functions that turn a pointer into an address or back.
const ADDRESS_FNS: &[&str] = &[
    "expose_addr",
    "expose_provenance",
    "with_exposed_provenance",
    "with_exposed_provenance_mut",
    "from_exposed_addr",
    "from_exposed_addr_mut",
    "without_provenance",
    "without_provenance_mut",
];
/// Parts of string literals that read the process's own image, or spell the verdict.
const TELLING_TEXT: &[(&str, &str)] = &[
    ("/proc/", "names /proc (the process's own memory and files)"),
    (
        "/self/",
        "names /self/ (the process's own executable or memory)",
    ),
    ("/dev/mem", "names /dev/mem"),
    (
        "\u{7f}ELF",
        "holds the ELF magic (looks for an executable image in memory)",
    ),
    (
        ".dynsym",
        "names an ELF section (reads the binary's symbol tables)",
    ),
    (
        ".dynstr",
        "names an ELF section (reads the binary's symbol tables)",
    ),
    (
        ".rela.plt",
        "names an ELF section (reads the binary's import table)",
    ),
    (
        ".got",
        "names an ELF section (reads the binary's import table)",
    ),
    (
        "test result: ok",
        "spells libtest's verdict (`test result: ok`)",
    ),
    (" ... ok", "spells libtest's verdict (`test ... ok`)"),
];
/// Whole string literals naming libc functions that end the process or replace it.
const LIBC_NAMES: &[&str] = &["_exit", "exit_group", "execve", "syscall", "write", "exit"];
/// The ELF magic as a little- or big-endian `u32`.
const ELF_MAGIC: &[u128] = &[0x464c_457f, 0x7f45_4c46];

/// The evidence in one file, as `file:line: pattern`.
pub(super) fn evidence(file: &Path, tree: &syn::File, names: &Names) -> Vec<String> {
    let mut scan = Scan {
        file,
        functions: names.functions.iter().map(String::as_str).collect(),
        found: Vec::new(),
    };
    scan.visit_file(tree);
    scan.found
}

struct Scan<'a> {
    file: &'a Path,
    functions: BTreeSet<&'a str>,
    found: Vec<String>,
}

impl Scan<'_> {
    fn note(&mut self, span: Span, what: &str) {
        self.found.push(format!(
            "{}:{}: {what}",
            self.file.display(),
            span.start().line
        ));
    }

    fn check_text(&mut self, text: &str, span: Span) {
        for (needle, what) in TELLING_TEXT {
            if text.contains(needle) {
                self.note(span, &format!("a string {what}"));
            }
        }
        if LIBC_NAMES.contains(&text) {
            self.note(
                span,
                &format!("a string names the C function `{text}` (looked up in the binary?)"),
            );
        }
    }

    fn check_integer(&mut self, value: u128, span: Span) {
        if ELF_MAGIC.contains(&value) {
            self.note(
                span,
                "an integer is the ELF magic (looks for an executable image)",
            );
        }
    }

    /// Literals inside macro calls (`println!("test result: ok")`), which `syn` leaves as
    /// tokens.
    fn check_tokens(&mut self, tokens: &TokenStream) {
        for token in tokens.clone() {
            match token {
                TokenTree::Group(group) => self.check_tokens(&group.stream()),
                TokenTree::Literal(literal) => {
                    if let Ok(lit) = syn::parse_str::<syn::Lit>(&literal.to_string()) {
                        self.check_lit(&lit, literal.span());
                    }
                }
                _ => {}
            }
        }
    }

    fn check_lit(&mut self, lit: &syn::Lit, span: Span) {
        match lit {
            syn::Lit::Str(s) => self.check_text(&s.value(), span),
            syn::Lit::ByteStr(s) => self.check_text(&String::from_utf8_lossy(&s.value()), span),
            syn::Lit::CStr(s) => self.check_text(&s.value().to_string_lossy(), span),
            syn::Lit::Int(i) => {
                if let Ok(value) = i.base10_parse::<u128>() {
                    self.check_integer(value, span);
                }
            }
            _ => {}
        }
    }

    /// A signature (of a fn item or a fn pointer type): an input `&'a X` where `X` carries
    /// another named lifetime, and an output that is a reference with lifetime `'a`.
    fn check_signature<'t>(
        &mut self,
        inputs: impl Iterator<Item = &'t syn::Type>,
        output: &syn::ReturnType,
        span: Span,
    ) {
        let syn::ReturnType::Type(_, output) = output else {
            return;
        };
        let returned = reference_lifetimes(output);
        for input in inputs {
            for (outer, inner) in lifetime_pairs(input) {
                if returned.contains(&outer) && inner != outer {
                    self.note(
                        span,
                        &format!(
                            "a function takes `&'{outer}` to something that lives for \
                             `'{inner}` and returns `&'{outer}`: the shape of the compiler's \
                             lifetime-extension bug (rust-lang/rust#25860, cve-rs)"
                        ),
                    );
                    return;
                }
            }
        }
    }
}

/// The named lifetimes of every reference in `ty` (`'static` included).
fn reference_lifetimes(ty: &syn::Type) -> BTreeSet<String> {
    struct Refs(BTreeSet<String>);
    impl<'ast> Visit<'ast> for Refs {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            if let Some(lifetime) = &r.lifetime {
                self.0.insert(lifetime.ident.to_string());
            }
            visit::visit_type_reference(self, r);
        }
    }
    let mut refs = Refs(BTreeSet::new());
    refs.visit_type(ty);
    refs.0
}

/// `(outer, inner)` for every reference `&'outer X` in `ty` whose `X` names `'inner`
/// (`'_` and unnamed lifetimes left out).
fn lifetime_pairs(ty: &syn::Type) -> Vec<(String, String)> {
    struct Pairs(Vec<(String, String)>);
    impl<'ast> Visit<'ast> for Pairs {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            if let Some(outer) = r.lifetime.as_ref().filter(|l| l.ident != "_") {
                let mut inner = Lifetimes(BTreeSet::new());
                inner.visit_type(&r.elem);
                for name in inner.0 {
                    self.0.push((outer.ident.to_string(), name));
                }
            }
            visit::visit_type_reference(self, r);
        }
    }
    struct Lifetimes(BTreeSet<String>);
    impl<'ast> Visit<'ast> for Lifetimes {
        fn visit_lifetime(&mut self, l: &'ast syn::Lifetime) {
            if l.ident != "_" {
                self.0.insert(l.ident.to_string());
            }
        }
    }
    let mut pairs = Pairs(Vec::new());
    pairs.visit_type(ty);
    pairs.0
}

fn is_integer(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|i| INTEGERS.contains(&i.to_string().as_str())))
}

fn strip_parens(mut expr: &syn::Expr) -> &syn::Expr {
    while let syn::Expr::Paren(inner) = expr {
        expr = &inner.expr;
    }
    expr
}

impl<'ast> Visit<'ast> for Scan<'_> {
    fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
        if let (Some(outer), syn::Type::Reference(inner)) = (&r.lifetime, &*r.elem)
            && let Some(inner_lifetime) = &inner.lifetime
            && inner_lifetime.ident != outer.ident
            && inner_lifetime.ident != "_"
            && outer.ident != "_"
        {
            self.note(
                r.span(),
                &format!(
                    "a reference to a reference with two lifetimes (`&{outer} &{inner_lifetime}`): \
                     the lever of the compiler's lifetime-extension bug (rust-lang/rust#25860, \
                     cve-rs)"
                ),
            );
        }
        visit::visit_type_reference(self, r);
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        let inputs = sig.inputs.iter().filter_map(|arg| match arg {
            syn::FnArg::Typed(typed) => Some(&*typed.ty),
            syn::FnArg::Receiver(_) => None,
        });
        self.check_signature(inputs, &sig.output, sig.ident.span());
        visit::visit_signature(self, sig);
    }

    fn visit_type_bare_fn(&mut self, bare: &'ast syn::TypeBareFn) {
        if let (Some(binder), syn::ReturnType::Type(_, output)) = (&bare.lifetimes, &bare.output) {
            let bound: BTreeSet<String> = binder
                .lifetimes
                .iter()
                .filter_map(|p| match p {
                    syn::GenericParam::Lifetime(l) => Some(l.lifetime.ident.to_string()),
                    _ => None,
                })
                .collect();
            let escapes = reference_lifetimes(output)
                .into_iter()
                .find(|l| !bound.contains(l));
            let takes_bound = bare.inputs.iter().any(|arg| {
                reference_lifetimes(&arg.ty)
                    .iter()
                    .any(|l| bound.contains(l))
            });
            if let Some(escapes) = escapes.filter(|_| takes_bound) {
                self.note(
                    bare.span(),
                    &format!(
                        "a higher-ranked fn pointer type takes a reference for any `for<'x>` \
                         lifetime and returns one for `'{escapes}` (`for<'x> fn(&'x T) -> \
                         &'{escapes} T`): the coercion that extends a lifetime"
                    ),
                );
            }
        }
        let inputs = bare.inputs.iter().map(|arg| &arg.ty);
        self.check_signature(inputs, &bare.output, bare.span());
        visit::visit_type_bare_fn(self, bare);
    }

    fn visit_expr_cast(&mut self, cast: &'ast syn::ExprCast) {
        let inner = strip_parens(&cast.expr);
        if is_integer(&cast.ty) {
            // A function's address, not data's (see the module doc).
            let address = match inner {
                syn::Expr::Path(p) => p
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| self.functions.contains(s.ident.to_string().as_str())),
                _ => false,
            };
            if address {
                self.note(
                    cast.span(),
                    "casts a function to an integer: a code address, the start of reading the \
                     program's own image",
                );
            }
        }
        if let syn::Type::Ptr(_) = &*cast.ty {
            let from_integer = match inner {
                syn::Expr::Lit(_) | syn::Expr::Binary(_) => true,
                syn::Expr::Cast(c) => is_integer(&c.ty),
                _ => false,
            };
            if from_integer {
                self.note(
                    cast.span(),
                    "casts an integer to a pointer: memory the code does not own",
                );
            }
        }
        visit::visit_expr_cast(self, cast);
    }

    fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
        if ADDRESS_FNS.contains(&segment.ident.to_string().as_str()) {
            self.note(
                segment.ident.span(),
                &format!(
                    "uses `{}`: turns pointers into addresses or back",
                    segment.ident
                ),
            );
        }
        visit::visit_path_segment(self, segment);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        if ADDRESS_FNS.contains(&method.as_str()) {
            self.note(
                call.method.span(),
                &format!(
                    "calls `.{}()`: turns a pointer into an address",
                    call.method
                ),
            );
        }
        visit::visit_expr_method_call(self, call);
    }

    fn visit_lit(&mut self, lit: &'ast syn::Lit) {
        self.check_lit(lit, lit.span());
        visit::visit_lit(self, lit);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.check_tokens(&mac.tokens);
        visit::visit_macro(self, mac);
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::files::Sources;

    use super::super::source::{Policy, check};

    fn review(code: &str) -> Vec<String> {
        let mut sources = Sources::new();
        sources.insert("src/lib.rs".into(), code.as_bytes().to_vec());
        check(&sources, &Policy::default()).review
    }

    #[test]
    fn the_lifetime_extension_skeleton_is_evidence() {
        for code in [
            // cve-rs's `lifetime_translator`, and the fn pointer it is coerced to.
            "fn extend<'a, 'b, T>(_: &'a &'b (), v: &'b T) -> &'a T { v }\n\
             pub fn f<T>(x: &T) -> &'static T {\n\
             let g: for<'x> fn(&'static &'x (), &'x T) -> &'static T = extend;\n\
             g(&&(), x) }",
            "struct W<'a, 'b>(&'a &'b ());",
            "fn extend<'a, 'b, T>(_: &'a Option<&'b ()>, v: &'b T) -> &'a T { v }",
            "type F<T> = for<'x> fn(&'x T) -> &'static T;",
            "fn e<'b, T>(x: &T) -> &'b T { let f: for<'x> fn(_, &'x T) -> &'b T = g; f(&&(), x) }",
        ] {
            assert!(!review(code).is_empty(), "not flagged:\n{code}");
        }
    }

    #[test]
    fn addresses_and_self_reading_are_evidence() {
        for code in [
            "fn f() {} pub fn g() -> usize { f as usize }",
            "pub fn g() -> *const u8 { 0x1000 as *const u8 }",
            "pub fn g(n: u32) -> *const u8 { n as usize as *const u8 }",
            "pub fn g() -> *const u8 { std::ptr::with_exposed_provenance(8) }",
            "pub fn g() -> &'static str { \"/proc/self/maps\" }",
            "pub fn g() { println!(\"test result: ok. 1 passed\"); }",
            "pub const M: &[u8] = b\"\\x7fELF\";",
            "pub const M: u32 = 0x464c457f;",
            "pub const W: &str = \"_exit\";",
        ] {
            assert!(!review(code).is_empty(), "not flagged:\n{code}");
        }
    }

    #[test]
    fn ordinary_code_is_not_evidence() {
        for code in [
            "pub fn len(v: &[u8]) -> usize { v.len() as usize }",
            // Data addresses, as Stage 3 uses them: an offset inside a buffer, "did it move?".
            "pub fn g(x: &u8) -> usize { x as *const u8 as usize }",
            "pub fn g(v: &[u8], w: &[u8]) -> usize { w.as_ptr() as usize - v.as_ptr() as usize }",
            "pub fn g(v: &[u8]) -> usize { v.as_ptr().addr() }",
            "pub fn f<'a>(cx: &mut std::task::Context<'_>, x: &'a u8) -> &'a u8 { let _ = cx; x }",
            "pub struct S<'a> { r: &'a str } impl<'a> S<'a> { pub fn get(&self) -> &'a str { self.r } }",
            "pub fn g(n: u32) -> usize { n as usize }",
            "pub fn g(x: &u8) -> *const u8 { x as *const u8 }",
            "pub fn g() { println!(\"ok\"); }",
            "pub type F<T> = for<'x> fn(&'x T) -> &'x T;",
        ] {
            let found = review(code);
            assert!(found.is_empty(), "flagged:\n{code}\n{found:#?}");
        }
    }

    /// The invariant: the course's stubs and reference solutions show none of the patterns,
    /// and the gate accepts them.
    #[test]
    fn the_course_itself_is_neither_flagged_nor_refused() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let toml_of = |dir: &std::path::Path| {
            let name = dir.file_name().unwrap().to_owned();
            std::fs::read_to_string(root.join("exercises").join(name).join("exercise.toml"))
                .unwrap_or_default()
        };
        for kind in ["exercises", "solutions"] {
            for stage in std::fs::read_dir(root.join(kind)).unwrap().flatten() {
                let src = stage.path().join("src");
                let mut sources = Sources::new();
                for path in crate::files::walk_all(&src).unwrap_or_default() {
                    if path.extension().is_some_and(|e| e == "rs") {
                        let relative = path.strip_prefix(stage.path()).unwrap().to_owned();
                        sources.insert(relative, std::fs::read(&path).unwrap());
                    }
                }
                let policy = Policy {
                    allow_unsafe: toml_of(&stage.path()).contains("allow_unsafe = true"),
                    only_in: Vec::new(),
                };
                let found = check(&sources, &policy);
                assert!(
                    found.review.is_empty() && found.refused.is_empty(),
                    "{}: {found:#?}",
                    stage.path().display()
                );
            }
        }
    }
}
