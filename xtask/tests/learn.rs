//! The learner's loop on the fixture course: status, run, hints, reset, solution, progress.

mod common;
use common::copy_dir;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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
    let text = common::output_text(&output);
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

// ---- the command line (issue 12) -------------------------------------------------------------

fn xtask_env(
    root: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    cwd: Option<&Path>,
) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--root").arg(root).args(args);
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE");
    for (key, value) in env {
        cmd.env(key, value);
    }
    if let Some(cwd) = cwd {
        cmd.current_dir(cwd);
    }
    let output = cmd.stdin(Stdio::null()).output().unwrap();
    let text = common::output_text(&output);
    (output.status.code(), text)
}

#[test]
fn unknown_arguments_and_commands_are_errors_with_a_suggestion() {
    let root = course("cli-errors");
    let (code, out) = xtask(&root, &["run", "adder", "--bogus"], "");
    assert_eq!(
        code,
        Some(2),
        "an unknown flag is an error, not ignored\n{out}"
    );
    assert!(out.contains("--bogus"), "{out}");
    let (code, out) = xtask(&root, &["lst"], "");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("'list'"), "did you mean for commands\n{out}");
    let (code, out) = xtask(&root, &["run", "addr"], "");
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("did you mean `adder`"),
        "did you mean for stages\n{out}"
    );
    let (code, out) = xtask(
        &root,
        &["grade", "--submission", "a", "--submissions", "b"],
        "",
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("cannot be used with"), "{out}");
    // A second stage is not silently ignored: it is not a part of the first.
    let (code, out) = xtask(&root, &["run", "adder", "doubler"], "");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("no part or test named `doubler`"), "{out}");
}

#[test]
fn every_command_has_its_own_help_and_completions_exist() {
    let root = course("cli-help");
    let (code, out) = xtask(&root, &["run", "--help"], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("PART|TEST") && out.contains("--clippy"),
        "{out}"
    );
    let (_, out) = xtask(&root, &["hint", "--help"], "");
    assert!(out.contains("--again"), "{out}");
    let (_, out) = xtask(&root, &["--help"], "");
    for command in [
        "status", "list", "readme", "run", "watch", "hint", "next", "reset", "verify",
    ] {
        assert!(out.contains(command), "`{command}` in the help\n{out}");
    }
    // Grouped under headings, in the order of the declarations.
    let at = |text: &str| out.find(text).unwrap_or_else(|| panic!("`{text}`:\n{out}"));
    assert!(at("Learner commands:") < at("  status "), "{out}");
    assert!(at("  reset ") < at("Grading:"), "{out}");
    assert!(at("Grading:") < at("  grade ") && at("  grade ") < at("Instructor commands:"));
    assert!(at("Instructor commands:") < at("  verify ") && at("  verify ") < at("Author"));
    assert!(at("Author commands") < at("  bug "), "{out}");
    for shell in ["bash", "zsh", "fish"] {
        let (code, out) = xtask(&root, &["completions", shell], "");
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("readme") && out.len() > 500, "{shell}:\n{out}");
    }
}

#[test]
fn a_bad_format_or_isolation_is_refused_with_the_valid_values() {
    let root = course("cli-values");
    let (code, out) = xtask(&root, &["grade", "--format", "human,xml"], "");
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("invalid value 'xml' for '--format <LIST>'"),
        "{out}"
    );
    assert!(
        out.contains("human, json, junit, gradescope, classroom, exercism"),
        "{out}"
    );
    let (code, out) = xtask(&root, &["grade", "--isolation", "loose"], "");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("auto, strict, off"), "{out}");
    // `none` is still `off`; the unknown stage stops it once the line has parsed.
    let (code, out) = xtask(
        &root,
        &[
            "grade",
            "--isolation",
            "none",
            "--format",
            "json,junit",
            "--stage",
            "nosuch",
        ],
        "",
    );
    assert_eq!(code, Some(2), "{out}");
    assert!(!out.contains("invalid value"), "{out}");
}

#[test]
fn a_starter_repository_hides_the_instructors_commands() {
    let root = course("cli-starter");
    fs::remove_dir_all(root.join("solutions")).unwrap();
    let (_, out) = xtask(&root, &["--help"], "");
    for hidden in ["verify", "solution", "bug", "alt"] {
        assert!(
            !out.lines()
                .any(|l| l.trim_start().starts_with(&format!("{hidden} "))),
            "`{hidden}` hidden in a starter repo\n{out}"
        );
    }
    assert!(out.contains("watch"), "{out}");
    let (_, out) = xtask(&root, &["grade", "--help"], "");
    assert!(!out.contains("--submissions"), "{out}");
    assert!(out.contains("--submission"), "{out}");
}

#[test]
fn a_stage_is_found_by_name_crate_directory_number_or_where_you_stand() {
    let root = course("cli-stages");
    for name in [
        "doubler",
        "02-doubler",
        "exercises/02-doubler",
        "exercises/02-doubler/",
        "2",
    ] {
        let (_, out) = xtask(&root, &["readme", name], "");
        assert!(
            out.contains("# Doubler") || out.to_lowercase().contains("doubl"),
            "{name}: {out}"
        );
        let (code, out) = xtask(&root, &["run", name], "");
        assert_eq!(code, Some(1), "{name}: {out}");
        assert!(out.contains("02 doubler"), "{name} picks doubler\n{out}");
    }
    // No stage named: the one whose directory we stand in.
    let (_, out) = xtask_env(
        &root,
        &["run"],
        &[("NO_COLOR", "1")],
        Some(&root.join("exercises/02-doubler/src")),
    );
    assert!(
        out.contains("02 doubler"),
        "run from inside exercises/02-doubler\n{out}"
    );
}

#[test]
fn run_one_part_or_one_test_and_see_partial_points_and_warnings() {
    let root = course("cli-parts");
    // Half right: zero is neutral, 2 + 2 is not 4 (and an unused import).
    fs::write(
        root.join("exercises/01-adder/src/lib.rs"),
        "use std::fmt::Write;\npub fn add(a: u32, b: u32) -> u32 { a + b * 0 }\n",
    )
    .unwrap();
    let (code, out) = xtask(&root, &["run", "adder", "adding::zero_is_neutral"], "");
    assert_eq!(code, Some(0), "the one test asked for passes\n{out}");
    assert!(out.contains("1 of 1 tests pass"), "{out}");
    assert!(
        !out.contains("two_and_two_make_four"),
        "only the test asked for\n{out}"
    );
    assert!(
        out.contains("2/4 points"),
        "points as soon as one test passes\n{out}"
    );
    assert!(
        out.contains("unused import"),
        "warnings of the learner's package\n{out}"
    );
    let (_, out) = xtask(&root, &["run", "adder", "adding"], "");
    assert!(
        out.contains("part 1 of 1: adding  1/2 tests"),
        "progress by part\n{out}"
    );
    let (_, out) = xtask(&root, &["list"], "");
    assert!(
        out.lines()
            .any(|l| l.contains("adding") && l.contains("1/2") && l.contains('2')),
        "list: the part, its tests and points\n{out}"
    );
    assert!(out.contains("2/4"), "{out}");
}

#[test]
fn clippy_is_offered_by_run() {
    let root = course("cli-clippy");
    solve_adder(&root);
    let (code, out) = xtask(&root, &["run", "adder", "--clippy"], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("clippy"), "{out}");
}

#[test]
fn colour_follows_no_color_clicolor_and_the_terminal() {
    let root = course("cli-colour");
    let (_, plain) = xtask_env(&root, &[], &[], None);
    assert!(!plain.contains('\x1b'), "a pipe gets no colour\n{plain}");
    let (_, forced) = xtask_env(&root, &[], &[("CLICOLOR_FORCE", "1")], None);
    assert!(
        forced.contains("\x1b["),
        "CLICOLOR_FORCE=1 forces colour\n{forced}"
    );
    let (_, off) = xtask_env(
        &root,
        &[],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        None,
    );
    assert!(!off.contains('\x1b'), "NO_COLOR wins\n{off}");
}

#[test]
fn a_closed_pipe_ends_quietly_after_saving() {
    let root = course("cli-pipe");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // `cargo xtask hint | head` after head has exited
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&root)
        .args(["hint", "adder"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "no panic on a closed pipe\n{stderr}"
    );
    assert_ne!(output.status.code(), Some(101), "{stderr}");
    let progress = fs::read_to_string(root.join(".course-progress")).unwrap();
    assert!(
        progress.contains("hints adder 1"),
        "the hint is counted: {progress}"
    );
}

#[test]
fn status_comes_from_results_and_deleting_the_progress_file_forgets_only_hints() {
    let root = course("derived");
    solve_adder(&root);
    let (code, out) = xtask(&root, &["run", "adder"], "");
    assert_eq!(code, Some(0), "{out}");
    let (_, out) = xtask(&root, &["hint", "doubler"], "");
    assert!(out.contains("Hint 1"), "{out}");
    let (_, out) = xtask(&root, &[], "");
    assert!(
        out.lines()
            .any(|l| l.contains("doubler") && l.contains("not started")),
        "viewing a hint does not start a stage\n{out}"
    );
    fs::remove_file(root.join(".course-progress")).unwrap();
    let (_, out) = xtask(&root, &[], "");
    assert!(
        out.lines()
            .any(|l| l.contains("adder") && l.contains("done") && l.contains("4/4")),
        "a finished stage stays done without .course-progress\n{out}"
    );
    assert!(
        out.contains("hints you had revealed are forgotten"),
        "and it says so\n{out}"
    );
}

#[test]
fn reset_asks_before_mentioning_backups_and_says_what_it_did() {
    let root = course("reset-words");
    solve_adder(&root);
    let (_, out) = xtask(&root, &["reset", "adder"], "n\n");
    assert!(
        !out.contains("backup"),
        "nothing about backups before the answer\n{out}"
    );
    assert!(out.contains("Nothing changed"), "{out}");
    let (_, out) = xtask(&root, &["reset", "adder"], "y\n");
    assert!(
        out.contains("Copied your exercises/01-adder/src to .course/backups/")
            && out.contains("Restored exercises/01-adder/src to the stub"),
        "{out}"
    );
}

#[test]
fn bare_cargo_test_ends_by_saying_what_it_ran() {
    let root = course("note");
    let (code, out) = xtask(&root, &["cargo-test-note"], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("reference solutions") && out.contains("None of it tested YOUR code"),
        "{out}"
    );
    assert!(
        out.contains("cargo xtask run") && out.contains("cargo test -p adder"),
        "{out}"
    );
    fs::remove_dir_all(root.join("solutions")).unwrap();
    let (_, out) = xtask(&root, &["cargo-test-note"], "");
    assert!(
        out.contains("course tools' own checks") && !out.contains("reference"),
        "{out}"
    );
    // The note is a test target of xtask without libtest's harness, so cargo shows its output.
    let manifest =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("name = \"what_cargo_test_ran\"\nharness = false"),
        "{manifest}"
    );
}

// ---- Ctrl-C -------------------------------------------------------------------------------

/// Pids of processes whose command line contains `needle`.
/// Starts `cargo xtask run adder` in the course at `root` (stderr piped) and returns once a
/// process whose command line contains `needle` exists; fails with `never` after 120 s, or
/// with `ended` if xtask exits first.
fn run_until_started(root: &Path, needle: &str, never: &str, ended: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(root)
        .args(["run", "adder"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while processes_with(needle).is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "{never}"
        );
        assert!(child.try_wait().unwrap().is_none(), "{ended}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child
}

fn processes_with(needle: &str) -> Vec<u32> {
    fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
        })
        .collect()
}

#[test]
fn ctrl_c_or_sigterm_during_run_leaves_no_test_process_behind() {
    if !Path::new("/proc/self").exists() {
        eprintln!("skipped: needs /proc to look for orphans");
        return;
    }
    let root = course("ctrl-c");
    let stage = root.join("exercises/01-adder");
    let toml = fs::read_to_string(stage.join("exercise.toml")).unwrap();
    fs::write(
        stage.join("exercise.toml"),
        toml.replace("timeout = \"3s\"", "timeout = \"120s\""),
    )
    .unwrap();
    // A test that never ends, and a grandchild of its own: both must go.
    let needle = format!("spin_marker_{}", std::process::id());
    fs::write(
        stage.join("tests/spinning.rs"),
        format!(
            "#[test]\nfn spins_forever() {{\n    let _child = std::process::Command::new(\"sleep\").arg(\"1000\").arg0(\"{needle}\").spawn();\n    loop {{ std::hint::spin_loop(); }}\n}}\nuse std::os::unix::process::CommandExt;\n"
        ),
    )
    .unwrap();
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let child = run_until_started(
            &root,
            &needle,
            "the spinning test never started",
            "xtask ended before the test started",
        );
        let spinning = processes_with("spins_forever");
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(130),
            "exit 130 after signal {signal}"
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("interrupted"), "{stderr}");
        // Killed processes disappear once reaped; give init a moment to reap the orphans.
        let start = std::time::Instant::now();
        loop {
            let left: Vec<u32> = processes_with(&needle)
                .into_iter()
                .chain(processes_with("spins_forever"))
                .filter(|pid| {
                    fs::read_to_string(format!("/proc/{pid}/stat"))
                        .is_ok_and(|s| !s.contains(") Z "))
                })
                .collect();
            if left.is_empty() {
                break;
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(5),
                "after signal {signal}, still running: {left:?} (the test was {spinning:?})"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let progress = fs::read_to_string(root.join(".course-progress")).unwrap();
        assert!(
            progress.contains("current adder"),
            "progress saved: {progress}"
        );
    }
}

// ---- the watch screen, in a real terminal (tmux) -------------------------------------------

/// Runs tmux on a server of this test's own (`-L`), so a learner's sessions are never touched.
fn tmux(socket: &str, args: &[&str]) -> String {
    let output = Command::new("tmux")
        .args(["-L", socket])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn wait_for_screen(socket: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
    wait_for_pane(socket, "watch", what, check)
}

fn wait_for_pane(socket: &str, pane: &str, what: &str, check: impl Fn(&str) -> bool) -> String {
    let start = std::time::Instant::now();
    loop {
        let screen = tmux(socket, &["capture-pane", "-p", "-t", pane]);
        if check(&screen) {
            return screen;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(90),
            "the watch screen never showed {what}; it shows:\n{screen}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn watch_draws_a_screen_and_answers_single_keys_in_a_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!(
            "SKIPPED watch_draws_a_screen...: tmux is not installed (apt-get install tmux; \
             .ci/run installs it)"
        );
        return;
    }
    let root = course("watch-tmux");
    let socket = format!("xtask-test-{}", std::process::id());
    let command = format!(
        "{} --root {} watch --manual; echo EXITED $?; sleep 60",
        env!("CARGO_BIN_EXE_xtask"),
        root.display()
    );
    tmux(
        &socket,
        &[
            "new-session",
            "-d",
            "-s",
            "watch",
            "-x",
            "100",
            "-y",
            "40",
            &command,
        ],
    );
    let screen = wait_for_screen(&socket, "the first run", |s| s.contains("0/2 tests"));
    assert!(
        screen.contains("01 adder") && screen.contains("░"),
        "stage and progress bar\n{screen}"
    );
    assert!(
        screen.contains("first failure: adding::two_and_two_make_four")
            && screen.contains("not yet implemented"),
        "the first failure in full\n{screen}"
    );
    assert!(
        screen.contains("h hint") && screen.contains("q quit"),
        "key help\n{screen}"
    );
    // One key, no Enter: the hint appears in place, under the same run.
    tmux(&socket, &["send-keys", "-t", "watch", "h"]);
    let screen = wait_for_screen(&socket, "the hint", |s| s.contains("Hint 1 of 1"));
    assert_eq!(
        screen.matches("01 adder").count(),
        1,
        "redrawn, not appended\n{screen}"
    );
    assert!(
        screen.contains("0/2 tests") && !screen.contains("cargo xtask hint adder"),
        "{screen}"
    );
    // r runs again: a fresh screen without the hint.
    tmux(&socket, &["send-keys", "-t", "watch", "r"]);
    wait_for_screen(&socket, "a redraw without the hint", |s| {
        s.contains("0/2 tests") && !s.contains("Hint 1 of 1")
    });
    tmux(&socket, &["send-keys", "-t", "watch", "q"]);
    let screen = wait_for_screen(&socket, "the end", |s| s.contains("EXITED"));
    assert!(screen.contains("EXITED 0"), "q quits with 0\n{screen}");
    // In raw mode Ctrl-C is a key, not a signal: it still ends the watch with 130.
    tmux(
        &socket,
        &[
            "new-session",
            "-d",
            "-s",
            "again",
            "-x",
            "100",
            "-y",
            "40",
            &command,
        ],
    );
    wait_for_pane(&socket, "again", "the first run", |s| {
        s.contains("0/2 tests")
    });
    tmux(&socket, &["send-keys", "-t", "again", "C-c"]);
    let screen = wait_for_pane(&socket, "again", "the end", |s| s.contains("EXITED"));
    tmux(&socket, &["kill-server"]);
    assert!(
        screen.contains("EXITED 130"),
        "Ctrl-C ends watch with 130\n{screen}"
    );
}

#[test]
fn the_real_course_answers_to_crate_names_and_suggests_stage_names() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let first = fs::read_to_string(root.join("exercises/01-manual-poll/README.md")).unwrap();
    let title = first.lines().next().unwrap();
    for name in [
        "manual_poll",
        "manual-poll",
        "exercises/01-manual-poll",
        "./exercises/01-manual-poll/",
        "01",
        "1",
    ] {
        let (code, out) = xtask(root, &["readme", name], "");
        assert_eq!(code, Some(0), "{name}: {out}");
        assert!(out.starts_with(title), "`{name}` is Stage 1\n{out}");
    }
    let (code, out) = xtask(root, &["readme", "manual-pol"], "");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("did you mean `manual-poll`?"), "{out}");
    let (_, out) = xtask(root, &["readme", "waker_queu"], "");
    assert!(out.contains("did you mean `waker-queue`?"), "{out}");
}

#[test]
fn ctrl_c_during_the_build_stops_cargo_and_everything_it_started() {
    if !Path::new("/proc/self").exists() {
        eprintln!("skipped: needs /proc to look for orphans");
        return;
    }
    let root = course("ctrl-c-build");
    // A build script that takes forever, with a child of its own.
    let needle = format!("build_marker_{}", std::process::id());
    fs::write(
        root.join("exercises/01-adder/build.rs"),
        format!(
            "use std::os::unix::process::CommandExt;\nfn main() {{\n    let _child = std::process::Command::new(\"sleep\").arg(\"1000\").arg0(\"{needle}\").spawn();\n    std::thread::sleep(std::time::Duration::from_secs(1000));\n}}\n"
        ),
    )
    .unwrap();
    let child = run_until_started(
        &root,
        &needle,
        "the build script never started",
        "xtask ended before the build script ran",
    );
    // SAFETY: kill only sends a signal to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let build_dir = root.join("target").display().to_string();
    let start = std::time::Instant::now();
    loop {
        let left: Vec<u32> = processes_with(&needle)
            .into_iter()
            .chain(processes_with(&build_dir))
            .filter(|pid| {
                fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
            })
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "still running after Ctrl-C during the build: {left:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
