//! `cargo xtask verify`: the course checks itself.
//!
//! For each stage:
//!
//! 1. **files**: the declaration, README, hints, tests and solution are all there, the
//!    solution package runs exactly the exercise's test files, and every variant's header
//!    reads and names real tests.
//! 2. **stub**: the exercise as shipped compiles without warnings, and every test fails on it
//!    (a test that passes on the stub checks nothing).
//! 3. **solution**: with the reference `src/` swapped in, every test passes.
//! 4. **bugs**: with each known-bug patch applied to the reference, the tests it names fail.
//! 5. **alts**: with each alternative patch applied, every test passes (compile-fail ones too).
//! 6. **lint**: clippy `-D warnings` and rustfmt are clean on the solution, the stub and the
//!    tests, and every patched file is rustfmt-clean.
//!
//! How it scales (see ARCHITECTURE.md, "How `cargo xtask verify` flows"):
//! * a stage whose inputs (its exercise and solution files, the harness, the toolchain, xtask
//!   and the lockfile) hash to what they were at its last passing verify is skipped
//!   (`--force` runs it anyway; see `freshness.rs`);
//! * every bug of a stage is built with one cargo run, each as a package of its own (see
//!   `batch.rs`) with one test binary for all the test files it needs, and a bug whose
//!   sources did not change is not rebuilt;
//! * a cold run starts from the registry dependencies the course's `cargo test` built
//!   (`exec/dep_seed.rs`), and every build resolves features as that `cargo test` does
//!   (`exec/features.rs`), so those are reused rather than compiled again;
//! * stages run two at a time, each in its own scratch copy of the course, sharing one target
//!   directory (the dependencies are built once); while one stage builds, the other runs tests;
//! * one clippy and one rustfmt run cover every stage, beside the stage checks (clippy builds
//!   into the course's own target directory, so it never waits for the scratch builds; see
//!   `lint.rs`);
//! * every check prints a `[done/total]` line as it finishes.

mod args;
mod checks;
mod flow;
mod lint;
mod shipped;
mod table;

pub use args::Args;
pub use flow::run;
