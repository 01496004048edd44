//! The adversarial corpus: submissions that solve nothing and try to forge, escape or poison
//! grading, by class (see ARCHITECTURE.md, "How grading stays trustworthy"). Each case grades
//! a fresh copy of the fixture course (stages `adder`, `doubler`; the doubler is honestly
//! solved), then checks that the attack scored nothing, that nothing it started is alive, that
//! nothing outside the scratch changed, and that the next honest submission graded from the
//! same checkout gets full marks.
//!
//! Gate cases run as a student's would. Sandbox cases set `XTASK_TEST_SKIP_GATE=1`, so the
//! attack really runs, and check that the sandbox holds by itself.

mod common;
use common::{copy_dir, stage};

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

struct Case {
    course: PathBuf,
    submission: PathBuf,
    out: PathBuf,
}

fn case(name: &str, lib_rs: &str) -> Case {
    let (course, submission, out) = common::course_and_submission(&format!("hostile-{name}"));
    fs::write(submission.join("exercises/01-adder/src/lib.rs"), lib_rs).unwrap();
    Case {
        course: course.canonicalize().unwrap(),
        submission,
        out,
    }
}

/// `add` with this body (`a` and `b` in scope).
fn add_with(body: &str) -> String {
    format!("/// Adds.\npub fn add(a: u32, b: u32) -> u32 {{\n{body}\n}}\n")
}

fn grade(case: &Case, skip_gate: bool) -> (Value, String) {
    grade_with_env(case, skip_gate, &[])
}

/// `grade`, with these variables in the grader's environment.
fn grade_with_env(case: &Case, skip_gate: bool, env: &[(&str, &str)]) -> (Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.envs(env.iter().copied());
    cmd.arg("--root")
        .arg(&case.course)
        .args(["grade", "--submission"])
        .arg(&case.submission)
        .args(["--format", "human,json,gradescope", "--out"])
        .arg(&case.out)
        .env("NO_COLOR", "1");
    if skip_gate {
        cmd.env("XTASK_TEST_SKIP_GATE", "1");
    }
    let output = cmd.output().unwrap();
    let human = common::output_text(&output);
    assert_eq!(output.status.code(), Some(0), "grading failed\n{human}");
    let json = fs::read_to_string(case.out.join("grade.json")).expect("grade.json");
    (serde_json::from_str(&json).unwrap(), human)
}

/// Every file of the course, with its content (target/ left out: it is the build cache).
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()) {
            let path = entry.path();
            if entry.file_name() == "target" {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                files.push((path.clone(), fs::read(&path).unwrap_or_default()));
            }
        }
    }
    files.sort();
    files
}

/// Processes whose command line contains `marker` (and are not zombies).
fn alive_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        if cmdline.contains(marker) && !status.contains("State:\tZ") {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

/// Grades the attack, then checks the four promises.
fn attack(name: &str, lib_rs: &str, skip_gate: bool) -> (Value, String) {
    attack_with(name, lib_rs, &[], skip_gate)
}

/// [`attack`] with more files under the adder's `src/` (`(name, content)`).
fn attack_with(
    name: &str,
    lib_rs: &str,
    more: &[(&str, String)],
    skip_gate: bool,
) -> (Value, String) {
    let c = case(name, lib_rs);
    for (file, content) in more {
        fs::write(
            c.submission.join("exercises/01-adder/src").join(file),
            content,
        )
        .unwrap();
    }
    let before = snapshot(&c.course);
    let (graded, human) = grade(&c, skip_gate);
    assert_eq!(
        stage(&graded, "adder")["score"],
        0.0,
        "{name}: the attack scored\n{human}"
    );
    assert_eq!(
        stage(&graded, "doubler")["score"],
        2.0,
        "{name}: the honest stage lost points\n{human}"
    );
    assert_eq!(graded["complete"], true, "{name}\n{human}");
    assert!(
        c.out.join("results.json").is_file(),
        "{name}: no Gradescope results"
    );
    let after = snapshot(&c.course);
    assert!(before == after, "{name}: the course checkout changed");
    // The next, honest submission from the same checkout.
    fs::write(
        c.submission.join("exercises/01-adder/src/lib.rs"),
        add_with("    a + b"),
    )
    .unwrap();
    for (file, _) in more {
        fs::remove_file(c.submission.join("exercises/01-adder/src").join(file)).unwrap();
    }
    let (honest, honest_human) = grade(&c, false);
    assert_eq!(
        honest["score"], 6.0,
        "{name}: the next honest submission was affected\n{honest_human}"
    );
    (graded, human)
}

#[test]
fn in_process_forgery_is_refused_by_the_gate() {
    let forged = r#"test adding::two_and_two_make_four ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; finished in 0.00s\n"#;
    let cases = [
        (
            "exit",
            add_with("    let _ = (a, b);\n    std::process::exit(0)"),
        ),
        (
            "exit-aliased",
            format!(
                "use std as s;\n{}",
                add_with(&format!(
                    "    print!(\"{forged}\");\n    let _ = (a, b);\n    s::process::exit(0)"
                ))
            ),
        ),
        (
            "exec",
            format!(
                "use std::os::unix::process::CommandExt;\n{}",
                add_with(&format!(
                    "    print!(\"{forged}\");\n    let _ = (a, b);\n    \
                     let e = std::process::Command::new(\"true\").exec();\n    panic!(\"{{e}}\")"
                ))
            ),
        ),
        (
            "proc-self-fd",
            add_with(&format!(
                "    use std::io::Write;\n    let mut out = std::fs::OpenOptions::new()\
                 .write(true).open(\"/proc/self/fd/1\").unwrap();\n    \
                 out.write_all(b\"{forged}\").unwrap();\n    a + b + 1"
            )),
        ),
        (
            "constructor",
            format!(
                "#[unsafe(link_section = \".init_array\")]\n#[used]\nstatic INIT: extern \"C\" fn() = init;\n\
                 extern \"C\" fn init() {{}}\n{}",
                add_with("    a + b + 1")
            ),
        ),
        (
            "clippy-only-cfg",
            format!(
                "#[cfg(not(clippy))]\nfn leave() -> ! {{ std::process::exit(0) }}\n\
                 #[cfg(clippy)]\nfn leave() -> ! {{ loop {{}} }}\n{}",
                add_with("    let _ = (a, b);\n    leave()")
            ),
        ),
        (
            "macro-assembled",
            format!(
                "macro_rules! go {{ ($r:ident, $m:ident) => {{ $r::$m::exit(0) }}; }}\n{}",
                add_with("    let _ = (a, b);\n    go!(std, process)")
            ),
        ),
        (
            "raw-identifier",
            add_with("    let _ = (a, b);\n    std::r#process::exit(0)"),
        ),
        (
            "spaced-out",
            add_with("    let _ = (a, b);\n    std :: process\n        :: exit ( 0 )"),
        ),
    ];
    assert_all_refused("forge", &cases);
}

/// Grades each `(name, lib.rs)` attack (the gate on) and asserts the gate refused it.
fn assert_all_refused(prefix: &str, cases: &[(&str, String)]) {
    for (name, lib_rs) in cases {
        let (graded, human) = attack(&format!("{prefix}-{name}"), lib_rs, false);
        assert!(
            !stage(&graded, "adder")["violations"]
                .as_array()
                .unwrap()
                .is_empty(),
            "{name}: not refused by the gate\n{human}"
        );
    }
}

/// Attacks that never write a refused name where the gate reads names: the gate judges what a
/// name resolves to (renames of std macros) and what a macro could splice (tokens).
#[test]
fn renamed_and_assembled_names_are_refused() {
    let cases = [
        (
            "renamed-include",
            "use std::include_str as grab;\n\
             pub fn add(a: u32, b: u32) -> u32 {\n\
             let s = grab!(\"lib.rs\");\n\
             (s.len() as u32).min(0) + a + b + 1 }\n"
                .to_owned(),
        ),
        (
            "renamed-env",
            format!(
                "use std::option_env as peek;\n{}",
                add_with("    peek!(\"HOME\").map_or(0, |h| h.len() as u32) + a + b + 1")
            ),
        ),
        (
            "nested-use-group",
            format!(
                "use ::core::{{prelude::v1::{{include_bytes as grab}}}};\n{}",
                add_with("    grab!(\"lib.rs\").len() as u32 * 0 + a + b + 1")
            ),
        ),
        (
            "macro-built-attribute",
            format!(
                "macro_rules! put {{ ($a:ident, $s:literal) => {{\n\
                 #[unsafe($a = $s)] #[used] static INIT: fn() = init;\n }}; }}\n\
                 put!(link_section, \".init_array\");\nfn init() {{}}\n{}",
                add_with("    a + b + 1")
            ),
        ),
        (
            "macro-built-path",
            format!(
                "macro_rules! leave {{ ($m:ident) => {{ ::std::$m::exit(0) }}; }}\n{}",
                add_with("    let _ = (a, b);\n    leave!(process)")
            ),
        ),
    ];
    assert_all_refused("assembled", &cases);
}

/// The skeleton of a safe-code memory forgery (cve-rs's lifetime extension, a look for the
/// binary's own image): it is not refused, it need not even forge anything here (the tests
/// pass honestly), but the stage's points are withheld and every report says why.
#[test]
fn memory_forgery_patterns_are_withheld_for_review() {
    let lib_rs = "const UNIT: &&() = &&();\n\
                  fn extend<'a, 'b, T>(_: &'a &'b (), v: &'b T) -> &'a T { v }\n\
                  fn expand<'a, 'b, T>(x: &'a T) -> &'b T {\n\
                  let f: for<'x> fn(_, &'x T) -> &'b T = extend;\n\
                  f(UNIT, x) }\n\
                  /// Adds.\npub fn add(a: u32, b: u32) -> u32 {\n\
                  let base = expand(&add) as *const _ as usize;\n\
                  let _ = (base, b\"\\x7fELF\");\n a + b }\n";
    let (graded, human) = attack("forgery-skeleton", lib_rs, false);
    let adder = stage(&graded, "adder");
    let review = adder["review"].as_array().unwrap();
    assert!(
        review
            .iter()
            .any(|e| e.as_str().unwrap().contains("src/lib.rs:2:")),
        "no evidence with file:line\n{human}"
    );
    assert!(
        adder["violations"].as_array().unwrap().is_empty(),
        "{human}"
    );
    for test in adder["tests"].as_array().unwrap() {
        assert_eq!(test["status"], "withheld", "{human}");
        assert_eq!(test["score"], 0.0, "{human}");
    }
    assert!(human.contains("NEEDS REVIEW"), "{human}");
}

/// The grader's own parser meets input built to overflow it: the stage is refused with the
/// reason, the run completes, the report is complete, the other stage is graded.
#[test]
fn input_built_to_crash_the_gate_costs_only_its_stage() {
    let cases = [
        (
            "parentheses",
            format!(
                "pub const X: u8 = {}0{};\n",
                "(".repeat(400_000),
                ")".repeat(400_000)
            ),
            "nested more than",
        ),
        (
            "negations",
            format!("pub const X: bool = {}true;\n", "!".repeat(300_000)),
            "check of this stage's code",
        ),
    ];
    for (name, deep, why) in cases {
        let (graded, human) = attack_with(
            &format!("crash-gate-{name}"),
            &add_with("    a + b"),
            &[("deep.rs", deep)],
            false,
        );
        let violations = stage(&graded, "adder")["violations"].to_string();
        assert!(violations.contains(why), "{name}: {violations}\n{human}");
    }
}

/// A submission that prints megabytes of terminal control sequences: every report stays small
/// and shows them escaped.
#[test]
fn floods_of_output_and_control_characters_stay_bounded_and_escaped() {
    let lib_rs = add_with(
        "    print!(\"{}\", \"\\u{1b}[2J\\rtest result: ok\\u{202e}\".repeat(200_000));\n    \
         panic!(\"\\u{1b}[32mPASSED\\u{1b}[0m\\r{}\", \"x\".repeat(4 << 20))",
    );
    let (_, human) = attack("flood", &lib_rs, false);
    assert!(
        human.len() < 256 << 10,
        "the human report is {} bytes",
        human.len()
    );
    for bad in ['\u{1b}', '\r', '\u{202e}'] {
        assert!(!human.contains(bad), "{bad:?} reached the human report");
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-flood/out");
    for file in ["grade.json", "results.json"] {
        let size = fs::metadata(out.join(file)).unwrap().len();
        assert!(size < 256 << 10, "{file} is {size} bytes");
    }
}

#[test]
fn reading_what_is_not_theirs_is_refused() {
    let cases = [
        (
            "include-solution",
            "include!(\"../../../../course/solutions/01-adder/src/lib.rs\");\n".to_owned(),
        ),
        (
            "path-attribute",
            "#[path = \"/etc/hostname\"]\nmod other;\n".to_owned() + &add_with("    a + b + 1"),
        ),
        (
            "env-at-build",
            add_with("    let _ = env!(\"HOME\");\n    a + b + 1"),
        ),
    ];
    for (name, lib_rs) in cases {
        attack(&format!("read-{name}"), &lib_rs, false);
    }
}

#[test]
fn a_symlinked_src_is_refused_and_never_followed() {
    let c = case("symlink", &add_with("    a + b + 1"));
    // A classmate's solved repository next to this one.
    let classmate = c.submission.with_file_name("classmate");
    copy_dir(&c.course, &classmate, &["solutions"]);
    fs::copy(
        c.course.join("solutions/01-adder/src/lib.rs"),
        classmate.join("exercises/01-adder/src/lib.rs"),
    )
    .unwrap();
    let src = c.submission.join("exercises/01-adder/src");
    fs::remove_dir_all(&src).unwrap();
    std::os::unix::fs::symlink(classmate.join("exercises/01-adder/src"), &src).unwrap();
    let (graded, human) = grade(&c, false);
    assert_eq!(stage(&graded, "adder")["score"], 0.0, "{human}");
    assert!(
        stage(&graded, "adder")["compile_error"]
            .to_string()
            .contains("symbolic link"),
        "{human}"
    );
    assert_eq!(stage(&graded, "doubler")["score"], 2.0, "{human}");
}

/// Whether this machine gives the grader a layer that can stop these attacks: root (a
/// dedicated user) or Landlock. Without either, `grade --isolation strict` refuses to run,
/// and the sandbox cases below say they were skipped.
fn isolation_available() -> bool {
    // SAFETY: geteuid cannot fail; the Landlock version query passes no memory.
    let root = unsafe { libc::geteuid() } == 0;
    #[cfg(target_os = "linux")]
    // SAFETY: with a null attribute pointer, size 0 and the VERSION flag, the syscall only
    // returns Landlock's ABI version (or -1).
    let landlock = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    } > 0;
    #[cfg(not(target_os = "linux"))]
    let landlock = false;
    root || landlock
}

/// The sandbox alone (gate skipped): what the attack tries must not happen.
fn sandboxed(name: &str, lib_rs: &str) -> Option<(Value, String)> {
    if !isolation_available() {
        eprintln!("skipped {name}: this machine offers neither root nor Landlock");
        return None;
    }
    let (graded, human) = attack(&format!("sandbox-{name}"), lib_rs, true);
    // The attack must really have run: compiled, not refused, tests started.
    for test in stage(&graded, "adder")["tests"].as_array().unwrap() {
        assert!(
            ["fail", "crash", "timeout"].contains(&test["status"].as_str().unwrap()),
            "{name}: the attack did not run ({})\n{human}",
            test["status"]
        );
    }
    Some((graded, human))
}

#[test]
fn tests_cannot_write_grading_state() {
    let course_tests = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile-sandbox-write-course-tests/course/exercises/01-adder/tests/adding.rs");
    let course_tests = course_tests.display();
    // Each passes only if its write succeeded.
    let cases = [
        (
            "own-binary",
            add_with(
                "    let me = std::env::current_exe().unwrap();\n    \
                 std::fs::write(&me, b\"#!/bin/sh\\nexit 0\\n\").map(|_| a + b).unwrap_or(0)",
            ),
        ),
        (
            "course-tests",
            add_with(&format!(
                "    std::fs::write(\"{course_tests}\", \"\").map(|_| a + b).unwrap_or(0)"
            )),
        ),
        (
            "scratch-tests",
            add_with(
                "    let dir = std::env::var(\"CARGO_MANIFEST_DIR\").unwrap();\n    \
                 std::fs::write(format!(\"{dir}/tests/adding.rs\"), \"\").map(|_| a + b).unwrap_or(0)",
            ),
        ),
        (
            "cargo-config-above-scratch",
            add_with(
                "    let tmp = std::env::temp_dir();\n    let _ = tmp;\n    \
                 std::fs::create_dir_all(\"/tmp/.cargo\").and_then(|_| std::fs::write(\"/tmp/.cargo/config.toml\", \
                 \"[build]\\nrustc-wrapper = \\\"/bin/false\\\"\\n\")).map(|_| a + b).unwrap_or(0)",
            ),
        ),
        (
            "build-cache",
            add_with(
                "    let dir = std::env::var(\"CARGO_TARGET_DIR\").unwrap();\n    \
                 std::fs::write(format!(\"{dir}/planted\"), \"x\").map(|_| a + b).unwrap_or(0)",
            ),
        ),
    ];
    for (name, lib_rs) in cases {
        sandboxed(&format!("write-{name}"), &lib_rs);
        assert!(
            !Path::new("/tmp/.cargo").exists(),
            "{name}: planted /tmp/.cargo"
        );
    }
}

#[test]
fn tests_cannot_reach_the_grader() {
    let cases = [
        (
            "environ",
            add_with(
                "    let parent = std::os::unix::process::parent_id();\n    \
                 std::fs::read(format!(\"/proc/{parent}/environ\")).map(|_| a + b).unwrap_or(0)",
            ),
        ),
        (
            "cmdline",
            add_with(
                "    let parent = std::os::unix::process::parent_id();\n    \
                 std::fs::read(format!(\"/proc/{parent}/cmdline\")).map(|_| a + b).unwrap_or(0)",
            ),
        ),
        (
            "kill",
            add_with(
                "    let parent = std::os::unix::process::parent_id();\n    \
                 std::process::Command::new(\"kill\").args([\"-9\", &parent.to_string()])\
                 .status().map(|s| if s.success() { a + b } else { 0 }).unwrap_or(0)",
            ),
        ),
        (
            "etc-passwd",
            add_with("    std::fs::read(\"/etc/passwd\").map(|_| a + b).unwrap_or(0)"),
        ),
    ];
    for (name, lib_rs) in cases {
        sandboxed(&format!("reach-{name}"), &lib_rs);
    }
}

#[test]
fn nothing_a_test_starts_outlives_it() {
    let cases = [
        (
            "own-group",
            add_with(
                "    use std::os::unix::process::CommandExt;\n    \
                 let _ = std::process::Command::new(\"sleep\").arg(\"313\").process_group(0).spawn();\n    \
                 a + b + 1",
            ),
        ),
        (
            "setsid-shell",
            add_with(
                "    let _ = std::process::Command::new(\"sh\").args([\"-c\", \"setsid sleep 314 &\"]).status();\n    \
                 a + b + 1",
            ),
        ),
        (
            "threads",
            add_with(
                "    let mut n = 0;\n    while std::thread::Builder::new().spawn(|| loop { \
                 std::thread::park() }).is_ok() { n += 1; if n > 100_000 { break; } }\n    a + b + 1",
            ),
        ),
    ];
    for (name, lib_rs) in cases {
        sandboxed(&format!("outlive-{name}"), &lib_rs);
        assert_eq!(alive_with("sleep 31"), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn resources_are_bounded() {
    let cases = [
        (
            "memory",
            add_with("    let v = vec![1u8; 64 << 30];\n    (v[0] as u32) + a + b + 1"),
        ),
        (
            "file-size",
            add_with(
                "    let dir = std::env::temp_dir().join(\"big\");\n    \
                 let block = vec![0u8; 1 << 20];\n    use std::io::Write;\n    \
                 let mut f = std::fs::File::create(dir).unwrap();\n    \
                 for _ in 0..1024 { f.write_all(&block).unwrap(); }\n    a + b + 1",
            ),
        ),
    ];
    for (name, lib_rs) in cases {
        sandboxed(&format!("bound-{name}"), &lib_rs);
    }
}

#[test]
fn an_upload_that_is_not_a_course_still_gets_a_report() {
    let c = case("flat-upload", "");
    let flat = c.submission.with_file_name("flat");
    fs::create_dir_all(&flat).unwrap();
    fs::write(flat.join("lib.rs"), add_with("    a + b")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&c.course)
        .args(["grade", "--submission"])
        .arg(&flat)
        .args(["--format", "json,gradescope", "--out"])
        .arg(&c.out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let results: Value =
        serde_json::from_str(&fs::read_to_string(c.out.join("results.json")).unwrap()).unwrap();
    let text = results.to_string();
    assert!(text.contains("exercises/"), "{text}");
    let graded: Value =
        serde_json::from_str(&fs::read_to_string(c.out.join("grade.json")).unwrap()).unwrap();
    assert_eq!(graded["score"], 0.0);
}

#[test]
fn a_test_binary_that_dies_when_listed_costs_only_its_stage() {
    // Code that runs before main (gate skipped) aborts every run, `--list` included.
    let lib_rs = format!(
        "#[used]\n#[unsafe(link_section = \".init_array\")]\nstatic DIE: extern \"C\" fn() = die;\n\
         extern \"C\" fn die() {{ std::process::abort() }}\n{}",
        add_with("    a + b")
    );
    let (graded, human) = attack("list-aborts", &lib_rs, true);
    let adder = stage(&graded, "adder");
    let why = format!("{}{}", adder["compile_error"], adder["tests"][0]["message"]);
    assert!(
        why.contains("list") || adder["tests"][0]["status"] == "crash",
        "{why}\n{human}"
    );
}

/// Everything the grade left for the student to read: every report file and what it printed.
fn all_reports(case: &Case, human: &str) -> String {
    let mut text = human.to_owned();
    for entry in fs::read_dir(&case.out).unwrap().filter_map(|e| e.ok()) {
        text.push_str(&fs::read_to_string(entry.path()).unwrap_or_default());
    }
    text
}

/// The grading scratch of `course` (see `GradeScratch`: named after the course's path).
fn scratch_of(course: &Path) -> PathBuf {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(course.display().to_string().as_bytes());
    let key: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    std::env::temp_dir()
        .canonicalize()
        .unwrap()
        .join(format!("async-from-scratch-grade-{}", &key[..16]))
}

/// What a run compiled of the exercise packages, left in the shared build cache.
fn leftover_units(course: &Path) -> Vec<String> {
    let deps = course.join("target/xtask/grade-cache/target/debug/deps");
    fs::read_dir(deps)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            ["libadder", "adder-", "adding-", "libdoubler", "doubling-"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect()
}

/// A submission's `lib.rs`, made for its case.
type Submitted<'a> = dyn Fn(&Case) -> String + 'a;

#[test]
fn the_build_cannot_read_secrets() {
    if !isolation_available() {
        eprintln!("skipped: this machine offers neither root nor Landlock");
        return;
    }
    let secrets = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-build-secrets");
    fs::create_dir_all(&secrets).unwrap();
    let file = secrets.join("secret.txt");
    fs::write(&file, "FILE-SECRET-7f3a91").unwrap();
    let env_secret = ("XTASK_HOSTILE_SECRET", "ENV-SECRET-c45e02");
    let solution = |c: &Case| c.course.join("solutions/01-adder/src/lib.rs");
    let cases: [(&str, &Submitted); 4] = [
        ("include-file", &|_| {
            format!(
                "const LEAK: &str = include_str!(\"{}\");\n{}",
                file.display(),
                add_with("    let _ = (a, b);\n    panic!(\"{LEAK}\")")
            )
        }),
        ("include-solution", &|c| {
            format!(
                "const LEAK: &str = include_str!(\"{}\");\n{}",
                solution(c).display(),
                add_with("    let _ = (a, b);\n    panic!(\"{LEAK}\")")
            )
        }),
        ("option-env", &|_| {
            add_with(&format!(
                "    let _ = (a, b);\n    panic!(\"{{:?}}\", option_env!(\"{}\"))",
                env_secret.0
            ))
        }),
        ("env-names-checkout", &|_| {
            add_with(
                "    let _ = (a, b);\n    panic!(\"{:?} {:?} {:?}\", option_env!(\"CARGO_TARGET_DIR\"), \
                 option_env!(\"PWD\"), option_env!(\"OLDPWD\"))",
            )
        }),
    ];
    for (name, lib_rs) in cases {
        let c = case(&format!("build-{name}"), "");
        fs::write(
            c.submission.join("exercises/01-adder/src/lib.rs"),
            lib_rs(&c),
        )
        .unwrap();
        let (graded, human) = grade_with_env(&c, true, &[env_secret]);
        let reports = all_reports(&c, &human);
        assert_eq!(stage(&graded, "adder")["score"], 0.0, "{name}\n{human}");
        assert_eq!(stage(&graded, "doubler")["score"], 2.0, "{name}\n{human}");
        let solved = fs::read_to_string(solution(&c)).unwrap();
        for secret in ["FILE-SECRET-7f3a91", env_secret.1, solved.trim()] {
            assert!(
                !reports.contains(secret),
                "{name}: the report shows `{secret}`\n{reports}"
            );
        }
        let checkout = c.course.display().to_string();
        assert!(
            name != "env-names-checkout" || !reports.contains(&checkout),
            "{name}: the build's environment names the checkout {checkout}\n{reports}"
        );
        assert!(
            !scratch_of(&c.course).exists(),
            "{name}: the scratch stayed"
        );
        assert_eq!(leftover_units(&c.course), Vec::<String>::new(), "{name}");
    }
}

#[test]
fn a_huge_static_is_stopped_and_leaves_nothing() {
    if !isolation_available() {
        eprintln!("skipped: this machine offers neither root nor Landlock");
        return;
    }
    // 48 MiB of data in the library, over the file-size limit this test sets (16 MiB; the
    // real one is 512 MiB, which a test cannot afford to reach).
    let lib_rs = format!(
        "pub static BIG: [u8; 48 << 20] = [1; 48 << 20];\n{}",
        add_with("    a + b + BIG[0] as u32")
    );
    let c = case("build-huge-static", &lib_rs);
    let limit = (16u64 << 20).to_string();
    let (graded, human) = grade_with_env(&c, true, &[("XTASK_TEST_BUILD_FILE_SIZE", &limit)]);
    assert_eq!(stage(&graded, "adder")["score"], 0.0, "{human}");
    assert_eq!(stage(&graded, "doubler")["score"], 2.0, "{human}");
    let cache = c.course.join("target/xtask/grade-cache");
    let size = dir_size(&cache);
    assert!(
        size < 256 << 20,
        "the cache holds {} MiB\n{human}",
        size >> 20
    );
    assert!(!scratch_of(&c.course).exists(), "the scratch stayed");
    assert_eq!(leftover_units(&c.course), Vec::<String>::new());
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

/// SysV shared memory segments of this size, in the grader's IPC namespace.
fn shm_segments_of(size: usize) -> usize {
    fs::read_to_string("/proc/sysvipc/shm")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter(|l| l.split_whitespace().nth(3) == Some(&size.to_string()))
        .count()
}

#[test]
fn sysv_ipc_dies_with_the_test() {
    const SIZE: usize = 31_337;
    let lib_rs = format!(
        "unsafe extern \"C\" {{ fn shmget(key: i32, size: usize, flags: i32) -> i32; }}\n{}",
        add_with(&format!(
            "    // IPC_PRIVATE, IPC_CREAT | 0600: a segment nobody removes.\n    \
             let id = unsafe {{ shmget(0, {SIZE}, 0o1000 | 0o600) }};\n    \
             assert!(id < 0, \"shm segment {{id}} created\");\n    a + b + 1"
        ))
    );
    let Some((graded, human)) = sandboxed("ipc-shm", &lib_rs) else {
        return;
    };
    assert!(
        stage(&graded, "adder")["tests"][0]["message"]
            .as_str()
            .unwrap()
            .contains("shm segment"),
        "the segment was not created, so this checks nothing\n{human}"
    );
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: no IPC namespace, SysV IPC is a residual risk (not checked)");
        return;
    }
    assert_eq!(shm_segments_of(SIZE), 0, "a segment outlived the grade");
}

// ---- Red team of the grader, round 1 (ARCHITECTURE.md) -------------------------------------

/// `grade` with `out` as `--out`, returning its exit code and what it printed (no assertion:
/// some of these must fail).
fn grade_into(case: &Case, out: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .envs(env.iter().copied())
        .arg("--root")
        .arg(&case.course)
        .args(["grade", "--submission"])
        .arg(&case.submission)
        .args(["--format", "human,json", "--out"])
        .arg(out)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (output.status.code(), common::output_text(&output))
}

/// #1: a submission shipping `report/.json.partial -> <any file>`, graded with `--out` inside
/// it, made the grader (as root) overwrite that file. Now an `--out` that overlaps the
/// submission, or is a link, is refused before anything is written (exit 2); reports are
/// written through `O_EXCL | O_NOFOLLOW` temporaries under unique names, and an existing
/// report that is a link is refused, never followed.
#[test]
fn reports_are_never_written_through_links() {
    let c = case("report-links", &add_with("    a + b"));
    let victim_dir = c.submission.with_file_name("victim");
    fs::create_dir_all(&victim_dir).unwrap();
    let victim = victim_dir.join("instructor-file.txt");
    fs::write(&victim, "instructor data").unwrap();
    let link = |at: &Path| {
        fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&victim, at).unwrap();
    };
    let report = c.submission.join("report");
    link(&report.join(".json.partial"));
    link(&report.join(".grade.json.partial"));
    // Inside, equal to, containing the submission; spelled through `..` and through a link.
    let via_link = c.submission.with_file_name("submission-link");
    std::os::unix::fs::symlink(&c.submission, &via_link).unwrap();
    for out in [
        report.clone(),
        c.submission.clone(),
        c.submission.parent().unwrap().to_owned(),
        c.submission.join("exercises/../report"),
        via_link.join("report"),
    ] {
        let (code, said) = grade_into(&c, &out, &[]);
        assert_eq!(
            code,
            Some(2),
            "--out {} was accepted\n{said}",
            out.display()
        );
        assert!(said.contains("overlaps --submission"), "{said}");
    }
    // An --out that is itself a link (to any directory) is refused, not followed.
    let out_link = c.submission.with_file_name("out-link");
    std::os::unix::fs::symlink(&victim_dir, &out_link).unwrap();
    let (code, said) = grade_into(&c, &out_link, &[]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("symbolic link"), "{said}");
    // A real directory outside, with links planted under the old temporary names: graded,
    // and nothing is written through them.
    let out = c.submission.with_file_name("out-planted");
    link(&out.join(".json.partial"));
    link(&out.join(".grade.json.partial"));
    let (code, said) = grade_into(&c, &out, &[]);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        fs::symlink_metadata(out.join("grade.json"))
            .unwrap()
            .is_file()
    );
    // A report that already exists as a link is refused.
    let out = c.submission.with_file_name("out-report-link");
    link(&out.join("grade.json"));
    let (code, said) = grade_into(&c, &out, &[]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("not a regular file"), "{said}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "instructor data");
    assert!(!report.join("grade.json").exists(), "a report was written");
    // The class run: --out inside --submissions is refused too.
    let class = c.submission.parent().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&c.course)
        .args(["grade", "--submissions"])
        .arg(class)
        .arg("--out")
        .arg(class.join("reports"))
        .output()
        .unwrap();
    let said = common::output_text(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("overlaps --submissions"), "{said}");
}

/// #2 and #6: one stage whose build outputs passed the disk budget made the grader clear every
/// stage's binaries and delete the shared build cache. Now each stage is measured against its
/// share; only the stage over it loses its units, and the cache stays.
#[test]
fn one_stage_over_its_disk_share_costs_only_that_stage() {
    // 6 MiB of data, in the library and in the test binary that links it (the honest doubler
    // writes well under 1 MiB); the budget this test sets: 8 MiB, so 4 MiB per stage.
    let lib_rs = format!(
        "pub static BIG: [u8; 6 << 20] = [1; 6 << 20];\n{}",
        add_with("    a + b + std::hint::black_box(&BIG)[7] as u32")
    );
    let c = case("disk-share", &lib_rs);
    // A unit of the shared cache (a dependency built by an earlier run) that must survive.
    let deps = c.course.join("target/xtask/grade-cache/target/debug/deps");
    fs::create_dir_all(&deps).unwrap();
    let marker = deps.join("libearlier-0123456789abcdef.rlib");
    fs::write(&marker, "an earlier run's dependency").unwrap();
    let budget = (8u64 << 20).to_string();
    let (graded, human) = grade_with_env(&c, false, &[("XTASK_TEST_DISK_BUDGET", &budget)]);
    let adder = stage(&graded, "adder");
    assert_eq!(adder["score"], 0.0, "{human}");
    assert!(
        adder["compile_error"]
            .as_str()
            .is_some_and(|e| e.contains("share of the disk budget")),
        "{human}"
    );
    assert_eq!(stage(&graded, "doubler")["score"], 2.0, "{human}");
    assert!(marker.is_file(), "the shared cache was removed\n{human}");
    assert_eq!(leftover_units(&c.course), Vec::<String>::new());
}

/// #3: `#![allow(long_running_const_eval)]` and a `const` loop that never ends held the one
/// build of every stage until its 30-minute timeout. The gate refuses the lint by name, and a
/// refused stage is not built at all. Past the gate, the build forbids the lint (the allow is
/// an error, E0453; rustc 1.95 still goes on evaluating), and each rustc stops at its CPU limit
/// (lowered to a few seconds here; 120 s for real). Either way only that stage is lost.
#[test]
fn endless_compile_time_evaluation_costs_only_its_stage() {
    let endless = format!(
        "#![allow(long_running_const_eval)]\n\
         pub const SPIN: u64 = {{ let mut i = 0u64; while i != u64::MAX {{ i = i.wrapping_add(2); }} i }};\n\
         pub const FORCED: u64 = SPIN;\n{}",
        add_with("    a + b + FORCED as u32")
    );
    let cpu = [("XTASK_TEST_BUILD_CPU_SECS", "4")];
    // The gate: refused by name, never built (no CPU limit lowered: a build would take 120 s).
    let started = std::time::Instant::now();
    let c = case("const-eval-gate", &endless);
    let (graded, human) = grade(&c, false);
    let adder = stage(&graded, "adder");
    assert_eq!(adder["tests"][0]["status"], "fail", "{human}");
    assert!(
        adder["violations"]
            .to_string()
            .contains("long_running_const_eval"),
        "{human}"
    );
    assert_eq!(stage(&graded, "doubler")["score"], 2.0, "{human}");
    assert!(started.elapsed().as_secs() < 60, "was it built?\n{human}");
    // Past the gate: a compile error that names the forbid, within the CPU limit.
    let c = case("const-eval-forbid", &endless);
    let (graded, human) = grade_with_env(&c, true, &cpu);
    let adder = stage(&graded, "adder");
    assert_eq!(adder["tests"][0]["status"], "compile_error", "{human}");
    assert!(
        adder["compile_error"].to_string().contains("forbid"),
        "{human}"
    );
    assert_eq!(stage(&graded, "doubler")["score"], 2.0, "{human}");
    // Compile-time work the gate cannot see and the lint does not stop (each evaluation
    // stays under its threshold), but a lot of it: 100 statics of about 0.25 s of CPU each.
    let slow = format!(
        "const fn spin(n: u64) -> u64 {{ let mut i = 0; while i < n {{ i += 1; }} i }}\n\
         macro_rules! statics {{ ($($n:ident)*) => {{ $(pub static $n: u64 = spin(400_000);)* }} }}\n\
         macro_rules! mods {{ ($($m:ident)*) => {{ $(pub mod $m {{ use super::spin; statics!(A B C D E F G H I J); }})* }} }}\n\
         mods!(a b c d e f g h i j);\n{}",
        add_with("    a + b + 1")
    );
    let started = std::time::Instant::now();
    let c = case("const-eval-cpu", &slow);
    let (graded, human) = grade_with_env(&c, false, &cpu);
    assert_eq!(
        stage(&graded, "adder")["tests"][0]["status"],
        "compile_error",
        "{human}"
    );
    assert_eq!(stage(&graded, "doubler")["score"], 2.0, "{human}");
    assert!(started.elapsed().as_secs() < 90, "{human}");
}

/// #4: `#![debugger_visualizer(gdb_script_file = "...")]` made rustc read any file at build
/// time and embed it in the library, and the gate did not know the attribute.
#[test]
fn attributes_that_read_files_are_refused() {
    let cases = [
        (
            "debugger-visualizer",
            "#![debugger_visualizer(gdb_script_file = \"/etc/hostname\")]\n".to_owned()
                + &add_with("    a + b + 1"),
        ),
        (
            "debugger-visualizer-cfg-attr",
            "#![cfg_attr(all(), debugger_visualizer(natvis_file = \"../../../x.natvis\"))]\n"
                .to_owned()
                + &add_with("    a + b + 1"),
        ),
        (
            "doc-include",
            "#[doc = include_str!(\"/etc/hostname\")]\n".to_owned() + &add_with("    a + b + 1"),
        ),
    ];
    for (name, lib_rs) in cases {
        let (_, human) = attack(&format!("read-{name}"), &lib_rs, false);
        assert!(
            human.contains("debugger_visualizer") || human.contains("include_str"),
            "{name}: not refused by name\n{human}"
        );
    }
}
