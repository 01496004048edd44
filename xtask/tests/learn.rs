//! The learner's loop on the fixture course: status, run, hints, reset, solution, progress.

mod common;
use common::copy_dir;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A fixture course with its stubs kept as pristine copies (as a starter repository has).
fn course(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("learn-{name}"));
    let _ = fs::remove_dir_all(&root);
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture"),
        &root,
        &[],
    );
    for stage in ["01-adder", "02-doubler"] {
        copy_dir(
            &root.join("exercises").join(stage).join("src"),
            &root
                .join(".course/pristine/exercises")
                .join(stage)
                .join("src"),
            &[],
        );
    }
    root
}

fn xtask(root: &Path, args: &[&str], stdin: &str) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

fn solve_adder(root: &Path) {
    fs::copy(
        root.join("solutions/01-adder/src/lib.rs"),
        root.join("exercises/01-adder/src/lib.rs"),
    )
    .unwrap();
}

#[test]
fn status_starts_with_nothing_done_and_names_the_next_command() {
    let root = course("status");
    let (code, out) = xtask(&root, &[], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("adder") && out.contains("not started"),
        "{out}"
    );
    assert!(out.contains("cargo xtask run adder"), "{out}");
}

#[test]
fn run_marks_a_stage_done_and_status_moves_on() {
    let root = course("run");
    let (code, out) = xtask(&root, &["run", "adder"], "");
    assert_eq!(code, Some(1), "the stub fails\n{out}");
    assert!(out.contains("0 of 2 tests pass"), "{out}");
    assert!(
        out.contains("2 + 2 should be 4") || out.contains("not yet implemented"),
        "{out}"
    );

    solve_adder(&root);
    let (code, out) = xtask(&root, &["run", "adder"], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("stage 1 is done"), "{out}");
    let (_, out) = xtask(&root, &[], "");
    assert!(
        out.contains("done") && out.contains("cargo xtask run doubler"),
        "{out}"
    );

    // Edited after passing: no longer counted as done until it passes again.
    fs::write(
        root.join("exercises/01-adder/src/lib.rs"),
        "pub fn add(a: u32, b: u32) -> u32 { a + b }\n// x\n",
    )
    .unwrap();
    let (_, out) = xtask(&root, &[], "");
    assert!(out.contains("done, edited since"), "{out}");
}

#[test]
fn hints_are_revealed_one_at_a_time_and_remembered() {
    let root = course("hints");
    let (_, out) = xtask(&root, &["hint", "adder"], "");
    assert!(out.contains("Hint 1 of 1 — Use +"), "{out}");
    assert!(out.contains("last hint"), "{out}");
    let progress = fs::read_to_string(root.join(".course-progress")).unwrap();
    assert!(progress.contains("hints adder 1"), "{progress}");
    let (_, out) = xtask(&root, &["hint", "adder", "--again"], "");
    assert!(out.contains("Hint 1 of 1"), "{out}");
}

#[test]
fn reset_asks_first_keeps_a_backup_and_restores_the_stub() {
    let root = course("reset");
    solve_adder(&root);
    let (_, out) = xtask(&root, &["reset", "adder"], "n\n");
    assert!(out.contains("Nothing changed"), "{out}");
    assert!(
        fs::read_to_string(root.join("exercises/01-adder/src/lib.rs"))
            .unwrap()
            .contains("a + b")
    );

    let (code, out) = xtask(&root, &["reset", "adder"], "y\n");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        fs::read_to_string(root.join("exercises/01-adder/src/lib.rs"))
            .unwrap()
            .contains("todo!")
    );
    let backups: Vec<_> = fs::read_dir(root.join(".course/backups"))
        .unwrap()
        .collect();
    assert_eq!(backups.len(), 1, "one backup of the learner's version");
}

#[test]
fn the_solution_opens_only_once_the_stage_passes() {
    let root = course("solution");
    let (code, out) = xtask(&root, &["solution", "adder"], "");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("opens once your own passes"), "{out}");
    let (code, out) = xtask(&root, &["solution", "adder", "--force"], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("a + b"), "{out}");
}

#[test]
fn unknown_stages_list_the_valid_ones_and_old_progress_is_harmless() {
    let root = course("unknown");
    fs::write(
        root.join(".course-progress"),
        "current renamed-stage\npassed removed-stage 1234\n",
    )
    .unwrap();
    let (code, out) = xtask(&root, &["run", "multiplier"], "");
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("unknown stage `multiplier`") && out.contains("adder"),
        "{out}"
    );
    let (code, out) = xtask(&root, &[], "");
    assert_eq!(code, Some(0), "{out}");
    let progress = fs::read_to_string(root.join(".course-progress")).unwrap();
    assert!(progress.contains("removed-stage"), "kept: {progress}");
}

#[test]
fn watch_in_manual_mode_runs_on_enter_and_quits_on_q() {
    let root = course("watch");
    let (code, out) = xtask(&root, &["watch", "--manual"], "\nq\n");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out.matches("0 of 2 tests pass").count(),
        2,
        "a run at start, one on Enter\n{out}"
    );
}
