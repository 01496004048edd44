//! Exact scores in every format. The fixture course is changed so that the adder has three
//! tests sharing 10 points (10/3 does not divide evenly) and the doubler keeps 2 points: the
//! shares must add up exactly, and every format must show the same totals, with no float
//! noise (`9.999999999999998`) anywhere.

mod common;
use common::copy_dir;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn course(name: &str) -> (PathBuf, PathBuf) {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scores-{name}"));
    let _ = fs::remove_dir_all(&base);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture");
    let course = base.join("course");
    copy_dir(&fixture, &course, &[]);
    let toml = course.join("exercises/01-adder/exercise.toml");
    let text = fs::read_to_string(&toml)
        .unwrap()
        .replace("points = 4", "points = 10");
    fs::write(&toml, text).unwrap();
    let tests = course.join("exercises/01-adder/tests/adding.rs");
    let mut text = fs::read_to_string(&tests).unwrap();
    text.push_str(
        "\n#[test]\nfn one_and_one_make_two() {\n    assert_eq!(add(1, 1), 2, \"1 + 1 should be 2\");\n}\n",
    );
    fs::write(&tests, text).unwrap();
    (course, base)
}

/// A submission with the doubler solved and `add` returning `add_body`.
fn submit(course: &Path, base: &Path, add_body: &str) -> PathBuf {
    let submission = base.join("submission");
    copy_dir(course, &submission, &["solutions"]);
    fs::copy(
        course.join("solutions/02-doubler/src/lib.rs"),
        submission.join("exercises/02-doubler/src/lib.rs"),
    )
    .unwrap();
    fs::write(
        submission.join("exercises/01-adder/src/lib.rs"),
        format!("/// Adds two numbers.\npub fn add(a: u32, b: u32) -> u32 {{\n{add_body}\n}}\n"),
    )
    .unwrap();
    submission
}

struct Reports {
    grade: Value,
    gradescope: Value,
    classroom: Value,
    junit: String,
    human: String,
    texts: Vec<(String, String)>,
}

fn grade(course: &Path, submission: &Path, out: &Path) -> Reports {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(course)
        .args(["grade", "--submission"])
        .arg(submission)
        .args(["--format", "human,json,junit,gradescope,classroom", "--out"])
        .arg(out)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    let human = common::output_text(&output);
    assert_eq!(output.status.code(), Some(0), "{human}");
    let read = |f: &str| fs::read_to_string(out.join(f)).unwrap();
    let texts: Vec<(String, String)> =
        ["grade.json", "results.json", "classroom.json", "junit.xml"]
            .iter()
            .map(|f| ((*f).to_owned(), read(f)))
            .collect();
    Reports {
        grade: serde_json::from_str(&read("grade.json")).unwrap(),
        gradescope: serde_json::from_str(&read("results.json")).unwrap(),
        classroom: serde_json::from_str(&read("classroom.json")).unwrap(),
        junit: read("junit.xml"),
        human,
        texts,
    }
}

fn f(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

/// What GitHub Classroom's reporter computes from the runner JSONs: the annotation's
/// `Σ score / Σ max_score`, added up as floats in order, and its log's `passed/tests × max`.
fn reporter(classroom: &Value) -> (f64, f64, Vec<f64>) {
    let (mut total, mut max, mut log) = (0.0, 0.0, Vec::new());
    for runner in classroom["runners"].as_array().unwrap() {
        let results = &runner["results"];
        assert!(results.get("version").is_none_or(|v| v != 3), "{results}");
        let tests = results["tests"].as_array().unwrap();
        max += f(&results["max_score"]);
        let passed = tests.iter().filter(|t| t["status"] == "pass").count();
        log.push(passed as f64 / tests.len() as f64 * f(&results["max_score"]));
        for test in tests {
            total += f(&test["score"]);
            assert!(test.get("duration").is_none(), "{test}");
            let file = test["filename"].as_str().unwrap();
            assert!(!file.contains('…'), "a file name with an ellipsis: {file}");
            assert!(file.starts_with("exercises/0"), "{file}");
        }
    }
    (total, max, log)
}

fn check_all_formats(reports: &Reports, score: f64, max: f64) {
    let Reports {
        grade,
        gradescope,
        classroom,
        junit,
        human,
        texts,
    } = reports;
    assert_eq!(f(&grade["score"]), score, "grade.json score\n{human}");
    assert_eq!(f(&grade["max_score"]), max, "grade.json max_score");
    for stage in grade["stages"].as_array().unwrap() {
        let tests = stage["tests"].as_array().unwrap();
        let shares: Vec<f64> = tests.iter().map(|t| f(&t["max_score"])).collect();
        let cents: i64 = shares.iter().map(|s| (s * 100.0).round() as i64).sum();
        assert_eq!(
            cents,
            (f(&stage["points"]) * 100.0).round() as i64,
            "the shares of {} add up to its points: {shares:?}",
            stage["name"]
        );
        for share in &shares {
            assert_eq!(
                *share,
                (share * 100.0).round() / 100.0,
                "whole hundredths: {share}"
            );
        }
    }
    assert_eq!(
        f(&gradescope["score"]),
        score,
        "Gradescope's top-level score"
    );
    let (annotation, classroom_max, _) = reporter(classroom);
    assert_eq!(
        annotation, score,
        "Classroom's annotation (Σ score)\n{classroom}"
    );
    assert_eq!(classroom_max, max, "Classroom's annotation (Σ max_score)");
    let shown = format!("total  {}/{}", show(score), show(max));
    assert!(
        human
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains(&shown.split_whitespace().collect::<Vec<_>>().join(" ")),
        "the human report says {shown}\n{human}"
    );
    assert!(junit.contains("<testsuites"), "{junit}");
    for (file, text) in texts.iter().filter(|(f, _)| f.ends_with(".json")) {
        let value: Value = serde_json::from_str(text).unwrap();
        // Classroom's per-test scores are exempt: they are chosen so that the reporter's
        // running float sum is exact (checked above), not to read well.
        let exempt = file == "classroom.json";
        no_noise(file, &value, exempt);
    }
}

/// Every score, maximum and point count is written with at most two decimals.
fn no_noise(file: &str, value: &Value, exempt_tests: bool) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if ["score", "max_score", "points"].contains(&key.as_str())
                    && let Value::Number(n) = item
                {
                    let text = n.to_string();
                    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
                    let in_test = map.contains_key("status") && map.contains_key("name");
                    assert!(
                        decimals <= 2 || (exempt_tests && in_test),
                        "{file}: {key} = {text} (float noise)"
                    );
                }
                if key == "elapsed_secs" || key == "execution_time" {
                    continue;
                }
                no_noise(file, item, exempt_tests);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| no_noise(file, i, exempt_tests)),
        _ => {}
    }
}

fn show(points: f64) -> String {
    let cents = (points * 100.0).round() as i64;
    match cents % 100 {
        0 => format!("{}", cents / 100),
        c if c % 10 == 0 => format!("{}.{}", cents / 100, c / 10),
        c => format!("{}.{c:02}", cents / 100),
    }
}

#[test]
fn a_finished_course_scores_exactly_its_maximum_in_every_format() {
    let (course, base) = course("full");
    let submission = submit(&course, &base, "    a + b");
    let reports = grade(&course, &submission, &base.join("out"));
    check_all_formats(&reports, 12.0, 12.0);
    // With every stage finished, the reporter's log (passed ÷ tests × max) agrees too.
    let (_, _, log) = reporter(&reports.classroom);
    assert_eq!(log, vec![10.0, 2.0]);
    let adder = &reports.grade["stages"][0];
    assert_eq!(f(&adder["score"]), 10.0);
    let shares: Vec<f64> = adder["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| f(&t["max_score"]))
        .collect();
    let mut sorted = shares.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(sorted, vec![3.33, 3.33, 3.34], "10 points over 3 tests");
}

#[test]
fn a_partly_solved_stage_scores_the_same_in_every_format() {
    let (course, base) = course("partial");
    // `a` alone: 7 + 0 passes, 2 + 2 and 1 + 1 fail.
    let submission = submit(&course, &base, "    if b == 0 { a } else { 0 }");
    let reports = grade(&course, &submission, &base.join("out"));
    let adder = &reports.grade["stages"][0];
    let passed: Vec<&Value> = adder["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "pass")
        .collect();
    let earned: f64 = passed.iter().map(|t| f(&t["max_score"])).sum();
    let earned = (earned * 100.0).round() / 100.0;
    assert_eq!(f(&adder["score"]), earned, "{}", reports.human);
    check_all_formats(&reports, earned + 2.0, 12.0);
}

#[test]
fn stubs_score_zero_in_every_format() {
    let (course, base) = course("stubs");
    let submission = base.join("submission");
    copy_dir(&course, &submission, &["solutions"]);
    let reports = grade(&course, &submission, &base.join("out"));
    check_all_formats(&reports, 0.0, 12.0);
}

/// A Gradescope upload of just the `.rs` files: a `results.json` with 0 and what to upload.
#[test]
fn a_flat_upload_gets_zero_and_says_what_to_upload() {
    let (course, base) = course("flat");
    let upload = base.join("upload");
    fs::create_dir_all(&upload).unwrap();
    fs::copy(
        course.join("solutions/01-adder/src/lib.rs"),
        upload.join("lib.rs"),
    )
    .unwrap();
    let out = base.join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(&course)
        .args(["grade", "--submission"])
        .arg(&upload)
        .args(["--format", "gradescope", "--out"])
        .arg(&out)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let results: Value =
        serde_json::from_str(&fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["score"], 0.0, "{results}");
    let text = results.to_string();
    assert!(text.contains("exercises/"), "says what to upload: {text}");
    assert!(text.contains("lib.rs"), "says what it found: {text}");
}

/// One points model: what the learner's status screen shows for a partly solved stage is what
/// `grade` writes, to the hundredth. 10 points over three equal tests, the first passing: the
/// largest remainder gives that test 3.34 (the others 3.33), in both.
#[test]
fn status_and_grade_agree_to_the_hundredth_on_a_partly_solved_stage() {
    let (course, base) = course("status");
    let body = "    if a == 2 && b == 2 { 4 } else { 0 }";
    let submission = submit(&course, &base, body);
    let reports = grade(&course, &submission, &base.join("out"));
    let graded = f(&reports.grade["stages"][0]["score"]);

    // The learner's side: the same code in the course's own workspace, run, then status.
    fs::copy(
        submission.join("exercises/01-adder/src/lib.rs"),
        course.join("exercises/01-adder/src/lib.rs"),
    )
    .unwrap();
    let xtask = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--root")
            .arg(&course)
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        common::output_text(&output)
    };
    let run = xtask(&["run", "adder"]);
    assert!(run.contains("1 of 3 tests pass"), "{run}");
    let status = xtask(&["status"]);
    let line = status
        .lines()
        .find(|l| l.contains("adder"))
        .unwrap_or_else(|| panic!("no adder line in:\n{status}"));
    let shown = line
        .split_whitespace()
        .last()
        .and_then(|cell| cell.split_once('/'))
        .map(|(earned, _)| earned.to_owned())
        .unwrap_or_else(|| panic!("no points in `{line}`"));
    assert_eq!(shown, show(graded), "status `{line}`, grade {graded}");
    assert_eq!(
        graded, 3.34,
        "the first of three tests takes the extra hundredth"
    );
    assert!(run.contains("3.34/10 points"), "run agrees too:\n{run}");
}
