//! Part 6 — what the compiler must refuse: moving pinned values, and pinning `!Unpin` ones
//! the safe way.
//!
//! Run just these with `cargo test -p pinning --test part6_compile_fail`. The first run takes
//! a while: trybuild compiles this crate's dependencies once more, in a project of its own.
//!
//! Each test compiles one small program from `tests/ui/` against your crate and expects it NOT
//! to compile, with exactly the compiler output saved next to it in a `.stderr` file. On the
//! stub every one of these programs compiles, because the stub's types are `Unpin`; they stop
//! compiling once your types are as pinned as they must be.
//!
//! The expected output was recorded with the course's pinned toolchain and the reference
//! solution. It quotes one line of your code: the struct line of `Join`
//! (`pub struct Join<A: Future, B: Future> {`, as the stub has it). If a test fails *only*
//! because that quoted line differs, or because a note names one more type of yours (say, an
//! enum you wrapped a child in), your types are pinned correctly; keep the stub's struct line
//! and store each child directly in a field of type `A` / `B` to match the expected output.

use std::panic;
use std::path::Path;
use std::process::Command;

/// Compiles `tests/ui/{case}.rs` and fails with `why` if the outcome is not the expected
/// compile error.
fn must_not_compile(case: &str, why: &str) {
    let alternative = format!("tests/ui/with-rust-src/{case}.rs");
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = if rust_src_installed() && package.join(&alternative).exists() {
        alternative
    } else {
        format!("tests/ui/{case}.rs")
    };
    let outcome = panic::catch_unwind(|| {
        let cases = trybuild::TestCases::new();
        cases.compile_fail(&path);
        // The cases are compiled when `cases` is dropped, here.
    });
    if outcome.is_err() {
        panic!(
            "{path} must fail to compile with the error saved next to it (same name, \
             `.stderr`), and it did not. Above, trybuild says what happened instead: \
             \"Expected test case to fail to compile, but it succeeded\" means your types let \
             it through; an EXPECTED / ACTUAL pair means it failed with other compiler output. \
            {why}"
        );
    }
}

/// Whether the toolchain has the `rust-src` component (rust-analyzer, for one, installs it).
/// With it, rustc quotes the standard library's source in notes that point into it; without
/// it, it only names the file. trybuild compares the output exactly, so a case with such a note
/// has a second expected output under `tests/ui/with-rust-src/`.
fn rust_src_installed() -> bool {
    // Run from this package, so that rustup picks the toolchain in rust-toolchain.toml.
    let output = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    let Ok(output) = output else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&output.stdout);
    Path::new(sysroot.trim())
        .join("lib/rustlib/src/rust/library/core/src/pin.rs")
        .exists()
}

#[test]
fn a_pinned_sentence_cannot_be_swapped_out_of_its_box() {
    must_not_compile(
        "sentence_swap",
        "`Pin<Box<Sentence>>` gives out `&mut Sentence` (which `mem::swap` needs) only if \
         Sentence is Unpin. A Sentence points into itself, so it must not be: give it a \
         `std::marker::PhantomPinned` field, and expect error E0596.",
    );
}

#[test]
fn pin_new_refuses_a_join_of_a_not_unpin_child() {
    must_not_compile(
        "join_pin_new",
        "`Pin::new(&mut join)` must be refused (E0277) when a child is !Unpin: Pin::new only \
         takes Unpin types, and a Join whose child must not move must not be Unpin either. \
         Store the children directly as fields (`a: A`, `b: B`) so that the auto trait Unpin \
         follows them, and do not write `impl Unpin for Join`.",
    );
}

#[test]
fn poll_unpin_refuses_a_join_of_a_self_borrowing_async_block() {
    must_not_compile(
        "join_poll_unpin",
        "`poll_unpin` requires Unpin, and an async block that borrows from itself is !Unpin, \
         so a Join holding one must be !Unpin too (E0277). Store the children directly as \
         fields so that the auto trait Unpin follows them, and do not write `impl Unpin for \
         Join`.",
    );
}
