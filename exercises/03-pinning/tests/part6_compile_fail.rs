//! Part 6 — what the compiler must refuse: moving pinned values, and pinning `!Unpin` ones
//! the safe way.
//!
//! Run just these with `cargo test -p pinning --test part6_compile_fail`. The first run takes
//! a while: trybuild compiles this crate's dependencies once more, in a project of its own.
//!
//! Each test compiles one small program from `tests/ui/` against your crate and expects it NOT
//! to compile. On the stub every one of these programs compiles, because the stub's types are
//! `Unpin`; they stop compiling once your types are as pinned as they must be.
//!
//! What is compared is the contract, not the compiler's whole explanation: the error lines
//! (code and message, e.g. "error[E0277]: `PhantomPinned` cannot be unpinned"), where each
//! error points in the case's program, and that the first error names your type (e.g.
//! "within `pinning::Join<NotUnpin, ...>`"). The `note: required because it appears within
//! the type ...` chain that follows depends on how you laid out your struct (a child kept
//! directly in a field, or inside a `MaybeDone`-style enum, both correct), and on whether the
//! `rust-src` component is installed (then notes quote the standard library's source), so it
//! is ignored.
//!
//! How: the cases have no `.stderr` file, so trybuild writes each program's (normalised)
//! compiler output to `wip/<case>.stderr` in this package (a directory it ignores in git) and
//! reports it as new; the test reads that file, deletes it, and checks the parts above.

use std::fs;
use std::panic;
use std::path::Path;

/// What a case's compiler output must contain.
struct Expected<'a> {
    /// Every `error...` headline, in order: no other error may appear.
    errors: &'a [&'a str],
    /// Where each error points, in the same order (`tests/ui/case.rs:line:column`).
    locations: &'a [&'a str],
    /// Text the first error must contain before its notes (the type it is about).
    first_error_mentions: &'a [&'a str],
}

/// One diagnostic of the output: its headline, where it points, and its body up to the first
/// top-level `note:` (the chain of notes is left out).
struct Diagnostic {
    headline: String,
    location: String,
    head: String,
}

fn diagnostics(stderr: &str) -> Vec<Diagnostic> {
    let mut found: Vec<Diagnostic> = Vec::new();
    let mut in_notes = false;
    for line in stderr.lines() {
        if line.starts_with("error") {
            found.push(Diagnostic {
                headline: line.trim().to_owned(),
                location: String::new(),
                head: String::new(),
            });
            in_notes = false;
        } else if let Some(diagnostic) = found.last_mut() {
            if line.starts_with("note:") || line.starts_with("help:") || line.starts_with("warning")
            {
                in_notes = true;
            }
            if in_notes {
                continue;
            }
            let trimmed = line.trim_start();
            if diagnostic.location.is_empty()
                && let Some(location) = trimmed.strip_prefix("--> ")
            {
                diagnostic.location = location.trim().to_owned();
            }
            diagnostic.head.push_str(line);
            diagnostic.head.push('\n');
        }
    }
    found
}

/// Compiles `tests/ui/{case}.rs` and fails with `why` if it compiles, or fails with other
/// errors than `expected`.
fn must_not_compile(case: &str, expected: &Expected<'_>, why: &str) {
    let path = format!("tests/ui/{case}.rs");
    // trybuild writes the output of a case without `.stderr` here, relative to the directory
    // the test runs in (this package's, under cargo).
    let wip = Path::new("wip").join(format!("{case}.stderr"));
    let recorded = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/ui/{case}.stderr"));
    assert!(
        !recorded.exists(),
        "{} exists (perhaps from a run with TRYBUILD=overwrite): delete it. This test reads \
         the compiler's output itself and compares only the errors, not every note.",
        recorded.display()
    );
    let _ = fs::remove_file(&wip);
    let outcome = panic::catch_unwind(|| {
        let cases = trybuild::TestCases::new();
        cases.compile_fail(&path);
        // The cases are compiled when `cases` is dropped, here.
    });
    let Ok(stderr) = fs::read_to_string(&wip) else {
        panic!(
            "{path} must NOT compile, and it did{}. Above, trybuild says what happened. {why}",
            if outcome.is_err() {
                " (or trybuild could not build it: read its output above)"
            } else {
                ""
            }
        );
    };
    let _ = fs::remove_file(&wip);
    let found = diagnostics(&stderr);
    let headlines: Vec<&str> = found.iter().map(|d| d.headline.as_str()).collect();
    let locations: Vec<&str> = found.iter().map(|d| d.location.as_str()).collect();
    let shown = format!("The compiler said:\n\n{stderr}");
    assert_eq!(
        headlines, expected.errors,
        "{path} did not compile, as it should not, but with other errors than expected: \
         expected {:?}, got {headlines:?}. {why}\n\n{shown}",
        expected.errors
    );
    assert_eq!(
        locations, expected.locations,
        "{path} failed with the expected errors, but at other places in the program. {why}\n\n\
         {shown}"
    );
    for mention in expected.first_error_mentions {
        assert!(
            found[0].head.contains(mention),
            "{path} failed with the expected error, but it does not say {mention:?}: the error \
             must be about your type. {why}\n\n{shown}"
        );
    }
}

#[test]
fn a_pinned_sentence_cannot_be_swapped_out_of_its_box() {
    must_not_compile(
        "sentence_swap",
        &Expected {
            errors: &[
                "error[E0596]: cannot borrow data in dereference of `Pin<Box<Sentence>>` as mutable",
                "error[E0596]: cannot borrow data in dereference of `Pin<Box<Sentence>>` as mutable",
            ],
            locations: &[
                "tests/ui/sentence_swap.rs:11:20",
                "tests/ui/sentence_swap.rs:11:33",
            ],
            first_error_mentions: &[
                "trait `DerefMut` is required to modify through a dereference, but it is not \
                 implemented for `Pin<Box<Sentence>>`",
            ],
        },
        "`Pin<Box<Sentence>>` gives out `&mut Sentence` (which `mem::swap` needs) only if \
         Sentence is Unpin. A Sentence points into itself, so it must not be: give it a \
         `std::marker::PhantomPinned` field, and expect error E0596.",
    );
}

#[test]
fn pin_new_refuses_a_join_of_a_not_unpin_child() {
    must_not_compile(
        "join_pin_new",
        &Expected {
            errors: &["error[E0277]: `PhantomPinned` cannot be unpinned"],
            locations: &["tests/ui/join_pin_new.rs:28:28"],
            first_error_mentions: &[
                "within `pinning::Join<NotUnpin, std::future::Ready<{integer}>>`, the trait \
                 `Unpin` is not implemented for `PhantomPinned`",
            ],
        },
        "`Pin::new(&mut join)` must be refused (E0277) when a child is !Unpin: Pin::new only \
         takes Unpin types, and a Join whose child must not move must not be Unpin either. \
         Keep each child in a field whose type contains it (`a: A`, or an enum holding an `A`) \
         so that the auto trait Unpin follows the children, and do not write `impl Unpin for \
         Join`.",
    );
}

#[test]
fn poll_unpin_refuses_a_join_of_a_self_borrowing_async_block() {
    must_not_compile(
        "join_poll_unpin",
        &Expected {
            errors: &[
                "error[E0277]: `{async block@$DIR/tests/ui/join_poll_unpin.rs:9:21: 9:26}` \
                 cannot be unpinned",
            ],
            locations: &["tests/ui/join_poll_unpin.rs:16:20"],
            first_error_mentions: &[
                "within `pinning::Join<{async block@$DIR/tests/ui/join_poll_unpin.rs:9:21: \
                 9:26}, std::future::Ready<{integer}>>`, the trait `Unpin` is not implemented \
                 for `{async block@$DIR/tests/ui/join_poll_unpin.rs:9:21: 9:26}`",
            ],
        },
        "`poll_unpin` requires Unpin, and an async block that borrows from itself is !Unpin, \
         so a Join holding one must be !Unpin too (E0277). Keep each child in a field whose \
         type contains it so that the auto trait Unpin follows the children, and do not write \
         `impl Unpin for Join`.",
    );
}
