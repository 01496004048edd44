//! `cargo xtask grade` against hostile submissions. Each test copies the fixture course
//! (`tests/fixture`, stages `adder` and `doubler`, 3 s per test), makes a student-style
//! submission (no solutions/, the doubler solved) with one hostile `add`, grades it, and
//! checks that the hostility cost exactly what it should, in bounded time.

mod common;
use common::{copy_dir, stage};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

struct Case {
    course: PathBuf,
    submission: PathBuf,
    out: PathBuf,
}

/// A fresh course and a submission whose `add` is `add_body` and whose doubler is solved.
fn case(name: &str, add_body: &str) -> Case {
    let (course, submission, out) = common::course_and_submission(&format!("grade-{name}"));
    write(
        &submission,
        "exercises/01-adder/src/lib.rs",
        &format!("/// Adds two numbers.\npub fn add(a: u32, b: u32) -> u32 {{\n{add_body}\n}}\n"),
    );
    Case {
        course,
        submission,
        out,
    }
}

fn write(root: &Path, file: &str, content: &str) {
    let path = root.join(file);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// Grades the case; returns grade.json and the human output. Asserts the run stayed within
/// a generous bound: build (seconds) + tests x timeout (3 tests x 3 s).
fn grade(case: &Case, extra: &[&str]) -> (Value, String) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&case.course)
        .args(["grade", "--submission"])
        .arg(&case.submission)
        .args(["--format", "human,json,junit,gradescope,classroom", "--out"])
        .arg(&case.out)
        .args(extra)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_OUTPUT")
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let human = common::output_text(&output);
    assert!(
        elapsed < Duration::from_secs(120),
        "grading took {elapsed:?}: hangs must cost only their timeout\n{human}"
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "grade exits 0 once reports exist\n{human}"
    );
    let json = fs::read_to_string(case.out.join("grade.json")).expect("grade.json was written");
    (serde_json::from_str(&json).unwrap(), human)
}

fn statuses(grade: &Value, stage_name: &str) -> Vec<String> {
    stage(grade, stage_name)["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap().to_owned())
        .collect()
}

/// The doubler is always solved: whatever the adder does, it must still score 2/2.
fn doubler_still_graded(grade: &Value, human: &str) {
    assert_eq!(statuses(grade, "doubler"), ["pass"], "{human}");
    assert_eq!(stage(grade, "doubler")["score"], 2.0, "{human}");
}

#[test]
fn solutions_score_full_marks_and_every_report_is_written() {
    let c = case("solved", "    a + b");
    let (grade, human) = grade(&c, &[]);
    assert_eq!(
        (grade["score"].as_f64(), grade["max_score"].as_f64()),
        (Some(6.0), Some(6.0)),
        "{human}"
    );
    assert_eq!(grade["complete"], true);
    for file in ["grade.json", "junit.xml", "results.json", "classroom.json"] {
        assert!(c.out.join(file).is_file(), "{file} missing");
    }
    let gradescope: Value =
        serde_json::from_str(&fs::read_to_string(c.out.join("results.json")).unwrap()).unwrap();
    assert_eq!(gradescope["tests"].as_array().unwrap().len(), 3);
    assert_eq!(gradescope["tests"][0]["status"], "passed");
    let junit = fs::read_to_string(c.out.join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"tests="3""#) && junit.contains(r#"failures="0""#),
        "{junit}"
    );
}

#[test]
fn stubs_score_zero() {
    let c = case("stub", "    let _ = (a, b);\n    todo!()");
    fs::copy(
        c.course.join("exercises/02-doubler/src/lib.rs"),
        c.submission.join("exercises/02-doubler/src/lib.rs"),
    )
    .unwrap();
    let (grade, human) = grade(&c, &[]);
    assert_eq!(grade["score"], 0.0, "{human}");
    assert_eq!(statuses(&grade, "adder"), ["fail", "fail"]);
}

#[test]
fn an_infinite_loop_is_a_timeout() {
    let (grade, human) = grade(&case("loop", "    let _ = (a, b);\n    loop {}"), &[]);
    assert_eq!(statuses(&grade, "adder"), ["timeout", "timeout"], "{human}");
    doubler_still_graded(&grade, &human);
}

#[test]
fn a_deadlock_is_a_timeout() {
    let body =
        "    let (_keep, rx) = std::sync::mpsc::channel::<u32>();\n    rx.recv().unwrap() + a + b";
    let (grade, human) = grade(&case("deadlock", body), &[]);
    assert_eq!(statuses(&grade, "adder"), ["timeout", "timeout"], "{human}");
    doubler_still_graded(&grade, &human);
}

#[test]
fn a_stack_overflow_is_a_crash() {
    let body = "    fn down(n: u64) -> u64 { std::hint::black_box(down(n + 1)) + 1 }\n    \
                down(0) as u32 + a + b";
    let (grade, human) = grade(&case("overflow", body), &[]);
    assert_eq!(statuses(&grade, "adder"), ["crash", "crash"], "{human}");
    doubler_still_graded(&grade, &human);
}

#[test]
fn a_panic_in_a_destructor_during_unwinding_is_a_crash() {
    // A panic while unwinding aborts the process (SIGABRT), without naming std::process.
    let body = "    struct Bomb;\n    impl Drop for Bomb { fn drop(&mut self) { panic!(\"again\") } }\n    \
                let _bomb = Bomb;\n    let _ = (a, b);\n    panic!(\"first\")";
    let (grade, human) = grade(&case("abort", body), &[]);
    assert_eq!(statuses(&grade, "adder"), ["crash", "crash"], "{human}");
    assert!(
        stage(&grade, "adder")["tests"][0]["message"]
            .as_str()
            .unwrap()
            .contains("signal 6")
    );
    doubler_still_graded(&grade, &human);
}

#[test]
fn exit_zero_mid_test_is_refused() {
    let (grade, human) = grade(
        &case("exit", "    let _ = (a, b);\n    std::process::exit(0)"),
        &[],
    );
    assert_eq!(statuses(&grade, "adder"), ["fail", "fail"], "{human}");
    let violations = stage(&grade, "adder")["violations"].to_string();
    assert!(violations.contains("src/lib.rs:4"), "{violations}");
    assert!(human.contains("REFUSED"), "{human}");
    doubler_still_graded(&grade, &human);
}

#[test]
fn a_forged_ok_line_does_not_pass() {
    // The best forgery: libtest's own lines, the right counts, then exit 0.
    let body = r#"    use std::io::Write;
    let forged = "test adding::two_and_two_make_four ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; finished in 0.00s\n";
    let _ = std::io::stdout().write_all(forged.as_bytes());
    let _ = (a, b);
    std::process::exit(0)"#;
    let (grade, human) = grade(&case("forged", body), &[]);
    assert_eq!(statuses(&grade, "adder"), ["fail", "fail"], "{human}");
    assert_eq!(stage(&grade, "adder")["score"], 0.0);
    doubler_still_graded(&grade, &human);
}

#[test]
fn ffi_escape_hatches_are_refused() {
    let body = "    unsafe extern \"C\" { fn _exit(code: i32) -> !; }\n    let _ = (a, b);\n    \
                unsafe { _exit(0) }";
    let (grade, human) = grade(&case("ffi", body), &[]);
    assert_eq!(statuses(&grade, "adder"), ["fail", "fail"], "{human}");
    assert!(
        stage(&grade, "adder")["violations"]
            .to_string()
            .contains("foreign function"),
        "{human}"
    );
}

#[test]
fn an_output_flood_is_capped() {
    // 20 MB (80 times the runner's cap) through libtest's capture, which prints it all when
    // the test fails. On a loaded machine the printing may outlast the 3 s limit: either way
    // the test must not pass and the report must stay small.
    let body = "    let line = \"x\".repeat(1023);\n    for _ in 0..20_000 { println!(\"{line}\"); }\n    \
                a + b + 1";
    let (grade, human) = grade(&case("flood", body), &[]);
    for status in statuses(&grade, "adder") {
        assert!(status == "fail" || status == "timeout", "{status}\n{human}");
    }
    let json = fs::read_to_string(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade-flood/out/grade.json"),
    )
    .unwrap();
    assert!(
        json.len() < 2_000_000,
        "the report holds {} bytes",
        json.len()
    );
}

#[test]
fn a_compile_error_costs_only_its_stage() {
    let (grade, human) = grade(&case("compile", "    a + b +"), &[]);
    assert_eq!(
        statuses(&grade, "adder"),
        ["compile_error", "compile_error"],
        "{human}"
    );
    let errors = stage(&grade, "adder")["compile_error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        errors.contains("error"),
        "the compiler's message is in the report: {errors}"
    );
    assert!(
        !errors.contains(env!("CARGO_TARGET_TMPDIR")),
        "paths are made relative: {errors}"
    );
    doubler_still_graded(&grade, &human);
}

#[test]
fn an_edited_test_file_is_reported_and_not_used() {
    let c = case("edited-test", "    let _ = (a, b);\n    todo!()");
    write(
        &c.submission,
        "exercises/01-adder/tests/adding.rs",
        "#[test]\nfn two_and_two_make_four() {}\n#[test]\nfn renamed_test() {}\n",
    );
    let (grade, human) = grade(&c, &[]);
    assert_eq!(
        statuses(&grade, "adder"),
        ["fail", "fail"],
        "the course's tests were used\n{human}"
    );
    let names: Vec<String> = stage(&grade, "adder")["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["two_and_two_make_four", "zero_is_neutral"],
        "a renamed test changes nothing"
    );
    let findings = grade["integrity"].to_string();
    assert!(
        findings.contains("exercises/01-adder/tests/adding.rs") && findings.contains("modified"),
        "{findings}"
    );
}

#[test]
fn env_overrides_in_cargo_config_are_reported_and_not_used() {
    let c = case("cargo-config", "    let _ = (a, b);\n    todo!()");
    write(
        &c.submission,
        ".cargo/config.toml",
        "[env]\nINSTA_FORCE_PASS = \"1\"\nINSTA_UPDATE = \"always\"\nTRYBUILD = \"overwrite\"\n",
    );
    let (grade, human) = grade(&c, &[]);
    assert_eq!(statuses(&grade, "adder"), ["fail", "fail"], "{human}");
    let findings = grade["integrity"].to_string();
    assert!(
        findings.contains(".cargo/config.toml") && findings.contains("added"),
        "{findings}"
    );
}

#[test]
fn a_build_script_is_refused_and_never_run() {
    let c = case("build-rs", "    a + b");
    let marker = c.submission.parent().unwrap().join("build-script-ran");
    write(
        &c.submission,
        "exercises/01-adder/build.rs",
        &format!(
            "fn main() {{ std::fs::write({:?}, \"ran\").unwrap(); }}\n",
            marker
        ),
    );
    write(
        &c.submission,
        "exercises/01-adder/src/notes.txt",
        "not code",
    );
    let (grade, human) = grade(&c, &[]);
    assert!(!marker.exists(), "the submission's build.rs ran");
    let refused = stage(&grade, "adder")["refused"].to_string();
    assert!(
        refused.contains("build.rs") && refused.contains("notes.txt"),
        "{refused}"
    );
    assert_eq!(statuses(&grade, "adder"), ["pass", "pass"], "{human}");
}

#[test]
fn a_budget_that_runs_out_still_leaves_a_report() {
    let (grade, human) = grade(
        &case("budget", "    let _ = (a, b);\n    loop {}"),
        &["--budget", "1ms", "--jobs", "1"],
    );
    let all: Vec<String> = ["adder", "doubler"]
        .iter()
        .flat_map(|s| statuses(&grade, s))
        .collect();
    assert!(all.iter().all(|s| s == "not_run"), "{all:?}\n{human}");
    assert_eq!(grade["budget_exhausted"], true);
}

#[test]
fn require_all_fails_the_run_unless_everything_passes() {
    let c = case("require-all", "    a + b + 1");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&c.course)
        .args(["grade", "--require-all", "--format", "json", "--submission"])
        .arg(&c.submission)
        .arg("--out")
        .arg(&c.out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        c.out.join("grade.json").is_file(),
        "reports are written before failing"
    );
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

fn export(course: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(course)
        .args(["classroom", "export", "--out"])
        .arg(out)
        .args(extra)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = common::output_text(&output);
    (output.status.code(), text)
}

/// The export is made from git HEAD: an instructor's uncommitted answers are refused (or, with
/// --allow-dirty, left out); a failed check leaves nothing behind, and a retry works.
#[test]
fn a_classroom_export_is_made_from_what_is_committed() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export-git");
    let _ = fs::remove_dir_all(&base);
    let course = base.join("course");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture"),
        &course,
        &[],
    );
    git(&course, &["init", "-q"]);
    git(&course, &["add", "-A"]);
    git(&course, &["commit", "-q", "-m", "course"]);
    let stub = fs::read_to_string(course.join("exercises/01-adder/src/lib.rs")).unwrap();
    let answer = fs::read_to_string(course.join("solutions/01-adder/src/lib.rs")).unwrap();

    // An instructor tried the adder in their checkout.
    fs::write(course.join("exercises/01-adder/src/lib.rs"), &answer).unwrap();
    let out = base.join("starter");
    let (code, text) = export(&course, &out, &["--no-check"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("uncommitted changes"), "{text}");
    assert!(!out.exists(), "a refused export writes nothing");
    let (code, text) = export(&course, &out, &["--no-check", "--allow-dirty"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("NOT exported"), "{text}");
    for file in [
        "exercises/01-adder/src/lib.rs",
        ".course/pristine/exercises/01-adder/src/lib.rs",
    ] {
        assert_eq!(
            fs::read_to_string(out.join(file)).unwrap(),
            stub,
            "{file} is the committed stub"
        );
    }
    fs::remove_dir_all(&out).unwrap();

    // A committed course whose stub passes a test: the check fails and leaves nothing.
    git(
        &course,
        &["commit", "-q", "-am", "oops: the answer as the stub"],
    );
    let (code, text) = export(&course, &out, &[]);
    assert_ne!(code, Some(0), "{text}");
    assert!(!out.exists(), "a failed export leaves nothing\n{text}");
    let leftovers: Vec<_> = fs::read_dir(&base)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("export"))
        .collect();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
    git(&course, &["revert", "--no-edit", "HEAD"]);
    let (code, text) = export(&course, &out, &[]);
    assert_eq!(code, Some(0), "a retry works\n{text}");
    assert!(text.contains("stubs score 0/6"), "{text}");
}

#[test]
fn a_classroom_export_has_no_solutions_builds_and_scores_zero() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export");
    let _ = fs::remove_dir_all(&base);
    let course = base.join("course");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture"),
        &course,
        &[],
    );
    let out = base.join("starter");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&course)
        .args(["classroom", "export", "--out"])
        .arg(&out)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = common::output_text(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("stubs score 0/6"), "{text}");
    assert!(
        !out.join("solutions").exists(),
        "solutions must never be exported"
    );
    let lock = fs::read_to_string(out.join("Cargo.lock")).unwrap();
    assert!(
        !lock.contains("adder-solution"),
        "the lockfile is pruned to the export's members"
    );
    for file in [
        "README.md",
        "course.sha256",
        ".github/workflows/classroom.yml",
        "gradescope/setup.sh",
        "gradescope/run_autograder",
        "exercises/01-adder/tests/adding.rs",
        ".course/pristine/exercises/01-adder/src/lib.rs",
        ".course/pristine/exercises/01-adder/tests/adding.rs",
        ".course/pristine/exercises/01-adder/exercise.toml",
        ".course/pristine/Cargo.toml",
        ".course/pristine/Cargo.lock",
    ] {
        assert!(out.join(file).is_file(), "{file} missing from the export");
    }

    // Exporting over a non-empty directory loses nothing: it is refused.
    let again = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&course)
        .args(["classroom", "export", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));

    assert!(text.contains("not in a git repository"), "{text}");
    // Nothing in a starter names what it does not have.
    let config = fs::read_to_string(out.join(".cargo/config.toml")).unwrap();
    assert!(!config.contains("ARCHITECTURE"), "{config}");
    let readme = fs::read_to_string(out.join("README.md")).unwrap();
    for command in [
        "cargo xtask run",
        "cargo xtask watch",
        "cargo xtask hint",
        "cargo xtask reset",
    ] {
        assert!(
            readme.contains(command),
            "the student README teaches `{command}`"
        );
    }
    for absent in ["solution", "verify", "cargo bench"] {
        assert!(
            !readme.contains(absent),
            "the student README names `{absent}`"
        );
    }
    let workflow = fs::read_to_string(out.join(".github/workflows/classroom.yml")).unwrap();
    for expected in [
        "actions/checkout@v5",
        "actions/cache@v4",
        "hashFiles('Cargo.lock'",
        "actions/upload-artifact@v4",
        "STAGE01_RESULTS: \"${{ steps.grade.outputs.stage01 }}\"",
        "runners: stage01,stage02",
    ] {
        assert!(workflow.contains(expected), "{expected}\n{workflow}");
    }

    // The Gradescope zip: outside the tree, the same bytes every time.
    if Command::new("zip").arg("-v").output().is_ok() {
        let zip = |name: &str| {
            let target = base.join(name);
            let made = Command::new(out.join("gradescope/make-zip.sh"))
                .arg(&target)
                .output()
                .unwrap();
            assert!(made.status.success(), "{made:?}");
            fs::read(target).unwrap()
        };
        let first = zip("a.zip");
        fs::write(
            out.join("README.md"),
            fs::read(out.join("README.md")).unwrap(),
        )
        .unwrap();
        assert!(first == zip("b.zip"), "make-zip.sh is deterministic");
        let default = Command::new(out.join("gradescope/make-zip.sh"))
            .output()
            .unwrap();
        assert!(default.status.success(), "{default:?}");
        assert!(
            base.join("autograder.zip").is_file(),
            "written next to the tree"
        );
        assert!(
            !out.join("autograder.zip").exists(),
            "never inside the tree"
        );
    } else {
        eprintln!("zip is not installed: make-zip.sh not checked");
    }

    // In the starter, a student who neutralises the tests (every test returns at once) gets
    // nothing for it: the self-grade uses the course's copy and says what it restored.
    let tests = out.join("exercises/01-adder/tests/adding.rs");
    let neutral = fs::read_to_string(&tests)
        .unwrap()
        .replace(
            "fn two_and_two_make_four() {",
            "fn two_and_two_make_four() {\n    return;",
        )
        .replace(
            "fn zero_is_neutral() {",
            "fn zero_is_neutral() {\n    return;",
        );
    fs::write(&tests, neutral).unwrap();
    let graded = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&out)
        .args(["grade", "--format", "json", "--out"])
        .arg(base.join("report"))
        .output()
        .unwrap();
    assert_eq!(graded.status.code(), Some(0));
    let grade: Value =
        serde_json::from_str(&fs::read_to_string(base.join("report/grade.json")).unwrap()).unwrap();
    assert!(
        grade["integrity"]
            .to_string()
            .contains("exercises/01-adder/tests/adding.rs")
    );
    let note = grade["integrity_note"].as_str().unwrap();
    assert!(note.contains(".course/pristine"), "{note}");
    assert!(note.contains("1 file(s)"), "{note}");
    assert_eq!(
        grade["score"], 0.0,
        "neutralised tests earn nothing: {grade}"
    );
    let (code, text) = export(&course, &base.join("again"), &["--no-check"]);
    assert_eq!(code, Some(0), "{text}");
    let env_from_a_later_export = fs::read_to_string(base.join("again/README.md")).unwrap();
    assert!(env_from_a_later_export.contains("cargo xtask hint"));
}

/// `[[gate.only_in]]` (Stage 2's seam rule, on the fixture's adder): `std::sync` only in
/// `src/sync.rs`.
const SEAM_RULE: &str = "\n[[gate.only_in]]\npath = \"std::sync\"\nfiles = [\"src/sync.rs\"]\n\
                         allow = [\"std::sync::Arc\"]\nwhy = \"use crate::sync::Mutex: the model \
                         checker only sees locks created through the seam\"\n";

#[test]
fn a_path_kept_to_the_seam_is_refused_outside_it_with_the_reason() {
    let case = case(
        "seam",
        "    *std::sync::Mutex::new(a + b).lock().unwrap_or_else(|e| e.into_inner())",
    );
    for root in [&case.course, &case.submission] {
        let path = root.join("exercises/01-adder/exercise.toml");
        let declaration = fs::read_to_string(&path).unwrap() + SEAM_RULE;
        fs::write(&path, declaration).unwrap();
    }
    let (grade, human) = grade(&case, &[]);
    assert_eq!(statuses(&grade, "adder"), ["fail", "fail"], "{human}");
    let violations = stage(&grade, "adder")["violations"].to_string();
    assert!(
        violations.contains("src/lib.rs:3: uses `std::sync::Mutex::new` outside src/sync.rs")
            && violations.contains("the model checker only sees locks created through the seam"),
        "the violation names the path, the seam and why: {violations}"
    );
    doubler_still_graded(&grade, &human);
}

/// The adder declares `tools` (and `tools_install`), and gets `tests/tools.rs`: in the course
/// and, identical, in the submission (so the integrity check finds nothing).
fn declare_tools(case: &Case, tools: &str, tests: &str) {
    let declaration = format!(
        "{}tools = {tools}\ntools_install = \"xtask-test-tools (the fixture's package)\"\n",
        fs::read_to_string(case.course.join("exercises/01-adder/exercise.toml")).unwrap()
    );
    for root in [&case.course, &case.submission] {
        write(root, "exercises/01-adder/exercise.toml", &declaration);
        write(root, "exercises/01-adder/tests/tools.rs", tests);
    }
}

/// What the fixture's tool tests share: `true` (everywhere, harmless) is declared.
const TOOL_TESTS: &str = r#"use std::io::ErrorKind;
use std::process::Command;

#[test]
fn the_declared_tool_runs_by_name() {
    assert_eq!(std::env::var("COURSE_TOOLS_REQUIRED").as_deref(), Ok("1"));
    let status = Command::new("true").status().expect("the declared `true` starts");
    assert!(status.success());
}

#[test]
fn an_undeclared_program_is_not_found_by_name() {
    let err = Command::new("sh").args(["-c", "exit 0"]).status().expect_err("sh is not declared");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[test]
fn an_undeclared_program_cannot_be_started_by_its_path() {
    match Command::new("/bin/sh").args(["-c", "exit 0"]).status() {
        Err(err) => assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}"),
        Ok(status) => panic!("/bin/sh started ({status})"),
    }
}
"#;

fn test_of<'a>(grade: &'a Value, stage_name: &str, id: &str) -> &'a Value {
    stage(grade, stage_name)["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no test {id}"))
}

#[test]
fn a_declared_tool_runs_under_grade_and_nothing_else_does() {
    let c = case("tools", "    a + b");
    declare_tools(&c, r#"["true"]"#, TOOL_TESTS);
    // Another stage, no tools declared: `true` is not its tool.
    for root in [&c.course, &c.submission] {
        write(
            root,
            "exercises/02-doubler/tests/no_tools.rs",
            "#[test]\nfn true_is_not_this_stages_tool() {\n    \
             assert!(std::process::Command::new(\"/bin/true\").status().is_err());\n}\n",
        );
    }
    let (grade, human) = grade(&c, &[]);
    let landlock = grade["isolation"]["landlock_abi"].as_u64().unwrap_or(0) > 0;
    let status = |stage_name, id| test_of(&grade, stage_name, id)["status"].clone();
    assert_eq!(
        status("adder", "tools::the_declared_tool_runs_by_name"),
        "pass",
        "{human}"
    );
    assert_eq!(
        status("adder", "tools::an_undeclared_program_is_not_found_by_name"),
        "pass",
        "{human}"
    );
    if landlock {
        assert_eq!(
            status(
                "adder",
                "tools::an_undeclared_program_cannot_be_started_by_its_path"
            ),
            "pass",
            "{human}"
        );
        assert_eq!(
            status("doubler", "no_tools::true_is_not_this_stages_tool"),
            "pass",
            "{human}"
        );
        assert_eq!(grade["score"], 6.0, "{human}");
    } else {
        eprintln!("no Landlock here: an undeclared program started by its path is not refused");
    }
    assert!(!human.contains("not installed"), "{human}");
    assert_eq!(stage(&grade, "adder")["notes"], serde_json::json!([]));
}

#[test]
fn a_declared_tool_missing_here_fails_its_tests_and_says_so() {
    let c = case("tools-missing", "    a + b");
    let tests = r#"use std::process::Command;

#[test]
fn the_declared_tool_runs_by_name() {
    assert!(Command::new("true").status().expect("the declared `true` starts").success());
}

#[test]
fn the_missing_tool_is_required() {
    match Command::new("xtask-test-no-such-tool").status() {
        Ok(status) => assert!(status.success()),
        Err(err) if std::env::var_os("COURSE_TOOLS_REQUIRED").is_some() => {
            panic!("xtask-test-no-such-tool cannot be started ({err}) and the tools are required")
        }
        Err(err) => println!("SKIPPED: xtask-test-no-such-tool cannot be started ({err})"),
    }
}
"#;
    declare_tools(&c, r#"["true", "xtask-test-no-such-tool"]"#, tests);
    let (grade, human) = grade(&c, &[]);
    let missing = test_of(&grade, "adder", "tools::the_missing_tool_is_required");
    assert_eq!(missing["status"], "fail", "{human}");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("xtask-test-no-such-tool cannot be started"),
        "{human}"
    );
    assert_eq!(
        test_of(&grade, "adder", "tools::the_declared_tool_runs_by_name")["status"],
        "pass",
        "{human}"
    );
    let said = "xtask-test-no-such-tool is not installed on this machine (not on the grader's \
                PATH): Stage 1's tests that use it cannot check anything, so they fail; install \
                xtask-test-tools (the fixture's package) and grade again";
    assert_eq!(grade["notes"], serde_json::json!([said]), "{human}");
    assert_eq!(stage(&grade, "adder")["notes"], serde_json::json!([said]));
    assert_eq!(stage(&grade, "doubler")["notes"], serde_json::json!([]));
    // Once at the start (a warning), then in the human report's notes.
    assert!(human.contains(&format!("warning: {said}")), "{human}");
    assert!(human.contains(&format!("note: {said}")), "{human}");
    for report in ["junit.xml", "results.json"] {
        let text = fs::read_to_string(c.out.join(report)).unwrap();
        assert!(
            text.contains("xtask-test-no-such-tool is not installed on this machine"),
            "{report}: {text}"
        );
    }
    doubler_still_graded(&grade, &human);
}
