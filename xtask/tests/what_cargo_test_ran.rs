//! Not a test: the note a bare `cargo test` at the root ends with (no libtest harness, so it
//! is printed, not captured). It says that the run checked the course, not the learner's code,
//! and how to test one's own code (`xtask cargo-test-note`, tested in `learn.rs`).

fn main() {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("cargo-test-note")
        .status();
    if !status.as_ref().is_ok_and(|s| s.success()) {
        eprintln!("(could not print what `cargo test` ran: {status:?})");
        std::process::exit(1);
    }
}
